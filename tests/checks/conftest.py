"""Check tests: an empty app registry, settings with one database per vendor, temp apps."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import reinhardt_db
from reinhardt_db.apps import Apps
from reinhardt_db.checks import CheckMessage
from reinhardt_db.conf import reset_settings
from reinhardt_db.testing import isolate_apps

# Nothing listens there: the checks never connect, they only ask each backend its limits.
DATABASES = {
    "default": "sqlite://:memory:",
    "pg": "postgresql://app@127.0.0.1:1/app",
    "my": "mysql://app@127.0.0.1:1/app",
}


@pytest.fixture(autouse=True)
def registry() -> Iterator[Apps]:
    """Configure the three databases and give the test its own app registry."""
    reinhardt_db.configure(databases=DATABASES)
    try:
        with isolate_apps() as apps:
            yield apps
    finally:
        reset_settings()


@pytest.fixture
def write_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Write an importable package under a unique name; return that name.

    ``write_app("blog", models="...")`` writes ``<name>/__init__.py`` and one
    module per keyword. The modules are forgotten after the test.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(name: str, **modules: str) -> str:
        package = f"{name}_{tmp_path.name.replace('-', '_')}"
        folder = tmp_path / package
        folder.mkdir()
        (folder / "__init__.py").write_text(textwrap.dedent(modules.pop("init", "")))
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(textwrap.dedent(source))
        written.append(package)
        return package

    yield write
    for name in list(sys.modules):
        if name.partition(".")[0] in written:
            del sys.modules[name]


def ids(messages: list[CheckMessage]) -> list[str | None]:
    """Return the ids of ``messages`` in order."""
    return [message.id for message in messages]
