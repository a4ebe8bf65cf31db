"""PoolOptions: the SPEC defaults, and a clear error for every bad value."""

from __future__ import annotations

import dataclasses
import math

import pytest

from reinhardt_db.pool import Pool, PoolConfigError, PoolError, PoolOptions

from .fakes import FakeManager


def test_defaults_are_the_spec_values() -> None:
    opts = PoolOptions()
    assert dataclasses.asdict(opts) == {
        "max_size": 10,
        "min_size": 0,
        "acquire_timeout": 30.0,
        "connect_timeout": 10.0,
        "idle_timeout": 600.0,
        "max_lifetime": 1800.0,
        "test_before_acquire": True,
        "cleanup_interval": 30.0,
        "max_waiting": 0,
    }


def test_options_are_frozen_and_slotted() -> None:
    opts = PoolOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.max_size = 3  # type: ignore[misc]
    assert not hasattr(opts, "__dict__")
    assert dataclasses.replace(opts, max_size=3).max_size == 3


def test_none_disables_idle_timeout_and_max_lifetime() -> None:
    opts = PoolOptions(idle_timeout=None, max_lifetime=None)
    assert opts.idle_timeout is None and opts.max_lifetime is None


def test_min_size_may_equal_max_size() -> None:
    assert PoolOptions(min_size=3, max_size=3).min_size == 3


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"max_size": 0}, "max_size"),
        ({"max_size": -1}, "max_size"),
        ({"max_size": "10"}, "max_size"),
        ({"max_size": True}, "max_size"),
        ({"max_size": 2.5}, "max_size"),
        ({"min_size": -1}, "min_size"),
        ({"min_size": 11}, "min_size"),
        ({"max_size": 2, "min_size": 3}, "min_size"),
        ({"acquire_timeout": -1}, "acquire_timeout"),
        ({"acquire_timeout": 0}, "acquire_timeout"),
        ({"acquire_timeout": None}, "acquire_timeout"),
        ({"acquire_timeout": math.nan}, "acquire_timeout"),
        ({"connect_timeout": -0.5}, "connect_timeout"),
        ({"connect_timeout": "3"}, "connect_timeout"),
        ({"idle_timeout": -5}, "idle_timeout"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"max_lifetime": -1.0}, "max_lifetime"),
        ({"cleanup_interval": 0}, "cleanup_interval"),
        ({"cleanup_interval": None}, "cleanup_interval"),
        ({"max_waiting": -1}, "max_waiting"),
        ({"test_before_acquire": "yes"}, "test_before_acquire"),
    ],
)
def test_bad_option_names_the_option(kwargs: dict[str, object], named: str) -> None:
    with pytest.raises(PoolConfigError, match=named) as info:
        PoolOptions(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, PoolError) and isinstance(info.value, ValueError)


def test_min_size_above_max_size_says_how_to_fix() -> None:
    with pytest.raises(PoolConfigError, match=r"min_size \(5\).*max_size \(2\).*lower min_size"):
        PoolOptions(max_size=2, min_size=5)


def test_negative_timeout_says_how_to_fix() -> None:
    with pytest.raises(PoolConfigError, match="positive number of seconds"):
        PoolOptions(connect_timeout=-1)


def test_pool_rejects_options_that_are_not_pool_options() -> None:
    with pytest.raises(PoolConfigError, match="options must be a PoolOptions"):
        Pool(FakeManager(), {"max_size": 3})  # type: ignore[arg-type]


@pytest.mark.parametrize("hook", ["after_connect", "before_acquire", "after_release"])
def test_pool_rejects_a_hook_that_is_not_callable(hook: str) -> None:
    with pytest.raises(PoolConfigError, match=hook):
        Pool(FakeManager(), **{hook: "nope"})  # type: ignore[arg-type]


def test_acquire_rejects_a_bad_timeout() -> None:
    pool = Pool(FakeManager())
    with pytest.raises(PoolConfigError, match="timeout"):
        pool.acquire(timeout=-1)
    with pytest.raises(PoolConfigError, match="timeout"):
        pool.acquire(timeout=0)
