"""What the ORM benchmark runs: workloads, sizes, and the inputs both sides share.

Both contenders of a workload get the same ``Plan`` (the same keys, the same
primary keys in the same order), so they do the same work by construction
rather than by replaying the same random sequence twice.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from .._util import Options

Data = list[tuple[dt.datetime, int, str]]

# Workload name -> what one run does (the raw side does the same on the driver).
WORKLOADS = {
    "insert_single": "LOOPS creates in one transaction",
    "bulk_insert": "ROWS rows in one call, instances built inside the timing",
    "fetch_all": "ROWS instances (raw: the driver's rows)",
    "filter_small": "LOOPS queries `level = k AND text LIKE 'x%' LIMIT 20`",
    "get_by_pk": "LOOPS single-row lookups by primary key",
    "values_all": "ROWS dicts (raw: the driver's rows turned into dicts)",
    "update_single": "LOOPS saves of LOOPS distinct rows, `update_fields=['text']`",
    "count_agg": "LOOPS times a count and an average over `level = k`",
    "join_fetch": "ROWS entries with their author, select_related (raw: the joined rows)",
    "prefetch": "ROWS/10 authors with their ROWS entries, prefetch_related "
                "(raw: two queries, grouped by author in Python)",
    "cached_filter": "LOOPS times the same `level = 1 AND text LIKE 'a%' LIMIT 20` with "
                     "cache() (one miss, then hits; the cache emptied before each run); "
                     "`reinhardt_db no cache` runs it without cache()",
}
#: cached_filter's query: the same key every time (hits after the first).
CACHED_KEY = (1, "a")
# Not a timed comparison: peak memory of iterator() on PostgreSQL (memory.py).
MEMORY = "iterator_memory"
PER_ROW = frozenset({"bulk_insert", "fetch_all", "values_all", "join_fetch", "prefetch"})
# Workloads whose run takes a few milliseconds: timed over Sizes.short_rounds.
SHORT = frozenset({"fetch_all", "values_all", "join_fetch", "prefetch"})


@dataclass(frozen=True)
class Sizes:
    """How big one run of each workload is."""

    rows: int = 10_000
    loops: int = 1_000
    rounds: int = 3
    memory_rows: int = 1_000_000
    #: Rounds of the SHORT workloads: a run of a few milliseconds is the most
    #: exposed to a scheduling hiccup, and more rounds cost next to nothing.
    short_rounds: int = 10

    @classmethod
    def from_options(cls, options: Options) -> Sizes:
        """Defaults, or smoke sizes with ``--smoke``; explicit sizes win over both."""
        base = (
            cls(rows=200, loops=20, rounds=1, memory_rows=20_000, short_rounds=1)
            if options.smoke else cls()
        )
        sizes = cls(
            rows=options.rows or base.rows,
            loops=options.loops or base.loops,
            rounds=options.rounds or base.rounds,
            memory_rows=base.memory_rows,
            short_rounds=options.rounds or base.short_rounds,
        )
        if sizes.loops > sizes.rows:
            # update_single changes LOOPS distinct rows, so there must be that many.
            raise ValueError(
                f"loops ({sizes.loops:,}) cannot exceed rows ({sizes.rows:,}): update_single "
                "changes that many distinct rows; raise --rows or lower --loops"
            )
        return sizes

    def rounds_for(self, workload: str) -> int:
        """How many timed rounds ``workload`` gets (best of them is reported)."""
        return self.short_rounds if workload in SHORT else self.rounds

    def ops(self, workload: str) -> int:
        """Operations in one run of ``workload`` (the µs/op divisor)."""
        return self.rows if workload in PER_ROW else self.loops


@dataclass(frozen=True)
class Plan:
    """The inputs of every workload, shared by the ORM and the raw driver."""

    keys: list[tuple[int, str]]  # (level, text prefix) per filter_small / count_agg query
    get_pks: list[int]  # get_by_pk: drawn with replacement, as lookups in an app would be
    update_pks: list[int]  # update_single: distinct, so every one of LOOPS updates is a row
    now: dt.datetime  # the timestamp of insert_single's rows


def make_rows(count: int, seed: int = 7) -> Data:
    """The table's ``count`` rows: timestamps one second apart, levels 0-4, 31-letter texts."""
    rng = random.Random(seed)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        (
            base + dt.timedelta(seconds=i),
            rng.randrange(5),
            rng.choice(letters) + "".join(rng.choice(letters) for _ in range(30)),
        )
        for i in range(count)
    ]


def make_plan(ids: list[int], loops: int, seed: int = 11) -> Plan:
    """Draw every workload's inputs from the table's primary keys ``ids``."""
    rng = random.Random(seed)
    ordered = sorted(ids)
    return Plan(
        keys=[(rng.randrange(5), rng.choice("abcdefghij")) for _ in range(loops)],
        get_pks=[rng.choice(ordered) for _ in range(loops)],
        update_pks=rng.sample(ordered, loops),
        now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
