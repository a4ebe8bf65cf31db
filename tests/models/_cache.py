"""Assertions on the compiled-statement cache for expression tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from reinhardt_db.models.sql.cache import statement_cache

Run = Callable[[Any], Awaitable[Any]]


async def bound_pair(run: Run, first: Any, second: Any) -> tuple[Any, Any]:
    """Run ``run(first)`` then ``run(second)``: one compiled statement serves both.

    The constants are bound parameters: the second run is a cache hit, and
    returns its own answer (the caller checks the two answers differ as expected).
    """
    statement_cache.clear()
    one = await run(first)
    entries, misses = len(statement_cache), statement_cache.misses
    two = await run(second)
    assert len(statement_cache) == entries, "a bound value changed the compiled statement"
    assert statement_cache.misses == misses, "the second value compiled again"
    return one, two


async def shaped_pair(run: Run, first: Any, second: Any) -> tuple[Any, Any]:
    """Run ``run(first)`` then ``run(second)`` where the constant is part of the SQL.

    Two queries that differ in anything but bound values never share an entry.
    """
    statement_cache.clear()
    one = await run(first)
    entries = len(statement_cache)
    two = await run(second)
    assert len(statement_cache) == entries + 1, "two different shapes shared one statement"
    return one, two
