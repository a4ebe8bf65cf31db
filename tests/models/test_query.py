"""QuerySet reading on every backend: laziness, slicing, single objects, values, errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import (
    FieldError,
    MultipleObjectsReturned,
    NotSupportedError,
    ObjectDoesNotExist,
    TransactionManagementError,
)
from reinhardt_db.models import F, Q

from .._sql import captured

UTC = dt.UTC


class Member(models.Model):
    name = models.CharField(max_length=50, unique=True)
    age = models.IntegerField(null=True)
    role = models.CharField(max_length=10, default="member")
    joined = models.DateTimeField(null=True)

    class Meta:
        app_label = "tests_query"
        ordering = ["name"]
        get_latest_by = "joined"


class Plain(models.Model):
    label = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_query"


@pytest.fixture
async def members(make_tables: Any) -> list[Member]:
    await make_tables(Member, Plain)
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        Member(name="ann", age=30, role="admin", joined=base),
        Member(name="bob", age=25, joined=base + dt.timedelta(days=1)),
        Member(name="cid", age=None, joined=base + dt.timedelta(days=2)),
        Member(name="dee", age=41, role="admin", joined=base + dt.timedelta(days=3)),
        Member(name="eve", age=25, joined=None),
    ]
    return await Member.objects.bulk_create(rows)


def names(objs: list[Member]) -> list[str]:
    return [m.name for m in objs]


async def test_awaiting_returns_instances_in_meta_ordering(members: list[Member]) -> None:
    result = await Member.objects.all()
    assert names(result) == ["ann", "bob", "cid", "dee", "eve"]
    assert all(isinstance(m, Member) for m in result)
    assert result[0].pk == members[0].pk and result[0].role == "admin"
    assert result[0]._state.adding is False and result[0]._state.db == "default"
    assert result[0].joined == dt.datetime(2024, 1, 1, tzinfo=UTC)


async def test_chaining_is_lazy_and_clones(members: list[Member], caplog: Any) -> None:
    with captured(caplog) as sql:
        base = Member.objects.filter(age__gte=25)
        narrowed = base.exclude(role="admin").order_by("-name")
    assert sql == []
    assert narrowed is not base
    assert names(await base) == ["ann", "bob", "dee", "eve"]
    assert names(await narrowed) == ["eve", "bob"]


async def test_result_cache_and_all_is_fresh(members: list[Member], caplog: Any) -> None:
    qs = Member.objects.filter(role="admin")
    with captured(caplog) as sql:
        first = await qs
        again = await qs
        listed = [m async for m in qs]
    assert len(sql) == 1
    assert first is again and names(listed) == ["ann", "dee"]
    assert await qs.count() == 2 and len(qs) == 2 and bool(qs)
    await Member.objects.filter(name="ann").update(role="member")
    assert names(await qs) == ["ann", "dee"]  # still cached
    assert names(await qs.all()) == ["dee"]


async def test_unevaluated_queryset_has_no_truth_value(members: list[Member]) -> None:
    with pytest.raises(TypeError, match="exists"):
        bool(Member.objects.all())
    with pytest.raises(TypeError, match="count"):
        len(Member.objects.all())


async def test_slicing_limit_offset_and_index(members: list[Member]) -> None:
    qs = Member.objects.order_by("name")
    assert names(await qs[1:3]) == ["bob", "cid"]
    assert names(await qs[3:]) == ["dee", "eve"]
    assert names(await qs[:2]) == ["ann", "bob"]
    assert names(await qs[1:4][1:2]) == ["cid"]
    assert (await qs[2]).name == "cid"
    with pytest.raises(IndexError):
        await qs[10]
    assert await qs[5:5] == []
    for bad in (lambda: qs[-1], lambda: qs[-2:], lambda: qs[:-1]):
        with pytest.raises(ValueError, match="Negative"):
            bad()
    with pytest.raises(ValueError, match="step"):
        qs[::2]
    with pytest.raises(TypeError, match="slice has been taken"):
        qs[:2].filter(age=1)


async def test_indexing_an_evaluated_queryset_does_not_query(
    members: list[Member], caplog: Any
) -> None:
    qs = Member.objects.all()
    await qs
    with captured(caplog) as sql:
        assert (await qs[1]).name == "bob"
    assert sql == []


async def test_get_and_its_errors(members: list[Member]) -> None:
    assert (await Member.objects.get(name="bob")).age == 25
    assert (await Member.objects.get(pk=members[2].pk)).name == "cid"
    with pytest.raises(Member.DoesNotExist, match="Member matching query does not exist"):
        await Member.objects.get(name="zed")
    with pytest.raises(Member.MultipleObjectsReturned, match="more than one Member -- it returned 2"):
        await Member.objects.get(age=25)
    assert issubclass(Member.DoesNotExist, ObjectDoesNotExist)
    assert issubclass(Member.MultipleObjectsReturned, MultipleObjectsReturned)


async def test_first_last_earliest_latest(members: list[Member]) -> None:
    assert (await Member.objects.first()).name == "ann"  # type: ignore[union-attr]
    assert (await Member.objects.last()).name == "eve"  # type: ignore[union-attr]
    assert (await Plain.objects.first()) is None
    assert (await Member.objects.exclude(age=None).order_by("-age", "name").first()).name == "dee"  # type: ignore[union-attr]
    assert (await Member.objects.filter(age__isnull=False).order_by("age", "name").last()).name == "dee"  # type: ignore[union-attr]
    assert (await Member.objects.filter(joined__isnull=False).latest()).name == "dee"
    assert (await Member.objects.filter(joined__isnull=False).earliest()).name == "ann"
    assert (await Member.objects.filter(age__isnull=False).earliest("age", "-name")).name == "eve"
    with pytest.raises(Member.DoesNotExist):
        await Member.objects.filter(name="zed").latest()
    with pytest.raises(ValueError, match="get_latest_by"):
        await Plain.objects.latest()


async def test_count_exists_contains(members: list[Member]) -> None:
    assert await Member.objects.count() == 5
    assert await Member.objects.filter(age=25).count() == 2
    assert await Member.objects.all()[1:3].count() == 2
    assert await Member.objects.values("age").distinct().count() == 4
    assert await Member.objects.filter(role="admin").exists()
    assert not await Member.objects.filter(role="nobody").exists()
    assert await Member.objects.filter(age=25).contains(members[1])
    assert not await Member.objects.filter(age=25).contains(members[0])
    with pytest.raises(ValueError, match="unsaved"):
        await Member.objects.contains(Member(name="new"))


async def test_none_never_queries(members: list[Member], caplog: Any) -> None:
    with captured(caplog) as sql:
        empty = Member.objects.none()
        assert await empty == []
        assert await empty.filter(age=1).count() == 0
        assert not await empty.exists()
        assert await empty.update(age=3) == 0
        assert await empty.delete() == (0, {})
    assert sql == []


async def test_in_bulk(members: list[Member]) -> None:
    found = await Member.objects.in_bulk([members[0].pk, members[3].pk, 999999])
    assert {k: v.name for k, v in found.items()} == {members[0].pk: "ann", members[3].pk: "dee"}
    by_name = await Member.objects.in_bulk(["bob", "eve"], field_name="name")
    assert sorted(by_name) == ["bob", "eve"]
    assert len(await Member.objects.in_bulk()) == 5
    assert await Member.objects.in_bulk([]) == {}
    with pytest.raises(ValueError, match="unique"):
        await Member.objects.in_bulk([1], field_name="age")


async def test_values_and_values_list(members: list[Member]) -> None:
    assert await Member.objects.filter(age=25).values("name", "age") == [
        {"name": "bob", "age": 25}, {"name": "eve", "age": 25},
    ]
    row = (await Member.objects.filter(name="ann").values())[0]
    assert set(row) == {"id", "name", "age", "role", "joined"}
    assert row["joined"] == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert await Member.objects.filter(role="admin").values_list("name", "age") == [
        ("ann", 30), ("dee", 41),
    ]
    assert await Member.objects.values_list("name", flat=True)[:2] == ["ann", "bob"]
    named = await Member.objects.filter(name="bob").values_list("name", "age", named=True)
    assert named[0].name == "bob" and named[0].age == 25
    years = Member.objects.filter(joined__isnull=False).values("joined__year").distinct()
    assert await years == [{"joined__year": 2024}]
    with pytest.raises(TypeError):
        Member.objects.values_list("name", "age", flat=True)
    with pytest.raises(TypeError):
        Member.objects.values_list("name", flat=True, named=True)


async def test_values_never_builds_instances(members: list[Member], monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("values() built an instance")

    monkeypatch.setattr(Member, "__init__", refuse)
    monkeypatch.setattr(Member, "from_db", refuse)
    assert len(await Member.objects.values("name")) == 5
    assert len(await Member.objects.values_list("name")) == 5


async def test_distinct(members: list[Member]) -> None:
    ages = await Member.objects.filter(age__isnull=False).values_list("age", flat=True).distinct().order_by("age")
    assert ages == [25, 30, 41]


@pytest.mark.backends("postgresql")
async def test_distinct_on_fields_postgresql(members: list[Member]) -> None:
    rows = await Member.objects.order_by("role", "name").distinct("role").values_list("name", flat=True)
    assert rows == ["ann", "bob"]


@pytest.mark.backends("postgresql")
async def test_distinct_on_with_values_counts_and_sql(members: list[Member], caplog: Any) -> None:
    youngest = Member.objects.filter(age__isnull=False).order_by("role", "age", "name").distinct("role")
    with captured(caplog) as statements:
        assert await youngest.values("role", "name") == [
            {"role": "admin", "name": "ann"}, {"role": "member", "name": "bob"},
        ]
    assert "DISTINCT ON" in statements[0]
    assert await youngest.count() == 2
    assert await Member.objects.order_by("age").distinct("age").values_list("age", flat=True) == [
        25, 30, 41, None,
    ]


@pytest.mark.backends("sqlite", "mysql")
async def test_distinct_on_fields_elsewhere_is_not_supported(
    members: list[Member], backend: Any
) -> None:
    with pytest.raises(NotSupportedError, match=f"not supported on {backend.ops.display_name}.*PostgreSQL"):
        await Member.objects.distinct("role")
    with pytest.raises(NotSupportedError):
        await Member.objects.distinct("role").count()


@pytest.mark.backends("postgresql")
async def test_distinct_on_is_decided_by_the_features(
    members: list[Member], backend: Any, monkeypatch: Any
) -> None:
    import dataclasses

    await backend.server_version()
    monkeypatch.setattr(
        backend, "features", dataclasses.replace(backend.features, supports_distinct_on=False)
    )
    with pytest.raises(NotSupportedError, match="DISTINCT ON"):
        await Member.objects.order_by("role").distinct("role")
    assert len(await Member.objects.distinct()) == 5


async def test_only_and_defer(members: list[Member]) -> None:
    only = (await Member.objects.only("name").filter(name="ann"))[0]
    assert only.name == "ann" and only.pk == members[0].pk
    assert only.get_deferred_fields() == {"age", "role", "joined"}
    with pytest.raises(FieldError, match="deferred"):
        _ = only.age
    deferred = (await Member.objects.defer("joined", "role").filter(name="ann"))[0]
    assert deferred.get_deferred_fields() == {"joined", "role"}
    assert (await Member.objects.defer("joined").defer(None).get(name="ann")).get_deferred_fields() == set()
    await only.refresh_from_db(fields=["age"])
    assert only.age == 30
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        Member.objects.only("nam")


async def test_order_by_reverse_and_meta_ordering(members: list[Member]) -> None:
    assert names(await Member.objects.order_by("-name")) == ["eve", "dee", "cid", "bob", "ann"]
    assert names(await Member.objects.reverse()) == ["eve", "dee", "cid", "bob", "ann"]
    assert names(await Member.objects.order_by("role", "-age", "name").filter(age__isnull=False)) == [
        "dee", "ann", "bob", "eve",
    ]
    assert names(await Member.objects.order_by(F("age").desc(nulls_last=True), "name")) == [
        "dee", "ann", "bob", "eve", "cid",
    ]
    assert names(await Member.objects.order_by(F("age").asc(nulls_first=True), "name")) == [
        "cid", "bob", "eve", "ann", "dee",
    ]
    assert names(await Member.objects.order_by(F("age").asc(nulls_first=True), "name").reverse()) == [
        "dee", "ann", "eve", "bob", "cid",
    ]
    unordered = await Member.objects.order_by().values_list("name", flat=True)
    assert sorted(unordered) == ["ann", "bob", "cid", "dee", "eve"]
    assert len(await Member.objects.order_by("?")) == 5
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        Member.objects.order_by("-nmae")


async def test_iterator_streams_in_chunks(
    members: list[Member], backend: Any, monkeypatch: Any
) -> None:
    chunks: list[int] = []
    original = backend.stream_rows

    async def counting(sql: str, params: Any = (), chunk_size: int = 2000) -> Any:
        async for chunk in original(sql, params, chunk_size=chunk_size):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(backend, "stream_rows", counting)
    seen = [m.name async for m in Member.objects.all().iterator(chunk_size=2)]
    assert chunks == [2, 2, 1]
    assert seen == ["ann", "bob", "cid", "dee", "eve"]
    values = [v async for v in Member.objects.values_list("age", flat=True).iterator(chunk_size=3)]
    assert sorted(values, key=lambda v: (v is None, v)) == [25, 25, 30, 41, None]
    with pytest.raises(ValueError):
        Member.objects.iterator(chunk_size=0)


async def test_explain_returns_plan_text(members: list[Member], backend_name: str) -> None:
    plan = await Member.objects.filter(age__gt=3).explain()
    assert isinstance(plan, str) and plan
    if backend_name == "sqlite":
        with pytest.raises(NotSupportedError):
            await Member.objects.explain(analyze=True)
    else:
        assert await Member.objects.filter(age__gt=3).explain(analyze=True)


async def test_explain_formats(members: list[Member], backend: Any, backend_name: str) -> None:
    qs = Member.objects.filter(age__gt=3)
    if backend_name == "sqlite":
        with pytest.raises(NotSupportedError, match="explain\\(format='json'\\) is not supported on SQLite"):
            await qs.explain(format="json")
        return
    plan = await qs.explain(format="json")
    assert json.loads(plan)  # the server's JSON plan, as text
    if backend_name == "postgresql":
        assert "Seq Scan" in await qs.explain(format="yaml")
        analyzed = json.loads(await qs.explain(analyze=True, format="JSON"))
        assert "Actual Rows" in json.dumps(analyzed)
    elif backend.features.is_mariadb:
        assert "r_loops" in await qs.explain(analyze=True, format="json")  # MariaDB's ANALYZE
    with pytest.raises(NotSupportedError, match="formats there: "):
        await qs.explain(format="graphviz")


async def test_using_unknown_alias_fails_clearly(members: list[Member]) -> None:
    from reinhardt_db.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="replica"):
        await Member.objects.using("replica").count()
    assert await Member.objects.using("default").count() == 5


async def test_select_for_update_needs_a_transaction(members: list[Member], backend: Any) -> None:
    with pytest.raises(TransactionManagementError, match="transaction"):
        await Member.objects.select_for_update().filter(name="ann")
    async with backend.transaction():
        locked = await Member.objects.select_for_update().filter(name="ann")
        assert names(locked) == ["ann"]
        assert names(await Member.objects.select_for_update(skip_locked=True).filter(name="bob")) == ["bob"]


async def test_unknown_fields_and_lookups_raise_with_a_hint(members: list[Member]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        Member.objects.filter(nmae="x")
    with pytest.raises(FieldError, match="Did you mean 'startswith'"):
        Member.objects.filter(name__startwith="x")
    with pytest.raises(FieldError, match="Did you mean 'age'"):
        Member.objects.exclude(Q(agee=1))
    with pytest.raises(FieldError, match="Did you mean 'role'"):
        Member.objects.values("rol")
    with pytest.raises(FieldError, match="Did you mean 'age'"):
        await Member.objects.update(ag=3)
    with pytest.raises(FieldError, match="Did you mean 'joined'"):
        Member.objects.order_by("joind")


HOSTILE = [
    "x'; DROP TABLE tests_query_member; --",
    "\" OR 1=1 --",
    "`; DELETE FROM tests_query_member; #",
    "%s %% ? $1 \\",
    "name) OR (1=1",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_values_are_bound_parameters(members: list[Member], value: str) -> None:
    assert await Member.objects.filter(name=value).count() == 0
    assert await Member.objects.filter(name__contains=value).count() == 0
    assert await Member.objects.filter(name__in=[value, "ann"]).count() == 1
    created = await Member.objects.create(name=value[:50], age=1)
    assert (await Member.objects.get(pk=created.pk)).name == value[:50]
    assert await Member.objects.filter(name__startswith=value[:50]).count() == 1
    assert await Member.objects.filter(pk=created.pk).update(role=value[:10]) == 1
    assert await Member.objects.count() == 6


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_names_never_reach_sql(members: list[Member], name: str) -> None:
    with pytest.raises((FieldError, ValueError, TypeError)):
        await Member.objects.filter(**{name: 1})
    with pytest.raises((FieldError, ValueError, TypeError)):
        await Member.objects.order_by(name)
    with pytest.raises((FieldError, ValueError, TypeError)):
        await Member.objects.values(name)
    with pytest.raises((FieldError, ValueError, TypeError)):
        await Member.objects.annotate(**{name: F("age")})
    with pytest.raises((FieldError, ValueError, TypeError)):
        await Member.objects.update(**{name: 1})
    assert await Member.objects.count() == 5
