"""With CI=true an unreachable database server fails the suite, naming the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_backend_test(ci: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CI": ci,
        "REINHARDT_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/test",
        # One name per test: under xdist both tests run at once.
        "REINHARDT_TEST_DB_SUFFIX": f"ciguard{ci or 'local'}",
    }
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q",
            "tests/backends/test_database.py::test_server_version",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_ci_fails_and_names_the_unreachable_server() -> None:
    result = _run_backend_test("true")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # pytest.fail() in the fixture: reported as a setup error, and the run exits 1.
    assert "2 passed, 1 error" in output, output
    assert "postgresql server at 127.0.0.1:1 unreachable" in output, output
    assert "CI=true" in output


def test_outside_ci_the_unreachable_server_is_skipped_with_its_name() -> None:
    result = _run_backend_test("")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 passed, 1 skipped" in output, output
