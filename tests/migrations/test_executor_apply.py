"""The executor applying migrations: transactions, records, failures, --fake-initial, the lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from reinhardt_db.backends import Database
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.migrations.exceptions import MigrateLockTimeout, MigrationFailed
from reinhardt_db.migrations.executor import MigrationExecutor, Step, migrate_database
from reinhardt_db.migrations.lock import migrate_lock
from reinhardt_db.migrations.recorder import MigrationRecorder

from ._helpers import App

HEAD = "from reinhardt_db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"


def write(app: App, name: str, operations: str, after: str | None = None, extra: str = "") -> None:
    deps = f"[('{app.label}', '{after}')]" if after else "[]"
    app.write_migration(
        name, HEAD + extra + f"    dependencies = {deps}\n    operations = [\n{operations}    ]\n"
    )


def author_chain(app: App) -> None:
    write(app, "0001_initial", (
        "        migrations.CreateModel('Author', fields=[\n"
        "            ('id', models.BigAutoField(primary_key=True)),\n"
        "            ('name', models.CharField(max_length=50)),\n"
        "        ]),\n"
    ), extra="    initial = True\n")
    write(app, "0002_author_age", (
        "        migrations.AddField('author', 'age', models.IntegerField(default=0)),\n"
    ), after="0001_initial")


def table(app: App) -> str:
    return f"{app.label}_author"


@pytest.fixture
async def db(backend: Database, app: App) -> AsyncIterator[Database]:
    await MigrationRecorder(backend).flush()
    yield backend
    for name in (table(app), f"{app.label}_book"):
        await backend.execute(f"DROP TABLE IF EXISTS {name}")
    await MigrationRecorder(backend).flush()


async def applied(db: Database, app: App) -> list[str]:
    return [name for (label, name) in await MigrationRecorder(db).applied_migrations()
            if label == app.label]


async def columns(db: Database, name: str) -> list[str]:
    return [c.name for c in await introspect(db).get_columns(name)]


async def run(db: Database, app: App, *target: str, **options: Any) -> list[Step]:
    steps: list[Step] = []
    await migrate_database(db, *target, registry=app.registry, progress=steps.append, **options)
    return steps


async def test_forwards_to_a_target_then_on_then_back_to_zero(db: Database, app: App) -> None:
    author_chain(app)
    steps = await run(db, app, app.label, "0001")
    assert [(s.migration.name, s.how) for s in steps if s.seconds is not None] == [
        ("0001_initial", "applied"),
    ]
    assert await columns(db, table(app)) == ["id", "name"]
    await db.execute(f"INSERT INTO {table(app)} (name) VALUES (%s)", ["Ann"])

    await run(db, app)
    assert await columns(db, table(app)) == ["id", "name", "age"]
    assert [tuple(r) for r in await db.fetch_all(f"SELECT name, age FROM {table(app)}")] == [
        ("Ann", 0)
    ]
    assert await applied(db, app) == ["0001_initial", "0002_author_age"]

    steps = await run(db, app, app.label, "zero")
    assert [(s.migration.name, s.how) for s in steps if s.seconds is not None] == [
        ("0002_author_age", "unapplied"), ("0001_initial", "unapplied"),
    ]
    assert table(app) not in await introspect(db).table_names()
    assert await applied(db, app) == []


async def test_a_failing_migration_leaves_schema_and_record_as_before(
    db: Database, app: App
) -> None:
    author_chain(app)
    write(app, "0003_broken", (
        "        migrations.AddField('author', 'nick', models.CharField(max_length=9, default='x')),\n"
        "        migrations.RunSQL('SELECT * FROM no_such_table_at_all'),\n"
    ), after="0002_author_age")
    await run(db, app, app.label, "0002")

    with pytest.raises(MigrationFailed) as failed:
        await run(db, app)

    message = str(failed.value)
    assert f"Applying {app.label}.0003_broken failed at operation 2 of 2 (Raw SQL" in message
    assert "no_such_table_at_all" in message
    assert await applied(db, app) == ["0001_initial", "0002_author_age"]
    if db.features.supports_transactional_ddl:
        assert "its transaction was rolled back" in message
        assert await columns(db, table(app)) == ["id", "name", "age"]
    else:
        assert "Operations 1-1 ran and stay in the database" in message
        assert "Add field nick to author" in message
        assert await columns(db, table(app)) == ["id", "name", "age", "nick"]


async def test_fake_and_fake_initial(db: Database, app: App) -> None:
    author_chain(app)
    steps = await run(db, app, app.label, "0001", fake=True)
    assert [s.how for s in steps if s.seconds is not None] == ["faked"]
    assert table(app) not in await introspect(db).table_names(), "--fake runs nothing"
    await run(db, app, app.label, "zero", fake=True)

    await run(db, app, app.label, "0001")
    await MigrationRecorder(db).flush()  # the tables are there, the history is lost
    steps = await run(db, app, fake_initial=True)
    assert [(s.migration.name, s.how) for s in steps if s.seconds is not None] == [
        ("0001_initial", "faked-initial"), ("0002_author_age", "applied"),
    ]
    assert await applied(db, app) == ["0001_initial", "0002_author_age"]
    assert await columns(db, table(app)) == ["id", "name", "age"]


async def test_fake_initial_applies_when_the_tables_are_missing(db: Database, app: App) -> None:
    author_chain(app)
    steps = await run(db, app, fake_initial=True)
    assert [s.how for s in steps if s.seconds is not None] == ["applied", "applied"]
    assert await columns(db, table(app)) == ["id", "name", "age"]


@pytest.mark.backends("postgresql")
async def test_non_atomic_migration_runs_outside_a_transaction(db: Database, app: App) -> None:
    author_chain(app)
    write(app, "0003_index", (
        "        migrations.AddIndexConcurrently('author', "
        "models.Index(fields=['name'], name='author_name_idx')),\n"
    ), after="0002_author_age", extra="    atomic = False\n")
    await run(db, app)
    constraints = await introspect(db).get_constraints(table(app))
    assert constraints["author_name_idx"].columns == ("name",)


async def test_runs_started_together_apply_each_migration_once(db: Database, app: App) -> None:
    author_chain(app)
    waited: list[int] = []
    both_waiting = asyncio.Event()

    def wait_noted(run_number: int) -> None:
        waited.append(run_number)
        if len(waited) == 2:
            both_waiting.set()

    # The test holds the lock until both runs wait for it, so they truly overlap
    # (left to the scheduler, a loaded machine may finish one before the other asks).
    async with migrate_lock(db):
        runs = asyncio.gather(
            run(db, app, on_lock_wait=lambda: wait_noted(1)),
            run(db, app, on_lock_wait=lambda: wait_noted(2)),
        )
        async with asyncio.timeout(30):  # bounds a hang, not a speed target
            await both_waiting.wait()
    first, second = await runs
    done = [s for s in first + second if s.seconds is not None]
    assert sorted(s.migration.name for s in done) == ["0001_initial", "0002_author_age"]
    assert sorted(waited) == [1, 2]
    assert await applied(db, app) == ["0001_initial", "0002_author_age"]


async def test_a_run_that_cannot_get_the_lock_gives_up_clearly(db: Database, app: App) -> None:
    author_chain(app)
    async with migrate_lock(db):
        with pytest.raises(MigrateLockTimeout, match=r"still holds the migrate lock of database "
                           r"'default' .* after waiting 0\.3s"):
            await run(db, app, lock_wait=0.3)
    assert await applied(db, app) == []


async def test_mixed_plans_are_refused(db: Database, app: App) -> None:
    from reinhardt_db.migrations.exceptions import InvalidMigrationPlan

    author_chain(app)
    executor = await MigrationExecutor.create(db, registry=app.registry)
    one, two = (executor.loader.get_migration(app.label, n)
                for n in ("0001_initial", "0002_author_age"))
    with pytest.raises(InvalidMigrationPlan, match="both applies and unapplies"):
        await executor.migrate([(one, False), (two, True)])


@pytest.mark.backends("postgresql", "mysql")
async def test_no_connection_keeps_the_lock_after_a_run(db: Database, app: App) -> None:
    """The lock lives on a connection of its own, closed at the end: none is left held."""
    author_chain(app)
    await run(db, app)
    try_sql, unlock_sql, params = db.schema_editor().migrate_lock_sql(db)  # type: ignore[misc]
    if db.vendor == "postgresql":
        held = await db.fetch_val(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert held == 0
    else:
        assert await db.fetch_val("SELECT IS_USED_LOCK(%s)", params) is None
    async with db.connection():  # take and give back the lock on one connection
        assert await db.fetch_val(try_sql, params) == 1, "nobody holds it"
        assert await db.fetch_val(unlock_sql, params) == 1
