"""PostgreSQL SQL: what the query and schema layers ask of this vendor.

asyncpg speaks every Python type the fields use (``bool``, ``UUID``, ``date``,
aware ``datetime``, ``time``, ``timedelta``, ``Decimal``), so no value needs an
adapter or converter beyond the defaults. JSON columns are ``JSONB``; key paths
use ``->``/``->>`` with the keys as bound parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from reinhardt_db.backends.base.operations import BindConst, DatabaseOperations, lit
from reinhardt_db.backends.base.types import ArrayColumn

__all__ = ["PostgreSQLOperations"]

_DOLLAR = re.compile(r"\$(\d+)")
_FIRST_DATE = dt.date.min + dt.timedelta(days=1)
_LAST_DATE = dt.date.max - dt.timedelta(days=1)
_FIRST_DATETIME = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(microseconds=1)
_LAST_DATETIME = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(microseconds=1)
# EXTRACT field names; "second" and "week_day" need more than a cast.
_EXTRACT_FIELDS = {
    "year": "year", "month": "month", "day": "day", "hour": "hour", "minute": "minute",
    "quarter": "quarter", "week": "week", "iso_year": "isoyear", "iso_week_day": "isodow",
}


def _shifted(shift: int) -> Callable[[re.Match[str]], str]:
    def renumber(match: re.Match[str]) -> str:
        return f"${int(match.group(1)) + shift}"

    return renumber


def _array_type(field: Any) -> sa.types.TypeEngine[Any]:
    """``base[]``; nested ArrayFields make one multi-dimensional ``base[][]`` column."""
    dimensions = 1
    base = field.base_field
    while base.get_internal_type() == "ArrayField":
        dimensions += 1
        base = base.base_field
    return postgresql.ARRAY(base.sa_type("postgresql"), dimensions=dimensions)


class PostgreSQLOperations(DatabaseOperations):
    """Vendor SQL for PostgreSQL."""

    vendor: ClassVar[str] = "postgresql"
    display_name: ClassVar[str] = "PostgreSQL"
    dialect_names: ClassVar[tuple[str, ...]] = ("postgresql",)
    max_name_length: ClassVar[int | None] = 63
    data_types: ClassVar[dict[str, Callable[[Any], sa.types.TypeEngine[Any]]]] = {
        "UUIDField": lambda field: postgresql.UUID(as_uuid=True),
        "JSONField": lambda field: postgresql.JSONB(),
        "DateTimeField": lambda field: postgresql.TIMESTAMP(timezone=True),
        "DurationField": lambda field: postgresql.INTERVAL(),
        "ArrayField": lambda field: _array_type(field),
    }

    # -- values stored exactly -------------------------------------------------------------
    def date_range(self) -> tuple[Any, Any] | None:
        """Return 0001-01-02 to 9999-12-30: asyncpg sends the first and last date as +-infinity."""
        return _FIRST_DATE, _LAST_DATE

    def datetime_range(self) -> tuple[Any, Any] | None:
        """Return Python's datetimes but the first and last microsecond (sent as +-infinity)."""
        return _FIRST_DATETIME, _LAST_DATETIME

    def range_note(self, internal_type: str) -> str:
        """Explain the +-infinity mapping of asyncpg."""
        return (
            "asyncpg sends Python's first and last date/datetime as -infinity/infinity, "
            "which PostgreSQL then extracts, orders and returns differently; use a value "
            "inside the range"
        )

    # -- text ------------------------------------------------------------------------------
    def as_text(self, expr: Any) -> Any:
        """Cast a non-text ``expr``: PostgreSQL has no implicit cast to text for patterns."""
        if not isinstance(expr.type, sa.String):
            return sa.cast(expr, sa.Text)
        return expr

    def pattern_match(self, lhs: Any, pattern: Any, case_sensitive: bool) -> Any:
        """Return ``LIKE`` or ``ILIKE`` (backslash is the default escape character)."""
        return lhs.like(pattern) if case_sensitive else lhs.ilike(pattern)

    def regex_match(self, lhs: Any, rhs: Any, case_sensitive: bool) -> Any:
        """Return ``lhs ~ rhs`` (``~*`` ignoring case)."""
        return lhs.op("~" if case_sensitive else "~*", is_comparison=True)(rhs)

    # -- dates and times -------------------------------------------------------------------
    def extract(self, part: str, expr: Any) -> Any:
        """Return ``EXTRACT(field FROM expr)`` as an integer."""
        if part == "second":
            return sa.cast(sa.func.floor(sa.extract("second", expr)), sa.Integer)
        if part == "week_day":  # dow counts 0 = Sunday
            return sa.cast(sa.extract("dow", expr), sa.Integer) + lit("1")
        field = _EXTRACT_FIELDS.get(part)
        if field is None:
            return super().extract(part, expr)
        return sa.cast(sa.extract(field, expr), sa.Integer)

    def cast_date(self, expr: Any) -> Any:
        """Return ``CAST(expr AS DATE)``."""
        return sa.cast(expr, sa.Date)

    def truncate(self, kind: str, expr: Any, output: str) -> Any:
        """Return ``date_trunc('kind', expr)`` (a date again for ``"date"``)."""
        truncated = sa.func.date_trunc(
            lit(f"'{kind}'", sa.String), expr, type_=sa.DateTime(timezone=True)
        )
        return sa.cast(truncated, sa.Date) if output == "date" else truncated

    # -- JSON ------------------------------------------------------------------------------
    def _key(self, key: str, const: BindConst) -> Any:
        return const(int(key), sa.Integer) if key.isdigit() else const(key, sa.Text)

    def json_key(self, doc: Any, keys: Sequence[str], const: BindConst) -> Any:
        """Return ``doc -> k1 -> k2 ...`` (JSONB)."""
        expr = doc
        for key in keys:
            expr = expr.op("->", return_type=JSONB)(self._key(key, const))
        return expr

    def json_key_text(self, doc: Any, keys: Sequence[str], const: BindConst) -> Any:
        """Return ``doc -> k1 ... ->> kn``."""
        expr = self.json_key(doc, keys[:-1], const)
        return expr.op("->>", return_type=sa.Text)(self._key(keys[-1], const))

    def json_equal(self, lhs: Any, rhs: Any, const: BindConst) -> Any:
        """Return ``lhs = CAST(rhs AS JSONB)``."""
        return lhs == sa.cast(rhs, JSONB)

    def json_compare_adapter(self, json_adapter: Any) -> Any:
        """Send compared values as JSON: a key's value is JSONB, ordered as JSON."""
        return json_adapter

    def json_compare_rhs(self, rhs: Any) -> Any:
        """Cast a bound value to JSONB."""
        return sa.cast(rhs, JSONB) if isinstance(rhs, sa.BindParameter) else rhs

    def json_contains(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs @> rhs``."""
        return lhs.op("@>", is_comparison=True)(sa.cast(rhs, JSONB))

    def json_contained_by(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs <@ rhs``."""
        return lhs.op("<@", is_comparison=True)(sa.cast(rhs, JSONB))

    def json_has_key_param(self, prefix: Sequence[str], key: str) -> Any:
        """Return the key itself (``?`` applies to the value at the prefix)."""
        return key

    def json_has_key(self, lhs: Any, doc: Any, key: Any, const: BindConst) -> Any:
        """Return ``lhs ? key``."""
        return lhs.op("?", is_comparison=True)(sa.cast(key, sa.Text))

    # -- arrays ----------------------------------------------------------------------------
    def array_contains(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs @> rhs``."""
        return lhs.op("@>", is_comparison=True)(rhs)

    def array_contained_by(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs <@ rhs``."""
        return lhs.op("<@", is_comparison=True)(rhs)

    def array_overlap(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs && rhs``."""
        return lhs.op("&&", is_comparison=True)(rhs)

    def array_length(self, expr: Any) -> Any:
        """Return ``CASE WHEN expr IS NULL THEN NULL ELSE COALESCE(array_length(expr, 1), 0)``.

        ``array_length`` of an empty array is NULL; its length is 0.
        """
        length = sa.func.coalesce(sa.func.array_length(expr, lit("1")), lit("0"))
        return sa.case((expr.is_(None), sa.null()), else_=length)

    def array_index(self, expr: Any, array_type: Any, index: Any) -> Any:
        """Return ``expr[index]``."""
        return sa.type_coerce(expr, array_type)[index]

    def array_slice(self, expr: Any, array_type: Any, start: Any, stop: Any) -> Any:
        """Return ``expr[start:stop]``."""
        return sa.type_coerce(expr, array_type)[slice(start, stop)]

    # -- long IN lists ---------------------------------------------------------------------
    def in_list(self, lhs: Any, param: Any) -> Any:
        """Return ``lhs = ANY($n)``: the server types ``$n`` as an array of the column's type."""
        return lhs == sa.any_(param)

    # -- SELECT and INSERT -----------------------------------------------------------------
    def distinct_on(self, stmt: Any, exprs: Sequence[Any]) -> Any:
        """Return ``SELECT DISTINCT ON (exprs) ...``."""
        return stmt.ext(postgresql.distinct_on(*exprs))

    def insert(self, table: Any) -> Any:
        """Return PostgreSQL's INSERT (``ON CONFLICT``)."""
        return postgresql.insert(table)

    def bulk_insert_select(self, params: Sequence[Any], columns: Sequence[Any]) -> Any | None:
        """Return ``SELECT * FROM unnest($1::type[], $2::type[], ...)``.

        Three parameters for 10,000 rows: nothing to renumber or re-parse, and
        asyncpg keeps the one prepared statement. Array columns are left to
        ``VALUES`` (``unnest`` would flatten them).
        """
        if any(isinstance(column.type, (sa.ARRAY, ArrayColumn)) for column in columns):
            return None
        arrays = [
            sa.cast(param, postgresql.ARRAY(column.type))
            for param, column in zip(params, columns, strict=True)
        ]
        return sa.select(sa.literal_column("*")).select_from(sa.func.unnest(*arrays))

    def repeat_values_group(self, group: str, rows: int, width: int) -> list[str]:
        """Renumber ``$n`` placeholders for each further row."""
        return [_DOLLAR.sub(_shifted(row * width), group) for row in range(rows)]

    # -- two-phase commit: PREPARE TRANSACTION ----------------------------------------------
    # A prepared transaction's id (gid) is unique in the whole cluster, so this
    # database's part carries the database name after the global id.
    def tpc_begin_sql(self, xid: str, branch: str) -> list[str]:
        """Return a plain BEGIN: PostgreSQL decides on two-phase only at PREPARE."""
        return ["BEGIN"]

    def tpc_prepare_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``PREPARE TRANSACTION 'gid'``."""
        return [f"PREPARE TRANSACTION {_gid(xid, branch)}"]

    def tpc_abort_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``ROLLBACK``: not prepared yet, it is an ordinary transaction."""
        return ["ROLLBACK"]

    def tpc_commit_prepared_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``COMMIT PREPARED 'gid'``."""
        return [f"COMMIT PREPARED {_gid(xid, branch)}"]

    def tpc_rollback_prepared_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``ROLLBACK PREPARED 'gid'``."""
        return [f"ROLLBACK PREPARED {_gid(xid, branch)}"]

    def tpc_recover_sql(self) -> str:
        """Return the query of ``pg_prepared_xacts`` for the current database."""
        return (
            "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() "
            "ORDER BY prepared"
        )

    def tpc_recovered_xids(self, rows: Sequence[Sequence[Any]], branch: str) -> list[str]:
        """Return the global ids: each gid without this database's ``.name`` suffix."""
        suffix = "." + branch
        return [str(row[0]).removesuffix(suffix) for row in rows]


def _gid(xid: str, branch: str) -> str:
    """The quoted gid of this database's part of global transaction ``xid``."""
    gid = f"{xid}.{branch}"
    return "'" + gid.replace("'", "''") + "'"
