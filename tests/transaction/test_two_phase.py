"""Item 6: two-phase commit across two PostgreSQL and two MariaDB databases.

PostgreSQL needs max_prepared_transactions > 0: `.ci/prepare-servers` (run by
`make test` and `.ci/run` before pytest) raises it, never the suite itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import sys
import textwrap
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiomysql
import asyncpg
import pytest

import reinhardt_db
from reinhardt_db import transaction
from reinhardt_db.backends import connections
from reinhardt_db.conf import parse_database_url, reset_settings
from reinhardt_db.exceptions import (
    IntegrityError,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    TransactionManagementError,
)
from reinhardt_db.models.schema import create_tables, drop_tables

from ._models import PID_SQL, Account

ALIASES = ("default", "other")
KILL_SQL = {"postgresql": "SELECT pg_terminate_backend(%s)", "mysql": "KILL %s"}


class Boom(Exception):
    pass


async def _admin_execute(vendor: str, url: str, sql: str) -> None:
    parsed = parse_database_url(url)
    if vendor == "postgresql":
        conn = await asyncpg.connect(
            host=parsed.host, port=parsed.port, user=parsed.user,
            password=parsed.password, database="postgres", timeout=5,
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
        return
    conn2 = await aiomysql.connect(
        host=parsed.host, port=parsed.port or 3306, user=parsed.user,
        password=parsed.password or "", autocommit=True, connect_timeout=5,
    )
    try:
        async with conn2.cursor() as cur:
            with warnings.catch_warnings():
                # "DROP DATABASE IF EXISTS" of a missing one is a server note.
                warnings.simplefilter("ignore")
                await cur.execute(sql)
    finally:
        conn2.close()


def _quote(vendor: str, name: str) -> str:
    return f'"{name}"' if vendor == "postgresql" else f"`{name}`"


async def _finish_left_prepared() -> None:
    for alias in ALIASES:
        for xid in await transaction.recover_prepared(alias):
            await transaction.rollback_prepared(xid, alias)


@pytest.fixture
async def two_databases(backend_name: str, backend_url: str) -> AsyncIterator[dict[str, str]]:
    """``default`` (the worker's test database) and ``other`` (a second one, made here)."""
    if backend_name == "sqlite":
        other_url = backend_url.removesuffix(".sqlite3") + "_other.sqlite3"
    else:
        parsed = parse_database_url(backend_url)
        other = f"{parsed.database}_b"
        await _admin_execute(
            backend_name, backend_url, f"DROP DATABASE IF EXISTS {_quote(backend_name, other)}"
        )
        await _admin_execute(
            backend_name, backend_url, f"CREATE DATABASE {_quote(backend_name, other)}"
        )
        other_url = str(parsed.with_database(other).render(hide_password=False))
    urls = {"default": backend_url, "other": other_url}
    reinhardt_db.configure(databases=urls)
    try:
        for alias in ALIASES:
            await drop_tables([Account], using=alias, if_exists=True)
            await create_tables([Account], using=alias)
        yield urls
    finally:
        try:
            if backend_name != "sqlite":
                await _finish_left_prepared()
            for alias in ALIASES:
                await drop_tables([Account], using=alias, if_exists=True)
        finally:
            await reinhardt_db.close_all()
            reset_settings()
            if backend_name == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    for url in urls.values():
                        path = url.removeprefix("sqlite:///") + suffix
                        if os.path.exists(path):
                            os.remove(path)
            else:
                name = _quote(backend_name, parse_database_url(other_url).database)
                force = " WITH (FORCE)" if backend_name == "postgresql" else ""
                await _admin_execute(
                    backend_name, backend_url, f"DROP DATABASE IF EXISTS {name}{force}"
                )


async def _names(alias: str) -> list[str]:
    return sorted(await Account.objects.using(alias).values_list("name", flat=True))


@pytest.mark.backends("postgresql", "mysql")
async def test_both_databases_commit(two_databases: dict[str, str]) -> None:
    ran: list[str] = []
    async with transaction.two_phase("default", "other") as tpc:
        await Account.objects.using("default").create(name="order")
        await Account.objects.using("other").create(name="invoice")
        # Each database's statements run in its part of the transaction.
        assert transaction.in_atomic_block("default") and transaction.in_atomic_block("other")
        async with transaction.atomic(using="other"):  # a savepoint inside a part
            await Account.objects.using("other").create(name="line")
        transaction.on_commit(lambda: ran.append("committed"), using="default")
        assert tpc.xid.startswith("rdb2pc_")
    assert await _names("default") == ["order"]
    assert await _names("other") == ["invoice", "line"]
    assert ran == ["committed"]
    assert transaction.get_state("default") == transaction.COMMITTED
    assert await transaction.recover_prepared("default") == []
    assert await transaction.recover_prepared("other") == []


@pytest.mark.backends("postgresql", "mysql")
async def test_failure_in_the_body_leaves_neither_with_the_data(
    two_databases: dict[str, str],
) -> None:
    with pytest.raises(Boom):
        async with transaction.two_phase("default", "other"):
            await Account.objects.using("default").create(name="order")
            await Account.objects.using("other").create(name="invoice")
            raise Boom
    assert await _names("default") == [] and await _names("other") == []
    assert transaction.get_state("other") == transaction.ROLLED_BACK
    assert await transaction.recover_prepared("default") == []
    assert await transaction.recover_prepared("other") == []


@pytest.mark.backends("postgresql", "mysql")
async def test_failure_in_one_prepare_rolls_back_the_prepared_one(
    two_databases: dict[str, str], backend_name: str
) -> None:
    """The second participant's session dies before its PREPARE: the first, prepared, rolls back."""
    async def kill(pid: Any) -> None:
        await connections["default"].execute(KILL_SQL[backend_name], [pid])

    # The lost connection: OperationalError, or InterfaceError once asyncpg knows.
    with pytest.raises((OperationalError, InterfaceError)):
        async with transaction.two_phase("default", "other"):
            await Account.objects.using("default").create(name="order")
            await Account.objects.using("other").create(name="invoice")
            pid = await connections["other"].fetch_val(PID_SQL[backend_name])
            await asyncio.create_task(kill(pid), context=contextvars.Context())
            await asyncio.sleep(0.2)
    assert await _names("default") == [] and await _names("other") == []
    assert await transaction.recover_prepared("default") == []
    assert await transaction.recover_prepared("other") == []


@pytest.mark.backends("postgresql")
async def test_prepare_refused_by_a_deferred_constraint_rolls_back_both(
    two_databases: dict[str, str],
) -> None:
    """PostgreSQL checks deferred constraints at PREPARE: the second part fails there."""
    other = connections["other"]
    await other.execute("DROP TABLE IF EXISTS tpc_child, tpc_parent")
    await other.execute("CREATE TABLE tpc_parent (id integer PRIMARY KEY)")
    await other.execute(
        "CREATE TABLE tpc_child (id integer PRIMARY KEY, parent_id integer REFERENCES "
        "tpc_parent DEFERRABLE INITIALLY DEFERRED)"
    )
    try:
        with pytest.raises(IntegrityError):
            async with transaction.two_phase("default", "other"):
                await Account.objects.using("default").create(name="order")
                await other.execute("INSERT INTO tpc_child VALUES (1, 99)")
        assert await _names("default") == []
        assert await other.fetch_val("SELECT count(*) FROM tpc_child") == 0
        assert await transaction.recover_prepared("default") == []
        assert await transaction.recover_prepared("other") == []
        assert transaction.get_state("default") == transaction.ROLLED_BACK
    finally:
        await other.execute("DROP TABLE IF EXISTS tpc_child, tpc_parent")


KILLED_SCRIPT = textwrap.dedent("""
    import asyncio, sys, time
    import reinhardt_db
    from reinhardt_db import transaction
    from reinhardt_db.backends import connections
    from reinhardt_db.transaction import TwoPhase

    async def stop_between_the_phases(self, parts):
        print("PREPARED", self.xid, flush=True)
        time.sleep(60)  # killed here, before any COMMIT PREPARED

    TwoPhase._commit_all = stop_between_the_phases

    async def main():
        reinhardt_db.configure(databases={"default": sys.argv[1], "other": sys.argv[2]})
        async with transaction.two_phase("default", "other", xid=sys.argv[3]):
            for alias in ("default", "other"):
                await connections[alias].execute(
                    "INSERT INTO " + sys.argv[4] + " (name, balance) VALUES (%s, %s)",
                    ["from the killed process", 1],
                )

    asyncio.run(main())
""")


@pytest.mark.backends("postgresql", "mysql")
async def test_transaction_left_prepared_by_a_killed_process_is_recovered(
    two_databases: dict[str, str],
) -> None:
    xid = f"rdb2pc_killed_{os.getpid()}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_SCRIPT, two_databases["default"], two_databases["other"],
        xid, Account._meta.db_table,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if line.split() != ["PREPARED", xid]:
            proc.kill()
            _, err = await proc.communicate()
            raise AssertionError(f"the child did not prepare: {line!r}\n{err.decode()}")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 30)
    # In doubt on both databases, and its rows not visible yet.
    for alias in ALIASES:
        assert xid in await transaction.recover_prepared(alias)
        assert await _names(alias) == []
    await transaction.commit_prepared(xid, "default")
    await transaction.rollback_prepared(xid, "other")
    assert await _names("default") == ["from the killed process"]
    assert await _names("other") == []
    for alias in ALIASES:
        assert xid not in await transaction.recover_prepared(alias)


@pytest.mark.backends("postgresql", "mysql")
async def test_misuse_is_refused(two_databases: dict[str, str]) -> None:
    with pytest.raises(TransactionManagementError, match="names a database twice"):
        transaction.two_phase("default", "default")
    async with transaction.atomic():
        with pytest.raises(TransactionManagementError, match="already has a transaction open"):
            async with transaction.two_phase("default", "other"):
                pass  # pragma: no cover
        with pytest.raises(TransactionManagementError, match="cannot run inside an atomic"):
            await transaction.commit_prepared("rdb2pc_x", "default")
    assert await _names("other") == []


@pytest.mark.backends("sqlite")
async def test_sqlite_has_no_two_phase_commit(two_databases: dict[str, str]) -> None:
    with pytest.raises(NotSupportedError, match="SQLite has no two-phase commit"):
        async with transaction.two_phase("default", "other"):
            pass  # pragma: no cover
    with pytest.raises(NotSupportedError, match="two-phase"):
        await transaction.recover_prepared("default")
    assert await _names("default") == []
