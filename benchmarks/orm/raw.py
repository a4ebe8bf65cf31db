"""The raw-driver side of the ORM benchmark: the same SQL straight on the driver."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiomysql
import aiosqlite
import asyncpg

from reinhardt_db.conf import parse_database_url

LOOPS = 1_000
Data = list[tuple[dt.datetime, int, str]]
Workloads = dict[str, Callable[[], Awaitable[Any]]]


class RawDriver:
    """One held connection and the benchmark's SQL in the driver's own paramstyle."""

    vendor: str

    async def close(self) -> None: ...
    async def truncate(self) -> None: ...
    async def bulk_insert(self, data: Data) -> None: ...
    async def ids(self) -> list[int]: ...
    async def workloads(self, data: Data) -> Workloads: ...


def _keys() -> tuple[list[tuple[int, str]], random.Random]:
    rng = random.Random(11)
    return [(rng.randrange(5), rng.choice("abcdefghij")) for _ in range(LOOPS)], rng


class PostgresRaw(RawDriver):
    vendor = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def close(self) -> None:
        await self.conn.close()

    async def truncate(self) -> None:
        await self.conn.execute("TRUNCATE journal RESTART IDENTITY")

    async def bulk_insert(self, data: Data) -> None:
        for start in range(0, len(data), 1000):
            batch = data[start:start + 1000]
            values = ", ".join(f"(${i * 3 + 1}, ${i * 3 + 2}, ${i * 3 + 3})" for i in range(len(batch)))
            params = [v for row in batch for v in row]
            await self.conn.fetch(
                f"INSERT INTO journal (timestamp, level, text) VALUES {values} RETURNING id", *params
            )

    async def ids(self) -> list[int]:
        return [r[0] for r in await self.conn.fetch("SELECT id FROM journal")]

    async def workloads(self, data: Data) -> Workloads:
        c = self.conn
        keys, rng = _keys()
        ids = await self.ids()
        pks = [rng.choice(ids) for _ in range(LOOPS)]
        now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        cols = "id, timestamp, level, text"

        async def insert_single() -> None:
            async with c.transaction():
                for i in range(LOOPS):
                    await c.fetchrow(
                        "INSERT INTO journal (timestamp, level, text) VALUES ($1, $2, $3) RETURNING id",
                        now, i % 5, f"x{i}",
                    )

        async def fetch_all() -> None:
            await c.fetch(f"SELECT {cols} FROM journal")

        async def filter_small() -> None:
            for level, prefix in keys:
                await c.fetch(
                    f"SELECT {cols} FROM journal WHERE level = $1 AND text LIKE $2 LIMIT $3",
                    level, prefix + "%", 20,
                )

        async def get_by_pk() -> None:
            for pk in pks:
                await c.fetch(f"SELECT {cols} FROM journal WHERE id = $1 LIMIT 21", pk)

        async def values_all() -> None:
            [dict(r) for r in await c.fetch(f"SELECT {cols} FROM journal")]

        async def update_single() -> None:
            for i, pk in enumerate(pks):
                await c.execute("UPDATE journal SET text = $1 WHERE id = $2", f"updated {i}", pk)

        async def count_agg() -> None:
            for level, _ in keys:
                await c.fetchval("SELECT count(*) FROM journal WHERE level = $1", level)
                await c.fetchval("SELECT avg(level) FROM journal WHERE level = $1", level)

        async def bulk() -> None:
            await self.bulk_insert(data)

        return {
            "insert_single": insert_single, "bulk_insert": bulk, "fetch_all": fetch_all,
            "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
            "update_single": update_single, "count_agg": count_agg,
        }


class MySQLRaw(RawDriver):
    vendor = "mysql"

    def __init__(self, conn: aiomysql.Connection) -> None:
        self.conn = conn

    async def close(self) -> None:
        self.conn.close()

    async def _exec(self, sql: str, params: Any = None) -> Any:
        async with self.conn.cursor() as cur:
            await cur.execute(sql, params)
            return await cur.fetchall(), cur

    async def truncate(self) -> None:
        await self._exec("TRUNCATE TABLE journal")

    async def bulk_insert(self, data: Data) -> None:
        for start in range(0, len(data), 1000):
            batch = data[start:start + 1000]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            params = [v for t, lv, tx in batch for v in (t.replace(tzinfo=None), lv, tx)]
            await self._exec(f"INSERT INTO journal (timestamp, level, text) VALUES {values}", params)

    async def ids(self) -> list[int]:
        rows, _ = await self._exec("SELECT id FROM journal")
        return [r[0] for r in rows]

    async def workloads(self, data: Data) -> Workloads:
        keys, rng = _keys()
        ids = await self.ids()
        pks = [rng.choice(ids) for _ in range(LOOPS)]
        now = dt.datetime(2026, 6, 1)
        cols = "id, timestamp, level, text"
        ex = self._exec

        async def insert_single() -> None:
            await ex("START TRANSACTION")
            for i in range(LOOPS):
                await ex("INSERT INTO journal (timestamp, level, text) VALUES (%s, %s, %s)",
                         (now, i % 5, f"x{i}"))
            await ex("COMMIT")

        async def fetch_all() -> None:
            await ex(f"SELECT {cols} FROM journal")

        async def filter_small() -> None:
            for level, prefix in keys:
                # BINARY: startswith is case-sensitive, as the ORM sends it.
                await ex(f"SELECT {cols} FROM journal WHERE level = %s AND (text LIKE BINARY %s) LIMIT %s",
                         (level, prefix + "%", 20))

        async def get_by_pk() -> None:
            for pk in pks:
                await ex(f"SELECT {cols} FROM journal WHERE id = %s LIMIT 21", (pk,))

        async def values_all() -> None:
            async with self.conn.cursor() as cur:
                await cur.execute(f"SELECT {cols} FROM journal")
                names = [d[0] for d in cur.description]
                [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]

        async def update_single() -> None:
            for i, pk in enumerate(pks):
                await ex("UPDATE journal SET text = %s WHERE id = %s", (f"updated {i}", pk))

        async def count_agg() -> None:
            for level, _ in keys:
                await ex("SELECT count(*) FROM journal WHERE level = %s", (level,))
                await ex("SELECT avg(level) FROM journal WHERE level = %s", (level,))

        async def bulk() -> None:
            await self.bulk_insert(data)

        return {
            "insert_single": insert_single, "bulk_insert": bulk, "fetch_all": fetch_all,
            "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
            "update_single": update_single, "count_agg": count_agg,
        }


def _sqlite_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(" ", "microseconds")[:-6]


class SQLiteRaw(RawDriver):
    vendor = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def close(self) -> None:
        await self.conn.close()

    async def truncate(self) -> None:
        await self.conn.execute("DELETE FROM journal")
        # With AUTOINCREMENT, ids would keep counting; restart them like TRUNCATE does.
        has_seq = await self.conn.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        )
        if has_seq:
            await self.conn.execute("DELETE FROM sqlite_sequence WHERE name = 'journal'")

    async def bulk_insert(self, data: Data) -> None:
        for start in range(0, len(data), 1000):
            batch = data[start:start + 1000]
            values = ", ".join(["(?, ?, ?)"] * len(batch))
            # The ORM's storage format for DateTimeField on SQLite: naive UTC text.
            params = [v for t, lv, tx in batch for v in (_sqlite_text(t), lv, tx)]
            await self.conn.execute_fetchall(
                f"INSERT INTO journal (timestamp, level, text) VALUES {values} RETURNING id", params
            )

    async def ids(self) -> list[int]:
        return [r[0] for r in await self.conn.execute_fetchall("SELECT id FROM journal")]

    async def workloads(self, data: Data) -> Workloads:
        c = self.conn
        keys, rng = _keys()
        ids = await self.ids()
        pks = [rng.choice(ids) for _ in range(LOOPS)]
        now = _sqlite_text(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        cols = "id, timestamp, level, text"

        async def insert_single() -> None:
            await c.execute("BEGIN")
            for i in range(LOOPS):
                await c.execute_fetchall(
                    "INSERT INTO journal (timestamp, level, text) VALUES (?, ?, ?) RETURNING id",
                    (now, i % 5, f"x{i}"),
                )
            await c.execute("COMMIT")

        async def fetch_all() -> None:
            await c.execute_fetchall(f"SELECT {cols} FROM journal")

        async def filter_small() -> None:
            for level, prefix in keys:
                # GLOB: SQLite's LIKE ignores case; startswith must not (the ORM's SQL).
                await c.execute_fetchall(
                    f"SELECT {cols} FROM journal WHERE level = ? AND (text GLOB ?) LIMIT ? OFFSET ?",
                    (level, prefix + "*", 20, 0),
                )

        async def get_by_pk() -> None:
            for pk in pks:
                await c.execute_fetchall(
                    f"SELECT {cols} FROM journal WHERE id = ? LIMIT ? OFFSET ?", (pk, 21, 0)
                )

        async def values_all() -> None:
            cursor = await c.execute(f"SELECT {cols} FROM journal")
            names = [d[0] for d in cursor.description]
            [dict(zip(names, r, strict=True)) for r in await cursor.fetchall()]
            await cursor.close()

        async def update_single() -> None:
            for i, pk in enumerate(pks):
                await c.execute("UPDATE journal SET text = ? WHERE id = ?", (f"updated {i}", pk))

        async def count_agg() -> None:
            for level, _ in keys:
                await c.execute_fetchall("SELECT count(*) FROM journal WHERE level = ?", (level,))
                await c.execute_fetchall("SELECT avg(level) FROM journal WHERE level = ?", (level,))

        async def bulk() -> None:
            await self.bulk_insert(data)

        return {
            "insert_single": insert_single, "bulk_insert": bulk, "fetch_all": fetch_all,
            "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
            "update_single": update_single, "count_agg": count_agg,
        }


async def raw_driver(vendor: str, url: str) -> RawDriver:
    """Open the raw driver's connection to the benchmark database."""
    parsed = parse_database_url(url)
    if vendor == "postgresql":
        return PostgresRaw(await asyncpg.connect(
            host=parsed.host, port=parsed.port, user=parsed.user, database=parsed.database,
            server_settings={"TimeZone": "UTC"},
        ))
    if vendor == "mysql":
        return MySQLRaw(await aiomysql.connect(
            host=parsed.host, port=parsed.port or 3306, user=parsed.user,
            password=parsed.password or "", db=parsed.database, autocommit=True,
            charset="utf8mb4", init_command="SET time_zone = '+00:00'",
        ))
    conn = await aiosqlite.connect(parsed.database, isolation_level=None)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    return SQLiteRaw(conn)
