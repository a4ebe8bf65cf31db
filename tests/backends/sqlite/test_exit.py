"""A script that never calls close_all() still exits, and leaves SQLite consistent.

Each test runs a script in a fresh interpreter; the subprocess timeout only
bounds a hang (before the fix such a script never exited at all).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

HANG = 60  # seconds: a bound on a hang, not a speed target

PRELUDE = """
import asyncio
import reinhardt_db
from reinhardt_db import connections

reinhardt_db.configure(databases={{"default": "sqlite:///{path}"}})
db = connections["default"]
"""


def run_script(path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = PRELUDE.format(path=path) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=HANG,
        cwd=path.parent,
    )


def read_back(path: Path) -> tuple[list[int], str]:
    conn = sqlite3.connect(path)
    try:
        rows = [x for (x,) in conn.execute("SELECT x FROM t ORDER BY x")]
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    return rows, check


def test_a_script_that_never_closes_exits(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    result = run_script(path, """
        async def main():
            await db.execute("CREATE TABLE t (x INTEGER)")
            await db.execute("INSERT INTO t (x) VALUES (%s)", [1])
            print(await db.fetch_val("SELECT count(*) FROM t"))

        asyncio.run(main())  # no close_all()
        print("returned")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "returned"]
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
    assert read_back(path) == ([1], "ok")
    # Closed at exit: the WAL was checkpointed into the database and removed.
    assert not (tmp_path / "app.db-wal").exists()


def test_committed_data_survives_exit_and_an_open_transaction_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    result = run_script(path, """
        async def main():
            await db.execute("CREATE TABLE t (x INTEGER)")
            await db.execute("INSERT INTO t (x) VALUES (1)")
            async with db.transaction():
                await db.execute("INSERT INTO t (x) VALUES (2)")
            # A transaction still open when the script ends: never committed.
            conn = await db.pool.acquire()
            await db.driver.begin(conn.raw)
            await db.driver.execute(conn.raw, "INSERT INTO t (x) VALUES (3)", ())
            # And a second connection, idle in the pool.
            async with db.connection():
                await asyncio.create_task(db.fetch_val("SELECT 1"))

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert read_back(path) == ([1, 2], "ok")


def test_a_statement_running_at_exit_does_not_hold_the_process(tmp_path: Path) -> None:
    """asyncio.run() cancels the task, but the worker thread is still writing."""
    path = tmp_path / "app.db"
    result = run_script(path, """
        BIG = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "

        async def main():
            await db.execute("CREATE TABLE t (x INTEGER)")
            await db.execute("INSERT INTO t (x) VALUES (0)")
            asyncio.get_running_loop().create_task(db.execute(BIG + "INSERT INTO t SELECT x FROM c"))
            await asyncio.sleep(0.05)  # the INSERT is running on the worker thread

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    rows, check = read_back(path)
    assert check == "ok"
    # The big INSERT is one transaction: all of it or none of it, never a part.
    assert len(rows) in (1, 3_000_001)
