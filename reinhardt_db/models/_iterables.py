"""Row readers: driver rows -> model instances, dicts, tuples or single values.

A reader is made once per compiled statement and knows each column's name and
converter (``Field.get_db_converter``; most columns have none). The instance
reader is generated Python code with one plain assignment per column, which
is the fastest way CPython has to fill an instance's ``__dict__``; converters
are called only for the columns that have one, and never on NULL. The
instances come made, one per row, from ``_instances.blank`` (in C where the
extension was built): the loop fills the list it returns.

The instances one read builds share one ``ModelState(db=alias, adding=False)``
(a third of the per-row cost otherwise). A ``_state`` is therefore never
mutated: code that changes it assigns a new one (``persistence.mark_saved``).
"""

from __future__ import annotations

import gc
import keyword
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from reinhardt_db.models import _instances
from reinhardt_db.models.fields.related_descriptors import link_name

__all__ = [
    "ModelSlice", "Reader", "gc_paused", "grouping_reader", "make_reader", "related_reader",
    "without_gc",
]

Reader = Callable[[Sequence[Any], str], list[Any]]
Converter = Callable[[Any], Any] | None


def _value_code(index: int, converter: Converter, inline: bool = False) -> str:
    """The expression for column ``index`` when the loop unpacked the row into ``v0, v1, ...``."""
    if converter is None:
        return f"v{index}"
    template = getattr(converter, "inline", None) if inline else None
    if template is not None:
        return f"(None if v{index} is None else {template.format(v=f'v{index}', c=f'c{index}')})"
    return f"(None if v{index} is None else c{index}(v{index}))"


def _item_code(index: int, converter: Converter, inline: bool = False) -> str:
    """The expression for column ``index`` of ``row``, read by position.

    The instance readers index rows instead of unpacking them: unpacking an
    asyncpg ``Record`` goes through its iterator (one call per column and one
    more to see the end), indexing does not, and on tuples both cost the same.
    A column with a converter is bound to ``v<index>`` first (read once).
    """
    if converter is None:
        return f"row[{index}]"
    value = f"(v{index} := row[{index}])"
    template = getattr(converter, "inline", None) if inline else None
    if template is not None:
        return f"(None if {value} is None else {template.format(v=f'v{index}', c=f'c{index}')})"
    return f"(None if {value} is None else c{index}(v{index}))"


def _has_inline(converters: Sequence[Converter]) -> bool:
    return any(getattr(c, "inline", None) is not None for c in converters if c is not None)


def _expose_deferred(model: Any, names: Sequence[str]) -> None:
    """Let instances missing some fields' values say so when read (``base.expose_deferred``)."""
    from reinhardt_db.models.base import expose_deferred

    expose_deferred(model, names)


def _plain_attributes(model: Any, names: Sequence[str]) -> bool:
    """True when ``obj.name = value`` stores straight into the instance, as a dict store would.

    CPython 3.11 specializes such stores into the instance's inline values,
    about a fifth cheaper than filling ``obj.__dict__``; a custom
    ``__setattr__`` or a data descriptor on a name would change the meaning.
    Fields are not class attributes, so stores to their names specialize too
    (a select_related read of 10,000 rows: 2.00 -> 1.64 ms once the fields left
    the class); a field a query deferred is installed on the class and its
    stores are no longer specialized, yet still beat ``obj.__dict__[name]``
    (which materializes the dict) and one dict literal assigned to ``__dict__``:
    measured on 10,000 rows, 1.9 ms against 2.5 and 2.9.
    """
    if model.__setattr__ is not object.__setattr__:
        return False
    for name in (*names, "_state"):
        if not name.isidentifier() or keyword.iskeyword(name):
            return False
        attr = getattr(model, name, None) if name in dir(model) else None
        if attr is not None and hasattr(type(attr), "__set__"):
            return False
    return True


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
    _expose_deferred(model, names)
    safe = _model_reader(model, names, converters, inline=False)
    if not _has_inline(converters):
        return safe

    fast = _model_reader(model, names, converters, inline=True)

    def read(rows: Sequence[Any], alias: str) -> list[Any]:
        # Inline conversions cover the values the ORM writes; anything else
        # (e.g. text a legacy writer left) goes through the full converters.
        try:
            return fast(rows, alias)
        except (TypeError, ValueError):
            return safe(rows, alias)

    return read


def _model_reader(
    model: Any, names: Sequence[str], converters: Sequence[Converter], inline: bool
) -> Reader:
    from reinhardt_db.models.base import ModelState

    namespace: dict[str, Any] = {"blank": _instances.blank, "cls": model, "ModelState": ModelState}
    attributes = _plain_attributes(model, names)
    lines = [
        "def read(rows, alias):",
        "    state = ModelState(alias, False)",
        "    out = blank(cls, len(rows))",
        "    for obj, row in zip(out, rows):",
    ]
    if not attributes:
        lines.append("        d = obj.__dict__")
    for index, (name, converter) in enumerate(zip(names, converters, strict=True)):
        if converter is not None:
            namespace[f"c{index}"] = converter
            namespace.update(getattr(converter, "inline_globals", {}) if inline else {})
        target = f"obj.{name}" if attributes else f"d[{name!r}]"
        lines.append(f"        {target} = {_item_code(index, converter, inline)}")
    lines += [
        "        obj._state = state" if attributes else "        d['_state'] = state",
        "    return out",
    ]
    return _compile("\n".join(lines) + "\n", "read", namespace)


class ModelSlice(NamedTuple):
    """The columns of one model in a row that holds several (``select_related``).

    ``parent`` is the index of the slice whose instance gets this one as
    ``cache`` (the relation's cache attribute); ``back`` names the attribute
    of this instance that gets the parent (one-to-one relations), or "".
    ``key`` is the position, within ``names``, of a column that is NULL
    exactly when the LEFT OUTER JOIN found no row (the primary key).
    ``shared``, when not -1, is the row position of a column of the parent's
    slice that holds this slice's ``names[key]`` value (an INNER join along a
    foreign key: the joined key equals the parent's foreign key column), and
    ``names[key]`` then has no column of its own in the row. ``link``, when
    not -1, is the row position of the parent's foreign key column and
    ``target`` the offset, within ``names``, of the key it joins (text keys):
    where the two differ in Python although the database joined them (a
    collation), the parent records the link (``related_descriptors.mark_linked``).
    """

    model: Any
    names: Sequence[str]
    converters: Sequence[Converter]
    parent: int
    cache: str
    back: str
    key: int
    shared: int = -1
    link: int = -1
    target: int = -1


def related_reader(slices: Sequence[ModelSlice]) -> Reader:
    """Return a reader building the first slice's instances with their related ones.

    Each row holds the slices' columns one after the other; the related
    instance is None where its key column is NULL (nothing joined). Within
    one result, rows that join the same related row share its instance.
    """
    for item in slices:
        _check_names(item.names)
        _expose_deferred(item.model, item.names)
    safe = _related_reader(slices, inline=False)
    if not any(_has_inline(item.converters) for item in slices):
        return safe
    fast = _related_reader(slices, inline=True)

    def read(rows: Sequence[Any], alias: str) -> list[Any]:
        try:
            return fast(rows, alias)
        except (TypeError, ValueError):
            return safe(rows, alias)

    return read


def _related_reader(slices: Sequence[ModelSlice], inline: bool) -> Reader:
    from reinhardt_db.models.base import ModelState

    namespace: dict[str, Any] = {
        "new": _instances.new, "blank": _instances.blank, "ModelState": ModelState,
    }
    # columns[number]: the row position of each of slice ``number``'s names, or -1
    # for a key it takes from its parent's column (``shared``).
    columns: list[list[int]] = []
    position = 0
    for item in slices:
        own = []
        for offset in range(len(item.names)):
            if item.shared >= 0 and offset == item.key:
                own.append(-1)
            else:
                own.append(position)
                position += 1
        columns.append(own)
    children: dict[int, list[int]] = {}
    for number, item in enumerate(slices[1:], start=1):
        children.setdefault(item.parent, []).append(number)
    # The key columns of the joined slices: read once into ``v<index>`` before the
    # NULL test, then used as they are.
    keys = {columns[number][item.key] for number, item in enumerate(slices)
            if number and item.shared < 0}
    # Parent columns a joined slice shares: bound to ``v<index>`` (converted) when
    # the parent reads them.
    shared = {item.shared for item in slices if item.shared >= 0}

    def build(number: int, indent: str) -> list[str]:
        item = slices[number]
        namespace[f"cls{number}"] = item.model
        extra = [slices[child].cache for child in children.get(number, [])]
        if item.back:
            extra.append(item.back)
        attributes = _plain_attributes(item.model, [*item.names, *extra])
        obj = f"o{number}"
        # The first slice's instances come made, one per row (the loop's ``o0``).
        lines = [f"{indent}{obj} = new(cls{number})"] if number else []
        if not attributes:
            lines.append(f"{indent}d{number} = {obj}.__dict__")
        for offset, (name, converter) in enumerate(zip(item.names, item.converters, strict=True)):
            index = columns[number][offset]
            target = f"{obj}.{name}" if attributes else f"d{number}[{name!r}]"
            if index < 0:  # the parent's column, read and converted there
                lines.append(f"{indent}{target} = v{item.shared}")
                continue
            if converter is not None:
                namespace[f"c{index}"] = converter
                namespace.update(getattr(converter, "inline_globals", {}) if inline else {})
            value = f"v{index}" if index in keys else _item_code(index, converter, inline)
            if index in keys and converter is not None:
                value = _value_code(index, converter, inline)
            if index in shared:
                lines.append(f"{indent}v{index} = {value}")
                value = f"v{index}"
            lines.append(f"{indent}{target} = {value}")
        lines.append(f"{indent}{obj}._state = state" if attributes
                     else f"{indent}d{number}['_state'] = state")
        for child in children.get(number, []):
            sub = slices[child]
            if sub.shared >= 0:
                # An INNER join along a non-null foreign key: the row has a related row.
                key, inner = f"v{sub.shared}", indent
            else:
                key, inner = f"v{columns[child][sub.key]}", indent + "    "
                lines.append(f"{indent}{key} = row[{columns[child][sub.key]}]")
                lines.append(f"{indent}if {key} is None:")
                lines.append(f"{indent}    o{child} = None")
                lines.append(f"{indent}else:")
            # One instance per related row in a result: rows naming the same key
            # share it (and building it once is most of the cost of a join).
            lines.append(f"{inner}o{child} = seen{child}_get({key})")
            lines.append(f"{inner}if o{child} is None:")
            lines.extend(build(child, inner + "    "))
            lines.append(f"{inner}    seen{child}[{key}] = o{child}")
            if sub.back:
                lines.append(f"{inner}    o{child}.__dict__[{sub.back!r}] = {obj}")
            if sub.link >= 0:  # a text key: equal for the database, maybe not in Python
                fk = item.names[columns[number].index(sub.link)]
                lines.append(f"{inner}if row[{sub.link}] != row[{columns[child][sub.target]}]:")
                lines.append(
                    f"{inner}    {obj}.__dict__[{link_name(sub.cache)!r}] = {obj}.__dict__[{fk!r}]"
                )
            target = f"{obj}.{sub.cache}" if attributes else f"d{number}[{sub.cache!r}]"
            lines.append(f"{indent}{target} = o{child}")
        return lines

    lines = [
        "def read(rows, alias):",
        "    state = ModelState(alias, False)",
        "    out = blank(cls0, len(rows))",
        *[f"    seen{number} = {{}}" for number in range(1, len(slices))],
        # bound once: a call of a local is cheaper than a method look-up per row
        *[f"    seen{number}_get = seen{number}.get" for number in range(1, len(slices))],
        "    for o0, row in zip(out, rows):",
        *build(0, "        "),
        "    return out",
    ]
    return _compile("\n".join(lines) + "\n", "read", namespace)


GroupingReader = Callable[[Sequence[Any], str, dict[Any, tuple[Any, Any]], list[Any]], None]


def grouping_reader(
    model: Any, names: Sequence[str], converters: Sequence[Converter], key: int, back: str
) -> GroupingReader:
    """Return ``read(rows, alias, slots, missed)`` for prefetching a reverse foreign key.

    It builds ``model`` instances as ``model_reader`` does and, in the same
    loop, looks the row's key (column ``key``) up once in ``slots``, a dict of
    ``key -> (parent, list)``: the instance's ``back`` attribute gets the
    parent and the list gets the instance (``list.append`` called as a method,
    which CPython specialises). Instances whose key is not in ``slots`` go to
    ``missed``: the database matched them to a parent whose key is equal to
    theirs only under a collation (prefetch asks the database which).
    """
    _check_names(names)
    _expose_deferred(model, names)
    from reinhardt_db.models.base import ModelState

    namespace: dict[str, Any] = {"blank": _instances.blank, "cls": model, "ModelState": ModelState}
    attributes = _plain_attributes(model, [*names, back])
    lines = [
        "def read(rows, alias, slots, missed):",
        "    state = ModelState(alias, False)",
        "    for obj, row in zip(blank(cls, len(rows)), rows):",
    ]
    if not attributes:
        lines.append("        d = obj.__dict__")
    for index, (name, converter) in enumerate(zip(names, converters, strict=True)):
        if converter is not None:
            namespace[f"c{index}"] = converter
        value = _item_code(index, converter)
        if index == key:
            lines.append(f"        k = {value}")
            value = "k"
        target = f"obj.{name}" if attributes else f"d[{name!r}]"
        lines.append(f"        {target} = {value}")
    store = f"obj.{back}" if attributes else f"d[{back!r}]"
    lines += [
        "        obj._state = state" if attributes else "        d['_state'] = state",
        "        try:",
        f"            {store}, found = slots[k]",
        "        except KeyError:",
        "            missed.append(obj)  # equal to a parent's key for the database only",
        "            continue",
        "        found.append(obj)",
    ]
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


#: Results with at least this many rows are built with the cyclic GC paused.
GC_PAUSE_ROWS = 1000


class gc_paused:  # lower case: used like a function, ``with gc_paused(len(rows)):``
    """Pause the cyclic GC while a synchronous loop builds ``count`` objects.

    Every loop that turns rows into instances (the readers, prefetch grouping
    and linking) goes through this one helper. Building thousands of objects
    triggers a generation-0 collection every 700 allocations, and every tenth
    of those a generation-1 collection walking everything still young: paused,
    the new objects are walked once, by the first collection after the loop.
    Measured with callgrind over a loop of queries of 10,000 rows: a
    ``select_related`` read costs 9,086 instructions a row without the pause
    and 7,913 with it; a reverse foreign-key prefetch 10,581 and 9,792.

    Small batches (under ``GC_PAUSE_ROWS``) are left alone, and the GC is
    re-enabled on the way out only if it was enabled on the way in, so an
    application that disabled it keeps it disabled. Never ``await`` inside:
    other tasks would run with the GC off.
    """

    __slots__ = ("paused",)

    def __init__(self, count: int) -> None:
        self.paused = count >= GC_PAUSE_ROWS and gc.isenabled()

    def __enter__(self) -> None:
        if self.paused:
            gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.paused:
            gc.enable()


def without_gc(reader: Reader) -> Reader:
    """Wrap ``reader`` so large batches are built under :class:`gc_paused`."""

    def read(rows: Sequence[Any], alias: str) -> list[Any]:
        if len(rows) < GC_PAUSE_ROWS:  # the usual short result: not even the helper
            return reader(rows, alias)
        with gc_paused(len(rows)):
            return reader(rows, alias)

    return read


def make_reader(
    mode: str, model: Any, names: Sequence[str], converters: Sequence[Converter]
) -> Reader:
    """Return the reader for a SELECT in ``mode`` (see ``sql.compiler``)."""
    if mode == "models":
        return without_gc(model_reader(model, names, converters))
    if mode == "dicts":
        return without_gc(dict_reader(names, converters))
    if mode == "tuples":
        return without_gc(tuple_reader(converters))
    if mode == "flat":
        return flat_reader(converters[0])
    if mode == "named":
        return without_gc(named_reader(names, converters))
    raise ValueError(f"unknown reader mode {mode!r}")
