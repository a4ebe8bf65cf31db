"""``Record``: the row type of the raw-SQL API (``fetch_all``/``fetch_one``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, ClassVar

__all__ = ["Record", "record_class"]


class Record(tuple[Any, ...]):
    """A row: a tuple that also answers ``rec["column"]``, ``keys()`` and ``_asdict()``.

    Every row of one result shares a subclass that carries the column names, so a
    row costs no more memory than a plain tuple.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._index[key])
            except KeyError:
                raise KeyError(
                    f"no column {key!r} in this row; columns are {', '.join(self._fields)}"
                ) from None
        return tuple.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of column ``key``, or ``default`` when there is no such column."""
        index = self._index.get(key)
        return default if index is None else tuple.__getitem__(self, index)

    def keys(self) -> tuple[str, ...]:
        """The column names, in order."""
        return self._fields

    def values(self) -> Iterator[Any]:
        """The values, in column order."""
        return iter(self)

    def items(self) -> Iterator[tuple[str, Any]]:
        """``(column, value)`` pairs, in order."""
        return zip(self._fields, self, strict=True)

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self, strict=True))
        return f"Record({inner})"


@lru_cache(maxsize=512)
def record_class(fields: tuple[str, ...]) -> type[Record]:
    """The ``Record`` subclass for one set of column names (cached)."""
    index: dict[str, int] = {}
    for position, name in enumerate(fields):
        index.setdefault(name, position)
    return type("Record", (Record,), {"__slots__": (), "_fields": fields, "_index": index})


def make_records(fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Record]:
    """Wrap driver rows as ``Record`` objects."""
    cls = record_class(tuple(fields))
    if rows and type(rows[0]) is not tuple:
        # A tuple subclass built from a tuple copies it directly; from a driver
        # row (asyncpg's Record) it would go through the generic iterator.
        return list(map(cls, map(tuple, rows)))
    return list(map(cls, rows))
