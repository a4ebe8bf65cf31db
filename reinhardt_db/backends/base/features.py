"""What each backend can and cannot do, for the layers above to ask."""

from __future__ import annotations

import re
from dataclasses import KW_ONLY, dataclass

__all__ = ["DatabaseFeatures", "parse_version"]


@dataclass(frozen=True, slots=True)
class DatabaseFeatures:
    """Capabilities of one database; the query and migration layers branch on these.

    ``db.features`` starts as the vendor's defaults (``<vendor>/features.py``
    ``FEATURES``) and becomes what the server really supports once the first
    connection is open (``<vendor>/features.py`` ``server_features``).
    """

    vendor: str
    max_query_params: int
    can_return_rows_from_bulk_insert: bool
    supports_server_side_cursors: bool
    supports_select_for_update: bool
    supports_ignore_conflicts: bool
    supports_update_conflicts: bool
    supports_update_conflicts_with_target: bool
    supports_transactional_ddl: bool
    has_native_uuid: bool
    has_native_json: bool
    has_native_datetime_tz: bool
    supports_two_phase_commit: bool

    # -- Server facts, read at first connect ------------------------------------------
    # Keyword-only with defaults, so that flags added after this block (with or
    # without defaults) keep the dataclass valid. The defaults describe a server
    # not asked yet: ``server_version == ()``.
    _: KW_ONLY
    #: The server's version as integers, e.g. ``(15, 20)``; ``()`` until connected.
    server_version: tuple[int, ...] = ()
    #: True on MariaDB (the ``mysql`` vendor covers MySQL and MariaDB).
    is_mariadb: bool = False
    supports_insert_returning: bool = False
    supports_update_returning: bool = False
    supports_delete_returning: bool = False
    #: ``INTERSECT`` and ``EXCEPT`` compound queries.
    supports_intersect_except: bool = False
    #: ``INTERSECT ALL`` and ``EXCEPT ALL`` (duplicates kept).
    supports_intersect_except_all: bool = False
    #: ``explain(format=...)`` names the server takes (upper case); empty: text only.
    supported_explain_formats: frozenset[str] = frozenset()
    supports_window_functions: bool = False
    #: ``SELECT DISTINCT ON (...)`` (PostgreSQL only).
    supports_distinct_on: bool = False
    supports_select_for_update_nowait: bool = False
    supports_select_for_update_skip_locked: bool = False
    supports_select_for_update_of: bool = False
    #: The ``->`` / ``->>`` JSON operators (MariaDB has only the JSON functions).
    supports_json_operators: bool = False
    #: ``CREATE INDEX ... WHERE`` (partial indexes, conditional unique constraints).
    supports_partial_indexes: bool = False
    #: ``CREATE INDEX IF NOT EXISTS``.
    supports_index_if_not_exists: bool = False
    #: ``DEFAULT (expression)``, which MySQL needs for TEXT, BLOB and JSON columns.
    supports_expression_defaults: bool = False
    #: ``ALTER TABLE ... ADD/DROP CONSTRAINT`` (SQLite must rebuild the table).
    supports_alter_table_constraints: bool = False
    #: ``DEFERRABLE INITIALLY DEFERRED`` foreign keys.
    can_defer_constraint_checks: bool = False

    # -- asked by the query layer (models/) instead of a vendor name ------------------------
    #: ``NULLS FIRST`` / ``NULLS LAST`` in ORDER BY (else emulated with an IS NULL term).
    supports_order_by_nulls_modifier: bool = True
    #: Without ``NULLS FIRST/LAST`` NULLs sort as larger than every value (ascending
    #: puts them last); False where they sort as smaller (Django's flag of that name).
    #: Keyset pagination needs it to tell which side of a cursor NULL rows are on.
    nulls_order_largest: bool = False
    #: ``LAG(x, n, default)``/``LEAD(x, n, default)`` (MariaDB takes no default:
    #: the window emulates it with ``ROW_NUMBER()``).
    supports_lag_lead_default: bool = True
    #: ``aggregate(...) FILTER (WHERE ...)`` (else ``CASE WHEN ... END`` inside it).
    supports_aggregate_filter_clause: bool = False
    #: ``STDDEV_POP``/``STDDEV_SAMP``/``VAR_POP``/``VAR_SAMP`` aggregates.
    supports_statistical_aggregates: bool = True
    #: The server binds the parameters, so a statement may hold at most
    #: ``max_query_params`` of them; beyond it a long ``in`` list is sent as one
    #: parameter (``ops.in_list``). False where the driver interpolates on the
    #: client (PyMySQL): any number of placeholders works.
    server_side_parameters: bool = True
    #: ``bulk_create`` sends one array per column (``INSERT ... SELECT * FROM
    #: unnest(...)``, ``ops.bulk_insert_select``): one short statement whatever the
    #: number of rows, no parameter limit.
    supports_bulk_insert_from_arrays: bool = False
    #: The rows of one multi-row INSERT get consecutive auto ids (the statement
    #: holds the database's write lock), so ``bulk_create`` computes them from the
    #: last insert id (``ops.bulk_insert_ids``) instead of reading them back.
    bulk_insert_ids_are_consecutive: bool = False
    #: ``LIMIT`` inside ``IN (SELECT ...)`` (MySQL/MariaDB: wrapped in a derived table).
    supports_slicing_in_subqueries: bool = True
    #: Text the database compares equal is equal in Python too. False on MySQL and
    #: MariaDB, whose default collations ignore case and trailing spaces ('FR' =
    #: 'fr '): prefetch then asks the database which row a text foreign key joins
    #: when Python finds none (``models/prefetch.py``).
    text_equality_is_exact: bool = True
    #: Array columns (``reinhardt_db.contrib.postgres.ArrayField``): PostgreSQL
    #: only. Elsewhere ``ops.check_array_support`` refuses the field's DDL,
    #: reads, writes and lookups with ``NotSupportedError``.
    supports_array_fields: bool = False


_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, ...]:
    """Return the first ``major[.minor[.patch]]`` in ``text`` as integers (``()`` if none)."""
    match = _VERSION.search(text)
    if match is None:
        return ()
    return tuple(int(part) for part in match.groups() if part is not None)
