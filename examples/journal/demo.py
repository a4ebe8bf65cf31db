"""The demo `make demo` runs: a user's path on the embedded SQLite default.

Run from this folder: it uses ./reinhardt.toml, so the database is ./journal.sqlite3.
It starts from a fresh database, then runs what a user runs in a shell:
`reinhardt makemigrations` (the models in journal_app/models.py match the migration
files, so nothing new is written), `reinhardt showmigrations`, `reinhardt migrate`;
then queries, raw and through the models, in Python.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import reinhardt_db
from reinhardt_db import connections

DATABASE = Path("journal.sqlite3")


def fresh_database() -> None:
    for path in (DATABASE, *(Path(f"{DATABASE}{s}") for s in ("-wal", "-shm", ".migrate-lock"))):
        path.unlink(missing_ok=True)


def reinhardt(*args: str) -> None:
    """Run the `reinhardt` command line as a user would, showing the command and its output."""
    print(f"$ reinhardt {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "reinhardt_db", *args], check=True)


async def raw_tour() -> None:
    db = connections["default"]
    print(f"database 'default': {db.vendor} {await db.server_version()} ({db.settings.parsed})")
    await db.execute("DROP TABLE IF EXISTS journal_raw")
    await db.execute(
        "CREATE TABLE journal_raw (id INTEGER PRIMARY KEY, at TEXT NOT NULL, "
        "level SMALLINT NOT NULL, text VARCHAR(255) NOT NULL)"
    )
    now = dt.datetime.now(dt.UTC)
    rows = [(now.isoformat(), i % 5, f"entry {i}") for i in range(1, 101)]
    await db.executemany("INSERT INTO journal_raw (at, level, text) VALUES (%s, %s, %s)", rows)

    # Twenty concurrent readers share the pool; none of them waits for a connection long.
    async def count_level(level: int) -> int:
        return int(await db.fetch_val("SELECT count(*) FROM journal_raw WHERE level = %s", [level]))

    counts = await asyncio.gather(*(count_level(i % 5) for i in range(20)))
    print(f"rows per level (20 concurrent queries): {sorted(set(counts))}")
    for row in await db.fetch_all(
        "SELECT id, level, text FROM journal_raw WHERE text LIKE %s ORDER BY id LIMIT 3", ["entry 1%"]
    ):
        print(f"  #{row['id']} level={row['level']} {row['text']!r}")
    stats = db.pool.stats()
    print(
        f"pool stats: size={stats.size} idle={stats.idle} in_use={stats.in_use} "
        f"acquires={stats.acquires} created={stats.connections_created}"
    )


async def queries() -> None:
    from models_tour import models_tour

    async with reinhardt_db.lifespan():
        await raw_tour()
        await models_tour()


def main() -> None:
    fresh_database()
    reinhardt("makemigrations")
    reinhardt("showmigrations")
    reinhardt("migrate")
    print("\n-- queries --")
    asyncio.run(queries())


if __name__ == "__main__":
    main()
