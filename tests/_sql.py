"""Test helper: the SQL statements a block ran, read from the ``reinhardt_db.sql`` logger."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="reinhardt_db.sql"):
        start = len(caplog.records)
        yield statements
        statements.extend(r.sql for r in caplog.records[start:] if hasattr(r, "sql"))
