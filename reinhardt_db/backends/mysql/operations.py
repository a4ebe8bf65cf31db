"""MySQL/MariaDB SQL: what the query and schema layers ask of this vendor.

Booleans are ``TINYINT(1)`` (returned as 0/1), UUIDs 32 hex characters,
durations a ``BIGINT`` of microseconds, and ``TIME`` comes back as a
``timedelta``. ``DATETIME(6)`` holds UTC: PyMySQL writes a datetime's wall-clock
fields and ignores tzinfo, and the backend's decoders return aware UTC values,
so date-times need no converter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from reinhardt_db.backends.base.conversions import (
    micros_to_timedelta,
    timedelta_to_micros,
    uuid_from_text,
    uuid_hex,
)
from reinhardt_db.backends.base.operations import (
    Adapter,
    BindConst,
    Converter,
    DatabaseOperations,
    divide,
    lit,
)

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

_JSON_NUMBERS = ("INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL")
_TRUNC_FORMATS = {
    "year": "%Y-01-01", "month": "%Y-%m-01", "day": "%Y-%m-%d",
    "hour": "%Y-%m-%d %H:00:00", "minute": "%Y-%m-%d %H:%i:00", "second": "%Y-%m-%d %H:%i:%s",
}

__all__ = ["MySQLOperations"]

_SIMPLE_EXTRACT = frozenset({"year", "month", "day", "hour", "minute", "second", "quarter"})


def _timedelta_to_time(value: Any) -> dt.time:
    if isinstance(value, dt.timedelta):
        return (dt.datetime.min + value).time()
    return value


class MySQLOperations(DatabaseOperations):
    """Vendor SQL for MySQL and MariaDB."""

    vendor: ClassVar[str] = "mysql"
    display_name: ClassVar[str] = "MySQL/MariaDB"
    # SQLAlchemy names MariaDB's dialect "mariadb" when it is chosen explicitly.
    dialect_names: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")
    max_name_length: ClassVar[int | None] = 64
    data_types: ClassVar[dict[str, Callable[[Any], sa.types.TypeEngine[Any]]]] = {
        # TEXT holds only 64 KiB.
        "TextField": lambda field: mysql.LONGTEXT(),
        "BinaryField": lambda field: mysql.LONGBLOB(),
        "JSONField": lambda field: mysql.JSON(),
        "DateTimeField": lambda field: mysql.DATETIME(fsp=6),
        "TimeField": lambda field: mysql.TIME(fsp=6),
    }

    def __init__(self) -> None:
        self._consecutive_ids: bool | None = None

    # -- values ----------------------------------------------------------------------------
    def boolean_converter(self) -> Converter | None:
        """Return ``bool`` for ``TINYINT(1)`` 0/1."""
        return bool

    def uuid_adapter(self) -> Adapter | None:
        """Return ``UUID.hex`` (a ``CHAR(32)`` column)."""
        return uuid_hex

    def uuid_converter(self) -> Converter | None:
        """Return hex text -> ``UUID``."""
        return uuid_from_text

    def time_converter(self) -> Converter | None:
        """Return timedelta -> ``time`` (the driver returns ``TIME`` as a timedelta)."""
        return _timedelta_to_time

    def duration_adapter(self) -> Adapter | None:
        """Return timedelta -> microseconds."""
        return timedelta_to_micros

    def duration_converter(self) -> Converter | None:
        """Return microseconds -> timedelta."""
        return micros_to_timedelta

    # -- functions -------------------------------------------------------------------------
    def cast(self, expr: Any, field: Any) -> Any:
        """MySQL cannot ``CAST ... AS BOOLEAN`` (booleans are integers): ``expr <> 0``."""
        if field.get_internal_type() == "BooleanField":
            return expr != lit("0")
        return super().cast(expr, field)

    def now(self) -> Any:
        """Return ``NOW(6)``: the session's time zone is UTC; microseconds as stored."""
        return sa.func.now(lit("6"))

    def greatest(self, args: Sequence[Any]) -> Any:
        """Return ``GREATEST(...)`` (already NULL when any argument is NULL)."""
        return sa.func.greatest(*args)

    def least(self, args: Sequence[Any]) -> Any:
        """Return ``LEAST(...)`` (already NULL when any argument is NULL)."""
        return sa.func.least(*args)

    # -- text ------------------------------------------------------------------------------
    def concat(self, *parts: Any) -> Any:
        """Return ``CONCAT(...)`` (``||`` is logical OR in MySQL)."""
        return sa.func.concat(*parts)

    def pattern_match(self, lhs: Any, pattern: Any, case_sensitive: bool) -> Any:
        """Return ``LIKE BINARY``, or ``LIKE`` between lowered sides."""
        if case_sensitive:
            return lhs.op("LIKE BINARY", is_comparison=True)(pattern)
        return sa.func.lower(lhs).like(sa.func.lower(pattern))

    def regex_value(self, regex: str, case_sensitive: bool) -> str:
        """Prefix the case flag: ``REGEXP`` follows the column's collation otherwise."""
        return ("(?-i)" if case_sensitive else "(?i)") + regex

    # -- numbers ---------------------------------------------------------------------------
    def divide(self, lhs: Any, rhs: Any) -> Any:
        """Use ``DIV`` between integers: MySQL's ``/`` is always a decimal division."""
        if all(isinstance(getattr(side, "type", None), sa.Integer) for side in (lhs, rhs)):
            return divide(lhs, rhs, "DIV")
        return divide(lhs, rhs)

    def float_aggregate_source(self, expr: Any) -> Any:
        """Return ``expr * 1E0``: MySQL averages integers as DECIMAL with 4 places."""
        return expr * sa.literal_column("1E0")

    # -- dates and times -------------------------------------------------------------------
    def extract(self, part: str, expr: Any) -> Any:
        """Return ``EXTRACT`` where it fits, MySQL's week functions otherwise."""
        if part in _SIMPLE_EXTRACT:
            return sa.cast(sa.extract(part, expr), sa.Integer)
        if part == "week":
            return sa.func.week(expr, lit("3"))
        if part == "iso_year":
            return sa.func.yearweek(expr, lit("3")).op("DIV")(lit("100"))
        if part == "week_day":
            return sa.func.dayofweek(expr)
        if part == "iso_week_day":
            return sa.func.weekday(expr) + lit("1")
        return super().extract(part, expr)

    def cast_time(self, expr: Any) -> Any:
        """Return ``CAST(expr AS TIME(6))`` (microseconds kept)."""
        return sa.cast(expr, mysql.TIME(fsp=6))

    def truncate(self, kind: str, expr: Any, output: str) -> Any:
        """Return the truncated value through ``DATE_FORMAT`` (or ``TIMESTAMPADD``)."""
        fmt = _TRUNC_FORMATS.get(kind)
        if fmt is not None:
            text = sa.func.date_format(expr, lit(f"'{fmt}'", sa.String))
        elif kind == "quarter":
            first = sa.func.makedate(sa.func.year(expr), lit("1"))
            text = sa.func.timestampadd(
                sa.literal_column("QUARTER"), sa.func.quarter(expr) - lit("1"), first
            )
        elif kind == "week":
            text = sa.func.timestampadd(
                sa.literal_column("DAY"), -sa.func.weekday(expr), sa.func.date(expr)
            )
        else:
            return super().truncate(kind, expr, output)
        return sa.cast(text, sa.Date if output == "date" else mysql.DATETIME(fsp=6))

    # -- JSON ------------------------------------------------------------------------------
    def json_key_text(self, doc: Any, keys: Sequence[str], const: BindConst) -> Any:
        """Return ``JSON_UNQUOTE(JSON_EXTRACT(doc, path))``."""
        return sa.func.JSON_UNQUOTE(
            sa.func.json_extract(doc, const(self.json_path(keys))), type_=sa.Text
        )

    def json_key_order(self, built: Any) -> list[Any]:
        """Return numbers by value, then the rest by text.

        MariaDB's JSON values are text, so ``ORDER BY`` alone would put 12 before 7.
        """
        number = sa.func.JSON_TYPE(built).in_([lit(f"'{t}'", sa.String) for t in _JSON_NUMBERS])
        return [sa.case((number, built + lit("0")), else_=sa.null()), built]

    def json_equal(self, lhs: Any, rhs: Any, const: BindConst) -> Any:
        """Return mutual ``JSON_CONTAINS``.

        MariaDB compares JSON strings by collation; mutual containment is exact
        for scalars (arrays compare as sets).
        """
        one: Any = sa.literal_column("1")
        return sa.and_(
            sa.func.JSON_CONTAINS(lhs, rhs) == one, sa.func.JSON_CONTAINS(rhs, lhs) == one
        )

    def json_contains(self, lhs: Any, rhs: Any) -> Any:
        """Return ``JSON_CONTAINS(lhs, rhs)``."""
        return sa.func.JSON_CONTAINS(lhs, rhs) == sa.literal_column("1")

    def json_contained_by(self, lhs: Any, rhs: Any) -> Any:
        """Return ``JSON_CONTAINS(rhs, lhs)``."""
        return sa.func.JSON_CONTAINS(rhs, lhs) == sa.literal_column("1")

    def json_has_key(self, lhs: Any, doc: Any, key: Any, const: BindConst) -> Any:
        """Return ``JSON_CONTAINS_PATH(doc, 'one', path)``."""
        found = sa.func.JSON_CONTAINS_PATH(doc, const("one"), key)
        return found == sa.literal_column("1")

    # -- SELECT and INSERT -----------------------------------------------------------------
    def random(self) -> Any:
        """Return ``RAND()``."""
        return sa.func.rand()

    def insert(self, table: Any) -> Any:
        """Return MySQL's INSERT (``ON DUPLICATE KEY UPDATE``)."""
        return mysql.insert(table)

    def insert_ignore(self, stmt: Any) -> Any:
        """Return ``INSERT IGNORE``."""
        return stmt.prefix_with("IGNORE")

    def upsert(
        self, stmt: Any, table: Any, update_columns: Sequence[str], unique_columns: Sequence[str]
    ) -> Any:
        """Return ``ON DUPLICATE KEY UPDATE`` (any unique key conflicts; no target)."""
        return stmt.on_duplicate_key_update({name: stmt.inserted[name] for name in update_columns})

    async def bulk_insert_ids(
        self, lastrowid: int, rows: int, fetch_row: Callable[[str], Awaitable[Any]]
    ) -> range | None:
        """Return consecutive ids from ``lastrowid`` (the first row's) when the server gives them.

        One multi-row INSERT gets consecutive AUTO_INCREMENT ids with
        ``innodb_autoinc_lock_mode`` 0 or 1 and ``auto_increment_increment`` 1.
        """
        if rows == 1:
            return range(lastrowid, lastrowid + 1)
        if self._consecutive_ids is None:
            row = await fetch_row("SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment")
            self._consecutive_ids = (
                row is not None and int(row[0]) in (0, 1) and int(row[1]) == 1
            )
        return range(lastrowid, lastrowid + rows) if self._consecutive_ids else None

    # -- EXPLAIN ---------------------------------------------------------------------------
    def explain_prefix(
        self, analyze: bool, features: DatabaseFeatures, format: str | None = None
    ) -> str:
        """Return ``EXPLAIN [FORMAT=x]``; analyzing, ``ANALYZE`` (MariaDB) or
        ``EXPLAIN ANALYZE`` (MySQL)."""
        name = self.explain_format(features, format)
        suffix = f"FORMAT={name} " if name else ""
        if not analyze:
            return f"EXPLAIN {suffix}"
        return f"ANALYZE {suffix}" if features.is_mariadb else f"EXPLAIN ANALYZE {suffix}"

    # -- transactions ------------------------------------------------------------------------
    def begin_transaction_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        """Return ``SET TRANSACTION ISOLATION LEVEL ...`` (next transaction only) and the START."""
        statements = []
        if isolation:
            statements.append(f"SET TRANSACTION ISOLATION LEVEL {isolation.upper()}")
        statements.append("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")
        return statements

    # -- two-phase commit: XA -----------------------------------------------------------------
    # XA RECOVER lists the prepared transactions of the whole server, so the
    # branch qualifier (bqual) carries the database name to tell them apart.
    def tpc_begin_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``XA START 'gtrid','bqual'``."""
        return [f"XA START {_xid(xid, branch)}"]

    def tpc_prepare_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``XA END`` then ``XA PREPARE``."""
        return [f"XA END {_xid(xid, branch)}", f"XA PREPARE {_xid(xid, branch)}"]

    def tpc_abort_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``XA END`` then ``XA ROLLBACK`` (an active XA transaction must end first)."""
        return [f"XA END {_xid(xid, branch)}", f"XA ROLLBACK {_xid(xid, branch)}"]

    def tpc_commit_prepared_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``XA COMMIT 'gtrid','bqual'``."""
        return [f"XA COMMIT {_xid(xid, branch)}"]

    def tpc_rollback_prepared_sql(self, xid: str, branch: str) -> list[str]:
        """Return ``XA ROLLBACK 'gtrid','bqual'``."""
        return [f"XA ROLLBACK {_xid(xid, branch)}"]

    def tpc_recover_sql(self) -> str:
        """Return ``XA RECOVER``: formatID, gtrid_length, bqual_length, data."""
        return "XA RECOVER"

    def tpc_recovered_xids(self, rows: Sequence[Sequence[Any]], branch: str) -> list[str]:
        """Return the gtrids whose bqual is this database's name."""
        xids = []
        for row in rows:
            gtrid_length, bqual_length, data = int(row[1]), int(row[2]), row[3]
            if isinstance(data, bytes):
                data = data.decode("utf-8", "replace")
            if data[gtrid_length:gtrid_length + bqual_length] == branch:
                xids.append(data[:gtrid_length])
        return xids


def _xid(xid: str, branch: str) -> str:
    """The quoted ``'gtrid','bqual'`` of this database's part of ``xid``."""
    return "'" + xid.replace("'", "''") + "','" + branch.replace("'", "''") + "'"
