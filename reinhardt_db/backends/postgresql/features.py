"""What PostgreSQL can do (defaults before the server is asked)."""

from __future__ import annotations

from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["FEATURES"]

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
    # query layer
    supports_bulk_insert_from_arrays=True,
)
