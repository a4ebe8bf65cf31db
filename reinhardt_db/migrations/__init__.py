"""Migrations: ``from reinhardt_db import migrations``.

Migration files use ``migrations.Migration`` and the operations
(``migrations.CreateModel``, ``migrations.AddField``, ``migrations.RunPython``
...). The machinery lives in one module per role: ``state`` (replayed model
state), ``graph``, ``loader``, ``recorder``, ``autodetector``, ``questioner``,
``optimizer``, ``writer``/``serializer``, and ``editor`` (the schema-editor
interface operations call).
"""

from reinhardt_db.migrations.migration import Migration, swappable_dependency
from reinhardt_db.migrations.operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AddIndexConcurrently,
    AlterField,
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateCollation,
    CreateExtension,
    CreateModel,
    DeleteModel,
    DropExtension,
    Operation,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RemoveIndexConcurrently,
    RenameField,
    RenameIndex,
    RenameModel,
    RunPython,
    RunSQL,
    SeparateDatabaseAndState,
)

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
    "Migration",
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
    "swappable_dependency",
]
