"""``makemigrations`` then ``migrate`` for a generated 200-model project on SQLite.

Both run as the user runs them: ``python -m reinhardt_db ...`` in a fresh
project directory, each a new process (interpreter start-up, imports and
settings included), timed by wall clock. The project: one app, N models of 8
fields each (two of them indexed) plus the id, a ForeignKey to the model
before (a chain through all of them), every tenth model with a
``ManyToManyField`` to the model before it (a junction table), a
``Meta.indexes`` entry and a ``unique_together``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._util import Options

__all__ = ["WORKLOADS", "generate", "main", "measure"]

WORKLOADS = ("makemigrations_migrate",)
MODELS = 200
SMOKE_MODELS = 10
TARGET_SECONDS = 10.0

_FIELDS = """\
    title = models.CharField(max_length=100)
    code = models.CharField(max_length=50, db_index=True)
    body = models.TextField(default="")
    rank = models.IntegerField(default=0, db_index=True)
    total = models.BigIntegerField(null=True)
    active = models.BooleanField(default=False)
    seen_at = models.DateTimeField(null=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
"""


def generate(root: Path, models: int = MODELS, app: str = "bigapp") -> None:
    """Write a project with one app of ``models`` models into ``root``."""
    package = root / app
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    parts = ["from reinhardt_db import models\n"]
    for number in range(models):
        parts.append(f"\n\nclass Model{number:03d}(models.Model):\n{_FIELDS}")
        if number:
            previous = f"Model{number - 1:03d}"
            parts.append(
                f"    prev = models.ForeignKey('{previous}', null=True, "
                "on_delete=models.CASCADE, related_name='+')\n"
            )
            if number % 10 == 0:
                parts.append(f"    links = models.ManyToManyField('{previous}', related_name='+')\n")
        if number % 10 == 0:
            parts.append(
                "\n    class Meta:\n"
                f"        indexes = [models.Index(fields=['title', 'rank'], name='m{number:03d}_tr')]\n"
                "        unique_together = [('code', 'total')]\n"
            )
    (package / "models.py").write_text("".join(parts))
    (root / "reinhardt.toml").write_text(
        f'installed_apps = ["{app}"]\n\n[databases]\ndefault = "sqlite:///db.sqlite3"\n'
    )


def _run(root: Path, *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "reinhardt_db", *args], cwd=root, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"reinhardt {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def measure(root: Path, models: int = MODELS) -> dict[str, float]:
    """Generate the project in ``root`` (empty), run both commands; return their seconds."""
    generate(root, models)
    seconds = {"makemigrations": _run(root, "makemigrations"), "migrate": _run(root, "migrate")}
    seconds["total"] = seconds["makemigrations"] + seconds["migrate"]
    return seconds


def main(options: Options) -> None:
    """Print the timings (``--smoke``: 10 models, no target check)."""
    if "sqlite" not in options.backends:
        print("migrations: runs on SQLite only; skipped")
        return
    models = SMOKE_MODELS if options.smoke else MODELS
    with tempfile.TemporaryDirectory(prefix="bench_migrations_") as directory:
        seconds = measure(Path(directory), models)
    print(f"\nmigrations — SQLite, {models} models x 8 fields, a ForeignKey chain, "
          "a ManyToManyField every tenth model")
    for name, value in seconds.items():
        print(f"  {name:<15} {value:7.2f} s")
    if not options.smoke:
        verdict = "ok" if seconds["total"] < TARGET_SECONDS else "MISSED"
        print(f"  target: total under {TARGET_SECONDS:g} s -> {verdict}")
