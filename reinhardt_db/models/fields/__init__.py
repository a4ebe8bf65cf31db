"""Model field types; see ``fields.base`` for the ``Field`` contract."""

from reinhardt_db.models.fields.auto import AutoField, AutoFieldMixin, BigAutoField, SmallAutoField
from reinhardt_db.models.fields.base import (
    DATABASE_DEFAULT,
    NOT_PROVIDED,
    DatabaseDefault,
    DbConverter,
    Field,
    FieldOptions,
    Mapped,
)
from reinhardt_db.models.fields.composite import CompositePrimaryKey
from reinhardt_db.models.fields.many_to_many import ManyToManyField, ManyToManyRel
from reinhardt_db.models.fields.misc import (
    BinaryField,
    BooleanField,
    GenericIPAddressField,
    JSONField,
    JSONNull,
    UUIDField,
)
from reinhardt_db.models.fields.numeric import (
    BigIntegerField,
    DecimalField,
    FloatField,
    IntegerField,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
)
from reinhardt_db.models.fields.related import (
    ForeignKey,
    ForeignObjectRel,
    OneToOneField,
    OneToOneRel,
    RelatedField,
)
from reinhardt_db.models.fields.temporal import DateField, DateTimeField, DurationField, TimeField
from reinhardt_db.models.fields.text import CharField, EmailField, SlugField, TextField, URLField

__all__ = [
    "DATABASE_DEFAULT",
    "NOT_PROVIDED",
    "AutoField",
    "AutoFieldMixin",
    "BigAutoField",
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "CharField",
    "CompositePrimaryKey",
    "DatabaseDefault",
    "DateField",
    "DateTimeField",
    "DbConverter",
    "DecimalField",
    "DurationField",
    "EmailField",
    "Field",
    "FieldOptions",
    "FloatField",
    "ForeignKey",
    "ForeignObjectRel",
    "GenericIPAddressField",
    "IntegerField",
    "JSONField",
    "JSONNull",
    "ManyToManyField",
    "ManyToManyRel",
    "Mapped",
    "OneToOneField",
    "OneToOneRel",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "RelatedField",
    "SlugField",
    "SmallAutoField",
    "SmallIntegerField",
    "TextField",
    "TimeField",
    "URLField",
    "UUIDField",
]
