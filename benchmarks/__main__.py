"""``make bench``: run every benchmark suite and print its tables."""

from __future__ import annotations

import sys

from benchmarks.pool.bench import main as pool_main
from benchmarks.raw.bench import main as raw_main


def main() -> None:
    suites = {"pool": pool_main, "raw": raw_main}
    try:
        from benchmarks.orm.bench import main as orm_main
    except ImportError:
        pass
    else:
        suites["orm"] = orm_main
    # Other arguments (e.g. backend names) are for the suites themselves.
    chosen = [a for a in sys.argv[1:] if a in suites] or list(suites)
    for name in chosen:
        suites[name]()


if __name__ == "__main__":
    main()
