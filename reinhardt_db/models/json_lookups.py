"""JSON key paths and JSON lookups.

``data__owner__name="ann"`` compares the value at key path ``owner.name`` (as
JSON, so ``1`` and ``"1"`` differ); text lookups (``icontains``, ``startswith``
...) apply to the key's text. ``has_key has_keys has_any_keys`` test for keys;
``contains`` / ``contained_by`` test JSON containment on PostgreSQL and MySQL
(SQLite has no containment operator: ``NotSupportedError``).

Key names are always bound parameters, never spliced into SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.models.lookups import (
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IExact,
    In,
    IRegex,
    IsNull,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
    Lookup,
    Regex,
    StartsWith,
    Transform,
)

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import Resolver

__all__ = [
    "JSON_FIELD_LOOKUPS",
    "ContainedBy",
    "DataContains",
    "HasAnyKeys",
    "HasKey",
    "HasKeys",
    "JSONExact",
    "KeyTransform",
    "json_path",
]


def json_path(keys: Iterable[str]) -> str:
    """Return the MySQL/SQLite JSON path for ``keys`` (digits index arrays)."""
    parts = ["$"]
    for key in keys:
        parts.append(f"[{key}]" if key.isdigit() else "." + json.dumps(key))
    return "".join(parts)


def _json_text(value: Any) -> str:
    return json.dumps(value)


class KeyTransform(Transform):
    """The value at a key path of a JSON column (``data__owner__name``)."""

    lookup_name = "__key__"

    def __init__(self, field: Any, ctx: Any, keys: tuple[str, ...]) -> None:
        super().__init__(field, ctx)
        self.keys = keys
        self.base: Any = None

    def build(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        self.base = lhs
        return super().build(lhs)

    def path(self, extra: Iterable[str] = ()) -> str:
        """The MySQL/SQLite path of this key, followed by ``extra`` keys."""
        return json_path((*self.keys, *extra))

    def _pg_key(self, key: str) -> Any:
        if key.isdigit():
            return self.ctx.const(int(key), sa.Integer)
        return self.ctx.const(key, sa.Text)

    def as_postgresql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        expr = lhs
        for key in self.keys:
            expr = expr.op("->", return_type=JSONB)(self._pg_key(key))
        return expr

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        # MySQL/MariaDB and SQLite share json_extract(doc, '$."a"."b"').
        return sa.func.json_extract(lhs, self.ctx.const(self.path()))

    def select_expression(self, built: ColumnElement[Any]) -> ColumnElement[Any]:
        """The key's value as JSON text (SQLite's json_extract unwraps scalars)."""
        if self.vendor == "sqlite":
            return self.base.op("->")(self.ctx.const(self.path()))
        return built

    def text(self) -> ColumnElement[Any]:
        """The key's value as text (strings unquoted)."""
        if self.vendor == "postgresql":
            expr = self.base
            for key in self.keys[:-1]:
                expr = expr.op("->", return_type=JSONB)(self._pg_key(key))
            return expr.op("->>", return_type=sa.Text)(self._pg_key(self.keys[-1]))
        if self.vendor == "mysql":
            return sa.func.JSON_UNQUOTE(
                sa.func.json_extract(self.base, self.ctx.const(self.path())), type_=sa.Text
            )
        return sa.func.json_extract(self.base, self.ctx.const(self.path()), type_=sa.Text)

    def sqlite_type(self, extra: Iterable[str] = ()) -> ColumnElement[Any]:
        """SQLite ``json_type`` at this path: NULL when the key is missing."""
        return sa.func.json_type(self.base, self.ctx.const(self.path(extra)))


def _json_adapter(lookup: Lookup) -> Any:
    """The JSON column's own adapter (Python value -> JSON text the driver sends)."""
    field = lookup.transform.field if lookup.transform is not None else lookup.field
    return lookup.ctx.field_adapter(field)


def _json_equal(lookup: Lookup, lhs: Any, rhs: Any) -> ColumnElement[bool]:
    """``lhs`` (a JSON value) equals ``rhs`` (JSON text).

    MariaDB compares JSON strings by collation, so equality there is mutual
    ``JSON_CONTAINS`` (exact for scalars; arrays compare as sets).
    """
    if lookup.vendor == "postgresql":
        return lhs == sa.cast(rhs, JSONB)
    if lookup.vendor == "mysql":
        one: Any = sa.literal_column("1")
        return sa.and_(
            sa.func.JSON_CONTAINS(lhs, rhs) == one, sa.func.JSON_CONTAINS(rhs, lhs) == one
        )
    return lhs == sa.func.json_extract(rhs, lookup.const("$"))


# -- lookups on a key path -------------------------------------------------------------------


class KeyTransformExact(Exact):
    """``data__key=value``: JSON equality; ``None`` matches a JSON null."""

    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if rhs is None:
            if self.vendor == "sqlite":
                # json_extract gives SQL NULL for a JSON null: ask json_type instead.
                return self.transform.sqlite_type() == self.const("null")
            rhs = self.const("null")
        return _json_equal(self, lhs, rhs)


class KeyTransformIsNull(IsNull):
    """``data__key__isnull=True``: the key is missing."""

    def as_sqlite(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return super().as_expression(self.transform.sqlite_type(), rhs)


class KeyTransformIn(In):
    """``data__key__in=[...]``: JSON equality with any of the values."""

    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if isinstance(rhs, list):
            return sa.or_(*[_json_equal(self, lhs, item) for item in rhs])
        return super().as_expression(lhs, rhs)


class _KeyNumeric(Lookup):
    """Comparisons on a key: JSON order on PostgreSQL, numeric/text elsewhere."""

    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self) if self.vendor == "postgresql" else None

    def build(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if self.vendor == "postgresql" and isinstance(rhs, sa.BindParameter):
            rhs = sa.cast(rhs, JSONB)
        return super().build(lhs, rhs)


class KeyTransformLt(_KeyNumeric, LessThan):
    """``data__key__lt``."""


class KeyTransformLte(_KeyNumeric, LessThanOrEqual):
    """``data__key__lte``."""


class KeyTransformGt(_KeyNumeric, GreaterThan):
    """``data__key__gt``."""


class KeyTransformGte(_KeyNumeric, GreaterThanOrEqual):
    """``data__key__gte``."""


def _on_text(base: type[Lookup]) -> type[Lookup]:
    """A text lookup applied to the key's unquoted text."""

    def build(self: Lookup, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return base.build(self, self.transform.text(), rhs)

    return type(f"KeyTransform{base.__name__}", (base,), {"build": build, "__doc__": base.__doc__})


KEY_TRANSFORM_LOOKUPS: tuple[type[Lookup], ...] = (
    KeyTransformExact, KeyTransformIsNull, KeyTransformIn,
    KeyTransformLt, KeyTransformLte, KeyTransformGt, KeyTransformGte,
    *(
        _on_text(cls)
        for cls in (IExact, IContains, StartsWith, IStartsWith, EndsWith, IEndsWith, Regex, IRegex)
    ),
)
for _lookup in KEY_TRANSFORM_LOOKUPS:
    KeyTransform.register_lookup(_lookup)


# -- lookups on a JSON column (or key path) --------------------------------------------------


class JSONExact(Exact):
    """``data={...}``: JSON equality of the whole document."""

    prepare_rhs = True

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if rhs is None:
            return lhs.is_(None)
        if self.vendor == "sqlite":
            # Compare normalized documents (whitespace and escapes differ in the text).
            return sa.func.json(lhs) == sa.func.json(rhs)
        return _json_equal(self, lhs, rhs)


class DataContains(Lookup):
    """``data__contains={...}``: the document contains the given JSON."""

    lookup_name = "contains"
    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self)

    def as_postgresql(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs.op("@>", is_comparison=True)(sa.cast(rhs, JSONB))

    def as_mysql(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return sa.func.JSON_CONTAINS(lhs, rhs) == sa.literal_column("1")

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        raise NotSupportedError(
            f"the JSON {self.lookup_name!r} lookup is not supported on {self.vendor}; "
            "use has_key or key paths (data__key=value) instead"
        )


class ContainedBy(DataContains):
    """``data__contained_by={...}``: the document is contained in the given JSON."""

    lookup_name = "contained_by"

    def as_postgresql(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs.op("<@", is_comparison=True)(sa.cast(rhs, JSONB))

    def as_mysql(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return sa.func.JSON_CONTAINS(rhs, lhs) == sa.literal_column("1")


class HasKey(Lookup):
    """``data__has_key="owner"``: the key exists (also under a key path)."""

    lookup_name = "has_key"
    prepare_rhs = False
    connector: ClassVar[str] = "and"

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Resolver) -> Any:
        keys = [value] if cls is HasKey else list(value)
        if not keys or not all(isinstance(k, str) for k in keys):
            raise ValueError(f"{cls.lookup_name} needs key names (strings), got {value!r}.")
        start = len(values)
        values.extend(keys)
        return ("PL", start, len(keys))

    def _prefix(self) -> tuple[str, ...]:
        return self.transform.keys if self.transform is not None else ()

    def process_value(self, value: Any) -> Any:
        if self.vendor == "postgresql":
            return value
        return json_path((*self._prefix(), value))

    def _one(self, lhs: Any, key: Any) -> ColumnElement[bool]:
        if self.vendor == "postgresql":
            return lhs.op("?", is_comparison=True)(sa.cast(key, sa.Text))
        base = self.transform.base if self.transform is not None else lhs
        if self.vendor == "mysql":
            found = sa.func.JSON_CONTAINS_PATH(base, self.const("one"), key)
            return found == sa.literal_column("1")
        return sa.func.json_type(base, key).is_not(None)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        items = rhs if isinstance(rhs, list) else [rhs]
        conditions = [self._one(lhs, key) for key in items]
        if len(conditions) == 1:
            return conditions[0]
        return sa.and_(*conditions) if self.connector == "and" else sa.or_(*conditions)


class HasKeys(HasKey):
    """``data__has_keys=["a", "b"]``: every key exists."""

    lookup_name = "has_keys"


class HasAnyKeys(HasKey):
    """``data__has_any_keys=["a", "b"]``: at least one key exists."""

    lookup_name = "has_any_keys"
    connector = "or"


JSON_FIELD_LOOKUPS: tuple[type[Lookup], ...] = (
    JSONExact, DataContains, ContainedBy, HasKey, HasKeys, HasAnyKeys,
)
for _lookup in (DataContains, ContainedBy, HasKey, HasKeys, HasAnyKeys):
    KeyTransform.register_lookup(_lookup)
