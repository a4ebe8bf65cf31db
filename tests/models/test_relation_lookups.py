"""Lookups across relations: forward, reverse and many-to-many, with Django's semantics."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import Count, F, Q
from reinhardt_db.testing import capture_queries

from ._relations import ALL, Author, Blog, Entry, Post, Profile, Tag, blog_data, blog_names


@pytest.fixture
async def data(make_tables: Any) -> dict[str, Any]:
    await make_tables(*ALL)
    ann = await Author.objects.create(name="ann")
    bob = await Author.objects.create(name="bob")
    cid = await Author.objects.create(name="cid")
    await Profile.objects.create(user=ann, bio="poet")
    red, blue, green = [await Tag.objects.create(name=n) for n in ("red", "blue", "green")]
    p1 = await Post.objects.create(title="p1", author=ann, reviewer=bob)
    p2 = await Post.objects.create(title="p2", author=ann)
    p3 = await Post.objects.create(title="p3", author=bob, reviewer=ann)
    await p1.tags.add(red, blue)
    await p2.tags.add(blue)
    return {"ann": ann, "bob": bob, "cid": cid, "red": red, "blue": blue, "green": green,
            "p1": p1, "p2": p2, "p3": p3}


async def titles(queryset: Any) -> list[str]:
    return sorted(await queryset.values_list("title", flat=True))


async def test_forward_lookups(data: dict[str, Any]) -> None:
    assert await titles(Post.objects.filter(author__name="ann")) == ["p1", "p2"]
    assert await titles(Post.objects.filter(author__name__startswith="b")) == ["p3"]
    assert await titles(Post.objects.filter(author__profile__bio="poet")) == ["p1", "p2"]
    assert await titles(Post.objects.filter(reviewer__isnull=True)) == ["p2"]
    assert await titles(Post.objects.filter(reviewer__name__isnull=True)) == ["p2"]
    assert await titles(Post.objects.exclude(reviewer__name="bob")) == ["p2", "p3"]


async def test_instances_keys_and_querysets_as_values(data: dict[str, Any]) -> None:
    ann = data["ann"]
    assert await titles(Post.objects.filter(author=ann)) == ["p1", "p2"]
    assert await titles(Post.objects.filter(author=ann.pk)) == ["p1", "p2"]
    assert await titles(Post.objects.filter(author_id=ann.pk)) == ["p1", "p2"]
    assert await titles(Post.objects.filter(author__pk=ann.pk)) == ["p1", "p2"]
    assert await titles(Post.objects.filter(author__in=[data["bob"], data["cid"]])) == ["p3"]
    poets = Author.objects.filter(profile__bio="poet")
    assert await titles(Post.objects.filter(author__in=poets)) == ["p1", "p2"]
    assert await titles(Post.objects.filter(Post.author == ann)) == ["p1", "p2"]
    with pytest.raises(ValueError, match="must be a Author instance"):
        Post.objects.filter(author=data["red"])


async def test_reverse_and_many_to_many_lookups(data: dict[str, Any]) -> None:
    names = await Author.objects.filter(posts__title="p3").values_list("name", flat=True)
    assert list(names) == ["bob"]
    assert await blog_or_names(Author.objects.filter(reviews__title="p1")) == ["bob"]
    assert await blog_or_names(Author.objects.filter(posts__tags__name="red")) == ["ann"]
    assert await titles(Post.objects.filter(tags__name__in=["red", "green"])) == ["p1"]
    assert await titles(Post.objects.filter(tags=data["blue"]).distinct()) == ["p1", "p2"]
    assert sorted(await Tag.objects.filter(posts__author__name="ann").distinct().values_list(
        "name", flat=True)) == ["blue", "red"]
    assert await blog_or_names(Author.objects.filter(posts__isnull=True)) == ["cid"]
    assert await blog_or_names(Author.objects.filter(profile__isnull=True)) == ["bob", "cid"]
    assert await titles(Post.objects.filter(tags__isnull=True)) == ["p3"]


async def blog_or_names(queryset: Any) -> list[str]:
    return sorted(set(await queryset.values_list("name", flat=True)))


async def test_negated_multi_valued_lookups_are_subqueries(data: dict[str, Any]) -> None:
    assert await blog_or_names(Author.objects.exclude(posts__title="p1")) == ["bob", "cid"]
    assert await titles(Post.objects.exclude(tags__name="red")) == ["p2", "p3"]
    assert await titles(Post.objects.filter(~Q(tags__name="blue"))) == ["p3"]
    assert await blog_or_names(Author.objects.exclude(posts__isnull=True)) == ["ann", "bob"]
    assert await titles(Post.objects.exclude(tags__isnull=False)) == ["p3"]
    with capture_queries() as queries:
        await Author.objects.exclude(posts__title="p1")
    assert "EXISTS" in queries[0].sql.upper()


async def test_or_across_a_nullable_relation_keeps_rows_without_it(data: dict[str, Any]) -> None:
    queryset = Post.objects.filter(Q(reviewer__name="bob") | Q(title="p2"))
    assert await titles(queryset) == ["p1", "p2"]
    with capture_queries() as queries:
        await queryset
    assert "LEFT OUTER JOIN" in queries[0].sql


async def test_order_by_values_and_f_across_relations(data: dict[str, Any]) -> None:
    ordered = await Post.objects.order_by("-author__name", "title").values_list("title", flat=True)
    assert list(ordered) == ["p3", "p1", "p2"]
    rows = await Post.objects.order_by("title").values("title", "author__name", "reviewer__name")
    assert rows == [
        {"title": "p1", "author__name": "ann", "reviewer__name": "bob"},
        {"title": "p2", "author__name": "ann", "reviewer__name": None},
        {"title": "p3", "author__name": "bob", "reviewer__name": "ann"},
    ]
    pairs = await Post.objects.order_by("title").values_list("title", "tags__name")
    assert sorted(pairs, key=lambda p: (p[0], p[1] or "")) == [
        ("p1", "blue"), ("p1", "red"), ("p2", "blue"), ("p3", None),
    ]
    same = Post.objects.filter(reviewer__name=F("author__name"))
    assert await titles(same) == []
    named = Post.objects.annotate(who=F("author__name")).order_by("title")
    assert [(p.title, p.who) for p in await named] == [("p1", "ann"), ("p2", "ann"), ("p3", "bob")]


async def test_counts_and_aggregates(data: dict[str, Any]) -> None:
    counted = Author.objects.annotate(n=Count("posts")).order_by("name")
    assert [(a.name, a.n) for a in await counted] == [("ann", 2), ("bob", 1), ("cid", 0)]
    tags = Post.objects.annotate(n=Count("tags", distinct=True)).order_by("title")
    assert await tags.values_list("title", "n") == [("p1", 2), ("p2", 1), ("p3", 0)]
    filtered = Author.objects.annotate(n=Count("posts", filter=Q(posts__tags__name="red")))
    assert sorted(await filtered.values_list("name", "n")) == [("ann", 1), ("bob", 0), ("cid", 0)]
    assert await Post.objects.aggregate(n=Count("tags")) == {"n": 3}
    assert await Author.objects.aggregate(n=Count("posts__tags", distinct=True)) == {"n": 2}
    grouped = Post.objects.values("author__name").annotate(n=Count("id")).order_by("author__name")
    assert await grouped == [{"author__name": "ann", "n": 2}, {"author__name": "bob", "n": 1}]
    assert await Post.objects.filter(author__name="ann").count() == 2
    assert await Post.objects.filter(tags__name="blue").exists()


async def test_update_and_delete_filtered_across_relations(data: dict[str, Any]) -> None:
    assert await Post.objects.filter(author__name="ann").update(title="x") == 2
    assert await titles(Post.objects.all()) == ["p3", "x", "x"]
    with pytest.raises(FieldError, match="across relations"):
        await Post.objects.update(title=F("author__name"))
    assert await Tag.objects.filter(posts__isnull=True).delete() == (1, {"tests_relations.Tag": 1})


async def test_unknown_names_across_relations(data: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        Post.objects.filter(author__nmae="x")
    with pytest.raises(FieldError, match="Cannot resolve keyword 'postz'"):
        Author.objects.filter(postz__title="x")
    with pytest.raises(FieldError, match="posts"):
        Author.objects.filter(postz__title="x")


# -- Django's documented multi-valued semantics ("Spanning multi-valued relationships") -------


async def test_one_filter_call_means_one_related_row(make_tables: Any) -> None:
    await make_tables(*ALL)
    await blog_data()
    both = Blog.objects.filter(entry__headline__contains="Lennon", entry__year=2008)
    assert await blog_names(both) == ["A"]


async def test_chained_filter_calls_may_match_different_rows(make_tables: Any) -> None:
    await make_tables(*ALL)
    await blog_data()
    chained = Blog.objects.filter(entry__headline__contains="Lennon").filter(entry__year=2008)
    assert await blog_names(chained) == ["A", "B"]


async def test_exclude_conditions_need_not_hold_for_one_row(make_tables: Any) -> None:
    await make_tables(*ALL)
    await blog_data()
    # Excludes blogs with Lennon entries and entries of 2008, not necessarily the same entry.
    excluded = Blog.objects.exclude(entry__headline__contains="Lennon", entry__year=2008)
    assert await blog_names(excluded) == ["C", "D", "E"]


async def test_exclude_of_one_related_row_via_in(make_tables: Any) -> None:
    await make_tables(*ALL)
    await blog_data()
    lennon_2008 = Entry.objects.filter(headline__contains="Lennon", year=2008)
    assert await blog_names(Blog.objects.exclude(entry__in=lennon_2008)) == ["B", "C", "D", "E"]


async def test_single_valued_joins_are_shared_between_filter_calls(make_tables: Any) -> None:
    await make_tables(*ALL)
    await blog_data()
    with capture_queries() as queries:
        found = await Entry.objects.filter(blog__name="B").filter(blog__name__startswith="B")
    assert len(found) == 2
    assert queries[0].sql.upper().count("JOIN") == 1
    with capture_queries() as queries:
        await Blog.objects.filter(entry__year=2008).filter(entry__year=2007)
    assert queries[0].sql.upper().count("JOIN") == 2


async def test_constraints_cannot_cross_relations() -> None:
    from reinhardt_db.models.sql.where import q_to_clause

    with pytest.raises(FieldError, match="crosses a relation"):
        q_to_clause(Post, Q(author__name="x"), "sqlite")


def test_join_types_are_part_of_the_cache_key() -> None:
    from reinhardt_db.models.sql import compiler

    from .test_compiler_cache import DIALECTS

    loose = Post.objects.select_related("reviewer")
    tight = loose.filter(reviewer__name="x")
    assert loose.query.key() != tight.query.key()
    db = DIALECTS["postgresql"]
    assert "LEFT OUTER JOIN" in compiler.compile_select(loose.query, db, loose._mode).sql
    tight_sql = compiler.compile_select(tight.query, db, tight._mode).sql
    assert "LEFT OUTER JOIN" not in tight_sql and " JOIN " in tight_sql


def test_a_cache_hit_with_joins_compiles_nothing(compile_count: list[int]) -> None:
    from reinhardt_db.models.sql import compiler
    from reinhardt_db.models.sql.cache import statement_cache

    from .test_compiler_cache import DIALECTS

    statement_cache.clear()
    db = DIALECTS["postgresql"]
    for name in ("a", "b", "c"):
        queryset = Post.objects.select_related("author").filter(
            tags__name=name, author__profile__bio__startswith=name
        ).exclude(author__posts__title=name)
        entry = compiler.compile_select(queryset.query, db, queryset._mode)
        assert entry.params(queryset.query.params()).count(name) >= 1
    assert compile_count[0] == 1


@pytest.fixture
def compile_count(monkeypatch: Any) -> list[int]:
    from sqlalchemy.sql.elements import ClauseElement

    calls = [0]
    original = ClauseElement.compile

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ClauseElement, "compile", counting)
    return calls



async def test_meta_ordering_across_relations(make_tables: Any) -> None:
    from reinhardt_db import models
    from reinhardt_db.testing import isolate_apps

    with isolate_apps():
        class Shelf(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                app_label = "tests_ordering"

        class Book(models.Model):
            title = models.CharField(max_length=10)
            shelf = models.ForeignKey(Shelf, null=True, on_delete=models.SET_NULL)

            class Meta:
                app_label = "tests_ordering"
                ordering = ["-shelf__name", "title"]

        await make_tables(Shelf, Book)
        a, b = await Shelf.objects.create(name="a"), await Shelf.objects.create(name="b")
        await Book.objects.bulk_create([
            Book(title="x", shelf=a), Book(title="y", shelf=b), Book(title="w", shelf=None),
            Book(title="z", shelf=b),
        ])
        titles = [book.title for book in await Book.objects.filter(title__gte="x")]
        assert titles == ["y", "z", "x"]
        assert len(await Book.objects.all()) == 4  # the LEFT OUTER JOIN keeps shelf-less books


async def test_single_delete_statement_filtered_across_relations(data: dict[str, Any]) -> None:
    with capture_queries() as queries:
        assert await Profile.objects.filter(user__name="ann").delete() == (
            1, {"tests_relations.Profile": 1},
        )
    assert len(queries) == 1 and queries[0].sql.upper().startswith("DELETE")
    assert await Profile.objects.count() == 0
