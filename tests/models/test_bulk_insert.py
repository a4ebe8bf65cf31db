"""``bulk_create`` statements: arrays on PostgreSQL, ids without RETURNING on SQLite.

Every backend stores the same values and fills the same primary keys whichever
form the INSERT takes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import DataError

from .._sql import captured

UTC = dt.UTC


class Wide(models.Model):
    name = models.CharField(max_length=30, unique=True)
    flag = models.BooleanField(null=True)
    n = models.SmallIntegerField(null=True)
    real = models.FloatField(null=True)
    money = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    day = models.DateField(null=True)
    at = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    span = models.DurationField(null=True)
    uid = models.UUIDField(null=True)
    doc = models.JSONField(null=True)
    blob = models.BinaryField(null=True)

    class Meta:
        app_label = "tests_bulk_insert"


@pytest.fixture
async def table(make_tables: Any) -> None:
    await make_tables(Wide)


def _row(i: int) -> dict[str, Any]:
    if i % 7 == 0:
        return {"name": f"n{i}"}  # every other column NULL
    return {
        "name": f"n{i}", "flag": i % 2 == 0, "n": i % 30000 - 15000, "real": i / 3,
        "money": Decimal(i) / 8, "day": dt.date(2000, 1, 1) + dt.timedelta(days=i),
        "at": dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=i, microseconds=i),
        "clock": dt.time(i % 24, i % 60, i % 60, i), "span": dt.timedelta(microseconds=i * 997),
        "uid": uuid.UUID(int=i), "doc": {"i": i, "tags": ["a", None], "s": "é"},
        "blob": bytes([i % 256]) * 3,
    }


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    full = {f.name: None for f in Wide._meta.fields if f.name != "id"}
    full.update(row)
    if full["money"] is not None:  # rounded to 2 places, half to even
        full["money"] = full["money"].quantize(Decimal("0.01"))
    return full


async def test_many_rows_of_every_type_round_trip(table: None, backend: Database) -> None:
    rows = [_row(i) for i in range(1, 2501)]
    objs = await Wide.objects.bulk_create([Wide(**row) for row in rows])
    assert len({o.pk for o in objs}) == len(rows) and None not in {o.pk for o in objs}
    names = [f.name for f in Wide._meta.fields]
    stored = {r["id"]: r for r in await Wide.objects.values(*names)}
    for obj, row in zip(objs, rows, strict=True):
        got = dict(stored[obj.pk])
        assert got.pop("id") == obj.pk
        assert got == _stored(row), row["name"]


async def test_statement_form(
    table: None, backend: Database, caplog: pytest.LogCaptureFixture
) -> None:
    objs = [Wide(name=f"x{i}", n=i) for i in range(50)]
    with captured(caplog) as sql:
        await Wide.objects.bulk_create(objs)
    inserts = [s for s in sql if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    if backend.features.supports_bulk_insert_from_arrays:
        assert "unnest" in inserts[0].lower() and inserts[0].count("$") == 12
    if backend.features.bulk_insert_ids_are_consecutive:
        assert "RETURNING" not in inserts[0].upper()
    by_name = dict(await Wide.objects.values_list("name", "pk"))
    assert all(by_name[o.name] == o.pk for o in objs)


async def test_ids_after_gaps_and_in_batches(table: None) -> None:
    first = await Wide.objects.bulk_create([Wide(name=f"a{i}") for i in range(10)])
    await Wide.objects.filter(pk__in=[o.pk for o in first[5:]]).delete()
    objs = await Wide.objects.bulk_create([Wide(name=f"b{i}") for i in range(25)], batch_size=7)
    by_name = dict(await Wide.objects.values_list("name", "pk"))
    assert [by_name[o.name] for o in objs] == [o.pk for o in objs]
    # Explicit keys and database keys in one call: two groups, both right.
    mixed = [Wide(name="c0"), Wide(id=10_000, name="c1"), Wide(name="c2")]
    await Wide.objects.bulk_create(mixed)
    by_name = dict(await Wide.objects.values_list("name", "pk"))
    assert [by_name[o.name] for o in mixed] == [o.pk for o in mixed] and mixed[1].pk == 10_000


async def test_conflicts_with_the_array_form(table: None, backend_name: str) -> None:
    await Wide.objects.bulk_create([Wide(name="dup", n=1), Wide(name="other", n=2)])
    await Wide.objects.bulk_create(
        [Wide(name="dup", n=9), Wide(name="new", n=3)], ignore_conflicts=True
    )
    assert dict(await Wide.objects.values_list("name", "n")) == {"dup": 1, "other": 2, "new": 3}
    unique = None if backend_name == "mysql" else ["name"]
    await Wide.objects.bulk_create(
        [Wide(name="dup", n=7), Wide(name="newer", n=4)],
        update_conflicts=True, update_fields=["n"], unique_fields=unique,
    )
    assert dict(await Wide.objects.values_list("name", "n")) == {
        "dup": 7, "other": 2, "new": 3, "newer": 4,
    }


async def test_a_bad_value_refuses_the_whole_call(table: None) -> None:
    objs = [Wide(name=f"ok{i}") for i in range(20)] + [Wide(name="y" * 31)]
    with pytest.raises(DataError, match=r"Wide\.name: value is 31 characters"):
        await Wide.objects.bulk_create(objs)
    assert await Wide.objects.count() == 0
