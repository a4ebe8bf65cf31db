"""The ``reinhardt`` app: help, global options, and how errors come out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import reinhardt_db
from reinhardt_db.cli import CLIState, CommandError, app, run_command
from reinhardt_db.cli._runner import get_state
from reinhardt_db.conf import get_settings
from reinhardt_db.exceptions import ImproperlyConfigured, OperationalError
from reinhardt_db.pool.errors import PoolTimeout


def test_help_lists_the_commands_and_global_options(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for text in (
        "check",
        "dbshell",
        "--settings",
        "--database-url",
        "--verbosity",
        "[tool.reinhardt]",
    ):
        assert text in result.stdout


def test_command_help_works_even_with_broken_settings(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "reinhardt.toml").write_text("databases = 5\n")
    result = runner.invoke(app, ["check", "--help"])
    assert result.exit_code == 0
    assert "connect to every configured database" in result.stdout


def test_no_arguments_shows_usage(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert "Usage:" in result.output
    assert "check" in result.output


def test_verbosity_is_0_1_or_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["-v", "3", "check"])
    assert result.exit_code == 2
    assert "--verbosity" in result.stderr


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m reinhardt_db ARGS`` in a fresh process."""
    root = Path(reinhardt_db.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("REINHARDT_SETTINGS", None)
    env.pop("REINHARDT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "reinhardt_db", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    result = run_module("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "python -m reinhardt_db" in result.stdout
    assert "dbshell" in result.stdout


def test_retry_warnings_do_not_drown_the_error_line(tmp_path: Path) -> None:
    # a directory is no database file: the pool retries (logging a warning
    # each time) until acquire_timeout, then the command fails
    (tmp_path / "reinhardt.toml").write_text(
        f'[databases.default]\nurl = "sqlite:///{tmp_path}"\npool = {{acquire_timeout = 1.5}}\n'
    )
    result = run_module("check", cwd=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: default (sqlite): ")
    loud = run_module("-v", "2", "check", cwd=tmp_path)
    assert "warning: " in loud.stderr  # the pool's retry warnings, shown at -v 2
    assert "Traceback" in loud.stderr


# -- global options reach the settings --------------------------------------

seen: list[tuple[CLIState, str, list[str]]] = []


def with_real_callback() -> typer.Typer:
    """Return a fresh app with the real global options, to add test commands to."""
    test_app = typer.Typer()
    assert app.registered_callback is not None
    callback = app.registered_callback.callback
    assert callback is not None
    test_app.callback()(callback)
    return test_app


def show(ctx: typer.Context) -> None:
    """Record the CLI state and the settings the command sees."""

    def body(state: CLIState) -> None:
        current = get_settings()
        seen.append((state, current.databases["default"].url, current.installed_apps))

    run_command(ctx, body)


def invoke_show(runner: CliRunner, args: list[str]) -> tuple[CLIState, str, list[str]]:
    seen.clear()
    test_app = with_real_callback()
    test_app.command("show")(show)
    result = runner.invoke(test_app, [*args, "show"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    return seen[0]


def test_global_options_reach_the_command(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "custom.toml").write_text('installed_apps = ["blog"]\n')
    state, url, apps = invoke_show(
        runner,
        ["--settings", "custom.toml", "--database-url", "sqlite:///cli.db", "-v", "2"],
    )
    assert state == CLIState(Path("custom.toml"), "sqlite:///cli.db", 2)
    assert url == "sqlite:///cli.db"
    assert apps == ["blog"]


def test_without_options_settings_come_from_the_usual_places(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "reinhardt.toml").write_text('installed_apps = ["shop"]\n')
    monkeypatch.setenv("REINHARDT_DATABASE_URL", "sqlite:///env.db")
    state, url, apps = invoke_show(runner, [])
    assert state == CLIState(None, None, 1)
    assert (url, apps) == ("sqlite:///env.db", ["shop"])


def test_database_url_option_wins_over_env(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REINHARDT_DATABASE_URL", "sqlite:///env.db")
    _, url, _ = invoke_show(runner, ["--database-url", "sqlite:///cli.db"])
    assert url == "sqlite:///cli.db"


# -- errors: exit 1, one line on stderr -------------------------------------


def assert_one_error_line(result: typer.testing.Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_settings_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--settings", "nope.toml", "check"])
    assert_one_error_line(result, "--settings", "nope.toml", "does not exist")


def test_bad_database_url_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database-url", "postgres://u:secret@h", "check"])
    assert_one_error_line(result, "--database-url: the URL names no database")
    assert "secret" not in result.stderr


def test_bad_setting_in_a_file_names_the_key(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "reinhardt.toml").write_text(
        '[databases.default]\nurl = "sqlite:///x.db"\npool = {max_size = -1}\n'
    )
    result = runner.invoke(app, ["check"])
    assert_one_error_line(
        result, "reinhardt.toml", "databases.default.pool.max_size: must be at least 1"
    )


def test_bad_toml(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "reinhardt.toml").write_text("installed_apps = [\n")
    result = runner.invoke(app, ["check"])
    assert_one_error_line(result, "reinhardt.toml: invalid TOML")


def test_traceback_only_at_verbosity_2(runner: CliRunner) -> None:
    quiet = runner.invoke(app, ["--settings", "nope.toml", "check"])
    assert "Traceback" not in quiet.stderr
    loud = runner.invoke(app, ["-v", "2", "--settings", "nope.toml", "check"])
    assert loud.exit_code == 1
    assert "Traceback (most recent call last)" in loud.stderr
    assert loud.stderr.splitlines()[-1].startswith("Error: --settings")


# -- the runner --------------------------------------------------------------


def run_body(runner: CliRunner, body: object, *args: str) -> typer.testing.Result:
    """Invoke a one-command app whose command runs ``body`` through run_command."""
    test_app = with_real_callback()

    @test_app.command()
    def go(ctx: typer.Context) -> None:
        assert isinstance(get_state(ctx), CLIState)
        run_command(ctx, body, needs_settings=False)  # type: ignore[arg-type]

    return runner.invoke(test_app, [*args, "go"])


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record calls of reinhardt_db.close_all."""
    calls: list[bool] = []

    async def fake_close_all() -> None:
        calls.append(True)

    monkeypatch.setattr(reinhardt_db, "close_all", fake_close_all, raising=False)
    return calls


def test_async_bodies_run_and_pools_are_closed(runner: CliRunner, closed: list[bool]) -> None:
    async def body(state: CLIState) -> int:
        return 3

    result = run_body(runner, body)
    assert result.exit_code == 3
    assert closed == [True]


def test_sync_bodies_do_not_start_a_loop(runner: CliRunner, closed: list[bool]) -> None:
    result = run_body(runner, lambda state: None)
    assert result.exit_code == 0
    assert closed == []


def test_pool_errors_are_one_line(runner: CliRunner, closed: list[bool]) -> None:
    async def body(state: CLIState) -> None:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as cause:
            raise PoolTimeout("no connection to 'default' within 30.0s") from cause

    result = run_body(runner, body)
    assert_one_error_line(result, "Error: no connection to 'default' within 30.0s")
    assert closed == [True]


def test_an_empty_error_message_falls_back_to_the_cause(runner: CliRunner) -> None:
    def body(state: CLIState) -> None:
        raise PoolTimeout() from ConnectionRefusedError(111, "Connection refused")

    assert_one_error_line(
        run_body(runner, body),
        "Error: PoolTimeout: ConnectionRefusedError: [Errno 111] Connection refused",
    )


def test_multiline_database_errors_are_one_line(runner: CliRunner, closed: list[bool]) -> None:
    def body(state: CLIState) -> None:
        raise OperationalError('relation "x" does not exist\nDETAIL: something')

    assert_one_error_line(run_body(runner, body), 'relation "x" does not exist DETAIL: something')


def test_command_errors(runner: CliRunner) -> None:
    def body(state: CLIState) -> None:
        raise CommandError("nothing to do")

    assert_one_error_line(run_body(runner, body), "Error: nothing to do")


def test_settings_errors_do_not_show_the_pydantic_cause(runner: CliRunner) -> None:
    def body(state: CLIState) -> None:
        raise ImproperlyConfigured("databases.x: bad") from ValueError("pydantic says")

    result = run_body(runner, body)
    assert_one_error_line(result, "databases.x: bad")
    assert "pydantic says" not in result.stderr


def test_bugs_are_not_swallowed(runner: CliRunner) -> None:
    def body(state: CLIState) -> None:
        raise ZeroDivisionError("a bug")

    result = run_body(runner, body)
    assert isinstance(result.exception, ZeroDivisionError)
