"""QuerySet writes on every backend: create, get_or_create, bulk ops, update, delete."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import IntegrityError, NotSupportedError
from reinhardt_db.models import F, Q
from reinhardt_db.models.signals import post_delete, pre_delete

from .._sql import captured


class Account(models.Model):
    email = models.CharField(max_length=80, unique=True)
    balance = models.IntegerField(default=0)
    note = models.CharField(max_length=40, default="")

    class Meta:
        app_label = "tests_query_write"


@pytest.fixture
async def table(make_tables: Any) -> None:
    await make_tables(Account)


async def test_create_inserts_and_fills_the_pk(table: None) -> None:
    acc = await Account.objects.create(email="a@x", balance=5)
    assert acc.pk is not None and acc._state.adding is False
    assert (await Account.objects.get(pk=acc.pk)).balance == 5
    with pytest.raises(IntegrityError):
        await Account.objects.create(email="a@x")


async def test_get_or_create(table: None) -> None:
    acc, created = await Account.objects.get_or_create(email="a@x", defaults={"balance": 3})
    assert created and acc.balance == 3
    again, created = await Account.objects.get_or_create(email="a@x", defaults={"balance": 9})
    assert not created and again.pk == acc.pk and again.balance == 3
    lazy, created = await Account.objects.get_or_create(email="b@x", defaults={"balance": lambda: 7})
    assert created and lazy.balance == 7
    with pytest.raises(Exception, match="Did you mean 'balance'"):
        await Account.objects.get_or_create(email="c@x", defaults={"balanse": 1})


async def test_get_or_create_recovers_from_a_concurrent_insert(
    table: None, monkeypatch: Any
) -> None:
    existing = await Account.objects.create(email="race@x", balance=1)
    original_get = models.QuerySet.get
    calls = 0

    async def racing_get(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # the other writer inserted just after our first look
            raise Account.DoesNotExist("not yet")
        return await original_get(self, *args, **kwargs)

    monkeypatch.setattr(models.QuerySet, "get", racing_get)
    obj, created = await Account.objects.get_or_create(email="race@x", defaults={"balance": 2})
    assert not created and obj.pk == existing.pk and obj.balance == 1
    assert calls == 2


async def test_get_or_create_concurrent_tasks_create_one_row(table: None) -> None:
    results = await asyncio.gather(
        *[Account.objects.get_or_create(email="same@x", defaults={"balance": i}) for i in range(6)]
    )
    assert sum(created for _, created in results) == 1
    assert len({obj.pk for obj, _ in results}) == 1
    assert await Account.objects.count() == 1


async def test_get_or_create_inside_a_transaction_keeps_it_usable(
    table: None, backend: Any, monkeypatch: Any
) -> None:
    await Account.objects.create(email="tx@x")
    original_get = models.QuerySet.get
    calls = 0

    async def racing_get(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Account.DoesNotExist("not yet")
        return await original_get(self, *args, **kwargs)

    monkeypatch.setattr(models.QuerySet, "get", racing_get)
    async with backend.transaction():
        _, created = await Account.objects.get_or_create(email="tx@x")
        assert not created
        await Account.objects.create(email="after@x")  # the transaction still works
    assert await Account.objects.count() == 2


async def test_update_or_create(table: None) -> None:
    acc, created = await Account.objects.update_or_create(email="u@x", defaults={"balance": 4})
    assert created and acc.balance == 4
    acc2, created = await Account.objects.update_or_create(
        email="u@x", defaults={"balance": 8}, create_defaults={"balance": 100}
    )
    assert not created and acc2.pk == acc.pk and acc2.balance == 8
    assert (await Account.objects.get(email="u@x")).balance == 8
    acc3, created = await Account.objects.update_or_create(
        email="v@x", defaults={"balance": 8}, create_defaults={"balance": 100}
    )
    assert created and acc3.balance == 100


async def test_bulk_create_fills_pks_and_batches(table: None, caplog: Any) -> None:
    objs = [Account(email=f"{i}@x", balance=i) for i in range(5)]
    with captured(caplog) as sql:
        result = await Account.objects.bulk_create(objs, batch_size=2)
    inserts = [s for s in sql if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 3
    assert result is not objs and result == objs
    assert all(o.pk is not None and o._state.adding is False for o in objs)
    stored = {a.email: a.pk for a in await Account.objects.all()}
    assert {o.email: o.pk for o in objs} == stored
    assert await Account.objects.bulk_create([]) == []


async def test_bulk_create_respects_max_query_params(
    table: None, backend: Any, caplog: Any
) -> None:
    backend.features = dataclasses.replace(backend.features, max_query_params=7)
    objs = [Account(email=f"{i}@x", balance=i) for i in range(10)]
    with captured(caplog) as sql:
        await Account.objects.bulk_create(objs)
    inserts = [s for s in sql if s.lstrip().upper().startswith("INSERT")]
    if backend.features.supports_bulk_insert_from_arrays:
        # One array parameter per column: three parameters whatever the rows.
        assert len(inserts) == 1 and "unnest" in inserts[0].lower()
    else:
        # three columns per row: at most two rows per statement
        assert len(inserts) == 5
    assert await Account.objects.count() == 10
    assert sorted(o.pk for o in objs) == sorted(await Account.objects.values_list("pk", flat=True))


async def test_bulk_create_ignore_conflicts(table: None) -> None:
    await Account.objects.create(email="dup@x", balance=1)
    objs = [Account(email="dup@x", balance=2), Account(email="new@x", balance=3)]
    await Account.objects.bulk_create(objs, ignore_conflicts=True)
    assert await Account.objects.order_by("email").values_list("email", "balance") == [
        ("dup@x", 1), ("new@x", 3),
    ]


async def test_bulk_create_update_conflicts(table: None, backend_name: str) -> None:
    await Account.objects.create(email="dup@x", balance=1, note="old")
    objs = [Account(email="dup@x", balance=2, note="new"), Account(email="n@x", balance=3)]
    unique = None if backend_name == "mysql" else ["email"]
    await Account.objects.bulk_create(
        objs, update_conflicts=True, update_fields=["balance"], unique_fields=unique
    )
    assert await Account.objects.order_by("email").values_list("email", "balance", "note") == [
        ("dup@x", 2, "old"), ("n@x", 3, ""),
    ]


async def test_bulk_create_option_errors(table: None, backend_name: str) -> None:
    objs = [Account(email="e@x")]
    with pytest.raises(ValueError, match="mutually exclusive"):
        await Account.objects.bulk_create(objs, ignore_conflicts=True, update_conflicts=True)
    with pytest.raises(ValueError, match="update_fields"):
        await Account.objects.bulk_create(objs, update_conflicts=True)
    if backend_name == "mysql":
        with pytest.raises(NotSupportedError, match="unique_fields"):
            await Account.objects.bulk_create(
                objs, update_conflicts=True, update_fields=["balance"], unique_fields=["email"]
            )
    else:
        with pytest.raises(ValueError, match="unique_fields"):
            await Account.objects.bulk_create(objs, update_conflicts=True, update_fields=["balance"])
    with pytest.raises(TypeError):
        await Account.objects.bulk_create([object()])  # type: ignore[list-item]
    assert await Account.objects.count() == 0


async def test_bulk_update(table: None, caplog: Any) -> None:
    objs = await Account.objects.bulk_create([Account(email=f"{i}@x", balance=i) for i in range(7)])
    for obj in objs:
        obj.balance += 10
        obj.note = f"n{obj.balance}"
    with captured(caplog) as sql:
        changed = await Account.objects.bulk_update(objs, ["balance", "note"], batch_size=3)
    assert changed == 7
    assert len([s for s in sql if s.lstrip().upper().startswith("UPDATE")]) == 3
    assert await Account.objects.order_by("balance").values_list("balance", "note") == [
        (i + 10, f"n{i + 10}") for i in range(7)
    ]
    with pytest.raises(ValueError, match="primary key"):
        await Account.objects.bulk_update(objs, ["id"])
    with pytest.raises(ValueError, match="primary key set"):
        await Account.objects.bulk_update([Account(email="z")], ["balance"])
    with pytest.raises(ValueError):
        await Account.objects.bulk_update(objs, [])
    assert await Account.objects.bulk_update([], ["balance"]) == 0


async def test_update_with_f_expressions(table: None) -> None:
    await Account.objects.bulk_create([Account(email=f"{i}@x", balance=i) for i in range(4)])
    assert await Account.objects.filter(balance__gte=2).update(balance=F("balance") + 1) == 2
    assert await Account.objects.update(balance=F("balance") * 2, note="x") == 4
    assert await Account.objects.order_by("email").values_list("balance", flat=True) == [0, 2, 6, 8]
    assert await Account.objects.filter(Q(balance=0) | Q(balance=8)).update(note="edge") == 2
    with pytest.raises(TypeError, match="slice"):
        await Account.objects.all()[:1].update(balance=1)


async def test_delete_returns_counts_and_runs_one_statement(table: None, caplog: Any) -> None:
    await Account.objects.bulk_create([Account(email=f"{i}@x", balance=i) for i in range(5)])
    with captured(caplog) as sql:
        result = await Account.objects.filter(balance__lt=3).delete()
    assert result == (3, {"tests_query_write.Account": 3})
    assert len(sql) == 1 and sql[0].lstrip().upper().startswith("DELETE")
    assert await Account.objects.filter(email="zzz").delete() == (0, {})
    with pytest.raises(TypeError, match="limit"):
        await Account.objects.all()[:1].delete()


async def test_delete_sends_signals_per_instance_when_connected(table: None) -> None:
    await Account.objects.bulk_create([Account(email=f"{i}@x", balance=i) for i in range(4)])
    seen: list[tuple[str, str]] = []

    def before(sender: Any, instance: Account, **kwargs: Any) -> None:
        seen.append(("pre", instance.email))

    async def after(sender: Any, instance: Account, **kwargs: Any) -> None:
        seen.append(("post", instance.email))

    pre_delete.connect(before, sender=Account, weak=False)
    post_delete.connect(after, sender=Account, weak=False)
    try:
        result = await Account.objects.filter(balance__gte=2).delete()
    finally:
        pre_delete.disconnect(before, sender=Account)
        post_delete.disconnect(after, sender=Account)
    assert result == (2, {"tests_query_write.Account": 2})
    assert sorted(seen) == [("post", "2@x"), ("post", "3@x"), ("pre", "2@x"), ("pre", "3@x")]
    assert await Account.objects.count() == 2


async def test_bulk_create_in_several_statements_is_all_or_nothing(
    table: None, caplog: Any
) -> None:
    await Account.objects.create(email="taken@x")
    objs = [Account(email=f"{i}@x") for i in range(4)] + [Account(email="taken@x")]
    with pytest.raises(IntegrityError):
        await Account.objects.bulk_create(objs, batch_size=2)
    assert await Account.objects.count() == 1
