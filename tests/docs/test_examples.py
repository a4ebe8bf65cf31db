"""Every Python example in README.md and docs/*.md runs (on SQLite, in a child process).

A ```python block is run unless the line before its fence is an HTML comment
``<!-- not-run: why -->`` (a signature, a fragment): keep those to what truly
cannot run. A block after ``<!-- run-on: postgresql -->`` runs with every
``postgresql://...`` URL in it pointing at the test PostgreSQL database. How the
blocks of a page run (one namespace, a running event loop, tables created for the
models declared so far) is described in ``_runner.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .._servers import in_ci

if TYPE_CHECKING:
    from .._servers import TestServers

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*(not-run|run-on):\s*(.*?)\s*-->$")
PG_URL = re.compile(r"""(["'])postgresql://[^"']*\1""")


@dataclass
class Block:
    line: int  # 0-based line of the first code line
    language: str
    code: str
    marker: tuple[str, str] | None


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        previous = lines[i - 1].strip() if i else ""
        marker = MARKER.match(previous)
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        found.append(Block(
            line=i + 1, language=fence.group(1), code="\n".join(lines[i + 1:end]) + "\n",
            marker=(marker.group(1), marker.group(2)) if marker else None,
        ))
        i = end + 1
    return found


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_markers_are_explained_and_known() -> None:
    for page in PAGES:
        for block in blocks(page):
            where = f"{page_id(page)}:{block.line}"
            assert block.language not in ("py", "python3", "pycon"), (
                f"{where}: write ```python (with <!-- not-run: why --> if it cannot run)"
            )
            if block.marker is None:
                continue
            kind, value = block.marker
            assert block.language == "python", f"{where}: markers apply to ```python blocks"
            if kind == "not-run":
                assert value, f"{where}: say why the example cannot run: <!-- not-run: why -->"
            else:
                assert value == "postgresql", f"{where}: unknown run-on target {value!r}"


def runnable(page: Path) -> list[Block]:
    return [
        block for block in blocks(page)
        if block.language == "python" and not (block.marker and block.marker[0] == "not-run")
    ]


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=page_id)
def test_python_examples_run(page: Path, tmp_path: Path, test_servers: TestServers) -> None:
    to_run = []
    for block in runnable(page):
        code = block.code
        if block.marker == ("run-on", "postgresql"):
            if "postgresql" not in test_servers.urls:
                message = test_servers.errors.get("postgresql", "no PostgreSQL server")
                if in_ci():
                    pytest.fail(f"CI=true and PostgreSQL is unreachable: {message}")
                pytest.skip(f"{page_id(page)}:{block.line} needs PostgreSQL: {message}")
            url = test_servers.urls["postgresql"]
            code = PG_URL.sub(lambda m, url=url: m.group(1) + url + m.group(1), code)
        to_run.append({"line": block.line, "code": code})
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps({"page": page_id(page), "blocks": to_run}))
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_runner.py")), str(spec)],
        cwd=work, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-6000:]
