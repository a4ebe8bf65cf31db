"""What MySQL and MariaDB can do: defaults, and what a given server version supports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reinhardt_db.backends.base.features import DatabaseFeatures, parse_version

__all__ = ["FEATURES", "initialize_dialect", "server_features"]

#: Before the first connect: what both MySQL 8.0.13+ and MariaDB 10.5+ support.
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
    supports_slicing_in_subqueries=False,
    supports_window_functions=True,
    supports_select_for_update_nowait=True,
    supports_expression_defaults=True,
    supports_alter_table_constraints=True,
    # PyMySQL interpolates parameters into the SQL text on the client.
    server_side_parameters=False,
    text_equality_is_exact=False,
)


def server_features(version: str) -> DatabaseFeatures:
    """Return what the server reporting ``version`` (``SELECT VERSION()``) supports.

    MariaDB reports e.g. ``10.11.6-MariaDB-1`` (older clients see it behind a
    ``5.5.5-`` prefix); anything else is MySQL.
    """
    if "mariadb" in version.lower():
        return _mariadb(parse_version(version.removeprefix("5.5.5-")))
    return _mysql(parse_version(version))


def _mysql(v: tuple[int, ...]) -> DatabaseFeatures:
    return replace(
        FEATURES,
        server_version=v,
        is_mariadb=False,
        supports_intersect_except=v >= (8, 0, 31),
        supports_intersect_except_all=v >= (8, 0, 31),
        supported_explain_formats=frozenset({"TRADITIONAL", "JSON", "TREE"}),
        supports_window_functions=v >= (8, 0, 2),
        supports_select_for_update_nowait=v >= (8, 0, 1),
        supports_select_for_update_skip_locked=v >= (8, 0, 1),
        supports_select_for_update_of=v >= (8, 0, 1),
        supports_json_operators=v >= (5, 7, 13),
        supports_expression_defaults=v >= (8, 0, 13),
    )


def _mariadb(v: tuple[int, ...]) -> DatabaseFeatures:
    # MariaDB has INSERT ... RETURNING (10.5) and DELETE ... RETURNING (10.0.5)
    # but no UPDATE ... RETURNING, and JSON functions without the -> operators.
    return replace(
        FEATURES,
        server_version=v,
        is_mariadb=True,
        supports_lag_lead_default=False,
        supports_insert_returning=v >= (10, 5),
        supports_delete_returning=v >= (10, 0, 5),
        supports_intersect_except=v >= (10, 3),
        supports_intersect_except_all=v >= (10, 5),
        supported_explain_formats=frozenset({"JSON"}),
        supports_window_functions=v >= (10, 2),
        supports_select_for_update_nowait=v >= (10, 3),
        supports_select_for_update_skip_locked=v >= (10, 6),
        supports_index_if_not_exists=v >= (10, 1, 4),
        supports_expression_defaults=v >= (10, 2, 1),
    )


def initialize_dialect(dialect: Any, features: DatabaseFeatures) -> None:
    """Give ``dialect`` the server's version and flavour, as ``MySQLDialect.initialize()`` would.

    ``initialize()`` needs a synchronous connection; what it derives from the
    version does not (SQLAlchemy 2.1, ``dialects/mysql/base.py`` and
    ``_mariadb_shim.py``): ``_set_mariadb`` switches to MariaDB's reserved words
    and RETURNING, and ``_initialize_mysql``/``_initialize_mariadb`` set the
    version-dependent flags without using their connection argument. The
    session's ``sql_mode`` is ours (no ANSI_QUOTES, backslash escapes on), which
    are the dialect's defaults.
    """
    version = features.server_version
    dialect.server_version_info = version
    dialect._set_mariadb(features.is_mariadb, version)
    dialect._dispatch_for_vendor(dialect._initialize_mysql, dialect._initialize_mariadb, None)
