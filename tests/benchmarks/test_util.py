"""The benchmark harness charges each run for the cyclic garbage it leaves (no timing asserted)."""

from __future__ import annotations

import gc
from typing import Any

from benchmarks._util import timed_run


class Node:
    def __init__(self) -> None:
        self.other: Any = None


async def test_a_runs_cyclic_garbage_is_collected_inside_its_timed_run() -> None:
    phase = {"ran": False}
    after_run: list[int] = []

    def watch(stage: str, info: dict[str, Any]) -> None:
        if stage == "stop" and phase["ran"]:
            after_run.append(info["collected"])

    async def leave_cycles() -> None:
        for _ in range(100):  # pairs that point at each other, then dropped
            a, b = Node(), Node()
            a.other, b.other = b, a
        phase["ran"] = True

    gc.callbacks.append(watch)
    try:
        seconds = await timed_run(leave_cycles)
    finally:
        gc.callbacks.remove(watch)
    assert seconds >= 0
    # Collected by timed_run itself, before it returned, then a second collection finds nothing.
    assert after_run[:2] == [200, 0]
    assert gc.get_freeze_count() == 0  # the heap it froze is handed back to the collector
