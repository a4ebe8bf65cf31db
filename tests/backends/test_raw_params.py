"""Raw SQL parameters: one rule on every backend.

``%s`` is a parameter and ``%%`` a literal percent; any other ``%`` and a
parameter count that does not match raise ``ProgrammingError`` before the SQL
reaches the driver, and the pooled connection stays in use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db import exceptions as exc
from reinhardt_db.backends import Database, connections
from reinhardt_db.backends._params import placeholder_count, to_dollar, to_qmark
from reinhardt_db.conf import reset_settings

Call = Callable[[Database, str, Any], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "execute": lambda db, sql, params: db.execute(sql, params),
    "fetch_all": lambda db, sql, params: db.fetch_all(sql, params),
    "fetch_one": lambda db, sql, params: db.fetch_one(sql, params),
    "fetch_val": lambda db, sql, params: db.fetch_val(sql, params),
    "executemany": lambda db, sql, params: db.executemany(sql, [params or ()]),
}

SESSION_ID = {
    "postgresql": "SELECT pg_backend_pid()",
    "mysql": "SELECT CONNECTION_ID()",
    "sqlite": "SELECT 1",  # no session id: the pool's counts are the judge
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT 'a%b'", None),  # a lone % before a letter
        ("SELECT 'a%b' AS s, %s AS v", [1]),
        ("SELECT '100%'", None),  # a lone % at the very end
        ("SELECT %d", [1]),  # printf style
        ("SELECT %(v)s", [1]),  # pyformat
    ],
    ids=["lone", "lone-with-param", "trailing", "printf", "pyformat"],
)
async def test_a_percent_that_is_not_a_placeholder_is_programming_error(
    backend: Database, call: str, sql: str, params: list[Any] | None
) -> None:
    with pytest.raises(exc.ProgrammingError, match=r"unexpected '%'.*%s for a parameter and %% for a literal"):
        await CALLS[call](backend, sql, params)


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([1], "the SQL has 2 %s placeholders but 1 parameter was given"),
        ([1, 2, 3], "the SQL has 2 %s placeholders but 3 parameters were given"),
        (None, "the SQL has 2 %s placeholders but 0 parameters were given"),
    ],
    ids=["too-few", "too-many", "none"],
)
async def test_a_wrong_parameter_count_is_programming_error(
    backend: Database, call: str, params: list[Any] | None, message: str
) -> None:
    with pytest.raises(exc.ProgrammingError) as info:
        await CALLS[call](backend, "SELECT %s AS a, %s AS b", params)
    assert message in str(info.value)


async def test_no_placeholders_and_parameters_given(backend: Database) -> None:
    with pytest.raises(exc.ProgrammingError, match="has 0 %s placeholders but 1 parameter was given"):
        await backend.fetch_all("SELECT 1", [1])


async def test_literal_percent_and_placeholders_still_work(backend: Database) -> None:
    row = await backend.fetch_one("SELECT '100%%' AS p, %s AS v, 'a%%s' AS q", ["x"])
    assert row is not None and tuple(row) == ("100%", "x", "a%s")


async def test_the_pooled_connection_survives_the_mistakes(backend_url: str, backend_name: str) -> None:
    reinhardt_db.configure(databases={"default": {"url": backend_url, "pool": {"max_size": 1}}})
    try:
        db = connections["default"]
        session = await db.fetch_val(SESSION_ID[backend_name])
        for call in CALLS.values():
            with pytest.raises(exc.ProgrammingError):
                await call(db, "SELECT 'a%b', %s", [1])
            with pytest.raises(exc.ProgrammingError):
                await call(db, "SELECT %s, %s", [1])
        assert await db.fetch_val(SESSION_ID[backend_name]) == session
        stats = db.pool.stats()
        assert stats.connections_created == 1 and stats.connections_closed == 0
        assert await db.fetch_val("SELECT %s", ["still here"]) == "still here"
    finally:
        await reinhardt_db.close_all()
        reset_settings()


async def test_the_same_mistakes_inside_a_bound_connection(backend: Database) -> None:
    async with backend.connection() as bound:
        with pytest.raises(exc.ProgrammingError):
            await backend.execute("SELECT '5%'")
        with pytest.raises(exc.ProgrammingError):
            await backend.fetch_all("SELECT %s", [])
        assert not bound.invalid
        assert await backend.fetch_val("SELECT 1") == 1


@pytest.mark.parametrize(
    ("sql", "dollar", "qmark", "count"),
    [
        ("SELECT 1", "SELECT 1", "SELECT 1", 0),
        ("SELECT %s, %s", "SELECT $1, $2", "SELECT ?, ?", 2),
        ("SELECT '%%', %s", "SELECT '%', $1", "SELECT '%', ?", 1),
        ("LIKE 'a%%s' OR x = %s", "LIKE 'a%s' OR x = $1", "LIKE 'a%s' OR x = ?", 1),
        ("%%%s%%", "%$1%", "%?%", 1),
    ],
)
def test_translation(sql: str, dollar: str, qmark: str, count: int) -> None:
    assert to_dollar(sql) == dollar
    assert to_qmark(sql) == qmark
    assert placeholder_count(sql) == count


@pytest.mark.parametrize("sql", ["%", "a %x", "%%%", "50% off %s", "%(name)s"])
def test_translation_refuses_a_lone_percent(sql: str) -> None:
    for translate in (to_dollar, to_qmark, placeholder_count):
        with pytest.raises(exc.ProgrammingError, match="unexpected '%'"):
            translate(sql)
