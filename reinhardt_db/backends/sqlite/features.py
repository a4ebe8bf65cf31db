"""What SQLite can do (defaults before the server is asked)."""

from __future__ import annotations

from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["FEATURES"]

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
    supports_statistical_aggregates=False,
    bulk_insert_ids_are_consecutive=True,
)
