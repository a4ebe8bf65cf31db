"""The ``reinhardt_db.sql`` logger: every statement with its duration, at DEBUG."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["DEBUG", "run_logged", "sql_logger"]

sql_logger = logging.getLogger("reinhardt_db.sql")
DEBUG = logging.DEBUG

T = TypeVar("T")


async def run_logged(
    alias: str, op: Callable[[Any, str, Any], Awaitable[T]], raw: Any, sql: str, params: Any
) -> T:
    """Run ``op(raw, sql, params)`` and log the statement with its duration.

    Callers check ``sql_logger.isEnabledFor(DEBUG)`` first, so nothing is timed
    while DEBUG is off.
    """
    start = time.perf_counter()
    try:
        return await op(raw, sql, params)
    finally:
        elapsed = (time.perf_counter() - start) * 1000
        sql_logger.debug(
            "(%.3f ms) %s; params=%r; alias=%s",
            elapsed, sql, params, alias,
            extra={"duration_ms": elapsed, "sql": sql, "params": params, "alias": alias},
        )
