"""``make bench``: run every benchmark suite and print its tables."""

from __future__ import annotations

import sys

from benchmarks.pool.bench import main as pool_main


def main() -> None:
    suites = {"pool": pool_main}
    try:
        from benchmarks.orm.bench import main as orm_main
    except ImportError:
        pass
    else:
        suites["orm"] = orm_main
    chosen = sys.argv[1:] or list(suites)
    for name in chosen:
        suites[name]()


if __name__ == "__main__":
    main()
