"""Secrets: the Database, its pool, connect errors and their log lines never show a password."""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db import exceptions as exc
from reinhardt_db.backends import Database, connections
from reinhardt_db.conf import parse_database_url, reset_settings
from reinhardt_db.pool import PoolError

PW = "s3cr3t-PW"
# A port nothing listens on: every connect is refused (a transient error, retried).
REFUSED = {
    "postgresql": f"postgresql://app:{PW}@127.0.0.1:1/app?sslpassword={PW}",
    "mysql": f"mysql://app:{PW}@127.0.0.1:1/app",
}


@pytest.fixture
async def configured() -> AsyncIterator[None]:
    try:
        yield
    finally:
        await reinhardt_db.close_all()
        reset_settings()


def _configure(url: str, **options: Any) -> Database:
    reinhardt_db.configure(
        databases={
            "default": {
                "url": url,
                "options": options,
                "pool": {"acquire_timeout": 1.0, "connect_timeout": 1.0},
            }
        }
    )
    return connections["default"]


def _shown(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


async def _fail_to_connect(db: Database, caplog: pytest.LogCaptureFixture) -> BaseException:
    caplog.set_level(logging.DEBUG)  # every logger: ours and the drivers'
    with pytest.raises((exc.DatabaseError, PoolError)) as info:
        await db.fetch_one("SELECT 1")
    return info.value


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
async def test_database_settings_and_pool_reprs_hide_the_password(
    vendor: str, configured: None
) -> None:
    db = _configure(REFUSED[vendor], password=PW)
    shown = [repr(db), str(db), repr(db.settings), str(db.settings), repr(db.pool),
             str(db.pool), repr(db.driver), repr(db.settings.parsed), str(db.settings.parsed),
             db.settings.model_dump_json(), repr(reinhardt_db.get_settings())]
    for text in shown:
        assert PW not in text, text
    assert db.settings.parsed.password == PW, "the driver still gets the real password"


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
async def test_refused_connects_log_no_password(
    vendor: str, configured: None, caplog: pytest.LogCaptureFixture
) -> None:
    db = _configure(REFUSED[vendor], password=PW)
    error = await _fail_to_connect(db, caplog)
    assert caplog.records, "the retries are logged"
    assert PW not in _logged(caplog)
    assert PW not in _shown(error)


def _with_credentials(backend_url: str, user: str) -> str:
    url = parse_database_url(backend_url)
    return dataclasses.replace(url, user=user, password=PW).render(hide_password=False)


@pytest.mark.backends("postgresql", "mysql")
async def test_rejected_logins_log_no_password(
    backend_name: str, backend_url: str, configured: None, caplog: pytest.LogCaptureFixture
) -> None:
    # An unknown role on PostgreSQL, a wrong password on MariaDB: both refused by the server.
    user = "reinhardt_no_such_role" if backend_name == "postgresql" else "root"
    db = _configure(_with_credentials(backend_url, user))
    error = await _fail_to_connect(db, caplog)
    assert user in _shown(error), "the server's message names the user"
    assert PW not in _shown(error)
    assert PW not in _logged(caplog)


async def test_an_unresolvable_host_logs_no_password(
    configured: None, caplog: pytest.LogCaptureFixture
) -> None:
    db = _configure(f"postgresql://app:{PW}@no-such-host.invalid/app")
    error = await _fail_to_connect(db, caplog)
    assert PW not in _shown(error)
    assert PW not in _logged(caplog)
