"""SQLAlchemy column types and elements whose SQL the backends decide.

``DecimalField`` columns are :class:`ExactNumeric`. A backend may store them in a
column that does not compare numerically (SQLite keeps exact decimal text), so
the type's ordering comparisons (``< <= > >= BETWEEN``, ``ASC``/``DESC``) wrap the
column in :class:`NumericValue`, which each backend renders through
``ops.numeric_value_sql`` (a cast on SQLite, the expression itself elsewhere).
Equality stays a plain comparison.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from reinhardt_db.exceptions import NotSupportedError

__all__ = ["ArrayColumn", "ExactNumeric", "NumericValue"]


class NumericValue(sa.sql.expression.ColumnElement[Any]):
    """A decimal expression as a value the database orders numerically."""

    __visit_name__ = "reinhardt_numeric_value"
    inherit_cache = True
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[Any]) -> None:
        self.element = element
        self.type = sa.Numeric()


@compiles(NumericValue)
def _compile_numeric_value(element: NumericValue, compiler: SQLCompiler, **kw: Any) -> str:
    from reinhardt_db.backends.vendors import operations_for_dialect

    sql = str(compiler.process(element.element, **kw))
    ops = operations_for_dialect(compiler.dialect)
    return sql if ops is None else ops.numeric_value_sql(sql)


_ORDERING_OPS = frozenset(
    {
        operators.lt,
        operators.le,
        operators.gt,
        operators.ge,
        operators.between_op,
        operators.not_between_op,
        operators.asc_op,
        operators.desc_op,
    }
)


class _ExactNumericComparator(sa.Numeric.comparator_factory):  # type: ignore[misc,valid-type]
    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        if op in _ORDERING_OPS:
            return op(NumericValue(self.expr), *other, **kwargs)
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        if op in _ORDERING_OPS:
            return op(other, NumericValue(self.expr), **kwargs)
        return super().reverse_operate(op, other, **kwargs)


class ExactNumeric(sa.Numeric):
    """``NUMERIC(p, s)`` whose ordering comparisons stay numeric whatever the storage."""

    cache_ok = True
    comparator_factory = _ExactNumericComparator


class ArrayColumn(sa.types.UserDefinedType[Any]):
    """The portable column type of an ArrayField: backends with arrays declare their own.

    Compiling it (``CREATE TABLE``, ``ADD COLUMN``, a cast) on a backend without
    array columns raises ``NotSupportedError`` naming the field
    (``ops.check_array_support``).
    """

    cache_ok = True

    def __init__(self, label: str = "ArrayField") -> None:
        self.label = label

    def get_col_spec(self, **kw: Any) -> str:
        raise AssertionError("ArrayColumn compiles through its @compiles hook")


@compiles(ArrayColumn)
def _compile_array_column(type_: ArrayColumn, compiler: Any, **kw: Any) -> str:
    from reinhardt_db.backends.vendors import operations_for_dialect

    ops = operations_for_dialect(compiler.dialect)
    if ops is not None:
        ops.check_array_support(type_.label)
    raise NotSupportedError(
        f"{type_.label}: ArrayField has no column type for the {compiler.dialect.name!r} "
        "dialect; it needs PostgreSQL."
    )
