"""Test helpers for projects using reinhardt_db."""

from reinhardt_db.testing.apps import isolate_apps

__all__ = ["isolate_apps"]
