"""Row readers: driver rows -> model instances, dicts, tuples or single values.

A reader is made once per compiled statement and knows each column's name and
converter (``Field.get_db_converter``; most columns have none). The instance
reader is generated Python code with one plain assignment per column, which
is the fastest way CPython has to fill an instance's ``__dict__``; converters
are called only for the columns that have one, and never on NULL.
"""

from __future__ import annotations

import functools
import keyword
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Reader", "make_reader"]

Reader = Callable[[Sequence[Any], str], list[Any]]
Converter = Callable[[Any], Any] | None


def _value_code(index: int, converter: Converter) -> str:
    if converter is None:
        return f"row[{index}]"
    return f"(None if row[{index}] is None else c{index}(row[{index}]))"


def _compile(source: str, name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    exec(compile(source, f"<reinhardt_db reader {name}>", "exec"), namespace)
    return namespace[name]


def _check_names(names: Sequence[str]) -> None:
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"column name {name!r} is not a string")


_state_factories: dict[str, Callable[[], Any]] = {}


def loaded_state(alias: str) -> Callable[[], Any]:
    """Return a factory of ``ModelState(db=alias, adding=False)`` (a C-level partial)."""
    factory = _state_factories.get(alias)
    if factory is None:
        from reinhardt_db.models.base import ModelState

        factory = _state_factories[alias] = functools.partial(ModelState, alias, False)
    return factory


def model_reader(model: Any, names: Sequence[str], converters: Sequence[Converter]) -> Reader:
    """Return a reader building ``model`` instances (attributes = ``names``)."""
    _check_names(names)
    namespace: dict[str, Any] = {
        "new": object.__new__, "cls": model, "loaded_state": loaded_state,
    }
    lines = [
        "def read(rows, alias):",
        "    state = loaded_state(alias)",
        "    out = []",
        "    append = out.append",
        "    for row in rows:",
        "        obj = new(cls)",
        "        d = obj.__dict__",
    ]
    for index, (name, converter) in enumerate(zip(names, converters, strict=True)):
        if converter is not None:
            namespace[f"c{index}"] = converter
        lines.append(f"        d[{name!r}] = {_value_code(index, converter)}")
    lines += ["        d['_state'] = state()", "        append(obj)", "    return out"]
    return _compile("\n".join(lines) + "\n", "read", namespace)


def dict_reader(names: Sequence[str], converters: Sequence[Converter]) -> Reader:
    """Return a reader building one dict per row."""
    _check_names(names)
    namespace: dict[str, Any] = {}
    items = []
    for index, (name, converter) in enumerate(zip(names, converters, strict=True)):
        if converter is not None:
            namespace[f"c{index}"] = converter
        items.append(f"{name!r}: {_value_code(index, converter)}")
    source = (
        "def read(rows, alias):\n"
        f"    return [{{{', '.join(items)}}} for row in rows]\n"
    )
    return _compile(source, "read", namespace)


def tuple_reader(converters: Sequence[Converter]) -> Reader:
    """Return a reader building one tuple per row."""
    if not any(converters):
        return lambda rows, alias: [tuple(row) for row in rows]
    namespace: dict[str, Any] = {}
    items = []
    for index, converter in enumerate(converters):
        if converter is not None:
            namespace[f"c{index}"] = converter
        items.append(_value_code(index, converter))
    source = f"def read(rows, alias):\n    return [({', '.join(items)},) for row in rows]\n"
    return _compile(source, "read", namespace)


def flat_reader(converter: Converter) -> Reader:
    """Return a reader yielding the first column's value of each row."""
    if converter is None:
        return lambda rows, alias: [row[0] for row in rows]
    conv = converter
    return lambda rows, alias: [None if row[0] is None else conv(row[0]) for row in rows]


def named_reader(names: Sequence[str], converters: Sequence[Converter]) -> Reader:
    """Return a reader building one named tuple (``Row``) per row."""
    fields = [n if n.isidentifier() and not keyword.iskeyword(n) else f"_{i}"
              for i, n in enumerate(names)]
    row_class = namedtuple("Row", fields)  # type: ignore[misc]
    as_tuples = tuple_reader(converters)
    make = row_class._make
    return lambda rows, alias: [make(t) for t in as_tuples(rows, alias)]


def make_reader(
    mode: str, model: Any, names: Sequence[str], converters: Sequence[Converter]
) -> Reader:
    """Return the reader for a SELECT in ``mode`` (see ``sql.compiler``)."""
    if mode == "models":
        return model_reader(model, names, converters)
    if mode == "dicts":
        return dict_reader(names, converters)
    if mode == "tuples":
        return tuple_reader(converters)
    if mode == "flat":
        return flat_reader(converters[0])
    if mode == "named":
        return named_reader(names, converters)
    raise ValueError(f"unknown reader mode {mode!r}")
