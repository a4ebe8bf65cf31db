"""``reinhardt_db/models/`` never branches on a vendor name: it asks ``db.ops`` / ``db.features``.

The scan reads the source with ``ast`` and reports ``file:line`` for each of:

- a comparison involving a ``vendor`` name or attribute (``vendor == ...``,
  ``ctx.vendor != ...``, ``db.vendor in (...)``, ``vendor not in ...``);
- a string that is a vendor or dialect name (``"sqlite"``, ``"postgresql"``,
  ``"mysql"``, ``"mariadb"``) outside docstrings: keys of per-vendor tables,
  tuples of vendors, comparisons with ``dialect.name``;
- a table indexed by a vendor (``_RANDOM[ctx.vendor]``);
- ``as_<vendor>`` dispatch (``getattr(self, f"as_{self.vendor}")``) or a
  built-in ``def as_sqlite/as_postgresql/as_mysql`` (that hook is for user code).
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import reinhardt_db.models

MODELS_DIR = Path(reinhardt_db.models.__file__).parent
VENDOR_NAMES = frozenset({"sqlite", "postgresql", "mysql", "mariadb"})
# Moved by the schema-editor branch: db_default literals, partial-index vendors and
# MySQL's CREATE INDEX IF NOT EXISTS go to backends/<vendor>/schema.py. Delete
# these entries once that branch is merged.
def _is_vendor_ref(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "vendor" or node.id.endswith("_vendor")
    if isinstance(node, ast.Attribute):
        return node.attr == "vendor"
    return False


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def vendor_branches(source: str) -> list[tuple[int, str]]:
    """Return ``(line, what)`` for every vendor branch in ``source``."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_vendor_ref(side) for side in sides):
                found.append((node.lineno, "comparison with a vendor name"))
        elif isinstance(node, ast.Subscript) and _is_vendor_ref(node.slice):
            found.append((node.lineno, "table indexed by vendor"))
        elif isinstance(node, ast.JoinedStr):
            parts = node.values
            for part, following in itertools.pairwise(parts):
                if (
                    isinstance(part, ast.Constant)
                    and str(part.value).endswith("as_")
                    and isinstance(following, ast.FormattedValue)
                ):
                    found.append((node.lineno, "as_<vendor> dispatch"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("as_") and node.name[3:] in VENDOR_NAMES:
                found.append((node.lineno, f"built-in {node.name}() hook"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in VENDOR_NAMES
            and id(node) not in docstrings
        ):
            found.append((node.lineno, f"vendor name {node.value!r}"))
    return sorted(set(found))


def test_the_scan_finds_each_kind_of_branch() -> None:
    source = '''
def f(ctx, db, vendor):
    """Mentions "sqlite" in a docstring, which is fine."""
    if vendor == "sqlite": pass
    if ctx.vendor != x: pass
    if db.vendor in VENDORS: pass
    if self.vendor not in y: pass
    _TABLE[ctx.vendor]()
    getattr(node, f"as_{ctx.vendor}")
    types = {"default": 1, "postgresql": 2}
class L:
    def as_mysql(self): pass
'''
    lines = {line for line, _ in vendor_branches(source)}
    assert lines == {4, 5, 6, 7, 8, 9, 10, 12}


def test_models_hold_no_vendor_branch() -> None:
    problems: list[str] = []
    for path in sorted(MODELS_DIR.rglob("*.py")):
        relative = path.relative_to(MODELS_DIR).as_posix()
        for line, what in vendor_branches(path.read_text(encoding="utf-8")):
            problems.append(f"reinhardt_db/models/{relative}:{line}: {what}")
    assert not problems, (
        "vendor knowledge belongs in reinhardt_db/backends/<vendor>/ (ask db.ops / "
        "db.features, or ctx.ops / ctx.features while compiling):\n" + "\n".join(problems)
    )
