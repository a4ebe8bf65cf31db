"""SoftDeleteModel: delete marks rows, objects hides them, all_objects shows them."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.models import SoftDeleteModel


class Doc(SoftDeleteModel):
    title = models.CharField(max_length=30)

    class Meta:
        app_label = "tests_softdelete"


@pytest.fixture
async def docs(make_tables: Any) -> list[Doc]:
    await make_tables(Doc)
    return await Doc.objects.bulk_create([Doc(title=t) for t in ("a", "b", "c", "d")])


async def titles(manager: Any) -> list[str]:
    return sorted(await manager.values_list("title", flat=True))


async def test_instance_delete_marks_and_hides(docs: list[Doc]) -> None:
    assert SoftDeleteModel._meta.abstract
    doc = docs[0]
    assert await doc.delete() == (1, {"tests_softdelete.Doc": 1})
    assert doc.is_deleted and doc.deleted_at is not None and doc.pk is not None
    assert await titles(Doc.objects) == ["b", "c", "d"]
    assert await titles(Doc.all_objects) == ["a", "b", "c", "d"]
    with pytest.raises(Doc.DoesNotExist):
        await Doc.objects.get(pk=doc.pk)
    assert (await Doc.all_objects.get(pk=doc.pk)).deleted_at == doc.deleted_at


async def test_queryset_delete_marks_rows(docs: list[Doc]) -> None:
    assert await Doc.objects.filter(title__in=["b", "c"]).delete() == (
        2, {"tests_softdelete.Doc": 2},
    )
    assert await titles(Doc.objects) == ["a", "d"]
    assert await Doc.objects.count() == 2 and await Doc.all_objects.count() == 4
    # already-deleted rows are not marked again
    assert await Doc.all_objects.filter(title="b").delete() == (0, {})


async def test_restore(docs: list[Doc]) -> None:
    await Doc.objects.filter(title__in=["a", "b"]).delete()
    assert await Doc.all_objects.filter(title="a").restore() == 1
    assert await titles(Doc.objects) == ["a", "c", "d"]
    b = await Doc.all_objects.get(title="b")
    await b.restore()
    assert not b.is_deleted
    assert await titles(Doc.objects) == ["a", "b", "c", "d"]


async def test_hard_delete(docs: list[Doc]) -> None:
    assert await docs[0].hard_delete() == (1, {"tests_softdelete.Doc": 1})
    await Doc.objects.filter(title="b").delete()
    assert await Doc.all_objects.filter(title__in=["b", "c"]).hard_delete() == (
        2, {"tests_softdelete.Doc": 2},
    )
    assert await titles(Doc.all_objects) == ["d"]
