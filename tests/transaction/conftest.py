from __future__ import annotations

from typing import Any

import pytest

from ._models import Account, Entry


@pytest.fixture
async def tables(make_tables: Any) -> None:
    await make_tables(Account, Entry)
