"""The delay between connect attempts while the database is down."""

from __future__ import annotations

import pytest

from reinhardt_db.pool._backoff import retry_delay


def test_first_retry_is_within_one_second() -> None:
    assert 0.5 <= retry_delay(1, lambda: 0.0) <= retry_delay(1, lambda: 0.999) <= 1.0


def test_delay_doubles_then_caps_at_ten_seconds() -> None:
    highs = [retry_delay(n, lambda: 1.0) for n in range(1, 8)]
    assert highs == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert retry_delay(10_000, lambda: 1.0) == 10.0


@pytest.mark.parametrize("failures", [1, 3, 6])
def test_jitter_keeps_the_delay_between_half_and_full(failures: int) -> None:
    delays = {retry_delay(failures) for _ in range(200)}
    full = min(10.0, 2.0 ** (failures - 1))
    assert len(delays) > 1
    assert all(full / 2 <= d <= full for d in delays)
