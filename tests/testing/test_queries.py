"""capture_queries / assert_num_queries: what a block ran, on every backend and alias."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings
from reinhardt_db.testing import assert_num_queries, capture_queries


async def test_captures_raw_and_orm_statements(backend: Any) -> None:
    with capture_queries() as queries:
        await backend.execute("SELECT 1")
        await backend.fetch_all("SELECT %s", ["two"])
    assert len(queries) == 2
    assert "SELECT 1" in queries[0].sql and queries[0].alias == "default"
    assert list(queries[1].params) == ["two"]
    assert queries.sql == [q.sql for q in queries]
    with assert_num_queries(0):
        pass


async def test_assert_num_queries_lists_what_ran(backend: Any) -> None:
    with pytest.raises(AssertionError) as info:
        with assert_num_queries(1):
            await backend.execute("SELECT 1")
            await backend.execute("SELECT 2")
    message = str(info.value)
    assert "2 queries executed, 1 expected" in message
    assert "1. [default] SELECT 1" in message and "2. [default] SELECT 2" in message


async def test_only_this_task_and_its_children_are_captured(backend: Any) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def elsewhere() -> None:
        started.set()
        await release.wait()
        await backend.execute("SELECT 3")

    other = asyncio.create_task(elsewhere())
    await started.wait()
    with capture_queries() as queries:
        release.set()
        await other  # started before the block: not ours
        await asyncio.create_task(backend.execute("SELECT 4"))  # started inside: ours
    assert [q.sql.strip() for q in queries] == ["SELECT 4"]


async def test_nested_captures_and_using(backend: Any) -> None:
    with capture_queries() as outer:
        await backend.execute("SELECT 1")
        with capture_queries(using="default") as inner, capture_queries(using="other") as none:
            await backend.execute("SELECT 2")
    assert len(outer) == 2 and len(inner) == 1 and len(none) == 0


async def test_application_logging_is_left_as_it_was(backend: Any, caplog: Any) -> None:
    logger = logging.getLogger("reinhardt_db.sql")
    before = logger.level
    with caplog.at_level(logging.INFO, logger="reinhardt_db.sql"):
        with capture_queries() as queries:
            await backend.execute("SELECT 1")
        assert len(queries) == 1
        assert not [r for r in caplog.records if r.name == "reinhardt_db.sql"]
    assert logger.level == before
    assert not logger.isEnabledFor(logging.DEBUG) or before == logging.DEBUG


def test_usable_without_pytest_fixtures(tmp_path: Any) -> None:
    reinhardt_db.configure(databases={
        "default": f"sqlite:///{tmp_path}/a.sqlite3", "other": f"sqlite:///{tmp_path}/b.sqlite3",
    })

    async def run() -> list[str]:
        try:
            with capture_queries() as queries:
                await connections["default"].execute("SELECT 1")
                await connections["other"].execute("SELECT 2")
            return [q.alias for q in queries]
        finally:
            await reinhardt_db.close_all()

    try:
        assert asyncio.run(run()) == ["default", "other"]
    finally:
        reset_settings()


async def test_streamed_queries_are_captured(backend: Any) -> None:
    with capture_queries() as queries:
        chunks = [chunk async for chunk in backend.stream_rows("SELECT 1", ())]
    assert chunks and len(queries) == 1 and "SELECT 1" in queries[0].sql
