"""``Query``: the state of a QuerySet, kept as a hashable shape plus parameters.

Every QuerySet method that adds a condition, annotation or ordering resolves its
names at once (``FieldError`` on the spot) and *parameterizes* it: constants go
to :attr:`Query.values`, the rest becomes part of the shape. :meth:`Query.key`
is the shape: two queries with equal keys compile to the same SQL and differ
only in their parameters, which is what the compiled-statement cache relies on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from reinhardt_db._hints import closest as closest_name
from reinhardt_db.exceptions import FieldError, NotSupportedError
from reinhardt_db.models.expressions import Expression, F, OrderBy
from reinhardt_db.models.query_utils import Q
from reinhardt_db.models.sql.context import LOOKUP_SEP, PathInfo, Resolver, did_you_mean
from reinhardt_db.models.sql.deferred import loaded_fields
from reinhardt_db.models.sql.filter_plans import find_plan, plan_key, remember_plan
from reinhardt_db.models.sql.joins import (
    Join,
    JoinPath,
    RelatedExists,
    promote,
    required_joins,
    setup_joins,
)
from reinhardt_db.models.sql.where import Node, parameterize_filter

__all__ = ["Query"]

_INITIAL: dict[str, Any] = {
    "where": (),
    "annotations": {},
    "annotation_mask": (),
    "order_by": (),
    "default_ordering": True,
    "standard_ordering": True,
    "low_mark": 0,
    "high_mark": None,
    "distinct": False,
    "distinct_fields": (),
    "values_fields": None,
    "group_by": (),
    "deferred": (frozenset(), True),
    "select_for_update": None,
    "empty": False,
    "joins": (),
    "select_related": (),
    "combinator": None,
    "combinator_all": False,
    "combined_queries": (),
}

#: The set operations a QuerySet can combine with, by method name.
COMBINATORS = ("union", "intersection", "difference")


class Query:
    """The shape and parameters of one query on ``model``; cloned, never shared mutably."""

    model: Any
    values: list[Any]
    where: tuple[Node, ...]
    annotations: dict[str, Expression]
    annotation_mask: tuple[str, ...]
    order_by: tuple[Any, ...]
    default_ordering: bool
    standard_ordering: bool
    low_mark: int
    high_mark: int | None
    distinct: bool
    distinct_fields: tuple[str, ...]
    values_fields: tuple[str, ...] | None
    #: The ``values()`` fields an aggregate annotation grouped by; kept when a later
    #: ``values("n")`` selects only the aggregate (Django's semantics).
    group_by: tuple[str, ...]
    deferred: tuple[frozenset[str], bool]
    select_for_update: tuple[Any, ...] | None
    empty: bool
    joins: tuple[Join, ...]
    select_related: tuple[Any, ...]
    #: ``"union"``, ``"intersection"`` or ``"difference"`` for a combined query.
    combinator: str | None
    combinator_all: bool
    #: The queries a combined query combines, in order; their parameters
    #: follow each other in :attr:`values`.
    combined_queries: tuple[Query, ...]

    def __init__(self, model: Any) -> None:
        # Every attribute is immutable except ``values`` (a fresh list per query):
        # the others start as the class attributes set from ``_INITIAL`` below
        # and are assigned on the instance when a query changes them (two
        # stores per new query, not a dict of twenty).
        self.model = model
        self.values = []

    def clone(self) -> Query:
        """Return a copy; the copy's parameter list is its own."""
        new = Query.__new__(Query)
        state = self.__dict__.copy()
        state["values"] = list(self.values)
        new.__dict__ = state
        return new

    # -- the cache key ---------------------------------------------------------------------
    def key(self) -> tuple[Any, ...]:
        """Return the hashable shape of this query (no parameter values in it)."""
        return (
            self.model,
            len(self.values),
            self.where,
            tuple(self.annotations.items()) if self.annotations else (),
            self.annotation_mask,
            self.order_by,
            self.default_ordering,
            self.standard_ordering,
            self.high_mark is not None,
            self.low_mark > 0,
            self.distinct,
            self.distinct_fields,
            self.values_fields,
            self.group_by,
            self.deferred,
            self.select_for_update,
            self.joins,
            self.select_related,
            self.empty,
            # One slot, and nothing to build for the usual (not combined) query.
            (
                self.combinator,
                self.combinator_all,
                tuple(q.key() for q in self.combined_queries),
            ) if self.combinator else None,
        )

    def __hash__(self) -> int:
        return hash(self.key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and self.key() == other.key()

    def params(self) -> list[Any]:
        """Return the parameter list, with LIMIT and OFFSET appended when present.

        OFFSET is only sent for a non-zero start: a bound OFFSET costs PostgreSQL
        ~20 us of planning per query, too much for ``get()`` and ``qs[:20]``. So
        ``qs[:20]`` and ``qs[20:40]`` are two statements; every later page shares
        the second.
        """
        if self.high_mark is not None:
            if self.low_mark:
                return [*self.values, self.high_mark - self.low_mark, self.low_mark]
            return [*self.values, self.high_mark - self.low_mark]
        if self.low_mark:
            return [*self.values, self.low_mark]
        return self.values

    # -- set operations ----------------------------------------------------------------------
    @classmethod
    def combine(cls, kind: str, queries: tuple[Query, ...], all_: bool) -> Query:
        """Return the query combining ``queries`` with ``kind`` (``"union"`` ...).

        Each part keeps its own shape; their parameters (LIMIT/OFFSET included)
        are laid end to end in the new query's ``values``, so one compiled
        statement serves every set of values.
        """
        first = queries[0]
        combined = cls(first.model)
        combined.combinator = kind
        combined.combinator_all = all_
        combined.combined_queries = tuple(queries)
        combined.values_fields = first.values_fields
        combined.default_ordering = False
        combined.values = [value for query in queries for value in query.params()]
        return combined

    def with_parts(self, queries: tuple[Query, ...]) -> Query:
        """Return a copy of this combined query over new ``queries`` (same order and slice)."""
        new = Query.combine(self.combinator or "union", queries, self.combinator_all)
        new.values_fields = self.values_fields
        new.order_by = self.order_by
        new.standard_ordering = self.standard_ordering
        new.low_mark, new.high_mark, new.empty = self.low_mark, self.high_mark, self.empty
        return new

    def combined_names(self) -> list[str]:
        """The names a combined query's rows can be ordered by (its first part's columns)."""
        first = self.combined_queries[0]
        if first.combinator:
            return first.combined_names()
        if first.values_fields is not None:
            names = [str(n) for n in first.values_fields]
            return names + [n for n in first.annotation_mask if n not in names]
        return [f.attname for f in loaded_fields(first)] + list(first.annotation_mask)

    def check_not_combined(self, action: str, call: str = "") -> None:
        """Refuse what a combined query cannot do (Django's rule: only slice, order, values).

        ``call`` shows how it was called when that is what is refused
        (``values(n=F(...))``; plain ``values()`` is allowed).
        """
        if self.combinator:
            raise NotSupportedError(
                f"Calling QuerySet.{call or action + '()'} after {self.combinator}() is not "
                "supported: "
                f"a combined query can only be sliced, ordered (by the names it selects), "
                f"counted and narrowed with values()/values_list(); apply {action}() to "
                f"each queryset before combining them."
            )

    # -- building --------------------------------------------------------------------------
    def resolver(self, reuse: set[int] | None = None) -> QueryResolver:
        """Return a resolver for this query that adds the joins paths need.

        ``reuse`` is the set of joins one ``filter()`` call may share (Django's
        multi-valued semantics); None lets every join be reused.
        """
        return QueryResolver(self, reuse)

    def add_filter(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], negated: bool = False
    ) -> None:
        """Add ``filter(*args, **kwargs)`` (``exclude`` when ``negated``) in place."""
        values = self.values
        key = None
        if not args and kwargs and not self.joins and not self.annotations:
            # Keyword lookups on the model's own columns: see filter_plans.
            key = plan_key(self.model, negated, len(values), kwargs)
            remembered = find_plan(key, kwargs)
            if remembered is not None:
                values.extend(kwargs.values())
                self.where = (*self.where, remembered)
                return
        pk = self.model._meta.pk
        if not getattr(pk, "concrete", True) and any(
            k == "pk" or k.startswith("pk__") for k in kwargs
        ):
            args, kwargs = _expand_composite_pk(pk, args, dict(kwargs))
            key = None
        resolver = self.resolver(set())
        node = parameterize_filter(args, kwargs, values, resolver, negated)
        if key is not None and not self.joins:
            remember_plan(key, kwargs, node, values[key[2]:], resolver)
        if node[2]:  # an empty Q() is no condition, negated or not
            self.where = (*self.where, node)
            if self.joins:
                joins = list(self.joins)
                promote(joins, required_joins(node, resolver.matches_null))
                self.joins = tuple(joins)

    def add_annotation(
        self, name: str, expression: Any, select: bool = True, default_alias: bool = False
    ) -> None:
        """Add an annotation (selected unless ``select`` is False, as for ``alias()``).

        Names are identifiers without ``__``; only the default aliases of
        positional aggregates (``annotate(Count("id"))`` -> ``id__count``) have one.
        """
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or (LOOKUP_SEP in name and not default_alias)
        ):
            raise ValueError(f"annotation names must be identifiers without '__', got {name!r}")
        if name in self.annotations:
            raise ValueError(f"the annotation {name!r} is already defined on this query")
        meta = self.model._meta
        if name == "pk" or any(name in (f.name, f.attname) for f in meta.fields):
            raise ValueError(
                f"The annotation {name!r} conflicts with a field on {meta.object_name}; "
                "choose another name."
            )
        if name in meta.hybrids:
            raise ValueError(
                f"The annotation {name!r} conflicts with the hybrid property "
                f"{meta.object_name}.{name}; select the hybrid with values({name!r}) "
                "or choose another name."
            )
        if isinstance(expression, str):
            expression = F(expression)
        if not isinstance(expression, Expression):
            raise TypeError(
                f"annotate() needs expressions (F, Value, Count ...), got {expression!r} "
                f"for {name!r}; wrap constants in Value()"
            )
        expression.resolve(self.resolver())
        shape = expression.parameterize(self.values, self.resolver())
        self.annotations = {**self.annotations, name: shape}
        if shape.has_aggregate and self.values_fields is not None and not self.group_by:
            self.group_by = tuple(f for f in self.values_fields if f not in self.annotations)
        if select:
            self.annotation_mask = (*self.annotation_mask, name)

    def set_ordering(self, items: tuple[Any, ...]) -> None:
        """Replace the ordering with ``items`` (names, ``-names``, ``"?"``, expressions)."""
        if self.combinator:
            self.order_by = _combined_ordering(self, items)
            self.default_ordering = False
            return
        resolver = self.resolver()
        shapes: list[Any] = []
        for item in items:
            if isinstance(item, str):
                if item != "?":
                    name = item[1:] if item.startswith("-") else item
                    try:
                        info = resolver.resolve_ref(name)
                    except FieldError:
                        raise resolver.field_names_error(name, "ordering") from None
                    if info.steps:
                        ref = F(resolver.ref_path(name))
                        shapes.append(OrderBy(ref, descending=item.startswith("-")))
                        continue
                shapes.append(item)
            elif isinstance(item, Expression):
                expr = item if isinstance(item, OrderBy) else OrderBy(item)
                expr.resolve(resolver)
                shapes.append(expr.parameterize(self.values, resolver))
            else:
                raise TypeError(f"order_by() takes field names or expressions, got {item!r}")
        self.order_by = tuple(shapes)
        self.default_ordering = False

    def add_select_related(self, names: tuple[str, ...]) -> None:
        """Join and load the single-valued relations ``names`` (``"author__profile"``).

        With no names, follow every non-null foreign key, five levels deep at
        most (Django's ``select_related()``).
        """
        paths = [name.split(LOOKUP_SEP) for name in names] if names else _non_null_paths(
            self.model, 5
        )
        tree = _tree_to_dict(self.select_related)
        joins = list(self.joins)
        for parts in paths:
            model, parent, level = self.model, 0, tree
            for position, part in enumerate(parts):
                relation = _single_relation(model, part, parts[:position + 1])
                (join,) = setup_joins(joins, relation.path_steps(), None, parent)
                entry = level.setdefault(relation, [join, {}])
                model, parent, level = relation.related_model, entry[0], entry[1]
        self.joins = tuple(joins)
        self.select_related = _dict_to_tree(tree)

    def loadable_name(self, name: str) -> str:
        """Check a name for ``only()``/``defer()``: a field, or one across single relations.

        ``"author__name"`` names the field ``name`` of the model ``author``
        points to; it applies where ``select_related("author")`` loads that model.
        """
        if not isinstance(name, str):
            raise TypeError(f"only() and defer() take field names, got {name!r}")
        parts = name.split(LOOKUP_SEP)
        model = self.model
        for position, part in enumerate(parts[:-1]):
            relation = Resolver(model).get_field(part)
            if not (relation.is_relation and (relation.many_to_one or relation.one_to_one)):
                raise FieldError(
                    f"only()/defer() cannot follow {part!r} in {name!r}: "
                    f"{model._meta.object_name}.{part} is not a foreign key or one-to-one "
                    "relation. Load many-valued relations with "
                    "Prefetch(..., queryset=Model.objects.only(...))."
                )
            parts[position] = relation.name
            model = relation.related_model
        parts[-1] = Resolver(model).get_field(parts[-1]).name
        return LOOKUP_SEP.join(parts)

    def clear_ordering(self) -> None:
        """Drop every ordering, the model's default included."""
        self.order_by = ()
        self.default_ordering = False

    def set_limits(self, low: int | None = None, high: int | None = None) -> None:
        """Narrow the slice, relative to the current one (Django's semantics)."""
        if high is not None:
            if self.high_mark is not None:
                self.high_mark = min(self.high_mark, self.low_mark + high)
            else:
                self.high_mark = self.low_mark + high
        if low is not None:
            if self.high_mark is not None:
                self.low_mark = min(self.high_mark, self.low_mark + low)
            else:
                self.low_mark = self.low_mark + low
        if self.high_mark is not None and self.low_mark == self.high_mark:
            self.empty = True

    @property
    def is_sliced(self) -> bool:
        """True when LIMIT or OFFSET is set."""
        return self.low_mark != 0 or self.high_mark is not None

    @property
    def has_aggregate_annotation(self) -> bool:
        """True when an annotation contains an aggregate."""
        return any(a.has_aggregate for a in self.annotations.values())

    def fixed_values(self, names: Collection[str]) -> list[Any] | None:
        """Return the values the filters pin a field to, or None when they do not.

        ``names`` are the field's names (``"tenant"``, ``"tenant_id"``). Looks at
        the top-level ANDed conditions ``name=v``, ``name__exact=v``,
        ``name__in=[...]`` and ORs made only of those; a shard router uses it to
        find the shards a query needs.
        """
        found: set[Any] | None = None
        for node in self.where:
            for constraint in _pinned(node, names, self.values):
                found = constraint if found is None else found & constraint
        return None if found is None else sorted(found, key=repr)

    def is_ordered(self) -> bool:
        """True when the query has an explicit or default ordering."""
        if self.order_by:
            return True
        return bool(
            self.default_ordering
            and self.model._meta.ordering
            and not self.has_aggregate_annotation  # GROUP BY ignores Meta.ordering
        )

    def check_filterable(self, action: str) -> None:
        """Refuse to add conditions after a slice was taken."""
        if self.is_sliced:
            raise TypeError(f"Cannot {action} a query once a slice has been taken.")


# The starting values, as class attributes (see Query.__init__).
for _name, _default in _INITIAL.items():
    setattr(Query, _name, _default)


class QueryResolver(Resolver):
    """A resolver that adds to its query the joins the paths it resolves cross."""

    def __init__(self, query: Query, reuse: set[int] | None) -> None:
        super().__init__(query.model, query.annotations)
        self.query = query
        self.reuse = reuse

    def _setup(self, steps: tuple[Any, ...], start: int = 0) -> tuple[int, ...]:
        joins = list(self.query.joins)
        ids = setup_joins(joins, steps, self.reuse, start)
        self.query.joins = tuple(joins)
        return ids

    def ref_path(self, name: str) -> str:
        """Return ``name``, or a ``JoinPath`` with its joins when it crosses relations."""
        if type(name) is not str:
            return name
        info = self.resolve_ref(name)
        if not info.steps:
            return name
        return JoinPath(name, self._setup(info.steps))

    def relation_leaf(
        self, path: str, info: PathInfo, value: Any, values: list[Any], negated: bool
    ) -> Node:
        """Return the shape of a condition across relations, adding its joins.

        Under a negation a condition over a multi-valued relation becomes an
        ``EXISTS`` subquery of its own (Django's ``exclude()`` semantics);
        ``<multi-valued relation>__isnull`` is ``[NOT] EXISTS`` everywhere, so
        ``filter(posts__isnull=False)`` gives each author once.
        """
        steps = info.steps
        if any(step.multi for step in steps) and (negated or _is_relation_isnull(info)):
            return self._exists_leaf(path, info, value, values)
        ids = self._setup(steps)
        assert info.lookup is not None
        return (JoinPath(path, ids), info.lookup.parameterize_rhs(value, values, self))

    def _exists_leaf(self, path: str, info: PathInfo, value: Any, values: list[Any]) -> Node:
        steps = info.steps
        first = next(i for i, step in enumerate(steps) if step.multi)
        outer_ids = self._setup(steps[:first]) if first else ()
        outer = outer_ids[-1] if outer_ids else 0
        step = steps[first]
        after = steps[first + 1:]
        lookup = info.lookup
        if getattr(lookup, "lookup_name", "") == "isnull" and not after and (
            getattr(info.field, "primary_key", False) or getattr(info.field, "is_relation", False)
        ):
            # "<relation>__isnull": whether a related row exists at all.
            if not isinstance(value, bool):
                raise ValueError(
                    f"The value of an isnull lookup must be True or False, got {value!r}."
                )
            return (RelatedExists(path, outer, step, None, 0), ("C", value))
        names = [s.name for s in after] + [(info.hybrid or info.field).name]
        if info.tail:
            names.append(info.tail)
        inner = Query(step.to_model)
        inner.add_filter((), {LOOKUP_SEP.join(names): value})
        base = len(values)
        values.extend(inner.params())
        return (RelatedExists(path, outer, step, inner, base), ("C", False))

    def matches_null(self, leaf: Node) -> bool:
        """True when the condition ``leaf`` holds for NULL (``isnull=True``, ``=None``)."""
        path, rhs = leaf
        if type(path) is not JoinPath:
            return False
        lookup = self.resolve_lookup(path).lookup
        if getattr(lookup, "handles_null", False):
            return bool(rhs != ("C", False))
        return bool(rhs == ("C", None))


def _pinned(node: Node, names: Collection[str], values: list[Any]) -> list[set[Any]]:
    """The value sets an ANDed node pins one of ``names`` to (one set per condition)."""
    if len(node) == 2:
        found = _leaf_values(node, names, values)
        return [] if found is None else [found]
    connector, negated, children = node
    if negated:
        return []
    if connector == "AND":
        return [pinned for child in children for pinned in _pinned(child, names, values)]
    union: set[Any] = set()
    for child in children:
        pinned = _pinned(child, names, values)
        if not pinned:
            return []  # one branch leaves the field free: the OR pins nothing
        union |= set.intersection(*pinned)
    return [union]


def _leaf_values(leaf: Node, names: Collection[str], values: list[Any]) -> set[Any] | None:
    path, shape = leaf
    name, _, lookup = path.partition("__")
    if name not in names or not isinstance(shape, tuple) or not shape:
        return None
    if lookup in ("", "exact") and shape[0] == "P" and len(shape) == 2:
        return {values[shape[1]]}
    if lookup == "in" and shape[0] == "PL" and len(shape) == 3:
        return set(values[shape[1]:shape[1] + shape[2]])
    return None


def _combined_ordering(query: Query, items: tuple[Any, ...]) -> tuple[Any, ...]:
    """Check an ordering of a combined query: only names of the columns it selects.

    Kept as ``(name, descending, nulls_first, nulls_last)`` tuples; the compiler
    orders by the column's position, which every backend accepts after a
    compound SELECT.
    """
    names = query.combined_names()
    pk = query.model._meta.pk
    shapes: list[Any] = []
    for item in items:
        nulls_first = nulls_last = False
        if isinstance(item, str):
            descending = item.startswith("-")
            name = item[1:] if descending else item
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            name, descending = item.expression.name, item.descending
            nulls_first, nulls_last = item.nulls_first, item.nulls_last
        elif isinstance(item, F):
            name, descending = item.name, False
        else:
            raise FieldError(
                f"order_by() of a combined query takes the names of the columns it selects, "
                f"got {item!r}; annotate each queryset before combining them instead."
            )
        if name == "pk" and getattr(pk, "concrete", True):
            name = pk.attname
        if name not in names:
            field = query.model._meta.fields_map.get(name)
            if field is not None and field.attname in names:
                name = field.attname
            else:
                raise FieldError(
                    f"Cannot order a combined query by {name!r}: it is not one of the "
                    f"columns it selects ({', '.join(names)}).{did_you_mean(name, names)}"
                )
        shapes.append(("COL", names.index(name), descending, nulls_first, nulls_last))
    return tuple(shapes)


def _is_relation_isnull(info: PathInfo) -> bool:
    """True for ``<relation>__isnull`` ending at the multi-valued hop (no field after it)."""
    if getattr(info.lookup, "lookup_name", "") != "isnull" or info.transforms:
        return False
    steps = info.steps
    if not steps[-1].multi or any(step.multi for step in steps[:-1]):
        return False
    field = info.field
    return bool(getattr(field, "primary_key", False) or getattr(field, "is_relation", False))


def _single_relation(model: Any, name: str, path: list[str]) -> Any:
    """The forward or one-to-one relation ``name`` of ``model`` (select_related's targets)."""
    meta = model._meta
    try:
        relation = meta.get_field(name)
    except FieldError:
        relation = None
    single = relation is not None and relation.is_relation and (
        relation.many_to_one or relation.one_to_one
    )
    if not single:
        choices = [
            f.name for f in meta.get_fields()
            if f.is_relation and (f.many_to_one or f.one_to_one)
        ]
        hint = f"; did you mean {closest_name(name, choices)!r}?" if closest_name(
            name, choices
        ) else ""
        raise FieldError(
            f"Invalid field name {name!r} in select_related({LOOKUP_SEP.join(path)!r}): "
            f"{meta.object_name} has no foreign key or one-to-one relation of that name"
            f"{hint} (choices: {', '.join(choices) or 'none'}). Many-valued relations "
            "load with prefetch_related()."
        )
    return relation


def _non_null_paths(model: Any, depth: int, seen: tuple[Any, ...] = ()) -> list[list[str]]:
    paths: list[list[str]] = []
    if depth == 0:
        return paths
    for field in model._meta.concrete_fields:
        if field.is_relation and not field.null and field.related_model not in seen:
            deeper = _non_null_paths(field.related_model, depth - 1, (*seen, model))
            paths.extend([[field.name, *rest] for rest in deeper] or [[field.name]])
    return paths


def _tree_to_dict(nodes: tuple[Any, ...]) -> dict[Any, list[Any]]:
    return {rel: [join, _tree_to_dict(children)] for rel, join, children in nodes}


def _dict_to_tree(tree: dict[Any, list[Any]]) -> tuple[Any, ...]:
    return tuple((rel, join, _dict_to_tree(children)) for rel, (join, children) in tree.items())


def _expand_composite_pk(
    pk: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Rewrite ``pk=(a, b)`` / ``pk__in=[(a, b), ...]`` onto the key's component fields."""
    extra: list[Q] = []
    names = [f.name for f in pk.fields]
    for key in [k for k in kwargs if k == "pk" or k.startswith("pk__")]:
        value = kwargs.pop(key)
        lookup = key[4:] or "exact"
        if lookup == "exact":
            extra.append(Q(**dict(zip(names, _pk_tuple(pk, value), strict=True))))
        elif lookup == "in":
            alternatives = [Q(**dict(zip(names, _pk_tuple(pk, v), strict=True))) for v in value]
            if not alternatives:
                extra.append(Q((f"{names[0]}__in", [])))
                continue
            combined = alternatives[0]
            for alternative in alternatives[1:]:
                combined |= alternative
            extra.append(combined)
        elif lookup == "isnull":
            extra.append(Q(**{f"{names[0]}__isnull": value}))
        else:
            raise FieldError(
                f"the composite primary key of {pk.model.__name__} supports only the "
                f"exact, in and isnull lookups, not {lookup!r}"
            )
    return (*args, *extra), kwargs


def _pk_tuple(pk: Any, value: Any) -> tuple[Any, ...]:
    if hasattr(type(value), "_meta"):
        value = value.pk
    if not isinstance(value, (tuple, list)) or len(value) != len(pk.fields):
        raise ValueError(
            f"the primary key of {pk.model.__name__} is composite "
            f"({', '.join(f.name for f in pk.fields)}); pass a tuple of {len(pk.fields)} values"
        )
    return tuple(value)
