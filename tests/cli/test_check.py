"""``reinhardt check``: the system checks, one line per database, exit 1 on any error."""

from __future__ import annotations

import logging
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reinhardt_db
from reinhardt_db.cli import app
from reinhardt_db.exceptions import OperationalError
from reinhardt_db.pool.errors import PoolTimeout


class FakeDatabase:
    """Stands in for ``reinhardt_db.backends.Database``: ``server_version`` and name limits."""

    vendor = "sqlite"
    ops = types.SimpleNamespace(max_name_length=None)

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

    # Patch the real package's attribute, not sys.modules: building a model's table (the
    # models.E103 check) imports backend submodules (reinhardt_db.backends.postgresql ...),
    # which a stand-in module that is no package would refuse unless an earlier test had
    # imported them already.
    import reinhardt_db.backends as backends

    monkeypatch.setattr(backends, "connections", Connections())

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


# -- system checks --------------------------------------------------------------


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str], str]]:
    """Write an app package with a models module in the project folder; return its name."""
    monkeypatch.syspath_prepend(str(tmp_path))  # what `reinhardt` does for the working dir
    written: list[str] = []

    def write(name: str, models_source: str) -> str:
        package = f"{name}_{tmp_path.name}"
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "models.py").write_text(textwrap.dedent(models_source))
        written.append(package)
        return package

    yield write
    for module in list(sys.modules):
        if module.partition(".")[0] in written:
            del sys.modules[module]


BROKEN_MODELS = """
from reinhardt_db import models


class Order(models.Model):
    size = models.CharField(max_length=3, choices=[("small", "Small")])
    qty = models.IntegerField(max_length=4)

    class Meta:
        db_table = "orders"


class Refund(models.Model):
    class Meta:
        db_table = "orders"
"""

WARNED_MODELS = """
from reinhardt_db import models


class Order(models.Model):
    qty = models.IntegerField(max_length=4)
"""


def _settings(tmp_path: Path, apps: list[str], extra: str = "") -> None:
    listed = ", ".join(f'"{app}"' for app in apps)
    (tmp_path / "reinhardt.toml").write_text(
        f'installed_apps = [{listed}]\n{extra}[databases]\ndefault = "sqlite:///app.db"\n'
    )


def test_errors_print_one_line_each_with_id_and_hint_and_exit_1(
    runner: CliRunner,
    tmp_path: Path,
    fake_backends: dict[str, str | Exception],
    project: Callable[[str, str], str],
) -> None:
    shop = project("shop", BROKEN_MODELS)
    _settings(tmp_path, [shop])
    fake_backends.update(default="3.45.1")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == ["default  sqlite  3.45.1"], "databases still probed"
    assert result.stderr.splitlines() == [
        f"Error: {shop}.Order: (models.E028) db_table 'orders' is used by multiple models: "
        f"{shop}.Order, {shop}.Refund. HINT: give all but one of them another Meta.db_table; "
        "every model's table is defined once, even when routers send the models to different "
        "databases.",
        f"Error: {shop}.Order.size: (fields.E009) 'max_length' (3) is too small to fit the "
        "longest value in 'choices' (5 characters). HINT: raise max_length to at least 5.",
        f"Warning: {shop}.Order.qty: (fields.W122) 'max_length' is ignored when used with "
        "IntegerField. HINT: remove 'max_length' from the field (use a validator to bound the "
        "value).",
        "System check identified 3 issues (2 errors, 1 warning).",
    ]


def test_warnings_print_and_exit_0(
    runner: CliRunner,
    tmp_path: Path,
    fake_backends: dict[str, str | Exception],
    project: Callable[[str, str], str],
) -> None:
    shop = project("shop", WARNED_MODELS)
    _settings(tmp_path, [shop])
    fake_backends.update(default="3.45.1")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"Warning: {shop}.Order.qty: (fields.W122) 'max_length' is ignored when used with "
        "IntegerField. HINT: remove 'max_length' from the field (use a validator to bound the "
        "value).",
        "System check identified 1 issue (1 warning).",
    ]
    assert result.stdout == "default  sqlite  3.45.1\n"
    # -v 0 shows errors only; --fail-level WARNING makes warnings fail the run.
    quiet = runner.invoke(app, ["-v", "0", "check"])
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    strict = runner.invoke(app, ["check", "--fail-level", "warning"])
    assert strict.exit_code == 1
    assert strict.stderr.startswith(f"Warning: {shop}.Order.qty: (fields.W122)")


def test_errors_show_at_verbosity_0(
    runner: CliRunner,
    tmp_path: Path,
    fake_backends: dict[str, str | Exception],
    project: Callable[[str, str], str],
) -> None:
    shop = project("shop", BROKEN_MODELS)
    _settings(tmp_path, [shop])
    fake_backends.update(default="3.45.1")
    result = runner.invoke(app, ["-v", "0", "check"])
    assert result.exit_code == 1
    assert [line.split(")")[0] for line in result.stderr.splitlines()] == [
        f"Error: {shop}.Order: (models.E028", f"Error: {shop}.Order.size: (fields.E009",
    ]
    assert result.stdout == ""


def test_an_unknown_fail_level(runner: CliRunner, fake_backends: dict[str, str | Exception]) -> None:
    fake_backends.update(default="3.45.1")
    result = runner.invoke(app, ["check", "--fail-level", "LOUD"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: --fail-level: unknown level 'LOUD'; use one of CRITICAL, ERROR, WARNING, INFO, "
        "DEBUG"
    )


def test_apps_and_routers_that_do_not_import(
    runner: CliRunner,
    tmp_path: Path,
    fake_backends: dict[str, str | Exception],
    project: Callable[[str, str], str],
) -> None:
    shop = project("shop", WARNED_MODELS)
    typo = shop.replace("shop", "sohp")
    _settings(tmp_path, [shop, typo], extra=f'routers = ["{shop}.model.Router"]\n')
    fake_backends.update(default="3.45.1")
    result = runner.invoke(app, ["-v", "0", "check"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: installed_apps[1]: (settings.E001) cannot import '{typo}': no module named "
        f"'{typo}'. HINT: did you mean '{shop}'?",
        f"Error: routers[0]: (settings.E002) cannot import '{shop}.model.Router': no module "
        f"named '{shop}.model'. HINT: did you mean '{shop}.models'?",
    ]


PW = "s3cr3t-PW"


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_verbose_check_of_an_unreachable_database_shows_no_password(
    runner: CliRunner, tmp_path: Path, vendor: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: connects are refused and retried until acquire_timeout.
    (tmp_path / "reinhardt.toml").write_text(
        f'[databases.default]\nurl = "{vendor}://app:{PW}@127.0.0.1:1/app"\n'
        f'options = {{ password = "{PW}" }}\n'
        "pool = { acquire_timeout = 1.0, connect_timeout = 1.0 }\n"
    )
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(app, ["-v", "2", "check"])
    assert result.exit_code == 1
    assert result.stderr.count("Traceback") >= 1, "-v 2 prints the traceback"
    assert "Error: default (" in result.stderr
    assert PW not in result.output
    assert caplog.records and PW not in caplog.text
