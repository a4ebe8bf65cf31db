"""The deletion collector: on_delete rules, counts, signals, batches, soft deletes."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import ProtectedError, RestrictedError
from reinhardt_db.models import SoftDeleteModel, post_delete, pre_delete
from reinhardt_db.models.deletion import batch_size
from reinhardt_db.testing import capture_queries

APP = "tests_deletion"


class Parent(models.Model):
    name = models.CharField(max_length=20, default="")

    class Meta:
        app_label = APP


class Child(models.Model):
    parent = models.ForeignKey(Parent, on_delete=models.CASCADE, related_name="children")

    class Meta:
        app_label = APP


class GrandChild(models.Model):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="children")

    class Meta:
        app_label = APP


class Owner(models.Model):
    class Meta:
        app_label = APP


def _fallback() -> int | None:
    return None


class Holder(models.Model):
    nullable = models.ForeignKey(Owner, null=True, on_delete=models.SET_NULL, related_name="n")
    defaulted = models.ForeignKey(Owner, null=True, default=None, on_delete=models.SET_DEFAULT,
                                  related_name="d")
    computed = models.ForeignKey(Owner, null=True, on_delete=models.SET(_fallback),
                                 related_name="s")
    ignored = models.ForeignKey(Owner, null=True, db_constraint=False,
                                on_delete=models.DO_NOTHING, related_name="i")

    class Meta:
        app_label = APP


class Vault(models.Model):
    class Meta:
        app_label = APP


class Guard(models.Model):
    vault = models.ForeignKey(Vault, on_delete=models.PROTECT)

    class Meta:
        app_label = APP


# Django's RESTRICT example: songs go with their artist, never alone with their album.
class Artist(models.Model):
    class Meta:
        app_label = APP


class Album(models.Model):
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE)

    class Meta:
        app_label = APP


class Song(models.Model):
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE)
    album = models.ForeignKey(Album, on_delete=models.RESTRICT)

    class Meta:
        app_label = APP


class Folder(SoftDeleteModel):
    class Meta:
        app_label = APP


class Note(SoftDeleteModel):
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="notes")

    class Meta:
        app_label = APP


class Attachment(models.Model):
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="attachments")

    class Meta:
        app_label = APP


class Lock(models.Model):
    note = models.ForeignKey(Note, null=True, on_delete=models.PROTECT, related_name="locks")

    class Meta:
        app_label = APP


ALL = (Parent, Child, GrandChild, Owner, Holder, Vault, Guard, Artist, Album, Song, Folder, Note,
       Attachment, Lock)


@pytest.fixture
async def tables(make_tables: Any) -> None:
    await make_tables(*ALL)


async def _tree(parents: int, children: int = 2) -> list[Parent]:
    tops = await Parent.objects.bulk_create([Parent(name=f"p{i}") for i in range(parents)])
    kids = await Child.objects.bulk_create([Child(parent=p) for p in tops for _ in range(children)])
    await GrandChild.objects.bulk_create([GrandChild(child=c) for c in kids])
    return tops


async def test_three_level_cascade(tables: None) -> None:
    tops = await _tree(3)
    assert await tops[0].delete() == (5, {
        f"{APP}.GrandChild": 2, f"{APP}.Child": 2, f"{APP}.Parent": 1,
    })
    assert tops[0].pk is None
    assert (await Parent.objects.count(), await Child.objects.count(),
            await GrandChild.objects.count()) == (2, 4, 4)
    assert await Parent.objects.filter(name__in=["p1", "p2"]).delete() == (10, {
        f"{APP}.GrandChild": 4, f"{APP}.Child": 4, f"{APP}.Parent": 2,
    })
    assert await GrandChild.objects.count() == 0


async def test_set_rules_and_do_nothing(tables: None) -> None:
    owner = await Owner.objects.create()
    keep = await Owner.objects.create()
    holder = await Holder.objects.create(nullable=owner, defaulted=owner, computed=owner,
                                         ignored=keep)
    assert await owner.delete() == (1, {f"{APP}.Owner": 1})
    fresh = await Holder.objects.get(pk=holder.pk)
    assert (fresh.nullable_id, fresh.defaulted_id, fresh.computed_id) == (None, None, None)
    keep_pk = keep.pk
    await keep.delete()  # DO_NOTHING, no database constraint: the key dangles
    assert (await Holder.objects.get(pk=holder.pk)).ignored_id == keep_pk


async def test_protect_refuses_and_deletes_nothing(tables: None) -> None:
    vault = await Vault.objects.create()
    await Guard.objects.create(vault=vault)
    with pytest.raises(ProtectedError) as info:
        await vault.delete()
    assert "PROTECT" in str(info.value) and "Guard.vault" in str(info.value)
    assert len(info.value.protected_objects) == 1
    with pytest.raises(ProtectedError):
        await Vault.objects.all().delete()
    assert await Vault.objects.count() == 1 and await Guard.objects.count() == 1
    assert vault.pk is not None


async def test_restrict_allows_only_what_a_cascade_deletes(tables: None) -> None:
    artist = await Artist.objects.create()
    album = await Album.objects.create(artist=artist)
    await Song.objects.create(artist=artist, album=album)
    with pytest.raises(RestrictedError) as info:
        await album.delete()
    assert "RESTRICT" in str(info.value) and len(info.value.restricted_objects) == 1
    assert (await Album.objects.count(), await Song.objects.count()) == (1, 1)
    total, counts = await artist.delete()
    assert counts == {f"{APP}.Artist": 1, f"{APP}.Album": 1, f"{APP}.Song": 1} and total == 3


async def test_signals_fire_for_cascaded_rows(tables: None) -> None:
    top = (await _tree(1, children=2))[0]
    heard: list[tuple[str, str, Any]] = []

    def pre(sender: Any, instance: Any, origin: Any, **kwargs: Any) -> None:
        heard.append(("pre", sender.__name__, origin))

    def post(sender: Any, instance: Any, **kwargs: Any) -> None:
        heard.append(("post", sender.__name__, instance.pk))

    pre_delete.connect(pre, sender=Child)
    post_delete.connect(post, sender=Child)
    try:
        assert await top.delete() == (5, {
            f"{APP}.GrandChild": 2, f"{APP}.Child": 2, f"{APP}.Parent": 1,
        })
    finally:
        pre_delete.disconnect(pre, sender=Child)
        post_delete.disconnect(post, sender=Child)
    assert [h[:2] for h in heard] == [("pre", "Child")] * 2 + [("post", "Child")] * 2
    assert heard[0][2] is top and all(h[2] is not None for h in heard[2:])


async def test_a_failing_delete_leaves_every_row(tables: None) -> None:
    top = (await _tree(1))[0]

    def boom(sender: Any, instance: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    post_delete.connect(boom, sender=Parent)
    try:
        with pytest.raises(RuntimeError):
            await top.delete()
    finally:
        post_delete.disconnect(boom, sender=Parent)
    assert (await Parent.objects.count(), await Child.objects.count(),
            await GrandChild.objects.count()) == (1, 2, 2)


async def test_ten_thousand_parents_take_a_bounded_number_of_queries(
    tables: None, backend: Any
) -> None:
    await _tree(10_000, children=1)
    size = batch_size(backend)
    chunks = -(-10_000 // size)
    with capture_queries() as queries:
        total, counts = await Parent.objects.all().delete()
    assert counts == {f"{APP}.GrandChild": 10_000, f"{APP}.Child": 10_000,
                      f"{APP}.Parent": 10_000} and total == 30_000
    # read parents; read children per batch; delete grandchildren, children, parents per batch
    assert len(queries) <= 1 + 4 * chunks + 2, queries.describe()[:2000]
    assert await Child.objects.count() == 0


async def test_soft_delete_cascades_to_soft_children_only(tables: None) -> None:
    folder = await Folder.objects.create()
    other = await Folder.objects.create()
    await Note.objects.bulk_create([Note(folder=folder), Note(folder=folder), Note(folder=other)])
    attachment = await Attachment.objects.create(folder=folder)
    assert await folder.delete() == (3, {f"{APP}.Folder": 1, f"{APP}.Note": 2})
    assert folder.is_deleted
    assert await Note.objects.count() == 1 and await Note.all_objects.count() == 3
    assert await Attachment.objects.filter(pk=attachment.pk).exists()  # not soft: stays
    assert await Folder.objects.count() == 1
    assert await Folder.objects.filter(pk=other.pk).delete() == (2, {
        f"{APP}.Folder": 1, f"{APP}.Note": 1,
    })


async def test_soft_delete_still_refuses_protected_rows(tables: None) -> None:
    folder = await Folder.objects.create()
    note = await Note.objects.create(folder=folder)
    await Lock.objects.create(note=note)
    with pytest.raises(ProtectedError):
        await folder.delete()
    assert await Note.objects.count() == 1 and await Folder.objects.count() == 1


async def test_hard_delete_runs_the_normal_collector(tables: None) -> None:
    folder = await Folder.objects.create()
    await Note.objects.create(folder=folder)
    await Attachment.objects.create(folder=folder)
    total, counts = await folder.hard_delete()
    assert total == 3
    assert counts == {f"{APP}.Folder": 1, f"{APP}.Note": 1, f"{APP}.Attachment": 1}
    assert await Note.all_objects.count() == 0 and await Attachment.objects.count() == 0


async def test_many_to_many_links_go_with_either_side(make_tables: Any) -> None:
    from ._relations import ALL as RELATION_MODELS
    from ._relations import Author, Post, Tag

    await make_tables(*RELATION_MODELS)
    ann = await Author.objects.create(name="ann")
    post = await Post.objects.create(title="p", author=ann)
    red = await Tag.objects.create(name="red")
    await post.tags.add(red)
    assert await red.delete() == (2, {"tests_relations.Post_tags": 1, "tests_relations.Tag": 1})
    assert await post.tags.count() == 0
