"""Delays between connect attempts while the database is unreachable."""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["FIRST_RETRY", "MAX_RETRY", "retry_delay"]

FIRST_RETRY = 1.0
MAX_RETRY = 10.0


def retry_delay(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Return the seconds to wait after ``failures`` consecutive failed connects.

    The base doubles from ``FIRST_RETRY`` up to ``MAX_RETRY``; jitter keeps the
    delay between half the base and the base, so many pools do not retry in step.
    """
    base = min(MAX_RETRY, FIRST_RETRY * 2.0 ** min(max(failures, 1) - 1, 16))
    return base * (0.5 + 0.5 * rand())
