"""The test databases of a pytest session: which ones, created, given a schema, dropped.

Used by the pytest plugin (``reinhardt_db.testing.pytest_plugin``); usable on
its own::

    plan = plan_test_databases(get_settings(), url="postgresql://u@h/test_app")
    databases = TestDatabases(plan)
    databases.set_up()        # CREATE DATABASE, migrate, configure() the test settings
    ...
    databases.tear_down()     # DROP DATABASE, the project's settings back

Which database each alias uses while testing:

1. ``default``: a URL given to the plugin (``--reinhardt-db-url``, then
   ``$REINHARDT_TEST_DATABASE_URL``, then the ``reinhardt_db_url`` ini option)
   names the server and the test database itself;
2. otherwise the alias's own URL (the project's settings) with the database
   name replaced by the alias's ``test`` setting, or ``test_<name>``; SQLite's
   ``test_<file name>`` goes to a temporary directory.

Under pytest-xdist each worker adds its id (``test_app_gw0``). A name that does
not start with ``test`` is refused unless the alias's ``test`` setting gives it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, TypeVar

from reinhardt_db.conf import (
    DEFAULT_DATABASE_ALIAS,
    DatabaseSettings,
    DatabaseURL,
    Settings,
    configure,
    parse_database_url,
)
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = [
    "ENV_TEST_DATABASE_URL",
    "TestDatabasePlan",
    "TestDatabases",
    "plan_test_databases",
    "run_in_own_loop",
]

#: Environment variable naming the default alias's test database (server and name).
ENV_TEST_DATABASE_URL = "REINHARDT_TEST_DATABASE_URL"

T = TypeVar("T")

_MEMORY_REFUSED = (
    "an in-memory SQLite database lives as long as one connection, and the test fixtures "
    "open a pool per event loop (pytest-asyncio gives each test its own loop), so its "
    "tables would be gone after the first test. Leave it out (a temporary file is used) "
    "or name a file"
)


@dataclass
class TestDatabasePlan:
    """What a session tests on: the project's settings, and the same pointing at test databases.

    ``test_settings`` has every alias's URL replaced; ``temp_dir`` holds the
    SQLite test files that were not named (removed at the end).
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    settings: Settings
    test_settings: Settings
    temp_dir: str | None = None

    def urls(self) -> dict[str, DatabaseURL]:
        """Each alias's test database URL."""
        return {alias: db.parsed for alias, db in self.test_settings.databases.items()}

    def shared(self) -> dict[str, str]:
        """Each alias and the first alias naming the same test database (itself, mostly)."""
        first: dict[tuple[Any, ...], str] = {}
        shared: dict[str, str] = {}
        for alias, url in self.urls().items():
            database = os.path.abspath(url.database) if url.vendor == "sqlite" else url.database
            shared[alias] = first.setdefault((url.vendor, url.host, url.port, database), alias)
        return shared

    def distinct_aliases(self) -> list[str]:
        """One alias per test database (the first of those naming it)."""
        return list(dict.fromkeys(self.shared().values()))


def plan_test_databases(
    settings: Settings,
    *,
    url: str | None = None,
    url_source: str = "--reinhardt-db-url",
    worker: str | None = None,
) -> TestDatabasePlan:
    """Decide the test database of every alias of ``settings`` (see the module's docstring).

    ``url`` (from ``url_source``, named in errors) replaces the default
    alias's; ``worker`` is the pytest-xdist worker id. Raise
    ``ImproperlyConfigured`` for a name the fixtures must not touch.
    """
    made: list[str] = []

    def temp_dir() -> str:
        if not made:
            made.append(tempfile.mkdtemp(prefix="reinhardt_test_"))
        return made[0]

    try:
        databases = {
            alias: _test_database(alias, db, url, url_source, worker, temp_dir)
            for alias, db in settings.databases.items()
        }
    except BaseException:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
        raise
    test_settings = settings.model_copy(update={"databases": databases})
    return TestDatabasePlan(settings, test_settings, made[0] if made else None)


def _test_database(
    alias: str,
    db: DatabaseSettings,
    url: str | None,
    url_source: str,
    worker: str | None,
    temp_dir: Callable[[], str],
) -> DatabaseSettings:
    """``db`` pointing at its test database."""
    explicit = False
    if alias == DEFAULT_DATABASE_ALIAS and url is not None:
        parsed = parse_database_url(url, key=url_source)
        name, source = parsed.database, url_source
    elif db.test:
        parsed = db.parsed
        name, source, explicit = db.test, f"databases.{alias}.test", True
    else:
        parsed = db.parsed
        source = f"databases.{alias}.url"
        if parsed.vendor == "sqlite":
            base = f"{alias}.sqlite3" if parsed.is_memory else PurePath(parsed.database).name
            name = os.path.join(temp_dir(), f"test_{base}")
        else:
            name = f"test_{parsed.database}"
    _check_name(parsed.vendor, name, source, alias, explicit)
    name = _for_worker(parsed.vendor, name, worker)
    return db.model_copy(update={"url": parsed.with_database(name).render(hide_password=False)})


def _check_name(vendor: str, name: str, source: str, alias: str, explicit: bool) -> None:
    if vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name):
        raise ImproperlyConfigured(f"{source}: {_MEMORY_REFUSED}")
    shown = PurePath(name).name if vendor == "sqlite" else name
    if explicit or shown.lower().startswith("test"):
        return
    raise ImproperlyConfigured(
        f"{source}: the test fixtures create and drop database {name!r} (dropping what it "
        f"holds), and refuse a name that does not start with 'test' unless "
        f"databases.{alias}.test gives it. Name a test database, such as 'test_{shown}'"
    )


def _for_worker(vendor: str, name: str, worker: str | None) -> str:
    if not worker:
        return name
    if vendor == "sqlite":
        path = PurePath(name)
        return str(path.with_name(f"{path.stem}_{worker}{path.suffix}"))
    return f"{name}_{worker}"


def run_in_own_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run ``make()`` to its end on a new event loop in a thread of its own.

    Nothing of the caller's context (a task's bound connection, a running
    loop) reaches it; its pools must be closed before it returns.
    """
    outcome: dict[str, Any] = {}

    async def main() -> T:
        return await make()

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(main())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name="reinhardt-test-databases")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result


class TestDatabases:
    """Create the planned test databases and their schema; drop them at the end.

    :meth:`set_up` installs the test settings (``configure``) and
    :meth:`tear_down` the project's again.
    """

    __test__ = False

    def __init__(self, plan: TestDatabasePlan) -> None:
        self.plan = plan
        self._created: list[str] = []

    def set_up(self) -> None:
        """Create every test database (dropping leftovers), configure, build the schema."""
        configure(self.plan.test_settings)
        try:
            run_in_own_loop(self._set_up)
        except BaseException:
            self.tear_down()
            raise

    def tear_down(self) -> None:
        """Drop what :meth:`set_up` created and put the project's settings back."""
        try:
            if self._created:
                run_in_own_loop(self._drop)
        finally:
            configure(self.plan.settings)
            if self.plan.temp_dir is not None:
                shutil.rmtree(self.plan.temp_dir, ignore_errors=True)

    async def _set_up(self) -> None:
        from reinhardt_db.backends import connections

        try:
            for alias in self.plan.distinct_aliases():
                await connections[alias].creation().create()
                self._created.append(alias)
            for alias in self.plan.test_settings.databases:
                await _build_schema(alias)
        finally:
            await connections.close_all()

    async def _drop(self) -> None:
        from reinhardt_db.backends import connections

        await connections.close_all()
        for alias in self._created:
            await connections[alias].creation().drop()
        self._created = []


async def _build_schema(alias: str) -> None:
    """Migrate ``alias``, then create the tables of every other registered model.

    Apps with a migrations package get their tables from ``migrate`` (as the
    routers allow on ``alias``); the managed models of every other app (no
    migrations, not installed: models declared in test modules) from
    ``create_tables()``.
    """
    from reinhardt_db.apps import apps
    from reinhardt_db.backends import connections
    from reinhardt_db.cli.commands.makemigrations import load_project
    from reinhardt_db.migrations.executor import migrate_database
    from reinhardt_db.migrations.loader import MigrationLoader
    from reinhardt_db.models.schema import create_tables
    from reinhardt_db.routers import router

    load_project()
    migrated = MigrationLoader().migrated_apps
    if migrated:
        await migrate_database(connections[alias])
    models = [
        model for model in apps.get_models()
        if model._meta.app_label not in migrated and router.allow_migrate_model(alias, model)
    ]
    if models:
        await create_tables(models, using=alias, if_not_exists=True)
