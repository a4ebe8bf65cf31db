"""ORM benchmark: each workload through reinhardt_db and through the raw driver.

Table ``journal`` (ROWS rows, 10,000 by default): id, timestamp, level smallint
(indexed), text varchar(255) (indexed). The workloads are listed in
``plan.WORKLOADS`` (LOOPS is 1,000 by default). On each backend, in the same run,
every write run starts from the same ROWS rows, and both sides get the same
inputs (``plan.Plan``); after each run the table is checked for the work it
should have done (rows inserted, distinct rows updated).

The ORM goes through our pool (a pooled connection per statement outside a
transaction); the raw driver uses one connection it holds throughout. Timings
are the best of ROUNDS runs after one warm-up round, the contenders taking
turns run by run; a ratio is ORM time / raw time.
``bulk_insert`` has a second baseline, the driver's ``executemany`` (raw.py).

Run ``python -m benchmarks orm --help`` for choosing backends, workloads and sizes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings
from reinhardt_db.models.result_cache import result_cache
from reinhardt_db.models.schema import create_tables, drop_tables

from .._util import (
    BENCH_DB,
    Options,
    Row,
    best_of_interleaved,
    create_mysql_database,
    create_pg_database,
    drop_mysql_database,
    drop_pg_database,
    group_by_workload,
    print_table,
    run,
)
from .keyset import KEYSET, keyset_backend
from .plan import (
    CACHED_KEY,
    MEMORY,
    SHORT,
    WORKLOADS,
    Data,
    Plan,
    Sizes,
    make_plan,
    make_rows,
)
from .raw import EXECUTEMANY, KEY_ONCE, RAW, RawDriver, raw_driver

ORM = "reinhardt_db"
#: cached_filter's second ORM contender: the same query without cache().
ORM_UNCACHED = "reinhardt_db no cache"
Workloads = dict[str, Callable[[], Awaitable[Any]]]

# Ratio targets on PostgreSQL and MariaDB against the main raw baseline.
TARGETS = {
    "insert_single": 1.3, "bulk_insert": 1.3, "fetch_all": 1.6, "filter_small": 1.3,
    "get_by_pk": 1.4, "values_all": 1.15, "update_single": 1.5, "count_agg": 1.2,
    "join_fetch": 1.5, "prefetch": 1.6,
    # Hits answer without a round trip: they must beat the driver.
    "cached_filter": 1.0,
}
SQLITE_TARGET = 2.0
# (workload, baseline) -> vendor -> target, over the two defaults above (issue 9).
EXTRA_TARGETS = {
    ("bulk_insert", EXECUTEMANY): {"postgresql": 1.3, "mysql": 1.3, "sqlite": 1.5},
    ("get_by_pk", RAW): {"postgresql": 1.3},
}


def target(vendor: str, workload: str, baseline: str) -> float | None:
    """The ratio ``workload`` should stay under against ``baseline`` on ``vendor``."""
    extra = EXTRA_TARGETS.get((workload, baseline), {})
    if vendor in extra:
        return extra[vendor]
    if baseline != RAW:
        return None
    return SQLITE_TARGET if vendor == "sqlite" else TARGETS[workload]


class Journal(models.Model):
    """The benchmark's table."""

    timestamp = models.DateTimeField()
    level = models.SmallIntegerField(db_index=True)
    text = models.CharField(max_length=255, db_index=True)

    class Meta:
        app_label = "bench"
        db_table = "journal"


class BenchAuthor(models.Model):
    """The relation workloads' authors (ROWS/10 of them)."""

    name = models.CharField(max_length=40)

    class Meta:
        app_label = "bench"
        db_table = "bench_author"


class BenchEntry(models.Model):
    """The relation workloads' entries (ROWS of them, spread over the authors)."""

    author = models.ForeignKey(BenchAuthor, on_delete=models.CASCADE, related_name="entries")
    title = models.CharField(max_length=40)

    class Meta:
        app_label = "bench"
        db_table = "bench_entry"


RELATION_MODELS = [BenchAuthor, BenchEntry]


async def _fill_relations(rows: int) -> None:
    """Untimed: ROWS/10 authors, ROWS entries (the same for both contenders)."""
    authors = await BenchAuthor.objects.bulk_create(
        [BenchAuthor(name=f"author {i}") for i in range(max(rows // 10, 1))]
    )
    await BenchEntry.objects.bulk_create([
        BenchEntry(author=authors[i % len(authors)], title=f"entry {i}") for i in range(rows)
    ])


def _orm_workloads(data: Data, plan: Plan, created: list[Journal]) -> Workloads:
    """The ORM side, written as a user would; ``created`` keeps bulk_insert's instances."""
    db = connections["default"]
    runs = itertools.count()  # a new text every update_single run, so no save is a no-op

    async def insert_single() -> None:
        async with db.transaction():
            for i in range(len(plan.keys)):
                await Journal.objects.create(timestamp=plan.now, level=i % 5, text=f"x{i}")

    async def bulk_insert() -> None:
        # As a user writes it: build the instances, one call, no batch_size.
        created[:] = await Journal.objects.bulk_create(
            [Journal(timestamp=t, level=lv, text=tx) for t, lv, tx in data]
        )

    async def fetch_all() -> None:
        result = await Journal.objects.all()
        assert len(result) >= len(data)

    async def filter_small() -> None:
        for level, prefix in plan.keys:
            await Journal.objects.filter(level=level, text__startswith=prefix)[:20]

    async def get_by_pk() -> None:
        for pk in plan.get_pks:
            await Journal.objects.get(pk=pk)

    async def values_all() -> None:
        result = await Journal.objects.values()
        assert len(result) >= len(data)

    objs: list[Journal] = []

    async def update_single() -> None:
        if not objs:  # on the warm-up run, so never timed
            by_pk = {o.pk: o for o in await Journal.objects.filter(pk__in=plan.update_pks)}
            objs.extend(by_pk[pk] for pk in plan.update_pks)
        n = next(runs)
        for i, obj in enumerate(objs):
            obj.text = f"updated {n}-{i}"
            await obj.save(update_fields=["text"])

    async def count_agg() -> None:
        for level, _ in plan.keys:
            qs = Journal.objects.filter(level=level)
            await qs.count()
            await qs.aggregate(avg=models.Avg("level"))

    async def join_fetch() -> None:
        result = await BenchEntry.objects.select_related("author")
        assert len(result) == len(data)

    async def prefetch() -> None:
        result = await BenchAuthor.objects.prefetch_related("entries")
        assert result

    level, prefix = CACHED_KEY

    async def cached_filter() -> None:
        result_cache.clear()
        for _ in range(len(plan.keys)):
            await Journal.objects.filter(level=level, text__startswith=prefix).cache()[:20]

    return {
        "insert_single": insert_single, "bulk_insert": bulk_insert, "fetch_all": fetch_all,
        "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
        "update_single": update_single, "count_agg": count_agg,
        "join_fetch": join_fetch, "prefetch": prefetch, "cached_filter": cached_filter,
    }


def _uncached_workloads(plan: Plan) -> Workloads:
    level, prefix = CACHED_KEY

    async def cached_filter() -> None:
        for _ in range(len(plan.keys)):
            await Journal.objects.filter(level=level, text__startswith=prefix)[:20]

    return {"cached_filter": cached_filter}


async def _reset_table(raw: RawDriver, data: Data) -> None:
    await raw.truncate()
    await raw.bulk_insert(data)


def _setup(raw: RawDriver, workload: str, data: Data) -> Callable[[], Awaitable[None]] | None:
    """What to do, untimed, before each run: writes start from the same ROWS rows."""
    if workload == "bulk_insert":
        return raw.truncate
    if workload in ("insert_single", "update_single"):

        async def reset() -> None:
            await _reset_table(raw, data)

        return reset
    return None


async def _check_work(raw: RawDriver, workload: str, contender: str, sizes: Sizes) -> None:
    """Raise if one run of a contender did not do the workload's work (rows inserted, updated)."""
    expected: dict[str, tuple[str, int]] = {
        "bulk_insert": ("1 = 1", sizes.rows),
        "insert_single": ("1 = 1", sizes.rows + sizes.loops),
        "update_single": ("text LIKE 'updated %'", sizes.loops),
    }
    if workload not in expected:
        return
    where, want = expected[workload]
    got = await raw.count(where)
    if got != want:
        raise RuntimeError(
            f"{workload} by {contender} on {raw.vendor}: {got} rows where {where}, expected "
            f"{want}; the two sides would not be doing the same work"
        )


async def bench_backend(
    vendor: str, url: str, sizes: Sizes, workloads: list[str] | None = None
) -> tuple[list[Row], list[str]]:
    """Time ``workloads`` (default: all) on one backend; return the rows and notes."""
    chosen = [w for w in WORKLOADS if workloads is None or w in workloads]
    reinhardt_db.configure(databases={"default": url})
    rows: list[Row] = []
    notes: list[str] = []
    data = make_rows(sizes.rows)
    try:
        await drop_tables([Journal, *RELATION_MODELS], if_exists=True)
        await create_tables([Journal, *RELATION_MODELS])
        if any(w in chosen for w in ("join_fetch", "prefetch")):
            await _fill_relations(sizes.rows)
        raw = await raw_driver(vendor, url)
        try:
            await _reset_table(raw, data)
            plan = make_plan(await raw.ids(), sizes.loops)
            created: list[Journal] = []
            contenders = {
                **raw.baselines(data, plan), ORM: _orm_workloads(data, plan, created),
                ORM_UNCACHED: _uncached_workloads(plan),
            }
            for name in chosen:
                await _reset_table(raw, data)
                fns = {c: work[name] for c, work in contenders.items() if name in work}

                async def verify(contender: str, name: str = name) -> None:
                    await _check_work(raw, name, contender, sizes)

                seconds = await best_of_interleaved(
                    fns, rounds=sizes.rounds_for(name), warmup=1, setup=_setup(raw, name, data),
                    verify=verify,
                )
                rows += [Row(name, c, seconds[c], sizes.ops(name)) for c in fns]
                if name == "bulk_insert" and any(o.pk is None for o in created):
                    notes.append(f"bulk_insert: {ORM} left primary keys unset on {vendor}")
        finally:
            await raw.close()
            await drop_tables([Journal, *RELATION_MODELS], if_exists=True)
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    return rows, notes


def _print_verdicts(vendor: str, rows: list[Row]) -> None:
    misses, checked = [], 0
    for workload, group in group_by_workload(rows).items():
        ours = next((r.seconds for r in group if r.contender == ORM), None)
        for base in group:
            limit = target(vendor, workload, base.contender)
            if ours is None or limit is None:
                continue
            checked += 1
            ratio = ours / base.seconds
            if ratio > limit:
                misses.append(f"{workload} {ratio:.2f}x > {limit}x ({base.contender})")
    if checked:
        print("\ntargets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))


def _remove_sqlite(url: str) -> None:
    path = url.removeprefix("sqlite:///")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)


def _print_backend(
    vendor: str, sizes: Sizes, options: Options, rows: list[Row], notes: list[str]
) -> None:
    short = sorted({r.workload for r in rows} & SHORT)
    rounds = f"best of {sizes.rounds}"
    if short and sizes.short_rounds != sizes.rounds:
        rounds += f", of {sizes.short_rounds} for {', '.join(short)}"
    title = f"ORM on {vendor} ({sizes.rows:,} rows, {sizes.loops:,} loops; {rounds})"
    baselines = [b for b in (RAW, EXECUTEMANY, KEY_ONCE) if any(r.contender == b for r in rows)]
    print_table(title, rows, baseline=baselines)
    for note in notes:
        print(f"\nnote: {note}")
    if options.smoke:
        print("\nsmoke run: sizes too small for the ratios to mean anything")
    else:
        _print_verdicts(vendor, rows)


def main(options: Options) -> None:
    """Run the ORM benchmark on the chosen backends and print one table per backend."""
    sizes = Sizes.from_options(options)
    workloads = [w for w in WORKLOADS if options.wants(w)]
    keyset = options.wants(KEYSET)

    async def go() -> None:
        for vendor in options.backends:
            if not workloads and not keyset:
                break
            if vendor == "postgresql":
                url = await create_pg_database()
            elif vendor == "mysql":
                url = await create_mysql_database()
            else:
                url = f"sqlite:///{tempfile.gettempdir()}/{BENCH_DB}.sqlite3"
            try:
                if workloads:
                    rows, notes = await bench_backend(vendor, url, sizes, workloads)
                    _print_backend(vendor, sizes, options, rows, notes)
                if keyset:
                    reinhardt_db.configure(databases={"default": url})
                    try:
                        await keyset_backend(vendor, url, sizes.rounds, options.smoke)
                    finally:
                        await reinhardt_db.close_all()
                        reset_settings()
            finally:
                if vendor == "postgresql":
                    await drop_pg_database()
                elif vendor == "mysql":
                    await drop_mysql_database()
                else:
                    _remove_sqlite(url)

    run(go())
    if "postgresql" in options.backends and options.wants(MEMORY):
        # A fresh process: peak RSS of this one was already raised by the workloads above.
        subprocess.run(
            [sys.executable, "-m", "benchmarks.orm.memory", "--rows", str(sizes.memory_rows)],
            check=True,
        )
