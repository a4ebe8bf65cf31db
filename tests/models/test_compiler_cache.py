"""The compiled-statement cache: one compile per query shape, values always bound."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.dialects.mysql.aiomysql import dialect as mysql_dialect
from sqlalchemy.dialects.postgresql.asyncpg import dialect as pg_dialect
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as sqlite_dialect
from sqlalchemy.sql.elements import ClauseElement

from reinhardt_db import models
from reinhardt_db.backends import DatabaseFeatures, DatabaseOperations
from reinhardt_db.backends.vendors import features_for, operations_for
from reinhardt_db.models import F
from reinhardt_db.models.sql import compiler
from reinhardt_db.models.sql.cache import CompiledStatement, StatementCache, statement_cache

UTC = dt.UTC


class Event(models.Model):
    name = models.CharField(max_length=40)
    rank = models.IntegerField(null=True)
    at = models.DateTimeField(null=True)

    class Meta:
        app_label = "tests_compiler_cache"
        ordering = ["id"]


@dataclass
class FakeDatabase:
    """Just what the compiler reads from a Database: dialect, ops and features."""

    vendor: str
    dialect: Any
    alias: str = "default"

    @property
    def ops(self) -> DatabaseOperations:
        return operations_for(self.vendor)

    @property
    def features(self) -> DatabaseFeatures:
        return features_for(self.vendor)


DIALECTS = {
    "sqlite": FakeDatabase("sqlite", sqlite_dialect(paramstyle="qmark")),
    "postgresql": FakeDatabase("postgresql", pg_dialect(paramstyle="numeric_dollar")),
    "mysql": FakeDatabase("mysql", mysql_dialect(paramstyle="format")),
}


@pytest.fixture
def compile_count(monkeypatch: Any) -> list[int]:
    calls = [0]
    original = ClauseElement.compile

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ClauseElement, "compile", counting)
    return calls


def sql_of(qs: Any, vendor: str) -> CompiledStatement:
    return compiler.compile_select(qs.query, DIALECTS[vendor], qs._mode)


@pytest.mark.parametrize("vendor", sorted(DIALECTS))
def test_same_shape_compiles_once(vendor: str, compile_count: list[int]) -> None:
    statement_cache.clear()
    first = sql_of(Event.objects.filter(rank__gte=1, name__startswith="a")[20:40], vendor)
    assert compile_count[0] == 1
    second = sql_of(Event.objects.filter(rank__gte=7, name__startswith="zz")[40:60], vendor)
    assert compile_count[0] == 1 and second is first
    assert statement_cache.hits == 1 and statement_cache.misses == 1
    # The first page has no OFFSET (a bound OFFSET costs PostgreSQL planning time).
    assert sql_of(Event.objects.filter(rank__gte=3, name__startswith="b")[:20], vendor) is not first
    if vendor == "postgresql":
        assert "OFFSET" not in sql_of(Event.objects.filter(rank__gte=3)[:20], vendor).sql.upper()


def test_params_follow_the_values_and_the_backend() -> None:
    moment = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    qs = Event.objects.filter(at__gte=moment, name__contains="50%")[5:15]
    params = {v: sql_of(qs, v).params(qs.query.params()) for v in DIALECTS}
    assert params["sqlite"] == ["2024-03-04 05:06:07.000000", "*50%*", 10, 5]
    assert params["postgresql"] == [moment, "%50\\%%", 10, 5]
    # MySQL's LIMIT comes as "LIMIT offset, count"
    assert params["mysql"] == [moment, "%50\\%%", 5, 10]


def test_in_lists_of_similar_length_share_a_statement(compile_count: list[int]) -> None:
    statement_cache.clear()
    for size in (5, 6, 7, 8):
        qs = Event.objects.filter(pk__in=list(range(size)))
        entry = sql_of(qs, "postgresql")
        assert len(entry.params(qs.query.params())) == 8
    assert compile_count[0] == 1
    sql_of(Event.objects.filter(pk__in=list(range(9))), "postgresql")
    assert compile_count[0] == 2


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"])
def test_long_in_lists_bind_each_value_adapted(vendor: str) -> None:
    """A list's placeholders are read as one slice; every value is adapted as one would be."""
    ranks: list[Any] = list(range(300))
    qs = Event.objects.filter(name="a", rank__in=ranks, at__lt=dt.datetime(2024, 1, 1, tzinfo=UTC))
    plain = sql_of(qs, vendor).params(qs.query.params())
    assert plain[0] == "a" and plain[1:301] == ranks and len(plain) == 1 + 512 + 1
    ranks[7] = "7"  # to_python turns it into 7, as for a single value
    qs = Event.objects.filter(name="a", rank__in=ranks, at__lt=dt.datetime(2024, 1, 1, tzinfo=UTC))
    mixed = sql_of(qs, vendor).params(qs.query.params())
    assert mixed == plain and type(mixed[8]) is int
    moments = [dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(hours=i) for i in range(20)]
    qs = Event.objects.filter(at__in=moments)
    single = Event._meta.get_field("at").get_db_prep_value(moments[3], DIALECTS[vendor].ops)
    assert sql_of(qs, vendor).params(qs.query.params())[3] == single


def test_saves_and_updates_compile_once(compile_count: list[int]) -> None:
    from reinhardt_db.models.sql import dml

    statement_cache.clear()
    fields = tuple(Event._meta.concrete_fields[1:])
    for _ in range(3):
        dml.compile_insert(Event, DIALECTS["postgresql"], fields, (Event._meta.pk,))
        dml.compile_update_pk(Event, DIALECTS["postgresql"], fields)
    assert compile_count[0] == 2


def test_vendor_sql() -> None:
    qs = Event.objects.filter(name__contains="x").order_by(F("rank").desc(nulls_last=True))
    assert "GLOB" in sql_of(qs, "sqlite").sql
    assert "LIKE BINARY" in sql_of(qs, "mysql").sql
    assert " LIKE " in sql_of(qs, "postgresql").sql
    assert "NULLS LAST" in sql_of(qs, "postgresql").sql
    mysql_sql = sql_of(qs, "mysql").sql
    assert "NULLS" not in mysql_sql and "IS NULL" in mysql_sql
    assert "ILIKE" in sql_of(Event.objects.filter(name__icontains="x"), "postgresql").sql


def test_no_value_is_ever_inlined() -> None:
    secret = "s3cr3t'; DROP TABLE x; --"
    qs = Event.objects.filter(name=secret).exclude(name__icontains=secret).filter(
        name__in=[secret, "b"]
    )
    for vendor in DIALECTS:
        assert "s3cr3t" not in sql_of(qs, vendor).sql


def test_statement_cache_is_a_bounded_lru() -> None:
    cache = StatementCache(maxsize=2)
    a, b, c = (CompiledStatement(s, ()) for s in "abc")
    cache.put(1, a)
    cache.put(2, b)
    assert cache.get(1) is a  # 1 is now the most recent
    cache.put(3, c)
    assert cache.get(2) is None and cache.get(1) is a and cache.get(3) is c
    assert len(cache) == 2 and cache.hits == 3 and cache.misses == 1


async def test_second_run_on_a_real_database_does_not_compile(
    make_tables: Any, compile_count: list[int]
) -> None:
    await make_tables(Event)
    await Event.objects.bulk_create([Event(name=f"e{i}", rank=i) for i in range(30)])
    statement_cache.clear()
    before = compile_count[0]
    assert len(await Event.objects.filter(rank__gte=3)[0:20]) == 20
    compiled = compile_count[0] - before
    assert compiled == 1
    assert [e.rank for e in await Event.objects.filter(rank__gte=25)[0:20]] == [25, 26, 27, 28, 29]
    assert [e.rank for e in await Event.objects.filter(rank__gte=3)[20:40]] == list(range(23, 30))
    assert [e.rank for e in await Event.objects.filter(rank__gte=5)[20:40]] == list(range(25, 30))
    obj = await Event.objects.get(rank=4)
    obj.name = "x"
    await obj.save()
    after_first_save = compile_count[0]
    obj.name = "y"
    await obj.save()
    assert (await Event.objects.get(rank=5)).name == "e5"
    assert compile_count[0] == after_first_save


@pytest.mark.parametrize("vendor", sorted(DIALECTS))
def test_q_to_clause_binds_values_inline_for_ddl(vendor: str) -> None:
    from reinhardt_db.models import Q
    from reinhardt_db.models.sql.where import q_to_clause

    clause = q_to_clause(Event, Q(rank__gte=0) & ~Q(name="it's") & Q(rank__in=[1, 2, 3]), vendor)
    sql = str(clause.compile(dialect=DIALECTS[vendor].dialect, compile_kwargs={"literal_binds": True}))
    assert ">= 0" in sql and "'it''s'" in sql and "IN (1, 2, 3)" in sql
