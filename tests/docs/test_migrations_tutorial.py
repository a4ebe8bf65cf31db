"""docs/migrations.md's tutorial, run as written: files, commands and the output it shows.

Walking the page's blocks in order, in an empty directory:

- a ``python``/``toml``/``ini`` block whose first line is ``# <path>`` is written to
  that file (replacing it);
- a ``python`` block whose first line is ``# written by makemigrations: <path>``
  must equal that generated file (without its one-line header);
- a ``console`` block's ``$ ...`` lines are run (``reinhardt`` in this process,
  as ``tests/cli`` does; ``pytest`` as ``python -m pytest``; ``VAR=value``
  prefixes set the environment; ``; echo $?`` prints the exit code, otherwise the
  command must succeed); what they print must match the lines below them, where
  ``...`` stands for any text.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reinhardt_db.cli import app as cli
from reinhardt_db.conf import ENV_DATABASE_URL, ENV_SETTINGS, reset_settings
from reinhardt_db.testing import isolate_apps

from .test_examples import ROOT, blocks

PAGE = ROOT / "docs" / "migrations.md"
FILE = re.compile(r"^# (\S+\.(?:py|toml|ini))$")
WRITTEN = re.compile(r"^# written by makemigrations: (\S+)$")


def _matches(expected: list[str], actual: list[str]) -> bool:
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("..."))
        if not re.fullmatch(pattern, got.rstrip()):
            return False
    return True


def _run(command: str, cwd: Path) -> tuple[list[str], int]:
    echo_status = command.endswith("; echo $?")
    words = shlex.split(command.removesuffix("; echo $?"))
    env = dict(os.environ)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    program, *args = words
    if program == "reinhardt":
        lines, status = _reinhardt(args)
    else:
        assert program == "pytest", f"the tutorial runs reinhardt and pytest, not {program}"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        )
        lines, status = (done.stdout + done.stderr).splitlines(), done.returncode
    if echo_status:
        lines.append(str(status))
    elif status != 0:
        raise AssertionError(f"$ {command} failed ({status}):\n" + "\n".join(lines))
    return lines, status


def _reinhardt(args: list[str]) -> tuple[list[str], int]:
    reset_settings()
    with isolate_apps():
        try:
            result = CliRunner().invoke(cli, args)
        finally:
            for name in [n for n in sys.modules if n == "blog" or n.startswith("blog.")]:
                del sys.modules[name]
            reset_settings()
    return result.output.splitlines(), result.exit_code


def test_the_tutorial_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(ENV_SETTINGS, raising=False)
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    ran = 0
    for block in blocks(PAGE):
        lines = block.code.rstrip("\n").splitlines()
        where = f"docs/migrations.md:{block.line}"
        if block.language in ("python", "toml", "ini") and lines:
            written = WRITTEN.match(lines[0])
            if written:
                generated = (tmp_path / written.group(1)).read_text().splitlines()
                assert generated[2:] == lines[1:], f"{where}: the file makemigrations wrote"
                continue
            target = FILE.match(lines[0])
            if target:
                path = tmp_path / target.group(1)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.code)
            continue
        if block.language != "console":
            continue
        commands: list[tuple[str, list[str]]] = []
        for line in lines:
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        for command, expected in commands:
            actual, _status = _run(command, tmp_path)
            assert _matches(expected, actual), (
                f"{where}: $ {command}\n--- the page shows:\n" + "\n".join(expected)
                + "\n--- it printed:\n" + "\n".join(actual)
            )
            ran += 1
    assert ran >= 15
