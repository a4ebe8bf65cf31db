"""A throwaway project for CLI tests: apps on disk, settings, and the CLI run in-process.

``project`` (the fixture in the test modules) makes one app, ``proj_<random>``, with
a ``reinhardt.toml`` naming it; ``Project.run(...)`` runs ``reinhardt`` with the
database of the current backend (SQLite: a fresh file in the project).
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner, Result

import reinhardt_db
from reinhardt_db.cli import app as cli
from reinhardt_db.conf import reset_settings
from reinhardt_db.testing import isolate_apps


@dataclass
class Project:
    root: Path
    label: str
    url: str
    runner: CliRunner = field(default_factory=CliRunner)
    apps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.apps:
            self.apps = [self.label]
        for label in self.apps:
            (self.root / label).mkdir(exist_ok=True)
            (self.root / label / "__init__.py").write_text("")
        installed = ", ".join(f'"{label}"' for label in self.apps)
        (self.root / "reinhardt.toml").write_text(
            f'installed_apps = [{installed}]\n\n[databases]\ndefault = "{self.url}"\n'
        )

    def package(self, label: str | None = None) -> Path:
        return self.root / (label or self.label)

    def migrations(self, label: str | None = None) -> Path:
        return self.package(label) / "migrations"

    def forget(self) -> None:
        for name in [n for n in sys.modules if any(n.split(".")[0] == a for a in self.apps)]:
            del sys.modules[name]

    def models(self, source: str, label: str | None = None) -> None:
        self.forget()
        (self.package(label) / "models.py").write_text(textwrap.dedent(source))

    def run(self, *args: str, input: str | None = None) -> Result:
        with isolate_apps():
            try:
                return self.runner.invoke(cli, list(args), input=input)
            finally:
                self.forget()

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"{args}: {result.output} {result.exception!r}"
        return result.output

    def sql(self, statement: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Run one statement on the project's database; return its rows (if any)."""
        async def go() -> list[tuple[object, ...]]:
            reinhardt_db.configure(databases={"default": self.url})
            try:
                db = reinhardt_db.connections["default"]
                if statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
                    return [tuple(r) for r in await db.fetch_all(statement, params)]
                await db.execute(statement, params)
                return []
            finally:
                await reinhardt_db.close_all()
                reset_settings()

        return asyncio.run(go())

    def cleanup(self) -> None:
        """Unapply every app's migrations and forget them (shared server databases)."""
        for label in reversed(self.apps):
            if self.migrations(label).exists():
                self.run("migrate", label, "zero")
        try:
            labels = ", ".join(f"'{a}'" for a in self.apps)
            self.sql(f"DELETE FROM reinhardt_migrations WHERE app IN ({labels})")
        except Exception:
            pass  # no recorder table: nothing was recorded
