"""The transaction-ended hook and the tables written in a transaction (``backends/state.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reinhardt_db.backends import Database
from reinhardt_db.backends import state as state_module
from reinhardt_db.backends.state import (
    ConnectionState,
    add_transaction_listener,
    in_transaction,
    note_tables_written,
)


@pytest.fixture
def ended() -> Iterator[list[tuple[frozenset[str], bool]]]:
    calls: list[tuple[frozenset[str], bool]] = []

    def listener(state: ConnectionState, tables: frozenset[str], committed: bool) -> None:
        calls.append((tables, committed))

    add_transaction_listener(listener)
    add_transaction_listener(listener)  # registered once
    yield calls
    state_module._transaction_listeners.remove(listener)


async def test_commit_hands_the_written_tables_over(
    backend: Database, ended: list[Any]
) -> None:
    async with backend.transaction() as state:
        assert in_transaction(state)
        assert note_tables_written(state, frozenset({"a", "b"}))
        assert note_tables_written(state, frozenset({"b", "c"}))
        assert state.written_tables == {"a", "b", "c"}
    assert ended == [(frozenset({"a", "b", "c"}), True)]
    assert state.written_tables == set()


async def test_rollback_says_so(backend: Database, ended: list[Any]) -> None:
    with pytest.raises(ZeroDivisionError):
        async with backend.transaction() as state:
            note_tables_written(state, frozenset({"t"}))
            1 / 0  # noqa: B018
    assert ended == [(frozenset({"t"}), False)]
    async with backend.transaction():
        pass
    assert ended[-1] == (frozenset(), True)


async def test_outside_a_transaction_nothing_is_recorded(
    backend: Database, ended: list[Any]
) -> None:
    assert not note_tables_written(None, frozenset({"t"}))
    async with backend.connection() as state:
        assert not in_transaction(state)
        assert not note_tables_written(state, frozenset({"t"}))
        assert state.written_tables == set()
        # The transactions layer's blocks count as a transaction too.
        state.atomic_blocks.append(object())
        assert in_transaction(state) and note_tables_written(state, frozenset({"t"}))
        state.atomic_blocks.clear()
        state_module.transaction_ended(state, committed=True)
    assert ended == [(frozenset({"t"}), True)]
