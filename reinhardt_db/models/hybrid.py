"""Hybrid properties and methods: one name, Python on instances, SQL in queries.

::

    class Person(models.Model):
        first = models.CharField(max_length=50)
        last = models.CharField(max_length=50)

        @models.hybrid_property
        def full_name(self) -> str:
            return f"{self.first} {self.last}"

        @full_name.expression
        def full_name(cls):
            return models.Concat("first", models.Value(" "), "last")

    person.full_name                                        # the getter: "Ann Lee"
    await Person.objects.filter(full_name__icontains="an").order_by("full_name")
    await Person.objects.filter(Person.full_name.startswith("A"))

In a query the name of a hybrid property stands for its expression wherever a
field name may stand (lookups, ``Q``, ``order_by``, ``values``, ``F``, inside
aggregates, after a relation: ``author__full_name``). The query layer resolves
the name in one place (``sql.context.Resolver``), so the query's shape keeps
the name and the compiled-statement cache works as for fields.

The expression function runs once per model, the first time a query names the
hybrid; its result is parameterized into a :class:`HybridShape`, whose
constants (``Value(" ")``) belong to the compiled statement. So it must not
depend on when it runs: use ``Now()``, not ``datetime.now()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.expressions import Expression, F, FieldRef, Value
from reinhardt_db.models.query_utils import Q
from reinhardt_db.models.sql.context import LOOKUP_SEP, PathInfo, Resolver

if TYPE_CHECKING:
    from reinhardt_db.models.sql.where import Node

__all__ = [
    "HybridRef",
    "HybridShape",
    "hybrid_method",
    "hybrid_property",
    "hybrid_shape",
    "model_hybrids",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


def _function(func: Any) -> Callable[..., Any]:
    """The plain function of ``func`` (``@classmethod`` is accepted on expressions)."""
    return func.__func__ if isinstance(func, (classmethod, staticmethod)) else func


class _Hybrid:
    """What hybrid properties and methods share: a name, an owner, an expression function.

    ``expression()`` and ``setter()`` change this object and return it, so the
    decorated function may repeat the hybrid's name (as with ``property``) or
    take another one (which a type checker prefers: ``def _full_name_sql(cls)``);
    the hybrid keeps the name it was first given.
    """

    kind = "hybrid"

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.expr: Callable[..., Any] | None = None
        self.name: str = func.__name__
        self.owner: type | None = None
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        if self.owner is None:
            self.owner = owner
            self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def _set_expression(self, expr: Callable[..., Any]) -> None:
        expr = _function(expr)
        if not callable(expr):
            raise TypeError(f"{self.name}.expression decorates a function, got {expr!r}")
        self.expr = expr

    def missing_expression(self, model: type) -> FieldError:
        """The error for a query that uses this hybrid while it has no expression."""
        method = isinstance(self, hybrid_method)
        return FieldError(
            f"{model.__name__}.{self.name}{'(...)' if method else ''} is a {self.kind} "
            "without a query expression, so it only runs on instances; to use it in "
            f"queries define @{self.name}.expression (def {self.name}"
            f"({'cls, ...' if method else 'cls'}): return <an expression or Q>)."
        )


class hybrid_property(_Hybrid, Generic[T]):
    """A property whose getter runs on instances and whose expression runs in queries.

    On an instance ``person.full_name`` calls the getter. On the class
    ``Person.full_name`` is a :class:`HybridRef`: an ``F("full_name")`` that also
    builds conditions (``Person.full_name.icontains("an")``, ``== "Ann Lee"``).
    In queries the name means the expression from ``@full_name.expression``,
    which receives the model class and returns an expression (``Concat(...)``),
    a field name, or a ``Q`` (a boolean hybrid: ``True`` where it holds).
    ``@full_name.setter`` makes the name assignable on instances (and in the
    model's constructor), as for ``property``.
    """

    kind = "hybrid property"

    def __init__(
        self,
        fget: Callable[[Any], T],
        fset: Callable[[Any, Any], None] | None = None,
        expr: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__(fget)
        self.fset = fset
        if expr is not None:
            self._set_expression(expr)

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> HybridRef[T]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return HybridRef(owner, self.name)
        return self.func(instance)

    def __set__(self, instance: Any, value: Any) -> None:
        if self.fset is None:
            raise AttributeError(
                f"hybrid property {self.name!r} of {type(instance).__name__!r} object has no "
                f"setter; define one with @{self.name}.setter"
            )
        self.fset(instance, value)

    def expression(self, expr: Callable[[Any], Any]) -> hybrid_property[T]:
        """Decorate the function building the query expression: ``def name(cls)``."""
        self._set_expression(expr)
        return self

    def setter(self, fset: Callable[[Any, Any], None]) -> hybrid_property[T]:
        """Decorate the function that assigns the value on an instance."""
        self.fset = fset
        return self

    def shape(self, model: Any) -> HybridShape:
        """Return this hybrid's expression on ``model``, ready for the compiler."""
        return hybrid_shape(model, self.name)


class hybrid_method(_Hybrid, Generic[P, R]):
    """A method that runs in Python on instances and builds a condition on the class.

    ::

        @models.hybrid_method
        def older_than(self, age: int) -> bool:
            return self.age > age

        @older_than.expression
        def older_than(cls, age):
            return models.Q(age__gt=age)

        person.older_than(30)                                # True or False
        await Person.objects.filter(Person.older_than(30))  # WHERE age > 30

    On the class the call returns what the expression function returns (a ``Q``,
    or an expression for ``annotate``/``order_by``), with names relative to the
    model, as ``filter()``, ``exclude()``, ``annotate()`` take them.
    """

    kind = "hybrid method"

    def __init__(self, func: Callable[Concatenate[Any, P], R]) -> None:
        super().__init__(func)

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Callable[P, Any]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Callable[P, R]: ...

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is not None:
            return self.func.__get__(instance, owner)
        expr = self.expr
        if expr is None:
            error = self.missing_expression(owner)

            def missing(*args: Any, **kwargs: Any) -> Any:
                raise error

            return missing

        def build(*args: Any, **kwargs: Any) -> Any:
            built = expr(owner, *args, **kwargs)
            return F(built) if isinstance(built, str) else built

        build.__name__ = self.name
        build.__doc__ = self.__doc__
        return build

    def expression(self, expr: Callable[Concatenate[Any, P], Any]) -> hybrid_method[P, R]:
        """Decorate the function building the query side: ``def name(cls, *args)``."""
        self._set_expression(expr)
        return self


class HybridRef(FieldRef[T]):
    """A hybrid property read on the class: ``Person.full_name``.

    An ``F("full_name")`` (so usable in ``annotate``, ``order_by``, ``values``
    and arithmetic) whose comparisons build conditions as a field's do:
    ``filter(Person.full_name.icontains("an"))`` is
    ``filter(full_name__icontains="an")``. :attr:`expression` is the
    expression the name stands for.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"HybridRef({self.model.__name__}.{self.name})"

    @property
    def field(self) -> Any:
        """Hybrids have no field: raises ``FieldError`` pointing to :attr:`expression`."""
        raise FieldError(
            f"{self.model.__name__}.{self.name} is a hybrid property, not a field; "
            f"its query expression is {self.model.__name__}.{self.name}.expression"
        )

    @property
    def expression(self) -> Expression:
        """The expression the hybrid stands for in queries (as its function returned it)."""
        return hybrid_shape(self.model, self.name).source


@dataclass(frozen=True, slots=True)
class HybridShape:
    """A hybrid property's expression on one model, ready for the compiler.

    ``expression`` is parameterized: its constants are ``constants[i]`` for each
    ``Param(i)``, bound as constants of the statement (``CompileContext.hybrid_sa``).
    ``crosses_relations``: the expression reads across relations (joins made
    when compiling), so it cannot itself be reached across a relation.
    """

    model: Any
    name: str
    source: Expression
    expression: Expression
    constants: tuple[Any, ...]
    output_field: Any
    crosses_relations: bool


class _HybridResolver(Resolver):
    """Resolves a hybrid's expression against its model (fields and other hybrids).

    Relations are allowed where they lead to one row (forward foreign keys,
    one-to-one): the compiler joins them. A multi-valued relation would repeat
    rows; a ``Subquery`` or ``Exists`` says what is meant instead.
    """

    pad_lists = False  # a constant list: one statement whatever its length

    def __init__(self, model: Any, name: str) -> None:
        super().__init__(model)
        self.hybrid_name = name
        self.crosses = False

    def resolve_lookup(self, path: str) -> PathInfo:
        return self._crossing(path, super().resolve_lookup(path))

    def resolve_ref(self, path: str) -> PathInfo:
        return self._crossing(path, super().resolve_ref(path))

    def relation_leaf(
        self, path: str, info: PathInfo, value: Any, values: list[Any], negated: bool
    ) -> Node:
        # A plain leaf: the compiler joins the path's relations (all single-valued).
        assert info.lookup is not None
        return (path, info.lookup.parameterize_rhs(value, values, self))

    def _crossing(self, path: str, info: PathInfo) -> PathInfo:
        """Note whether ``path`` reads across relations (itself or through another hybrid)."""
        if any(step.multi for step in info.steps):
            raise FieldError(
                f"{self.model.__name__}.{self.hybrid_name}: the expression reads {path!r} "
                "across a multi-valued relation, which would repeat rows; use a "
                "Subquery(...) or Exists(...) with OuterRef('pk') instead."
            )
        if info.steps or (info.hybrid is not None and info.hybrid.crosses_relations):
            self.crosses = True
        return info


def _as_expression(built: Any, model: type, name: str) -> Expression:
    if isinstance(built, Expression):
        return built
    if isinstance(built, str):
        return F(built)
    if isinstance(built, Q):
        from reinhardt_db.models.conditional import Case, When
        from reinhardt_db.models.fields import BooleanField

        return Case(
            When(built, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    raise TypeError(
        f"{model.__name__}.{name}: the hybrid property's expression must return an "
        f"expression (F, Value, Concat ...), a field name or a Q object, got {built!r}"
    )


_BUILDING = object()


def hybrid_shape(model: Any, name: str) -> HybridShape:
    """Return the shape of ``model``'s hybrid property ``name`` (built once, then cached).

    Raises ``FieldError`` when the hybrid has no expression, when the
    expression names something the model does not have, holds an aggregate or
    a window function, or refers back to itself.
    """
    meta = model._meta
    shape = meta.hybrid_shapes.get(name)
    if shape is _BUILDING:
        raise FieldError(f"{model.__name__}.{name}: the hybrid's expression refers to itself")
    if isinstance(shape, HybridShape):
        return shape
    hybrid = meta.hybrids[name]
    if hybrid.expr is None:
        raise hybrid.missing_expression(model)
    meta.hybrid_shapes[name] = _BUILDING
    try:
        shape = _build_shape(model, name, hybrid.expr(model))
    finally:
        del meta.hybrid_shapes[name]
    meta.hybrid_shapes[name] = shape
    return shape


def _build_shape(model: Any, name: str, built: Any) -> HybridShape:
    from reinhardt_db.models.sql.compiler import _has_window

    source = _as_expression(built, model, name)
    resolver = _HybridResolver(model, name)
    source.resolve(resolver)
    if source.has_aggregate or _has_window(source):
        kind = "an aggregate" if source.has_aggregate else "a window function"
        raise FieldError(
            f"{model.__name__}.{name}: a hybrid property's expression cannot hold {kind} "
            "(it is used per row, in WHERE as well); annotate() the aggregate, or read it "
            "per row with a Subquery(...)."
        )
    constants: list[Any] = []
    expression = source.parameterize(constants, resolver)
    return HybridShape(
        model, name, source, expression, tuple(constants),
        expression.output_field(resolver), resolver.crosses,
    )


def model_hybrids(cls: type, field_names: set[str]) -> dict[str, hybrid_property[Any]]:
    """The hybrid properties of ``cls`` by name (its own and its parents'), checked.

    ``field_names`` are the names and attnames of its fields: a hybrid may not
    take one (the field would be hidden behind the hybrid on every instance).
    """
    found: dict[str, hybrid_property[Any]] = {}
    named: dict[str, _Hybrid] = {}
    for klass in reversed(cls.__mro__):
        for key, value in vars(klass).items():
            if isinstance(value, _Hybrid) and key == value.name:
                named[key] = value
            elif key in named:
                del named[key]  # overridden by something that is not a hybrid
    for key, value in named.items():
        problem = None
        if key == "pk":
            problem = "'pk' always means the primary key"
        elif LOOKUP_SEP in key:
            problem = "a name with '__' cannot be told from a lookup path"
        elif key in field_names:
            problem = f"{cls.__name__} has a field (or a field's column attribute) {key!r}"
        if problem is not None:
            raise FieldError(
                f"{cls.__name__}.{key}: cannot define the {value.kind} {key!r}: {problem}; "
                "rename the hybrid."
            )
        if isinstance(value, hybrid_property):
            found[key] = value
    return found
