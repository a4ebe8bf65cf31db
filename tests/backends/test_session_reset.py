"""A pooled connection's next user inherits no session state; ORM traffic pays no reset."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import ProgrammingError
from reinhardt_db.pool import PoolEvent


class Note(models.Model):
    title = models.CharField(max_length=40, unique=True)
    hits = models.IntegerField(default=0)

    class Meta:
        app_label = "tests_session_reset"


def _resets(db: Database) -> list[PoolEvent]:
    events: list[PoolEvent] = []
    db.pool.add_listener(lambda e: events.append(e) if e.type == "ConnectionReset" else None)
    return events


@pytest.mark.backends("postgresql")
async def test_postgresql_session_is_reset_for_the_next_user(backend: Database) -> None:
    await backend.fetch_val("SELECT 1")
    resets = _resets(backend)
    async with backend.connection() as state:
        await backend.execute("SET search_path = pg_catalog")
        await backend.execute("SET statement_timeout = 4321")
        await backend.execute("CREATE TEMP TABLE reinhardt_tmp (x int)")
        await backend.execute("LISTEN reinhardt_channel")
        await backend.execute("SELECT pg_advisory_lock(%s)", [424242])
        await backend.execute("DECLARE reinhardt_held CURSOR WITH HOLD FOR SELECT 1")
        await backend.execute("SET ROLE pg_monitor")
        assert await backend.fetch_val("SELECT current_user") == "pg_monitor"
    assert [e.detail["error"] for e in resets] == [None]
    async with backend.connection() as again:
        assert again.conn.id == state.conn.id  # the same connection, handed on
        row = await backend.fetch_one(
            "SELECT current_setting('search_path') AS search_path,"
            " current_setting('statement_timeout') AS timeout,"
            " current_setting('TimeZone') AS tz,"
            " current_setting('application_name') AS app,"
            " current_user = session_user AS own_role,"
            " to_regclass('pg_temp.reinhardt_tmp') AS temp_table,"
            " (SELECT count(*) FROM pg_listening_channels()) AS listening,"
            " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            "   AND pid = pg_backend_pid()) AS advisory_locks,"
            " (SELECT count(*) FROM pg_cursors WHERE name <> '') AS cursors"
        )
    assert row is not None
    assert row._asdict() == {
        "search_path": '"$user", public',
        "timeout": "0",
        "tz": "UTC",  # our connect-time settings survive the reset
        "app": "reinhardt_db",
        "own_role": True,
        "temp_table": None,
        "listening": 0,
        "advisory_locks": 0,
        "cursors": 0,
    }


@pytest.mark.backends("mysql")
async def test_mysql_session_is_reset_for_the_next_user(backend: Database) -> None:
    await backend.fetch_val("SELECT 1")
    resets = _resets(backend)
    async with backend.connection() as state:
        await backend.execute("SET @reinhardt_user_var = 42")
        await backend.execute("SET SESSION sql_mode = ''")
        await backend.execute("SET time_zone = '+05:00'")
        await backend.execute("CREATE TEMPORARY TABLE reinhardt_tmp (x INT)")
        assert await backend.fetch_val("SELECT GET_LOCK('reinhardt_test_lock', 0)") == 1
        await backend.execute("SET autocommit = 0")
    assert [e.detail["error"] for e in resets] == [None]
    async with backend.connection() as again:
        assert again.conn.id == state.conn.id
        row = await backend.fetch_one(
            "SELECT @reinhardt_user_var AS user_var, @@session.sql_mode AS sql_mode,"
            " @@session.time_zone AS tz, @@autocommit AS autocommit,"
            " @@character_set_connection AS charset,"
            " IS_USED_LOCK('reinhardt_test_lock') AS lock_holder"
        )
        with pytest.raises(ProgrammingError, match="reinhardt_tmp"):
            await backend.fetch_all("SELECT * FROM reinhardt_tmp")
    assert row is not None
    assert row["user_var"] is None
    assert "STRICT_ALL_TABLES" in row["sql_mode"]  # our session set-up is back
    assert row["tz"] == "+00:00" and row["autocommit"] == 1 and row["charset"] == "utf8mb4"
    assert row["lock_holder"] is None


@pytest.mark.backends("sqlite")
async def test_sqlite_session_is_reset_for_the_next_user(backend: Database) -> None:
    await backend.fetch_val("SELECT 1")
    resets = _resets(backend)
    async with backend.connection() as state:
        await backend.execute("CREATE TEMP TABLE reinhardt_tmp (x INTEGER)")
        await backend.execute("CREATE TEMP VIEW reinhardt_view AS SELECT 1")
        await backend.execute("PRAGMA foreign_keys = OFF")
        await backend.execute("PRAGMA recursive_triggers = ON")
        await backend.execute("PRAGMA query_only = ON")
        await backend.execute("ATTACH DATABASE ':memory:' AS reinhardt_extra")
    assert [e.detail["error"] for e in resets] == [None]
    async with backend.connection() as again:
        assert again.conn.id == state.conn.id
        temp = await backend.fetch_val("SELECT count(*) FROM temp.sqlite_master")
        databases = [r[1] for r in await backend.fetch_all("PRAGMA database_list")]
        assert temp == 0 and "reinhardt_extra" not in databases
        assert await backend.fetch_val("PRAGMA foreign_keys") == 1
        assert await backend.fetch_val("PRAGMA recursive_triggers") == 0
        assert await backend.fetch_val("PRAGMA query_only") == 0
        assert await backend.fetch_val("PRAGMA busy_timeout") == 5000
        assert await backend.fetch_val("PRAGMA journal_mode") == "wal"


async def test_raw_sql_outside_a_block_is_reset_before_reuse(backend: Database) -> None:
    """One statement, one borrowed connection: the next statement sees none of it."""
    change, read, default = {
        "postgresql": ("SET search_path = pg_catalog", "SHOW search_path", '"$user", public'),
        "mysql": ("SET @reinhardt_var = 1", "SELECT @reinhardt_var", None),
        "sqlite": ("PRAGMA recursive_triggers = ON", "PRAGMA recursive_triggers", 0),
    }[backend.vendor]
    await backend.execute(change)
    assert await backend.fetch_val(read) == default
    assert backend.pool.stats().size == 1  # the same connection both times


async def test_a_transaction_left_open_by_raw_sql_is_rolled_back(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Note)
    begin = "BEGIN" if backend.vendor != "mysql" else "START TRANSACTION"
    async with backend.connection():
        await backend.execute(begin)
        await Note.objects.create(title="never committed")
    assert await Note.objects.count() == 0
    assert await Note.objects.filter(title="never committed").exists() is False


async def test_orm_only_traffic_runs_no_reset(
    backend: Database, make_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_tables(Note)
    manager_class = type(backend.pool.manager)
    calls: list[Any] = []
    original = manager_class.reset

    async def spy(self: Any, conn: Any) -> None:
        calls.append(conn)
        await original(self, conn)

    monkeypatch.setattr(manager_class, "reset", spy)
    resets = _resets(backend)

    note = await Note.objects.create(title="a")
    await Note.objects.bulk_create([Note(title=f"b{i}") for i in range(5)])
    note.hits = 3
    await note.save()
    await Note.objects.filter(title__startswith="b").update(hits=models.F("hits") + 1)
    assert await Note.objects.filter(hits__gte=1).count() == 6
    obj, created = await Note.objects.get_or_create(title="a", defaults={"hits": 9})
    assert not created and obj.hits == 3
    assert [n.title async for n in Note.objects.order_by("id").iterator(chunk_size=2)][:2] == ["a", "b0"]
    async with backend.transaction():
        await Note.objects.create(title="c")
        async for n in Note.objects.order_by("id").iterator(chunk_size=2):
            n.hits += 1
            await n.save(update_fields=["hits"])
    async with backend.connection():
        await Note.objects.get_or_create(title="d")
        async for _ in Note.objects.iterator(chunk_size=3):
            break
        await Note.objects.filter(title="d").delete()
    await asyncio.gather(*(Note.objects.filter(pk=note.pk).exists() for _ in range(4)))
    assert await Note.objects.count() == 7

    assert calls == [] and resets == []
