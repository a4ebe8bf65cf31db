"""The recorder table ``reinhardt_migrations`` on every backend."""

from __future__ import annotations

import datetime as dt

from reinhardt_db.backends import Database
from reinhardt_db.migrations.recorder import MigrationRecorder


async def drop(db: Database) -> None:
    await db.execute("DROP TABLE IF EXISTS reinhardt_migrations")


async def test_records_applied_and_unapplied(backend: Database) -> None:
    await drop(backend)
    recorder = MigrationRecorder(backend)
    try:
        assert await recorder.applied_migrations() == {}
        assert not await recorder.has_table()
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)

        await recorder.record_applied("blog", "0001_initial")
        await recorder.record_applied("blog", "0002_more")
        await recorder.record_unapplied("blog", "0001_initial")

        applied = await MigrationRecorder(backend).applied_migrations()
        assert list(applied) == [("blog", "0002_more")]
        when = applied["blog", "0002_more"]
        assert when.tzinfo is not None
        assert before <= when <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        rows = await backend.fetch_all("SELECT app, name FROM reinhardt_migrations")
        assert [tuple(row) for row in rows] == [("blog", "0002_more")]
        await recorder.ensure_schema()  # idempotent
        await recorder.flush()
        assert await recorder.applied_migrations() == {}
    finally:
        await drop(backend)


async def test_probing_for_the_table_inside_a_transaction_keeps_it_usable(
    backend: Database,
) -> None:
    await drop(backend)
    async with backend.transaction():
        assert not await MigrationRecorder(backend).has_table()
        assert await backend.fetch_val("SELECT 1") == 1
    recorder = MigrationRecorder(backend)
    try:
        await recorder.ensure_schema()
        async with backend.transaction():
            assert await MigrationRecorder(backend).has_table()
    finally:
        await drop(backend)
