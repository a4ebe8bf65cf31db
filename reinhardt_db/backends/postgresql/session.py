"""Session reset on PostgreSQL: what a pooled connection's next user must not inherit."""

from __future__ import annotations

import asyncpg

__all__ = ["RESET_SESSION_SQL", "SessionResettingConnection"]

# Everything a borrower can leave on a session, undone in one round trip:
# DISCARD ALL without DEALLOCATE ALL (which would drop asyncpg's statement
# cache) and without its ban inside transaction blocks. RESET ALL leaves the
# role alone; SET SESSION AUTHORIZATION DEFAULT resets it (and the session
# user). Settings given at connect (TimeZone, application_name) are the
# session's defaults, so RESET ALL keeps them.
RESET_SESSION_SQL = """\
CLOSE ALL;
SELECT pg_advisory_unlock_all();
UNLISTEN *;
SET SESSION AUTHORIZATION DEFAULT;
RESET ALL;
DISCARD TEMP;
DISCARD SEQUENCES;"""


class SessionResettingConnection(asyncpg.Connection):
    """An asyncpg connection whose ``reset()`` also resets the role and drops temp tables.

    asyncpg's ``reset()`` rolls back, forgets ``add_listener`` callbacks and then
    sends ``get_reset_query()``; its own query keeps ``SET ROLE`` and temp tables.
    """

    def get_reset_query(self) -> str:
        """Return the statements ``reset()`` sends (after any ROLLBACK)."""
        return RESET_SESSION_SQL
