"""The query-result cache (``qs.cache(ttl=)``) on all three backends.

What a user sees: a repeated query runs no statement, every ORM write to a table
the query read (directly, through a join or a subquery) makes it run again, and
transactions see their own writes while other readers keep the committed rows.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Hashable, Iterable
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.models.result_cache import (
    CacheStats,
    LocMemResultCache,
    ResultCacheBackend,
    result_cache,
)
from reinhardt_db.models.result_cache import _key as cache_key
from reinhardt_db.testing import assert_num_queries, capture_queries

from ._relations import ALL, Author, Comment, Post, Tag


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterable[None]:
    result_cache.configure()
    yield
    result_cache.configure()


@pytest.fixture
async def blog(make_tables: Any) -> dict[str, Any]:
    await make_tables(*ALL)
    ann = await Author.objects.create(name="ann")
    bob = await Author.objects.create(name="bob")
    red = await Tag.objects.create(name="red")
    blue = await Tag.objects.create(name="blue")
    first = await Post.objects.create(title="first", author=ann)
    second = await Post.objects.create(title="second", author=bob)
    await first.tags.add(red)
    await Comment.objects.create(post=first, body="hi")
    return {"ann": ann, "bob": bob, "red": red, "blue": blue, "first": first, "second": second}


def stats() -> dict[str, int]:
    return result_cache.stats.as_dict()


async def cached_twice(qs: Any) -> Any:
    """Run ``qs`` (fresh) twice; the second run must be a hit with no statement."""
    first = await qs.all()
    with assert_num_queries(0):
        again = await qs.all()
    assert [getattr(x, "pk", x) for x in again] == [getattr(x, "pk", x) for x in first]
    return first


async def test_hits_misses_and_fresh_objects(backend: Database, blog: dict[str, Any]) -> None:
    qs = Post.objects.filter(author__name="ann").cache()
    with assert_num_queries(1):
        posts = await qs.all()
    assert [p.title for p in posts] == ["first"]
    with assert_num_queries(0):
        again = await qs.all()
    assert stats()["hits"] == 1 and stats()["misses"] == 1 and stats()["stores"] == 1
    # Each hit builds new instances: changing one changes no other read.
    assert again[0] is not posts[0] and again[0].pk == posts[0].pk
    again[0].title = "changed locally"
    assert [p.title for p in await qs.all()] == ["first"]
    # Other parameters are another entry; the queryset without cache() never looks.
    assert [p.title for p in await Post.objects.filter(author__name="bob").cache()] == ["second"]
    with assert_num_queries(1):
        await Post.objects.filter(author__name="ann")
    assert stats()["misses"] == 2 and stats()["hits"] == 2


async def test_every_read_form(backend: Database, blog: dict[str, Any]) -> None:
    base = Post.objects.cache()
    await cached_twice(base.values("title"))
    await cached_twice(base.values_list("title", flat=True))
    for read in (
        lambda: base.count(),
        lambda: base.filter(title="first").exists(),
        lambda: base.aggregate(n=models.Count("id")),
        lambda: base.get(title="first"),
        lambda: base.first(),
        lambda: base.in_bulk([blog["first"].pk]),
        lambda: base.order_by("title").paginate(limit=1),
    ):
        value = await read()
        with assert_num_queries(0):
            assert await read() == value or type(value).__name__ in ("Post", "Page", "dict")
    assert (await base.count()) == 2
    assert (await base.aggregate(n=models.Count("id"))) == {"n": 2}
    # Managers forward cache() too; iterator() always streams from the database.
    await cached_twice(Post.objects.cache(60).filter(title="second"))
    with capture_queries() as captured:
        assert [p.title async for p in base.order_by("title").iterator()] == ["first", "second"]
    assert len(captured) == 1


async def test_select_for_update_reads_the_database(
    backend: Database, blog: dict[str, Any]
) -> None:
    async with backend.transaction():
        locked = Post.objects.cache().select_for_update().filter(title="first")
        with assert_num_queries(2):
            await locked.all()
            await locked.all()


async def test_ttl_and_lru_eviction(backend: Database, blog: dict[str, Any]) -> None:
    short = Post.objects.filter(title="first").cache(ttl=0.2)
    await short.all()
    with assert_num_queries(0):
        await short.all()
    await asyncio.sleep(0.3)
    with assert_num_queries(1):
        await short.all()
    result_cache.configure(LocMemResultCache(maxsize=2))
    for title in ("first", "second", "third"):
        await Post.objects.filter(title=title).cache()
    assert stats()["evictions"] == 1 and len(result_cache.backend) == 2  # type: ignore[arg-type]
    with assert_num_queries(1):  # the least recently used went
        await Post.objects.filter(title="first").cache()
    with assert_num_queries(0):
        await Post.objects.filter(title="third").cache()


async def test_alias_is_part_of_the_key(backend_url: str, blog: dict[str, Any]) -> None:
    await reinhardt_db.close_all()
    reinhardt_db.configure(databases={"default": backend_url, "other": backend_url})
    await Post.objects.cache().count()
    with assert_num_queries(1, using="other"):
        assert await Post.objects.using("other").cache().count() == 2
    # A write through one alias drops the entries of both: they may be one server.
    await Post.objects.using("other").filter(title="second").delete()
    with assert_num_queries(1):
        assert await Post.objects.cache().count() == 1


# -- invalidation by every ORM write ---------------------------------------------------------


async def expect_refresh(qs: Any, write: Any, before: Any, after: Any) -> None:
    """``qs`` (cached) reads ``before``; after ``write()`` it reads ``after`` from the database."""
    assert await _read(qs) == before
    with assert_num_queries(0):
        assert await _read(qs) == before
    await write()
    with capture_queries() as captured:
        assert await _read(qs) == after
    assert len(captured) == 1, captured.describe()


async def _read(qs: Any) -> Any:
    return sorted(await qs.all().values_list("pk", flat=True))


async def test_writes_to_the_table_invalidate(backend: Database, blog: dict[str, Any]) -> None:
    first, second = blog["first"], blog["second"]
    titled = Post.objects.filter(title="renamed").cache()

    async def save() -> None:
        first.title = "renamed"
        await first.save()

    await expect_refresh(titled, save, [], [first.pk])

    async def update() -> None:
        await Post.objects.filter(pk=second.pk).update(title="renamed")

    await expect_refresh(titled, update, [first.pk], sorted([first.pk, second.pk]))

    async def bulk_update() -> None:
        second.title = "other"
        await Post.objects.bulk_update([second], ["title"])

    await expect_refresh(titled, bulk_update, sorted([first.pk, second.pk]), [first.pk])
    made: list[Any] = []

    async def bulk_create() -> None:
        made.extend(await Post.objects.bulk_create(
            [Post(title="renamed", author=blog["bob"]), Post(title="renamed", author=blog["bob"])]
        ))

    assert await _read(titled) == [first.pk]
    await bulk_create()
    with assert_num_queries(1):
        assert await _read(titled) == sorted([first.pk, *(p.pk for p in made)])

    async def qs_delete() -> None:
        await Post.objects.filter(pk__in=[p.pk for p in made]).delete()

    await expect_refresh(titled, qs_delete, sorted([first.pk, *(p.pk for p in made)]), [first.pk])

    async def create() -> None:
        made.append(await Post.objects.create(title="renamed", author=blog["ann"]))

    assert await _read(titled) == [first.pk]
    await create()
    with assert_num_queries(1):
        assert await _read(titled) == sorted([first.pk, made[-1].pk])

    async def obj_delete() -> None:
        await made[-1].delete()

    await expect_refresh(titled, obj_delete, sorted([first.pk, made[-1].pk]), [first.pk])


async def test_joined_and_subquery_tables_invalidate(
    backend: Database, blog: dict[str, Any]
) -> None:
    ann, first = blog["ann"], blog["first"]
    by_author = Post.objects.filter(author__name="anna").cache()

    async def rename() -> None:
        ann.name = "anna"
        await ann.save()

    await expect_refresh(by_author, rename, [], [first.pk])
    # A subquery (an __in over another table's rows) is a table the query reads too.
    in_sub = Post.objects.filter(
        author__in=Author.objects.filter(name="bob").values_list("pk", flat=True)
    ).cache()

    async def rename_bob() -> None:
        await Author.objects.filter(name="bob").update(name="robert")

    await expect_refresh(in_sub, rename_bob, [blog["second"].pk], [])
    # An EXISTS from exclude() across a multi-valued relation.
    no_hi = Post.objects.exclude(comments__body="hi").cache()

    async def comment() -> None:
        await Comment.objects.create(post=blog["second"], body="hi")

    await expect_refresh(no_hi, comment, [blog["second"].pk], [])
    # A subquery expression in an annotation (Exists/OuterRef).
    with_zzz = Author.objects.annotate(
        has=models.Exists(Post.objects.filter(author=models.OuterRef("pk"), title="zzz"))
    ).filter(has=True).cache()

    async def zzz() -> None:
        await Post.objects.create(title="zzz", author=blog["bob"])

    await expect_refresh(with_zzz, zzz, [], [blog["bob"].pk])


async def test_many_to_many_changes_invalidate(backend: Database, blog: dict[str, Any]) -> None:
    first, second, red, blue = blog["first"], blog["second"], blog["red"], blog["blue"]
    red_posts = Post.objects.filter(tags__name="red").cache()

    async def add() -> None:
        await second.tags.add(red)

    await expect_refresh(red_posts, add, [first.pk], [first.pk, second.pk])

    async def remove() -> None:
        await red.posts.remove(first)

    await expect_refresh(red_posts, remove, [first.pk, second.pk], [second.pk])

    async def set_() -> None:
        await first.tags.set([red, blue])

    await expect_refresh(red_posts, set_, [second.pk], [first.pk, second.pk])

    async def clear() -> None:
        await red.posts.clear()

    await expect_refresh(red_posts, clear, [first.pk, second.pk], [])
    # A reverse foreign key's add() is an UPDATE of the other table.
    bobs = Post.objects.filter(author__name="bob").cache()

    async def move() -> None:
        await blog["bob"].posts.add(first)

    await expect_refresh(bobs, move, [second.pk], [first.pk, second.pk])


async def test_cascades_and_get_or_create_invalidate(
    backend: Database, blog: dict[str, Any]
) -> None:
    comments = Comment.objects.cache()
    hi = (await Comment.objects.get()).pk

    async def cascade() -> None:
        await blog["ann"].delete()  # -> her posts -> their comments (the collector)

    await expect_refresh(comments, cascade, [hi], [])
    tags = Tag.objects.cache()
    red, blue = blog["red"].pk, blog["blue"].pk
    made: list[Any] = []

    async def get_or_create() -> None:
        tag, created = await Tag.objects.get_or_create(name="green")
        assert created
        made.append(tag.pk)

    before = await _read(tags)
    assert before == sorted([red, blue])
    await get_or_create()
    assert await _read(tags) == sorted([red, blue, made[0]])
    green = Tag.objects.filter(name="verde").cache()

    async def update_or_create() -> None:
        _tag, created = await Tag.objects.update_or_create(
            name="green", defaults={"name": "verde"}
        )
        assert not created

    await expect_refresh(green, update_or_create, [], [made[0]])


async def test_raw_sql_needs_a_manual_invalidate(backend: Database, blog: dict[str, Any]) -> None:
    qs = Tag.objects.cache()
    assert len(await qs.all()) == 2
    await backend.execute(f"DELETE FROM {Tag._meta.db_table} WHERE name = %s", ["blue"])
    assert len(await qs.all()) == 2  # the cache cannot see raw SQL
    assert result_cache.invalidate(Tag._meta.db_table) >= 1
    assert len(await qs.all()) == 1
    result_cache.clear()
    with assert_num_queries(1):
        await qs.all()


# -- transactions ------------------------------------------------------------------------------


async def test_transaction_reads_its_writes_and_commit_invalidates(
    backend: Database, blog: dict[str, Any]
) -> None:
    posts = Post.objects.cache()
    tags = Tag.objects.cache()
    assert await posts.count() == 2 and await tags.count() == 2
    seen_outside: list[int] = []

    async def outside() -> None:
        # Another task outside the transaction: the committed rows, from the cache.
        seen_outside.append(await posts.count())

    async with backend.transaction():
        await Post.objects.create(title="new", author=blog["ann"])
        with assert_num_queries(1):
            assert await posts.count() == 3  # bypasses: this transaction wrote the table
        assert stats()["bypasses"] == 1
        with assert_num_queries(0):
            assert await tags.count() == 2  # an untouched table is still served
        await asyncio.create_task(outside(), context=contextvars.Context())
    assert seen_outside == [2]
    assert stats()["invalidations"] >= 1
    with assert_num_queries(1):
        assert await posts.count() == 3  # the commit dropped the entry
    with assert_num_queries(0):
        assert await tags.count() == 2


async def test_rollback_leaves_the_cache_as_before(
    backend: Database, blog: dict[str, Any]
) -> None:
    posts = Post.objects.cache()
    assert await posts.count() == 2
    invalidations = stats()["invalidations"]
    with pytest.raises(RuntimeError):
        async with backend.transaction():
            await Post.objects.create(title="gone", author=blog["ann"])
            await Post.objects.filter(title="first").update(title="changed")
            assert await posts.count() == 3
            assert await posts.filter(title="changed").exists()
            raise RuntimeError("roll back")
    assert stats()["invalidations"] == invalidations
    with assert_num_queries(0):
        assert await posts.count() == 2
    assert not backend.bound_connection()


async def test_savepoints_inside_a_transaction(backend: Database, blog: dict[str, Any]) -> None:
    tags = Tag.objects.cache()
    assert await tags.count() == 2
    async with backend.transaction():
        # get_or_create's INSERT runs in a savepoint of this transaction.
        await Tag.objects.get_or_create(name="green")
        assert await tags.count() == 3  # bypasses
        ops = backend.ops
        await backend.execute_native(ops.savepoint_create_sql("sp_cache"))
        await Tag.objects.create(name="gone")
        await backend.execute_native(ops.savepoint_rollback_sql("sp_cache"))
        assert await tags.count() == 3
    with assert_num_queries(1):
        assert await tags.count() == 3


async def test_related_managers_cache(backend: Database, blog: dict[str, Any]) -> None:
    ann = blog["ann"]
    with assert_num_queries(1):
        assert await ann.posts.cache().count() == 1
        assert await ann.posts.cache().count() == 1
    await ann.posts.create(title="more")
    assert await ann.posts.cache().count() == 2


async def test_reads_inside_a_transaction_are_not_stored(
    backend: Database, blog: dict[str, Any]
) -> None:
    async with backend.transaction():
        assert await Tag.objects.cache().count() == 2
        assert await Tag.objects.cache().count() == 2
    assert stats()["stores"] == 0 and stats()["misses"] == 2
    with assert_num_queries(1):
        await Tag.objects.cache().count()


async def test_a_read_racing_a_write_is_not_stored(
    backend: Database, blog: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = backend.fetch_rows

    async def fetch_then_someone_writes(sql: str, params: Any) -> Any:
        rows = await real(sql, params)
        await Tag.objects.create(name="meanwhile")  # lands while the read is "on the wire"
        return rows

    monkeypatch.setattr(backend, "fetch_rows", fetch_then_someone_writes)
    assert await Tag.objects.cache().count() == 2
    monkeypatch.undo()
    assert stats()["stores"] == 0
    assert await Tag.objects.cache().count() == 3


# -- the backend protocol, keys and errors ---------------------------------------------------


class DictBackend:
    """A minimal custom backend: no LRU, no TTL."""

    def __init__(self) -> None:
        self.data: dict[Hashable, tuple[Any, frozenset[str]]] = {}

    def get(self, key: Hashable) -> Any:
        entry = self.data.get(key)
        return None if entry is None else entry[0]

    def set(self, key: Hashable, rows: Any, *, ttl: float | None, tables: frozenset[str]) -> int:
        self.data[key] = (rows, tables)
        return 0

    def delete(self, key: Hashable) -> None:
        self.data.pop(key, None)

    def invalidate_tables(self, tables: Iterable[str]) -> int:
        names = set(tables)
        gone = [k for k, (_, read) in self.data.items() if read & names]
        for key in gone:
            del self.data[key]
        return len(gone)

    def clear(self) -> None:
        self.data.clear()


async def test_a_custom_backend(backend: Database, blog: dict[str, Any]) -> None:
    store = DictBackend()
    assert isinstance(store, ResultCacheBackend)
    result_cache.configure(store)
    await cached_twice(Post.objects.filter(author__name="ann").cache())
    ((_rows, tables),) = store.data.values()
    assert Post._meta.db_table in tables and Author._meta.db_table in tables
    await Author.objects.filter(name="ann").update(name="anne")
    assert store.data == {} and stats()["invalidations"] == 1


async def test_errors(backend: Database, blog: dict[str, Any]) -> None:
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="positive seconds or None"):
            Post.objects.cache(ttl=bad)
    for wrong in ("60", True, [1]):
        with pytest.raises(TypeError, match="takes seconds"):
            Post.objects.all().cache(ttl=wrong)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lacks some"):
        result_cache.configure(object())  # type: ignore[arg-type]
    for size in (0, -3, True, "big"):
        with pytest.raises(ValueError, match="maxsize must be a positive integer"):
            LocMemResultCache(maxsize=size)  # type: ignore[arg-type]


def test_keys_and_stats() -> None:
    assert cache_key("a", "SELECT ?", [1]) != cache_key("a", "SELECT ?", [True])
    assert cache_key("a", "SELECT ?", [1]) != cache_key("a", "SELECT ?", [1.0])
    assert cache_key("a", "SELECT ?", [1]) != cache_key("b", "SELECT ?", [1])
    assert cache_key("a", "S", [[1, 2]]) == cache_key("a", "S", [[1, 2]])
    assert cache_key("a", "S", [[1, 2]]) != cache_key("a", "S", [[1, True]])
    hash(cache_key("a", "S", [{"k": [1]}]))
    counters = CacheStats()
    counters.hits = 3
    assert "hits=3" in repr(counters) and counters.as_dict()["hits"] == 3
    counters.reset()
    assert set(counters.as_dict().values()) == {0}
