"""What each backend can and cannot do, for the layers above to ask."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FEATURES", "DatabaseFeatures"]


@dataclass(frozen=True, slots=True)
class DatabaseFeatures:
    """Capabilities of one vendor; the query and migration layers branch on these."""

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


FEATURES: dict[str, DatabaseFeatures] = {
    "sqlite": DatabaseFeatures(
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
    ),
    "postgresql": DatabaseFeatures(
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
    ),
    "mysql": DatabaseFeatures(
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
    ),
}
