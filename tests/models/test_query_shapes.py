"""The SQL a query compiles to: exists(), count(), __in subqueries, [NOT] EXISTS, only()/defer()."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import Count, F, Q
from reinhardt_db.testing import capture_queries, isolate_apps

from ._relations import ALL, Author, Comment, Post, Profile, Tag


@pytest.fixture
async def data(make_tables: Any) -> dict[str, Any]:
    await make_tables(*ALL)
    ann = await Author.objects.create(name="ann")
    bob = await Author.objects.create(name="bob")
    cid = await Author.objects.create(name="cid")
    await Profile.objects.create(user=ann, bio="poet")
    red, blue = [await Tag.objects.create(name=n) for n in ("red", "blue")]
    p1 = await Post.objects.create(title="p1", author=ann, reviewer=bob)
    p2 = await Post.objects.create(title="p2", author=ann)
    p3 = await Post.objects.create(title="p3", author=bob, reviewer=ann)
    await p1.tags.add(red, blue)
    await p2.tags.add(blue)
    return {"ann": ann, "bob": bob, "cid": cid, "p1": p1, "p2": p2, "p3": p3}


async def sql_of(awaitable: Any) -> tuple[Any, str]:
    with capture_queries() as queries:
        result = await awaitable
    assert len(queries) == 1, [q.sql for q in queries]
    return result, " ".join(queries[0].sql.split()).upper()


def selected(sql: str) -> str:
    """The select list of the outermost SELECT."""
    return sql.split(" FROM ", 1)[0]


async def test_exists_selects_one_row_of_a_constant(data: dict[str, Any]) -> None:
    found, sql = await sql_of(Post.objects.filter(author__name="ann").exists())
    assert found and selected(sql) == "SELECT 1" and "LIMIT" in sql and "ORDER BY" not in sql
    found, sql = await sql_of(Post.objects.filter(tags__name="red").order_by("-title").exists())
    assert found and selected(sql) == "SELECT 1" and "JOIN" in sql and "ORDER BY" not in sql
    found, sql = await sql_of(
        Author.objects.annotate(n=Count("posts")).filter(n__gt=1).exists()
    )
    assert found and selected(sql) == "SELECT 1" and "HAVING" in sql  # grouped: over a subquery
    found, sql = await sql_of(Post.objects.filter(title__in=Post.objects.filter(
        author__name="bob").values("title")).exists())
    assert found and sql.count("SELECT") == 2


async def test_count_keeps_its_shape(data: dict[str, Any]) -> None:
    count, sql = await sql_of(Post.objects.filter(author__name="ann").count())
    assert count == 2 and selected(sql).startswith("SELECT COUNT(*)") and sql.count("SELECT") == 1
    count, sql = await sql_of(Post.objects.filter(tags__name="blue").order_by("title").count())
    assert count == 2 and sql.count("SELECT") == 1 and "ORDER BY" not in sql
    count, sql = await sql_of(Post.objects.filter(tags__name__in=["red", "blue"]).distinct().count())
    assert count == 2 and "DISTINCT" in sql  # counted over the distinct rows
    count, sql = await sql_of(
        Author.objects.annotate(n=Count("posts")).filter(n__gte=1).count()
    )
    assert count == 2 and "GROUP BY" in sql
    count, sql = await sql_of(Post.objects.annotate(double=F("id") * 2).filter(double__gt=2).count())
    assert count == 2 and sql.count("SELECT") == 1  # no aggregate: no subquery


async def test_in_subqueries_select_one_column_without_ordering(data: dict[str, Any]) -> None:
    inner = Post.objects.filter(tags__name="red").values("author")
    names, sql = await sql_of(Author.objects.filter(id__in=inner).values_list("name", flat=True))
    assert list(names) == ["ann"]
    subquery = sql.split(" IN (", 1)[1]
    assert subquery.startswith("SELECT ") and "ORDER BY" not in subquery.split(")")[0]
    assert selected(subquery).count(",") == 0  # one column
    names, sql = await sql_of(
        Author.objects.filter(posts__in=Post.objects.filter(tags__name="blue")).distinct()
        .values_list("name", flat=True)
    )
    assert list(names) == ["ann"]
    # A sliced subquery keeps its ordering: it decides which rows the slice picks.
    first = Post.objects.order_by("-title").values("id")[:1]
    titles, sql = await sql_of(Post.objects.filter(id__in=first).values_list("title", flat=True))
    assert list(titles) == ["p3"] and sql.count("ORDER BY") == 2


async def test_relation_isnull_is_exists(data: dict[str, Any]) -> None:
    names, sql = await sql_of(
        Author.objects.filter(posts__isnull=False).values_list("name", flat=True)
    )
    assert list(names) == ["ann", "bob"]  # each author once
    assert "EXISTS (SELECT 1" in sql and "JOIN" not in sql
    names, sql = await sql_of(Author.objects.filter(posts__isnull=True).values_list("name", flat=True))
    assert list(names) == ["cid"] and "NOT (EXISTS (SELECT 1" in sql
    titles, sql = await sql_of(Post.objects.filter(tags__isnull=False).values_list("title", flat=True))
    assert list(titles) == ["p1", "p2"] and "EXISTS" in sql
    titles, sql = await sql_of(
        Post.objects.filter(Q(tags__isnull=True) | Q(title="p1")).values_list("title", flat=True)
    )
    assert list(titles) == ["p1", "p3"]
    # Across a single-valued relation first: the EXISTS correlates with the join.
    titles, sql = await sql_of(
        Post.objects.filter(reviewer__posts__isnull=False).values_list("title", flat=True)
    )
    assert list(titles) == ["p1", "p3"] and "EXISTS" in sql and "JOIN" in sql
    # A single-valued relation stays a column test.
    titles, sql = await sql_of(Post.objects.filter(reviewer__isnull=False).values_list("title", flat=True))
    assert list(titles) == ["p1", "p3"] and "EXISTS" not in sql and "IS NOT NULL" in sql


async def test_exclude_across_a_multi_valued_relation_is_not_exists(data: dict[str, Any]) -> None:
    names, sql = await sql_of(Author.objects.exclude(posts__title="p1").values_list("name", flat=True))
    assert list(names) == ["bob", "cid"]
    assert "NOT (EXISTS (SELECT 1" in sql and "JOIN" not in sql
    titles, sql = await sql_of(Post.objects.exclude(tags__name="red").values_list("title", flat=True))
    assert list(titles) == ["p2", "p3"] and "NOT (EXISTS" in sql


async def test_only_across_select_related(data: dict[str, Any]) -> None:
    posts, sql = await sql_of(
        Post.objects.select_related("author").only("title", "author__name").order_by("title")
    )
    columns = selected(sql)
    assert "TITLE" in columns and "NAME" in columns and "REVIEWER_ID" not in columns
    # post id, title, author_id; author name (its id is the post's author_id: INNER join)
    assert columns.count(",") == 3
    post = posts[0]
    assert post.title == "p1" and post.author.name == "ann"
    assert post.author.pk == post.author_id and post.author.get_deferred_fields() == set()
    assert post.get_deferred_fields() == {"reviewer_id"}
    assert post.author.get_deferred_fields() == set()
    # Without naming the related model's fields, select_related reads it whole.
    posts, sql = await sql_of(Post.objects.select_related("author").only("title"))
    assert all(p.author.name for p in posts) and "REVIEWER_ID" not in selected(sql)
    # Deeper: author's profile (a reverse one-to-one) loads only its bio.
    authors, sql = await sql_of(
        Author.objects.select_related("profile").only("name", "profile__bio").filter(name="ann")
    )
    assert authors[0].profile.bio == "poet"
    assert authors[0].profile.get_deferred_fields() == {"user_id"}
    # only() through a relation select_related does not follow loads its key.
    posts, sql = await sql_of(Post.objects.only("author__name").filter(title="p3"))
    assert posts[0].author_id == data["bob"].pk
    assert posts[0].get_deferred_fields() == {"title", "reviewer_id"}


async def test_defer_across_select_related(data: dict[str, Any]) -> None:
    posts, sql = await sql_of(
        Post.objects.select_related("author", "reviewer").defer("author__name", "title")
        .filter(title="p1")
    )
    post = posts[0]
    assert post.get_deferred_fields() == {"title"}
    assert post.author.get_deferred_fields() == {"name"}
    assert post.reviewer.name == "bob"
    assert selected(sql).count("NAME") == 1  # only the reviewer's
    with pytest.raises(FieldError, match="deferred"):
        _ = post.author.name


async def test_only_and_defer_errors(data: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        Post.objects.only("author__nmae")
    with pytest.raises(FieldError, match="Load many-valued relations with Prefetch"):
        Post.objects.only("tags__name")
    with pytest.raises(FieldError, match="not a foreign key or one-to-one"):
        Post.objects.defer("title__name")
    with pytest.raises(FieldError, match="cannot be both deferred and followed with select_related"):
        await Post.objects.select_related("author").defer("author")


async def test_only_across_relations_is_part_of_the_cache_key(data: dict[str, Any]) -> None:
    base = Post.objects.select_related("author").filter(title="p1")
    first = (await base.only("title", "author__name"))[0]
    second = (await base.only("title", "author__id"))[0]
    assert first.author.get_deferred_fields() == set()
    assert second.author.get_deferred_fields() == {"name"}
    third = (await base.defer("author__name"))[0]
    assert third.author.get_deferred_fields() == {"name"} and third.title == "p1"


async def test_set_operations_over_select_related(data: dict[str, Any]) -> None:
    first = Post.objects.select_related("author").filter(title="p1")
    sliced = Post.objects.select_related("author").order_by("-title")[:1]  # a derived table
    rows = await first.union(sliced).order_by("title")
    assert [(p.title, p.author.name) for p in rows] == [("p1", "ann"), ("p3", "bob")]


async def test_prefetch_related_on_a_combined_query(data: dict[str, Any]) -> None:
    combined = Post.objects.filter(title="p1").union(Post.objects.filter(title="p3"))
    with capture_queries() as queries:
        posts = await combined.prefetch_related("tags").order_by("title")
        tags = [sorted(t.name for t in await p.tags.all()) for p in posts]
    assert tags == [["blue", "red"], []]
    assert len(queries) == 2  # the combined rows, then one query for every post's tags


async def test_select_related_inner_join_reads_the_related_key_from_the_foreign_key(
    data: dict[str, Any],
) -> None:
    # Post: id, title, author_id, reviewer_id; Author over an INNER join: name only.
    posts, sql = await sql_of(Post.objects.select_related("author").order_by("title"))
    assert selected(sql).count(",") == 4
    p1, p2, p3 = posts
    assert (p1.author.pk, p3.author.pk) == (data["ann"].pk, data["bob"].pk)
    assert p1.author is p2.author and p1.author.name == "ann"
    assert p1.author.get_deferred_fields() == set() and p1.author._state.db == p1._state.db
    # A nullable foreign key is a LEFT OUTER join: the joined key is read, NULL = no row.
    posts, sql = await sql_of(Post.objects.select_related("reviewer").order_by("title"))
    assert selected(sql).count(",") == 5 and "LEFT OUTER JOIN" in sql
    assert posts[0].reviewer.pk == data["bob"].pk and posts[1].reviewer is None
    # ... unless a filter needs the row: then INNER, and the key comes from reviewer_id.
    posts, sql = await sql_of(
        Post.objects.select_related("reviewer").filter(reviewer__name="bob")
    )
    assert selected(sql).count(",") == 4 and "LEFT OUTER JOIN" not in sql
    assert [(p.title, p.reviewer.pk, p.reviewer.name) for p in posts] == [
        ("p1", data["bob"].pk, "bob")
    ]


async def test_select_related_chain_of_inner_joins_shares_each_key(
    data: dict[str, Any],
) -> None:
    first = await Comment.objects.create(post=data["p1"], body="hi")
    await Comment.objects.create(post=data["p3"], body="yo", parent=first)
    comments, sql = await sql_of(
        Comment.objects.select_related("post__author", "parent").order_by("body")
    )
    # Comment 4 columns, post 3 (no id), author 1 (no id), parent over LEFT OUTER 4.
    assert selected(sql).count(",") == 11
    hi, yo = comments
    assert (hi.post.pk, hi.post.title, hi.post.author.pk, hi.post.author.name) == (
        data["p1"].pk, "p1", data["ann"].pk, "ann"
    )
    assert yo.post.author.name == "bob" and hi.parent is None and yo.parent.pk == hi.pk


async def test_select_related_text_key_is_read_from_the_joined_row(make_tables: Any) -> None:
    # Only integer keys are taken from the foreign key column: text ones may join
    # values that are not identical (collations), so the joined row's is read.
    with isolate_apps():
        class Country(models.Model):
            code = models.CharField(max_length=2, unique=True)
            name = models.CharField(max_length=20)

            class Meta:
                app_label = "tests_shapes"

        class City(models.Model):
            country = models.ForeignKey(Country, to_field="code", on_delete=models.CASCADE)
            name = models.CharField(max_length=20)

            class Meta:
                app_label = "tests_shapes"

        await make_tables(Country, City)
        france = await Country.objects.create(code="fr", name="France")
        await City.objects.create(country=france, name="Lyon")
        await City.objects.create(country=france, name="Paris")
        cities, sql = await sql_of(City.objects.select_related("country").order_by("name"))
        # City id, country_id, name; Country id, code, name.
        assert selected(sql).count(",") == 5
        assert [(c.name, c.country.code, c.country.pk, c.country.name) for c in cities] == [
            ("Lyon", "fr", france.pk, "France"), ("Paris", "fr", france.pk, "France"),
        ]
        assert cities[0].country is cities[1].country
