"""Keyset pagination: ``qs.paginate(after=/before=, limit=)`` on all three backends."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import NotSupportedError, TransactionManagementError
from reinhardt_db.models import F
from reinhardt_db.models.pagination import Page
from reinhardt_db.testing import capture_queries

from ._relations import ALL, Author, Post

UTC = dt.UTC


class Entry(models.Model):
    title = models.CharField(max_length=20)
    score = models.IntegerField(null=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    when = models.DateTimeField(null=True)
    doc = models.JSONField(null=True)

    class Meta:
        app_label = "tests_paginate"
        ordering = ["title"]


class Kind(models.TextChoices):
    BIG = "big"
    SMALL = "small"


class Line(models.Model):
    order_no = models.IntegerField()
    line_no = models.IntegerField()
    kind = models.CharField(max_length=5, choices=Kind.choices)
    pk = models.CompositePrimaryKey("order_no", "line_no")

    class Meta:
        app_label = "tests_paginate"


async def walk_forward(qs: Any, limit: int) -> tuple[list[Any], Page[Any]]:
    """Every item from the first page on, and the last page read."""
    page = await qs.paginate(limit=limit)
    seen = list(page.items)
    while page.has_next:
        assert page.next_cursor is not None
        page = await qs.paginate(after=page.next_cursor, limit=limit)
        seen.extend(page.items)
    assert page.next_cursor is None
    return seen, page


async def walk_backward(qs: Any, page: Page[Any], limit: int) -> list[Any]:
    """Every item from ``page`` back to the first."""
    seen = list(page.items)
    while page.has_previous:
        assert page.previous_cursor is not None
        page = await qs.paginate(before=page.previous_cursor, limit=limit)
        assert len(page.items) <= limit
        seen[:0] = page.items
    assert page.previous_cursor is None
    return seen


def pks(items: list[Any]) -> list[Any]:
    return [item.pk for item in items]


@pytest.fixture
async def entries(make_tables: Any) -> list[Entry]:
    await make_tables(Entry)
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    rows = [
        Entry(title=title, score=score, price=price, when=moment)
        for title, score, price, moment in [
            ("b", 3, Decimal("1.50"), when),
            ("a", None, None, None),
            ("b", 1, Decimal("2.00"), when + dt.timedelta(seconds=1)),
            ("a", 3, Decimal("1.50"), when),
            ("c", None, Decimal("0.10"), None),
            ("b", 2, None, when - dt.timedelta(days=1)),
            ("a", 1, Decimal("9.99"), when),
            ("c", 3, Decimal("1.50"), when + dt.timedelta(microseconds=5)),
        ]
    ]
    return await Entry.objects.bulk_create(rows)


async def test_first_page_and_walking_both_ways(backend: Database, entries: list[Entry]) -> None:
    qs = Entry.objects.all()  # Meta.ordering ["title"]; ties broken by the primary key
    full = pks(await qs.order_by("title", "pk"))
    page = await qs.paginate(limit=3)
    assert pks(page.items) == full[:3] and len(page) == 3 and list(page) == page.items
    assert page.has_next and not page.has_previous and page.previous_cursor is None
    assert isinstance(page.next_cursor, str)
    seen, last = await walk_forward(qs, 3)
    assert pks(seen) == full
    assert pks(await walk_backward(qs, last, 3)) == full
    # A limit larger than the table: one page, nothing either side.
    everything = await qs.paginate(limit=100)
    assert pks(everything.items) == full
    assert not everything.has_next and not everything.has_previous
    assert everything.next_cursor is None and everything.previous_cursor is None


@pytest.mark.parametrize(
    "ordering",
    [
        ("score",),
        ("-score",),
        ("score", "-title"),
        ("-title", "score"),
        ("-price", "when"),
        ("when", "-price", "title"),
        (F("score").asc(nulls_first=True),),
        (F("score").asc(nulls_last=True), "title"),
        (F("score").desc(nulls_first=True), "-title"),
        (F("score").desc(nulls_last=True),),
        (F("price").desc(nulls_last=True), F("when").asc(nulls_first=True)),
        ("-pk",),
        ("title", "-id"),
    ],
    ids=repr,
)
async def test_ties_nulls_and_mixed_directions(
    backend: Database, entries: list[Entry], ordering: tuple[Any, ...]
) -> None:
    qs = Entry.objects.order_by(*ordering)
    full = pks(await qs.order_by(*ordering, "pk"))
    for limit in (1, 2, 3, 8):
        seen, last = await walk_forward(qs, limit)
        assert pks(seen) == full, (limit, pks(seen), full)
        assert pks(await walk_backward(qs, last, limit)) == full


async def test_reverse_and_values_modes(backend: Database, entries: list[Entry]) -> None:
    qs = Entry.objects.order_by("score", "title").reverse()
    full = pks(await Entry.objects.order_by("score", "title", "pk").reverse())
    assert pks((await walk_forward(qs, 3))[0]) == full
    # Ordered by a deferred field: its values come as extra columns.
    deferred = Entry.objects.only("title").order_by("score")
    assert pks((await walk_forward(deferred, 3))[0]) == pks(await Entry.objects.order_by("score", "pk"))
    titles = Entry.objects.order_by("-title").values_list("title", flat=True)
    assert (await walk_forward(titles, 3))[0] == ["c", "c", "b", "b", "b", "a", "a", "a"]
    dicts = Entry.objects.filter(score__isnull=False).values("title", "score")
    page = await dicts.order_by("score").paginate(limit=2)
    assert page.items == [{"title": "b", "score": 1}, {"title": "a", "score": 1}]  # pk breaks it
    rest = await dicts.order_by("score").paginate(after=page.next_cursor, limit=10)
    assert [row["score"] for row in rest.items] == [2, 3, 3, 3]
    named = await Entry.objects.order_by("-pk").values_list("pk", "title", named=True).paginate(
        limit=1
    )
    assert named.items[0].title == entries[-1].title


async def test_filters_annotations_and_relations(backend: Database, make_tables: Any) -> None:
    await make_tables(*ALL)
    ann = await Author.objects.create(name="ann")
    bob = await Author.objects.create(name="bob")
    for i in range(7):
        await Post.objects.create(title=f"p{i % 3}", author=bob if i % 2 else ann)
    qs = Post.objects.filter(title__in=["p0", "p1"]).order_by("-author__name", "title")
    full = pks(await qs.order_by("-author__name", "title", "pk"))
    seen, last = await walk_forward(qs.select_related("author"), 2)
    assert pks(seen) == full
    assert [p.author.name for p in seen] == sorted((p.author.name for p in seen), reverse=True)
    assert pks(await walk_backward(qs, last, 2)) == full
    counted = Author.objects.annotate(n=models.Count("posts")).order_by("-n")
    page = await counted.paginate(limit=1)
    assert [(a.name, a.n) for a in page.items] == [("ann", 4)]
    page = await counted.paginate(after=page.next_cursor, limit=1)
    assert [(a.name, a.n) for a in page.items] == [("bob", 3)] and not page.has_next
    # A related manager pages its own rows.
    mine = await ann.posts.order_by("-title").paginate(limit=3)
    assert [p.title for p in mine.items] == ["p2", "p1", "p0"] and mine.has_next
    # distinct() instances across a multi-valued relation: each author once.
    writers = Author.objects.filter(posts__title__in=["p0", "p1"]).distinct().order_by("name")
    assert [a.name for a in (await walk_forward(writers, 1))[0]] == ["ann", "bob"]


async def test_cursor_values_are_bound_parameters(backend: Database, entries: list[Entry]) -> None:
    qs = Entry.objects.order_by("title")
    first = await qs.paginate(limit=2)
    with capture_queries() as captured:
        second = await qs.paginate(after=first.next_cursor, limit=2)
    (query,) = captured
    assert "'a'" not in query.sql and "a" in [str(p) for p in query.params]
    assert first.items[-1].pk in query.params
    assert pks(second.items) == pks(await qs.order_by("title", "pk"))[2:4]


async def test_paginate_after_the_last_row(backend: Database, entries: list[Entry]) -> None:
    qs = Entry.objects.order_by("-title")
    page = await qs.paginate(limit=7)
    assert page.has_next and page.next_cursor is not None
    last = await qs.paginate(after=page.next_cursor, limit=7)
    assert len(last.items) == 1 and not last.has_next and last.next_cursor is None
    # Before the first row: an empty page whose next cursor leads back.
    before_first = await qs.paginate(before=await _first_cursor(qs), limit=3)
    assert before_first.items == [] and before_first.has_next and not before_first.has_previous
    again = await qs.paginate(after=before_first.next_cursor, limit=7)
    assert pks(again.items) == pks(page.items)[1:] + pks(last.items)


async def _first_cursor(qs: Any) -> str:
    """A cursor positioned on the first row: the next cursor of a one-row first page."""
    one = await qs.paginate(limit=1)
    assert one.next_cursor is not None
    return str(one.next_cursor)


async def test_composite_primary_key_and_choices(backend: Database, make_tables: Any) -> None:
    await make_tables(Line)
    await Line.objects.bulk_create([
        Line(order_no=o, line_no=n, kind=Kind.BIG if (o + n) % 3 else Kind.SMALL)
        for o in (2, 1) for n in (3, 1, 2)
    ])
    qs = Line.objects.order_by("-kind")
    full = [x.pk for x in await qs.order_by("-kind", "order_no", "line_no")]
    seen, last = await walk_forward(qs, 2)
    assert [x.pk for x in seen] == full
    assert [x.pk for x in await walk_backward(qs, last, 2)] == full
    # An enum member as a filter value, a cursor from its plain value.
    page = await Line.objects.filter(kind=Kind.BIG).order_by("kind", "-line_no").paginate(limit=1)
    assert page.items[0].line_no == 3 and page.next_cursor is not None


async def test_manager_paginate(backend: Database, entries: list[Entry]) -> None:
    page = await Entry.objects.paginate(limit=4)
    assert [e.title for e in page.items] == ["a", "a", "a", "b"]


# -- errors -----------------------------------------------------------------------------------


async def test_argument_errors(backend: Database, entries: list[Entry]) -> None:
    qs = Entry.objects.order_by("title")
    page = await qs.paginate(limit=2)
    assert page.next_cursor is not None
    with pytest.raises(ValueError, match="after= or before=, not both"):
        await qs.paginate(after=page.next_cursor, before=page.next_cursor, limit=2)
    for bad in (0, -1, True, "5", 2.5, None):
        with pytest.raises(ValueError, match="positive integer"):
            await qs.paginate(limit=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="slice"):
        await qs[2:5].paginate(limit=2)
    with pytest.raises(ValueError, match="randomly ordered"):
        await Entry.objects.order_by("?").paginate(limit=2)
    with pytest.raises(TransactionManagementError, match="inside a transaction"):
        await qs.select_for_update().paginate(limit=2)
    async with backend.transaction():
        locked = await qs.select_for_update().paginate(limit=2)
        assert [e.pk for e in locked.items] == [e.pk for e in page.items]
    with pytest.raises(NotSupportedError, match=r"cannot page a union\(\) of QuerySets"):
        await Entry.objects.filter(score=1).union(Entry.objects.filter(score=2)).paginate(limit=2)
    windowed = Entry.objects.annotate(
        n=models.Window(models.RowNumber(), order_by=F("title").asc())
    ).order_by("title")
    with pytest.raises(NotSupportedError, match="cannot page a query with window annotations"):
        await windowed.paginate(limit=2)
    with pytest.raises(TypeError, match="Cannot paginate distinct"):
        await Entry.objects.values("title").distinct().order_by("title").paginate(limit=2)
    empty = await Entry.objects.none().order_by("title").paginate(after=page.next_cursor, limit=2)
    assert empty.items == [] and not empty.has_next and empty.previous_cursor == page.next_cursor


async def test_cursor_errors(backend: Database, entries: list[Entry]) -> None:
    qs = Entry.objects.order_by("title")
    cursor = (await qs.paginate(limit=2)).next_cursor
    assert cursor is not None
    for garbage in ("", "not a cursor!", "abc", cursor[:10]):
        with pytest.raises(ValueError, match=r"does not decode|fails its checksum"):
            await qs.paginate(after=garbage, limit=2)
    with pytest.raises(ValueError, match="does not decode"):
        await qs.paginate(after="%%%", limit=2)
    with pytest.raises(ValueError, match="is a str"):
        await qs.paginate(after=12, limit=2)  # type: ignore[arg-type]
    # A forged value (the JSON edited, the old checksum kept) fails the checksum.
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    payload, mac = raw[:-16], raw[-16:]
    data = json.loads(payload)
    data["v"][0] = ["s", "' OR 1=1 --"]
    forged = base64.urlsafe_b64encode(json.dumps(data).encode() + mac).decode().rstrip("=")
    with pytest.raises(ValueError, match="fails its checksum"):
        await qs.paginate(after=forged, limit=2)
    # Signed with the right key but unreadable (as from another version): refused too.
    from reinhardt_db.models import _cursor

    for bad_payload in (b"[]", b'{"o": "x"}', b'{"o": "x", "v": [["?", "1"]]}', b"\xff"):
        signed = bad_payload + hmac.new(_cursor._key(), bad_payload, hashlib.sha256).digest()[:16]
        with pytest.raises(ValueError, match="holds values this version cannot read"):
            await qs.paginate(after=base64.urlsafe_b64encode(signed).decode(), limit=2)
    with pytest.raises(ValueError, match="fails its checksum"):
        await qs.paginate(before=cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), limit=2)
    # Made for another ordering (direction, fields, or the model) is refused.
    for other in (
        Entry.objects.order_by("-title"),
        Entry.objects.order_by("title", "score"),
        Entry.objects.order_by("score"),
    ):
        with pytest.raises(ValueError, match="made for another ordering"):
            await other.paginate(after=cursor, limit=2)
    # Filters may differ: the cursor is a position in the ordering.
    narrowed = await qs.filter(score__isnull=False).paginate(after=cursor, limit=10)
    assert all(e.title >= "a" for e in narrowed.items)


async def test_another_secret_rejects_old_cursors(backend_url: str, entries: list[Entry]) -> None:
    qs = Entry.objects.order_by("title")
    cursor = (await qs.paginate(limit=2)).next_cursor
    assert cursor is not None
    await reinhardt_db.close_all()
    reinhardt_db.configure(databases={"default": backend_url}, pagination_secret="s3cret")
    try:
        with pytest.raises(ValueError, match="fails its checksum"):
            await qs.paginate(after=cursor, limit=2)
        made = (await qs.paginate(limit=2)).next_cursor
        assert made is not None
        assert (await qs.paginate(after=made, limit=2)).items
    finally:
        await reinhardt_db.close_all()
        reinhardt_db.configure(databases={"default": backend_url})


async def test_unsupported_value_type(backend: Database, make_tables: Any) -> None:
    await make_tables(Entry)
    await Entry.objects.create(title="x", doc={"a": 1})
    await Entry.objects.create(title="y", doc={"a": 2})
    with pytest.raises(TypeError, match="cannot put a dict value"):
        await Entry.objects.filter(doc__isnull=False).order_by("doc").paginate(limit=1)


# -- the property: forward then backward visits every row once, in order -----------------------

_TITLES = st.sampled_from(["a", "A", "b", "a ", "", "é", "z"])
ROWS = st.lists(
    st.tuples(_TITLES, st.none() | st.integers(-3, 3), st.none() | st.sampled_from(
        [Decimal("0.00"), Decimal("1.50"), Decimal("-2.25")]
    )),
    max_size=25,
)


def _orderings() -> st.SearchStrategy[list[Any]]:
    term = st.tuples(st.sampled_from(["title", "score", "price", "pk"]), st.booleans(),
                     st.sampled_from([None, "first", "last"]))

    def build(terms: list[tuple[str, bool, str | None]]) -> list[Any]:
        out: list[Any] = []
        for name, descending, nulls in terms:
            if nulls is None:
                out.append(f"-{name}" if descending else name)
            else:
                expr = F(name)
                kwargs = {"nulls_first": True} if nulls == "first" else {"nulls_last": True}
                out.append(expr.desc(**kwargs) if descending else expr.asc(**kwargs))
        return out

    return st.lists(term, min_size=1, max_size=3, unique_by=lambda t: t[0]).map(build)


@settings(
    max_examples=int(os.environ.get("REINHARDT_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=ROWS, ordering=_orderings(), limit=st.integers(1, 6), reverse=st.booleans())
async def test_walks_visit_every_row_once_in_order(
    backend: Database, make_tables: Any, rows: list[Any], ordering: list[Any], limit: int,
    reverse: bool,
) -> None:
    if not getattr(make_tables, "made_entries", False):  # once per test, not per example
        await make_tables(Entry)
        make_tables.made_entries = True
    await Entry.objects.all()._raw_delete()
    await Entry.objects.bulk_create(
        [Entry(title=t, score=s, price=p) for t, s, p in rows]
    )
    qs = Entry.objects.order_by(*ordering)
    if reverse:
        qs = qs.reverse()
    full_qs = Entry.objects.order_by(*ordering, "pk")
    full = pks(await (full_qs.reverse() if reverse else full_qs))
    seen, last = await walk_forward(qs, limit)
    assert pks(seen) == full
    assert pks(await walk_backward(qs, last, limit)) == full
