"""Memory of ``iterator(chunk_size=2000)`` over 1,000,000 rows on PostgreSQL.

``python -m benchmarks.orm.memory [--rows N]`` (``make bench`` runs it with the
ORM suite when PostgreSQL is among the backends; ``--only iterator_memory``
runs it alone).

Peak RSS is read from the kernel (``ru_maxrss``) before and after iterating;
the growth must stay under 50 MB because rows stream through a server-side
cursor instead of being loaded at once. A plain ``await qs`` of the same rows
would hold every instance at once.
"""

from __future__ import annotations

import resource
import time

import reinhardt_db
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings
from reinhardt_db.models.schema import create_tables, drop_tables

from .._util import create_pg_database, drop_pg_database

ROWS = 1_000_000
LIMIT_MB = 50


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def iterator_memory(rows: int = ROWS) -> None:
    """Fill ``rows`` journal rows server-side, then stream them through the ORM."""
    from .bench import Journal

    url = await create_pg_database()
    reinhardt_db.configure(databases={"default": url})
    try:
        await create_tables([Journal])
        db = connections["default"]
        await db.execute(
            "INSERT INTO journal (timestamp, level, text) "
            "SELECT now(), g %% 5, md5(g::text) FROM generate_series(1, %s) AS g",
            [rows],
        )
        # Warm up the code paths so that imports and caches are not counted.
        async for _obj in Journal.objects.all()[:5000].iterator(chunk_size=2000):
            pass
        before = _peak_mb()
        start = time.perf_counter()
        seen = 0
        async for _obj in Journal.objects.all().iterator(chunk_size=2000):
            seen += 1
        elapsed = time.perf_counter() - start
        growth = _peak_mb() - before
        verdict = "met" if growth < LIMIT_MB else "MISSED"
        print(
            f"\n## iterator(chunk_size=2000) over {seen:,} rows on PostgreSQL\n\n"
            f"peak RSS growth {growth:.1f} MB (target < {LIMIT_MB} MB: {verdict}); "
            f"{elapsed:.1f} s, {seen / elapsed:,.0f} rows/s"
        )
        # Control: the same measure sees a list of instances held at once.
        before = _peak_mb()
        held = await Journal.objects.all()[:200_000]
        control = _peak_mb() - before
        print(f"control: loading {len(held):,} rows at once grew peak RSS by {control:.1f} MB")
        del held
        await drop_tables([Journal], if_exists=True)
    finally:
        await reinhardt_db.close_all()
        reset_settings()
        await drop_pg_database()


if __name__ == "__main__":
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m benchmarks.orm.memory")
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows to stream (default {ROWS:,})")
    asyncio.run(iterator_memory(parser.parse_args().rows))
