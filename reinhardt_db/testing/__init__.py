"""Test helpers for projects using reinhardt_db.

``isolate_apps`` gives a test its own app registry; ``Migrator`` (and the
``migrator`` pytest fixture of ``reinhardt_db.testing.pytest_plugin``) tests
data migrations on a real database.
"""

from reinhardt_db.testing.apps import isolate_apps
from reinhardt_db.testing.migrator import Migrator
from reinhardt_db.testing.queries import (
    CapturedQueries,
    CapturedQuery,
    assert_num_queries,
    capture_queries,
)

__all__ = [
    "CapturedQueries",
    "CapturedQuery",
    "Migrator",
    "assert_num_queries",
    "capture_queries",
    "isolate_apps",
]
