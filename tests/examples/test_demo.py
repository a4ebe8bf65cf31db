"""``make demo`` runs: makemigrations, showmigrations, migrate, then queries (a copy, on SQLite)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_migrates_then_queries(tmp_path: Path) -> None:
    demo = tmp_path / "journal"
    shutil.copytree(REPO / "examples" / "journal", demo,
                    ignore=shutil.ignore_patterns("*.sqlite3*", "__pycache__", "*.migrate-lock"))

    result = subprocess.run([sys.executable, "demo.py"], cwd=demo, capture_output=True,
                            text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "$ reinhardt makemigrations\nNo changes detected\n" in out
    assert "$ reinhardt showmigrations\njournal_app\n [ ] 0001_initial\n" in out
    assert "Applying journal_app.0001_initial... OK (" in out
    assert out.index("-- queries --") > out.index("$ reinhardt migrate")
    assert "entries: 40" in out
