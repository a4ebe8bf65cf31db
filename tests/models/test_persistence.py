"""Instance persistence on every backend: save, delete, refresh_from_db, signals."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import DatabaseError, FieldDoesNotExist, IntegrityError
from reinhardt_db.models.signals import post_delete, post_save, pre_delete, pre_save

UTC = dt.UTC


class Note(models.Model):
    title = models.CharField(max_length=40, unique=True)
    body = models.TextField(default="")
    views = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "tests_persistence"


class Line(models.Model):
    order_id = models.IntegerField()
    line_no = models.IntegerField()
    qty = models.IntegerField(default=1)
    pk = models.CompositePrimaryKey("order_id", "line_no")

    class Meta:
        app_label = "tests_persistence"


class Counter(models.Model):
    value = models.IntegerField(db_default=7)

    class Meta:
        app_label = "tests_persistence"


@pytest.fixture
async def tables(make_tables: Any) -> None:
    await make_tables(Note, Line, Counter)


async def test_save_inserts_then_updates(tables: None) -> None:
    note = Note(title="a")
    assert note._state.adding
    await note.save()
    assert note.pk is not None and not note._state.adding and note._state.db == "default"
    assert note.created is not None and note.created.tzinfo is not None
    first_created, first_updated = note.created, note.updated
    await asyncio.sleep(0.002)
    note.views = 5
    await note.save()
    stored = await Note.objects.get(pk=note.pk)
    assert stored.views == 5 and stored.created == first_created and stored.updated > first_updated
    assert await Note.objects.count() == 1


async def test_save_unchanged_row_is_still_an_update(tables: None) -> None:
    note = await Note.objects.create(title="same")
    await note.save()
    await note.save()
    assert await Note.objects.count() == 1


async def test_save_with_a_pk_that_is_not_in_the_table_inserts(tables: None) -> None:
    note = Note(title="explicit")
    note.pk = 4242
    await note.save()
    assert (await Note.objects.get(pk=4242)).title == "explicit"


async def test_update_fields(tables: None) -> None:
    note = await Note.objects.create(title="u", body="old", views=1)
    note.body, note.views = "new", 99
    await note.save(update_fields=["views"])
    stored = await Note.objects.get(pk=note.pk)
    assert (stored.body, stored.views) == ("old", 99)
    with pytest.raises(ValueError, match="Did you mean 'views'"):
        await note.save(update_fields=["veiws"])
    await note.save(update_fields=[])  # nothing to do, no error
    # The same field set again (remembered), as a tuple, a generator, a bare name.
    for given in (["views"], ("views",), (n for n in ["views"]), "views"):
        note.views += 1
        await note.save(update_fields=given)
    assert (await Note.objects.get(pk=note.pk)).views == 103
    for _ in range(2):  # a refused name is refused every time, not remembered
        with pytest.raises(ValueError, match="no concrete field named 'veiws'"):
            await note.save(update_fields=("veiws",))
    with pytest.raises(ValueError, match=r"no concrete field named \['views'\]"):
        await note.save(update_fields=[["views"]])  # type: ignore[list-item]
    deferred = await Note.objects.only("title").get(pk=note.pk)
    for _ in range(2):
        with pytest.raises(ValueError, match=r"deferred fields \['views'\]"):
            await deferred.save(update_fields=["views"])
    ghost = Note(title="ghost")
    ghost.pk = 999
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        await ghost.save(update_fields=["title"])


async def test_force_insert_and_force_update(tables: None) -> None:
    note = await Note.objects.create(title="f")
    with pytest.raises(IntegrityError):
        await note.save(force_insert=True)
    with pytest.raises(ValueError, match="Cannot force both"):
        await note.save(force_insert=True, force_update=True)
    new = Note(title="g")
    with pytest.raises(ValueError):
        await new.save(force_update=True)
    new.pk = 12345
    with pytest.raises(DatabaseError, match="Forced update"):
        await new.save(force_update=True)


async def test_save_signals(tables: None) -> None:
    seen: list[tuple[str, Any, Any]] = []

    def before(sender: Any, instance: Note, update_fields: Any, **kwargs: Any) -> None:
        seen.append(("pre", instance.title, update_fields))

    async def after(sender: Any, instance: Note, created: bool, **kwargs: Any) -> None:
        seen.append(("post", instance.title, created))

    pre_save.connect(before, sender=Note, weak=False)
    post_save.connect(after, sender=Note, weak=False)
    try:
        note = await Note.objects.create(title="s")
        note.views = 2
        await note.save(update_fields=["views"])
    finally:
        pre_save.disconnect(before, sender=Note)
        post_save.disconnect(after, sender=Note)
    assert seen == [
        ("pre", "s", None), ("post", "s", True),
        ("pre", "s", frozenset({"views"})), ("post", "s", False),
    ]


async def test_delete_instance(tables: None) -> None:
    note = await Note.objects.create(title="d")
    events: list[str] = []

    def log(sender: Any, instance: Note, **kwargs: Any) -> None:
        events.append((kwargs["signal"] is pre_delete and "pre") or "post")

    pre_delete.connect(log, sender=Note, weak=False)
    post_delete.connect(log, sender=Note, weak=False)
    try:
        assert await note.delete() == (1, {"tests_persistence.Note": 1})
    finally:
        pre_delete.disconnect(log, sender=Note)
        post_delete.disconnect(log, sender=Note)
    assert events == ["pre", "post"]
    assert note.pk is None and await Note.objects.count() == 0
    with pytest.raises(ValueError, match="primary key"):
        await note.delete()


async def test_refresh_from_db(tables: None) -> None:
    note = await Note.objects.create(title="r", views=1, body="b")
    await Note.objects.filter(pk=note.pk).update(views=50, body="changed")
    await note.refresh_from_db(fields=["views"])
    assert (note.views, note.body) == (50, "b")
    await note.refresh_from_db()
    assert note.body == "changed"
    with pytest.raises(FieldDoesNotExist, match="Did you mean 'views'"):
        await note.refresh_from_db(fields=["veiws"])
    await Note.objects.filter(pk=note.pk).delete()
    with pytest.raises(Note.DoesNotExist):
        await note.refresh_from_db()


async def test_defaults_and_db_defaults(tables: None) -> None:
    note = await Note.objects.create(title="defaults")
    assert (note.body, note.views) == ("", 0)
    counter = await Counter.objects.create()
    assert counter.value == 7 and counter.pk is not None
    assert (await Counter.objects.get(pk=counter.pk)).value == 7
    explicit = await Counter.objects.create(value=3)
    assert (await Counter.objects.get(pk=explicit.pk)).value == 3


async def test_composite_primary_key(tables: None) -> None:
    line = await Line.objects.create(order_id=1, line_no=1, qty=2)
    await Line.objects.create(order_id=1, line_no=2)
    assert line.pk == (1, 1)
    line.qty = 9
    await line.save()
    assert (await Line.objects.get(pk=(1, 1))).qty == 9
    assert await Line.objects.filter(pk__in=[(1, 1), (1, 2), (5, 5)]).count() == 2
    await line.refresh_from_db()
    assert await line.delete() == (1, {"tests_persistence.Line": 1})
    assert await Line.objects.count() == 1
    with pytest.raises(ValueError, match="composite"):
        Line.objects.filter(pk=1)


async def test_loaded_instances_share_a_state_that_saving_never_mutates(tables: None) -> None:
    await Note.objects.bulk_create([Note(title="x"), Note(title="y")])
    x, y = await Note.objects.order_by("title")
    assert x._state is y._state and x._state.db == "default" and not x._state.adding
    shared = x._state
    x.views = 3
    await x.save()
    assert y._state is shared and shared.db == "default" and not shared.adding
    new = Note(title="z")
    await new.save()
    assert new._state is not shared and not new._state.adding
