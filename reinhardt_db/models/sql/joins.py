"""Joins: the relation hops of a query, kept in its shape so they are part of the cache key.

A relation is crossed in one or more :class:`PathStep`\\ s (a foreign key is
one step, a many-to-many relation two: to the junction table, then to the
target). A query holds the joins it needs as a tuple of :class:`Join`
(``Query.joins``): join ``k`` (1-based) is the ``k-1``-th entry, ``0`` is the
queried model's own table. A lookup path that crosses relations is stored as
a :class:`JoinPath`: the path text plus the ids of the joins it runs through,
so two ``filter()`` calls over the same multi-valued relation keep their own
joins (Django's semantics) and the shape still says exactly which.

Join types are decided when a filter is added (:func:`promote`): a join is
``INNER`` when every row the query returns needs a match anyway (a positive
condition on the joined table, a non-null foreign key), else ``LEFT OUTER``.
A join after a ``LEFT OUTER`` one is ``LEFT OUTER`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "Join",
    "JoinPath",
    "PathStep",
    "RelatedExists",
    "promote",
    "setup_joins",
]


@dataclass(frozen=True)
class PathStep:
    """One hop across a relation: ``to_field``'s table joined on ``to = from``.

    ``from_field`` is a column of the table the hop starts from, ``to_field``
    one of the table it reaches. ``multi``: a row may match several rows
    (reverse foreign keys, many-to-many); ``nullable``: a row may match none.
    ``direct``: the hop follows a foreign key forwards, so a path ending at
    ``to_field`` can read ``from_field`` instead and skip the join.
    ``name`` crosses this hop from ``from_field.model`` in a lookup path.
    ``join``: for relations that are more than two equal columns (generic
    relations: a content type condition, a cast), a hashable object whose
    ``condition(step, left, right, ctx)`` builds the join condition.
    """

    from_field: Any
    to_field: Any
    multi: bool
    nullable: bool
    direct: bool
    name: str
    join: Any = None

    def condition(self, left: Any, right: Any, ctx: Any) -> Any:
        """The condition joining ``right`` (the table reached) to ``left`` (the one left)."""
        if self.join is not None:
            return self.join.condition(self, left, right, ctx)
        return right.c[self.to_field.column] == left.c[self.from_field.column]

    @property
    def from_model(self) -> Any:
        """The model the hop starts from."""
        return self.from_field.model

    @property
    def to_model(self) -> Any:
        """The model the hop reaches."""
        return self.to_field.model


class Join(NamedTuple):
    """A join of the query: ``step`` taken from join ``parent`` (0: the queried table)."""

    parent: int
    step: PathStep
    outer: bool


class JoinPath(str):
    """A lookup path (``"author__name"``) and the ids of the joins it runs through.

    A ``str`` so that code reading paths as text keeps working; equality and
    hashing include the joins, so shapes that differ only there differ.
    """

    joins: tuple[int, ...]

    def __new__(cls, path: str, joins: tuple[int, ...]) -> JoinPath:
        new = super().__new__(cls, path)
        new.joins = joins
        return new

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is JoinPath
            and str.__eq__(self, other)
            and self.joins == other.joins
        )

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((str(self), self.joins))

    def __repr__(self) -> str:
        return f"JoinPath({str(self)!r}, {self.joins!r})"

    def __reduce__(self) -> Any:
        return (JoinPath, (str(self), self.joins))


class RelatedExists(str):
    """A condition over a multi-valued relation under a negation: ``EXISTS (subquery)``.

    ``exclude(posts__title="x")`` keeps the authors with no post titled "x"
    (authors without posts included), as Django does: the condition runs in
    a subquery on the related table, correlated on the relation's columns.
    ``outer`` is the join the relation starts from, ``step`` the multi-valued
    hop, ``query`` the inner query (its parameters start at ``base`` in the
    outer query's list). With ``query`` None the condition is only "a related
    row exists" (``posts__isnull=False``).
    """

    outer: int
    step: PathStep
    query: Any
    base: int

    def __new__(cls, path: str, outer: int, step: PathStep, query: Any, base: int) -> RelatedExists:
        new = super().__new__(cls, path)
        new.outer, new.step, new.query, new.base = outer, step, query, base
        return new

    def _key(self) -> tuple[Any, ...]:
        return (str(self), self.outer, self.step, self.query, self.base)

    def __eq__(self, other: object) -> bool:
        return type(other) is RelatedExists and self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"RelatedExists({str(self)!r}, outer={self.outer})"


def setup_joins(
    joins: list[Join], steps: tuple[PathStep, ...], reusable: set[int] | None, start: int = 0
) -> tuple[int, ...]:
    """Return the join ids ``steps`` run through, appending new joins to ``joins``.

    A single-valued hop reuses any join of the same hop; a multi-valued one
    reuses only the joins in ``reusable`` (those made by the same ``filter()``
    call), or any when ``reusable`` is None (annotations, ordering, values).
    New joins are ``LEFT OUTER`` when the hop may find nothing or follows an
    outer join; :func:`promote` narrows them to ``INNER`` where a filter
    requires a match.
    """
    ids: list[int] = []
    parent = start
    for step in steps:
        found = 0
        for index, join in enumerate(joins, start=1):
            if join.parent == parent and join.step == step and (
                not step.multi or reusable is None or index in reusable
            ):
                found = index
                break
        if not found:
            parent_outer = parent > 0 and joins[parent - 1].outer
            joins.append(Join(parent, step, step.nullable or parent_outer))
            found = len(joins)
            if reusable is not None:
                reusable.add(found)
        ids.append(found)
        parent = found
    return tuple(ids)


def required_joins(node: Any, handles_null: Any, negated: bool = False) -> set[int]:
    """Return the joins every row matching the WHERE shape ``node`` has a match in.

    A positive condition on a joined column is false when the join found
    nothing, so that join may be ``INNER``; under ``OR`` only joins all
    branches need count, and under ``NOT`` none. ``handles_null(leaf)`` is
    true for lookups that match NULL (``isnull=True``, ``exact=None``).
    """
    if len(node) == 2:
        path = node[0]
        if negated or type(path) is not JoinPath or handles_null(node):
            return set()
        return set(path.joins)
    connector, node_negated, children = node
    if negated or node_negated:
        return set()
    sets = [required_joins(child, handles_null) for child in children]
    if not sets:
        return set()
    if connector == "AND":
        return set().union(*sets)
    if connector == "OR":
        found = sets[0]
        for other in sets[1:]:
            found = found & other
        return found
    return set()


def promote(joins: list[Join], required: set[int]) -> None:
    """Make the ``required`` joins ``INNER`` and every join after an outer one ``LEFT OUTER``."""
    for index, join in enumerate(joins, start=1):
        outer = join.outer and index not in required
        if join.parent and joins[join.parent - 1].outer:
            outer = True
        if outer != join.outer:
            joins[index - 1] = join._replace(outer=outer)
