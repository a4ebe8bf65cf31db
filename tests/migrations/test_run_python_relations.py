"""RunPython with historical related models: joins, reverse relations, M2M, cascades.

The models exist only as migration operations (no model classes in the code);
``apps.get_model()`` hands out classes whose relations resolve to each other.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db import migrations, models
from reinhardt_db.backends import Database
from reinhardt_db.migrations.state import ProjectState

APP = "rp_lib"


class Initial(migrations.Migration):
    operations = [
        migrations.CreateModel("Author", [
            ("id", models.BigAutoField(primary_key=True)),
            ("name", models.CharField(max_length=50)),
        ]),
        migrations.CreateModel("Tag", [
            ("id", models.BigAutoField(primary_key=True)),
            ("word", models.CharField(max_length=30)),
        ]),
        migrations.CreateModel("Book", [
            ("id", models.BigAutoField(primary_key=True)),
            ("title", models.CharField(max_length=50)),
            ("author", models.ForeignKey(f"{APP}.Author", on_delete=models.CASCADE,
                                         related_name="books")),
            ("tags", models.ManyToManyField(f"{APP}.Tag", related_name="books")),
        ]),
    ]


async def stamp_ann_books(apps: Any, schema_editor: Any) -> None:
    Book = apps.get_model(APP, "Book")
    Author = apps.get_model(APP, "Author")
    Tag = apps.get_model(APP, "Tag")
    await Book.objects.filter(author__name="Ann").update(title="Ann's")
    classic = await Tag.objects.create(word="classic")
    async for book in Book.objects.filter(author__name="Ann"):
        await book.tags.add(classic)
    # A reverse relation of a historical model.
    bob = await Author.objects.get(books__title="Emma")
    await Book.objects.create(title="Persuasion", author=bob)


async def unstamp(apps: Any, schema_editor: Any) -> None:
    Book = apps.get_model(APP, "Book")
    await Book.objects.filter(title="Persuasion").delete()
    await Book.objects.filter(author__name="Ann").update(title="Dune")
    await apps.get_model(APP, "Tag").objects.filter(word="classic").delete()


class Stamp(migrations.Migration):
    dependencies = [(APP, "0001_initial")]
    operations = [migrations.RunPython(stamp_ann_books, unstamp)]


async def titles(db: Database) -> list[tuple[Any, ...]]:
    rows = await db.fetch_all(
        f"SELECT b.title, a.name FROM {APP}_book b JOIN {APP}_author a ON a.id = b.author_id "
        "ORDER BY b.id"
    )
    return [tuple(r) for r in rows]


async def test_run_python_queries_across_historical_relations(backend: Database) -> None:
    initial = Initial("0001_initial", APP)
    async with backend.schema_editor() as editor:
        state = await initial.apply(ProjectState(), editor)
    try:
        Author = state.apps.get_model(APP, "Author")
        Book = state.apps.get_model(APP, "Book")
        ann = await Author.objects.create(name="Ann")
        bob = await Author.objects.create(name="Bob")
        await Book.objects.create(title="Dune", author=ann)
        await Book.objects.create(title="Emma", author=bob)

        stamp = Stamp("0002_stamp", APP)
        async with backend.schema_editor() as editor:
            await stamp.apply(state.clone(), editor)
        assert await titles(backend) == [("Ann's", "Ann"), ("Emma", "Bob"), ("Persuasion", "Bob")]
        linked = await backend.fetch_all(
            f"SELECT t.word FROM {APP}_book_tags j JOIN {APP}_tag t ON t.id = j.tag_id"
        )
        assert [tuple(r) for r in linked] == [("classic",)]

        async with backend.schema_editor() as editor:
            await stamp.unapply(state.clone(), editor)
        assert await titles(backend) == [("Dune", "Ann"), ("Emma", "Bob")]

        # The deletion collector follows historical reverse relations: Bob's books go too.
        fresh = state.clone().apps
        await fresh.get_model(APP, "Author").objects.filter(name="Bob").delete()
        assert await titles(backend) == [("Dune", "Ann")]
    finally:
        async with backend.schema_editor() as editor:
            await initial.unapply(ProjectState(), editor)
    tables = await backend.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table'" if backend.vendor == "sqlite"
        else "SELECT table_name FROM information_schema.tables WHERE table_name LIKE %s",
        None if backend.vendor == "sqlite" else [f"{APP}%"],
    )
    assert [t for (t,) in tables if str(t).startswith(APP)] == []
