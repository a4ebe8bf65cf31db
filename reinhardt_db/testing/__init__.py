"""Test helpers for projects using reinhardt_db.

``isolate_apps`` gives a test its own app registry; ``Migrator`` tests data
migrations on a real database; ``capture_queries``/``assert_num_queries`` see
the SQL a block runs; ``capture_on_commit_callbacks`` runs the ``on_commit``
callbacks of a ``db`` test. The pytest plugin
(``reinhardt_db.testing.pytest_plugin``) adds the ``db``, ``transactional_db``
and ``migrator`` fixtures on test databases it creates (docs/testing.md).
"""

from reinhardt_db.testing.apps import isolate_apps
from reinhardt_db.testing.migrator import Migrator
from reinhardt_db.testing.queries import (
    CapturedQueries,
    CapturedQuery,
    assert_num_queries,
    capture_queries,
)
from reinhardt_db.testing.transactions import capture_on_commit_callbacks

__all__ = [
    "CapturedQueries",
    "CapturedQuery",
    "Migrator",
    "assert_num_queries",
    "capture_on_commit_callbacks",
    "capture_queries",
    "isolate_apps",
]
