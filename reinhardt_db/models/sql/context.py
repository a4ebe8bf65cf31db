"""Name resolution and the compile context.

:class:`Resolver` turns a lookup path (``"created_at__year__gte"``) or a
reference (``"data__owner__name"``) into a :class:`PathInfo`: the field or
annotation it starts at, the transforms applied, and the lookup class. Paths
that start at a model field are cached per model, so resolving them again costs
one dict lookup. Unknown names raise ``FieldError`` with a did-you-mean hint.

:class:`CompileContext` is a resolver that also hands out bound parameters while
a statement is built; after SQLAlchemy compiles the statement, :meth:`getters`
turns the driver's positional order into the functions that fetch (and adapt)
each parameter from a query's parameter list. It carries the backend's
``ops`` (vendor SQL) and ``features`` (capabilities): everything built here
that differs between backends asks them, never a vendor name.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db._hints import closest
from reinhardt_db.exceptions import FieldDoesNotExist, FieldError
from reinhardt_db.models.query_utils import on_lookups_changed

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.backends.base import DatabaseFeatures, DatabaseOperations
    from reinhardt_db.models.expressions import Expression

__all__ = [
    "LOOKUP_SEP", "CompileContext", "PathInfo", "Resolver", "annotation_head", "did_you_mean",
]

LOOKUP_SEP = "__"
Getter = Callable[[Sequence[Any]], Any]


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or an empty string."""
    match = closest(name, choices)
    return f" Did you mean {match!r}?" if match else ""


@dataclass(frozen=True, slots=True)
class PathInfo:
    """What a lookup path or reference resolves to.

    ``steps`` are the relation hops before ``field`` (``sql.joins.PathStep``),
    ``relation_parts`` how many names of the path they used, and ``tail`` the
    path after the field's name (transforms and lookup as written). A path
    naming a hybrid property has no ``field``: ``hybrid`` is its
    ``HybridShape`` (on the model the steps reach), which the compiler builds in
    place of a column.
    """

    field: Any
    annotation: str | None
    transforms: tuple[tuple[type[Any], tuple[Any, ...]], ...]
    lookup: type[Any] | None
    output_field: Any
    nullable: bool
    steps: tuple[Any, ...] = ()
    tail: str = ""
    #: ``output_field.value_range()``: the values the left-hand side can hold, or None.
    bounds: tuple[Any, Any] | None = None
    hybrid: Any = None


_PATH_CACHE: dict[tuple[Any, str, bool], PathInfo] = {}
_PATH_CACHE_MAX = 20_000
on_lookups_changed(_PATH_CACHE.clear)


def _class_lookups(obj: Any) -> dict[str, type]:
    if obj is None:
        from reinhardt_db.models.fields import Field

        return Field.get_class_lookups()
    klass: Any = obj if isinstance(obj, type) else type(obj)
    found: dict[str, type] = klass.get_class_lookups()
    return found


def annotation_head(path: str, annotations: Mapping[str, Any]) -> str | None:
    """Return the annotation ``path`` starts with (names may hold ``__``: ``id__count``)."""
    for name in annotations:
        if path == name or path.startswith(name + LOOKUP_SEP):
            return name
    return None


def _is_json(field: Any) -> bool:
    return field is not None and field.get_internal_type() == "JSONField"


def _choices(meta: Any) -> list[str]:
    """Names a path may use on ``meta``'s model: fields, relations, then hybrid properties."""
    names = [f.name for f in meta.fields]
    names += [n for n in getattr(meta, "relation_names", ()) if n not in names]
    names += [n for n in getattr(meta, "hybrids", ()) if n not in names]
    return names


def _hybrid_or_none(meta: Any, name: str) -> Any:
    """The ``HybridShape`` of ``meta``'s hybrid property ``name``, or None when it has none.

    Raises ``FieldError`` when the hybrid exists but cannot be used in a query
    (no expression, or an invalid one).
    """
    hybrid = meta.hybrids.get(name)
    return None if hybrid is None else hybrid.shape(meta.model)


def _field_or_none(meta: Any, name: str) -> Any:
    """The field or relation ``name`` of ``meta``'s model, or None (then a lookup follows)."""
    if name == "pk":
        return meta.pk
    try:
        return meta.get_field(name)
    except FieldDoesNotExist:
        return None


class Resolver:
    """Resolve names against one model and the annotations of one query."""

    #: Pad ``in`` lists to a power of two (shares compiled statements); off for DDL.
    pad_lists = True
    #: The context of the enclosing query, inside a subquery (``OuterRef`` reads it).
    outer: CompileContext | None = None

    def __init__(self, model: Any, annotations: Mapping[str, Expression] | None = None) -> None:
        self.model = model
        self.meta = model._meta
        self.annotations: Mapping[str, Expression] = annotations or {}

    # -- fields ------------------------------------------------------------------------
    def get_field(self, name: str, meta: Any = None) -> Any:
        """Return the field called ``name`` (``pk``, attnames and relations too).

        ``meta`` is another model's ``_meta`` when resolving past a relation.
        """
        meta = meta or self.meta
        if name == "pk":
            return meta.pk
        try:
            return meta.get_field(name)
        except FieldDoesNotExist:
            pass
        for private in getattr(meta, "private_fields", ()):
            if private.name == name:  # a GenericForeignKey: two columns, no join to follow
                raise FieldError(
                    f"{meta.object_name}.{name} is a GenericForeignKey and cannot be used in "
                    f"queries; filter on {private.ct_field}= and {private.fk_field}= instead "
                    f"(or query from the target model through a GenericRelation)."
                )
        if name in meta.hybrids:
            raise FieldError(
                f"{meta.object_name}.{name} is a hybrid property, not a field: queries can "
                "filter, order, select (values()) and compute with it, but it has no column "
                "to load, write or join on."
            )
        annotations = list(self.annotations) if meta is self.meta else []
        choices = _choices(meta) + annotations + ["pk"]
        raise FieldError(
            f"Cannot resolve keyword {name!r} into a field of {meta.object_name}."
            f"{did_you_mean(name, choices)} Choices are: {', '.join(choices)}."
        )

    def field_names_error(self, name: str, what: str) -> FieldError:
        """A ``FieldError`` for an unknown ``name`` used as ``what``, with a hint.

        When the name starts with a known one (a field, relation or hybrid
        property), what failed is further on (a related model's field, a
        transform, a hybrid without expression): that error is returned, as it
        says more.
        """
        choices = _choices(self.meta) + list(self.annotations) + ["pk"]
        if name.split(LOOKUP_SEP, 1)[0] in choices:
            try:
                self.resolve_ref(name)
            except FieldError as error:
                return error
        return FieldError(
            f"Cannot resolve {what} {name!r} on {self.meta.object_name}."
            f"{did_you_mean(name, choices)} Choices are: {', '.join(choices)}."
        )

    # -- paths ---------------------------------------------------------------------------
    def ref_path(self, name: str) -> str:
        """Return the reference ``name`` as a query stores it (queries add joins here)."""
        return name

    def relation_leaf(
        self, path: str, info: PathInfo, value: Any, values: list[Any], negated: bool
    ) -> tuple[Any, ...]:
        """Return the shape of a condition across relations (only queries can join)."""
        raise FieldError(
            f"{path!r} crosses a relation of {self.meta.object_name}; a condition here "
            "(a constraint, an index) can only use the model's own columns."
        )

    def resolve_lookup(self, path: str) -> PathInfo:
        """Resolve a filter keyword (``"age__gte"``); the lookup defaults to ``exact``."""
        return self._cached(path, True)

    def resolve_ref(self, path: str) -> PathInfo:
        """Resolve a reference (``F("age")``, ``order_by``, ``values``): no lookup."""
        return self._cached(path, False)

    def _cached(self, path: str, want_lookup: bool) -> PathInfo:
        if self.annotations and annotation_head(path, self.annotations) is not None:
            return self._resolve(path, want_lookup)
        path = str(path)  # a JoinPath resolves as its text
        key = (self.model, path, want_lookup)
        info = _PATH_CACHE.get(key)
        if info is None:
            info = self._resolve(path, want_lookup)
            if len(_PATH_CACHE) >= _PATH_CACHE_MAX:
                _PATH_CACHE.clear()
            _PATH_CACHE[key] = info
        return info

    def _resolve(self, path: str, want_lookup: bool) -> PathInfo:
        from reinhardt_db.models.json_lookups import KeyTransform

        field: Any = None
        steps: tuple[Any, ...] = ()
        related: Any = None
        hybrid = None
        annotation = annotation_head(path, self.annotations) if self.annotations else None
        if annotation is not None:
            tail = path[len(annotation) + len(LOOKUP_SEP):]
            rest = tail.split(LOOKUP_SEP) if tail else []
            output = self.annotations[annotation].output_field(self)
            nullable = True
        else:
            field, steps, rest, related, hybrid = self._follow(path)
            if hybrid is not None:
                output = hybrid.output_field
                nullable = True
            else:
                output = field
                nullable = bool(getattr(field, "null", False)) or any(s.nullable for s in steps)
        transforms: list[tuple[type, tuple[Any, ...]]] = []
        lookup: type | None = None
        for position, part in enumerate(rest):
            last_cls = transforms[-1][0] if transforms else None
            if want_lookup and position == len(rest) - 1:
                lookup = self._find(output, last_cls, part, want_transform=False)
                if lookup is not None:
                    break
            transform = self._find(output, last_cls, part, want_transform=True)
            if transform is not None:
                transforms.append((transform, ()))
                output = transform.output_field or output
                continue
            # Transforms named by a value (ArrayField's tags__0, tags__0_2).
            dynamic = getattr(output, "dynamic_transform", None)
            found = dynamic(part) if dynamic is not None else None
            if found is not None:
                transform, args, output = found
                transforms.append((transform, args))
                nullable = True
                continue
            if _is_json(output):
                if last_cls is KeyTransform:
                    keys = transforms.pop()[1][0]
                    transforms.append((KeyTransform, ((*keys, part),)))
                else:
                    transforms.append((KeyTransform, ((part,),)))
                nullable = True
                continue
            if position == 0 and related is not None:
                choices = [*_choices(related), "pk"]
                raise FieldError(
                    f"Cannot resolve keyword {part!r} in {path!r}: {related.object_name} has "
                    f"no such field and it is no lookup.{did_you_mean(part, choices)} "
                    f"Choices are: {', '.join(choices)}."
                )
            raise self._unknown(path, part, output, last_cls, want_lookup)
        if want_lookup and lookup is None:
            last_cls = transforms[-1][0] if transforms else None
            lookup = self._find(output, last_cls, "exact", want_transform=False)
            if lookup is None:
                raise FieldError(f"{path!r} does not support the 'exact' lookup")
        value_range = getattr(output, "value_range", None)
        bounds = value_range() if value_range is not None else None
        return PathInfo(
            field, annotation, tuple(transforms), lookup, output, nullable,
            tuple(steps), LOOKUP_SEP.join(rest), bounds, hybrid,
        )

    def _follow(self, path: str) -> tuple[Any, tuple[Any, ...], list[str], Any, Any]:
        """Walk ``path`` across relations: ``(final field, hops, remaining names, meta, hybrid)``.

        ``meta`` is the related model's ``_meta`` when the walk stopped at a
        relation (so a misspelt field name there gets a hint), else None.
        ``hybrid`` is the ``HybridShape`` when the walk ended at a hybrid
        property (``field`` is then None).

        A relation name followed by a name its model does not have (a lookup
        such as ``in`` or ``isnull``), or by nothing, stands for the related
        row's key. Hops that only reach a key the previous table already holds
        (``author__id`` is ``author_id``) are dropped.
        """
        parts = path.split(LOOKUP_SEP)
        meta = self.meta
        proxy = getattr(meta, "association_proxies", {}).get(parts[0])
        if proxy is not None:
            parts = proxy.path.split(LOOKUP_SEP) + parts[1:]
        steps: list[Any] = []
        position = 0
        stopped = None
        hybrid = _hybrid_or_none(meta, parts[0])
        if hybrid is not None:
            return None, (), parts[1:], None, hybrid
        field = self.get_field(parts[0], meta)
        while getattr(field, "is_relation", False):
            related_meta = field.related_model._meta
            nxt = parts[position + 1] if position + 1 < len(parts) else None
            target = _field_or_none(related_meta, nxt) if nxt is not None else None
            steps.extend(field.path_steps())
            if target is None:
                hybrid = _hybrid_or_none(related_meta, nxt) if nxt is not None else None
                if hybrid is not None:
                    if hybrid.crosses_relations:
                        raise FieldError(
                            f"Cannot use {path!r} on {self.meta.object_name}: the hybrid "
                            f"property {related_meta.object_name}.{nxt} reads across "
                            "relations itself, so it can only be used on "
                            f"{related_meta.object_name}'s own queries; name what it reads "
                            "through the relation instead."
                        )
                    return None, tuple(steps), parts[position + 2:], None, hybrid
                field = field.target_field
                stopped = related_meta
                break
            position += 1
            field = target
            meta = related_meta
        while steps and steps[-1].direct and field is steps[-1].to_field:
            field = steps.pop().from_field
        return field, tuple(steps), parts[position + 1:], stopped, None

    @staticmethod
    def _find(output: Any, transform_cls: type | None, name: str, want_transform: bool) -> Any:
        sources = (output,) if transform_cls is None else (transform_cls, output)
        for source in sources:
            found = _class_lookups(source).get(name)
            if found is not None and bool(getattr(found, "is_transform", False)) == want_transform:
                return found
        return None

    def _unknown(
        self, path: str, part: str, output: Any, transform_cls: type | None, want_lookup: bool
    ) -> FieldError:
        choices = set(_class_lookups(output))
        if transform_cls is not None:
            choices |= set(_class_lookups(transform_cls))
        owner = self.meta.object_name
        if output is not None and getattr(output, "model", None) is not None:
            owner = output.model._meta.object_name
        kind = "lookup or transform" if want_lookup else "transform"
        what = type(output).__name__ if output is not None else "expression"
        return FieldError(
            f"Unsupported {kind} {part!r} in {path!r} ({what} on {owner})."
            f"{did_you_mean(part, sorted(choices))}"
        )


# Each getter carries ``param_spec`` (see ``cache.params_function``), from which a
# statement's parameter list is built by one generated function instead of a
# call per getter.


def _item(index: int) -> Getter:
    getter = operator.itemgetter(index)

    def item(values: Sequence[Any]) -> Any:
        return getter(values)

    item.param_spec = ("item", index, None)  # type: ignore[attr-defined]
    return item


def _adapted(index: int, adapter: Callable[[Any], Any]) -> Getter:
    def getter(values: Sequence[Any]) -> Any:
        return adapter(values[index])

    getter.param_spec = ("item", index, adapter)  # type: ignore[attr-defined]
    return getter


def _constant(value: Any) -> Getter:
    def getter(values: Sequence[Any]) -> Any:
        return value

    getter.param_spec = ("const", value, None)  # type: ignore[attr-defined]
    return getter


class CompileContext(Resolver):
    """A resolver that builds SQLAlchemy expressions and records their parameters.

    ``bind(index, adapter)`` returns a bound parameter standing for the query's
    parameter ``index``; when ``values`` is given (DDL, ``q_to_clause``) the bound
    parameter carries the adapted value itself. ``ops`` and ``features`` are the
    database's (``db.ops``, ``db.features``); ``vendor`` is kept for user lookups.
    """

    #: While a hybrid's expression is built: its constants, which ``bind`` then
    #: binds as constants of the statement; ``constants_base`` is the offset at
    #: which they start (the hybrid's context's own).
    constants: Sequence[Any] | None = None
    constants_base = 0

    def __init__(
        self,
        model: Any,
        ops: DatabaseOperations,
        features: DatabaseFeatures,
        annotations: Mapping[str, Expression] | None = None,
        values: Sequence[Any] | None = None,
        table: Any = None,
        parent: CompileContext | None = None,
        offset: int = 0,
        joins: Sequence[Any] = (),
        param_count: int = 0,
    ) -> None:
        super().__init__(model, annotations)
        self.ops = ops
        self.features = features
        self.vendor: str = ops.vendor
        self.table = self.meta.table if table is None else table
        self.offset = offset
        #: ``sql.joins.Join`` entries; join ``k`` is ``joins[k - 1]``, 0 the own table.
        self.joins: list[Any] = list(joins)
        self._aliases: dict[int, Any] = {0: self.table}
        if parent is None:
            self.values = values
            #: Parameters of the whole statement (``len(query.values)``): above
            #: ``features.max_query_params``, long ``in`` lists travel as one parameter.
            self.param_count = param_count
            self._getters: dict[str, Getter] = {}
            self._plan: dict[str, tuple[int, Callable[[Any], Any] | None]] = {}
            self._alias_names: Iterator[int] = itertools.count(1)
        else:
            # A subquery: its parameters follow at ``offset`` in the parent's list.
            self.outer = parent
            self.constants, self.constants_base = parent.constants, parent.constants_base
            self.values = parent.values
            self.param_count = parent.param_count
            self._getters = parent._getters
            self._plan = parent._plan
            self._alias_names = parent._alias_names
        self._annotation_sa: dict[str, Any] = {}
        for join in range(1, len(self.joins) + 1):
            self.alias(join)  # named in join order: T1, T2 ...

    def child(
        self,
        model: Any,
        annotations: Mapping[str, Expression],
        offset: int,
        table: Any = None,
        joins: Sequence[Any] = (),
    ) -> CompileContext:
        """Return a context for a subquery whose parameters start at ``offset``."""
        return CompileContext(
            model, self.ops, self.features, annotations,
            table=table, parent=self, offset=self.offset + offset, joins=joins,
        )

    def aliased_child(
        self, model: Any, annotations: Mapping[str, Expression], offset: int,
        joins: Sequence[Any] = (),
    ) -> CompileContext:
        """Return a subquery context whose table has an alias of its own (correlation-safe)."""
        return self.child(model, annotations, offset, self.new_alias(model._meta.table), joins)

    # -- joins ---------------------------------------------------------------------------
    def new_alias(self, table: Any) -> Any:
        """Return ``table`` under a name no other table of the statement uses."""
        return table.alias(f"T{next(self._alias_names)}")

    def alias(self, join: int) -> Any:
        """Return the (aliased) table of join ``join`` (0: the queried table)."""
        found = self._aliases.get(join)
        if found is None:
            found = self._aliases[join] = self.new_alias(
                self.joins[join - 1].step.to_model._meta.table
            )
        return found

    def add_joins(self, steps: Sequence[Any]) -> tuple[int, ...]:
        """Join ``steps`` while compiling (reusing joins the shape has), all LEFT OUTER.

        For what the query's shape implies without naming: the model's
        default ordering across relations.
        """
        from reinhardt_db.models.sql.joins import setup_joins

        before = len(self.joins)
        ids = setup_joins(self.joins, tuple(steps), None)
        for index in range(before, len(self.joins)):
            self.joins[index] = self.joins[index]._replace(outer=True)
        return ids

    def from_clause(self) -> Any:
        """Return the queried table joined with every join of the query."""
        source = self.table
        for number, join in enumerate(self.joins, start=1):
            step = join.step
            left = self.alias(join.parent)
            right = self.alias(number)
            source = source.join(right, step.condition(left, right, self), isouter=join.outer)
        return source

    # -- parameters ----------------------------------------------------------------------
    def bind(
        self, index: int, adapter: Callable[[Any], Any] | None = None, type_: Any = None
    ) -> sa.BindParameter[Any]:
        """Return a bound parameter for the query's parameter ``index``."""
        index += self.offset
        if self.constants is not None:
            value = self.constants[index - self.constants_base]
            return self.const(adapter(value) if adapter else value, type_)
        name = f"__p{len(self._getters)}"
        self._plan[name] = (index, adapter)
        if adapter is None:
            self._getters[name] = _item(index)
        else:
            self._getters[name] = _adapted(index, adapter)
        if self.values is not None:
            value = self.values[index]
            return sa.bindparam(name, adapter(value) if adapter else value, type_=type_)
        return sa.bindparam(name, type_=type_)

    def bind_list(
        self,
        start: int,
        size: int,
        adapter: Callable[[Any], Any] | None,
        pack: Callable[[list[Any]], Any],
    ) -> sa.BindParameter[Any]:
        """Return one bound parameter carrying parameters ``start`` to ``start + size``.

        Each value is adapted, then ``pack`` turns the list into what the driver
        takes as one parameter (``ops.in_list_param``).
        """
        start += self.offset
        end = start + size
        if self.constants is not None:
            base = self.constants_base
            items = self.constants[start - base:end - base]
            return self.const(pack([adapter(v) for v in items] if adapter else list(items)))
        name = f"__p{len(self._getters)}"
        self._plan[name] = (start, None)

        if adapter is None:
            def getter(values: Sequence[Any]) -> Any:
                return pack(list(values[start:end]))
        else:
            def getter(values: Sequence[Any]) -> Any:
                return pack([adapter(value) for value in values[start:end]])

        self._getters[name] = getter
        return sa.bindparam(name)

    def const(self, value: Any, type_: Any = None) -> sa.BindParameter[Any]:
        """Return a bound parameter for a constant of the query's shape (a JSON key)."""
        name = f"__p{len(self._getters)}"
        self._getters[name] = _constant(value)
        return sa.bindparam(name, value, type_=type_)

    def getters(self, compiled: Any) -> tuple[Getter, ...]:
        """Map the compiled statement's bind order to parameter getters.

        Bound parameters SQLAlchemy made itself (``limit(1)``, literals of this
        layer's own SQL) carry their value in the statement: they become constants.
        """
        found: list[Getter] = []
        for name in compiled.positiontup or ():
            getter = self._getters.get(name)
            if getter is None:
                bind = compiled.binds[name]
                if bind.required:
                    raise AssertionError(f"statement has a parameter {name!r} with no value")
                getter = _constant(bind.effective_value)
            found.append(getter)
        return tuple(found)

    def bind_plan(self, compiled: Any) -> list[tuple[int, Callable[[Any], Any] | None]]:
        """Return ``(parameter index, adapter)`` per placeholder, in the driver's order."""
        return [self._plan[name] for name in compiled.positiontup or ()]

    def field_adapter(self, field: Any) -> Callable[[Any], Any] | None:
        """Return ``value -> field.get_db_prep_value(value, ops)`` (cached by the field)."""
        return field.get_db_prep_func(self.ops)

    def field_save_adapter(self, field: Any) -> Callable[[Any], Any]:
        """Return ``field.get_db_prep_save_func(ops)``: a value being written (refuses what
        the column cannot hold with ``DataError``)."""
        return field.get_db_prep_save_func(self.ops)

    def field_converter(self, field: Any) -> Callable[[Any], Any] | None:
        """Return ``field``'s driver value -> Python value function, or None (cached)."""
        return field.get_db_converter(self.ops)

    # -- references ------------------------------------------------------------------------
    def column(self, field: Any, join: int = 0) -> ColumnElement[Any]:
        """Return the column of ``field`` in the table of join ``join`` (0: own table)."""
        if join:
            return self.alias(join).c[field.column]
        return self.table.c[field.column]

    def annotation_sa(self, name: str) -> ColumnElement[Any]:
        """Return the SQL expression of annotation ``name`` (built once per statement)."""
        built = self._annotation_sa.get(name)
        if built is None:
            built = self.annotations[name].to_sa(self)
            self._annotation_sa[name] = built
        return built

    def lhs(self, info: PathInfo, path: str = "") -> tuple[ColumnElement[Any], Any]:
        """Build the left-hand side of ``info``: ``(expression, last transform or None)``.

        ``path`` is the path as stored in the query's shape: across relations a
        ``JoinPath`` naming the joins to read from.
        """
        if info.annotation is not None:
            expr = self.annotation_sa(info.annotation)
            field = self.annotations[info.annotation].output_field(self)
        else:
            join = 0
            if info.steps:
                joins = getattr(path, "joins", None)
                if joins is None:
                    joins = self.add_joins(info.steps)
                join = joins[-1]
            if info.hybrid is not None:
                expr = self.hybrid_sa(info.hybrid, join)
                field = info.hybrid.output_field
            else:
                expr = self.column(info.field, join)
                field = info.field
        transform = None
        for cls, args in info.transforms:
            transform = cls(field, self, *args)
            expr = transform.build(expr)
            field = transform.output_field or field
        return expr, transform

    def hybrid_sa(self, hybrid: Any, join: int = 0) -> ColumnElement[Any]:
        """Return the SQL of a hybrid property (a ``HybridShape``) on the table of ``join``.

        Its constants are bound as constants of the statement: the hybrid is
        the same expression every time, so they are part of the query's shape.
        Across a relation it is built on the joined table's alias.
        """
        ctx = self if join == 0 else self.child(hybrid.model, {}, 0, self.alias(join))
        saved = ctx.constants, ctx.constants_base
        ctx.constants, ctx.constants_base = hybrid.constants, ctx.offset
        try:
            return hybrid.expression.to_sa(ctx)
        finally:
            ctx.constants, ctx.constants_base = saved

    def ref(self, name: str) -> ColumnElement[Any]:
        """Return the SQL expression for a reference such as ``F(name)``."""
        return self.lhs(self.resolve_ref(name), name)[0]

    def order_refs(self, name: str) -> list[Any]:
        """Return what ``order_by(name)`` sorts on (a transform may ask for more than one term)."""
        expr, transform = self.lhs(self.resolve_ref(name), name)
        order = getattr(transform, "order_expressions", None)
        return [expr] if order is None else list(order(expr))

    # -- ordering ----------------------------------------------------------------------------
    def order_terms(
        self, expr: Any, descending: bool, nulls_first: bool, nulls_last: bool
    ) -> list[Any]:
        """Return ORDER BY terms, emulating NULLS FIRST/LAST where the backend lacks it."""
        term = expr.desc() if descending else expr.asc()
        if not (nulls_first or nulls_last):
            return [term]
        if not self.features.supports_order_by_nulls_modifier:
            # Sort on "is null" first.
            flag = expr.is_(None)
            return [flag.asc() if nulls_last else flag.desc(), term]
        return [term.nulls_first() if nulls_first else term.nulls_last()]
