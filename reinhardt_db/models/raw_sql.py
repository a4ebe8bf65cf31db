"""``RawSQL``: hand-written SQL inside a query, with bound parameters.

::

    await Score.objects.annotate(big=RawSQL("CASE WHEN points > %s THEN 1 ELSE 0 END", (10,)))

The SQL text is part of the query's shape (one compiled statement per text);
the params are bound on every backend, never formatted into the SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from reinhardt_db.models.expressions import Expression, Value, field_key

if TYPE_CHECKING:
    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = ["RawFragment", "RawSQL"]


class RawSQL(Expression):
    """A piece of SQL written by hand, with ``%s`` placeholders for bound ``params``.

    ``RawSQL("CASE WHEN points > %s THEN 1 ELSE 0 END", (10,))``. The text is
    part of the query's shape (one compiled statement per text); the params
    are always bound, never formatted into the SQL. A literal ``%`` is ``%%``.
    """

    __slots__ = ("_output_field", "params", "sql")

    def __init__(self, sql: str, params: Any = (), output_field: Any = None) -> None:
        if not isinstance(sql, str):
            raise TypeError(f"RawSQL() takes the SQL as a string, got {sql!r}")
        params = tuple(params)
        parts = _split_placeholders(sql)
        if len(parts) - 1 != len(params):
            raise ValueError(
                f"RawSQL {sql!r} has {len(parts) - 1} %s placeholder(s) but {len(params)} "
                "param(s) were given; write a literal percent sign as %%"
            )
        self.sql = sql
        self.params = tuple(
            p if isinstance(p, Expression) else Value(p) for p in params
        )
        self._output_field = output_field

    def __repr__(self) -> str:
        return f"RawSQL({self.sql!r}, {self.params!r})"

    def get_source_expressions(self) -> list[Expression]:
        return list(self.params)

    def identity(self) -> tuple[Any, ...]:
        return (
            "RAW", self.sql, tuple(p.identity() for p in self.params), field_key(self._output_field)
        )

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        new = RawSQL.__new__(RawSQL)
        new.sql = self.sql
        new.params = tuple(p.parameterize(values, resolver) for p in self.params)
        new._output_field = self._output_field
        return new

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        field = self._output_field
        type_ = field.sa_type(ctx.ops) if field is not None else None
        return RawFragment(
            _split_placeholders(self.sql), [p.to_sa(ctx) for p in self.params], type_
        )

    def output_field(self, resolver: Resolver) -> Any:
        return self._output_field


def _split_placeholders(sql: str) -> list[str]:
    """Split ``sql`` at its ``%s`` placeholders; ``%%`` stays a literal ``%``."""
    parts: list[str] = []
    current: list[str] = []
    position = 0
    while position < len(sql):
        pair = sql[position:position + 2]
        if pair == "%%":
            current.append("%")
            position += 2
        elif pair == "%s":
            parts.append("".join(current))
            current = []
            position += 2
        else:
            current.append(sql[position])
            position += 1
    parts.append("".join(current))
    return parts


class RawFragment(ColumnElement[Any]):
    """``(<text> <param> <text> ...)``: hand-written SQL, parenthesized, values bound."""

    inherit_cache = False

    def __init__(self, parts: list[str], params: list[Any], type_: Any = None) -> None:
        self.parts = parts
        self.binds = params
        self.type = type_ if type_ is not None else NullType()


@compiles(RawFragment)
def _compile_raw(element: RawFragment, compiler: Any, **kw: Any) -> str:
    pieces = [compiler.post_process_text(element.parts[0])]
    for param, text in zip(element.binds, element.parts[1:], strict=True):
        pieces.append(compiler.process(param, **kw))
        pieces.append(compiler.post_process_text(text))
    return "(" + "".join(pieces) + ")"
