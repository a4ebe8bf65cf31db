"""Conditional expressions: ``Case`` and ``When``.

::

    await Client.objects.annotate(
        discount=Case(
            When(account_type="gold", then=Value(10)),
            When(Q(registered__year__lt=2020) | Q(vip=True), then=Value(5)),
            default=Value(0),
        )
    )

A ``When`` condition is a ``Q`` (or keyword lookups, or a boolean expression
such as ``Exists``); it is parameterized like a ``filter()``, so its constants
are bound parameters and its shape is part of the cache key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.models.expressions import Expression, Value, field_key
from reinhardt_db.models.query_utils import Q

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = ["Case", "When"]


def _value(value: Any) -> Expression:
    if isinstance(value, Expression):
        return value
    if isinstance(value, str):
        from reinhardt_db.models.expressions import F

        return F(value)
    return Value(value)


class When(Expression):
    """One branch of a ``Case``: ``When(Q(...) or lookups, then=expression)``.

    ``then`` given as a string names a field (as in Django); wrap text in ``Value``.
    """

    def __init__(self, condition: Any = None, then: Any = None, **lookups: Any) -> None:
        if lookups:
            if condition is None:
                condition = Q(**lookups)
            elif isinstance(condition, Q):
                condition = condition & Q(**lookups)
            else:  # a boolean expression and lookups: both must hold
                condition = Q(condition, **lookups)
        if condition is None or (isinstance(condition, Q) and not condition):
            raise ValueError("When() needs a condition: a Q object, lookups or an expression")
        if not isinstance(condition, (Q, Expression)):
            raise TypeError(
                f"When()'s condition must be a Q object or a boolean expression, got {condition!r}"
            )
        self.condition: Any = condition
        self.result = _value(then)

    def __repr__(self) -> str:
        return f"When({self.condition!r}, then={self.result!r})"

    def get_source_expressions(self) -> list[Expression]:
        found = [self.result]
        if isinstance(self.condition, Expression):
            found.insert(0, self.condition)
        return found

    def identity(self) -> tuple[Any, ...]:
        condition = self.condition
        key = condition.identity() if isinstance(condition, Expression) else (
            condition if isinstance(condition, tuple) else hash(condition)
        )
        return ("WHEN", key, self.result.identity())

    def resolve(self, resolver: Resolver) -> None:
        if isinstance(self.condition, Expression):
            self.condition.resolve(resolver)
        self.result.resolve(resolver)

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        from reinhardt_db.models.sql.where import parameterize_q

        new = When.__new__(When)
        if isinstance(self.condition, Q):
            new.condition = parameterize_q(self.condition, values, resolver)
        elif isinstance(self.condition, Expression):
            new.condition = self.condition.parameterize(values, resolver)
        else:  # already a shape
            new.condition = self.condition
        new.result = self.result.parameterize(values, resolver)
        return new

    def condition_sa(self, ctx: CompileContext) -> ColumnElement[bool]:
        """Build the condition (on a parameterized When)."""
        from reinhardt_db.models.sql.where import compile_node

        if isinstance(self.condition, Expression):
            return self.condition.to_sa(ctx)
        return compile_node(ctx, self.condition)

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        return sa.case((self.condition_sa(ctx), self.result.to_sa(ctx)), else_=sa.null())

    def output_field(self, resolver: Resolver) -> Any:
        return self.result.output_field(resolver)


class Case(Expression):
    """``CASE WHEN ... THEN ... ELSE default END``: the first ``When`` whose condition holds.

    ``default`` (NULL when not given) is the result when none does;
    ``output_field`` types the result (else the first typed branch's field).
    """

    def __init__(self, *cases: When, default: Any = None, output_field: Any = None) -> None:
        if not cases:
            raise ValueError("Case() needs at least one When()")
        for case in cases:
            if not isinstance(case, When):
                raise TypeError(f"Case() takes When() objects, got {case!r}")
        self.cases = list(cases)
        #: None: no ELSE value (SQL NULL, nothing bound).
        self.default: Expression | None = None if default is None else _value(default)
        self._output_field = output_field

    def __repr__(self) -> str:
        return f"Case({', '.join(map(repr, self.cases))}, default={self.default!r})"

    def get_source_expressions(self) -> list[Expression]:
        return [*self.cases, *([self.default] if self.default is not None else [])]

    def identity(self) -> tuple[Any, ...]:
        return (
            "CASE",
            tuple(case.identity() for case in self.cases),
            None if self.default is None else self.default.identity(),
            field_key(self._output_field),
        )

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        new = Case.__new__(Case)
        new.cases = [case.parameterize(values, resolver) for case in self.cases]  # type: ignore[misc]
        new.default = (
            None if self.default is None else self.default.parameterize(values, resolver)
        )
        new._output_field = self._output_field
        return new

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        whens = [(case.condition_sa(ctx), case.result.to_sa(ctx)) for case in self.cases]
        default = sa.null() if self.default is None else self.default.to_sa(ctx)
        return sa.case(*whens, else_=default)

    def output_field(self, resolver: Resolver) -> Any:
        if self._output_field is not None:
            return self._output_field
        for expression in [case.result for case in self.cases] + (
            [self.default] if self.default is not None else []
        ):
            field = expression.output_field(resolver)
            if field is not None:
                return field
        return None
