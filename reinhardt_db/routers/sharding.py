"""``ShardRouter``: rows of sharded models live in the shard their key picks."""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Sequence
from typing import Any

from reinhardt_db import exceptions as exc

__all__ = ["ShardRouter"]


class ShardRouter:
    """Split the rows of every model with a ``key`` field over ``shards``.

    ``strategy="hash"``: an integer key goes to ``shards[key % len(shards)]``,
    any other key by the CRC-32 of its text. ``strategy="range"`` with
    ``ranges=[(0, "s0"), (1000, "s1")]``: a key goes to the shard of the
    largest lower bound not above it. Models without the field get no answer.

    An instance is written to (and saved back to) the shard of its key. A query
    whose filters pin the key (``filter(tenant_id=7)``, ``tenant_id__in=[...]``)
    runs on those shards only; one that does not runs on every shard and the
    results are merged (rows in order, slices, ``count``, ``exists``, and the
    ``Count``/``Sum``/``Min``/``Max`` aggregates), or raises
    ``NotSupportedError`` with ``scatter=False``.

    >>> ShardRouter(shards=["s0", "s1"], key="tenant_id").shard_of(7)
    's1'
    """

    def __init__(
        self,
        shards: Sequence[str] = (),
        key: str = "",
        strategy: str = "hash",
        *,
        ranges: Sequence[tuple[Any, str]] | None = None,
        scatter: bool = True,
    ) -> None:
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(
                f"ShardRouter: key must name a field, such as 'tenant_id'; got {key!r}"
            )
        if strategy == "hash":
            if ranges is not None:
                raise ValueError("ShardRouter: ranges= goes with strategy='range'")
            if isinstance(shards, str) or not shards or not all(
                isinstance(s, str) and s for s in shards
            ):
                raise ValueError(
                    f"ShardRouter: shards must be a list of aliases such as ['s0', 's1'], "
                    f"got {shards!r}"
                )
            self.shards = list(shards)
        elif strategy == "range":
            if not ranges:
                raise ValueError(
                    "ShardRouter: strategy='range' needs ranges=[(lower_bound, alias), ...]"
                )
            ordered = sorted(ranges, key=lambda item: item[0])
            self._bounds = [lower for lower, _ in ordered]
            self._range_aliases = [alias for _, alias in ordered]
            self.shards = list(dict.fromkeys(self._range_aliases))
        else:
            raise ValueError(f"ShardRouter: strategy must be 'hash' or 'range', got {strategy!r}")
        self.key = key
        self.strategy = strategy
        self.scatter = scatter

    @property
    def databases(self) -> tuple[str, ...]:
        """Every alias this router sends statements to (checked by ``reinhardt check``)."""
        return tuple(self.shards)

    def __repr__(self) -> str:
        return f"<ShardRouter {self.strategy} on {self.key!r} over {self.shards!r}>"

    # -- where a key lives ---------------------------------------------------------------------
    def shard_of(self, value: Any) -> str:
        """Return the shard that holds rows whose key is ``value``."""
        if value is None:
            raise ValueError(f"ShardRouter: {self.key} is None; set it before saving")
        if self.strategy == "range":
            index = bisect.bisect_right(self._bounds, value) - 1
            if index < 0:
                raise ValueError(
                    f"ShardRouter: {self.key}={value!r} is below the first range "
                    f"({self._bounds[0]!r}); add a range that holds it"
                )
            return self._range_aliases[index]
        if isinstance(value, int) and not isinstance(value, bool):
            return self.shards[value % len(self.shards)]
        return self.shards[zlib.crc32(str(value).encode()) % len(self.shards)]

    def _key_field(self, model: Any) -> Any:
        meta = getattr(model, "_meta", None)
        return None if meta is None else meta.fields_map.get(self.key)

    def shards_for(self, model: Any, **hints: Any) -> list[str] | None:
        """The shards a statement on ``model`` needs: one for an instance, some or all for a query.

        None: ``model`` is not sharded (it has no ``key`` field).
        """
        field = self._key_field(model)
        if field is None:
            return None
        instance = hints.get("instance")
        if instance is not None and field.attname in instance.__dict__:
            return [self.shard_of(instance.__dict__[field.attname])]
        query = hints.get("query")
        pinned = None if query is None else query.fixed_values({field.name, field.attname})
        if pinned is not None:
            return sorted({self.shard_of(value) for value in pinned}, key=self.shards.index)
        if query is not None and not self.scatter:
            raise exc.NotSupportedError(
                f"ShardRouter: this query on {model.__name__} does not pin {self.key} "
                f"(filter({self.key}=...)), so it would run on every shard, and scatter=False"
            )
        return list(self.shards)

    # -- the router protocol ---------------------------------------------------------------------
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        """The one shard the statement needs (queries over several are split by the QuerySet)."""
        return self._one(model, hints)

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        """The shard of the instance's key, or of the key the query pins."""
        return self._one(model, hints)

    def _one(self, model: Any, hints: dict[str, Any]) -> str | None:
        shards = self.shards_for(model, **hints)
        if shards is None:
            return None
        if len(shards) == 1:
            return shards[0]
        raise exc.NotSupportedError(
            f"ShardRouter: this statement on {model.__name__} needs shards {shards} and "
            f"cannot be split; pin {self.key} (filter({self.key}=...)) or pick one with using()"
        )

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        """Objects on the same shard may be related; shards never point at each other."""
        db1 = obj1.__dict__.get("_state")
        db2 = obj2.__dict__.get("_state")
        a = None if db1 is None else db1.db
        b = None if db2 is None else db2.db
        if a in self.shards and b in self.shards:
            return a == b
        return None
