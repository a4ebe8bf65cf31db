"""ArrayField lookups (``contains``, ``contained_by``, ``overlap``) and transforms.

``tags__len`` is the length of the array (0 when empty, NULL when the column
is NULL); ``tags__0`` an element (0-based in Python, PostgreSQL's 1-based
subscript in SQL), further lookups apply to the base field
(``tags__0__startswith``); ``tags__0_2`` a slice (Python's ``tags[0:2]``).
Indexes and bounds are bound parameters. The SQL comes from the backend
(``ops.array_contains`` ...), which refuses it where there are no arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.models.datetime_transforms import LazyField
from reinhardt_db.models.lookups import Lookup, Transform

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext

__all__ = [
    "ArrayContainedBy",
    "ArrayContains",
    "ArrayLenTransform",
    "ArrayOverlap",
    "IndexTransform",
    "SliceTransform",
]


class _ArrayLookup(Lookup):
    """A lookup taking an array: refused where the backend has no arrays."""

    def __init__(self, field: Any, ctx: CompileContext, transform: Any = None) -> None:
        super().__init__(field, ctx, transform)
        ctx.ops.check_array_support(field.label)


class ArrayContains(_ArrayLookup):
    """``tags__contains=["a", "b"]``: the array holds every given element (``@>``)."""

    lookup_name = "contains"

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return self.ops.array_contains(lhs, rhs)


class ArrayContainedBy(_ArrayLookup):
    """``tags__contained_by=["a", "b"]``: every element of the array is given (``<@``)."""

    lookup_name = "contained_by"

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return self.ops.array_contained_by(lhs, rhs)


class ArrayOverlap(_ArrayLookup):
    """``tags__overlap=["a", "b"]``: the array shares at least one element (``&&``)."""

    lookup_name = "overlap"

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return self.ops.array_overlap(lhs, rhs)


class _ArrayTransform(Transform):
    def __init__(self, field: Any, ctx: CompileContext, *args: Any) -> None:
        super().__init__(field, ctx, *args)
        ctx.ops.check_array_support(field.label)


class ArrayLenTransform(_ArrayTransform):
    """``tags__len``: the number of elements (first dimension); 0 for an empty array."""

    lookup_name = "len"
    output_field: ClassVar[Any] = LazyField("IntegerField")

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.ops.array_length(lhs)


class IndexTransform(_ArrayTransform):
    """``tags__0``: element 0 (Python's index; SQL subscript 1). NULL when out of range."""

    lookup_name = "__index__"

    def __init__(self, field: Any, ctx: CompileContext, index: int) -> None:
        super().__init__(field, ctx)
        self.index = index
        # The element's field: further lookups (tags__0__startswith) are the base field's.
        self.output_field = field.base_field  # type: ignore[misc]

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        subscript = self.ctx.const(self.index + 1, sa.Integer)
        return self.ops.array_index(
            lhs, self.field.sa_type(self.ops), subscript
        )


class SliceTransform(_ArrayTransform):
    """``tags__1_3``: elements 1 and 2, as Python's ``tags[1:3]`` (SQL ``tags[2:3]``)."""

    lookup_name = "__slice__"

    def __init__(self, field: Any, ctx: CompileContext, start: int, stop: int) -> None:
        super().__init__(field, ctx)
        self.start = start
        self.stop = stop

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        const = self.ctx.const
        return self.ops.array_slice(
            lhs, self.field.sa_type(self.ops),
            const(self.start + 1, sa.Integer), const(self.stop, sa.Integer),
        )


#: Registered on ArrayField (``contrib.postgres.fields``).
ARRAY_FIELD_LOOKUPS: tuple[type[Any], ...] = (
    ArrayContains, ArrayContainedBy, ArrayOverlap, ArrayLenTransform,
)
