"""Turn values into Python source for migration files.

``serialize(value)`` returns ``(source, imports)``: the expression that
rebuilds ``value`` and the import lines it needs. Supported: ``None``,
booleans, numbers (``Decimal``, NaN and infinity too), strings, bytes, dates
and times (aware date-times are written in UTC), ``UUID``, enums (members of
``models.Choices`` as their plain value), lists, tuples, sets, dicts, fields,
anything with ``deconstruct()`` (indexes, constraints, ``Q``, validators,
operations), module-level functions and classes by import path,
``functools.partial`` and compiled regular expressions.

Expressions are laid out as a tree (``Node``) so that the writer can break
long calls over several lines, one argument per line, and keep every line
short.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import importlib
import importlib.util
import math
import re
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reinhardt_db.migrations.exceptions import SerializationError

__all__ = ["WIDTH", "Atom", "Group", "Node", "serialize", "to_node"]

#: Lines of a migration file stay within this many characters where they can.
WIDTH = 88
_SHORT_MODULES = {"reinhardt_db.models": "models", "reinhardt_db.migrations": "migrations"}
_SHORT_IMPORTS = {
    "reinhardt_db.models": "from reinhardt_db import models",
    "reinhardt_db.migrations": "from reinhardt_db import migrations",
}
#: Modules whose names migrations import by name (``from m import ArrayField``).
_NAME_IMPORT_MODULES = frozenset({"reinhardt_db.contrib.postgres"})


@dataclass
class Atom:
    """Source text that is never broken."""

    text: str

    def flat(self) -> str:
        """Return the text."""
        return self.text


@dataclass
class Group:
    """A bracketed list of items: a call, list, tuple, set or dict.

    Each item is ``(prefix, node)``: the prefix is ``"name="`` for keyword
    arguments and ``"key: "`` for dict entries. ``expand`` forces one item per
    line (operations, and CreateModel's fields).
    """

    opener: str
    closer: str
    items: list[tuple[str, Node]] = field(default_factory=list)
    expand: bool = False
    single_tuple: bool = False

    def flat(self) -> str:
        """Return the group on one line."""
        inner = ", ".join(prefix + node.flat() for prefix, node in self.items)
        if self.single_tuple:
            inner += ","
        return f"{self.opener}{inner}{self.closer}"


Node = Atom | Group


def render(node: Node, indent: int = 0, used: int | None = None, reserve: int = 0) -> str:
    """Return ``node`` as source; lines after the first are indented by ``indent`` spaces.

    ``used`` is how many columns the current line holds already; ``reserve``
    how many must stay free after the node (e.g. a trailing comma).
    """
    column = indent if used is None else used
    flat = node.flat()
    if isinstance(node, Atom) or not node.items:
        return flat
    if not node.expand and column + len(flat) + reserve <= WIDTH and "\n" not in flat:
        return flat
    inner = indent + 4
    if not node.expand and all(isinstance(child, Atom) for _prefix, child in node.items):
        # Short atoms (numbers, names) share one continuation line when it fits.
        joined = ", ".join(prefix + child.flat() for prefix, child in node.items)
        if inner + len(joined) <= WIDTH:
            return f"{node.opener}\n{' ' * inner}{joined}\n{' ' * indent}{node.closer}"
    lines = [node.opener]
    for prefix, child in node.items:
        text = render(child, inner, inner + len(prefix), reserve=1)
        lines.append(" " * inner + prefix + text + ",")
    lines.append(" " * indent + node.closer)
    return "\n".join(lines)


def serialize(value: Any) -> tuple[str, set[str]]:
    """Return ``(source, imports)`` for ``value``; raise ``SerializationError`` if impossible."""
    imports: set[str] = set()
    node = to_node(value, imports)
    return render(node), imports


def string_literal(value: str) -> str:
    """Return ``value`` as a Python string literal, in double quotes when possible."""
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def import_path(obj: Any, imports: set[str]) -> str:
    """Return how a migration file names ``obj`` (a class or function) and add its import.

    Names exported by ``reinhardt_db.models``/``reinhardt_db.migrations`` are
    written ``models.X``/``migrations.X``; builtins bare; the rest as
    ``module.Qualname`` with ``import module``.
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not module or not qualname:
        raise SerializationError(f"Cannot find an import path for {obj!r}.")
    if qualname == "<lambda>" or "<lambda>" in qualname:
        raise SerializationError(
            f"Cannot serialize the lambda {obj!r} into a migration file; use a function "
            "defined at module level instead."
        )
    if "<locals>" in qualname:
        raise SerializationError(
            f"Cannot serialize {module}.{qualname}: it is defined inside a function. Move it to "
            "the module level so migrations can import it."
        )
    if module == "builtins":
        return qualname
    if module == "__main__" or module == "__fake__":
        raise SerializationError(
            f"Cannot serialize {qualname} from {module}: migrations can only refer to "
            "importable modules."
        )
    head = qualname.split(".", 1)[0]
    for long_name, short in _SHORT_MODULES.items():
        exported = _lookup(long_name, head)
        if exported is not None and _lookup_attr(exported, qualname[len(head):]) is obj:
            imports.add(_SHORT_IMPORTS[long_name])
            return f"{short}.{qualname}"
    if _lookup(module, qualname.split(".")[0]) is None:
        raise SerializationError(
            f"Cannot serialize {module}.{qualname}: it cannot be imported by that name."
        )
    imports.add(f"import {module}")
    return f"{module}.{qualname}"


def _lookup(module_name: str, name: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, name, None)


def _lookup_attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split(".")[1:] if dotted else []:
        obj = getattr(obj, part, None)
    return obj


def path_of(path: str, cls: type, imports: set[str]) -> str:
    """Return the name for a ``deconstruct()`` path, falling back to ``cls``'s real path.

    A path that does not lead to ``cls`` (e.g. a subclass reporting its base's
    path) is replaced by the class's own module and name.
    """
    module, _, name = path.rpartition(".")
    if module and _lookup(module, name) is cls:
        short = _SHORT_MODULES.get(module)
        if short is not None:
            imports.add(_SHORT_IMPORTS[module])
            return f"{short}.{name}"
        if module in _NAME_IMPORT_MODULES:
            imports.add(f"from {module} import {name}")
            return name
        imports.add(f"import {module}")
        return path
    return import_path(cls, imports)


def _call(func: str, args: Any, kwargs: dict[str, Any], imports: set[str],
          expand: bool = False) -> Group:
    items: list[tuple[str, Node]] = [("", to_node(arg, imports)) for arg in args]
    items += [(f"{key}=", to_node(value, imports)) for key, value in kwargs.items()]
    return Group(f"{func}(", ")", items, expand=expand)


def _sequence(items: list[Any], opener: str, closer: str, imports: set[str]) -> Group:
    nodes = [("", to_node(item, imports)) for item in items]
    return Group(opener, closer, nodes, single_tuple=opener == "(" and len(nodes) == 1)


def _datetime(value: dt.datetime, imports: set[str]) -> Node:
    imports.add("import datetime")
    aware = value.tzinfo is not None and value.utcoffset() is not None
    if aware:
        value = value.astimezone(dt.UTC)
    parts = [value.year, value.month, value.day, value.hour, value.minute, value.second,
             value.microsecond]
    while len(parts) > 3 and parts[-1] == 0:
        parts.pop()
    items: list[tuple[str, Node]] = [("", Atom(str(part))) for part in parts]
    if aware:
        items.append(("tzinfo=", Atom("datetime.UTC")))
    return Group("datetime.datetime(", ")", items)


def to_node(value: Any, imports: set[str]) -> Node:
    """Return the expression tree for ``value``, adding the imports it needs."""
    for kind, handler in _HANDLERS:
        if isinstance(value, kind):
            return handler(value, imports)
    if isinstance(value, type):
        return Atom(import_path(value, imports))
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return _function(value, imports)
    deconstruct = getattr(value, "deconstruct", None)
    if callable(deconstruct) and not isinstance(value, type):
        return _deconstructible(value, imports)
    raise SerializationError(
        f"Cannot serialize {value!r} ({type(value).__module__}.{type(value).__qualname__}) "
        "into a migration file. Use a supported value (numbers, strings, dates, Decimal, "
        "UUID, enums, containers, module-level functions) or give its class a deconstruct() "
        "method returning (import path, args, kwargs)."
    )


def _function(value: Any, imports: set[str]) -> Node:
    bound_to = getattr(value, "__self__", None)
    if isinstance(value, types.MethodType) and isinstance(bound_to, type):
        return Atom(f"{import_path(bound_to, imports)}.{value.__func__.__name__}")
    if isinstance(value, types.MethodType):
        raise SerializationError(
            f"Cannot serialize the bound method {value!r}: use a module-level function."
        )
    return Atom(import_path(value, imports))


def _deconstructible(value: Any, imports: set[str]) -> Node:
    from reinhardt_db.migrations.operations.base import Operation

    if isinstance(value, Operation):
        return operation_node(value, imports)
    parts = value.deconstruct()
    if len(parts) == 4:  # fields: (name, path, args, kwargs)
        _name, path, args, kwargs = parts
    else:
        path, args, kwargs = parts
    module, _, name = path.rpartition(".")
    named = _lookup(module, name) if module else None
    if named is value and not args and not kwargs:
        # A constant living at its path (``models.CASCADE``): its name, not a call.
        return Atom(_short_path(module, name, imports))
    if isinstance(named, types.FunctionType):
        # Built by a factory function (``models.SET(value)``).
        return _call(_short_path(module, name, imports), args, kwargs, imports)
    return _call(path_of(path, type(value), imports), args, kwargs, imports)


def _short_path(module: str, name: str, imports: set[str]) -> str:
    short = _SHORT_MODULES.get(module)
    if short is not None:
        imports.add(_SHORT_IMPORTS[module])
        return f"{short}.{name}"
    imports.add(f"import {module}")
    return f"{module}.{name}"


def operation_node(operation: Any, imports: set[str]) -> Group:
    """Return the expression for a migration operation, one argument per line."""
    name, args, kwargs = operation.deconstruct()
    from reinhardt_db import migrations as migrations_module

    if getattr(migrations_module, name, None) is type(operation):
        imports.add(_SHORT_IMPORTS["reinhardt_db.migrations"])
        func = f"migrations.{name}"
    else:
        func = import_path(type(operation), imports)
    group = _call(func, args, kwargs, imports, expand=True)
    for index, (prefix, child) in enumerate(group.items):
        key = prefix.rstrip("=")
        if key in operation.serialization_expand_args and isinstance(child, Group):
            group.items[index] = (prefix, Group(child.opener, child.closer, child.items,
                                                expand=True, single_tuple=child.single_tuple))
    return group


def _enum(value: enum.Enum, imports: set[str]) -> Node:
    from reinhardt_db.models.enums import Choices

    if isinstance(value, Choices):
        # Like Django: a Choices member is written as its value, so the migration does
        # not import the app's models.
        return to_node(value.value, imports)
    cls = type(value)
    return Atom(f"{import_path(cls, imports)}[{string_literal(value.name)}]")


def _float(value: float, imports: set[str]) -> Node:
    if math.isnan(value) or math.isinf(value):
        return Atom(f'float("{value!r}")')
    return Atom(repr(value))


def _decimal(value: decimal.Decimal, imports: set[str]) -> Node:
    imports.add("import decimal")
    return Atom(f'decimal.Decimal("{value}")')


def _uuid(value: uuid.UUID, imports: set[str]) -> Node:
    imports.add("import uuid")
    return Atom(f'uuid.UUID("{value}")')


def _temporal(value: dt.date | dt.time | dt.timedelta, imports: set[str]) -> Node:
    imports.add("import datetime")
    if isinstance(value, dt.time) and value.tzinfo is not None:
        raise SerializationError(
            f"Cannot serialize the time {value!r} with a time zone; use a naive time."
        )
    return Atom(repr(value))


def _dict(value: dict[Any, Any], imports: set[str]) -> Node:
    items = [(to_node(k, imports).flat() + ": ", to_node(v, imports)) for k, v in value.items()]
    return Group("{", "}", items)


def _set(value: set[Any] | frozenset[Any], imports: set[str]) -> Node:
    nodes = sorted((to_node(item, imports) for item in value), key=lambda n: n.flat())
    if not nodes:
        return Atom("frozenset()" if isinstance(value, frozenset) else "set()")
    group = Group("{", "}", [("", n) for n in nodes])
    if isinstance(value, frozenset):
        return Group("frozenset(", ")", [("", group)])
    return group


def _partial(value: functools.partial[Any], imports: set[str]) -> Node:
    imports.add("import functools")
    return _call("functools.partial", [value.func, *value.args], dict(value.keywords), imports)


def _pattern(value: re.Pattern[Any], imports: set[str]) -> Node:
    imports.add("import re")
    args: list[Any] = [value.pattern]
    flags = value.flags & ~re.UNICODE if isinstance(value.pattern, str) else value.flags
    if flags:
        return _call("re.compile", args, {"flags": re.RegexFlag(flags)}, imports)
    return _call("re.compile", args, {}, imports)


def _regex_flag(value: re.RegexFlag, imports: set[str]) -> Node:
    imports.add("import re")
    names = [f"re.{flag.name}" for flag in re.RegexFlag if flag.value & value.value and flag.name]
    return Atom(" | ".join(dict.fromkeys(names)) or "0")


_HANDLERS: list[tuple[type | tuple[type, ...], Callable[[Any, set[str]], Node]]] = [
    (type(None), lambda v, i: Atom("None")),
    (bool, lambda v, i: Atom(repr(v))),
    (re.RegexFlag, _regex_flag),
    (enum.Enum, _enum),
    (int, lambda v, i: Atom(repr(int(v)))),
    (float, _float),
    (decimal.Decimal, _decimal),
    (str, lambda v, i: Atom(string_literal(str(v)))),
    (bytes, lambda v, i: Atom(repr(bytes(v)))),
    (dt.datetime, _datetime),
    ((dt.date, dt.time, dt.timedelta), _temporal),
    (uuid.UUID, _uuid),
    (list, lambda v, i: _sequence(list(v), "[", "]", i)),
    (tuple, lambda v, i: _sequence(list(v), "(", ")", i)),
    ((set, frozenset), _set),
    (dict, _dict),
    (functools.partial, _partial),
    (re.Pattern, _pattern),
]


def is_third_party(module: str) -> bool:
    """Return whether the top package of ``module`` is installed (site-packages)."""
    top = module.split(".", 1)[0]
    if top == "reinhardt_db":
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    origin = (spec.origin or "") if spec is not None else ""
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return any("site-packages" in p or "dist-packages" in p for p in [origin, *locations])
