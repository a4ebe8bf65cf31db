"""What each backend can and cannot do, for the layers above to ask."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DatabaseFeatures"]


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

    # -- asked by the query layer (models/) instead of a vendor name ------------------------
    #: ``NULLS FIRST`` / ``NULLS LAST`` in ORDER BY (else emulated with an IS NULL term).
    supports_order_by_nulls_modifier: bool = True
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
