"""The demo `make demo` runs: the embedded SQLite default, through our own pool.

Run from this folder: it uses ./reinhardt.toml, so the database is ./journal.sqlite3.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import reinhardt_db
from reinhardt_db import connections


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


async def main() -> None:
    async with reinhardt_db.lifespan():
        await raw_tour()
        try:
            from models_tour import models_tour
        except ImportError:
            return
        await models_tour()


if __name__ == "__main__":
    asyncio.run(main())
