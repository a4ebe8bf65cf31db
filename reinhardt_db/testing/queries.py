"""``capture_queries()`` and ``assert_num_queries(n)``: the SQL a block runs, for tests.

::

    from reinhardt_db.testing import assert_num_queries, capture_queries

    async with ...:                          # works in sync and async code alike
        with capture_queries() as queries:
            posts = await Post.objects.select_related("author")
        assert len(queries) == 1
        print(queries[0].sql, queries[0].params, queries[0].alias)

    with assert_num_queries(3):
        await Post.objects.prefetch_related("tags", "author__profile")

Every statement the ORM and the raw API (``db.execute``, ``db.fetch_all``,
``db.stream_rows`` ...) run on any database alias is seen; transaction control
(BEGIN, COMMIT) is not. Only the current task and the tasks it starts inside the block are
captured (a ``ContextVar``), so other tasks running meanwhile do not count.

How: the backends log every statement to the ``reinhardt_db.sql`` logger,
and only build that record when the logger is enabled for DEBUG. While a
capture is open the logger is enabled and a filter takes the records
(letting through only what the application's own logging configuration
would have shown); when nothing captures, the cost is the backends' one
``isEnabledFor`` check.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["CapturedQueries", "CapturedQuery", "assert_num_queries", "capture_queries"]

_LOGGER = logging.getLogger("reinhardt_db.sql")
_active: contextvars.ContextVar[tuple[CapturedQueries, ...]] = contextvars.ContextVar(
    "reinhardt_db_captures", default=()
)
_lock = threading.Lock()
_open = 0
_saved_level = logging.NOTSET


@dataclass(frozen=True)
class CapturedQuery:
    """One statement: its SQL (the driver's paramstyle), parameters, alias and duration."""

    sql: str
    params: Any
    alias: str
    duration_ms: float

    def __str__(self) -> str:
        return self.sql


class CapturedQueries:
    """The statements captured so far; a sequence of :class:`CapturedQuery`."""

    def __init__(self, using: str | None = None) -> None:
        self.using = using
        self.queries: list[CapturedQuery] = []

    def __len__(self) -> int:
        return len(self.queries)

    def __getitem__(self, index: int) -> CapturedQuery:
        return self.queries[index]

    def __iter__(self) -> Iterator[CapturedQuery]:
        return iter(self.queries)

    def __repr__(self) -> str:
        return f"<CapturedQueries: {len(self.queries)} statements>"

    @property
    def sql(self) -> list[str]:
        """The SQL text of each statement, in order."""
        return [query.sql for query in self.queries]

    def describe(self) -> str:
        """Numbered statements, one per line (for assertion messages)."""
        return "\n".join(f"{i}. [{q.alias}] {q.sql}" for i, q in enumerate(self.queries, 1))


class _Capture(logging.Filter):
    """Hand each ``reinhardt_db.sql`` record to the open captures of its task."""

    def filter(self, record: logging.LogRecord) -> bool:
        sql = getattr(record, "sql", None)
        if sql is not None:
            alias = getattr(record, "alias", "")
            for capture in _active.get():
                if capture.using is None or capture.using == alias:
                    capture.queries.append(CapturedQuery(
                        sql, getattr(record, "params", None), alias,
                        getattr(record, "duration_ms", 0.0),
                    ))
        # Let the record through only if the application's logging wanted it.
        return _original_level() <= record.levelno


_FILTER = _Capture()


def _original_level() -> int:
    """The level the logger had before captures enabled it."""
    if _saved_level != logging.NOTSET:
        return _saved_level
    parent = _LOGGER.parent
    return parent.getEffectiveLevel() if parent is not None else logging.WARNING


def _start() -> None:
    global _open, _saved_level
    with _lock:
        if _open == 0:
            _saved_level = _LOGGER.level
            _LOGGER.addFilter(_FILTER)
            _LOGGER.setLevel(logging.DEBUG)
        _open += 1


def _stop() -> None:
    global _open
    with _lock:
        _open -= 1
        if _open == 0:
            _LOGGER.removeFilter(_FILTER)
            _LOGGER.setLevel(_saved_level)


@contextlib.contextmanager
def capture_queries(using: str | None = None) -> Iterator[CapturedQueries]:
    """Collect the statements run inside the block (on ``using`` only, when given)."""
    captured = CapturedQueries(using)
    _start()
    token = _active.set((*_active.get(), captured))
    try:
        yield captured
    finally:
        _active.reset(token)
        _stop()


@contextlib.contextmanager
def assert_num_queries(num: int, using: str | None = None) -> Iterator[CapturedQueries]:
    """Fail with the list of statements unless the block runs exactly ``num`` of them."""
    with capture_queries(using) as captured:
        yield captured
    if len(captured) != num:
        raise AssertionError(
            f"{len(captured)} queries executed, {num} expected.\n"
            f"Captured queries were:\n{captured.describe()}"
        )
