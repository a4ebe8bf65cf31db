"""Row readers: what a user reads back is right whichever fast path built it."""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.models import _iterables

UTC = dt.UTC


class Stamp(models.Model):
    at = models.DateTimeField(null=True)
    label = models.CharField(max_length=20, default="")

    class Meta:
        app_label = "tests_readers"


class Audited(models.Model):
    """A model whose __setattr__ records every assignment."""

    name = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_readers"

    def __setattr__(self, key: str, value: Any) -> None:
        self.__dict__.setdefault("_writes", []).append(key)
        super().__setattr__(key, value)


@pytest.mark.backends("sqlite")
async def test_sqlite_datetimes_in_other_text_forms_still_read_as_utc(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Stamp)
    await Stamp.objects.create(at=dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC), label="orm")
    # Text another writer might have left: ISO with "T" and an offset, and no fraction.
    await backend.execute(
        "INSERT INTO tests_readers_stamp (at, label) VALUES (%s, %s), (%s, %s), (%s, %s)",
        ["2024-05-01T14:00:00+02:00", "offset", "2024-05-01 12:00:00", "plain", None, "null"],
    )
    got = {s.label: s.at for s in await Stamp.objects.all()}
    noon = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert got == {"orm": noon, "offset": noon, "plain": noon, "null": None}
    assert all(v is None or v.utcoffset() == dt.timedelta(0) for v in got.values())


async def test_custom_setattr_is_not_run_when_rows_are_read(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Audited)
    await Audited.objects.create(name="ann")
    (obj,) = await Audited.objects.all()
    assert obj.name == "ann"
    # Rows fill the instance's dict directly, as Django does: no __setattr__ calls.
    assert "_writes" not in obj.__dict__


class Badge(models.Model):
    id = models.UUIDField(primary_key=True)
    label = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_readers"


class Holder(models.Model):
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE)
    other = models.ForeignKey(Badge, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        app_label = "tests_readers"


async def test_a_joined_key_taken_from_the_foreign_key_is_converted_once(
    backend: Database, make_tables: Any
) -> None:
    # A UUID key is converted from what the driver returns (text on SQLite and
    # MariaDB): the INNER join's shared key and the LEFT OUTER join's own key
    # both read back as the same UUID, on instances shared per key.
    import uuid

    await make_tables(Badge, Holder)
    gold = await Badge.objects.create(id=uuid.uuid4(), label="gold")
    await Holder.objects.create(badge=gold, other=gold)
    await Holder.objects.create(badge=gold)
    first, second = await Holder.objects.select_related("badge", "other").order_by("id")
    assert isinstance(first.badge_id, uuid.UUID) and first.badge_id == gold.pk
    assert first.badge is second.badge and first.badge.pk == gold.pk
    assert isinstance(first.badge.pk, uuid.UUID) and first.badge.label == "gold"
    assert first.other == first.badge and isinstance(first.other.pk, uuid.UUID)
    assert second.other is None


def test_plain_attribute_stores_only_when_they_mean_a_dict_store() -> None:
    assert _iterables._plain_attributes(Stamp, ["id", "at", "label"])
    assert not _iterables._plain_attributes(Audited, ["id", "name"])
    assert not _iterables._plain_attributes(Stamp, ["class"])  # a keyword


@pytest.mark.parametrize("enabled", [True, False])
def test_large_reads_leave_the_gc_as_they_found_it(enabled: bool) -> None:
    reader = _iterables.make_reader("tuples", Stamp, ["id"], [None])
    rows = [(i,) for i in range(_iterables.GC_PAUSE_ROWS + 5)]
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert reader(rows, "default") == rows
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_gc_comes_back_when_a_reader_fails() -> None:
    def boom(value: Any) -> Any:
        raise RuntimeError("converter failed")

    reader = _iterables.make_reader("tuples", Stamp, ["id"], [boom])
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="converter failed"):
        reader([(i,) for i in range(_iterables.GC_PAUSE_ROWS)], "default")
    assert gc.isenabled()
