"""The Database API on each real backend: raw SQL, errors, session set-up, logging."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import uuid

import pytest

import reinhardt_db
from reinhardt_db import exceptions as exc
from reinhardt_db.backends import Database, Record, connections
from reinhardt_db.conf import reset_settings


def _table() -> str:
    return "t_" + uuid.uuid4().hex[:10]


async def _make_kv(db: Database) -> str:
    name = _table()
    await db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, k VARCHAR(20) UNIQUE, v INTEGER)")
    return name


async def test_execute_and_fetch_with_percent_s(backend: Database) -> None:
    t = await _make_kv(backend)
    assert await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (%s, %s, %s)", [1, "a", 10]) == 1
    assert await backend.executemany(
        f"INSERT INTO {t} (id, k, v) VALUES (%s, %s, %s)", [(2, "b", 20), (3, "c%", 30)]
    ) >= 2
    rows = await backend.fetch_all(f"SELECT id, k, v FROM {t} WHERE v >= %s ORDER BY id", [20])
    assert [tuple(r) for r in rows] == [(2, "b", 20), (3, "c%", 30)]
    assert isinstance(rows[0], Record)
    assert rows[0]["k"] == "b" and rows[0].keys() == ("id", "k", "v")
    assert rows[1]._asdict() == {"id": 3, "k": "c%", "v": 30}
    # %% is a literal percent on every backend, with and without parameters.
    like = await backend.fetch_all(f"SELECT k FROM {t} WHERE k LIKE 'c%%'")
    assert [r["k"] for r in like] == ["c%"]
    like2 = await backend.fetch_all(f"SELECT k FROM {t} WHERE k LIKE 'c%%' AND v = %s", [30])
    assert [r["k"] for r in like2] == ["c%"]
    one = await backend.fetch_one(f"SELECT v FROM {t} WHERE id = %s", [1])
    assert one is not None and one[0] == 10
    assert await backend.fetch_one(f"SELECT v FROM {t} WHERE id = %s", [99]) is None
    assert await backend.fetch_val(f"SELECT count(*) FROM {t}") == 3
    assert await backend.execute(f"UPDATE {t} SET v = v + 1 WHERE v > %s", [15]) == 2
    assert await backend.execute(f"DELETE FROM {t}") == 3
    with pytest.raises(KeyError, match="no column 'nope'"):
        rows[0]["nope"]


async def test_hostile_values_stay_bound(backend: Database) -> None:
    t = await _make_kv(backend)
    evil = f"x'); DROP TABLE {t}; --"
    await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (%s, %s, %s)", [1, evil[:20], 1])
    row = await backend.fetch_one(f"SELECT k FROM {t} WHERE k = %s", [evil[:20]])
    assert row is not None and row["k"] == evil[:20]


async def test_params_must_be_a_sequence(backend: Database) -> None:
    with pytest.raises(TypeError, match="params must be a list or tuple"):
        await backend.fetch_all("SELECT %s", "abc")  # type: ignore[arg-type]


async def test_unique_violation_is_integrity_error_with_cause(backend: Database) -> None:
    t = await _make_kv(backend)
    await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (1, 'a', 1)")
    with pytest.raises(exc.IntegrityError) as info:
        await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (2, 'a', 1)")
    assert info.value.__cause__ is not None
    assert not isinstance(info.value.__cause__, exc.ReinhardtError)
    # The pool is still healthy after the error.
    assert await backend.fetch_val(f"SELECT count(*) FROM {t}") == 1


@pytest.mark.parametrize(
    "sql",
    ["SELEC 1", "SELECT * FROM no_such_table_here", "SELECT no_such_column FROM (SELECT 1 AS a) AS s"],
)
async def test_bad_sql_is_programming_error(backend: Database, sql: str) -> None:
    with pytest.raises(exc.ProgrammingError) as info:
        await backend.fetch_all(sql)
    assert info.value.__cause__ is not None
    assert isinstance(info.value, exc.DatabaseError)


@pytest.mark.backends("postgresql", "mysql")  # SQLite has no server to refuse: test_connect_errors.py
async def test_refused_connection_is_operational_error(backend_name: str) -> None:
    urls = {
        "postgresql": "postgresql://postgres@127.0.0.1:1/test",
        "mysql": "mysql://root@127.0.0.1:1/test",
    }
    reinhardt_db.configure(
        databases={"default": {"url": urls[backend_name], "pool": {"acquire_timeout": 1.5}}}
    )
    try:
        db = connections["default"]
        with pytest.raises(exc.OperationalError) as info:
            await db.fetch_all("SELECT 1")
        assert isinstance(info.value, exc.PoolTimeout)
        assert "could not be reached" in str(info.value) and "'default'" in str(info.value)
        assert info.value.__cause__ is not None  # the pool's PoolTimeout...
        assert info.value.__cause__.__cause__ is not None  # ...and the last connect error
    finally:
        await reinhardt_db.close_all()
        reset_settings()


async def test_session_setup(backend: Database) -> None:
    if backend.vendor == "sqlite":
        assert await backend.fetch_val("PRAGMA foreign_keys") == 1
        assert await backend.fetch_val("PRAGMA journal_mode") == "wal"
        assert await backend.fetch_val("PRAGMA busy_timeout") == 5000
    elif backend.vendor == "postgresql":
        assert await backend.fetch_val("SHOW TimeZone") == "UTC"
    else:
        assert await backend.fetch_val("SELECT @@session.time_zone") == "+00:00"
        mode = await backend.fetch_val("SELECT @@session.sql_mode")
        assert "STRICT_ALL_TABLES" in mode
        assert await backend.fetch_val("SELECT @@character_set_connection") == "utf8mb4"
        # strict mode: a value that does not fit is an error, never truncated
        t = _table()
        await backend.execute(f"CREATE TABLE {t} (s VARCHAR(3))")
        with pytest.raises(exc.DataError):
            await backend.execute(f"INSERT INTO {t} (s) VALUES (%s)", ["toolong"])


async def test_server_version(backend: Database) -> None:
    version = await backend.server_version()
    assert version and version[0].isdigit()


async def test_sql_logger_logs_statement_and_duration(
    backend: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="reinhardt_db.sql"):
        await backend.fetch_all("SELECT CAST(%s AS CHAR(5)) AS x", ["42"])
    records = [r for r in caplog.records if r.name == "reinhardt_db.sql"]
    assert records, "no statement was logged"
    record = records[-1]
    assert "SELECT" in record.getMessage() and " ms)" in record.getMessage()
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert record.alias == "default"  # type: ignore[attr-defined]


async def test_connection_block_binds_one_connection(backend: Database) -> None:
    async with backend.connection() as bound:
        async with backend.connection() as inner:
            assert inner is bound
        if backend.vendor == "postgresql":
            pids = {await backend.fetch_val("SELECT pg_backend_pid()") for _ in range(3)}
        elif backend.vendor == "mysql":
            pids = {await backend.fetch_val("SELECT CONNECTION_ID()") for _ in range(3)}
        else:
            pids = {id(bound.raw)}
        assert len(pids) == 1
    assert backend.bound_connection() is None


async def test_concurrent_tasks_on_a_bound_connection_are_refused(backend: Database) -> None:
    sleep = {
        "postgresql": "SELECT pg_sleep(0.2)",
        "mysql": "SELECT SLEEP(0.2)",
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000000) SELECT count(*) FROM c",
    }[backend.vendor]
    async with backend.connection():
        results = await asyncio.gather(
            backend.fetch_all(sleep), backend.fetch_all("SELECT 1"), return_exceptions=True
        )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], exc.TransactionManagementError)
    assert "busy" in str(errors[0])
    # Outside the block the two run on separate pooled connections.
    await asyncio.gather(backend.fetch_all("SELECT 1"), backend.fetch_all("SELECT 1"))


async def test_transaction_commits_and_rolls_back(backend: Database) -> None:
    t = await _make_kv(backend)
    async with backend.transaction():
        await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (1, 'a', 1)")
    with pytest.raises(RuntimeError):
        async with backend.transaction():
            await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (2, 'b', 1)")
            raise RuntimeError("boom")
    rows = await backend.fetch_all(f"SELECT id FROM {t}")
    assert [r["id"] for r in rows] == [1]
    with pytest.raises(exc.TransactionManagementError, match="unknown isolation level"):
        async with backend.transaction(isolation="chaotic"):
            pass
    async with backend.transaction():
        with pytest.raises(exc.TransactionManagementError, match="already has a transaction"):
            async with backend.transaction():
                pass


async def test_stream_rows_in_chunks(backend: Database) -> None:
    t = _table()
    await backend.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY)")
    await backend.executemany(f"INSERT INTO {t} (id) VALUES (%s)", [(i,) for i in range(1, 1001)])
    sql = backend.driver.native_sql(f"SELECT id FROM {t} WHERE id > %s ORDER BY id")
    chunks = [chunk async for chunk in backend.stream_rows(sql, [0], chunk_size=300)]
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert [r[0] for c in chunks for r in c] == list(range(1, 1001))
    # Stopping early gives the connection back: the pool is not exhausted.
    stream = backend.stream_rows(sql, [0], chunk_size=10)
    async for _chunk in stream:
        break
    await stream.aclose()
    assert backend.pool.stats().in_use == 0
    with pytest.raises(ValueError, match="chunk_size"):
        async for _ in backend.stream_rows(sql, [0], chunk_size=0):
            pass


async def test_pool_stats_and_close_all(backend: Database) -> None:
    await backend.fetch_all("SELECT 1")
    pool = backend.pool
    stats = pool.stats()
    assert stats.acquires >= 1 and stats.in_use == 0 and stats.size >= 1
    await reinhardt_db.close_all()
    assert pool.closed
    # The next use opens a fresh pool for this loop.
    assert await backend.fetch_val("SELECT 1") == 1
    assert backend.pool is not pool


async def test_lifespan_opens_and_closes(backend: Database) -> None:
    async with reinhardt_db.lifespan():
        pool = backend.pool
        assert pool.size >= 1
    assert pool.closed


async def test_unknown_alias(backend: Database) -> None:
    with pytest.raises(
        exc.ImproperlyConfigured, match=r"no database named 'defualt'.*did you mean 'default'"
    ):
        connections["defualt"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_fresh_event_loops_get_fresh_pools(backend_url: str) -> None:
    """asyncio.run twice: the second loop opens its own pool instead of failing."""
    reinhardt_db.configure(databases={"default": backend_url})
    db = connections["default"]
    seen = []

    async def use() -> int:
        seen.append(db.pool)
        value = await db.fetch_val("SELECT 7")
        return int(value)

    async def use_and_close() -> int:
        try:
            return await use()
        finally:
            await reinhardt_db.close_all()

    try:
        assert asyncio.run(use()) == 7  # left open on purpose: its loop then dies
        assert asyncio.run(use_and_close()) == 7
        assert seen[0] is not seen[1]
    finally:
        reset_settings()
        # The first loop's connections died with it; collect them here rather
        # than at some random later moment.
        seen.clear()
        gc.collect()


def test_pool_property_outside_a_loop(backend_url: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with pytest.raises(exc.InterfaceError, match=r"running event loop|async code"):
            connections["default"].pool  # noqa: B018
    finally:
        reset_settings()


async def test_update_rowcount_counts_matched_rows(backend: Database) -> None:
    """An UPDATE that changes nothing still reports the rows it matched, on every backend."""
    t = await _make_kv(backend)
    await backend.execute(f"INSERT INTO {t} (id, k, v) VALUES (1, 'a', 5), (2, 'b', 5)")
    assert await backend.execute(f"UPDATE {t} SET v = 5 WHERE v = 5") == 2
    assert await backend.execute(f"UPDATE {t} SET v = 5 WHERE id = 99") == 0


async def test_sqlite_memory_database_lives_in_one_connection() -> None:
    """sqlite://:memory: is one database only while one connection holds it."""
    reinhardt_db.configure(
        databases={"default": {"url": "sqlite://:memory:", "pool": {"max_size": 5}}}
    )
    try:
        db = connections["default"]
        await db.execute("CREATE TABLE m (x INTEGER)")
        await asyncio.gather(*(db.execute("INSERT INTO m (x) VALUES (%s)", [i]) for i in range(20)))
        assert await db.fetch_val("SELECT count(*) FROM m") == 20
        stats = db.pool.stats()
        assert stats.max_size == 1 and stats.size == 1
        assert db.pool.options.idle_timeout is None and db.pool.options.max_lifetime is None
    finally:
        await reinhardt_db.close_all()
        reset_settings()


async def test_busy_pool_times_out_with_a_plain_pool_timeout(backend_url: str) -> None:
    """Every connection busy (the database is fine): PoolTimeout, no connect error as cause."""
    reinhardt_db.configure(
        databases={"default": {"url": backend_url, "pool": {"max_size": 1, "acquire_timeout": 0.3}}}
    )
    try:
        db = connections["default"]
        async with db.connection():
            # A fresh context: a task spawned with ours would share the bound connection.
            other = asyncio.create_task(db.fetch_val("SELECT 1"), context=contextvars.Context())
            with pytest.raises(exc.PoolTimeout) as info:
                await other
        assert not isinstance(info.value, exc.OperationalError)
        assert info.value.__cause__ is None
        assert await db.fetch_val("SELECT 1") == 1
    finally:
        await reinhardt_db.close_all()
        reset_settings()
