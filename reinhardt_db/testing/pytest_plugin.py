"""reinhardt_db's pytest plugin (registered with the ``pytest11`` entry point).

Fixtures:

- ``migrator``: a :class:`~reinhardt_db.testing.Migrator` on the ``default``
  database; every migration is unapplied when the test ends. Needs
  pytest-asyncio (the fixture is async).

The database is the one the settings configure (``reinhardt_db.configure`` in
a ``conftest.py``, or ``reinhardt.toml``/``pyproject.toml``); use a test database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from reinhardt_db.testing.migrator import Migrator

__all__ = ["migrator"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the fixture then explains what is missing
    HAS_PYTEST_ASYNCIO = False
else:
    HAS_PYTEST_ASYNCIO = True


if HAS_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def migrator() -> AsyncIterator[Migrator]:
        """A ``Migrator`` on the default database; everything is unapplied afterwards."""
        instance = Migrator()
        try:
            yield instance
        finally:
            await instance.reset()

else:

    @pytest.fixture
    def migrator() -> Any:
        """Needs pytest-asyncio: ``pip install pytest-asyncio``."""
        pytest.fail("the migrator fixture is async: install pytest-asyncio to use it")
