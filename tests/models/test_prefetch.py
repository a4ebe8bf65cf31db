"""Loading relations: select_related, prefetch_related, Prefetch, fetch_related."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reinhardt_db.exceptions import FieldError, RelationNotLoaded
from reinhardt_db.models import Prefetch, prefetch_related_objects
from reinhardt_db.testing import assert_num_queries, capture_queries

from ._relations import ALL, Author, Comment, Post, Profile, Tag


@pytest.fixture
async def blog(make_tables: Any) -> dict[str, Any]:
    await make_tables(*ALL)
    authors = [await Author.objects.create(name=f"a{i}") for i in range(5)]
    for author in authors[:3]:
        await Profile.objects.create(user=author, bio=f"bio of {author.name}")
    tags = [await Tag.objects.create(name=f"t{i}") for i in range(4)]
    posts = await Post.objects.bulk_create([
        Post(title=f"p{i:03d}", author=authors[i % 5], reviewer=authors[0] if i % 2 else None)
        for i in range(100)
    ])
    junction = Post._meta.get_field("tags").through
    await junction.objects.bulk_create([
        junction(post_id=p.pk, tag_id=tags[j].pk) for i, p in enumerate(posts)
        for j in range(i % 3)
    ])
    return {"authors": authors, "tags": tags, "posts": posts}


async def test_hundred_posts_with_author_profile_and_tags_in_at_most_three_queries(
    blog: dict[str, Any],
) -> None:
    with capture_queries() as queries:
        posts = await Post.objects.select_related("author__profile").prefetch_related("tags")
        listing = []
        for post in posts:
            try:
                bio = post.author.profile.bio
            except Profile.DoesNotExist:
                bio = None
            listing.append((post.title, post.author.name, bio, [t.name for t in await post.tags.all()]))
    assert len(queries) <= 3, queries.describe()
    assert len(listing) == 100
    assert listing[0] == ("p000", "a0", "bio of a0", [])
    assert listing[2] == ("p002", "a2", "bio of a2", ["t0", "t1"])
    assert listing[4][2] is None  # a4 has no profile: loaded and absent


async def test_select_related_nullable_is_a_left_join(blog: dict[str, Any]) -> None:
    with assert_num_queries(1) as queries:
        posts = await Post.objects.select_related("reviewer", "author").order_by("title")[:4]
    assert "LEFT OUTER JOIN" in queries[0].sql
    assert [p.reviewer.name if p.reviewer else None for p in posts] == [None, "a0", None, "a0"]
    assert [p.author.name for p in posts] == ["a0", "a1", "a2", "a3"]
    everything = await Post.objects.select_related().filter(title="p001")
    assert everything[0].author.name == "a1"
    with pytest.raises(RelationNotLoaded):
        everything[0].reviewer  # noqa: B018 - nullable: not followed by select_related()
    cleared = await Post.objects.select_related("author").select_related(None).filter(title="p001")
    with pytest.raises(RelationNotLoaded):
        cleared[0].author  # noqa: B018


async def test_select_related_errors(blog: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="did you mean 'author'"):
        Post.objects.select_related("autor")
    with pytest.raises(FieldError, match="prefetch_related"):
        Post.objects.select_related("tags")
    with pytest.raises(TypeError, match="values"):
        Post.objects.values("title").select_related("author")


async def test_reverse_one_to_one_select_related(blog: dict[str, Any]) -> None:
    authors = await Author.objects.select_related("profile").order_by("name")
    assert authors[0].profile.bio == "bio of a0" and authors[0].profile.user is authors[0]
    with pytest.raises(Profile.DoesNotExist):
        authors[4].profile  # noqa: B018
    with pytest.raises(Author.profile.RelatedObjectDoesNotExist):  # type: ignore[attr-defined]
        authors[4].profile  # noqa: B018


async def test_prefetch_is_one_query_per_relation_and_level(blog: dict[str, Any]) -> None:
    with assert_num_queries(4):
        authors = await Author.objects.prefetch_related("posts__tags", "profile").order_by("name")
    assert len(await authors[0].posts.all()) == 20
    with assert_num_queries(0):
        tags = [len(await p.tags.all()) for p in await authors[0].posts.all()]
        assert sum(tags) > 0
        assert authors[0].profile.bio == "bio of a0"
    with assert_num_queries(3):
        tags_with_posts = await Tag.objects.prefetch_related("posts__author")
    first = tags_with_posts[0]
    assert all([p.author.name.startswith("a") for p in await first.posts.all()])


async def test_prefetch_objects_with_queryset_and_to_attr(blog: dict[str, Any]) -> None:
    recent = Prefetch("posts", queryset=Post.objects.filter(title__lt="p010").order_by("-title"),
                      to_attr="early")
    with assert_num_queries(2):
        authors = await Author.objects.prefetch_related(recent).order_by("name")
    assert [p.title for p in authors[0].early] == ["p005", "p000"]
    with pytest.raises(RelationNotLoaded):
        authors[0].posts.__dict__  # noqa: B018 - the manager itself is fine ...
        authors[0].profile  # noqa: B018 - ... but profile was not loaded
    chosen = Prefetch("author", queryset=Author.objects.filter(name="a1"), to_attr="picked")
    posts = await Post.objects.prefetch_related(chosen).order_by("title")[:2]
    assert posts[0].picked is None and posts[1].picked.name == "a1"


async def test_subquery_strategy_sends_the_parent_query(blog: dict[str, Any]) -> None:
    lookup = Prefetch("posts", strategy="subquery")
    with capture_queries() as queries:
        authors = await Author.objects.filter(name__in=["a1", "a2"]).prefetch_related(lookup)
    assert len(queries) == 2
    second = queries[1]
    assert second.sql.upper().count("SELECT") == 2 and len(second.params) <= 4
    assert sorted([len(await a.posts.all()) for a in authors]) == [20, 20]
    nested = Prefetch("posts__tags", strategy="subquery")
    with assert_num_queries(3):
        authors = await Author.objects.filter(name="a2").prefetch_related(nested)
    posts = await authors[0].posts.all()
    assert [len(await p.tags.all()) for p in posts] == [i % 3 for i in range(2, 100, 5)]


async def test_prefetch_in_lists_are_chunked_under_the_parameter_limit(
    blog: dict[str, Any], backend: Any
) -> None:
    backend.features = dataclasses.replace(backend.features, max_query_params=40)
    with capture_queries() as queries:
        posts = await Post.objects.prefetch_related("tags").order_by("title")
    assert len(queries) == 1 + 4  # 100 keys, 32 per IN list
    assert all(len(q.params) <= 40 for q in queries)
    assert sum([len(await p.tags.all()) for p in posts]) == sum(i % 3 for i in range(100))


async def test_fetch_related_and_prefetch_related_objects(blog: dict[str, Any]) -> None:
    post = await Post.objects.get(title="p007")
    with pytest.raises(RelationNotLoaded):
        post.author  # noqa: B018
    with assert_num_queries(3):
        await post.fetch_related("author__profile", "tags")
    assert post.author.name == "a2" and post.author.profile.bio == "bio of a2"
    assert [t.name for t in await post.tags.all()] == ["t0"]
    with assert_num_queries(0):  # already loaded
        await post.fetch_related("author")
    posts = await Post.objects.order_by("title")[:10]
    with assert_num_queries(1):
        await prefetch_related_objects(posts, "author")
    assert [p.author.name for p in posts[:3]] == ["a0", "a1", "a2"]
    selected = await Post.objects.select_related("author").order_by("title")[:3]
    with assert_num_queries(1):  # author is there: only the profiles are read
        await prefetch_related_objects(selected, "author__profile")


async def test_prefetch_with_iterator_runs_per_chunk(blog: dict[str, Any]) -> None:
    seen = []
    async for post in Post.objects.prefetch_related("author").order_by("title").iterator(
        chunk_size=40
    ):
        seen.append(post.author.name)
    assert len(seen) == 100 and seen[:2] == ["a0", "a1"]


async def test_prefetch_lookup_errors(blog: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'posts'"):
        Author.objects.prefetch_related("postz")
    with pytest.raises(FieldError, match="title"):
        Post.objects.prefetch_related("title")
    with pytest.raises(ValueError, match="strategy"):
        Prefetch("posts", strategy="join")
    with pytest.raises(ValueError, match="values"):
        Prefetch("posts", queryset=Post.objects.values("id"))


async def test_lookups_sharing_a_level_reuse_its_rows(blog: dict[str, Any]) -> None:
    """A lookup going through a level another lookup loaded starts from that level's rows,
    in either order, without querying the level again."""
    for lookups in (("posts", "posts__tags"), ("posts__tags", "posts")):
        with assert_num_queries(3):
            authors = await Author.objects.prefetch_related(*lookups).order_by("name")
        with assert_num_queries(0):
            posts = await authors[0].posts.all()
            assert len(posts) == 20
            assert sum([len(await p.tags.all()) for p in posts]) > 0



async def test_prefetch_fills_every_instance_of_one_row(blog: dict[str, Any]) -> None:
    """A row read twice is two instances: prefetching loads the relation on both."""
    first, again = [await Author.objects.get(name="a1") for _ in range(2)]
    with assert_num_queries(2):
        await prefetch_related_objects([first, again], "posts", "profile")
    titles = [f"p{i:03d}" for i in range(1, 100, 5)]
    with assert_num_queries(0):
        assert [p.title for p in await first.posts.all()] == titles
        assert [p.title for p in await again.posts.all()] == titles
        assert first.profile.bio == again.profile.bio == "bio of a1"
    first, again = [await Author.objects.get(name="a1") for _ in range(2)]
    await prefetch_related_objects([first, again], Prefetch("posts", to_attr="written"))
    assert [p.title for p in first.written] == [p.title for p in again.written] == titles


async def test_prefetch_forward_and_many_to_many_fill_every_instance_of_one_row(
    blog: dict[str, Any],
) -> None:
    posts = [await Post.objects.get(title="p005") for _ in range(2)]
    with assert_num_queries(4):
        await prefetch_related_objects(posts, "author", "tags", "reviewer__posts")
    with assert_num_queries(0):
        for post in posts:
            assert post.author.name == post.reviewer.name == "a0"
            assert [t.name for t in await post.tags.all()] == ["t0", "t1"]
            assert len(await post.reviewer.posts.all()) == 20
    tags = [await Tag.objects.get(name="t1") for _ in range(2)]
    with assert_num_queries(2):
        await prefetch_related_objects(tags, "posts__author")
    with assert_num_queries(0):
        for tag in tags:
            found = await tag.posts.all()
            assert len(found) == 33 and found[0].author.name == "a2"


async def test_prefetch_below_many_to_many_fills_each_copy_of_a_row(blog: dict[str, Any]) -> None:
    """p002 is tagged t0 and t1: it is read once under each tag, and both copies get comments."""
    post = await Post.objects.get(title="p002")
    await Comment.objects.create(post=post, body="first")
    with assert_num_queries(3):
        tags = await Tag.objects.filter(name__in=["t0", "t1"]).prefetch_related("posts__comments")
    copies = [p for tag in tags for p in await tag.posts.all() if p.title == "p002"]
    assert len(copies) == 2 and copies[0] is not copies[1]
    with assert_num_queries(0):
        assert [[c.body for c in await p.comments.all()] for p in copies] == [["first"]] * 2


async def test_prefetch_fills_rows_repeated_by_a_join(blog: dict[str, Any]) -> None:
    """A filter across a multi-valued relation repeats the parent row; each copy is filled."""
    with assert_num_queries(3):
        authors = await Author.objects.filter(
            posts__title__in=["p001", "p006", "p011"]
        ).prefetch_related("posts", "posts__tags")
    assert [a.name for a in authors] == ["a1", "a1", "a1"]
    assert len({id(a) for a in authors}) == 3
    with assert_num_queries(0):
        for author in authors:
            posts = await author.posts.all()
            assert len(posts) == 20 and all(p.author.name == "a1" for p in posts)
            assert [len(await p.tags.all()) for p in posts[:3]] == [1, 0, 2]


async def test_prefetched_rows_with_a_deferred_field_say_so_when_read(
    blog: dict[str, Any],
) -> None:
    # The grouping reader builds the posts without 'title': reading it raises the
    # FieldError naming the fix, not a bare AttributeError.
    lean = Prefetch("posts", queryset=Post.objects.only("id", "author"))
    authors = await Author.objects.prefetch_related(lean).order_by("name")
    post = (await authors[0].posts.all())[0]
    assert post.author_id == authors[0].pk and post.get_deferred_fields() >= {"title"}
    with pytest.raises(FieldError, match=r"Post\.title was deferred"):
        post.title  # noqa: B018
