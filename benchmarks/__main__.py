"""``make bench`` / ``python -m benchmarks``: run benchmark suites and print their tables.

    python -m benchmarks                        # every suite, every backend, full sizes
    python -m benchmarks orm --only bulk_insert,get_by_pk --backend postgresql
    python -m benchmarks orm sqlite --smoke     # tiny sizes: does it run at all?
    make bench BENCH_ARGS="orm --only update_single --backend mysql"

See ``benchmarks/README.md`` for the workloads and what each ratio compares.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks._util import VENDORS, Options
from benchmarks.migrations.bench import WORKLOADS as MIGRATION_WORKLOADS
from benchmarks.migrations.bench import main as migrations_main
from benchmarks.orm.bench import main as orm_main
from benchmarks.orm.keyset import KEYSET
from benchmarks.orm.plan import MEMORY, WORKLOADS, Sizes
from benchmarks.pool.bench import WORKLOADS as POOL_WORKLOADS
from benchmarks.pool.bench import main as pool_main
from benchmarks.raw.bench import WORKLOADS as RAW_WORKLOADS
from benchmarks.raw.bench import main as raw_main
from benchmarks.transaction.bench import WORKLOADS as TRANSACTION_WORKLOADS
from benchmarks.transaction.bench import main as transaction_main

SUITES = {
    "orm": orm_main, "pool": pool_main, "raw": raw_main, "migrations": migrations_main,
    "transaction": transaction_main,
}
SUITE_WORKLOADS = {
    "orm": (*WORKLOADS, MEMORY, KEYSET), "pool": POOL_WORKLOADS, "raw": RAW_WORKLOADS,
    "migrations": MIGRATION_WORKLOADS, "transaction": tuple(TRANSACTION_WORKLOADS),
}
BACKEND_ALIASES = {"mariadb": "mysql", "postgres": "postgresql", "pg": "postgresql"}


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _names(values: list[str] | None) -> list[str]:
    return [n.strip() for v in values or () for n in v.split(",") if n.strip()]


def _parser() -> argparse.ArgumentParser:
    every = ", ".join(w for ws in SUITE_WORKLOADS.values() for w in ws)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time each workload through reinhardt_db and through the raw driver.",
        epilog="Example: python -m benchmarks orm --only bulk_insert,get_by_pk --backend postgresql",
    )
    parser.add_argument(
        "names", nargs="*", metavar="SUITE|BACKEND",
        help=f"suites ({', '.join(SUITES)}; default: all) and/or backends ({', '.join(VENDORS)})",
    )
    parser.add_argument(
        "--backend", action="append", metavar="NAMES",
        help=f"comma-separated backends for the orm suite (default: {','.join(VENDORS)}); "
        "the pool suite runs on PostgreSQL only",
    )
    parser.add_argument(
        "--only", action="append", metavar="NAMES",
        help=f"comma-separated workloads to run (default: all): {every}",
    )
    parser.add_argument(
        "--smoke", action="store_true",
        help="tiny sizes and one round: checks that everything runs, timings mean nothing",
    )
    parser.add_argument("--rows", type=_positive, help="orm: rows in the table (default 10,000)")
    parser.add_argument("--loops", type=_positive, help="orm: queries per loop workload (default 1,000)")
    parser.add_argument("--rounds", type=_positive, help="timed runs per contender; the best counts")
    return parser


def parse(argv: Sequence[str]) -> tuple[list[str], Options]:
    """Turn command-line arguments into the suites to run and their options."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    suites: list[str] = []
    backends = [BACKEND_ALIASES.get(b, b) for b in _names(args.backend)]
    for name in args.names:
        if name in SUITES:
            suites.append(name)
        elif BACKEND_ALIASES.get(name, name) in VENDORS:
            backends.append(BACKEND_ALIASES.get(name, name))
        else:
            parser.error(
                f"unknown suite or backend {name!r}; suites: {', '.join(SUITES)}; "
                f"backends: {', '.join(VENDORS)}"
            )
    unknown = [b for b in backends if b not in VENDORS]
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(VENDORS)}")
    only = _names(args.only)
    known = {w for ws in SUITE_WORKLOADS.values() for w in ws}
    bad = [w for w in only if w not in known]
    if bad:
        parser.error(
            f"unknown workload(s) {', '.join(bad)}; choose from {', '.join(sorted(known))}"
        )
    options = Options(
        backends=tuple(dict.fromkeys(backends)) or VENDORS,
        only=frozenset(only) if only else None,
        smoke=args.smoke,
        rows=args.rows,
        loops=args.loops,
        rounds=args.rounds,
    )
    try:
        Sizes.from_options(options)
    except ValueError as error:
        parser.error(str(error))
    for suite in suites:
        if not any(options.wants(w) for w in SUITE_WORKLOADS[suite]):
            parser.error(f"--only names no workload of the {suite} suite: {', '.join(SUITE_WORKLOADS[suite])}")
    if not suites:
        # Without a named suite, run those that have a chosen workload on a chosen backend.
        suites = [
            s for s in SUITES
            if any(options.wants(w) for w in SUITE_WORKLOADS[s])
            and (s != "pool" or "postgresql" in options.backends)
            and (s != "migrations" or "sqlite" in options.backends)
        ]
    return suites, options


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen suites (all by default) and print their tables."""
    suites, options = parse(sys.argv[1:] if argv is None else argv)
    for name in suites:
        SUITES[name](options)


if __name__ == "__main__":
    main()
