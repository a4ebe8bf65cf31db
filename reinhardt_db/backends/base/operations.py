"""Vendor SQL: what the query and schema layers ask of a backend instead of its name.

Django's ``connection.ops`` is the model: the layers above call a method here
(``db.ops.<name>``) and each vendor's ``operations.py`` overrides what differs.
The defaults describe standard SQL and a driver that speaks every Python type
natively; the SQL/JSON path functions (``json_extract``) MySQL and SQLite share
are the JSON defaults.

Rules the query layer relies on:

* Methods build SQLAlchemy expressions, statements or SQL text; they run while a
  statement is compiled (a cache miss), never per row or per parameter.
* Adapters (Python value -> driver value) and converters (driver value ->
  Python value) are returned as callables, or ``None`` when the driver needs no
  help. They depend only on the operations *class*: fields cache them per class.
* What a backend cannot do raises :class:`~reinhardt_db.exceptions.NotSupportedError`
  naming the backend and, where there is one, the alternative.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.sql import operators as sa_operators

from reinhardt_db.exceptions import NotSupportedError

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = [
    "Adapter", "BindConst", "Converter", "DatabaseOperations", "divide", "json_path", "like_escape",
    "lit",
]

Adapter = Callable[[Any], Any]
Converter = Callable[[Any], Any]
#: ``const(value, type_=None)``: a bound parameter for a constant of the SQL being
#: built (a JSON path, a key name); the compile context hands it in.
BindConst = Callable[..., Any]

_DIV_PRECEDENCE = sa_operators._PRECEDENCE[sa_operators.truediv]
_SIMPLE_EXTRACT = frozenset({"year", "month", "day", "hour", "minute", "second"})


#: What ``truncate`` takes, coarsest first.
TRUNC_KINDS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")


def lit(text: str, type_: Any = sa.Integer) -> Any:
    """A literal of the backend's own SQL (never user input)."""
    return sa.literal_column(text, type_)


def divide(lhs: Any, rhs: Any, operator: str = "/") -> Any:
    """``lhs <operator> rhs`` with division's precedence (operands parenthesized as needed)."""
    return lhs.op(operator, precedence=_DIV_PRECEDENCE, return_type=getattr(lhs, "type", None))(rhs)


def like_escape(text: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` for a LIKE pattern whose escape character is ``\\``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def json_path(keys: Iterable[str]) -> str:
    """Return the SQL/JSON path of ``keys`` (digits index arrays): ``$."a"[0]``."""
    parts = ["$"]
    for key in keys:
        parts.append(f"[{key}]" if key.isdigit() else "." + json.dumps(key))
    return "".join(parts)


def _values_group(sql: str) -> tuple[int, int]:
    """The span of the first parenthesized group after `` VALUES ``."""
    marker = sql.find(" VALUES (")
    start = marker + len(" VALUES ")
    depth = 0
    for end in range(start if marker >= 0 else len(sql), len(sql)):
        char = sql[end]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return start, end + 1
    raise ValueError(f"no complete VALUES group to repeat in {sql!r}")


class DatabaseOperations:
    """Vendor SQL for one backend; subclasses override what their vendor does differently."""

    vendor: ClassVar[str] = ""
    #: The backend's name in messages ("SQLite", "PostgreSQL" ...).
    display_name: ClassVar[str] = ""
    #: SQLAlchemy dialect names this backend compiles for (column type variants).
    dialect_names: ClassVar[tuple[str, ...]] = ()
    #: Longest identifier (table, column, index, constraint name) the server keeps
    #: whole; None when there is no limit worth checking.
    max_name_length: ClassVar[int | None] = None
    #: Column types that differ from a field's portable ``column_type()``, keyed by
    #: the name of the field class that declares that type (see :meth:`column_type`).
    data_types: ClassVar[Mapping[str, Callable[[Any], sa.types.TypeEngine[Any]]]] = {}

    _vendor_method: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._vendor_method = f"as_{cls.vendor}" if cls.vendor else ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    # -- extension point -------------------------------------------------------------------
    def vendor_method(self, node: object) -> Callable[..., Any] | None:
        """Return ``node.as_<vendor>`` for this backend, or None.

        Django's per-backend override of a lookup or transform, kept for
        user-defined ones; the built-in lookups ask this class's methods instead.
        """
        return getattr(node, self._vendor_method, None) if self._vendor_method else None

    # -- column types ----------------------------------------------------------------------
    def column_type(self, field: Any) -> sa.types.TypeEngine[Any] | None:
        """Return this backend's column type for ``field``, or None for its portable one.

        The field's class and its bases are looked up in :attr:`data_types` up
        to the first class that declares ``column_type()`` itself, so a field
        subclass that declares its own type is not overridden by its parent's.
        """
        data_types = self.data_types
        for klass in type(field).__mro__:
            factory = data_types.get(klass.__name__)
            if factory is not None:
                return factory(field)
            if "column_type" in vars(klass):
                return None
        return None

    # -- values: Python -> driver (adapters), driver -> Python (converters) ----------------
    def boolean_converter(self) -> Converter | None:
        """Return how a stored boolean becomes ``bool`` (None: the driver returns ``bool``)."""
        return None

    def uuid_adapter(self) -> Adapter | None:
        """Return how a ``UUID`` is sent (None: the driver takes ``uuid.UUID``)."""
        return None

    def uuid_converter(self) -> Converter | None:
        """Return how a stored UUID becomes ``uuid.UUID`` (None: the driver returns one)."""
        return None

    def date_adapter(self) -> Adapter | None:
        """Return how a ``date`` is sent (None: the driver takes ``date``)."""
        return None

    def date_converter(self) -> Converter | None:
        """Return how a stored date becomes ``date``."""
        return None

    def datetime_adapter(self, to_utc: Callable[[Any], Any]) -> Adapter:
        """Return how an aware ``datetime`` is sent; ``to_utc`` normalizes (and validates) it.

        The default sends the aware UTC ``datetime`` itself.
        """
        return to_utc

    def datetime_converter(self) -> Converter | None:
        """Return how a stored date-time becomes an aware UTC ``datetime``."""
        return None

    def time_adapter(self) -> Adapter | None:
        """Return how a ``time`` is sent."""
        return None

    def time_converter(self) -> Converter | None:
        """Return how a stored time becomes ``time``."""
        return None

    def duration_adapter(self) -> Adapter | None:
        """Return how a ``timedelta`` is sent (None: a native interval type)."""
        return None

    def duration_converter(self) -> Converter | None:
        """Return how a stored duration becomes ``timedelta``."""
        return None

    def decimal_adapter(
        self, max_digits: int, decimal_places: int, rounded: bool = False
    ) -> Adapter | None:
        """Return how a ``Decimal`` of a ``NUMERIC(max_digits, decimal_places)`` is sent.

        ``rounded``: the values are written and already rounded to ``decimal_places``.
        """
        return None

    def decimal_converter(self) -> Converter | None:
        """Return how a stored decimal becomes ``Decimal``."""
        return None

    # -- values this backend cannot store exactly (writes refuse them) ---------------------
    def date_range(self) -> tuple[Any, Any] | None:
        """Return the inclusive ``(first, last)`` date stored exactly (None: every date)."""
        return None

    def datetime_range(self) -> tuple[Any, Any] | None:
        """Return the inclusive ``(first, last)`` aware UTC datetime stored exactly, or None."""
        return None

    def range_note(self, internal_type: str) -> str:
        """Return why values outside this backend's range for ``internal_type`` are refused."""
        return "the backend cannot store it exactly"

    # -- text ------------------------------------------------------------------------------
    def as_text(self, expr: Any) -> Any:
        """Return ``expr`` as text where text functions and patterns need it to be."""
        return expr

    def concat(self, *parts: Any) -> Any:
        """Return the string concatenation of ``parts``."""
        result = parts[0]
        for part in parts[1:]:
            result = result.op("||")(part)
        return result

    def pattern_escape(self, text: str, case_sensitive: bool) -> str:
        """Return ``text`` with the pattern's wildcards escaped (matched literally)."""
        return like_escape(text)

    def pattern_wildcard(self, case_sensitive: bool) -> str:
        """Return the pattern's any-characters wildcard."""
        return "%"

    def pattern_match(self, lhs: Any, pattern: Any, case_sensitive: bool) -> Any:
        """Return ``lhs`` matches ``pattern`` (built with the two methods above)."""
        if case_sensitive:
            return lhs.like(pattern, escape="\\")
        return sa.func.lower(lhs).like(sa.func.lower(pattern), escape="\\")

    def regex_value(self, regex: str, case_sensitive: bool) -> str:
        """Return the regular expression as the backend's operator expects it."""
        return regex

    def regex_match(self, lhs: Any, rhs: Any, case_sensitive: bool) -> Any:
        """Return ``lhs`` matches the regular expression ``rhs`` (from :meth:`regex_value`)."""
        return lhs.op("REGEXP", is_comparison=True)(rhs)

    def lower(self, expr: Any) -> Any:
        """Return ``expr`` in lower case (``Lower``), with Unicode case mapping."""
        return sa.func.lower(expr)

    def upper(self, expr: Any) -> Any:
        """Return ``expr`` in upper case (``Upper``), with Unicode case mapping."""
        return sa.func.upper(expr)

    def char_length(self, expr: Any) -> Any:
        """Return the number of characters (not bytes) of ``expr`` (``Length``)."""
        return sa.func.char_length(expr)

    # -- functions -------------------------------------------------------------------------
    def cast(self, expr: Any, field: Any) -> Any:
        """Return ``CAST(expr AS <field's column type>)`` (``Cast``)."""
        return sa.cast(expr, field.sa_type(self))

    def now(self) -> Any:
        """Return the current date-time in UTC, as a date-time column holds it (``Now``)."""
        return sa.func.current_timestamp(type_=sa.DateTime(timezone=True))

    def greatest(self, args: Sequence[Any]) -> Any:
        """Return the largest of ``args``, NULL when any of them is NULL (``Greatest``).

        The default is for servers whose ``GREATEST`` skips NULLs (PostgreSQL).
        """
        return self._null_if_any_null(args, sa.func.greatest(*args))

    def least(self, args: Sequence[Any]) -> Any:
        """Return the smallest of ``args``, NULL when any of them is NULL (``Least``)."""
        return self._null_if_any_null(args, sa.func.least(*args))

    @staticmethod
    def _null_if_any_null(args: Sequence[Any], expr: Any) -> Any:
        return sa.case((sa.or_(*[arg.is_(None) for arg in args]), sa.null()), else_=expr)

    # -- numbers ---------------------------------------------------------------------------
    def divide(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs / rhs``: integer division when both sides are integers (as in Django).

        SQLAlchemy 2 turns ``/`` between integers into a float division; a custom
        operator keeps the database's meaning.
        """
        return divide(lhs, rhs)

    def float_aggregate_source(self, expr: Any) -> Any:
        """Return the argument of a floating-point aggregate (``AVG``, ``STDDEV`` ...)."""
        return expr

    def numeric_value_sql(self, sql: str) -> str:
        """Return SQL ordering the decimal ``sql`` numerically (``NumericValue``)."""
        return sql

    # -- dates and times -------------------------------------------------------------------
    def extract(self, part: str, expr: Any) -> Any:
        """Return one integer part of a date or date-time, in UTC.

        ``part``: year month day hour minute second quarter week (ISO) iso_year
        week_day (1 = Sunday) iso_week_day (1 = Monday).
        """
        if part not in _SIMPLE_EXTRACT:
            raise NotSupportedError(f"{self.display_name} cannot extract {part!r} from a date")
        return sa.cast(sa.extract(part, expr), sa.Integer)

    def cast_date(self, expr: Any) -> Any:
        """Return the date part of a date-time."""
        return sa.func.date(expr)

    def cast_time(self, expr: Any) -> Any:
        """Return the time of day of a date-time (UTC)."""
        return sa.cast(expr, sa.Time)

    def truncate(self, kind: str, expr: Any, output: str) -> Any:
        """Return ``expr`` truncated to ``kind`` (TRUNC_KINDS) as a ``"date"`` or ``"datetime"``.

        Weeks start on Monday (ISO); quarters on January, April, July, October.
        """
        raise NotSupportedError(f"{self.display_name} cannot truncate dates to {kind!r}")

    # -- JSON ------------------------------------------------------------------------------
    json_path = staticmethod(json_path)

    def json_key(self, doc: Any, keys: Sequence[str], const: BindConst) -> Any:
        """Return the JSON value at ``keys`` in the document ``doc``."""
        return sa.func.json_extract(doc, const(self.json_path(keys)))

    def json_key_value(self, doc: Any, keys: Sequence[str], built: Any, const: BindConst) -> Any:
        """Return what ``values()`` selects for a key (``built``: :meth:`json_key`)."""
        return built

    def json_key_text(self, doc: Any, keys: Sequence[str], const: BindConst) -> Any:
        """Return the value at ``keys`` as text (strings unquoted)."""
        return sa.func.json_extract(doc, const(self.json_path(keys)), type_=sa.Text)

    def json_equal(self, lhs: Any, rhs: Any, const: BindConst) -> Any:
        """Return the JSON value ``lhs`` equals the JSON text ``rhs``."""
        return lhs == sa.func.json_extract(rhs, const("$"))

    def json_document_equal(self, lhs: Any, rhs: Any, const: BindConst) -> Any:
        """Return the JSON column ``lhs`` equals the JSON text ``rhs``."""
        return self.json_equal(lhs, rhs, const)

    def json_key_is_json_null(
        self, doc: Any, keys: Sequence[str], built: Any, const: BindConst
    ) -> Any:
        """Return the key exists and holds JSON ``null``."""
        return self.json_equal(built, const("null"), const)

    def json_key_or_null(self, doc: Any, keys: Sequence[str], built: Any, const: BindConst) -> Any:
        """Return an expression that is SQL NULL exactly when the key is missing."""
        return built

    def json_compare_adapter(self, json_adapter: Adapter | None) -> Adapter | None:
        """Return the adapter of a value compared (``<`` ...) with a key's value.

        None sends the value as it is; a backend comparing JSON to JSON returns
        ``json_adapter`` (the column's JSON encoder).
        """
        return None

    def json_key_order(self, built: Any) -> list[Any]:
        """Return the ORDER BY expressions sorting by a key's value (``built``: ``json_key``)."""
        return [built]

    def json_compare_rhs(self, rhs: Any) -> Any:
        """Return the right-hand side of a comparison with a key's value."""
        return rhs

    def json_contains(self, lhs: Any, rhs: Any) -> Any:
        """Return the JSON document ``lhs`` contains the JSON text ``rhs``."""
        raise self._no_json_containment("contains")

    def json_contained_by(self, lhs: Any, rhs: Any) -> Any:
        """Return the JSON document ``lhs`` is contained in the JSON text ``rhs``."""
        raise self._no_json_containment("contained_by")

    def _no_json_containment(self, lookup: str) -> NotSupportedError:
        return NotSupportedError(
            f"the JSON {lookup!r} lookup is not supported on {self.display_name}; "
            "use has_key or key paths (data__key=value) instead"
        )

    def json_has_key_param(self, prefix: Sequence[str], key: str) -> Any:
        """Return the parameter :meth:`json_has_key` takes for ``key`` under ``prefix``."""
        return self.json_path((*prefix, key))

    def json_has_key(self, lhs: Any, doc: Any, key: Any, const: BindConst) -> Any:
        """Return the key exists; ``lhs`` is the value at the prefix, ``doc`` the column."""
        raise NotSupportedError(f"JSON key lookups are not supported on {self.display_name}")

    # -- arrays (reinhardt_db.contrib.postgres.ArrayField) -------------------------------------
    def check_array_support(self, label: str) -> None:
        """Raise ``NotSupportedError`` naming field ``label`` unless this backend has arrays.

        The one check behind every ArrayField path (its DDL, reads, writes,
        lookups and transforms), reading ``features.supports_array_fields``:
        the vendor's default, as arrays do not depend on the server version.
        """
        # Imported here: vendors imports this module.
        from reinhardt_db.backends.vendors import features_for

        if not features_for(self.vendor).supports_array_fields:
            raise NotSupportedError(
                f"{label}: ArrayField needs PostgreSQL; {self.display_name} has no array "
                "columns. Use a JSONField to store a list on every backend."
            )

    def array_contains(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs`` holds every element of the array ``rhs`` (``@>``)."""
        raise self._no_arrays()

    def array_contained_by(self, lhs: Any, rhs: Any) -> Any:
        """Return every element of ``lhs`` is in the array ``rhs`` (``<@``)."""
        raise self._no_arrays()

    def array_overlap(self, lhs: Any, rhs: Any) -> Any:
        """Return ``lhs`` and the array ``rhs`` share an element (``&&``)."""
        raise self._no_arrays()

    def array_length(self, expr: Any) -> Any:
        """Return the length of the array ``expr``'s first dimension (0 when empty)."""
        raise self._no_arrays()

    def array_index(self, expr: Any, array_type: Any, index: Any) -> Any:
        """Return element ``index`` (1-based, a bound parameter) of ``expr``."""
        raise self._no_arrays()

    def array_slice(self, expr: Any, array_type: Any, start: Any, stop: Any) -> Any:
        """Return elements ``start`` to ``stop`` (1-based, inclusive) of ``expr``."""
        raise self._no_arrays()

    def _no_arrays(self) -> NotSupportedError:
        return NotSupportedError(
            f"ArrayField needs PostgreSQL; {self.display_name} has no array columns. "
            "Use a JSONField to store a list on every backend."
        )

    # -- UPDATE ----------------------------------------------------------------------------
    def checked_assignment(
        self,
        expr: Any,
        bounds: tuple[Any, Any] | None = None,
        max_length: int | None = None,
        decimal_places: int | None = None,
    ) -> Any:
        """Return the value ``UPDATE ... SET col = expr`` assigns when the server computes it.

        ``bounds`` (inclusive), ``max_length`` and ``decimal_places`` describe the
        column. A server that refuses an out-of-range result itself (with a data
        error) needs nothing: the default returns ``expr``.
        """
        return expr

    # -- long IN lists ---------------------------------------------------------------------
    def in_list(self, lhs: Any, param: Any) -> Any:
        """Return ``lhs IN`` a whole list bound as the one parameter ``param``.

        The query layer uses it when a statement would bind more parameters than
        ``features.max_query_params``; :meth:`in_list_param` builds the value.
        """
        raise NotSupportedError(
            f"{self.display_name} cannot bind an 'in' list as one parameter; "
            "split the list into several queries"
        )

    def in_list_param(self, items: list[Any]) -> Any:
        """Return the one parameter :meth:`in_list` binds for ``items`` (already adapted)."""
        return items

    # -- SELECT ----------------------------------------------------------------------------
    def random(self) -> Any:
        """Return the random ordering term (``order_by("?")``)."""
        return sa.func.random()

    def distinct_on(self, stmt: Any, exprs: Sequence[Any]) -> Any:
        """Return ``stmt`` as ``SELECT DISTINCT ON (exprs)``."""
        raise NotSupportedError(
            f"distinct(*fields) (DISTINCT ON) is not supported on {self.display_name}; "
            "it is only available on PostgreSQL. Use distinct() without fields."
        )

    # -- INSERT ----------------------------------------------------------------------------
    def insert(self, table: Any) -> Any:
        """Return an INSERT construct with this backend's conflict clauses."""
        return sa.insert(table)

    def insert_ignore(self, stmt: Any) -> Any:
        """Return ``stmt`` skipping rows that conflict with a unique key."""
        return stmt.on_conflict_do_nothing()

    def upsert(
        self, stmt: Any, table: Any, update_columns: Sequence[str], unique_columns: Sequence[str]
    ) -> Any:
        """Return ``stmt`` updating ``update_columns`` of the row it conflicts with."""
        return stmt.on_conflict_do_update(
            index_elements=[table.c[name] for name in unique_columns],
            set_={name: stmt.excluded[name] for name in update_columns},
        )

    def bulk_insert_sql(self, sql: str, rows: int, width: int) -> str:
        """Widen a compiled one-row INSERT of ``width`` parameters to ``rows`` rows.

        Compiling an N-row INSERT costs ~0.1 ms per row; repeating the ``VALUES``
        group of the one-row statement costs nothing like it.
        """
        start, end = _values_group(sql)
        groups = self.repeat_values_group(sql[start:end], rows, width)
        return sql[:start] + ", ".join(groups) + sql[end:]

    def bulk_insert_select(self, params: Sequence[Any], columns: Sequence[Any]) -> Any | None:
        """Return a SELECT of the rows held in one array parameter per column, or None.

        ``params[i]`` is the bound parameter carrying the values of
        ``columns[i]`` (a table column) as a list; ``INSERT ... SELECT`` takes the
        rows in order. None when the backend cannot (the caller falls back to
        multi-row ``VALUES``); asked only where
        ``features.supports_bulk_insert_from_arrays``.
        """
        return None

    def repeat_values_group(self, group: str, rows: int, width: int) -> list[str]:
        """Return the ``VALUES`` group of each row (positional placeholders repeat as is)."""
        return [group] * rows

    async def bulk_insert_ids(
        self, lastrowid: int, rows: int, fetch_row: Callable[[str], Awaitable[Any]]
    ) -> range | None:
        """Return the ids an INSERT of ``rows`` rows without RETURNING gave, or None.

        ``lastrowid`` is what the driver reported; ``fetch_row(sql)`` may ask the
        server how it assigns ids.
        """
        return range(lastrowid, lastrowid + 1) if rows == 1 else None

    # -- transactions ----------------------------------------------------------------------
    def begin_transaction_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        """Return the statements that open a transaction (``atomic()``'s outermost block).

        ``isolation`` is one of ``ISOLATION_LEVELS`` (checked by the caller) or None
        for the server's default.
        """
        mode = []
        if isolation:
            mode.append(f"ISOLATION LEVEL {isolation.upper()}")
        if read_only:
            mode.append("READ ONLY")
        return ["BEGIN " + ", ".join(mode) if mode else "BEGIN"]

    def end_transaction_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        """Return the statements that undo, after COMMIT or ROLLBACK, what the BEGIN set.

        Most servers scope the transaction's mode to the transaction itself: nothing.
        """
        return []

    def commit_sql(self) -> str:
        """Return the statement that commits the open transaction."""
        return "COMMIT"

    def rollback_sql(self) -> str:
        """Return the statement that rolls back the open transaction."""
        return "ROLLBACK"

    # Two-phase commit (``transaction.two_phase``). ``xid`` is the global id,
    # ``branch`` tells this database's part apart (the database name): some servers
    # keep prepared transactions per server, not per database.
    def tpc_begin_sql(self, xid: str, branch: str) -> list[str]:
        """Return the statements that open this database's part of a two-phase transaction."""
        raise self._no_two_phase()

    def tpc_prepare_sql(self, xid: str, branch: str) -> list[str]:
        """Return the statements that prepare it (first phase): it survives a crash from now on."""
        raise self._no_two_phase()

    def tpc_abort_sql(self, xid: str, branch: str) -> list[str]:
        """Return the statements that roll it back before it was prepared."""
        raise self._no_two_phase()

    def tpc_commit_prepared_sql(self, xid: str, branch: str) -> list[str]:
        """Return the statements that commit it once prepared (second phase), on any session."""
        raise self._no_two_phase()

    def tpc_rollback_prepared_sql(self, xid: str, branch: str) -> list[str]:
        """Return the statements that roll it back once prepared, on any session."""
        raise self._no_two_phase()

    def tpc_recover_sql(self) -> str:
        """Return the query listing the prepared transactions the server holds."""
        raise self._no_two_phase()

    def tpc_recovered_xids(self, rows: Sequence[Sequence[Any]], branch: str) -> list[str]:
        """Return the global ids of this database's prepared transactions, from those rows."""
        raise self._no_two_phase()

    def _no_two_phase(self) -> NotSupportedError:
        return NotSupportedError(
            f"{self.display_name} has no two-phase commit; transaction.two_phase() and "
            "recover_prepared() need PostgreSQL or MySQL/MariaDB databases"
        )

    def savepoint_create_sql(self, name: str) -> str:
        """Return the statement that opens savepoint ``name``."""
        return f"SAVEPOINT {name}"

    def savepoint_rollback_sql(self, name: str) -> str:
        """Return the statement that rolls back to savepoint ``name``."""
        return f"ROLLBACK TO SAVEPOINT {name}"

    def savepoint_commit_sql(self, name: str) -> str:
        """Return the statement that releases savepoint ``name``."""
        return f"RELEASE SAVEPOINT {name}"

    # -- EXPLAIN ---------------------------------------------------------------------------
    def explain_prefix(
        self, analyze: bool, features: DatabaseFeatures, format: str | None = None
    ) -> str:
        """Return what precedes a SELECT to show its plan.

        ``format`` is one of ``features.supported_explain_formats`` (any case);
        another raises ``NotSupportedError`` naming the formats there are.
        """
        name = self.explain_format(features, format)
        options = (["ANALYZE"] if analyze else []) + ([f"FORMAT {name}"] if name else [])
        return f"EXPLAIN ({', '.join(options)}) " if options else "EXPLAIN "

    def explain_format(self, features: DatabaseFeatures, format: str | None) -> str | None:
        """Check ``format`` against what the server takes; return it upper case (or None)."""
        if format is None:
            return None
        name = str(format).upper()
        allowed = features.supported_explain_formats
        if name not in allowed:
            formats = ", ".join(sorted(allowed)) or "none, only the default text plan"
            raise NotSupportedError(
                f"explain(format={format!r}) is not supported on {self.display_name}; "
                f"formats there: {formats}"
            )
        return name

    def explain_text(self, rows: Sequence[Sequence[Any]]) -> str:
        """Return the plan rows as text."""
        return "\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)

