"""Pool configuration: :class:`PoolOptions`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from reinhardt_db.pool.errors import PoolConfigError

__all__ = ["PoolOptions"]


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """Hold the sizes and timeouts of a :class:`Pool` (seconds for every timeout).

    ``idle_timeout`` and ``max_lifetime`` may be ``None`` to disable them;
    ``max_waiting=0`` puts no cap on queued acquirers. Derive a variant with
    ``dataclasses.replace(options, max_size=20)``.
    """

    max_size: int = 10
    min_size: int = 0
    acquire_timeout: float = 30.0
    connect_timeout: float = 10.0
    idle_timeout: float | None = 600.0
    max_lifetime: float | None = 1800.0
    test_before_acquire: bool = True
    cleanup_interval: float = 30.0
    max_waiting: int = 0

    def __post_init__(self) -> None:
        """Reject inconsistent options with a message naming the option and the fix."""
        _check_int("max_size", self.max_size, minimum=1)
        _check_int("min_size", self.min_size, minimum=0)
        _check_int("max_waiting", self.max_waiting, minimum=0, fix="use 0 for no cap")
        if self.min_size > self.max_size:
            raise PoolConfigError(
                f"min_size ({self.min_size}) is larger than max_size ({self.max_size}); "
                f"lower min_size or raise max_size"
            )
        _check_seconds("acquire_timeout", self.acquire_timeout)
        _check_seconds("connect_timeout", self.connect_timeout)
        _check_seconds("cleanup_interval", self.cleanup_interval)
        _check_seconds("idle_timeout", self.idle_timeout, optional=True)
        _check_seconds("max_lifetime", self.max_lifetime, optional=True)
        if not isinstance(self.test_before_acquire, bool):
            raise PoolConfigError(
                f"test_before_acquire must be True or False, "
                f"got {self.test_before_acquire!r}"
            )


def _check_int(name: str, value: object, *, minimum: int, fix: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PoolConfigError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        hint = f"; {fix}" if fix else ""
        raise PoolConfigError(f"{name} must be at least {minimum}, got {value}{hint}")


def check_timeout(name: str, value: object) -> float:
    """Return ``value`` as seconds, or raise :class:`PoolConfigError` naming ``name``."""
    _check_seconds(name, value)
    assert isinstance(value, int | float)
    return float(value)


def _check_seconds(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        disabled = " or None to disable it" if optional else ""
        raise PoolConfigError(f"{name} must be a number of seconds{disabled}, got {value!r}")
    if value <= 0:
        disabled = ", or None to disable it" if optional else ""
        raise PoolConfigError(
            f"{name} must be a positive number of seconds, got {value}; "
            f"give a value above 0{disabled}"
        )
