"""save()/delete() overrides and manager methods still run as before on every backend.

``Model.save``/``delete``/``refresh_from_db`` and the manager's awaitable methods
return the coroutine that does the work (no frame of their own): an override
written as ``async def`` calling ``super()`` must still run on every path,
``create()`` included, and awaiting them gives what it gave before.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db import models


class Audited(models.Model):
    name = models.CharField(max_length=40)
    saves = 0
    deletes = 0

    class Meta:
        app_label = "tests_save_override"

    async def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        type(self).saves += 1
        self.name = self.name.strip()
        await super().save(**kwargs)

    async def delete(self, using: str | None = None) -> tuple[int, dict[str, int]]:  # type: ignore[override]
        type(self).deletes += 1
        return await super().delete(using)


@pytest.fixture
async def tables(make_tables: Any) -> None:
    Audited.saves = Audited.deletes = 0
    await make_tables(Audited)


async def test_create_and_save_go_through_an_async_override(tables: None) -> None:
    obj = await Audited.objects.create(name="  padded  ")
    assert Audited.saves == 1
    assert (await Audited.objects.get(pk=obj.pk)).name == "padded"
    obj.name = " again "
    assert await obj.save(update_fields=["name"]) is None
    assert Audited.saves == 2
    assert (await Audited.objects.get(pk=obj.pk)).name == "again"
    assert await obj.delete() == (1, {"tests_save_override.Audited": 1})
    assert Audited.deletes == 1
    assert await Audited.objects.count() == 0


async def test_manager_methods_await_in_concurrent_tasks(tables: None) -> None:
    created = await asyncio.gather(*(Audited.objects.create(name=f"n{i}") for i in range(5)))
    assert sorted(o.name for o in created) == [f"n{i}" for i in range(5)]
    assert await Audited.objects.count() == 5
    first = await Audited.objects.order_by("name").first()
    assert first is not None and first.name == "n0"
    first.name = "changed"
    await Audited.objects.filter(pk=first.pk).update(name="changed")
    await first.refresh_from_db()
    assert first.name == "changed"
