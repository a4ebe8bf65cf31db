"""JSON key paths in filters, values, annotate and order_by; containment on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends.sqlite.driver import jsonb_contains
from reinhardt_db.models import F

from .._sql import captured


class Doc(models.Model):
    name = models.CharField(max_length=20)
    data = models.JSONField(null=True)

    class Meta:
        app_label = "tests_json"


DOCS = {
    "a": {"kind": "book", "price": 12, "tags": ["x", "y"], "meta": {"lang": "en", "pages": 300}},
    "b": {"kind": "book", "price": 7, "tags": ["y"], "meta": {"lang": "fr", "pages": 120}},
    "c": {"kind": "film", "price": 20, "tags": [], "meta": {"lang": "en"}, "flag": True},
    "d": {"kind": "film", "price": 1, "flag": 1, "list": [1, [2, 3]]},
    "e": None,
}


@pytest.fixture
async def docs(make_tables: Any) -> None:
    await make_tables(Doc)
    await Doc.objects.bulk_create([Doc(name=n, data=d) for n, d in DOCS.items()])


async def names(qs: Any) -> list[str]:
    return sorted(await qs.values_list("name", flat=True))


async def test_key_paths_in_values_annotate_and_order_by(docs: None) -> None:
    books = Doc.objects.filter(data__kind="book")
    assert await books.order_by("name").values_list("data__meta__lang", flat=True) == ["en", "fr"]
    rows = await books.annotate(lang=F("data__meta__lang"), pages=F("data__meta__pages"),
                                first=F("data__tags__0"), meta=F("data__meta")).order_by(
        "name").values_list("name", "lang", "pages", "first", "meta")
    assert rows == [
        ("a", "en", 300, "x", {"lang": "en", "pages": 300}),
        ("b", "fr", 120, "y", {"lang": "fr", "pages": 120}),
    ]
    priced = Doc.objects.filter(data__price__isnull=False)
    assert await priced.order_by("data__price").values_list("name", flat=True) == ["d", "b", "a", "c"]
    assert await priced.order_by(F("data__price").desc()).values_list("name", flat=True) == [
        "c", "a", "b", "d",
    ]
    assert await priced.order_by("-data__meta__pages", "name").filter(
        data__meta__pages__isnull=False
    ).values_list("name", flat=True) == ["a", "b"]
    assert await names(Doc.objects.filter(data__price__lt=10)) == ["b", "d"]


async def test_has_key_lookups_under_paths(docs: None) -> None:
    assert await names(Doc.objects.filter(data__has_key="flag")) == ["c", "d"]
    assert await names(Doc.objects.filter(data__meta__has_key="pages")) == ["a", "b"]
    assert await names(Doc.objects.filter(data__has_keys=["tags", "meta"])) == ["a", "b", "c"]
    assert await names(Doc.objects.filter(data__has_any_keys=["list", "tags"])) == ["a", "b", "c", "d"]
    # Negations keep rows without a document (SQL NULL), as Django's do.
    assert await names(Doc.objects.exclude(data__has_key="tags")) == ["d", "e"]


async def test_contains_and_contained_by(docs: None) -> None:
    assert await names(Doc.objects.filter(data__contains={"kind": "book"})) == ["a", "b"]
    assert await names(Doc.objects.filter(data__contains={"meta": {"lang": "en"}})) == ["a", "c"]
    assert await names(Doc.objects.filter(data__contains={"tags": ["y"]})) == ["a", "b"]
    assert await names(Doc.objects.filter(data__contains={"tags": []})) == ["a", "b", "c"]
    assert await names(Doc.objects.filter(data__tags__contains=["x", "y"])) == ["a"]
    assert await names(Doc.objects.filter(data__tags__contains="y")) == ["a", "b"]  # array has item
    assert await names(Doc.objects.filter(data__meta__contains={"pages": 120})) == ["b"]
    assert await names(Doc.objects.filter(data__kind__contains="film")) == ["c", "d"]
    # true is not 1, 1 is 1.0
    assert await names(Doc.objects.filter(data__contains={"flag": True})) == ["c"]
    assert await names(Doc.objects.filter(data__contains={"flag": 1.0})) == ["d"]
    assert await names(Doc.objects.filter(data__contains={})) == ["a", "b", "c", "d"]
    assert await names(Doc.objects.filter(data__meta__contained_by={"lang": "en", "pages": 300, "x": 1})) == [
        "a", "c",
    ]
    assert await names(Doc.objects.filter(data__tags__contained_by=["x", "y", "z"])) == ["a", "b", "c"]
    assert await names(Doc.objects.exclude(data__contains={"kind": "book"})) == ["c", "d", "e"]


async def test_contains_values_are_bound(docs: None, caplog: Any) -> None:
    hostile = {"kind": "') OR 1=1 --"}
    with captured(caplog) as statements:
        assert await names(Doc.objects.filter(data__contains=hostile)) == []
    assert "OR 1=1" not in statements[0]


@pytest.mark.parametrize(("target", "candidate", "expected"), [
    ({"a": [1, 2]}, {"a": 1}, False),  # the array exception holds only at the top
    ([1, [2, 3]], [2], False),
    ([1, [2, 3]], [[2]], True),
    ([1, 2], 1, True),
    (1, [1], False),
    (1, 1.0, True),
    (True, 1, False),
    ([[1, 2]], [1], False),
    ({"a": {"b": 1, "c": 2}}, {"a": {}}, True),
    ([{"a": 1, "b": 2}], [{"a": 1}], True),
    (None, None, True),
    ([None], None, True),
    ({"a": 1}, 1, False),
])
def test_sqlite_containment_follows_postgresql(target: Any, candidate: Any, expected: bool) -> None:
    """The cases checked against PostgreSQL 15's ``jsonb @>``."""
    assert jsonb_contains(target, candidate) is expected


async def test_array_documents_and_indexes(docs: None) -> None:
    await Doc.objects.create(name="arr", data=[10, {"k": "v"}, ["x"]])
    assert await names(Doc.objects.filter(data__0=10)) == ["arr"]
    assert await names(Doc.objects.filter(data__1__k="v")) == ["arr"]
    assert await names(Doc.objects.filter(data__2__0="x")) == ["arr"]
    assert await names(Doc.objects.filter(data__contains=[10])) == ["arr"]
    assert await names(Doc.objects.filter(data__contains=10)) == ["arr"]  # top-level array item
    assert await names(Doc.objects.filter(data__1__has_key="k")) == ["arr"]
    row = await Doc.objects.filter(name="arr").values("data__0", "data__1__k", "data__2")
    assert row == [{"data__0": 10, "data__1__k": "v", "data__2": ["x"]}]
