"""CLI tests run the typer app in-process, in an empty directory, with no settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reinhardt_db.conf import ENV_DATABASE_URL, ENV_SETTINGS, reset_settings
from reinhardt_db.testing import isolate_apps


@pytest.fixture(autouse=True)
def clean_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in ``tmp_path`` with no settings env vars, no settings and an empty app registry.

    The registry is isolated so that ``reinhardt check`` sees only the models a
    test declares, not those other test modules registered.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_SETTINGS, raising=False)
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    reset_settings()
    with isolate_apps():
        yield tmp_path
    reset_settings()


@pytest.fixture
def runner() -> CliRunner:
    """Return a runner that keeps stdout and stderr apart."""
    return CliRunner()
