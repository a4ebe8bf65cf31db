"""Every benchmark workload still runs (tiny sizes, SQLite only; no timing is asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import parse
from benchmarks._util import Options
from benchmarks.orm.bench import ORM, ORM_UNCACHED, _check_work, bench_backend
from benchmarks.orm.plan import WORKLOADS, Data, Plan, Sizes, make_plan
from benchmarks.orm.raw import EXECUTEMANY, KEY_ONCE, RAW, RawDriver, Workloads
from benchmarks.transaction.bench import ORM as TX_ORM
from benchmarks.transaction.bench import WORKLOADS as TX_WORKLOADS
from benchmarks.transaction.bench import bench_backend as tx_bench_backend

REPO = Path(__file__).resolve().parents[2]
TINY = Sizes(rows=40, loops=8, rounds=1, short_rounds=1)


async def test_every_orm_workload_runs_against_every_baseline(tmp_path: Path) -> None:
    rows, notes = await bench_backend("sqlite", f"sqlite:///{tmp_path}/bench.sqlite3", TINY)

    contenders = {(r.workload, r.contender) for r in rows}
    expected = {(w, c) for w in WORKLOADS for c in (RAW, ORM)} | {
        ("bulk_insert", EXECUTEMANY), ("join_fetch", KEY_ONCE), ("cached_filter", ORM_UNCACHED)
    }
    assert contenders == expected
    assert all(r.seconds > 0 and r.ops == TINY.ops(r.workload) for r in rows)
    assert notes == []  # bulk_create filled every primary key


async def test_a_subset_runs_only_the_chosen_workloads(tmp_path: Path) -> None:
    rows, _ = await bench_backend(
        "sqlite", f"sqlite:///{tmp_path}/bench.sqlite3", TINY, ["update_single"]
    )

    assert {(r.workload, r.contender) for r in rows} == {
        ("update_single", RAW), ("update_single", ORM)
    }


def test_update_single_changes_loops_distinct_rows() -> None:
    plan = make_plan(list(range(1, 101)), loops=100)

    assert sorted(plan.update_pks) == list(range(1, 101))


class _MiscountingDriver(RawDriver):
    vendor = "sqlite"

    async def close(self) -> None: ...
    async def truncate(self) -> None: ...
    async def bulk_insert(self, data: Data) -> None: ...
    async def bulk_insert_executemany(self, data: Data) -> None: ...

    async def ids(self) -> list[int]:
        return []

    async def count(self, where: str = "1 = 1") -> int:
        return 7  # as if 7 of the rows had been updated

    def workloads(self, data: Data, plan: Plan) -> Workloads:
        return {}


async def test_a_contender_doing_less_work_stops_the_benchmark() -> None:
    with pytest.raises(RuntimeError, match=r"update_single by reinhardt_db on sqlite: 7 rows .* expected 8"):
        await _check_work(_MiscountingDriver(), "update_single", ORM, TINY)


def test_command_line_chooses_suite_workloads_and_backend() -> None:
    suites, options = parse(["orm", "--only", "bulk_insert,get_by_pk", "--backend", "postgresql"])

    assert suites == ["orm"]
    assert options == Options(backends=("postgresql",), only=frozenset({"bulk_insert", "get_by_pk"}))


def test_command_line_without_suite_runs_the_suites_of_the_chosen_workloads() -> None:
    assert parse(["--only", "get_by_pk", "sqlite"])[0] == ["orm"]
    assert parse(["--only", "tasks_select1"])[0] == ["pool"]
    # the pool suite needs PostgreSQL, the migrations suite SQLite
    assert parse(["--only", "raw_fetch_one"])[0] == ["raw"]
    assert parse(["--backend", "sqlite"])[0] == ["orm", "raw", "migrations", "transaction"]
    assert parse(["--backend", "postgresql"])[0] == ["orm", "pool", "raw", "transaction"]
    assert parse(["--only", "makemigrations_migrate"])[0] == ["migrations"]
    assert parse(["--only", "atomic_blocks"])[0] == ["transaction"]
    assert parse([])[0] == ["orm", "pool", "raw", "migrations", "transaction"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["orm", "--only", "bulk_insret"], "unknown workload(s) bulk_insret; choose from"),
        (["orm", "--backend", "oracle"], "unknown backend(s) oracle; choose from"),
        (["orms"], "unknown suite or backend 'orms'"),
        (["orm", "--rows", "10", "--loops", "20"], "loops (20) cannot exceed rows (10)"),
        (["orm", "--rows", "0"], "must be a positive integer"),
        (["pool", "--only", "get_by_pk"], "--only names no workload of the pool suite"),
    ],
)
def test_command_line_errors_say_what_was_wrong(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_command_line_smoke_run_prints_the_table(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "orm", "--only", "bulk_insert,get_by_pk",
         "--backend", "sqlite", "--smoke"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "| bulk_insert | raw executemany |" in result.stdout
    assert "ratio to raw executemany" in result.stdout
    assert "| get_by_pk | reinhardt_db |" in result.stdout
    assert "fetch_all" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # the SQLite file is removed afterwards


async def test_keyset_pages_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import reinhardt_db
    from benchmarks.orm.keyset import SMOKE_ROWS, keyset_backend
    from reinhardt_db.conf import reset_settings

    url = f"sqlite:///{tmp_path}/keyset.sqlite3"
    reinhardt_db.configure(databases={"default": url})
    try:
        await keyset_backend("sqlite", url, rounds=1, smoke=True)
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    out = capsys.readouterr().out
    assert f"whole walk, {SMOKE_ROWS // 100} pages" in out
    assert "| depth (rows skipped) | paginate() ms |" in out
    assert "| 1,900 |" in out  # the deepest page measured


async def test_every_transaction_workload_runs(tmp_path: Path) -> None:
    rows = await tx_bench_backend("sqlite", f"sqlite:///{tmp_path}/tx.sqlite3", TINY)
    assert {(r.workload, r.contender) for r in rows} == {
        (w, c) for w in TX_WORKLOADS for c in (RAW, TX_ORM)
    }
    assert all(r.seconds > 0 and r.ops == TINY.loops for r in rows)


def test_short_workloads_get_more_rounds_unless_rounds_are_given() -> None:
    default = Sizes.from_options(Options())
    assert default.rounds_for("join_fetch") == 10 and default.rounds_for("get_by_pk") == 3
    given = Sizes.from_options(Options(rounds=5))
    assert given.rounds_for("join_fetch") == 5 and given.rounds_for("get_by_pk") == 5
    smoke = Sizes.from_options(Options(smoke=True))
    assert smoke.rounds_for("prefetch") == 1
