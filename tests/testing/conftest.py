"""The migration tests' ``app`` fixture (a throwaway app package on disk) serves here too."""

from tests.migrations.conftest import app as app

__all__ = ["app"]
