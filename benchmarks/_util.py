"""Timing, result tables and throwaway benchmark databases."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
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
BENCH_DB = "bench_reinhardt"


async def best_of(fn: Callable[[], Awaitable[object]], rounds: int = 5, warmup: int = 1) -> float:
    """Seconds of the fastest of ``rounds`` runs (after ``warmup`` unmeasured ones)."""
    for _ in range(warmup):
        await fn()
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return min(times)


@dataclass
class Row:
    workload: str
    contender: str
    seconds: float
    ops: int


def print_table(title: str, rows: list[Row], baseline: str) -> None:
    """Print per-workload timings with each contender's ratio to ``baseline``."""
    print(f"\n## {title}\n")
    print(f"| workload | contender | total ms | µs/op | ratio to {baseline} |")
    print("|---|---|---:|---:|---:|")
    by_workload: dict[str, list[Row]] = {}
    for row in rows:
        by_workload.setdefault(row.workload, []).append(row)
    for workload, group in by_workload.items():
        base = next((r.seconds for r in group if r.contender == baseline), None)
        for r in group:
            ratio = f"{r.seconds / base:.2f}x" if base else "-"
            print(
                f"| {workload} | {r.contender} | {r.seconds * 1000:.1f} | "
                f"{r.seconds / r.ops * 1e6:.1f} | {ratio} |"
            )


def median(values: list[float]) -> float:
    return statistics.median(values)


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
