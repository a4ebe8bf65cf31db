"""mypy on a small typed user project (tests/typing_project/) sees real types.

mypy runs in a child process from the project's own directory, so it finds
reinhardt_db the way a user's project does: installed in the environment (`make
venv` installs it in setuptools' "compat" editable mode, a plain path entry; the
default mode's import hook is invisible to mypy, which then types everything as
Any). ``shop/usage.py`` holds ``assert_type`` checks that must all pass;
``shop/negative.py`` marks each line mypy must reject with ``# E: <error code>``.
The project also runs: its usage functions execute on SQLite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).parent / "typing_project"
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$")


def expected_errors(path: Path) -> set[tuple[int, str]]:
    expected = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        marker = re.search(r"# E: ([a-z-]+)$", line)
        if marker:
            expected.add((number, marker.group(1)))
    return expected


def test_mypy_checks_the_typed_project(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    done = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--config-file", "mypy.ini",
            "--cache-dir", str(tmp_path / "mypy_cache"), "--no-error-summary",
            "--hide-error-context", "--no-pretty",
            "-m", "shop.models", "-m", "shop.usage", "-m", "shop.negative",
        ],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert "reinhardt_db" not in done.stderr, done.stderr
    errors = [m for m in map(ERROR.match, done.stdout.splitlines()) if m]
    elsewhere = [m.group(0) for m in errors if m.group("path") != "shop/negative.py"]
    assert not elsewhere, (
        "mypy rejected valid code (if it cannot find reinhardt_db, reinstall it with "
        "`make venv`):\n" + "\n".join(elsewhere)
    )
    found = {(int(m.group("line")), m.group("code")) for m in errors}
    expected = expected_errors(PROJECT / "shop" / "negative.py")
    assert found == expected, done.stdout
    assert done.returncode == 1, done.stdout + done.stderr


RUN_USAGE = """
import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import reinhardt_db
from shop import models, usage

VALUES = dict(
    boolean=True, char="c", text="t", slug="s", email="a@example.com",
    url="https://example.com", integer=1, big=2, small=3, positive=4, positive_small=5,
    positive_big=6, floating=1.5, decimal=Decimal("1.25"), date=dt.date(2024, 1, 2),
    datetime=dt.datetime(2024, 1, 2, tzinfo=dt.UTC), time=dt.time(1, 2),
    duration=dt.timedelta(days=1), uuid=uuid.uuid4(), binary=b"b", ip="127.0.0.1",
)


async def main() -> None:
    async with reinhardt_db.lifespan():
        await reinhardt_db.create_tables()
        await usage.writing()
        await usage.reading()
        usage.constructing()
        row = models.EveryField(**VALUES)
        await row.save()
        fetched = await models.EveryField.objects.get(pk=row.pk)
        usage.every_field(fetched)
        for name, value in VALUES.items():  # the run-time types are the declared ones
            assert type(getattr(fetched, name)) is type(value), name
            assert getattr(fetched, name + "_or_none") is None, name

reinhardt_db.configure(databases={"default": "sqlite:///typing_project.sqlite3"})
asyncio.run(main())
print("ran")
"""


def test_typed_project_runs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_USAGE], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ran", done.stderr
