"""Session reset on SQLite: what a pooled connection's next user must not inherit.

A connection's own state is its open transaction, attached databases,
``temp`` schema objects and per-connection PRAGMAs. The reset rolls back,
detaches, drops the temp objects, puts the PRAGMAs a user can change back to
the library's defaults and then reapplies our set-up (foreign keys, busy
timeout, WAL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import cache

__all__ = ["reset_session"]

# Per-connection PRAGMAs a user can set; journal_mode is kept in the database
# file, not the session, and the set-up puts it back anyway.
_SESSION_PRAGMAS = (
    "automatic_index",
    "cache_size",
    "cache_spill",
    "cell_size_check",
    "defer_foreign_keys",
    "foreign_keys",
    "ignore_check_constraints",
    "legacy_alter_table",
    "locking_mode",
    "query_only",
    "recursive_triggers",
    "reverse_unordered_selects",
    "secure_delete",
    "synchronous",
    "temp_store",
    "trusted_schema",
)


@cache
def _default_pragmas() -> tuple[tuple[str, object], ...]:
    """The library's default for each session PRAGMA, read from a fresh connection."""
    probe = sqlite3.connect(":memory:")
    try:
        defaults = []
        for name in _SESSION_PRAGMAS:
            row = probe.execute(f"PRAGMA {name}").fetchone()
            if row is not None:
                defaults.append((name, row[0]))
        return tuple(defaults)
    finally:
        probe.close()


def reset_session(
    conn: sqlite3.Connection, setup: Callable[[sqlite3.Connection, bool], None], on_disk: bool
) -> None:
    """Clear what a borrower left on ``conn``, then run ``setup(conn, on_disk)`` again.

    Runs on the connection's own thread (one aiosqlite hop).
    """
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    # PRAGMAs first: query_only = ON would refuse the DROPs below.
    for name, value in _default_pragmas():
        conn.execute(f"PRAGMA {name} = {value}")
    conn.execute("PRAGMA case_sensitive_like = OFF")  # write-only: no default to read
    for _seq, name, _file in conn.execute("PRAGMA database_list").fetchall():
        if name not in ("main", "temp"):
            conn.execute(f'DETACH DATABASE "{name}"')
    temp_objects = conn.execute(
        "SELECT type, name FROM temp.sqlite_master "
        "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for kind, name in temp_objects:
        quoted = name.replace('"', '""')
        conn.execute(f'DROP {kind.upper()} IF EXISTS temp."{quoted}"')
    setup(conn, on_disk)
