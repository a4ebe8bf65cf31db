"""SQLAlchemy column types the built-in fields need beyond SQLAlchemy's own.

SQLite has no exact decimal type: a ``NUMERIC`` column turns
``'1234567890.123456789'`` into a float. ``DecimalField`` therefore stores exact
decimal text there, in a column declared ``DECIMAL_TEXT(p, s)`` (TEXT affinity),
and its type's comparator makes ordering comparisons (``< <= > >= BETWEEN``,
``ASC``/``DESC``) numeric by rendering ``CAST(col AS REAL)`` on SQLite only.
Equality stays exact text comparison, which works because every value written
through the field has the canonical form (quantized to ``decimal_places``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["DecimalText", "ExactNumeric", "SqliteNumericValue"]


class SqliteNumericValue(sa.sql.expression.ColumnElement[Any]):
    """``CAST(expr AS REAL)`` on SQLite, ``expr`` unchanged on every other dialect."""

    __visit_name__ = "reinhardt_sqlite_numeric_value"
    inherit_cache = True
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[Any]) -> None:
        self.element = element
        self.type = sa.Numeric()


@compiles(SqliteNumericValue)
def _compile_numeric_value(element: SqliteNumericValue, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.element, **kw))


@compiles(SqliteNumericValue, "sqlite")
def _compile_numeric_value_sqlite(
    element: SqliteNumericValue, compiler: SQLCompiler, **kw: Any
) -> str:
    return f"CAST({compiler.process(element.element, **kw)} AS REAL)"


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
            return op(SqliteNumericValue(self.expr), *other, **kwargs)
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        if op in _ORDERING_OPS:
            return op(other, SqliteNumericValue(self.expr), **kwargs)
        return super().reverse_operate(op, other, **kwargs)


class ExactNumeric(sa.Numeric):
    """``NUMERIC(p, s)`` whose ordering comparisons stay numeric on SQLite's text storage."""

    cache_ok = True
    comparator_factory = _ExactNumericComparator


class DecimalText(sa.types.UserDefinedType):
    """SQLite column ``DECIMAL_TEXT(p, s)``: TEXT affinity, so decimals keep every digit."""

    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        self.precision = precision
        self.scale = scale

    def get_col_spec(self, **kw: Any) -> str:
        """Return the DDL type name."""
        return f"DECIMAL_TEXT({self.precision}, {self.scale})"
