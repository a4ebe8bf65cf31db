"""Database functions: ``Func`` and the built-in ones (``Coalesce Lower Upper ...``).

A function is an expression built from other expressions; a string argument
names a field (``Lower("username")`` is ``Lower(F("username"))``) and any
other constant becomes a bound :class:`~reinhardt_db.models.expressions.Value`::

    await User.objects.annotate(name=Coalesce("nickname", "username", Value("?")))
    await User.objects.alias(low=Lower("username")).filter(low="ann")

Each function compiles through the backend's ``ops`` where servers differ
(``CHAR_LENGTH`` on MySQL, Unicode case mapping on SQLite, ``GREATEST`` NULL
handling on PostgreSQL), so a function gives the same answer on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.models.expressions import Expression, F, Value, field_key

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = [
    "Cast",
    "Coalesce",
    "Concat",
    "Func",
    "Greatest",
    "LTrim",
    "Least",
    "Length",
    "Lower",
    "Now",
    "RTrim",
    "Trim",
    "Upper",
]


def as_expression(value: Any) -> Expression:
    """Return ``value`` as an expression: a string names a field, other constants are bound."""
    if isinstance(value, Expression):
        return value
    if isinstance(value, str):
        return F(value)
    return Value(value)


class _Shared:
    """One unbound field instance per field class, for typing function results."""

    _fields: ClassVar[dict[type, Any]] = {}

    @classmethod
    def get(cls, name: str) -> Any:
        from reinhardt_db.models import fields

        klass = getattr(fields, name)
        found = cls._fields.get(klass)
        if found is None:
            found = cls._fields[klass] = klass()
        return found


class Func(Expression):
    """An SQL function over expressions: ``Func(F("a"), F("b"), function="gcd")``.

    Subclass and set ``function`` (the SQL name), or override :meth:`sql` when
    the SQL is not a plain call. ``output_field`` (a Field instance) types the
    result; by default it is the first argument's field.
    """

    function: ClassVar[str] = ""
    #: How many arguments the function takes (None: any number, at least one).
    arity: ClassVar[int | None] = None

    def __init__(self, *expressions: Any, output_field: Any = None, function: str = "") -> None:
        if self.arity is not None and len(expressions) != self.arity:
            raise TypeError(
                f"{type(self).__name__} takes {self.arity} argument"
                f"{'s' if self.arity != 1 else ''}, got {len(expressions)}"
            )
        if function:
            if not function.replace("_", "").isalnum():
                raise ValueError(f"function names are identifiers, got {function!r}")
            self.function = function  # type: ignore[misc]
        if not self.function and type(self).sql is Func.sql:
            raise TypeError("Func() needs function='NAME' (or subclass it and set function)")
        self.source_expressions: list[Expression] = [as_expression(e) for e in expressions]
        self._output_field = output_field

    def __repr__(self) -> str:
        args = ", ".join(repr(e) for e in self.source_expressions)
        return f"{type(self).__name__}({args})"

    def get_source_expressions(self) -> list[Expression]:
        return list(self.source_expressions)

    def extra_identity(self) -> tuple[Any, ...]:
        """What else (besides sources and output field) shapes this function's SQL."""
        return ()

    def identity(self) -> tuple[Any, ...]:
        return (
            type(self),  # a subclass may build other SQL under the same function name
            self.function,
            tuple(e.identity() for e in self.source_expressions),
            field_key(self._output_field),
            self.extra_identity(),
        )

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.source_expressions = [e.parameterize(values, resolver) for e in self.source_expressions]
        return new

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        return self.sql(ctx, [e.to_sa(ctx) for e in self.source_expressions])

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        """Return the SQLAlchemy expression of this call with the compiled ``args``."""
        return getattr(sa.func, self.function)(*args)

    def output_field(self, resolver: Resolver) -> Any:
        if self._output_field is not None:
            return self._output_field
        return super().output_field(resolver)


class Cast(Func):
    """``CAST(expression AS <output_field's type>)``: ``Cast("age", FloatField())``."""

    function = "cast"
    arity = 1

    def __init__(self, expression: Any, output_field: Any) -> None:
        if output_field is None or not hasattr(output_field, "sa_type"):
            raise TypeError(f"Cast() needs a field instance as output_field, got {output_field!r}")
        super().__init__(expression, output_field=output_field)

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return ctx.ops.cast(args[0], self._output_field)


class Coalesce(Func):
    """The first argument that is not NULL: ``Coalesce("nickname", "username")``."""

    function = "coalesce"

    def __init__(self, *expressions: Any, output_field: Any = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Coalesce must take at least two expressions")
        super().__init__(*expressions, output_field=output_field)


class _Text(Func):
    arity = 1


class Lower(_Text):
    """The text in lower case (Unicode case mapping on every backend)."""

    function = "lower"

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return ctx.ops.lower(ctx.ops.as_text(args[0]))


class Upper(_Text):
    """The text in upper case (Unicode case mapping on every backend)."""

    function = "upper"

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return ctx.ops.upper(ctx.ops.as_text(args[0]))


class Length(_Text):
    """The number of characters (not bytes) of the text; NULL for NULL."""

    function = "length"

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return ctx.ops.char_length(ctx.ops.as_text(args[0]))

    def output_field(self, resolver: Resolver) -> Any:
        return self._output_field or _Shared.get("IntegerField")


class Trim(_Text):
    """The text without leading and trailing spaces."""

    function = "trim"
    sides: ClassVar[str] = "both"

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        text = ctx.ops.as_text(args[0])
        name = {"both": "trim", "leading": "ltrim", "trailing": "rtrim"}[self.sides]
        return getattr(sa.func, name)(text)


class LTrim(Trim):
    """The text without leading spaces."""

    function = "ltrim"
    sides = "leading"


class RTrim(Trim):
    """The text without trailing spaces."""

    function = "rtrim"
    sides = "trailing"


class Concat(Func):
    """The texts joined; a NULL part counts as the empty string (as in Django).

    ``Concat("first_name", Value(" "), "last_name")``.
    """

    function = "concat"

    def __init__(self, *expressions: Any, output_field: Any = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Concat must take at least two expressions")
        super().__init__(*expressions, output_field=output_field)

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        empty = sa.literal_column("''", sa.String)
        parts = [sa.func.coalesce(ctx.ops.as_text(arg), empty) for arg in args]
        return ctx.ops.concat(*parts)

    def output_field(self, resolver: Resolver) -> Any:
        return self._output_field or _Shared.get("TextField")


class Now(Func):
    """The current date and time (UTC) on the database server."""

    function = "now"
    arity = 0

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return ctx.ops.now()

    def output_field(self, resolver: Resolver) -> Any:
        return self._output_field or _Shared.get("DateTimeField")


class _Extreme(Func):
    """``GREATEST``/``LEAST``: NULL when any argument is NULL, on every backend."""

    greatest: ClassVar[bool] = True

    def __init__(self, *expressions: Any, output_field: Any = None) -> None:
        if len(expressions) < 2:
            raise ValueError(f"{type(self).__name__} must take at least two expressions")
        super().__init__(*expressions, output_field=output_field)

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return ctx.ops.greatest(args) if self.greatest else ctx.ops.least(args)


class Greatest(_Extreme):
    """The largest of the arguments (NULL if any is NULL, as on MySQL and SQLite)."""

    function = "greatest"


class Least(_Extreme):
    """The smallest of the arguments (NULL if any is NULL, as on MySQL and SQLite)."""

    function = "least"
    greatest = False
