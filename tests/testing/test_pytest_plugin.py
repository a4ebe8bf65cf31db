"""The pytest plugin as a user's project meets it: small test suites run with pytester.

Each suite runs in a child pytest (``runpytest_subprocess``) against a test
database named here (``test_reinhardt_plug_*``), on each backend.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from reinhardt_db.conf import Settings, parse_database_url
from reinhardt_db.exceptions import ImproperlyConfigured
from reinhardt_db.testing.databases import plan_test_databases

from .._servers import SERVER_URLS, _mysql_admin, _pg_admin, in_ci

if TYPE_CHECKING:
    from .._servers import TestServers

pytest_plugins = ["pytester"]

SHOP_MODELS = """
from reinhardt_db import models


class Customer(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    total = models.IntegerField(default=0)
"""

SHOP_INITIAL = """
from reinhardt_db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel("Customer", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("name", models.CharField(unique=True, max_length=50)),
        ]),
        migrations.CreateModel("Order", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("customer", models.ForeignKey(
                to="shop.Customer", on_delete=models.CASCADE, related_name="orders")),
            ("total", models.IntegerField(default=0)),
        ]),
    ]
"""

CONFTEST = """
import reinhardt_db

reinhardt_db.configure(databases={"default": "sqlite:///app.sqlite3"}, installed_apps=["shop"])
"""

# The user's tests. EXPECTED is the test database's name (for SQLite: the file's).
USER_TESTS = """
import asyncio
import contextvars

import pytest

from reinhardt_db import models, transaction
from reinhardt_db.backends import connections
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.exceptions import TransactionManagementError
from reinhardt_db.testing import capture_on_commit_callbacks
from shop.models import Customer, Order


class Note(models.Model):  # an app without migrations: its table comes from create_tables()
    text = models.CharField(max_length=20)

    class Meta:
        app_label = "notes"


async def elsewhere(coro):
    # A task that sees nothing of this one's context: a connection of its own.
    return await asyncio.create_task(coro, context=contextvars.Context())


async def test_the_test_database_was_created_with_the_schema(db):
    database = connections["default"]
    assert database.settings.parsed.database.endswith({expected!r})
    tables = set(await introspect(database).table_names())
    assert "leftover" not in tables
    assert {{"shop_customer", "shop_order", "notes_note", "reinhardt_migrations"}} <= tables
    applied = "SELECT COUNT(*) FROM reinhardt_migrations WHERE app = 'shop'"
    assert await database.fetch_val(applied) == 1


async def test_db_writes(db):
    ann = await Customer.objects.create(name="ann")
    await Order.objects.create(customer=ann, total=5)
    await Note.objects.create(text="n")
    assert await Order.objects.count() == 1


async def test_db_writes_are_gone_in_the_next_test(db):
    assert await Customer.objects.count() == 0
    assert await Order.objects.count() == 0
    assert await Note.objects.count() == 0


async def test_atomic_inside_db_is_a_savepoint(db):
    await Customer.objects.create(name="kept")
    with pytest.raises(ZeroDivisionError):
        async with transaction.atomic():
            await Customer.objects.create(name="undone")
            1 / 0
    async with transaction.atomic():
        await Customer.objects.create(name="also kept")
    names = await Customer.objects.order_by("name").values_list("name", flat=True)
    assert names == ["also kept", "kept"]


async def test_on_commit_callbacks_wait_for_a_commit_that_never_comes(db):
    ran = []
    async with transaction.atomic():
        transaction.on_commit(lambda: ran.append("dropped"))
    assert ran == []
    async with capture_on_commit_callbacks(execute=True) as callbacks:
        async with transaction.atomic():
            transaction.on_commit(lambda: ran.append("run"))
    assert ran == ["run"] and len(callbacks) == 1


@pytest.fixture
def context_without_the_binding(db):
    # What a runner that does not carry fixtures' context to the test would leave.
    from reinhardt_db.backends.state import bindings

    token = bindings.set(None)
    yield
    bindings.reset(token)


async def test_the_test_task_is_bound_whatever_the_runner_passed(context_without_the_binding):
    await Customer.objects.create(name="in the transaction")
    assert await Customer.objects.count() == 1


async def test_a_statement_outside_the_test_transaction_fails_loudly(db):
    with pytest.raises(TransactionManagementError, match="db fixture's test transaction"):
        await elsewhere(Customer.objects.create(name="leak"))


def test_a_sync_test_cannot_reach_around_the_transaction(db):
    with pytest.raises(TransactionManagementError, match="db fixture's test transaction"):
        asyncio.run(Customer.objects.count())


async def test_the_query_fixtures(db, assert_num_queries, capture_queries):
    with assert_num_queries(1):
        await Customer.objects.count()
    with capture_queries() as captured:
        await Customer.objects.filter(name="ann").exists()
    assert "shop_customer" in captured[0].sql


async def test_nothing_leaked(db):
    assert await Customer.objects.count() == 0


async def test_transactional_db_commits(transactional_db):
    async with connections["default"].connection():  # this task holds one connection ...
        await Customer.objects.create(name="committed")
        assert await elsewhere(Customer.objects.count()) == 1  # ... another one sees the row


async def test_transactional_db_empties_the_tables_afterwards(transactional_db):
    assert await Customer.objects.count() == 0
    assert (await Customer.objects.create(name="first")).pk == 1  # ids start again
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's project: app ``shop`` with a migration, settings in conftest.py."""
    for name in ("REINHARDT_DATABASE_URL", "REINHARDT_SETTINGS", "REINHARDT_TEST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "pythonpath = .\n"
    )
    pytester.makepyfile(**{
        "conftest": CONFTEST,
        "shop/__init__": "",
        "shop/models": SHOP_MODELS,
        "shop/migrations/__init__": "",
        "shop/migrations/0001_initial": SHOP_INITIAL,
    })
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=60)


# -- the test database on each backend --------------------------------------------------------
def server_url(vendor: str, test_servers: TestServers, name: str, tmp_path: Path) -> str:
    """The URL of test database ``name`` on ``vendor``'s server (SQLite: a file in tmp_path)."""
    if vendor == "sqlite":
        return f"sqlite:///{tmp_path / name}.sqlite3"
    if vendor in test_servers.errors:
        message = test_servers.errors[vendor]
        if in_ci():
            pytest.fail(f"CI=true and a test database server is unreachable: {message}")
        pytest.skip(message)
    return parse_database_url(SERVER_URLS[vendor]).with_database(name).render(hide_password=False)


async def databases_named(vendor: str, prefix: str) -> list[str]:
    if vendor == "postgresql":
        pg = await _pg_admin(SERVER_URLS[vendor])
        try:
            rows = await pg.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1",
                                  prefix + "%")
        finally:
            await pg.close()
        return sorted(row[0] for row in rows)
    my = await _mysql_admin(SERVER_URLS[vendor])
    try:
        async with my.cursor() as cur:
            await cur.execute("SHOW DATABASES LIKE %s", (prefix + "%",))
            return sorted(row[0] for row in await cur.fetchall())
    finally:
        my.close()


async def make_database(url: str, table: str) -> None:
    """Create the database ``url`` names, holding an empty table ``table``."""
    parsed = parse_database_url(url)
    name = parsed.database
    if parsed.vendor == "postgresql":
        pg = await _pg_admin(SERVER_URLS["postgresql"])
        try:
            await pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await pg.execute(f'CREATE DATABASE "{name}"')
        finally:
            await pg.close()
        inside = await _pg_admin(url)
        try:
            await inside.execute(f"CREATE TABLE {table} (id integer)")
        finally:
            await inside.close()
    else:
        my = await _mysql_admin(SERVER_URLS["mysql"])
        try:
            async with my.cursor() as cur:
                with warnings.catch_warnings():  # "database doesn't exist": not news
                    warnings.simplefilter("ignore")
                    await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                await cur.execute(f"CREATE DATABASE `{name}`")
                await cur.execute(f"CREATE TABLE `{name}`.{table} (id integer)")
        finally:
            my.close()


async def drop_database(url: str) -> None:
    parsed = parse_database_url(url)
    if parsed.vendor == "postgresql":
        pg = await _pg_admin(SERVER_URLS["postgresql"])
        try:
            await pg.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        finally:
            await pg.close()
    else:
        my = await _mysql_admin(SERVER_URLS["mysql"])
        try:
            async with my.cursor() as cur:
                await cur.execute(f"DROP DATABASE IF EXISTS `{parsed.database}`")
        finally:
            my.close()


def make_leftover(url: str) -> None:
    """A database of the test database's name, left by a crashed run, with a table in it."""
    parsed = parse_database_url(url)
    if parsed.vendor == "sqlite":
        with sqlite3.connect(parsed.database) as conn:
            conn.execute("CREATE TABLE leftover (id integer)")
        return
    asyncio.run(make_database(url, "leftover"))


def database_exists(url: str) -> bool:
    parsed = parse_database_url(url)
    if parsed.vendor == "sqlite":
        return os.path.exists(parsed.database)
    return parsed.database in asyncio.run(databases_named(parsed.vendor, parsed.database))


def test_db_and_transactional_db_on_each_backend(
    project: pytest.Pytester, backend_name: str, test_servers: TestServers, tmp_path: Path
) -> None:
    url = server_url(backend_name, test_servers, f"test_reinhardt_plug_fx_{backend_name}",
                     tmp_path)
    expected = Path(parse_database_url(url).database).name
    make_leftover(url)
    project.makepyfile(test_user=USER_TESTS.format(expected=expected))

    result = run(project, "--reinhardt-db-url", url)

    result.assert_outcomes(passed=12)
    assert not database_exists(url)  # dropped at the end


def test_each_xdist_worker_gets_a_database_of_its_own(
    project: pytest.Pytester, test_servers: TestServers, tmp_path: Path
) -> None:
    url = server_url("postgresql", test_servers, "test_reinhardt_plug_xd", tmp_path)
    project.makepyfile(test_workers=textwrap.dedent("""
        import pytest

        from reinhardt_db.backends import connections
        from shop.models import Customer


        @pytest.mark.parametrize("n", range(4))
        async def test_rows(db, worker_id, n):
            name = connections["default"].settings.parsed.database
            assert name == f"test_reinhardt_plug_xd_{worker_id}"
            await Customer.objects.create(name="same name in every test")
    """))

    result = run(project, "-n", "2", "--reinhardt-db-url", url)

    result.assert_outcomes(passed=4)
    assert asyncio.run(databases_named("postgresql", "test_reinhardt_plug_xd")) == []


def test_aliases_on_one_database_share_the_test_transaction(project: pytest.Pytester) -> None:
    project.makepyfile(
        conftest=CONFTEST.replace(
            '{"default": "sqlite:///app.sqlite3"}',
            '{"default": "sqlite:///app.sqlite3", "replica": "sqlite:///app.sqlite3"}',
        ),
        test_replica=textwrap.dedent("""
            from shop.models import Customer


            async def test_the_replica_reads_the_test_transaction(db):
                await Customer.objects.create(name="ann")
                assert await Customer.objects.using("replica").count() == 1


            async def test_and_it_is_rolled_back_for_both(db):
                assert await Customer.objects.using("replica").count() == 0
        """),
    )

    run(project).assert_outcomes(passed=2)


# -- clear errors -------------------------------------------------------------------------
def test_a_bad_url_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="async def test_x(db):\n    pass\n")

    result = run(project, "--reinhardt-db-url", "postgress://u@localhost/test_app")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*--reinhardt-db-url: unknown database URL scheme 'postgress://' "
        "(did you mean 'postgres://'?)*"
    ])


def test_a_database_not_named_test_is_refused_and_left_alone(
    project: pytest.Pytester, test_servers: TestServers, tmp_path: Path
) -> None:
    url = server_url("postgresql", test_servers, "reinhardt_plug_keep", tmp_path)
    asyncio.run(make_database(url, "precious"))
    try:
        project.makepyfile(test_x="async def test_x(db):\n    pass\n")

        result = run(project, "--reinhardt-db-url", url)

        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines([
            "*--reinhardt-db-url: the test fixtures create and drop database "
            "'reinhardt_plug_keep'*refuse a name that does not start with 'test'*"
        ])
        assert database_exists(url)
    finally:
        asyncio.run(drop_database(url))


def test_an_unreachable_server_fails_the_tests_naming_it(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="async def test_x(db):\n    pass\n")

    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = run(project, "--reinhardt-db-url", "postgresql://u@127.0.0.1:9/test_app")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*reinhardt_db could not set up the test databases:*127.0.0.1:9*"
    ])


def test_without_testcontainers_a_container_request_says_what_to_install(
    project: pytest.Pytester,
) -> None:
    try:
        import testcontainers  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("testcontainers is installed here; the stubbed-Docker test covers it")
    project.makepyfile(test_x="async def test_x(db):\n    pass\n")

    result = run(project, "--reinhardt-db=postgresql")

    result.assert_outcomes(errors=1)
    assert (
        "--reinhardt-db=postgresql starts a database server in Docker with testcontainers, "
        "which is not installed (No module named 'testcontainers'): "
        "pip install 'reinhardt_db[containers]'"
    ) in result.stdout.str()


def test_without_docker_a_container_request_says_docker_is_not_available(
    project: pytest.Pytester,
) -> None:
    # testcontainers as it behaves when no Docker daemon answers.
    project.makepyfile(**{
        "testcontainers/__init__": "",
        "testcontainers/mysql": textwrap.dedent("""
            class MySqlContainer:
                def __init__(self, image, **kwargs):
                    self.image = image

                def start(self):
                    raise ConnectionError(
                        "Error while fetching server API version: "
                        "('Connection aborted.', FileNotFoundError(2, 'No such file'))"
                    )
        """),
        "test_x": "async def test_x(db):\n    pass\n",
    })

    result = run(project, "--reinhardt-db=mysql")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*--reinhardt-db=mysql: Docker is not available, so no mariadb:11 container could be "
        "started (ConnectionError: Error while fetching server API version*"
    ])


# -- which database: the plan, in process -------------------------------------------------
def settings(**databases: Any) -> Settings:
    return Settings(databases=databases)


def test_the_test_name_comes_from_the_test_setting_or_test_underscore_name() -> None:
    plan = plan_test_databases(settings(
        default="postgresql://app:pw@db:5432/shop",
        other={"url": "mysql://root@db/stats", "test": "stats_for_tests"},
    ))
    urls = plan.urls()
    assert (urls["default"].database, urls["default"].password) == ("test_shop", "pw")
    assert urls["other"].database == "stats_for_tests"  # named in `test`: not refused


def test_sqlite_test_files_go_to_a_temporary_directory_removed_at_the_end() -> None:
    plan = plan_test_databases(settings(default="sqlite:///db.sqlite3",
                                        scratch="sqlite://:memory:"))
    assert plan.temp_dir is not None
    assert plan.urls()["default"].database == os.path.join(plan.temp_dir, "test_db.sqlite3")
    assert plan.urls()["scratch"].database == os.path.join(plan.temp_dir,
                                                           "test_scratch.sqlite3")
    os.rmdir(plan.temp_dir)


def test_a_given_url_names_the_default_database_and_workers_add_their_id() -> None:
    plan = plan_test_databases(
        settings(default="sqlite:///db.sqlite3", pg="postgresql://u@h/app"),
        url="postgresql://u@h/test_given", worker="gw1",
    )
    assert plan.urls()["default"].database == "test_given_gw1"
    assert plan.urls()["pg"].database == "test_app_gw1"
    sqlite_plan = plan_test_databases(settings(default="sqlite:////tmp/x/test_app.db"),
                                      url="sqlite:////tmp/x/test_app.db", worker="gw0")
    assert sqlite_plan.urls()["default"].database == "/tmp/x/test_app_gw0.db"


def test_in_memory_sqlite_is_refused_with_the_reason() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"databases.default.test: an in-memory"):
        plan_test_databases(settings(default={"url": "sqlite:///a.db", "test": ":memory:"}))


def test_aliases_naming_one_test_database_share_it() -> None:
    plan = plan_test_databases(settings(
        default="postgresql://u@h/app", replica="postgresql://ro@h/app",
        logs="postgresql://u@h/logs",
    ))
    assert plan.shared() == {"default": "default", "replica": "default", "logs": "logs"}
    assert plan.distinct_aliases() == ["default", "logs"]


@pytest.mark.parametrize(("option", "env", "ini", "expected"), [
    ("sqlite:///test_cli.db", "sqlite:///test_env.db", "sqlite:///test_ini.db",
     ("sqlite:///test_cli.db", "--reinhardt-db-url")),
    (None, "sqlite:///test_env.db", "sqlite:///test_ini.db",
     ("sqlite:///test_env.db", "REINHARDT_TEST_DATABASE_URL")),
    (None, None, "sqlite:///test_ini.db",
     ("sqlite:///test_ini.db", "reinhardt_db_url (ini option)")),
    (None, None, None, (None, "")),
])
def test_the_command_line_wins_over_the_environment_over_the_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
    option: str | None, env: str | None, ini: str | None, expected: tuple[str | None, str],
) -> None:
    from reinhardt_db.testing.pytest_plugin import _GIVEN_URL

    monkeypatch.delenv("REINHARDT_TEST_DATABASE_URL", raising=False)
    if env:
        monkeypatch.setenv("REINHARDT_TEST_DATABASE_URL", env)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        + (f"reinhardt_db_url = {ini}\n" if ini else "")
    )
    config = pytester.parseconfigure(*(["--reinhardt-db-url", option] if option else []))
    assert config.stash[_GIVEN_URL] == expected
