"""Reverse foreign key and many-to-many managers: reads, writes, signals, through models."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.models import m2m_changed
from reinhardt_db.testing import assert_num_queries, isolate_apps

from ._relations import ALL, Author, Comment, Post, Tag


@pytest.fixture
async def people(make_tables: Any) -> tuple[Author, Author]:
    await make_tables(*ALL)
    return await Author.objects.create(name="ann"), await Author.objects.create(name="bob")


async def test_reverse_foreign_key_reads(people: tuple[Author, Author]) -> None:
    ann, bob = people
    await Post.objects.create(title="a", author=ann)
    await Post.objects.create(title="b", author=ann, reviewer=bob)
    assert [p.title for p in await ann.posts.all()] == ["a", "b"]
    assert await ann.posts.count() == 2 and await bob.posts.count() == 0
    assert await ann.posts.exists() and not await bob.posts.exists()
    assert [p.title for p in await ann.posts.filter(title="b")] == ["b"]
    assert [p.title for p in await ann.posts.exclude(title="b")] == ["a"]
    assert (await bob.reviews.get()).title == "b"
    with pytest.raises(ValueError, match="primary key"):
        await Author(name="new").posts.all()


async def test_reverse_foreign_key_writes(people: tuple[Author, Author]) -> None:
    ann, bob = people
    post = await ann.posts.create(title="made")
    assert post.author_id == ann.pk and post.author is ann
    got, created = await ann.posts.get_or_create(title="made")
    assert not created and got.pk == post.pk
    other = await Post.objects.create(title="x", author=bob)
    with assert_num_queries(1):
        await ann.posts.add(other)
    assert other.author_id == ann.pk and await ann.posts.count() == 2
    await bob.reviews.add(post, other)
    assert await bob.reviews.count() == 2
    await bob.reviews.remove(other)
    assert (await Post.objects.get(pk=other.pk)).reviewer_id is None
    await bob.reviews.set([other])
    assert [p.title for p in await bob.reviews.all()] == ["x"]
    await bob.reviews.clear()
    assert await bob.reviews.count() == 0
    with pytest.raises(TypeError, match="null=True"):
        await ann.posts.remove(post)
    with pytest.raises(TypeError, match="null=True"):
        await ann.posts.clear()
    with pytest.raises(ValueError, match="not saved"):
        await ann.posts.add(Post(title="unsaved", author=bob))


async def test_many_to_many(people: tuple[Author, Author]) -> None:
    ann, _ = people
    post = await Post.objects.create(title="p", author=ann)
    red = await Tag.objects.create(name="red")
    blue = await Tag.objects.create(name="blue")
    await post.tags.add(red, blue, red)
    await post.tags.add(red)  # already linked: left alone
    assert [t.name for t in await post.tags.all()] == ["blue", "red"]
    assert [p.title for p in await red.posts.all()] == ["p"]
    await post.tags.remove(red)
    assert [t.name for t in await post.tags.all()] == ["blue"]
    await post.tags.set([red])
    assert [t.name for t in await post.tags.all()] == ["red"]
    green = await post.tags.create(name="green")
    assert await post.tags.count() == 2 and await green.posts.count() == 1
    found, created = await post.tags.get_or_create(name="green")
    assert not created and found.pk == green.pk
    await red.posts.clear()
    assert [t.name for t in await post.tags.all()] == ["green"]
    await post.tags.add(blue.pk)  # keys work too
    assert await post.tags.filter(name="blue").exists()
    junction = Post._meta.get_field("tags").through
    assert await junction.objects.count() == 2


async def test_m2m_changed_signal(people: tuple[Author, Author]) -> None:
    ann, _ = people
    post = await Post.objects.create(title="p", author=ann)
    red = await Tag.objects.create(name="red")
    heard: list[tuple[Any, ...]] = []
    junction = Post._meta.get_field("tags").through

    async def listener(sender: Any, instance: Any, action: str, reverse: bool, model: Any,
                       pk_set: Any, **kwargs: Any) -> None:
        heard.append((sender, instance, action, reverse, model, pk_set))

    m2m_changed.connect(listener, sender=junction)
    try:
        await post.tags.add(red)
        await red.posts.remove(post)
        await post.tags.clear()
    finally:
        m2m_changed.disconnect(listener, sender=junction)
    assert [h[2] for h in heard] == [
        "pre_add", "post_add", "pre_remove", "post_remove", "pre_clear", "post_clear",
    ]
    assert heard[0] == (junction, post, "pre_add", False, Tag, {red.pk})
    assert heard[2] == (junction, red, "pre_remove", True, Post, {post.pk})
    assert heard[4][5] is None


async def test_managers_answer_from_the_prefetch_cache(people: tuple[Author, Author]) -> None:
    ann, _ = people
    post = await Post.objects.create(title="p", author=ann)
    await post.tags.add(await Tag.objects.create(name="red"))
    loaded = await Author.objects.prefetch_related("posts__tags").get(pk=ann.pk)
    with assert_num_queries(0):
        posts = await loaded.posts.all()
        assert await loaded.posts.count() == 1 and await loaded.posts.exists()
        assert [t.name for t in await posts[0].tags.all()] == ["red"]
        assert posts[0].author is loaded
    with assert_num_queries(1):  # a new filter is a new query
        assert await loaded.posts.filter(title="zz").count() == 0
    await loaded.posts.create(title="q")  # writes forget the cache
    with assert_num_queries(1):
        assert await loaded.posts.count() == 2


async def test_custom_through_and_symmetrical(make_tables: Any) -> None:
    with isolate_apps():
        class Person(models.Model):
            name = models.CharField(max_length=20)
            friends = models.ManyToManyField("self")
            groups = models.ManyToManyField("Group", through="Membership", related_name="members")

            class Meta:
                app_label = "tests_through"

        class Group(models.Model):
            name = models.CharField(max_length=20)

            class Meta:
                app_label = "tests_through"

        class Membership(models.Model):
            person = models.ForeignKey(Person, on_delete=models.CASCADE)
            group = models.ForeignKey(Group, on_delete=models.CASCADE)
            role = models.CharField(max_length=10, default="member")

            class Meta:
                app_label = "tests_through"

        await make_tables(Person, Group, Membership)
        ann = await Person.objects.create(name="ann")
        bob = await Person.objects.create(name="bob")
        cid = await Person.objects.create(name="cid")
        await ann.friends.add(bob, cid)
        assert sorted(p.name for p in await bob.friends.all()) == ["ann"]
        assert sorted(p.name for p in await ann.friends.all()) == ["bob", "cid"]
        await bob.friends.remove(ann)
        assert sorted(p.name for p in await ann.friends.all()) == ["cid"]
        assert not hasattr(Person, "person_rel_+")

        team = await Group.objects.create(name="team")
        await ann.groups.add(team, through_defaults={"role": "lead"})
        await team.members.add(bob)
        roles = sorted(await Membership.objects.values_list("person__name", "role"))
        assert roles == [("ann", "lead"), ("bob", "member")]
        assert sorted(p.name for p in await Person.objects.filter(groups__name="team")) == [
            "ann", "bob",
        ]
        await team.members.set([bob], through_defaults={"role": "x"})
        assert [p.name for p in await team.members.all()] == ["bob"]


async def test_self_referencing_foreign_key(people: tuple[Author, Author]) -> None:
    ann, _ = people
    post = await Post.objects.create(title="p", author=ann)
    top = await Comment.objects.create(post=post, body="top")
    await top.replies.create(post=post, body="reply")
    assert [c.body for c in await top.replies.all()] == ["reply"]
    assert await Comment.objects.filter(parent__body="top").count() == 1
    assert await Comment.objects.filter(replies__body="reply").count() == 1
