"""The SQLAlchemy element behind ``RawSQL``: text pieces with bound parameters between them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

__all__ = ["RawFragment"]


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
