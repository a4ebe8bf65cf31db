"""JSON key paths and JSON lookups.

``data__owner__name="ann"`` compares the value at key path ``owner.name`` (as
JSON, so ``1`` and ``"1"`` differ); text lookups (``icontains``, ``startswith``
...) apply to the key's text. ``has_key has_keys has_any_keys`` test for keys;
``contains`` / ``contained_by`` test JSON containment: PostgreSQL's ``@>``/``<@``,
MySQL/MariaDB's ``JSON_CONTAINS``, and on SQLite a Python function with
PostgreSQL's rules registered on each connection.

Key names are always bound parameters, never spliced into SQL. The SQL of
each lookup comes from the backend (``ops.json_key``, ``ops.json_equal`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.backends.base.operations import json_path
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

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.ops.json_key(lhs, self.keys, self.ctx.const)

    def select_expression(self, built: ColumnElement[Any]) -> ColumnElement[Any]:
        """The key's value as JSON text (what ``values()`` reads)."""
        return self.ops.json_key_value(
            self.base, self.keys, built, self.ctx.const
        )

    def order_expressions(self, built: ColumnElement[Any]) -> list[Any]:
        """What ``order_by()`` sorts on for the key (numbers by value on every backend)."""
        return self.ops.json_key_order(built)

    def text(self) -> ColumnElement[Any]:
        """The key's value as text (strings unquoted)."""
        return self.ops.json_key_text(self.base, self.keys, self.ctx.const)


def _json_adapter(lookup: Lookup) -> Any:
    """The JSON column's own adapter (Python value -> JSON text the driver sends)."""
    field = lookup.transform.field if lookup.transform is not None else lookup.field
    return lookup.ctx.field_adapter(field)


# -- lookups on a key path -------------------------------------------------------------------


class KeyTransformExact(Exact):
    """``data__key=value``: JSON equality; ``None`` matches a JSON null."""

    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        const = self.ctx.const
        if rhs is None:
            transform = self.transform
            return self.ops.json_key_is_json_null(
                transform.base, transform.keys, lhs, const
            )
        return self.ops.json_equal(lhs, rhs, const)


class KeyTransformIsNull(IsNull):
    """``data__key__isnull=True``: the key is missing."""

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        transform = self.transform
        present = self.ops.json_key_or_null(transform.base, transform.keys, lhs, self.ctx.const)
        return super().as_expression(present, rhs)


class KeyTransformIn(In):
    """``data__key__in=[...]``: JSON equality with any of the values."""

    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if isinstance(rhs, list):
            const = self.ctx.const
            return sa.or_(*[self.ops.json_equal(lhs, item, const) for item in rhs])
        return super().as_expression(lhs, rhs)


class _KeyNumeric(Lookup):
    """Comparisons on a key: JSON order on PostgreSQL, numeric/text elsewhere."""

    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return self.ops.json_compare_adapter(_json_adapter(self))

    def build(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return super().build(lhs, self.ops.json_compare_rhs(rhs))


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
    """``data={...}``: JSON equality of the whole document.

    ``data=None`` matches the JSON scalar ``null`` (as in Django); SQL ``NULL``
    is ``data__isnull=True``.
    """

    prepare_rhs = True

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        const = self.ctx.const
        if rhs is None:
            return self.ops.json_key_is_json_null(lhs, (), lhs, const)
        return self.ops.json_document_equal(lhs, rhs, const)


class DataContains(Lookup):
    """``data__contains={...}``: the document contains the given JSON."""

    lookup_name = "contains"
    prepare_rhs = False

    def rhs_adapter(self) -> Any:
        return _json_adapter(self)

    def _document(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        # Under a key path, the key's value as JSON (SQLite's json_extract unwraps scalars).
        transform = self.transform
        if isinstance(transform, KeyTransform):
            return transform.select_expression(lhs)
        return lhs

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return self.ops.json_contains(self._document(lhs), rhs)


class ContainedBy(DataContains):
    """``data__contained_by={...}``: the document is contained in the given JSON."""

    lookup_name = "contained_by"

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return self.ops.json_contained_by(self._document(lhs), rhs)


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
        return self.ops.json_has_key_param(self._prefix(), value)

    def _one(self, lhs: Any, key: Any) -> ColumnElement[bool]:
        doc = self.transform.base if self.transform is not None else lhs
        return self.ops.json_has_key(lhs, doc, key, self.ctx.const)

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
