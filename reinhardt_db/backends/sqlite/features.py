"""What SQLite can do: defaults, and what a given library version supports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reinhardt_db.backends.base.features import DatabaseFeatures, parse_version

__all__ = ["FEATURES", "initialize_dialect", "server_features"]

#: Before the first connect: what SQLite 3.35 and later support.
FEATURES = DatabaseFeatures(
    vendor="sqlite",
    max_query_params=32766,
    can_return_rows_from_bulk_insert=True,
    supports_server_side_cursors=False,
    supports_select_for_update=False,
    supports_ignore_conflicts=True,
    supports_update_conflicts=True,
    supports_update_conflicts_with_target=True,
    supports_transactional_ddl=True,
    has_native_uuid=False,
    has_native_json=False,
    has_native_datetime_tz=False,
    supports_two_phase_commit=False,
    # query layer
    # STDDEV_POP ... are registered on each connection (driver._STATISTICS).
    supports_aggregate_filter_clause=True,
    supports_insert_returning=True,
    supports_update_returning=True,
    supports_delete_returning=True,
    supports_intersect_except=True,
    supports_window_functions=True,
    supports_partial_indexes=True,
    supports_index_if_not_exists=True,
    supports_expression_defaults=True,
    can_defer_constraint_checks=True,
    bulk_insert_ids_are_consecutive=True,
)


def server_features(version: str) -> DatabaseFeatures:
    """Return what the SQLite library reporting ``version`` supports."""
    number = parse_version(version)
    returning = number >= (3, 35)
    upsert = number >= (3, 24)
    return replace(
        FEATURES,
        server_version=number,
        # SQLITE_MAX_VARIABLE_NUMBER's default rose from 999 in 3.32.
        max_query_params=32766 if number >= (3, 32) else 999,
        can_return_rows_from_bulk_insert=returning,
        supports_insert_returning=returning,
        supports_update_returning=returning,
        supports_delete_returning=returning,
        supports_update_conflicts=upsert,
        supports_update_conflicts_with_target=upsert,
        supports_window_functions=number >= (3, 25),
        supports_aggregate_filter_clause=number >= (3, 30),
        supports_json_operators=number >= (3, 38),
        supports_partial_indexes=number >= (3, 8),
    )


def initialize_dialect(dialect: Any, features: DatabaseFeatures) -> None:
    """Give ``dialect`` the library's version, as ``SQLiteDialect`` does with a DB-API module.

    Our dialect is made without one, so these settings (SQLAlchemy 2.1,
    ``dialects/sqlite/base.py``) keep the defaults of the newest SQLite otherwise.
    """
    version = features.server_version
    dialect.server_version_info = version
    returning = features.supports_insert_returning
    dialect.insert_returning = dialect.update_returning = dialect.delete_returning = returning
    if features.max_query_params < 32766:
        dialect.insertmanyvalues_max_parameters = features.max_query_params
