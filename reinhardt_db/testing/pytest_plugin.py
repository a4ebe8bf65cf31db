"""reinhardt_db's pytest plugin (registered with the ``pytest11`` entry point).

Fixtures (user docs: docs/testing.md):

- ``db``: the test runs inside a transaction on each test database, rolled
  back when it ends (``reinhardt_db.testing.transactions``).
- ``transactional_db``: no wrapping transaction; every table is emptied after
  the test. Wins over ``db`` when a test asks for both.
- ``migrator``: a :class:`~reinhardt_db.testing.Migrator` on the test database
  (as ``transactional_db``); the latest migrations are applied again afterwards.
- ``assert_num_queries``, ``capture_queries``: the context managers of
  ``reinhardt_db.testing.queries``.
- ``reinhardt_db_setup`` (session): creates the test databases the first time a
  test needs one and drops them at the end (``reinhardt_db.testing.databases``
  says which); override it in a ``conftest.py`` to do that another way.

Options: ``--reinhardt-db-url URL`` (then ``$REINHARDT_TEST_DATABASE_URL``,
then the ``reinhardt_db_url`` ini option) names the default alias's test
database; ``--reinhardt-db=postgresql|mysql`` starts a server with
testcontainers. The database fixtures are async and need pytest-asyncio.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import pytest

from reinhardt_db.conf import configure, get_settings, parse_database_url
from reinhardt_db.exceptions import ImproperlyConfigured, ReinhardtError
from reinhardt_db.testing import queries
from reinhardt_db.testing.databases import (
    ENV_TEST_DATABASE_URL,
    TestDatabases,
    plan_test_databases,
)
from reinhardt_db.testing.migrator import Migrator
from reinhardt_db.testing.transactions import TestTransaction, flush_databases

__all__ = [
    "assert_num_queries",
    "capture_queries",
    "db",
    "migrator",
    "reinhardt_db_setup",
    "transactional_db",
]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the fixtures then explain what is missing
    HAS_PYTEST_ASYNCIO = False
else:
    HAS_PYTEST_ASYNCIO = True

#: The default alias's test database URL given to the plugin, and where it came from.
_GIVEN_URL = pytest.StashKey[tuple[str | None, str]]()
#: The open test transaction of a ``db`` test (set while it runs).
_TRANSACTION = pytest.StashKey[TestTransaction]()
#: Fixtures whose tests get no wrapping transaction.
_TRANSACTIONAL = ("transactional_db", "migrator")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reinhardt_db", "reinhardt_db test databases")
    group.addoption(
        "--reinhardt-db-url", dest="reinhardt_db_url", metavar="URL", default=None,
        help="the default database's test database: server and name (created and dropped "
        f"by the db fixtures; the name must start with 'test'). Also ${ENV_TEST_DATABASE_URL} "
        "or the reinhardt_db_url ini option",
    )
    group.addoption(
        "--reinhardt-db", dest="reinhardt_db_container", choices=("postgresql", "mysql"),
        default=None,
        help="test on a PostgreSQL or MariaDB server started in Docker with testcontainers "
        "(pip install 'reinhardt_db[containers]')",
    )
    parser.addini(
        "reinhardt_db_url", "the default database's test database URL (see --reinhardt-db-url)",
        default=None,
    )


def pytest_configure(config: pytest.Config) -> None:
    url, source = _given_url(config)
    if url is not None:
        if config.getoption("reinhardt_db_container") and source == "--reinhardt-db-url":
            raise pytest.UsageError(
                "--reinhardt-db starts a server of its own and --reinhardt-db-url names one: "
                "pass one of them"
            )
        try:
            parse_database_url(url, key=source)
        except ImproperlyConfigured as error:
            raise pytest.UsageError(str(error)) from None
    config.stash[_GIVEN_URL] = (url, source)


def _given_url(config: pytest.Config) -> tuple[str | None, str]:
    """The URL given to the plugin: command line, then environment, then ini file."""
    url = config.getoption("reinhardt_db_url")
    if url:
        return url, "--reinhardt-db-url"
    url = os.environ.get(ENV_TEST_DATABASE_URL)
    if url:
        return url, ENV_TEST_DATABASE_URL
    url = config.getini("reinhardt_db_url")
    if url:
        return str(url), "reinhardt_db_url (ini option)"
    return None, ""


@pytest.fixture(scope="session")
def reinhardt_db_setup(request: pytest.FixtureRequest) -> Iterator[TestDatabases]:
    """Create the session's test databases and their schema; drop them at the end.

    Each alias's test database is created (a leftover of the same name dropped
    first), the settings are pointed at them, and the schema is built:
    ``migrate`` for the apps with migrations, ``create_tables()`` for the other
    registered models. Fails every test that needs a database, naming the
    cause, when that is not possible.
    """
    from reinhardt_db.testing.containers import start_server

    config = request.config
    url, source = config.stash[_GIVEN_URL]
    worker = getattr(config, "workerinput", {}).get("workerid")
    vendor = config.getoption("reinhardt_db_container")
    stop: Callable[[], None] | None = None
    failure = None
    try:
        if vendor:
            url, stop = start_server(vendor)
            source = f"--reinhardt-db={vendor}"
        plan = plan_test_databases(get_settings(), url=url, url_source=source, worker=worker)
        databases = TestDatabases(plan)
        databases.set_up()
    except ReinhardtError as error:
        failure = f"reinhardt_db could not set up the test databases: {error}"
    if failure is not None:
        if stop is not None:
            stop()
        pytest.fail(failure, pytrace=False)
    try:
        yield databases
    finally:
        try:
            databases.tear_down()
        finally:
            if stop is not None:
                stop()


if HAS_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def _reinhardt_db(
        request: pytest.FixtureRequest, reinhardt_db_setup: TestDatabases
    ) -> AsyncIterator[None]:
        from reinhardt_db.backends import connections

        plan = reinhardt_db_setup.plan
        replaced = False
        try:
            if any(name in request.fixturenames for name in _TRANSACTIONAL):
                yield
                replaced = _restore_settings(plan.test_settings)
                await flush_databases(plan.distinct_aliases())
            else:
                transaction = TestTransaction(plan.shared())
                await transaction.begin()
                request.node.stash[_TRANSACTION] = transaction
                try:
                    yield
                finally:
                    del request.node.stash[_TRANSACTION]
                    await transaction.rollback()
                replaced = _restore_settings(plan.test_settings)
        finally:
            # The pools belong to this test's event loop, which may end with it.
            await connections.close_all()
        if replaced:
            pytest.fail(
                "the test replaced reinhardt_db's settings (configure(), load_settings() or "
                "reset_settings()), so it ran away from the test databases; configure the "
                "project once, in conftest.py, before the tests run",
                pytrace=False,
            )

    @pytest_asyncio.fixture
    async def migrator(_reinhardt_db: None) -> AsyncIterator[Migrator]:
        """A ``Migrator`` on the test database; the latest migrations are applied afterwards.

        No transaction wraps the test (migrations need connections of their
        own); the tables are emptied afterwards, as for ``transactional_db``.
        """
        instance = Migrator()
        yield instance
        await instance.migrate()

else:  # pragma: no cover - exercised only where pytest-asyncio is missing

    @pytest.fixture
    def _reinhardt_db() -> None:
        pytest.fail("reinhardt_db's database fixtures are async: install pytest-asyncio")

    @pytest.fixture
    def migrator() -> Any:
        """Needs pytest-asyncio: ``pip install pytest-asyncio``."""
        pytest.fail("the migrator fixture is async: install pytest-asyncio to use it")


def _restore_settings(expected: Any) -> bool:
    """Put the test settings back if the test replaced them; return whether it had."""
    if get_settings() is expected:
        return False
    configure(expected)
    return True


@pytest.fixture
def db(_reinhardt_db: None) -> None:
    """Run the test inside a transaction on each test database, rolled back afterwards.

    ``atomic()`` blocks in the test become savepoints; ``on_commit`` callbacks
    are dropped with the transaction (``capture_on_commit_callbacks`` runs them).
    Statements that would need another connection (another event loop, a
    thread, a durable block) raise ``TransactionManagementError``.
    """


@pytest.fixture
def transactional_db(_reinhardt_db: None) -> None:
    """Let the test commit for real; every table is emptied (ids reset) afterwards."""


@pytest.fixture
def assert_num_queries() -> Callable[..., Any]:
    """``with assert_num_queries(n):`` fails unless the block runs exactly ``n`` statements."""
    return queries.assert_num_queries


@pytest.fixture
def capture_queries() -> Callable[..., Any]:
    """``with capture_queries() as captured:`` collects the statements the block runs."""
    return queries.capture_queries


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Bind a ``db`` test's connections in the test's own task (or hide them from a sync test)."""
    transaction = item.stash.get(_TRANSACTION, None)
    if transaction is None or not isinstance(item, pytest.Function):
        return (yield)
    function = item.obj
    item.obj = _bound(function, transaction)
    try:
        return (yield)
    finally:
        item.obj = function


def _bound(function: Callable[..., Any], transaction: TestTransaction) -> Callable[..., Any]:
    """``function`` run with the test transaction's connections bound (async) or hidden (sync).

    The fixture began the transaction in a task of its own; whether its
    context reaches the test depends on the runner, so the test's task binds
    the connections itself.
    """
    from reinhardt_db.backends.state import bindings

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def in_transaction(*args: Any, **kwargs: Any) -> Any:
            token = transaction.bind()
            try:
                return await function(*args, **kwargs)
            finally:
                if token is not None:
                    bindings.reset(token)

        return in_transaction

    @functools.wraps(function)
    def hidden(*args: Any, **kwargs: Any) -> Any:
        token = transaction.unbind()
        try:
            return function(*args, **kwargs)
        finally:
            bindings.reset(token)

    return hidden
