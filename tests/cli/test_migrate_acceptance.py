"""Issue 11's acceptance: a 5-model app evolved step by step through the CLI, on each backend.

After each step ``makemigrations`` -> ``migrate``, the introspected schema matches
the models (``tests/_schema.py``) and every row written before is still there with
its values. Then ``migrate APP zero`` and forwards again. Also: squashing, two
``migrate`` processes at once, the graph of a two-app project with a merge.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db.conf import reset_settings
from reinhardt_db.testing import isolate_apps

from .._schema import schema_problems
from ._project import Project


@pytest.fixture
def project(
    clean_settings: Path, monkeypatch: pytest.MonkeyPatch, backend_name: str, backend_url: str
) -> Iterator[Project]:
    label = f"shop_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{clean_settings}/db.sqlite3" if backend_name == "sqlite" else backend_url
    monkeypatch.syspath_prepend(str(clean_settings))
    project = Project(clean_settings, label, url)
    yield project
    project.cleanup()


def problems(project: Project, label: str | None = None) -> list[str]:
    """Return how the database differs from the app's models (as models.py declares them)."""
    label = label or project.label
    project.forget()

    async def go() -> list[str]:
        reinhardt_db.configure(databases={"default": project.url}, installed_apps=project.apps)
        try:
            with isolate_apps(*project.apps) as registry:
                importlib.import_module(f"{label}.models")
                models = registry.get_app_config(label).get_models()
                return await schema_problems(reinhardt_db.connections["default"], *models)
        finally:
            await reinhardt_db.close_all()
            reset_settings()

    try:
        return asyncio.run(go())
    finally:
        project.forget()


# -- the evolution ---------------------------------------------------------------------------
@dataclass
class Model:
    """One model's source (fields and Meta lines) and the rows the test expects in its table."""

    name: str
    fields: dict[str, str]
    meta: list[str] = field(default_factory=list)
    table: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def source(self) -> str:
        lines = [f"class {self.name}(models.Model):"]
        lines += [f"    {name} = {spec}" for name, spec in self.fields.items()]
        if self.meta:
            lines += ["", "    class Meta:"] + [f"        {line}" for line in self.meta]
        return "\n".join(lines)


@dataclass
class Shop:
    """The app's five models as the scenario changes them."""

    label: str
    models: dict[str, Model] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for model in (
            Model("Author", {"name": "models.CharField(max_length=100)",
                             "email": "models.CharField(max_length=100, null=True)"}),
            Model("Book", {"title": "models.CharField(max_length=100)",
                           "pages": "models.IntegerField(default=0)",
                           "isbn": "models.CharField(max_length=20, null=True)"}),
            Model("Shelf", {"label": "models.CharField(max_length=50)",
                            "capacity": "models.IntegerField(default=10)"}),
            Model("Tag", {"word": "models.CharField(max_length=30)"}),
            Model("Note", {"text": "models.TextField(default='')"}),
        ):
            model.table = f"{self.label}_{model.name.lower()}"
            self.models[model.name] = model

    def source(self) -> str:
        body = "\n\n\n".join(m.source() for m in self.models.values())
        return f"from reinhardt_db import models\n\n\n{body}\n"


def seed(project: Project, shop: Shop) -> None:
    rows = {
        "Author": [{"name": "Ann", "email": "ann@example.com"}, {"name": "Bob", "email": None}],
        "Book": [{"title": "Dune", "pages": 412, "isbn": "978-0441013593"},
                 {"title": "Emma", "pages": 474, "isbn": None}],
        "Shelf": [{"label": "top", "capacity": 5}, {"label": "low", "capacity": 8}],
        "Tag": [{"word": "scifi"}, {"word": "classic"}],
        "Note": [{"text": "hello"}, {"text": ""}],
    }
    for name, values in rows.items():
        model = shop.models[name]
        for row in values:
            columns = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            project.sql(f"INSERT INTO {model.table} ({columns}) VALUES ({marks})", list(row.values()))
            model.rows.append(dict(row))


def check_rows(project: Project, shop: Shop) -> None:
    for model in shop.models.values():
        if not model.rows:
            continue
        columns = list(model.rows[0])
        values = project.sql(f"SELECT {', '.join(columns)} FROM {model.table} ORDER BY id")
        assert len(values) == len(model.rows), f"{model.table}: {values}"
        found = [
            tuple(Decimal(str(v)) if isinstance(row[c], Decimal) else v
                  for c, v in zip(columns, line, strict=True))
            for row, line in zip(model.rows, values, strict=True)
        ]
        expected = [tuple(row[c] for c in columns) for row in model.rows]
        assert found == expected, f"{model.table}: {found} != {expected}"


@dataclass
class Step:
    what: str
    change: Callable[[Shop], None]
    answers: str | None = None
    expect: str = ""  # a line makemigrations prints


def _add_price(shop: Shop) -> None:
    book = shop.models["Book"]
    book.fields["price"] = "models.DecimalField(max_digits=8, decimal_places=2, default=0)"
    for row in book.rows:
        row["price"] = Decimal("0.00")


def _remove_email(shop: Shop) -> None:
    author = shop.models["Author"]
    del author.fields["email"]
    for row in author.rows:
        del row["email"]


def _longer_title(shop: Shop) -> None:
    shop.models["Book"].fields["title"] = "models.CharField(max_length=200)"


def _rename_pages(shop: Shop) -> None:
    book = shop.models["Book"]
    book.fields = {("page_count" if k == "pages" else k): v for k, v in book.fields.items()}
    book.rows = [{("page_count" if k == "pages" else k): v for k, v in r.items()}
                 for r in book.rows]


def _rename_tag(shop: Shop) -> None:
    tag = shop.models.pop("Tag")
    tag.name, tag.table = "Label", f"{shop.label}_label"
    shop.models["Label"] = tag


def _delete_note(shop: Shop) -> None:
    del shop.models["Note"]


def _index(shop: Shop) -> None:
    shop.models["Book"].meta.append(
        "indexes = [models.Index(fields=['title'], name='book_title_idx')]"
    )


def _constraint(shop: Shop) -> None:
    shop.models["Shelf"].meta.append(
        "constraints = [models.CheckConstraint(condition=models.Q(capacity__gte=0), "
        "name='shelf_capacity_gte_0')]"
    )


def _unique_together(shop: Shop) -> None:
    shop.models["Book"].meta.append("unique_together = [('title', 'isbn')]")


def _table_rename(shop: Shop) -> None:
    author = shop.models["Author"]
    author.meta.append(f"db_table = '{shop.label}_writers'")
    author.table = f"{shop.label}_writers"


def _default_change(shop: Shop) -> None:
    shop.models["Shelf"].fields["capacity"] = "models.IntegerField(default=20)"


def _isbn_not_null(shop: Shop) -> None:
    shop.models["Book"].fields["isbn"] = "models.CharField(max_length=20)"
    for row in shop.models["Book"].rows:
        if row["isbn"] is None:
            row["isbn"] = "unknown"


def _unique_slug(shop: Shop) -> None:
    label = shop.models["Label"]
    label.fields["slug"] = "models.CharField(max_length=30, null=True, unique=True)"
    for row in label.rows:
        row["slug"] = None


def _unique_shelf_label(shop: Shop) -> None:
    shop.models["Shelf"].fields["label"] = "models.CharField(max_length=50, unique=True)"


STEPS = [
    Step("add a NOT NULL field with a default", _add_price, expect="Add field price to book"),
    Step("remove a field", _remove_email, expect="Remove field email from author"),
    Step("alter max_length", _longer_title, expect="Alter field title on book"),
    Step("rename a field", _rename_pages, "y\n", "Rename field pages on book to page_count"),
    Step("rename a model", _rename_tag, "y\n", "Rename model Tag to Label"),
    Step("delete a model", _delete_note, expect="Delete model Note"),
    Step("add an index", _index, expect="Create index book_title_idx"),
    Step("add a check constraint", _constraint, expect="Create constraint shelf_capacity_gte_0"),
    Step("unique_together", _unique_together, expect="Alter unique_together for book"),
    Step("rename the table", _table_rename, expect="Rename table for author"),
    Step("change a default", _default_change, expect="Alter field capacity on shelf"),
    Step("null -> NOT NULL with a one-off default", _isbn_not_null, "1\n'unknown'\n",
         "Alter field isbn on book"),
    Step("add a unique nullable field", _unique_slug, expect="Add field slug to label"),
    Step("make a field unique", _unique_shelf_label, expect="Alter field label on shelf"),
    # TODO(relations): a new ForeignKey to an existing table and a new ManyToManyField
    # (junction table) join this scenario when ForeignKey/ManyToManyField land.
]


def test_a_five_model_app_evolves_through_every_change_without_losing_rows(
    project: Project,
) -> None:
    shop = Shop(project.label)
    project.models(shop.source())
    assert "0001_initial.py" in project.ok("makemigrations")
    project.ok("migrate")
    assert problems(project) == []
    seed(project, shop)

    for number, step in enumerate(STEPS, start=2):
        step.change(shop)
        project.models(shop.source())
        made = project.ok("makemigrations", input=step.answers)
        assert f"+ {step.expect}" in made, f"step {number} ({step.what}): {made}"
        assert f"{number:04d}_" in made
        migrated = project.ok("migrate")
        assert f"Applying {project.label}.{number:04d}_" in migrated, migrated
        assert problems(project) == [], f"after step {number}: {step.what}"
        check_rows(project, shop)
    assert project.ok("makemigrations").strip() == "No changes detected"

    out = project.ok("migrate", project.label, "zero")
    assert out.count("Unapplying") == len(STEPS) + 1
    tables = set(project.sql(_tables_sql(project)))
    assert not {t for (t,) in tables if t.startswith(project.label)}, tables
    out = project.ok("migrate")
    assert out.count("Applying") == len(STEPS) + 1
    assert problems(project) == []
    for model in shop.models.values():
        model.rows = []
    seed_again = {name: m for name, m in shop.models.items()}
    assert set(seed_again) == {"Author", "Book", "Shelf", "Label"}


def _tables_sql(project: Project) -> str:
    if project.url.startswith("sqlite"):
        return "SELECT name FROM sqlite_master WHERE type = 'table'"
    if project.url.startswith("postgres"):
        return "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"


# -- renames without input -------------------------------------------------------------------
@pytest.mark.backends("sqlite")
def test_noinput_never_guesses_a_model_rename(project: Project) -> None:
    shop = Shop(project.label)
    project.models(shop.source())
    project.ok("makemigrations")
    _rename_tag(shop)
    project.models(shop.source())
    out = project.ok("makemigrations", "--noinput")
    assert "--noinput: not treating model 'Tag' -> 'Label' as a rename" in out
    assert "+ Create model Label" in out and "+ Delete model Tag" in out


# -- squashing -------------------------------------------------------------------------------
def test_squash_0001_to_0005_gives_the_same_schema_and_partial_databases_migrate_on(
    project: Project,
) -> None:
    shop = Shop(project.label)
    project.models(shop.source())
    project.ok("makemigrations")
    for step in STEPS[:4]:
        step.change(shop)
        project.models(shop.source())
        project.ok("makemigrations", input=step.answers)
    project.ok("migrate", project.label, "0003")
    seed_books = shop.models["Book"]
    project.sql(f"INSERT INTO {seed_books.table} (title, pages, isbn, price) "
                "VALUES (%s, %s, %s, %s)", ["Dune", 412, None, 3])

    out = project.ok("squashmigrations", project.label, "0001", "0005")
    assert out.startswith("Created 0001_squashed_0005_rename_pages_book_page_count.py, "
                          f"replacing 5 migrations of '{project.label}'")
    squashed = project.migrations() / "0001_squashed_0005_rename_pages_book_page_count.py"
    source = squashed.read_text()
    assert "replaces = [" in source and "migrations.CreateModel(" in source
    assert "AddField" not in source, "folded into CreateModel"

    out = project.ok("migrate")  # 0001-0003 applied: goes on with 0004 and 0005
    assert f"Applying {project.label}.0004_" in out and f"Applying {project.label}.0005_" in out
    assert problems(project) == []
    assert project.sql(f"SELECT title, page_count FROM {seed_books.table}") == [("Dune", 412)]
    shown = project.ok("showmigrations", project.label)
    assert shown.startswith(f"{project.label}\n [X] 0001_squashed_0005")

    project.ok("migrate", project.label, "zero")
    out = project.ok("migrate")  # a fresh database: the squash alone
    assert out.count("Applying") == 1 and "0001_squashed_0005" in out
    assert problems(project) == []


# -- two processes at once -------------------------------------------------------------------
def test_two_migrate_processes_at_once_apply_each_migration_once(project: Project) -> None:
    shop = Shop(project.label)
    project.models(shop.source())
    project.ok("makemigrations")
    for step in STEPS[:3]:
        step.change(shop)
        project.models(shop.source())
        project.ok("makemigrations", input=step.answers)
    command = [sys.executable, "-m", "reinhardt_db", "--database-url", project.url, "migrate"]
    processes = [
        subprocess.Popen(command, cwd=project.root, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    applied = [line for out, _err in outputs for line in out.splitlines() if "Applying" in line]
    assert len(applied) == 4, outputs
    assert len(set(applied)) == 4
    rows = project.sql(
        "SELECT name, count(*) FROM reinhardt_migrations WHERE app = %s GROUP BY name",
        [project.label],
    )
    assert sorted(count for _name, count in rows) == [1, 1, 1, 1]
    assert problems(project) == []


# -- the graph -------------------------------------------------------------------------------
MIGRATION = """from reinhardt_db import migrations


class Migration(migrations.Migration):
    dependencies = {deps}
    operations = []
"""


@pytest.mark.backends("sqlite")
def test_graphmigrations_of_two_apps_with_a_merge(
    clean_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(clean_settings))
    suffix = uuid.uuid4().hex[:6]
    blog, shop = f"blog_{suffix}", f"shop_{suffix}"
    project = Project(clean_settings, blog, f"sqlite:///{clean_settings}/db.sqlite3",
                      apps=[blog, shop])
    files = {
        (blog, "0001_initial"): [],
        (blog, "0002_left"): [(blog, "0001_initial")],
        (blog, "0002_right"): [(blog, "0001_initial")],
        (blog, "0003_merge"): [(blog, "0002_left"), (blog, "0002_right")],
        (shop, "0001_initial"): [(blog, "0002_left")],
    }
    for (label, name), deps in files.items():
        folder = project.migrations(label)
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").write_text("")
        (folder / f"{name}.py").write_text(MIGRATION.format(deps=deps))
    project.ok("migrate", blog, "0002_left")

    out = project.ok("graphmigrations", "--applied")

    b, s = f"{blog}__", f"{shop}__"
    assert out == textwrap.dedent(f"""\
        flowchart TD
            subgraph {blog}
                {b}0001_initial["0001_initial"]
                {b}0002_left["0002_left"]
                {b}0002_right["0002_right"]
                {b}0003_merge["0003_merge"]
            end
            subgraph {shop}
                {s}0001_initial["0001_initial"]
            end
            {b}0001_initial --> {b}0002_left
            {b}0001_initial --> {b}0002_right
            {b}0002_left --> {b}0003_merge
            {b}0002_left --> {s}0001_initial
            {b}0002_right --> {b}0003_merge
            classDef applied fill:#d4edda,stroke:#28a745
            class {b}0001_initial,{b}0002_left applied
        """)
    dot = project.ok("graphmigrations", shop, "--format", "dot")
    assert f'"{blog}.0002_left" -> "{shop}.0001_initial";' in dot
    assert f'subgraph "cluster_{shop}"' in dot
    assert re.search(rf'"{blog}.0002_left" \[label="0002_left"\];', dot), "no --applied: plain"
    project.cleanup()
