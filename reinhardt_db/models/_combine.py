"""Set operations of ``QuerySet``: ``union()``, ``intersection()``, ``difference()``.

The combined query (``Query.combine``) is compiled by ``sql/combined.py``; what
a combined query may still do (slice, order by its columns, ``values()``,
count) is checked by ``Query.check_not_combined`` where each method starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.sql.query import Query

__all__ = ["CombineMixin"]


def _queryset_arg(qs: Any, method: str) -> Any:
    if not getattr(qs, "_is_queryset", False):
        raise TypeError(f"{method}() takes querysets, got {qs!r}")
    return qs


class CombineMixin:
    """Set operations of ``QuerySet``; ``self`` is a QuerySet."""

    model: Any
    query: Query

    def _new(self, query: Query) -> Any:
        """A QuerySet of this class over a copy of ``query``."""
        factory: Any = self.__class__
        return factory(query.model, query.clone())

    if TYPE_CHECKING:
        def _chain(self) -> Self: ...
        def _values(self, fields: tuple[str, ...], expressions: dict[str, Any]) -> Self: ...

    def _combined_values(self, fields: tuple[str, ...], expressions: dict[str, Any]) -> Self:
        """``values()`` on a combined query: select the same names in every part."""
        if expressions:
            self.query.check_not_combined("values", "values(name=expression)")
        clone = self._chain()
        parts = tuple(
            self._new(part)._values(fields, {}).query
            for part in self.query.combined_queries
        )
        query = self.query.with_parts(parts)
        query.values_fields = parts[0].values_fields
        if query.order_by:
            # The ordering names columns by position: find them again by name.
            old = self.query.combined_names()
            new = query.combined_names()
            terms = []
            for tag, index, *rest in query.order_by:
                if old[index] not in new:
                    raise FieldError(
                        f"The combined query is ordered by {old[index]!r}, which values() "
                        f"leaves out ({', '.join(new)}); select it or order afterwards."
                    )
                terms.append((tag, new.index(old[index]), *rest))
            query.order_by = tuple(terms)
        clone.query = query
        return clone

    # -- set operations ----------------------------------------------------------------------
    def union(self, *other_qs: Any, all: bool = False) -> Self:
        """Rows of this query or any other (SQL ``UNION``; ``all=True`` keeps duplicates).

        The querysets must select the same number of columns (narrow them with
        ``values_list()``). The result can only be sliced, ordered by the names
        it selects, counted and narrowed with ``values()``; ``filter()`` and the
        like raise ``NotSupportedError``.
        """
        queries: list[Any] = [
            qs for qs in (self, *other_qs) if not _queryset_arg(qs, "union").query.empty
        ]
        if not queries:
            return self._chain()
        return queries[0]._combine("union", queries[1:], all)

    def intersection(self, *other_qs: Any, all: bool = False) -> Self:
        """Rows in this query and in every other (SQL ``INTERSECT``)."""
        for qs in other_qs:
            if _queryset_arg(qs, "intersection").query.empty:
                return qs._chain()
        if self.query.empty:
            return self._chain()
        return self._combine("intersection", list(other_qs), all)

    def difference(self, *other_qs: Any, all: bool = False) -> Self:
        """Rows of this query that no other has (SQL ``EXCEPT``)."""
        others = [qs for qs in other_qs if not _queryset_arg(qs, "difference").query.empty]
        if self.query.empty:
            return self._chain()
        return self._combine("difference", others, all)

    def _combine(self, kind: str, others: list[Any], all_: bool) -> Self:
        clone = self._chain()
        if not others:
            return clone
        queries = [self.query.clone()]
        first_values = self.query.values_fields
        for other in others:
            query = other.query
            if first_values is not None and query.values_fields is None and not query.combinator:
                # Django's rule: the first queryset's values() apply to the others.
                query = self._new(query)._values(first_values, {}).query
            queries.append(query.clone())
        clone.query = Query.combine(kind, tuple(queries), all_)
        return clone
