"""Shared fixtures: every backend test runs on SQLite, PostgreSQL and MariaDB.

- ``backend_name``: parametrized over the vendors (restrict a test with
  ``@pytest.mark.backends("postgresql", "mysql")``).
- ``backend``: configures reinhardt_db with alias ``default`` on that vendor's
  per-worker test database and yields its ``Database``; pools are closed after.
- ``backend_url``: the URL of that database, for tests that configure themselves.
- ``make_tables``: ``await make_tables(Model, ...)`` creates tables now and
  drops them after the test.

With ``CI=true`` an unreachable server fails every test that needs it, with
a message naming the server; elsewhere those tests are skipped with that message.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db.backends import Database, connections
from reinhardt_db.conf import reset_settings

from ._servers import VENDORS, TestServers, create_databases, drop_databases, in_ci, run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run only on these vendors")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = list(marker.args) if marker else list(VENDORS)
        unknown = set(names) - set(VENDORS)
        if unknown:
            raise ValueError(f"unknown backend(s) {sorted(unknown)}; use {VENDORS}")
        metafunc.parametrize("backend_name", names, ids=names)


@pytest.fixture(scope="session")
def test_servers(worker_id: str) -> Iterator[TestServers]:
    with tempfile.TemporaryDirectory(prefix="reinhardt_tests_") as tmp_dir:
        servers = TestServers(worker=worker_id, tmp_dir=tmp_dir)
        run(create_databases(servers))
        try:
            yield servers
        finally:
            run(drop_databases(servers))


@pytest.fixture
def backend_url(test_servers: TestServers, backend_name: str) -> str:
    if backend_name in test_servers.errors:
        message = test_servers.errors[backend_name]
        if in_ci():
            pytest.fail(f"CI=true and a test database server is unreachable: {message}")
        pytest.skip(message)
    return test_servers.urls[backend_name]


@pytest.fixture
async def backend(backend_url: str) -> AsyncIterator[Database]:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        yield connections["default"]
    finally:
        await reinhardt_db.close_all()
        reset_settings()
        if backend_url.startswith("sqlite:///"):
            path = backend_url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)


@pytest.fixture
async def make_tables(backend: Database) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    from reinhardt_db.models.schema import create_tables, drop_tables

    created: list[Any] = []

    async def make(*models: Any) -> None:
        await drop_tables(list(models), using=backend.alias, if_exists=True)
        await create_tables(list(models), using=backend.alias)
        created.extend(models)

    yield make
    if created:
        await drop_tables(created, using=backend.alias, if_exists=True)
