"""Fixtures for the migration tests: ``app`` is an installed, empty app package on disk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reinhardt_db.testing import isolate_apps

from ._helpers import App, forget_modules


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    label = f"app_{uuid.uuid4().hex[:10]}"
    package = tmp_path / label
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with isolate_apps(label) as registry:
            yield App(label=label, path=package, registry=registry)
    finally:
        forget_modules(label)
