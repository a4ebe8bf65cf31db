"""Test helpers for projects using reinhardt_db."""

from reinhardt_db.testing.apps import isolate_apps
from reinhardt_db.testing.queries import (
    CapturedQueries,
    CapturedQuery,
    assert_num_queries,
    capture_queries,
)

__all__ = [
    "CapturedQueries",
    "CapturedQuery",
    "assert_num_queries",
    "capture_queries",
    "isolate_apps",
]
