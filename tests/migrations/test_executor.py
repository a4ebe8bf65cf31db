"""Executor planning and --fake bookkeeping (applying DDL comes later)."""

from __future__ import annotations

import pytest

from reinhardt_db.backends import Database
from reinhardt_db.migrations.exceptions import NodeNotFoundError
from reinhardt_db.migrations.executor import MigrationExecutor
from reinhardt_db.migrations.recorder import MigrationRecorder

from ._helpers import App
from .test_loader import migration, squashed


def three(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_b", migration([(app.label, "0001_initial")]))
    app.write_migration("0003_c", migration([(app.label, "0002_b")]))


def names(plan: list[tuple[object, bool]]) -> list[tuple[str, bool]]:
    return [(m.name, backwards) for m, backwards in plan]  # type: ignore[attr-defined]


def executor(app: App, db: Database, applied: list[str]) -> MigrationExecutor:
    loader = app.loader([(app.label, name) for name in applied])
    return MigrationExecutor(db, loader)


def test_plans_forwards_backwards_and_zero(app: App) -> None:
    three(app)
    ex = executor(app, None, ["0001_initial"])  # type: ignore[arg-type]

    assert names(ex.migration_plan(ex.targets())) == [("0002_b", False), ("0003_c", False)]
    assert names(ex.migration_plan(ex.targets(app.label, "0002"))) == [("0002_b", False)]
    assert names(ex.migration_plan(ex.targets(app.label, "zero"))) == [("0001_initial", True)]
    assert ex.migration_plan(ex.targets(app.label, "0001")) == []

    ex = executor(app, None, ["0001_initial", "0002_b", "0003_c"])  # type: ignore[arg-type]
    assert names(ex.migration_plan(ex.targets(app.label, "0001"))) == [
        ("0003_c", True), ("0002_b", True),
    ]
    assert names(ex.migration_plan([(app.label, None)])) == [
        ("0003_c", True), ("0002_b", True), ("0001_initial", True),
    ]
    assert names(ex.migration_plan(ex.targets(), clean_start=True)) == [
        ("0001_initial", False), ("0002_b", False), ("0003_c", False),
    ]


def test_unknown_targets(app: App) -> None:
    three(app)
    ex = executor(app, None, [])  # type: ignore[arg-type]
    with pytest.raises(NodeNotFoundError, match="Cannot find a migration matching '0009'"):
        ex.targets(app.label, "0009")
    with pytest.raises(NodeNotFoundError, match="App 'nope' does not have migrations"):
        ex.targets("nope")


def test_squash_counts_as_applied_once_its_originals_are(app: App) -> None:
    squashed(app)
    ex = executor(app, None, ["0001_initial", "0002_n"])  # type: ignore[arg-type]
    assert names(ex.migration_plan(ex.targets())) == [("0003_m", False)]


async def test_fake_records_forwards_and_backwards(app: App, backend: Database) -> None:
    three(app)
    recorder = MigrationRecorder(backend)
    await recorder.flush()
    try:
        ex = await MigrationExecutor.create(backend, registry=app.registry)
        await ex.fake(ex.migration_plan(ex.targets(app.label, "0002")))
        assert list(await recorder.applied_migrations()) == [
            (app.label, "0001_initial"), (app.label, "0002_b"),
        ]

        ex = await MigrationExecutor.create(backend, registry=app.registry)
        assert names(ex.migration_plan(ex.targets())) == [("0003_c", False)]
        await ex.fake(ex.migration_plan(ex.targets(app.label, "zero")))
        assert await recorder.applied_migrations() == {}
    finally:
        await backend.execute("DROP TABLE IF EXISTS reinhardt_migrations")


async def test_fake_squashed_migration_records_what_it_replaces(
    app: App, backend: Database
) -> None:
    squashed(app)
    recorder = MigrationRecorder(backend)
    await recorder.flush()
    try:
        ex = await MigrationExecutor.create(backend, registry=app.registry)
        await ex.fake(ex.migration_plan(ex.targets()))
        await ex.check_replacements()
        assert set(await recorder.applied_migrations()) == {
            (app.label, "0001_initial"), (app.label, "0002_n"), (app.label, "0003_m"),
            (app.label, "0001_squashed_0002_n"),
        }
    finally:
        await backend.execute("DROP TABLE IF EXISTS reinhardt_migrations")
