"""The raw baselines read back what the ORM reads, so both sides decode the same values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.orm.bench import RELATION_MODELS, BenchAuthor, BenchEntry, Journal, _fill_relations
from benchmarks.orm.plan import make_plan, make_rows
from benchmarks.orm.raw import raw_driver
from reinhardt_db.backends import Database


async def test_raw_rows_equal_the_orm_rows(
    backend: Database,
    backend_name: str,
    backend_url: str,
    make_tables: Callable[..., Awaitable[None]],
) -> None:
    await make_tables(Journal)
    data = make_rows(5)
    raw = await raw_driver(backend_name, backend_url)
    try:
        await raw.bulk_insert(data)
        raw_rows: list[Any] = list(await raw.workloads(data, make_plan(await raw.ids(), 1))["fetch_all"]())
    finally:
        await raw.close()

    orm_rows = await Journal.objects.order_by("id").values_list("id", "timestamp", "level", "text")
    if backend_name == "sqlite":
        # sqlite3 returns the stored text; the ORM parses it (work only our side does).
        raw_rows = [
            (i, dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC), lv, tx)
            for i, t, lv, tx in raw_rows
        ]
    assert sorted(tuple(r) for r in raw_rows) == list(orm_rows)
    assert [r[1:] for r in orm_rows] == data


async def test_raw_relation_workloads_read_what_the_orm_reads(
    backend: Database,
    backend_name: str,
    backend_url: str,
    make_tables: Callable[..., Awaitable[None]],
) -> None:
    await make_tables(*RELATION_MODELS)
    await _fill_relations(30)
    raw = await raw_driver(backend_name, backend_url)
    try:
        work = raw.relation_workloads()
        joined = sorted(tuple(r) for r in await work["join_fetch"]())
        grouped = await work["prefetch"]()
    finally:
        await raw.close()
    entries = await BenchEntry.objects.select_related("author").order_by("id")
    assert joined == [(e.id, e.author_id, e.title, e.author.id, e.author.name) for e in entries]
    authors = await BenchAuthor.objects.prefetch_related("entries")
    assert {a.id: sorted(e.id for e in await a.entries.all()) for a in authors} == {
        key: sorted(r[0] for r in rows) for key, rows in grouped.items()
    }
