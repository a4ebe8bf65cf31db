"""The migrations benchmark still runs (a few models; no timing is asserted)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.migrations.bench import measure


def test_makemigrations_then_migrate_on_a_generated_project(tmp_path: Path) -> None:
    seconds = measure(tmp_path, models=11)

    assert set(seconds) == {"makemigrations", "migrate", "total"}
    assert (tmp_path / "bigapp" / "migrations" / "0001_initial.py").is_file()
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {f"bigapp_model{n:03d}" for n in range(11)} <= tables
