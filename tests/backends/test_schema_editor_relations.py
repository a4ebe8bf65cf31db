"""The schema editor with relation fields, on each live server.

Foreign key columns come with their database constraint (unless
``db_constraint=False``) and index; a many-to-many field is a junction table
created and dropped with the field; ``on_delete`` lives in Python only; SQLite
rebuilds keep the foreign keys that point out of and into the rebuilt table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.testing import isolate_apps

from .._schema import schema_problems
from .._sql import captured

TABLES = ("ser_book_tags", "ser_book_labels", "ser_review", "ser_book", "ser_tag", "ser_author")


def library(**book_fields: Any) -> dict[str, Any]:
    """Declare Author, Tag, Book (with ``book_fields``) and Review in a registry of their own."""
    with isolate_apps("ser"):
        class Author(models.Model):
            name = models.CharField(max_length=30)

            class Meta:
                app_label = "ser"

        class Tag(models.Model):
            word = models.CharField(max_length=30)

            class Meta:
                app_label = "ser"

        fields = {
            "title": models.CharField(max_length=30),
            "author": models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books"),
            **book_fields,
        }
        book_model = type("Book", (models.Model,), {
            "__module__": __name__, "Meta": type("Meta", (), {"app_label": "ser"}), **fields,
        })

        class Review(models.Model):
            book = models.ForeignKey(book_model, on_delete=models.CASCADE)
            stars = models.IntegerField(default=3)

            class Meta:
                app_label = "ser"

        return {"Author": Author, "Tag": Tag, "Book": book_model, "Review": Review}


async def drop_all(db: Database) -> None:
    if db.vendor == "mysql":
        await db.execute("SET FOREIGN_KEY_CHECKS = 0")
    for name in TABLES:
        suffix = " CASCADE" if db.vendor == "postgresql" else ""
        await db.execute(f"DROP TABLE IF EXISTS {name}{suffix}")
    if db.vendor == "mysql":
        await db.execute("SET FOREIGN_KEY_CHECKS = 1")


@pytest.fixture
async def db(backend: Database) -> AsyncIterator[Database]:
    await drop_all(backend)
    yield backend
    await drop_all(backend)


async def create(db: Database, found: dict[str, Any], *names: str) -> None:
    async with db.schema_editor() as editor:
        for name in names or ("Author", "Tag", "Book", "Review"):
            await editor.create_model(found[name])


async def foreign_keys(db: Database, table: str) -> list[tuple[Any, ...]]:
    constraints = await introspect(db).get_constraints(table)
    return sorted((c.columns, c.references) for c in constraints.values()
                  if c.kind == "foreign_key")


async def indexes(db: Database, table: str) -> list[tuple[str, ...]]:
    constraints = await introspect(db).get_constraints(table)
    return sorted(c.columns for c in constraints.values() if c.kind == "index")


async def test_create_model_adds_foreign_keys_indexes_and_the_junction_table(
    db: Database,
) -> None:
    found = library(tags=models.ManyToManyField("ser.Tag"))
    await create(db, found)
    assert await foreign_keys(db, "ser_book") == [(("author_id",), ("ser_author", ("id",)))]
    assert ("author_id",) in await indexes(db, "ser_book")
    assert await foreign_keys(db, "ser_book_tags") == [
        (("book_id",), ("ser_book", ("id",))), (("tag_id",), ("ser_tag", ("id",))),
    ]
    junction = found["Book"]._meta.get_field("tags").through
    assert await schema_problems(db, *found.values(), junction) == []
    await db.execute("INSERT INTO ser_author (id, name) VALUES (1, 'Ann')")
    await db.execute("INSERT INTO ser_book (id, title, author_id) VALUES (1, 'Dune', 1)")
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await db.execute("INSERT INTO ser_book (id, title, author_id) VALUES (2, 'Nope', 99)")

    async with db.schema_editor() as editor:
        await editor.delete_model(found["Review"])
        await editor.delete_model(found["Book"])  # its junction table goes first
    tables = set(await introspect(db).table_names())
    assert not tables & {"ser_book", "ser_book_tags", "ser_review"}


async def test_db_constraint_false_keeps_the_index_but_no_foreign_key(db: Database) -> None:
    found = library(editor=models.ForeignKey("ser.Author", null=True, db_constraint=False,
                                             on_delete=models.DO_NOTHING, related_name="+"))
    await create(db, found)
    assert await foreign_keys(db, "ser_book") == [(("author_id",), ("ser_author", ("id",)))]
    assert ("editor_id",) in await indexes(db, "ser_book")
    await db.execute("INSERT INTO ser_author (id, name) VALUES (1, 'Ann')")
    await db.execute("INSERT INTO ser_book (title, author_id, editor_id) VALUES ('x', 1, 99)")


async def test_add_and_remove_foreign_key_and_many_to_many_fields(db: Database) -> None:
    before = library()
    await create(db, before)
    await db.execute("INSERT INTO ser_author (id, name) VALUES (1, 'Ann')")
    await db.execute("INSERT INTO ser_book (id, title, author_id) VALUES (1, 'Dune', 1)")
    after = library(
        editor=models.ForeignKey("ser.Author", null=True, on_delete=models.SET_NULL,
                                 related_name="edited"),
        tags=models.ManyToManyField("ser.Tag"),
    )
    book = after["Book"]
    async with db.schema_editor() as editor:
        await editor.add_field(book, book._meta.get_field("editor"))
        await editor.add_field(book, book._meta.get_field("tags"))
    assert await foreign_keys(db, "ser_book") == [
        (("author_id",), ("ser_author", ("id",))), (("editor_id",), ("ser_author", ("id",))),
    ]
    junction = book._meta.get_field("tags").through
    assert await schema_problems(db, book, junction) == []
    assert [tuple(r) for r in await db.fetch_all("SELECT title, editor_id FROM ser_book")] == [
        ("Dune", None),
    ]

    async with db.schema_editor() as editor:
        await editor.remove_field(book, book._meta.get_field("tags"))
        await editor.remove_field(book, book._meta.get_field("editor"))
    assert "ser_book_tags" not in await introspect(db).table_names()
    assert await schema_problems(db, before["Book"]) == []


async def test_on_delete_and_related_name_changes_run_no_sql(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    old = library()
    await create(db, old)
    new = library()
    field = models.ForeignKey(new["Author"], on_delete=models.PROTECT, related_name="works")
    with isolate_apps("ser"):
        book = type("Book", (models.Model,), {
            "__module__": __name__, "Meta": type("Meta", (), {"app_label": "ser"}),
            "title": models.CharField(max_length=30), "author": field,
        })
    with captured(caplog) as ran:
        async with db.schema_editor() as editor:
            await editor.alter_field(book, old["Book"]._meta.get_field("author"),
                                     book._meta.get_field("author"))
    ddl = [s for s in ran if not s.upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "SELECT",
                                                       "SET", "SAVEPOINT", "RELEASE"))]
    assert ddl == []


async def test_collect_sql_shows_the_foreign_key_ddl(db: Database) -> None:
    found = library(tags=models.ManyToManyField("ser.Tag"))
    async with db.schema_editor(collect_sql=True) as editor:
        await editor.create_model(found["Book"])
    sql = "\n".join(editor.collected_sql)
    assert "FOREIGN KEY" in sql and "REFERENCES" in sql
    assert sql.count("CREATE TABLE") == 2  # the book and its junction table
    assert "ser_book_author_id_fk" in sql
    assert "ser_book" not in await introspect(db).table_names()


@pytest.mark.backends("sqlite")
async def test_sqlite_rebuild_keeps_foreign_keys_out_of_and_into_the_table(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    old = library()
    await create(db, old)
    await db.execute("INSERT INTO ser_author (id, name) VALUES (1, 'Ann')")
    await db.execute("INSERT INTO ser_book (id, title, author_id) VALUES (1, 'Dune', 1)")
    await db.execute("INSERT INTO ser_review (book_id, stars) VALUES (1, 5)")
    new = library()
    with isolate_apps("ser"):
        book = type("Book", (models.Model,), {
            "__module__": __name__, "Meta": type("Meta", (), {"app_label": "ser"}),
            "title": models.CharField(max_length=30, unique=True),
            "author": models.ForeignKey(new["Author"], on_delete=models.CASCADE),
        })
    with captured(caplog) as ran:
        async with db.schema_editor() as editor:
            await editor.alter_field(book, old["Book"]._meta.get_field("title"),
                                     book._meta.get_field("title"))
    assert any(s.startswith("CREATE TABLE new__ser_book") for s in ran), "rebuilt"
    assert "PRAGMA foreign_key_check" in ran
    assert await foreign_keys(db, "ser_book") == [(("author_id",), ("ser_author", ("id",)))]
    assert await foreign_keys(db, "ser_review") == [(("book_id",), ("ser_book", ("id",)))]
    assert [tuple(r) for r in await db.fetch_all(
        "SELECT r.stars, b.title FROM ser_review r JOIN ser_book b ON b.id = r.book_id"
    )] == [(5, "Dune")]
    assert await db.fetch_val("PRAGMA foreign_keys") == 1
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await db.execute("INSERT INTO ser_review (book_id, stars) VALUES (42, 1)")


async def test_renaming_a_many_to_many_field_renames_its_junction_table(db: Database) -> None:
    old = library(tags=models.ManyToManyField("ser.Tag"))
    await create(db, old)
    await db.execute("INSERT INTO ser_author (id, name) VALUES (1, 'Ann')")
    await db.execute("INSERT INTO ser_book (id, title, author_id) VALUES (1, 'Dune', 1)")
    await db.execute("INSERT INTO ser_tag (id, word) VALUES (1, 'scifi')")
    await db.execute("INSERT INTO ser_book_tags (book_id, tag_id) VALUES (1, 1)")
    new = library(labels=models.ManyToManyField("ser.Tag"))
    book = new["Book"]
    async with db.schema_editor() as editor:
        await editor.rename_field(book, old["Book"]._meta.get_field("tags"),
                                  book._meta.get_field("labels"))
    tables = set(await introspect(db).table_names())
    assert "ser_book_labels" in tables and "ser_book_tags" not in tables
    junction = book._meta.get_field("labels").through
    assert await schema_problems(db, junction) == []
    rows = await db.fetch_all("SELECT book_id, tag_id FROM ser_book_labels")
    assert [tuple(r) for r in rows] == [(1, 1)]


async def test_a_many_to_many_field_cannot_turn_into_a_column_in_place(db: Database) -> None:
    old = library(tags=models.ManyToManyField("ser.Tag"))
    new = library(tags=models.ForeignKey("ser.Tag", null=True, on_delete=models.SET_NULL))
    book = new["Book"]
    with pytest.raises(NotSupportedError, match=r"Book\.tags: a many-to-many field cannot "
                                                 r"become a column.*remove the field and add"):
        async with db.schema_editor(collect_sql=True) as editor:
            await editor.alter_field(book, old["Book"]._meta.get_field("tags"),
                                     book._meta.get_field("tags"))


async def test_switching_a_junction_table_for_a_through_model_is_refused(db: Database) -> None:
    old = library(tags=models.ManyToManyField("ser.Tag"))
    with isolate_apps("ser"):
        class Tag(models.Model):
            class Meta:
                app_label = "ser"

        class Book(models.Model):
            tags = models.ManyToManyField(Tag, through="Tagging")

            class Meta:
                app_label = "ser"

        class Tagging(models.Model):
            book = models.ForeignKey(Book, on_delete=models.CASCADE)
            tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

            class Meta:
                app_label = "ser"

    with pytest.raises(NotSupportedError, match=r"Book\.tags: changing between a created "
                                                 r"junction table and a through= model"):
        async with db.schema_editor(collect_sql=True) as editor:
            await editor.alter_field(Book, old["Book"]._meta.get_field("tags"),
                                     Book._meta.get_field("tags"))
