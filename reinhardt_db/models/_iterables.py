"""Row readers: driver rows -> model instances, dicts, tuples or single values.

A reader is made once per compiled statement and knows each column's name and
converter (``Field.get_db_converter``; most columns have none). The instance
reader is generated Python code with one plain assignment per column, which
is the fastest way CPython has to fill an instance's ``__dict__``; converters
are called only for the columns that have one, and never on NULL.

The instances one read builds share one ``ModelState(db=alias, adding=False)``
(a third of the per-row cost otherwise). A ``_state`` is therefore never
mutated: code that changes it assigns a new one (``persistence.mark_saved``).
"""

from __future__ import annotations

import keyword
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Reader", "make_reader"]

Reader = Callable[[Sequence[Any], str], list[Any]]
Converter = Callable[[Any], Any] | None


def _value_code(index: int, converter: Converter) -> str:
    if converter is None:
        return f"v{index}"
    return f"(None if v{index} is None else c{index}(v{index}))"


def _unpack(count: int) -> str:
    """The loop target unpacking a row into ``v0, v1, ...`` (faster than indexing)."""
    return "(" + "".join(f"v{i}, " for i in range(count)) + ")"


def _compile(source: str, name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    exec(compile(source, f"<reinhardt_db reader {name}>", "exec"), namespace)
    return namespace[name]


def _check_names(names: Sequence[str]) -> None:
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"column name {name!r} is not a string")


def model_reader(model: Any, names: Sequence[str], converters: Sequence[Converter]) -> Reader:
    """Return a reader building ``model`` instances (attributes = ``names``)."""
    _check_names(names)
    from reinhardt_db.models.base import ModelState

    namespace: dict[str, Any] = {"new": object.__new__, "cls": model, "ModelState": ModelState}
    lines = [
        "def read(rows, alias):",
        "    state = ModelState(alias, False)",
        "    out = []",
        "    append = out.append",
        f"    for {_unpack(len(names))} in rows:",
        "        obj = new(cls)",
        "        d = obj.__dict__",
    ]
    for index, (name, converter) in enumerate(zip(names, converters, strict=True)):
        if converter is not None:
            namespace[f"c{index}"] = converter
        lines.append(f"        d[{name!r}] = {_value_code(index, converter)}")
    lines += ["        d['_state'] = state", "        append(obj)", "    return out"]
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
        f"    return [{{{', '.join(items)}}} for {_unpack(len(names))} in rows]\n"
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
    source = (
        "def read(rows, alias):\n"
        f"    return [({', '.join(items)},) for {_unpack(len(converters))} in rows]\n"
    )
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
