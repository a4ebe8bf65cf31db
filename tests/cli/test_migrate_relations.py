"""Relations through makemigrations and migrate, on each backend.

Two apps: ``lib`` (authors, books, tags, people following people, a cycle between
Author and Book, a membership ``through`` model) and ``pub`` (a publisher pointing
into ``lib``). After each step the introspected schema (foreign keys included)
matches the models and the rows written earlier are still there; then
``migrate zero`` for both apps and forwards again.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import reinhardt_db
from reinhardt_db.conf import reset_settings
from reinhardt_db.testing import isolate_apps

from .._schema import schema_problems
from ._project import Project

LIB_MODELS = """
from reinhardt_db import models


def default_tag_id():
    return None


class Author(models.Model):
    name = models.CharField(max_length=50)
    # A cycle: Book points at Author too.
    favourite = models.ForeignKey("Book", null=True, on_delete=models.SET_NULL,
                                  related_name="fans")


class Tag(models.Model):
    word = models.CharField(max_length=30, unique=True)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    sequel = models.OneToOneField("self", null=True, on_delete=models.SET(default_tag_id),
                                  related_name="prequel")


class Person(models.Model):
    name = models.CharField(max_length=50)
    mentor = models.ForeignKey("self", null=True, on_delete=models.DO_NOTHING,
                               related_name="mentees", db_constraint=False)
    friends = models.ManyToManyField("self")


class Club(models.Model):
    name = models.CharField(max_length=50)
    members = models.ManyToManyField(Person, through="Membership", related_name="clubs")


class Membership(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    club = models.ForeignKey(Club, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, default="member")
"""

PUB_MODELS = """
from reinhardt_db import models


class Publisher(models.Model):
    name = models.CharField(max_length=50)
    star = models.ForeignKey("{lib}.Author", on_delete=models.PROTECT, to_field="id",
                             related_name="publishers", related_query_name="publisher")
"""


@pytest.fixture
def project(
    clean_settings: Path, monkeypatch: pytest.MonkeyPatch, backend_name: str, backend_url: str
) -> Iterator[Project]:
    suffix = uuid.uuid4().hex[:6]
    url = f"sqlite:///{clean_settings}/db.sqlite3" if backend_name == "sqlite" else backend_url
    monkeypatch.syspath_prepend(str(clean_settings))
    project = Project(clean_settings, f"lib_{suffix}", url,
                      apps=[f"lib_{suffix}", f"pub_{suffix}"])
    yield project
    project.cleanup()


def problems(project: Project) -> list[str]:
    """How the database differs from both apps' models (junction tables included)."""
    project.forget()

    async def go() -> list[str]:
        reinhardt_db.configure(databases={"default": project.url}, installed_apps=project.apps)
        try:
            with isolate_apps(*project.apps) as registry:
                models = []
                for label in project.apps:
                    importlib.import_module(f"{label}.models")
                    models += registry.get_app_config(label).get_models()
                return await schema_problems(reinhardt_db.connections["default"], *models)
        finally:
            await reinhardt_db.close_all()
            reset_settings()

    try:
        return asyncio.run(go())
    finally:
        project.forget()


def write(project: Project, lib: str, pub: str) -> None:
    lib_label, pub_label = project.apps
    project.models(lib, lib_label)
    project.models(pub.replace("{lib}", lib_label), pub_label)


def seed(project: Project) -> None:
    lib = project.apps[0]
    project.sql(f"INSERT INTO {lib}_author (id, name) VALUES (1, 'Ann'), (2, 'Bob')")
    project.sql(f"INSERT INTO {lib}_tag (id, word) VALUES (1, 'scifi'), (2, 'classic')")
    project.sql(f"INSERT INTO {lib}_book (id, title, author_id) VALUES (1, 'Dune', 1), "
                "(2, 'Emma', 2)")
    project.sql(f"INSERT INTO {lib}_book_tags (book_id, tag_id) VALUES (1, 1), (2, 2), (1, 2)")
    project.sql(f"UPDATE {lib}_author SET favourite_id = 2 WHERE id = 1")
    project.sql(f"INSERT INTO {project.apps[1]}_publisher (name, star_id) VALUES ('Ace', 1)")


def links(project: Project, table: str = "book_tags", column: str = "tag_id") -> list[tuple]:
    lib = project.apps[0]
    return project.sql(f"SELECT book_id, {column} FROM {lib}_{table} ORDER BY book_id, {column}")


def test_relations_through_makemigrations_migrate_zero_and_forwards(project: Project) -> None:
    lib, pub = project.apps
    write(project, LIB_MODELS, PUB_MODELS)
    out = project.ok("makemigrations")
    assert f"{lib}/migrations/0001_initial.py" in out and f"{pub}/migrations/0001_initial.py" in out
    initial = (project.migrations(lib) / "0001_initial.py").read_text()
    # The cycle Author <-> Book: Author is created without its key to Book, added afterwards.
    assert re.search(r'migrations\.AddField\(\s*model_name="author",\s*name="favourite"',
                     initial), initial
    assert "on_delete=models.SET(" in initial and ".default_tag_id" in initial
    assert 'through="' in initial and "db_constraint=False" in initial
    assert f'("{lib}", "0001_initial")' in (project.migrations(pub) / "0001_initial.py").read_text()
    assert project.ok("makemigrations").strip() == "No changes detected"
    shown = project.ok("sqlmigrate", lib, "0001")
    assert re.search(rf"CONSTRAINT \W?{lib}_book_author_id_fk\W? FOREIGN KEY", shown), shown
    assert re.search(rf"REFERENCES \W?{lib}_author\W?", shown)

    project.ok("migrate")
    assert problems(project) == []
    seed(project)
    assert links(project) == [(1, 1), (1, 2), (2, 2)]

    # A foreign key to an existing table, a new many-to-many, an on_delete change.
    evolved = LIB_MODELS.replace(
        '    tags = models.ManyToManyField(Tag, related_name="books")\n',
        '    tags = models.ManyToManyField(Tag, related_name="books")\n'
        '    editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL,\n'
        '                               related_name="edited")\n'
        '    readers = models.ManyToManyField("Person", related_name="read")\n',
    ).replace(
        'author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")',
        'author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")',
    )
    write(project, evolved, PUB_MODELS)
    project.ok("makemigrations")
    sql = project.ok("sqlmigrate", lib, "0002")
    assert "Alter field author on book" in sql
    after_alter = sql.split("Alter field author on book", 1)[1].split("--", 1)[0]
    assert after_alter.strip() in ("", "COMMIT;"), sql  # on_delete lives in Python only
    assert re.search(r"CREATE TABLE \W?" + lib + r"_book_readers", sql), sql
    assert "editor_id" in sql
    project.ok("migrate")
    assert problems(project) == []
    assert links(project) == [(1, 1), (1, 2), (2, 2)]

    # Renaming a model others point at, and a field that is a foreign key.
    renamed = evolved.replace("class Tag(", "class Label(").replace(
        "ManyToManyField(Tag,", "ManyToManyField(Label,"
    ).replace("    author = models.ForeignKey(Author,", "    writer = models.ForeignKey(Author,")
    write(project, renamed, PUB_MODELS)
    made = project.ok("makemigrations", input="y\ny\n")
    assert "Rename model Tag to Label" in made and "Rename field author on book to writer" in made
    project.ok("migrate")
    assert problems(project) == []
    assert links(project, column="label_id") == [(1, 1), (1, 2), (2, 2)]
    assert project.sql(f"SELECT title, writer_id FROM {lib}_book ORDER BY id") == [
        ("Dune", 1), ("Emma", 2),
    ]
    assert project.ok("makemigrations").strip() == "No changes detected"

    # Renaming a model another app points at: the other app's field follows, no migration.
    writer = renamed.replace("class Author(", "class Writer(").replace(
        "ForeignKey(Author,", "ForeignKey(Writer,")
    writer_pub = PUB_MODELS.replace('"{lib}.Author"', '"{lib}.Writer"')
    write(project, writer, writer_pub)
    made = project.ok("makemigrations", input="y\n")
    assert "Rename model Author to Writer" in made and pub not in made
    # pub's 0001 names lib.Author: it must run before the rename (migrate from zero).
    rename = (project.migrations(lib) / "0004_rename_author_writer.py").read_text()
    assert f'("{pub}", "0001_initial")' in rename
    project.ok("migrate")
    assert problems(project) == []  # foreign keys named after the new table too
    # Dropping the database constraint of a foreign key found by its (renamed) name.
    write(project, writer.replace('related_name="fans")', 'related_name="fans",\n'
                                  '                                  db_constraint=False)'),
          writer_pub)
    assert "Alter field favourite on writer" in project.ok("makemigrations")
    project.ok("migrate")
    assert problems(project) == []
    assert project.sql(f"SELECT name, favourite_id FROM {lib}_writer ORDER BY id") == [
        ("Ann", 2), ("Bob", None),
    ]
    assert project.sql(f"SELECT name, star_id FROM {pub}_publisher") == [("Ace", 1)]

    # Deleting two models that point at each other (Club <-> Membership).
    club = writer.split("class Club(", 1)[0]
    write(project, club.replace('related_name="fans")', 'related_name="fans",\n'
                                '                                  db_constraint=False)'),
          writer_pub)
    made = project.ok("makemigrations")
    assert "Delete model Club" in made and "Delete model Membership" in made
    project.ok("migrate")
    assert problems(project) == []
    names = [t for (t,) in project.sql(_tables_sql(project))]
    assert f"{lib}_club" not in names and f"{lib}_membership" not in names

    # Everything backwards (pub first: it depends on lib), then forwards again.
    project.ok("migrate", pub, "zero")
    project.ok("migrate", lib, "zero")
    leftovers = [t for (t,) in project.sql(_tables_sql(project)) if t.startswith((lib, pub))]
    assert leftovers == []
    project.ok("migrate")
    assert problems(project) == []


def _tables_sql(project: Project) -> str:
    if project.url.startswith("sqlite"):
        return "SELECT name FROM sqlite_master WHERE type = 'table'"
    if project.url.startswith("postgresql"):
        return "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"


SQUASH_STEPS = [
    """
from reinhardt_db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
""",
    """
from reinhardt_db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Tag(models.Model):
    word = models.CharField(max_length=30)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
""",
    """
from reinhardt_db import models


class Author(models.Model):
    name = models.CharField(max_length=50)
    favourite = models.ForeignKey("Book", null=True, on_delete=models.SET_NULL,
                                  related_name="fans")


class Tag(models.Model):
    word = models.CharField(max_length=30)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL, related_name="+")
""",
]


def test_squash_across_relation_operations(project: Project) -> None:
    lib, pub = project.apps
    project.models("from reinhardt_db import models\n", pub)
    for source in SQUASH_STEPS:
        project.models(source, lib)
        project.ok("makemigrations", lib)
    project.ok("migrate", lib, "0002")
    project.sql(f"INSERT INTO {lib}_author (id, name) VALUES (1, 'Ann')")
    project.sql(f"INSERT INTO {lib}_book (id, title, author_id) VALUES (1, 'Dune', 1)")

    out = project.ok("squashmigrations", lib, "0001", "0003")
    squashed = next(project.migrations(lib).glob("0001_squashed_0003*.py")).read_text()
    # Folded into the creates, except the relation that closes the cycle.
    assert squashed.count("migrations.CreateModel(") == 3, squashed
    assert re.search(r'AddField\(\s*model_name="author",\s*name="favourite"', squashed)
    assert "replaces" in squashed and out

    project.ok("migrate")  # 0001-0002 applied: goes on with 0003 only
    assert problems(project) == []
    assert project.sql(f"SELECT title, editor_id FROM {lib}_book") == [("Dune", None)]

    project.ok("migrate", lib, "zero")
    for old in ("0001_initial.py", "0002_*.py", "0003_*.py"):
        for path in project.migrations(lib).glob(old):
            path.unlink()
    project.ok("migrate")  # a fresh database: the squash alone
    assert problems(project) == []


def test_fake_initial_counts_junction_tables_and_deferred_foreign_keys(project: Project) -> None:
    lib, pub = project.apps
    write(project, LIB_MODELS, PUB_MODELS)
    project.ok("makemigrations")
    project.ok("migrate")
    # Tables made some other way: the history is forgotten, the schema stays.
    project.sql(f"DELETE FROM reinhardt_migrations WHERE app IN ('{lib}', '{pub}')")
    out = project.ok("migrate", "--fake-initial")
    assert f"Applying {lib}.0001_initial... FAKED (tables exist)" in out
    assert f"Applying {pub}.0001_initial... FAKED (tables exist)" in out
    # Without the junction table, 0001 is not taken as applied.
    project.sql(f"DELETE FROM reinhardt_migrations WHERE app IN ('{lib}', '{pub}')")
    project.sql(f"ALTER TABLE {lib}_book_tags RENAME TO {lib}_moved")
    result = project.run("migrate", "--fake-initial")
    assert result.exit_code == 1
    assert f"Applying {lib}.0001_initial..." in result.output
    assert "FAKED" not in result.output.split(f"{lib}.0001_initial", 1)[1].split("\n", 1)[0]
    project.sql(f"ALTER TABLE {lib}_moved RENAME TO {lib}_book_tags")
    assert "FAKED (tables exist)" in project.ok("migrate", "--fake-initial")
    assert problems(project) == []


def test_two_new_apps_pointing_at_each_other(project: Project) -> None:
    lib, pub = project.apps
    project.models(f"""
from reinhardt_db import models


class Author(models.Model):
    name = models.CharField(max_length=50)
    publisher = models.ForeignKey("{pub}.Publisher", null=True, on_delete=models.SET_NULL,
                                  related_name="authors")
""", lib)
    project.models(f"""
from reinhardt_db import models


class Publisher(models.Model):
    name = models.CharField(max_length=50)
    founder = models.ForeignKey("{lib}.Author", on_delete=models.PROTECT, related_name="+")
""", pub)
    out = project.ok("makemigrations")
    assert f"{lib}/migrations/0001_initial.py" in out
    assert f"{lib}/migrations/0002_initial.py" in out
    assert f"{pub}/migrations/0001_initial.py" in out
    assert project.ok("makemigrations").strip() == "No changes detected"
    project.ok("migrate")
    assert problems(project) == []
    project.sql(f"INSERT INTO {lib}_author (id, name) VALUES (1, 'Ann')")
    project.sql(f"INSERT INTO {pub}_publisher (id, name, founder_id) VALUES (1, 'Ace', 1)")
    project.sql(f"UPDATE {lib}_author SET publisher_id = 1")

    project.ok("migrate", pub, "zero")  # takes lib's 0002 (it needs pub) back first
    assert project.sql(f"SELECT name FROM {lib}_author") == [("Ann",)]
    project.ok("migrate", lib, "zero")
    project.ok("migrate")
    assert problems(project) == []


def test_a_table_rename_moves_the_junction_tables_named_after_it(project: Project) -> None:
    lib, pub = project.apps
    project.models("from reinhardt_db import models\n", pub)
    source = """
from reinhardt_db import models


class Tag(models.Model):
    word = models.CharField(max_length=30)


class Book(models.Model):
    title = models.CharField(max_length=50)
    tags = models.ManyToManyField(Tag, related_name="books")
"""
    project.models(source, lib)
    project.ok("makemigrations", lib)
    project.ok("migrate")
    project.sql(f"INSERT INTO {lib}_tag (id, word) VALUES (1, 'scifi')")
    project.sql(f"INSERT INTO {lib}_book (id, title) VALUES (1, 'Dune')")
    project.sql(f"INSERT INTO {lib}_book_tags (book_id, tag_id) VALUES (1, 1)")
    project.models(source.replace(
        'related_name="books")\n',
        f'related_name="books")\n\n    class Meta:\n        db_table = "{lib}_volumes"\n',
    ), lib)
    assert "Rename table for book" in project.ok("makemigrations", lib)
    project.ok("migrate")
    assert problems(project) == []
    assert project.sql(f"SELECT book_id, tag_id FROM {lib}_volumes_tags") == [(1, 1)]
    project.ok("migrate", lib, "0001")
    assert problems(project) != []  # models.py is ahead again: the old names are back
    assert project.sql(f"SELECT book_id, tag_id FROM {lib}_book_tags") == [(1, 1)]
