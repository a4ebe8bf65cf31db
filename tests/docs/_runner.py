"""Run the Python examples of one documentation page (a child process of test_examples).

Usage: ``python _runner.py BLOCKS.json`` from an empty working directory. The JSON
holds ``{"page": ..., "blocks": [{"line": n, "code": "..."}]}``. The blocks run in
order in one namespace, statement by statement, as if typed into ``python -m
asyncio``: an event loop is running and top-level ``await`` works. A block that
calls ``asyncio.run(`` starts its own loop, so it runs whole, outside the runner's.

Before the first block the default database is ``sqlite:///docs.sqlite3`` (and a
``replica`` alias ``sqlite:///replica.sqlite3``) in the working directory, and the
namespace is a module of the installed app ``docs_app``, so models need no
``app_label`` (an empty ``docs_app`` package is importable, for ``setup()`` and
``lifespan()``). Before each statement the tables of the models declared so far are
created (``create_tables(if_not_exists=True)``), as if migrations had run.
On failure the traceback names the page and line.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import inspect
import json
import sys
import traceback
import types
from pathlib import Path
from typing import Any

import reinhardt_db
from reinhardt_db.apps import apps


def _statements(source: str, filename: str, whole: bool) -> list[Any]:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    if whole:
        return [compile(source, filename, "exec", flags=flags)]
    tree = ast.parse(source, filename)
    return [
        compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", flags=flags)
        for node in tree.body
    ]


async def _in_loop(code: Any, namespace: dict[str, Any]) -> None:
    result = eval(code, namespace)
    if inspect.iscoroutine(result):
        await result


async def _create_tables(done: set[type[Any]]) -> None:
    new = [m for m in apps.get_models() if m not in done and m._meta.managed]
    if new:
        await reinhardt_db.create_tables(new, if_not_exists=True)
        done.update(new)


def main(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    # An importable (empty) package, so that setup() and lifespan() find the installed app.
    app_package = types.ModuleType("docs_app")
    app_package.__path__ = []
    sys.modules["docs_app"] = app_package
    reinhardt_db.configure(
        databases={"default": "sqlite:///docs.sqlite3", "replica": "sqlite:///replica.sqlite3"},
        installed_apps=["docs_app"],
    )
    namespace: dict[str, Any] = {"__name__": "docs_app.examples", "__builtins__": builtins}
    loop = asyncio.new_event_loop()
    tables: set[type[Any]] = set()
    try:
        for block in spec["blocks"]:
            # Padding keeps traceback line numbers equal to the page's.
            filename = spec["page"]
            own_loop = "asyncio.run(" in block["code"]
            try:
                source = "\n" * block["line"] + block["code"]
                for code in _statements(source, filename, whole=own_loop):
                    loop.run_until_complete(_create_tables(tables))
                    if own_loop:
                        exec(code, namespace)
                    else:
                        loop.run_until_complete(_in_loop(code, namespace))
            except BaseException:
                traceback.print_exc()
                print(f"\nThe example at {filename}:{block['line'] + 1} failed.", file=sys.stderr)
                return 1
        return 0
    finally:
        loop.run_until_complete(reinhardt_db.close_all())
        loop.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
