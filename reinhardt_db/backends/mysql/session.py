"""Session reset on MySQL/MariaDB: what a pooled connection's next user must not inherit."""

from __future__ import annotations

from typing import Any

__all__ = ["reset_session"]

# COM_RESET_CONNECTION (MySQL 5.7.3+, MariaDB 10.2.4+): rolls back, drops
# temporary tables and user variables, releases GET_LOCK() locks, closes
# prepared statements and sets session variables back to the global values.
# PyMySQL names the command byte COM_END; aiomysql has no public call for it.
_COM_RESET_CONNECTION = 0x1F


async def reset_session(conn: Any) -> None:
    """Clear everything a borrower left on the session, then redo our set-up.

    Two round trips: the reset, then one ``SET`` for the character set,
    autocommit and the connection's ``init_command`` (time zone, sql_mode),
    which the reset set back to the server's defaults.
    """
    await conn._execute_command(_COM_RESET_CONNECTION, b"")
    await conn._read_ok_packet()
    assignments = [f"NAMES {conn.charset}"]
    if conn.autocommit_mode is not None:
        assignments.append(f"autocommit = {int(bool(conn.autocommit_mode))}")
    init = conn.init_command
    if init and init[:4].upper() == "SET ":
        assignments.append(init[4:])
        init = None
    await conn.query("SET " + ", ".join(assignments))
    if init:
        await conn.query(init)
