"""Timing, result tables and throwaway benchmark databases."""

from __future__ import annotations

import asyncio
import gc
import os
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomysql
import asyncpg

# "DROP DATABASE IF EXISTS" of a missing database is a server note, not news.
warnings.filterwarnings("ignore", message=".*database doesn't exist", category=Warning)

POSTGRES_URL = os.environ.get("REINHARDT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("REINHARDT_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
VENDORS = ("sqlite", "postgresql", "mysql")
# One database per run (and per process: memory.py runs in its own), so that
# runs from several worktrees at once never drop each other's tables.
BENCH_DB = "bench_reinhardt_" + (os.environ.get("REINHARDT_BENCH_DB_SUFFIX") or str(os.getpid()))


async def best_of(fn: Callable[[], Awaitable[object]], rounds: int = 5, warmup: int = 1) -> float:
    """Seconds of the fastest of ``rounds`` runs (after ``warmup`` unmeasured ones)."""
    for _ in range(warmup):
        await fn()
    times = []
    for _ in range(rounds):
        times.append(await timed_run(fn))
    return min(times)


async def timed_run(fn: Callable[[], Awaitable[object]]) -> float:
    """Seconds one run of ``fn`` takes, with the collecting of the cyclic garbage it left.

    A run's result is dropped inside the timing. What reference counting
    frees goes then; what only the cyclic GC can free (instances that point
    at each other, as prefetched ones do) would go whenever the next
    collection runs: in another contender's run, or in an untimed
    ``gc.collect()``, never charged to the run that made it. So the heap is
    collected and frozen before the run (untimed; the collector then sees
    only objects made from here on), and after the run ``gc.collect()`` runs
    twice: the first collects the run's garbage, the second walks the same
    survivors (asyncpg, for one, keeps the last result's rows until the next
    statement) and finds nothing. The run is charged the difference, the
    garbage's own cost, not the walk over live objects that would otherwise
    add the same time to every contender and pull every ratio towards 1.
    """
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        await fn()
        ran = time.perf_counter()
        gc.collect()
        collected = time.perf_counter()
        gc.collect()
        walked = time.perf_counter()
        return (ran - start) + max(0.0, (collected - ran) - (walked - collected))
    finally:
        gc.unfreeze()


async def best_of_interleaved(
    contenders: dict[str, Callable[[], Awaitable[object]]],
    rounds: int = 5,
    warmup: int = 1,
    setup: Callable[[], Awaitable[object]] | None = None,
    verify: Callable[[str], Awaitable[object]] | None = None,
) -> dict[str, float]:
    """Seconds of each contender's fastest run, the contenders taking turns.

    Round after round every contender runs once, starting with a different one
    each round, so that load from elsewhere on the machine lands on all of them
    alike instead of on whichever ran during a busy spell. ``setup`` is awaited
    before every run and ``verify(contender)`` after it; neither is timed.
    Each run pays for collecting its own cyclic garbage (``timed_run``).
    """
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(warmup + rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            if setup is not None:
                await setup()
            elapsed = await timed_run(contenders[name])
            if verify is not None:
                await verify(name)
            if i >= warmup:
                times[name].append(elapsed)
    return {name: min(times[name]) for name in names}


@dataclass(frozen=True)
class Options:
    """What to run, parsed from the command line (see ``benchmarks/README.md``).

    ``only`` is ``None`` for every workload; a size left ``None`` is the suite's
    default (or its smoke size with ``smoke``).
    """

    backends: tuple[str, ...] = VENDORS
    only: frozenset[str] | None = None
    smoke: bool = False
    rows: int | None = None
    loops: int | None = None
    rounds: int | None = None

    def wants(self, workload: str) -> bool:
        """Say whether ``workload`` was chosen."""
        return self.only is None or workload in self.only


@dataclass
class Row:
    workload: str
    contender: str
    seconds: float
    ops: int


def print_table(title: str, rows: list[Row], baseline: str | list[str]) -> None:
    """Print per-workload timings with each contender's ratio to every baseline.

    ``baseline`` names one contender or several; each gets a ratio column, and a
    workload without that contender shows ``-`` there.
    """
    baselines = [baseline] if isinstance(baseline, str) else baseline
    print(f"\n## {title}\n")
    ratio_heads = "".join(f" ratio to {b} |" for b in baselines)
    print(f"| workload | contender | total ms | µs/op |{ratio_heads}")
    print("|---|---|---:|---:|" + "---:|" * len(baselines))
    for workload, group in group_by_workload(rows).items():
        bases = [next((r.seconds for r in group if r.contender == b), None) for b in baselines]
        for r in group:
            ratios = "".join(f" {r.seconds / base:.2f}x |" if base else " - |" for base in bases)
            print(
                f"| {workload} | {r.contender} | {r.seconds * 1000:.1f} | "
                f"{r.seconds / r.ops * 1e6:.1f} |{ratios}"
            )


def group_by_workload(rows: list[Row]) -> dict[str, list[Row]]:
    """Rows grouped by workload, in the order workloads first appear."""
    by_workload: dict[str, list[Row]] = {}
    for row in rows:
        by_workload.setdefault(row.workload, []).append(row)
    return by_workload


async def create_pg_database() -> str:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await conn.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + BENCH_DB


async def drop_pg_database() -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_mysql_database() -> str:
    conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{BENCH_DB}`")
            await cur.execute(f"CREATE DATABASE `{BENCH_DB}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    return MYSQL_URL.rsplit("/", 1)[0] + "/" + BENCH_DB


async def drop_mysql_database() -> None:
    conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{BENCH_DB}`")
    finally:
        conn.close()


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
