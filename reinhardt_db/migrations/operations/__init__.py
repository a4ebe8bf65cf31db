"""Migration operations (``from reinhardt_db import migrations; migrations.AddField(...)``)."""

from reinhardt_db.migrations.operations.base import Operation
from reinhardt_db.migrations.operations.fields import (
    AddField,
    AlterField,
    FieldOperation,
    RemoveField,
    RenameField,
)
from reinhardt_db.migrations.operations.indexes import (
    AddConstraint,
    AddIndex,
    IndexOperation,
    RemoveConstraint,
    RemoveIndex,
    RenameIndex,
)
from reinhardt_db.migrations.operations.models import (
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    ModelOperation,
    RenameModel,
)
from reinhardt_db.migrations.operations.postgres import (
    AddIndexConcurrently,
    CreateCollation,
    CreateExtension,
    DropExtension,
    RemoveIndexConcurrently,
)
from reinhardt_db.migrations.operations.special import RunPython, RunSQL, SeparateDatabaseAndState

__all__ = [
    "AddConstraint",
    "AddField",
    "AddIndex",
    "AddIndexConcurrently",
    "AlterField",
    "AlterModelOptions",
    "AlterModelTable",
    "AlterUniqueTogether",
    "CreateCollation",
    "CreateExtension",
    "CreateModel",
    "DeleteModel",
    "DropExtension",
    "FieldOperation",
    "IndexOperation",
    "ModelOperation",
    "Operation",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RemoveIndexConcurrently",
    "RenameField",
    "RenameIndex",
    "RenameModel",
    "RunPython",
    "RunSQL",
    "SeparateDatabaseAndState",
]
