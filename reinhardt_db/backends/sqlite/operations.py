"""SQLite SQL: what the query and schema layers ask of this vendor.

SQLite has no date, time, UUID, boolean or exact decimal types, so values are
stored as text or integers that keep their order: dates ``YYYY-MM-DD``,
date-times UTC ``YYYY-MM-DD HH:MM:SS.ffffff`` (fixed width, so text order is
time order), times ``HH:MM:SS.ffffff``, UUIDs 32 hex digits, durations a
``BIGINT`` of microseconds and decimals exact text in a ``DECIMAL_TEXT(p, s)``
column (TEXT affinity: a ``NUMERIC`` column would turn them into floats).
``LIKE`` ignores ASCII case, so case-sensitive patterns use ``GLOB``; ``REGEXP``
is a Python function the backend registers on each connection.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from reinhardt_db.backends.base.conversions import (
    micros_to_timedelta,
    timedelta_to_micros,
    to_decimal,
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
from reinhardt_db.exceptions import NotSupportedError

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["DecimalText", "SQLiteOperations"]

UTC = dt.UTC
_TRUNC_FORMATS = {
    "year": "%Y-01-01 00:00:00.000000", "month": "%Y-%m-01 00:00:00.000000",
    "day": "%Y-%m-%d 00:00:00.000000", "hour": "%Y-%m-%d %H:00:00.000000",
    "minute": "%Y-%m-%d %H:%M:00.000000", "second": "%Y-%m-%d %H:%M:%S.000000",
}
_STRFTIME = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}


class DecimalText(sa.types.UserDefinedType):
    """Column type ``DECIMAL_TEXT(p, s)``: TEXT affinity, so decimals keep every digit."""

    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        self.precision = precision
        self.scale = scale

    def get_col_spec(self, **kw: Any) -> str:
        """Return the DDL type name."""
        return f"DECIMAL_TEXT({self.precision}, {self.scale})"


# -- values ------------------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _parse_time(value: Any) -> dt.time:
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


def _format_time(value: dt.time) -> str:
    return value.isoformat("microseconds")


def _parse_any_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_fromisoformat = dt.datetime.fromisoformat


def _parse_datetime(value: Any) -> dt.datetime:
    # Stored as naive UTC text. Parsing it with the offset appended is about ten
    # times cheaper than parsing, then datetime.replace(tzinfo=UTC).
    try:
        return _fromisoformat(value + "+00:00")
    except (TypeError, ValueError):
        return _parse_any_datetime(value)


# Row readers may inline the fast path (they fall back to the function on error).
_parse_datetime.inline = "_fromisoformat({v} + '+00:00')"  # type: ignore[attr-defined]
_parse_datetime.inline_globals = {"_fromisoformat": _fromisoformat}  # type: ignore[attr-defined]


def _plain_text(value: Decimal) -> str:
    return format(value, "f")


def _decimal_text(max_digits: int, decimal_places: int) -> Adapter:
    exponent = Decimal(1).scaleb(-decimal_places)
    context = decimal.Context(prec=max(max_digits, 28) + 2)

    def to_text(value: Decimal) -> str:
        # Quantize only when exact, so stored text is canonical ('1.50') while a
        # filter value with extra places (1.005) still compares as itself.
        try:
            quantized = value.quantize(exponent, context=context)
        except decimal.InvalidOperation:
            return format(value, "f")
        if quantized != value:
            return format(value, "f")
        # -0.00 is 0.00: one spelling, as writes store it.
        return format(quantized if quantized else quantized.copy_abs(), "f")

    return to_text


# -- SQL ---------------------------------------------------------------------------------------


def _glob_escape(text: str) -> str:
    return text.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def _strftime(fmt: str, expr: Any) -> Any:
    return sa.cast(sa.func.strftime(lit(f"'{fmt}'", sa.String), expr), sa.Integer)


def _iso_thursday(expr: Any) -> Any:
    # The Thursday of a date's ISO week decides its ISO year and week number.
    return sa.func.date(expr, lit("'-3 days'", sa.String), lit("'weekday 4'", sa.String))


#: Raises SQLite's "integer overflow" error when evaluated (mapped to DataError).
_FAIL = sa.func.abs(lit("-9223372036854775807 - 1"))


def _number(value: Any) -> Any:
    """A numeric literal of the backend's own SQL (a column bound, never user input)."""
    return lit(repr(float(value)) if isinstance(value, float) else str(value), sa.Numeric())


def _integer(field: Any) -> sa.types.TypeEngine[Any]:
    return sa.Integer()


class SQLiteOperations(DatabaseOperations):
    """Vendor SQL for SQLite."""

    vendor: ClassVar[str] = "sqlite"
    display_name: ClassVar[str] = "SQLite"
    dialect_names: ClassVar[tuple[str, ...]] = ("sqlite",)
    data_types: ClassVar[dict[str, Callable[[Any], sa.types.TypeEngine[Any]]]] = {
        # INTEGER PRIMARY KEY is the rowid alias (64-bit whatever the declared width).
        "AutoField": _integer,
        "BigAutoField": _integer,
        "SmallAutoField": _integer,
        "DecimalField": lambda field: DecimalText(field.max_digits, field.decimal_places),
    }

    # -- values ----------------------------------------------------------------------------
    def boolean_converter(self) -> Converter | None:
        """Return ``bool`` for the stored 0/1."""
        return bool

    def uuid_adapter(self) -> Adapter | None:
        """Return ``UUID.hex``."""
        return uuid_hex

    def uuid_converter(self) -> Converter | None:
        """Return hex text -> ``UUID``."""
        return uuid_from_text

    def date_adapter(self) -> Adapter | None:
        """Return ``date.isoformat``."""
        return dt.date.isoformat

    def date_converter(self) -> Converter | None:
        """Return an ISO text parser."""
        return _parse_date

    def datetime_adapter(self, to_utc: Callable[[Any], Any]) -> Adapter:
        """Return ``YYYY-MM-DD HH:MM:SS.ffffff`` text in UTC."""

        # Slicing off "+00:00" is several times cheaper than replace(tzinfo=None).
        def to_text(value: Any) -> str:
            if value.tzinfo is not UTC:
                value = to_utc(value)
            return value.isoformat(" ", "microseconds")[:-6]

        return to_text

    def datetime_converter(self) -> Converter | None:
        """Return a parser of the stored UTC text."""
        return _parse_datetime

    def time_adapter(self) -> Adapter | None:
        """Return fixed-width ISO text."""
        return _format_time

    def time_converter(self) -> Converter | None:
        """Return an ISO text parser."""
        return _parse_time

    def duration_adapter(self) -> Adapter | None:
        """Return timedelta -> microseconds."""
        return timedelta_to_micros

    def duration_converter(self) -> Converter | None:
        """Return microseconds -> timedelta."""
        return micros_to_timedelta

    def decimal_adapter(
        self, max_digits: int, decimal_places: int, rounded: bool = False
    ) -> Adapter | None:
        """Return the exact-text formatter (quantized to ``decimal_places`` when exact)."""
        if rounded:
            return _plain_text
        return _decimal_text(max_digits, decimal_places)

    def decimal_converter(self) -> Converter | None:
        """Return text -> ``Decimal``."""
        return to_decimal

    # -- text ------------------------------------------------------------------------------
    def lower(self, expr: Any) -> Any:
        """Return ``UNICODE_LOWER(expr)``: SQLite's ``lower()`` maps ASCII letters only."""
        return sa.func.unicode_lower(expr, type_=sa.String)

    def upper(self, expr: Any) -> Any:
        """Return ``UNICODE_UPPER(expr)`` (the connection registers it, see ``driver``)."""
        return sa.func.unicode_upper(expr, type_=sa.String)

    def char_length(self, expr: Any) -> Any:
        """Return ``length(expr)``: characters for text."""
        return sa.func.length(expr, type_=sa.Integer)

    # -- functions -------------------------------------------------------------------------
    def cast(self, expr: Any, field: Any) -> Any:
        """Dates and times are ISO text here: ``CAST(... AS DATE)`` would make a number."""
        kind = field.get_internal_type()
        if kind == "DateField":
            return sa.func.date(expr, type_=sa.String)
        if kind in ("DateTimeField", "TimeField"):
            return sa.cast(expr, sa.Text)
        return super().cast(expr, field)

    def now(self) -> Any:
        """Return the UTC time as the text a date-time column stores."""
        return sa.func.strftime(lit("'%Y-%m-%d %H:%M:%f'", sa.String), lit("'now'", sa.String))

    def greatest(self, args: Sequence[Any]) -> Any:
        """Return the scalar ``MAX(a, b, ...)`` (NULL when any is NULL)."""
        return sa.func.max(*args)

    def least(self, args: Sequence[Any]) -> Any:
        """Return the scalar ``MIN(a, b, ...)`` (NULL when any is NULL)."""
        return sa.func.min(*args)

    def pattern_escape(self, text: str, case_sensitive: bool) -> str:
        """Escape for ``GLOB`` (case-sensitive) or ``LIKE ... ESCAPE '\\'``."""
        return _glob_escape(text) if case_sensitive else super().pattern_escape(text, False)

    def pattern_wildcard(self, case_sensitive: bool) -> str:
        """Return ``*`` for ``GLOB``, ``%`` for ``LIKE``."""
        return "*" if case_sensitive else "%"

    def pattern_match(self, lhs: Any, pattern: Any, case_sensitive: bool) -> Any:
        """Return ``GLOB`` (case-sensitive) or ``LIKE`` (ASCII case-insensitive)."""
        if case_sensitive:
            return lhs.op("GLOB", is_comparison=True)(pattern)
        return lhs.like(pattern, escape="\\")

    def regex_value(self, regex: str, case_sensitive: bool) -> str:
        """Prefix ``(?i)`` for the registered Python ``REGEXP`` when ignoring case."""
        return regex if case_sensitive else "(?i)" + regex

    # -- numbers ---------------------------------------------------------------------------
    def numeric_value_sql(self, sql: str) -> str:
        """Return ``CAST(sql AS REAL)``: decimals are stored as text."""
        return f"CAST({sql} AS REAL)"

    # -- dates and times -------------------------------------------------------------------
    def extract(self, part: str, expr: Any) -> Any:
        """Return the part through ``strftime`` on the stored ISO text."""
        fmt = _STRFTIME.get(part)
        if fmt is not None:
            return _strftime(fmt, expr)
        if part == "quarter":
            return divide(_strftime("%m", expr) + lit("2"), lit("3"))
        if part == "week":
            day_of_year = _strftime("%j", _iso_thursday(expr))
            return divide(day_of_year - lit("1"), lit("7")) + lit("1")
        if part == "iso_year":
            return _strftime("%Y", _iso_thursday(expr))
        if part == "week_day":
            return _strftime("%w", expr) + lit("1")
        if part == "iso_week_day":
            return (_strftime("%w", expr) + lit("6")) % lit("7") + lit("1")
        return super().extract(part, expr)

    def cast_time(self, expr: Any) -> Any:
        """Return the time part of the stored ``YYYY-MM-DD HH:MM:SS.ffffff`` text."""
        return sa.func.substr(expr, lit("12"), type_=sa.String)

    def truncate(self, kind: str, expr: Any, output: str) -> Any:
        """Return the truncated value as the text SQLite stores dates or date-times in."""
        midnight = "" if output == "date" else " 00:00:00.000000"
        fmt = _TRUNC_FORMATS.get(kind)
        if fmt is not None:
            if output == "date":
                fmt = fmt[:8]
            return sa.func.strftime(lit(f"'{fmt}'", sa.String), expr, type_=sa.String)
        if kind == "quarter":
            back = sa.func.printf(
                lit("'-%d months'", sa.String), (_strftime("%m", expr) - lit("1")) % lit("3")
            )
            day = sa.func.date(expr, lit("'start of month'", sa.String), back)
        elif kind == "week":  # the Monday on or before
            day = sa.func.date(
                expr, lit("'-6 days'", sa.String), lit("'weekday 1'", sa.String)
            )
        else:
            return super().truncate(kind, expr, output)
        return day.op("||")(lit(f"'{midnight}'", sa.String)) if midnight else day

    # -- JSON ------------------------------------------------------------------------------
    def _json_type(self, doc: Any, keys: Sequence[str], const: BindConst) -> Any:
        """``json_type`` at the path: NULL when the key is missing."""
        return sa.func.json_type(doc, const(self.json_path(keys)))

    def json_key_value(self, doc: Any, keys: Sequence[str], built: Any, const: BindConst) -> Any:
        """Return ``doc -> path`` (JSON text): ``json_extract`` unwraps scalars."""
        return doc.op("->")(const(self.json_path(keys)))

    def json_contains(self, lhs: Any, rhs: Any) -> Any:
        """Return ``REINHARDT_JSON_CONTAINS(lhs, rhs)``: PostgreSQL's ``@>``, in Python.

        The function is registered on every connection (``driver.jsonb_contains``).
        """
        return sa.func.REINHARDT_JSON_CONTAINS(lhs, rhs) == lit("1")

    def json_contained_by(self, lhs: Any, rhs: Any) -> Any:
        """Return ``REINHARDT_JSON_CONTAINS(rhs, lhs)`` (``<@``)."""
        return sa.func.REINHARDT_JSON_CONTAINS(rhs, lhs) == lit("1")

    def json_document_equal(self, lhs: Any, rhs: Any, const: BindConst) -> Any:
        """Compare normalized documents (whitespace and escapes differ in the text)."""
        return sa.func.json(lhs) == sa.func.json(rhs)

    def json_key_is_json_null(
        self, doc: Any, keys: Sequence[str], built: Any, const: BindConst
    ) -> Any:
        """Ask ``json_type``: ``json_extract`` gives SQL NULL for a JSON null."""
        return self._json_type(doc, keys, const) == const("null")

    def json_key_or_null(self, doc: Any, keys: Sequence[str], built: Any, const: BindConst) -> Any:
        """Return ``json_type`` at the path (a JSON null has the type ``'null'``)."""
        return self._json_type(doc, keys, const)

    def json_has_key(self, lhs: Any, doc: Any, key: Any, const: BindConst) -> Any:
        """Return ``json_type(doc, path) IS NOT NULL``."""
        return sa.func.json_type(doc, key).is_not(None)

    # -- UPDATE ----------------------------------------------------------------------------
    def checked_assignment(
        self,
        expr: Any,
        bounds: tuple[Any, Any] | None = None,
        max_length: int | None = None,
        decimal_places: int | None = None,
    ) -> Any:
        """Fail the UPDATE when the computed value does not fit, as the other backends do.

        SQLite would store a sum beyond the column's range (or a REAL after a
        64-bit overflow) and text of any length. The failing branch is
        ``abs(-9223372036854775808)``, SQLite's "integer overflow" error, which
        the driver reports as ``DataError``. Decimals are stored as text with
        ``decimal_places`` digits (``printf``), as values written from Python are.
        """
        problems = []
        if bounds is not None and isinstance(bounds[0], (int, float, Decimal)):
            low, high = bounds
            # Decimal columns hold text: compare the number, not the text.
            number = sa.cast(expr, sa.REAL) if decimal_places is not None else expr
            problems += [number < _number(low), number > _number(high)]
        if max_length is not None:
            problems.append(sa.func.length(expr) > lit(str(int(max_length))))
        if not problems:
            return expr
        value = expr
        if decimal_places is not None:
            fmt = lit(f"'%.{int(decimal_places)}f'", sa.String)
            value = sa.case((expr.is_(None), sa.null()), else_=sa.func.printf(fmt, expr))
        return sa.case((sa.or_(*problems), _FAIL), else_=value)

    # -- long IN lists ---------------------------------------------------------------------
    def in_list(self, lhs: Any, param: Any) -> Any:
        """Return ``lhs IN (SELECT value FROM json_each(?))`` (the list as JSON text)."""
        items = sa.select(lit("value", sa.types.NullType())).select_from(sa.func.json_each(param))
        return lhs.in_(items)

    def in_list_param(self, items: list[Any]) -> Any:
        """Return the list as JSON text (SQLite's column affinity converts the items)."""
        try:
            return json.dumps(items)
        except TypeError:
            raise NotSupportedError(
                "SQLite sends a long 'in' list as JSON, which cannot hold these values "
                f"({type(items[0]).__name__}); split the list into several queries"
            ) from None

    # -- INSERT ----------------------------------------------------------------------------
    def insert(self, table: Any) -> Any:
        """Return SQLite's INSERT (``ON CONFLICT``)."""
        return sqlite.insert(table)

    async def bulk_insert_ids(
        self, lastrowid: int, rows: int, fetch_row: Callable[[str], Awaitable[Any]]
    ) -> range | None:
        """Return the ``rows`` ids ending at ``lastrowid`` (the last row's).

        An ``AUTOINCREMENT`` key gives each row of one INSERT the next id, and the
        statement holds the write lock: the ids are consecutive.
        """
        return range(lastrowid - rows + 1, lastrowid + 1)

    # -- EXPLAIN ---------------------------------------------------------------------------
    def explain_prefix(
        self, analyze: bool, features: DatabaseFeatures, format: str | None = None
    ) -> str:
        """Return ``EXPLAIN QUERY PLAN``."""
        if analyze:
            raise NotSupportedError("SQLite has no EXPLAIN ANALYZE; call explain() without it")
        self.explain_format(features, format)
        return "EXPLAIN QUERY PLAN "

    def explain_text(self, rows: Sequence[Sequence[Any]]) -> str:
        """Return the plan's detail column, one line per step."""
        return "\n".join(str(row[-1]) for row in rows)

    # -- transactions ------------------------------------------------------------------------
    # SQLite runs every transaction SERIALIZABLE (one writer at a time, and a
    # reader sees one snapshot), which is at least as strict as any level asked
    # for, so the isolation level does not change the statement. A writing
    # transaction takes the write lock up front (IMMEDIATE): two deferred
    # writers would otherwise deadlock on upgrading their read locks, and one
    # would fail with "database is locked" instead of waiting. A read-only one
    # is a deferred BEGIN with writes refused by PRAGMA query_only, undone after.
    def begin_transaction_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        """Return ``BEGIN IMMEDIATE``, or ``BEGIN`` + ``PRAGMA query_only = ON`` when read-only."""
        if read_only:
            return ["BEGIN", "PRAGMA query_only = ON"]
        return ["BEGIN IMMEDIATE"]

    def end_transaction_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        """Return ``PRAGMA query_only = OFF`` after a read-only transaction."""
        return ["PRAGMA query_only = OFF"] if read_only else []
