"""The raw-SQL API: Django's ``%s`` placeholders on every backend.

A statement sent here did not come from the ORM's compiler, so it may have
changed session state (``SET``, temp tables, ``LISTEN``, locks): the connection
it ran on is marked dirty and reset before its next user gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reinhardt_db.backends._binding import TaskBinding
from reinhardt_db.backends._params import check_params
from reinhardt_db.backends.records import Record, make_records, record_class

__all__ = ["RawSQL"]


class RawSQL(TaskBinding):
    """The raw-SQL part of ``Database``."""

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run a statement with ``%s`` placeholders; return the rows it touched."""
        driver = self.driver
        result = await self._run(driver.execute, driver.native_sql(sql), _params(sql, params), True)
        return result.rowcount

    async def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Run a statement with ``%s`` placeholders once per parameter set."""
        driver = self.driver
        seq = [_params(sql, p) for p in seq_of_params]
        return await self._run(driver.executemany, driver.native_sql(sql), seq, True)

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Record]:
        """Run a query with ``%s`` placeholders; return its rows as ``Record`` objects."""
        driver = self.driver
        names, rows = await self._run(
            driver.fetch_described, driver.native_sql(sql), _params(sql, params), True
        )
        return make_records(names, rows)

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Record | None:
        """Run a query with ``%s`` placeholders; return the first row or None."""
        driver = self.driver
        names, row = await self._run(
            driver.fetch_one_described, driver.native_sql(sql), _params(sql, params), True
        )
        return None if row is None else record_class(tuple(names))(tuple(row))

    async def fetch_val(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query with ``%s`` placeholders; return the first column of the first row."""
        driver = self.driver
        row = await self._run(driver.fetch_row, driver.native_sql(sql), _params(sql, params), True)
        return None if row is None else row[0]

    async def server_version(self) -> str:
        """The server's version string (for SQLite, the library's)."""
        async with self.connection() as state:
            return await self._on_state(state, self.driver.server_version)


def _params(sql: str, params: Sequence[Any] | None) -> tuple[Any, ...]:
    values: tuple[Any, ...]
    # Exact-type checks first: the ABC isinstance below costs more than the rest.
    if type(params) is tuple:
        values = params
    elif type(params) is list:
        values = tuple(params)
    elif params is None:
        values = ()
    elif isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a list or tuple of values for the %s placeholders, "
            f"got {type(params).__name__}"
        )
    else:
        values = tuple(params)
    check_params(sql, values)
    return values
