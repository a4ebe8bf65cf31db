"""``GenericForeignKey`` and ``GenericRelation`` on every backend, with the object id held
in an integer column and in a text column (joined through a cast: PostgreSQL compares
no text with integers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.contenttypes.fields import GenericForeignKey, GenericRelation
from reinhardt_db.contenttypes.models import ContentType
from reinhardt_db.exceptions import FieldError, IntegrityError, RelationNotLoaded
from reinhardt_db.models import Count, Prefetch
from reinhardt_db.testing import assert_num_queries, capture_queries, isolate_apps

APP = "tests_ctypes_generic"


def _statements(queries: Any) -> list[str]:
    """The statements run, without transaction control."""
    control = ("BEGIN", "START", "COMMIT", "SAVEPOINT", "RELEASE")
    return [q.sql for q in queries if q.sql.split()[0].upper() not in control]


@pytest.fixture(params=["int", "char"])
def app(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    with isolate_apps():
        class Comment(models.Model):
            content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
            object_id = (
                models.PositiveIntegerField() if request.param == "int"
                else models.CharField(max_length=40)
            )
            content_object = GenericForeignKey("content_type", "object_id")
            text = models.CharField(max_length=50)

            class Meta:
                app_label = APP
                ordering = ["id"]

        class Post(models.Model):
            title = models.CharField(max_length=50)
            comments = GenericRelation(Comment, related_query_name="post")

            class Meta:
                app_label = APP
                ordering = ["id"]

        class Link(models.Model):
            url = models.CharField(max_length=100)
            comments = GenericRelation(Comment)

            class Meta:
                app_label = APP

        yield {"Comment": Comment, "Post": Post, "Link": Link, "kind": request.param}


@pytest.fixture
async def data(app: dict[str, Any], backend: Database, make_tables: Any) -> dict[str, Any]:
    comment, post, link = app["Comment"], app["Post"], app["Link"]
    await make_tables(ContentType, post, link, comment)
    ContentType.objects.clear_cache()
    hello = await post.objects.create(title="hello")
    other = await post.objects.create(title="other")
    site = await link.objects.create(url="https://example.org")
    await comment.objects.create(content_object=hello, text="nice")
    await comment.objects.create(content_object=hello, text="meh")
    await comment.objects.create(content_object=site, text="link")
    return {**app, "hello": hello, "other": other, "site": site}


# -- GenericForeignKey ---------------------------------------------------------------------

async def test_create_with_content_object_sets_both_columns(data: dict[str, Any]) -> None:
    comment, hello = data["Comment"], data["hello"]
    ct = await ContentType.objects.get_for_model(data["Post"])
    made = await comment.objects.create(content_object=hello, text="x")
    assert made.content_type_id == ct.pk
    assert made.object_id == (hello.pk if data["kind"] == "int" else str(hello.pk))
    assert made.content_object is hello and made.content_type is ct
    loaded = await comment.objects.get(pk=made.pk)
    assert (loaded.content_type_id, loaded.object_id) == (ct.pk, made.object_id)


async def test_reading_an_unloaded_object_raises_and_runs_no_query(data: dict[str, Any]) -> None:
    loaded = await data["Comment"].objects.get(text="nice")
    with assert_num_queries(0), pytest.raises(RelationNotLoaded) as info:
        loaded.content_object  # noqa: B018
    message = str(info.value)
    assert "Comment.content_object is not loaded" in message
    assert "prefetch_related('content_object')" in message
    assert "fetch_related('content_object')" in message


async def test_fetch_related_loads_it(data: dict[str, Any]) -> None:
    loaded = await data["Comment"].objects.get(text="nice")
    await loaded.fetch_related("content_object")
    assert loaded.content_object.title == "hello"
    assert loaded.content_type.model == "post"  # the content type came with it


async def test_prefetch_runs_one_query_per_target_type(data: dict[str, Any]) -> None:
    comment = data["Comment"]
    ContentType.objects.clear_cache()
    with assert_num_queries(4):  # comments, the content types, posts, links
        rows = await comment.objects.prefetch_related("content_object")
    assert [(c.text, type(c.content_object).__name__) for c in rows] == [
        ("nice", "Post"), ("meh", "Post"), ("link", "Link"),
    ]
    assert rows[0].content_object is rows[1].content_object
    with assert_num_queries(3):  # content types cached now
        await comment.objects.prefetch_related("content_object")


async def test_prefetch_to_attr_and_missing_targets(data: dict[str, Any]) -> None:
    comment, post = data["Comment"], data["Post"]
    gone = await post.objects.create(title="gone")
    await comment.objects.create(content_object=gone, text="orphan")
    await post.objects.filter(pk=gone.pk)._raw_delete()  # no collector: the comment stays
    rows = await comment.objects.prefetch_related(Prefetch("content_object", to_attr="target"))
    assert [getattr(c.target, "pk", None) for c in rows][-1] is None
    assert rows[0].target.title == "hello"
    rows = await comment.objects.prefetch_related("content_object")
    assert rows[-1].content_object is None  # loaded: nothing there


async def test_assignment_uses_the_cached_type_or_resolves_on_save(data: dict[str, Any]) -> None:
    comment, hello = data["Comment"], data["hello"]
    ContentType.objects.clear_cache()
    new = comment(content_object=hello, text="pending")
    assert new.content_type_id is None and new.content_object is hello
    with capture_queries() as queries:
        await new.save()
    assert len(_statements(queries)) == 2  # the content type, the insert
    assert new.content_type_id == (await ContentType.objects.get_for_model(data["Post"])).pk
    again = comment(content_object=hello, text="cached")  # cached now: set at once
    assert again.content_type_id == new.content_type_id
    with capture_queries() as queries:
        await again.save()
    assert len(_statements(queries)) == 1


async def test_bulk_create_needs_the_types_cached_first(data: dict[str, Any]) -> None:
    comment, hello = data["Comment"], data["hello"]
    ContentType.objects.clear_cache()
    with pytest.raises(IntegrityError):
        await comment.objects.bulk_create([comment(content_object=hello, text="b")])
    await ContentType.objects.get_for_models(data["Post"])
    await comment.objects.bulk_create([comment(content_object=hello, text="b")])
    assert await hello.comments.filter(text="b").count() == 1


async def test_assigning_none_clears_both_columns(data: dict[str, Any]) -> None:
    made = data["Comment"](content_object=data["hello"], text="x")
    made.content_object = None
    assert (made.content_type_id, made.object_id, made.content_object) == (None, None, None)


async def test_assignment_errors(data: dict[str, Any]) -> None:
    comment, post = data["Comment"], data["Post"]
    with pytest.raises(ValueError, match="must be a model instance"):
        comment(content_object="hello")
    with pytest.raises(ValueError, match="has no primary key yet; save it first"):
        comment(content_object=post(title="unsaved"))


async def test_filtering_on_the_generic_key_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="filter on content_type= and object_id= instead"):
        await data["Comment"].objects.filter(content_object=data["hello"])


async def test_prefetch_cannot_go_past_a_generic_key(data: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="cannot prefetch past 'content_object'"):
        data["Comment"].objects.prefetch_related("content_object__comments")


def test_definition_errors() -> None:
    with isolate_apps():
        with pytest.raises(FieldError, match="'object_pk', which is no field of Note"):
            class Note(models.Model):
                content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
                object_id = models.PositiveIntegerField()
                target = GenericForeignKey("content_type", "object_pk")

                class Meta:
                    app_label = APP

        class Remark(models.Model):
            content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
            object_id = models.PositiveIntegerField()
            target = GenericForeignKey()

            class Meta:
                app_label = APP

        with pytest.raises(FieldError, match="cannot be declared on an abstract model"):
            class Base(models.Model):
                content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
                object_id = models.PositiveIntegerField()
                target = GenericForeignKey()

                class Meta:
                    abstract = True

        with pytest.raises(FieldError, match="object_id_field 'oid' is no field of Remark"):
            class Page(models.Model):
                remarks = GenericRelation(Remark, object_id_field="oid")

                class Meta:
                    app_label = APP


# -- GenericRelation -----------------------------------------------------------------------

async def test_related_manager(data: dict[str, Any]) -> None:
    hello, other, comment = data["hello"], data["other"], data["Comment"]
    assert [c.text for c in await hello.comments.all()] == ["nice", "meh"]
    assert await hello.comments.filter(text="nice").count() == 1
    assert await other.comments.count() == 0
    made = await other.comments.create(text="first")
    assert made.content_object is other
    stray = await comment.objects.create(content_object=data["site"], text="moved")
    await other.comments.add(stray)
    assert stray.content_object is other
    assert [c.text for c in await other.comments.all()] == ["first", "moved"]
    await other.comments.remove(made)  # deletes: a generic key cannot point nowhere
    assert not await comment.objects.filter(pk=made.pk).exists()
    await other.comments.set([stray])
    await other.comments.clear()
    assert await other.comments.count() == 0
    with pytest.raises(TypeError, match=r"Direct assignment to Post\.comments is not allowed"):
        hello.comments = []
    with pytest.raises(TypeError, match="takes Comment instances"):
        await hello.comments.add(hello)


async def test_prefetch_generic_relation(data: dict[str, Any]) -> None:
    post = data["Post"]
    await ContentType.objects.get_for_model(post)
    with assert_num_queries(2):
        posts = await post.objects.prefetch_related("comments")
    with assert_num_queries(0):
        assert [[c.text for c in await p.comments.all()] for p in posts] == [
            ["nice", "meh"], [],
        ]
        assert await posts[0].comments.count() == 2
        assert posts[0].comments.all()._result_cache[0].content_object is posts[0]
    posts = await post.objects.prefetch_related(
        Prefetch("comments", queryset=data["Comment"].objects.filter(text="meh"), to_attr="mehs")
    )
    assert [[c.text for c in p.mehs] for p in posts] == [["meh"], []]


async def test_filter_across_the_generic_relation(data: dict[str, Any]) -> None:
    post, comment = data["Post"], data["Comment"]
    assert [p.title for p in await post.objects.filter(comments__text="nice")] == ["hello"]
    assert [p.title for p in await post.objects.exclude(comments__text="nice")] == ["other"]
    assert [p.title for p in await post.objects.filter(comments__isnull=True)] == ["other"]
    # The link's comment has the post's object id on no row here, but the content type
    # keeps a post from matching a link's comment with its id.
    assert await post.objects.filter(comments__text="link").count() == 0
    counts = await post.objects.annotate(n=Count("comments")).values_list("title", "n")
    assert sorted(counts) == [("hello", 2), ("other", 0)]
    assert [c.text for c in await comment.objects.filter(post__title="hello")] == ["nice", "meh"]


async def test_a_link_and_a_post_with_the_same_id_do_not_mix(data: dict[str, Any]) -> None:
    post, link, comment = data["Post"], data["Link"], data["Comment"]
    same = await link.objects.create(pk=data["hello"].pk + 50, url="u")
    twin = await post.objects.create(pk=same.pk, title="twin")
    await comment.objects.create(content_object=same, text="on link")
    assert await twin.comments.count() == 0
    assert [c.text for c in await same.comments.all()] == ["on link"]
    assert await post.objects.filter(comments__text="on link").count() == 0


@pytest.mark.backends("postgresql")
async def test_text_object_ids_are_joined_through_a_cast(data: dict[str, Any]) -> None:
    with capture_queries() as queries:
        await data["Post"].objects.filter(comments__text="nice").count()
    sql = queries[0].sql
    if data["kind"] == "char":
        assert "CAST(" in sql and "AS VARCHAR(40))" in sql
    else:
        assert "CAST(" not in sql
    # A text id that is no integer never breaks the join (the key is cast, not the id).
    await data["Comment"].objects.create(
        content_type=await ContentType.objects.get_for_model(data["Post"]),
        object_id="not-a-number" if data["kind"] == "char" else 999, text="odd",
    )
    assert await data["Post"].objects.filter(comments__text="odd").count() == 0


async def test_deleting_posts_deletes_their_comments_in_batches(data: dict[str, Any]) -> None:
    post, comment = data["Post"], data["Comment"]
    for n in range(5):
        extra = await post.objects.create(title=f"p{n}")
        await extra.comments.create(text=f"c{n}")
        await extra.comments.create(text=f"d{n}")
    with capture_queries() as queries:
        _, per_model = await post.objects.exclude(title="other").delete()
    # the posts' keys, the comments' delete, the posts' delete: never one per row
    assert len(_statements(queries)) == 3
    assert per_model == {f"{APP}.Comment": 12, f"{APP}.Post": 6}
    assert [c.text for c in await comment.objects.all()] == ["link"]
    other = data["other"]
    await other.comments.create(text="bye")
    with capture_queries() as queries:
        assert await other.delete() == (2, {f"{APP}.Comment": 1, f"{APP}.Post": 1})
    assert len(_statements(queries)) == 2
    assert await comment.objects.count() == 1


async def test_deleting_a_post_with_no_content_type_row_deletes_nothing_else(
    data: dict[str, Any],
) -> None:
    post = data["Post"]
    lone = await post.objects.create(title="lone")
    await ContentType.objects.filter(model="post").delete()  # cascades to the comments
    ContentType.objects.clear_cache()
    assert await lone.delete() == (1, {f"{APP}.Post": 1})


async def test_changing_a_column_by_hand_makes_the_object_not_loaded(
    data: dict[str, Any],
) -> None:
    made = await data["Comment"].objects.create(content_object=data["hello"], text="x")
    made.object_id = data["other"].pk if data["kind"] == "int" else str(data["other"].pk)
    with pytest.raises(RelationNotLoaded):
        made.content_object  # noqa: B018
    await made.fetch_related("content_object")
    assert made.content_object.title == "other"


async def test_nested_prefetch_through_the_generic_relation(data: dict[str, Any]) -> None:
    post = data["Post"]
    await ContentType.objects.get_for_model(post)
    # The comments' generic keys point back at posts already in hand: no third query.
    with assert_num_queries(2):
        posts = await post.objects.prefetch_related("comments__content_object")
    assert posts[0].comments.all()._result_cache[1].content_object is posts[0]
    with assert_num_queries(2):  # the comments' content type came with them
        posts = await post.objects.prefetch_related("comments__content_type")
    assert posts[0].comments.all()._result_cache[0].content_type.model == "post"
