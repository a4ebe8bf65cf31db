"""What MySQL can do (defaults before the server is asked)."""

from __future__ import annotations

from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["FEATURES"]

FEATURES = DatabaseFeatures(
    vendor="mysql",
    max_query_params=65535,
    can_return_rows_from_bulk_insert=False,
    supports_server_side_cursors=True,
    supports_select_for_update=True,
    supports_ignore_conflicts=True,
    supports_update_conflicts=True,
    supports_update_conflicts_with_target=False,
    supports_transactional_ddl=False,
    has_native_uuid=False,
    has_native_json=True,
    has_native_datetime_tz=False,
    supports_two_phase_commit=True,
    # query layer
    supports_order_by_nulls_modifier=False,
    # PyMySQL interpolates parameters into the SQL text on the client.
    server_side_parameters=False,
)
