"""The raw-driver side of the ORM benchmark: the same work, written by hand on the driver.

Each workload is what a user would write against the driver for the same
result: one held connection, the driver's own paramstyle, and the same stored
values and decoded types as the ORM (aware UTC datetimes on PostgreSQL and
MariaDB, the ORM's naive-UTC text on SQLite). On MariaDB the connection decodes
DATETIME with the ORM's own ``conv`` decoders, so neither side pays for a
slower decoder the other avoids.

``bulk_insert`` has two baselines, each in one transaction as the ORM's
``bulk_create`` is: ``raw driver`` sends multi-row ``INSERT ... VALUES`` of
1,000 rows and reads the new ids back where the backend can; ``raw
executemany`` is the driver's ``executemany``, ids not read, as most users
write a bulk load by hand.
"""

from __future__ import annotations

import abc
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import aiomysql
import aiosqlite
import asyncpg

from reinhardt_db.backends.mysql.driver import DECODERS
from reinhardt_db.conf import parse_database_url

from .plan import CACHED_KEY, Data, Plan

Workloads = dict[str, Callable[[], Awaitable[Any]]]
RAW = "raw driver"
EXECUTEMANY = "raw executemany"
#: join_fetch's second raw contender: the join written to select the author's key once.
KEY_ONCE = "raw key once"
COLS = "id, timestamp, level, text"
INSERT_BATCH = 1000
# The relation workloads' tables (bench.py's BenchAuthor and BenchEntry).
JOIN_SQL = (
    "SELECT e.id, e.author_id, e.title, a.id, a.name "
    "FROM bench_entry e JOIN bench_author a ON a.id = e.author_id"
)
# The same rows, the author's id read from e.author_id (what the ORM's INNER join sends).
JOIN_KEY_ONCE_SQL = (
    "SELECT e.id, e.author_id, e.title, a.name "
    "FROM bench_entry e JOIN bench_author a ON a.id = e.author_id"
)
AUTHORS_SQL = "SELECT id, name FROM bench_author"
ENTRIES_SQL = "SELECT id, author_id, title FROM bench_entry"


def group_entries(authors: Any, entries: Any) -> dict[Any, list[Any]]:
    """Each author's entries, as a user of the raw driver would gather them."""
    grouped: dict[Any, list[Any]] = {author[0]: [] for author in authors}
    for entry in entries:
        grouped[entry[1]].append(entry)
    return grouped


class RawDriver(abc.ABC):
    """One held connection and the benchmark's SQL in the driver's own paramstyle."""

    vendor: str

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection."""

    @abc.abstractmethod
    async def truncate(self) -> None:
        """Empty the table and restart its ids at 1."""

    @abc.abstractmethod
    async def bulk_insert(self, data: Data) -> None:
        """Insert ``data`` as multi-row INSERTs in one transaction, reading ids back if possible."""

    @abc.abstractmethod
    async def bulk_insert_executemany(self, data: Data) -> None:
        """Insert ``data`` with the driver's ``executemany`` in one transaction."""

    @abc.abstractmethod
    async def ids(self) -> list[int]:
        """Every primary key in the table, in order."""

    @abc.abstractmethod
    async def count(self, where: str = "1 = 1") -> int:
        """Rows of the table matching the SQL condition ``where``."""

    @abc.abstractmethod
    def workloads(self, data: Data, plan: Plan) -> Workloads:
        """The main raw contender of every workload."""

    def relation_workloads(self, join_sql: str = JOIN_SQL) -> Workloads:
        """``join_fetch`` (running ``join_sql``) and ``prefetch`` (drivers override)."""
        return {}

    def baselines(self, data: Data, plan: Plan) -> dict[str, Workloads]:
        """Every raw contender: the main one for each workload, and the faster
        hand-written forms: executemany for bulk_insert, the key read once for
        join_fetch."""

        async def executemany() -> None:
            await self.bulk_insert_executemany(data)

        main = {**self.workloads(data, plan), **self.relation_workloads()}
        key_once = self.relation_workloads(JOIN_KEY_ONCE_SQL)["join_fetch"]
        return {
            RAW: main, EXECUTEMANY: {"bulk_insert": executemany},
            KEY_ONCE: {"join_fetch": key_once},
        }


class PostgresRaw(RawDriver):
    vendor = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def close(self) -> None:
        await self.conn.close()

    async def truncate(self) -> None:
        await self.conn.execute("TRUNCATE journal RESTART IDENTITY")

    async def bulk_insert(self, data: Data) -> None:
        async with self.conn.transaction():
            for start in range(0, len(data), INSERT_BATCH):
                batch = data[start:start + INSERT_BATCH]
                values = ", ".join(
                    f"(${i * 3 + 1}, ${i * 3 + 2}, ${i * 3 + 3})" for i in range(len(batch))
                )
                params = [v for row in batch for v in row]
                await self.conn.fetch(
                    f"INSERT INTO journal (timestamp, level, text) VALUES {values} RETURNING id",
                    *params,
                )

    async def bulk_insert_executemany(self, data: Data) -> None:
        async with self.conn.transaction():
            await self.conn.executemany(
                "INSERT INTO journal (timestamp, level, text) VALUES ($1, $2, $3)", data
            )

    async def ids(self) -> list[int]:
        return [r[0] for r in await self.conn.fetch("SELECT id FROM journal ORDER BY id")]

    async def count(self, where: str = "1 = 1") -> int:
        return int(await self.conn.fetchval(f"SELECT count(*) FROM journal WHERE {where}"))

    def workloads(self, data: Data, plan: Plan) -> Workloads:
        c = self.conn
        now = plan.now
        runs = itertools.count()  # a new text every run, so no update is a no-op

        async def insert_single() -> None:
            async with c.transaction():
                for i in range(len(plan.keys)):
                    await c.fetchrow(
                        "INSERT INTO journal (timestamp, level, text) VALUES ($1, $2, $3) RETURNING id",
                        now, i % 5, f"x{i}",
                    )

        async def bulk_insert() -> None:
            await self.bulk_insert(data)

        async def fetch_all() -> Any:
            return await c.fetch(f"SELECT {COLS} FROM journal")

        async def filter_small() -> None:
            for level, prefix in plan.keys:
                await c.fetch(
                    f"SELECT {COLS} FROM journal WHERE level = $1 AND text LIKE $2 LIMIT $3",
                    level, prefix + "%", 20,
                )

        async def get_by_pk() -> None:
            for pk in plan.get_pks:
                await c.fetchrow(f"SELECT {COLS} FROM journal WHERE id = $1", pk)

        async def values_all() -> None:
            [dict(r) for r in await c.fetch(f"SELECT {COLS} FROM journal")]

        async def update_single() -> None:
            n = next(runs)
            for i, pk in enumerate(plan.update_pks):
                await c.execute("UPDATE journal SET text = $1 WHERE id = $2", f"updated {n}-{i}", pk)

        async def count_agg() -> None:
            for level, _ in plan.keys:
                await c.fetchval("SELECT count(*) FROM journal WHERE level = $1", level)
                await c.fetchval("SELECT avg(level) FROM journal WHERE level = $1", level)

        async def cached_filter() -> None:
            level, prefix = CACHED_KEY
            for _ in plan.keys:
                await c.fetch(
                    f"SELECT {COLS} FROM journal WHERE level = $1 AND text LIKE $2 LIMIT $3",
                    level, prefix + "%", 20,
                )

        return {
            "insert_single": insert_single, "bulk_insert": bulk_insert, "fetch_all": fetch_all,
            "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
            "update_single": update_single, "count_agg": count_agg,
            "cached_filter": cached_filter,
        }


    def relation_workloads(self, join_sql: str = JOIN_SQL) -> Workloads:
        c = self.conn

        async def join_fetch() -> Any:
            return await c.fetch(join_sql)

        async def prefetch() -> Any:
            authors = await c.fetch(AUTHORS_SQL)
            entries = await c.fetch(
                f"{ENTRIES_SQL} WHERE author_id = ANY($1::bigint[])", [a[0] for a in authors]
            )
            return group_entries(authors, entries)

        return {"join_fetch": join_fetch, "prefetch": prefetch}


def _naive_utc(data: Data) -> list[tuple[dt.datetime, int, str]]:
    # The session time zone is UTC and DATETIME holds no offset: send naive UTC.
    return [(t.astimezone(dt.UTC).replace(tzinfo=None), lv, tx) for t, lv, tx in data]


class MySQLRaw(RawDriver):
    vendor = "mysql"

    def __init__(self, conn: aiomysql.Connection) -> None:
        self.conn = conn

    async def close(self) -> None:
        self.conn.close()

    async def _exec(self, sql: str, params: Any = None) -> Any:
        async with self.conn.cursor() as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def truncate(self) -> None:
        await self._exec("TRUNCATE TABLE journal")

    async def bulk_insert(self, data: Data) -> None:
        await self.conn.begin()
        try:
            for start in range(0, len(data), INSERT_BATCH):
                batch = _naive_utc(data[start:start + INSERT_BATCH])
                values = ", ".join(["(%s, %s, %s)"] * len(batch))
                params = [v for row in batch for v in row]
                await self._exec(f"INSERT INTO journal (timestamp, level, text) VALUES {values}", params)
        except BaseException:
            await self.conn.rollback()
            raise
        await self.conn.commit()

    async def bulk_insert_executemany(self, data: Data) -> None:
        await self.conn.begin()
        try:
            async with self.conn.cursor() as cur:
                # aiomysql folds this into multi-row INSERTs of up to max_stmt_length bytes.
                await cur.executemany(
                    "INSERT INTO journal (timestamp, level, text) VALUES (%s, %s, %s)",
                    _naive_utc(data),
                )
        except BaseException:
            await self.conn.rollback()
            raise
        await self.conn.commit()

    async def ids(self) -> list[int]:
        return [r[0] for r in await self._exec("SELECT id FROM journal ORDER BY id")]

    async def count(self, where: str = "1 = 1") -> int:
        rows = await self._exec(f"SELECT count(*) FROM journal WHERE {where}")
        return int(rows[0][0])

    def workloads(self, data: Data, plan: Plan) -> Workloads:
        now = plan.now.replace(tzinfo=None)
        ex = self._exec
        runs = itertools.count()  # a new text every run, so no update is a no-op

        async def insert_single() -> None:
            await self.conn.begin()
            for i in range(len(plan.keys)):
                await ex("INSERT INTO journal (timestamp, level, text) VALUES (%s, %s, %s)",
                         (now, i % 5, f"x{i}"))
            await self.conn.commit()

        async def bulk_insert() -> None:
            await self.bulk_insert(data)

        async def fetch_all() -> Any:
            return await ex(f"SELECT {COLS} FROM journal")

        async def filter_small() -> None:
            for level, prefix in plan.keys:
                # BINARY: startswith is case-sensitive, as the ORM sends it.
                await ex(f"SELECT {COLS} FROM journal WHERE level = %s AND (text LIKE BINARY %s) LIMIT %s",
                         (level, prefix + "%", 20))

        async def get_by_pk() -> None:
            for pk in plan.get_pks:
                async with self.conn.cursor() as cur:
                    await cur.execute(f"SELECT {COLS} FROM journal WHERE id = %s", (pk,))
                    await cur.fetchone()

        async def values_all() -> None:
            async with self.conn.cursor() as cur:
                await cur.execute(f"SELECT {COLS} FROM journal")
                names = [d[0] for d in cur.description]
                [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]

        async def update_single() -> None:
            n = next(runs)
            for i, pk in enumerate(plan.update_pks):
                await ex("UPDATE journal SET text = %s WHERE id = %s", (f"updated {n}-{i}", pk))

        async def count_agg() -> None:
            for level, _ in plan.keys:
                await ex("SELECT count(*) FROM journal WHERE level = %s", (level,))
                await ex("SELECT avg(level) FROM journal WHERE level = %s", (level,))

        async def cached_filter() -> None:
            level, prefix = CACHED_KEY
            for _ in plan.keys:
                await ex(f"SELECT {COLS} FROM journal WHERE level = %s AND (text LIKE BINARY %s) LIMIT %s",
                         (level, prefix + "%", 20))

        return {
            "insert_single": insert_single, "bulk_insert": bulk_insert, "fetch_all": fetch_all,
            "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
            "update_single": update_single, "count_agg": count_agg,
            "cached_filter": cached_filter,
        }


    def relation_workloads(self, join_sql: str = JOIN_SQL) -> Workloads:
        ex = self._exec

        async def join_fetch() -> Any:
            return await ex(join_sql)

        async def prefetch() -> Any:
            authors = await ex(AUTHORS_SQL)
            ids = [a[0] for a in authors]
            marks = ", ".join(["%s"] * len(ids))
            entries = await ex(f"{ENTRIES_SQL} WHERE author_id IN ({marks})", ids)
            return group_entries(authors, entries)

        return {"join_fetch": join_fetch, "prefetch": prefetch}


def _sqlite_text(moment: dt.datetime) -> str:
    # The ORM's storage format for DateTimeField on SQLite: naive UTC text.
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
        await self.conn.execute("BEGIN")
        try:
            for start in range(0, len(data), INSERT_BATCH):
                batch = data[start:start + INSERT_BATCH]
                values = ", ".join(["(?, ?, ?)"] * len(batch))
                params = [v for t, lv, tx in batch for v in (_sqlite_text(t), lv, tx)]
                await self.conn.execute_fetchall(
                    f"INSERT INTO journal (timestamp, level, text) VALUES {values} RETURNING id", params
                )
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        await self.conn.execute("COMMIT")

    async def bulk_insert_executemany(self, data: Data) -> None:
        await self.conn.execute("BEGIN")
        try:
            await self.conn.executemany(
                "INSERT INTO journal (timestamp, level, text) VALUES (?, ?, ?)",
                [(_sqlite_text(t), lv, tx) for t, lv, tx in data],
            )
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        await self.conn.execute("COMMIT")

    async def ids(self) -> list[int]:
        return [r[0] for r in await self.conn.execute_fetchall("SELECT id FROM journal ORDER BY id")]

    async def count(self, where: str = "1 = 1") -> int:
        rows = list(await self.conn.execute_fetchall(f"SELECT count(*) FROM journal WHERE {where}"))
        return int(rows[0][0])

    def workloads(self, data: Data, plan: Plan) -> Workloads:
        c = self.conn
        now = _sqlite_text(plan.now)
        runs = itertools.count()  # a new text every run, so no update is a no-op

        async def insert_single() -> None:
            await c.execute("BEGIN")
            for i in range(len(plan.keys)):
                await c.execute_fetchall(
                    "INSERT INTO journal (timestamp, level, text) VALUES (?, ?, ?) RETURNING id",
                    (now, i % 5, f"x{i}"),
                )
            await c.execute("COMMIT")

        async def bulk_insert() -> None:
            await self.bulk_insert(data)

        async def fetch_all() -> Any:
            return await c.execute_fetchall(f"SELECT {COLS} FROM journal")

        async def filter_small() -> None:
            for level, prefix in plan.keys:
                # GLOB: SQLite's LIKE ignores case; startswith must not (the ORM's SQL).
                await c.execute_fetchall(
                    f"SELECT {COLS} FROM journal WHERE level = ? AND (text GLOB ?) LIMIT ?",
                    (level, prefix + "*", 20),
                )

        async def get_by_pk() -> None:
            for pk in plan.get_pks:
                await c.execute_fetchall(f"SELECT {COLS} FROM journal WHERE id = ?", (pk,))

        async def values_all() -> None:
            cursor = await c.execute(f"SELECT {COLS} FROM journal")
            names = [d[0] for d in cursor.description]
            [dict(zip(names, r, strict=True)) for r in await cursor.fetchall()]
            await cursor.close()

        async def update_single() -> None:
            n = next(runs)
            for i, pk in enumerate(plan.update_pks):
                await c.execute("UPDATE journal SET text = ? WHERE id = ?", (f"updated {n}-{i}", pk))

        async def count_agg() -> None:
            for level, _ in plan.keys:
                await c.execute_fetchall("SELECT count(*) FROM journal WHERE level = ?", (level,))
                await c.execute_fetchall("SELECT avg(level) FROM journal WHERE level = ?", (level,))

        async def cached_filter() -> None:
            level, prefix = CACHED_KEY
            for _ in plan.keys:
                await c.execute_fetchall(
                    f"SELECT {COLS} FROM journal WHERE level = ? AND (text GLOB ?) LIMIT ?",
                    (level, prefix + "*", 20),
                )

        return {
            "insert_single": insert_single, "bulk_insert": bulk_insert, "fetch_all": fetch_all,
            "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
            "update_single": update_single, "count_agg": count_agg,
            "cached_filter": cached_filter,
        }


    def relation_workloads(self, join_sql: str = JOIN_SQL) -> Workloads:
        c = self.conn

        async def join_fetch() -> Any:
            return await c.execute_fetchall(join_sql)

        async def prefetch() -> Any:
            authors = await c.execute_fetchall(AUTHORS_SQL)
            ids = [a[0] for a in authors]
            marks = ", ".join(["?"] * len(ids))
            entries = await c.execute_fetchall(f"{ENTRIES_SQL} WHERE author_id IN ({marks})", ids)
            return group_entries(authors, entries)

        return {"join_fetch": join_fetch, "prefetch": prefetch}


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
            # The ORM's decoders: DATETIME as aware UTC in one fromisoformat() call.
            conv=DECODERS,
        ))
    conn = await aiosqlite.connect(parsed.database, isolation_level=None)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    return SQLiteRaw(conn)
