"""``reinhardt check``: one line per database, exit 1 naming any that fails."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reinhardt_db
from reinhardt_db.cli import app
from reinhardt_db.exceptions import OperationalError
from reinhardt_db.pool.errors import PoolTimeout


class FakeDatabase:
    """Stands in for ``reinhardt_db.backends.Database``: only ``server_version``."""

    def __init__(self, alias: str, outcome: str | Exception) -> None:
        self.alias = alias
        self.outcome = outcome

    async def server_version(self) -> str:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def fake_backends(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | Exception]:
    """Replace the backends with fakes; map alias -> version or error to raise."""
    outcomes: dict[str, str | Exception] = {}

    class Connections:
        def __getitem__(self, alias: str) -> FakeDatabase:
            return FakeDatabase(alias, outcomes[alias])

    module = types.ModuleType("reinhardt_db.backends")
    module.connections = Connections()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reinhardt_db.backends", module)

    async def close_all() -> None:
        pass

    monkeypatch.setattr(reinhardt_db, "close_all", close_all, raising=False)
    return outcomes


TWO_DATABASES = """
[databases]
default = "sqlite:///app.db"
replica = "postgresql://ro:secret@10.0.0.2:5432/app"
"""


def test_every_database_is_listed(
    runner: CliRunner, tmp_path: Path, fake_backends: dict[str, str | Exception]
) -> None:
    (tmp_path / "reinhardt.toml").write_text(TWO_DATABASES)
    fake_backends.update(default="3.45.1", replica="16.2")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "default  sqlite      3.45.1",
        "replica  postgresql  16.2",
    ]
    assert result.stderr == ""


def test_a_failing_database_is_named_and_exits_1(
    runner: CliRunner, tmp_path: Path, fake_backends: dict[str, str | Exception]
) -> None:
    (tmp_path / "reinhardt.toml").write_text(TWO_DATABASES)
    fake_backends.update(
        default="3.45.1",
        replica=PoolTimeout(
            "no connection to 'replica' within 30.0s; the last connect attempt failed: "
            "Connect call failed ('10.0.0.2', 5432)"
        ),
    )
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["default  sqlite  3.45.1"]
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: replica (postgresql): no connection to 'replica' within 30.0s")
    assert "Connect call failed" in line
    assert "secret" not in result.output


def test_any_exception_from_a_database_is_reported(
    runner: CliRunner, fake_backends: dict[str, str | Exception]
) -> None:
    fake_backends.update(default=OperationalError("unable to open database file"))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: default (sqlite): unable to open database file"


def test_verbosity_0_is_quiet_and_2_shows_the_url(
    runner: CliRunner, tmp_path: Path, fake_backends: dict[str, str | Exception]
) -> None:
    (tmp_path / "reinhardt.toml").write_text(TWO_DATABASES)
    fake_backends.update(default="3.45.1", replica="16.2")
    quiet = runner.invoke(app, ["-v", "0", "check"])
    assert (quiet.exit_code, quiet.stdout) == (0, "")
    loud = runner.invoke(app, ["-v", "2", "check"])
    assert loud.exit_code == 0
    assert "replica  postgresql  16.2    postgresql://ro:***@10.0.0.2:5432/app" in loud.stdout
    assert "secret" not in loud.stdout


# -- against the real SQLite backend ----------------------------------------


def test_check_on_sqlite(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("reinhardt_db.backends", reason="the backends layer has not landed yet")
    result = runner.invoke(app, ["--database-url", f"sqlite:///{tmp_path}/app.db", "check"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"default  sqlite  3\.\d+\.\d+\n", result.stdout)


def test_check_on_sqlite_names_the_failing_alias(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("reinhardt_db.backends", reason="the backends layer has not landed yet")
    (tmp_path / "reinhardt.toml").write_text(
        f'[databases]\ndefault = "sqlite:///{tmp_path}/ok.db"\n'
        # a directory is no database file: every connect fails
        f'broken = {{url = "sqlite:///{tmp_path}", pool = {{acquire_timeout = 1.0}}}}\n'
    )
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert re.fullmatch(r"default  sqlite  3\.\d+\.\d+\n", result.stdout)
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: broken (sqlite): ")
