"""A statement whose task was cancelled stops running on SQLite, instead of holding its thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import reinhardt_db
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings

# Long enough (tens of seconds) that only an interrupt ends it within the test.
LONG_SQL = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) "
    "SELECT count(*) FROM c"
)


def _workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def test_a_cancelled_statement_is_interrupted_when_its_connection_closes(
    tmp_path: Path,
) -> None:
    before = _workers()
    reinhardt_db.configure(databases={"default": f"sqlite:///{tmp_path}/cancel.sqlite3"})
    try:
        db = connections["default"]
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await db.fetch_all(LONG_SQL)
        # The cancelled statement's connection is closed (it is never reused):
        # closing interrupts the statement, so the pool closes without waiting
        # for it (the bound only keeps a regression from hanging the suite).
        async with asyncio.timeout(5):
            await reinhardt_db.close_all()
    finally:
        reset_settings()
    left = _workers() - before
    for thread in left:
        thread.join(timeout=5)
    assert not [t for t in left if t.is_alive()], "a worker thread is still running the statement"
