"""Each settings test starts in an empty directory with no settings installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reinhardt_db.conf import ENV_DATABASE_URL, ENV_SETTINGS, reset_settings


@pytest.fixture(autouse=True)
def clean_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in ``tmp_path`` with no settings env vars and no settings installed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_SETTINGS, raising=False)
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    reset_settings()
    yield tmp_path
    reset_settings()
