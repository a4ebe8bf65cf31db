"""What PostgreSQL can do: defaults, and what a given server version supports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reinhardt_db.backends.base.features import DatabaseFeatures, parse_version

__all__ = ["FEATURES", "initialize_dialect", "server_features"]

#: Before the first connect: what every PostgreSQL from 10 on supports.
FEATURES = DatabaseFeatures(
    vendor="postgresql",
    max_query_params=32767,
    can_return_rows_from_bulk_insert=True,
    supports_server_side_cursors=True,
    supports_select_for_update=True,
    supports_ignore_conflicts=True,
    supports_update_conflicts=True,
    supports_update_conflicts_with_target=True,
    supports_transactional_ddl=True,
    has_native_uuid=True,
    has_native_json=True,
    has_native_datetime_tz=True,
    supports_two_phase_commit=True,
    supports_insert_returning=True,
    supports_update_returning=True,
    supports_delete_returning=True,
    supports_intersect_except=True,
    supports_intersect_except_all=True,
    supported_explain_formats=frozenset({"TEXT", "JSON", "XML", "YAML"}),
    supports_window_functions=True,
    supports_distinct_on=True,
    supports_select_for_update_nowait=True,
    supports_select_for_update_skip_locked=True,
    supports_select_for_update_of=True,
    supports_json_operators=True,
    supports_partial_indexes=True,
    supports_index_if_not_exists=True,
    supports_expression_defaults=True,
    supports_alter_table_constraints=True,
    can_defer_constraint_checks=True,
    # query layer
    supports_bulk_insert_from_arrays=True,
    nulls_order_largest=True,
    supports_aggregate_filter_clause=True,
    supports_array_fields=True,
)


def server_features(version: str) -> DatabaseFeatures:
    """Return what the server reporting ``version`` (``SHOW server_version``) supports."""
    number = parse_version(version)
    # 9.5 brought ON CONFLICT, SKIP LOCKED and CREATE INDEX IF NOT EXISTS.
    modern = number >= (9, 5)
    return replace(
        FEATURES,
        server_version=number,
        supports_ignore_conflicts=modern,
        supports_update_conflicts=modern,
        supports_update_conflicts_with_target=modern,
        supports_select_for_update_skip_locked=modern,
        supports_index_if_not_exists=modern,
    )


def initialize_dialect(dialect: Any, features: DatabaseFeatures) -> None:
    """Give ``dialect`` the server's version, as ``PGDialect.initialize()`` would.

    ``initialize()`` needs a synchronous connection; these are the settings it
    derives from the version (SQLAlchemy 2.1, ``dialects/postgresql/base.py``).
    """
    version = features.server_version
    dialect.server_version_info = version
    dialect.supports_smallserial = version >= (9, 2)
    dialect._supports_drop_index_concurrently = version >= (9, 2)
    dialect.supports_identity_columns = version >= (10,)
    dialect._supports_jsonb_subscripting = version >= (14,)
    dialect.supports_virtual_generated_columns = version >= (18,)
