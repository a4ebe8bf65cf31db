"""``Model.pydantic_model()``: a pydantic model class with the fields' types and constraints.

::

    UserSchema = User.pydantic_model(exclude=["password"])
    UserSchema.model_validate(user)            # from an instance (from_attributes)
    UserSchema.model_validate({"username": "ann", ...}).model_dump()

Each field becomes ``Annotated[<type>, Field(<constraints>), AfterValidator(check)]``:

- the type and the constraints pydantic enforces itself and shows in the JSON
  schema (``max_length``, ``ge``/``le`` from the integer width and from
  ``MinValueValidator``/``MaxValueValidator``, ``max_digits``/``decimal_places``,
  ``Literal`` for choices, ``AwareDatetime``), plus schema-only hints
  (``format: email``, a slug's ``pattern``, ``readOnly``);
- then ``check``: the model field's own ``clean()`` (conversion, ``null``,
  ``blank``, ``choices`` and every validator, yours included, as
  ``full_clean()`` runs them) and the write-path check of every backend
  (``get_db_prep_save_func``: NUL characters, lone surrogates, NaN, a
  PostgreSQL date range ...). So a value the pydantic model accepts is one the
  ORM stores and reads back equal on every backend; unique constraints and
  ``CheckConstraint``\\ s need the database and are not checked.

Which fields are optional, and their defaults, follow what a new instance gets
when the value is left out (see ``_default``). Foreign keys are ``<name>_id``
with the target key's type; many-to-many and reverse relations are only there
when named in ``include`` (a list of keys, read from the prefetch cache).
User docs: docs/models.md, "Pydantic models".
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

import pydantic
import sqlalchemy as sa
from pydantic_core import PydanticCustomError

from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.backends.vendors import all_operations
from reinhardt_db.exceptions import DataError, FieldDoesNotExist, ValidationError
from reinhardt_db.models import validators as v
from reinhardt_db.models.fields.base import EMPTY_VALUES, Field
from reinhardt_db.models.fields.misc import (
    BinaryField,
    BooleanField,
    GenericIPAddressField,
    JSONField,
    UUIDField,
)
from reinhardt_db.models.fields.numeric import DecimalField, FloatField, IntegerField
from reinhardt_db.models.fields.related import ForeignKey, OneToOneRel
from reinhardt_db.models.fields.related_descriptors import not_loaded
from reinhardt_db.models.fields.temporal import DateField, DateTimeField, DurationField, TimeField
from reinhardt_db.models.fields.text import EmailField, SlugField, URLField, _StringMixin

__all__ = ["pydantic_model"]

# Bytes travel through JSON as base64: a BinaryField holds any bytes, not UTF-8 text.
# No protected namespaces: a model may well have a field called model_name.
_CONFIG = pydantic.ConfigDict(
    from_attributes=True, ser_json_bytes="base64", val_json_bytes="base64",
    protected_namespaces=(),
)
_CACHE = "_pydantic_models"  # in Model._meta.__dict__: {key: class}


@dataclass
class _Shape:
    """A value type: its annotation, what pydantic enforces, and schema-only hints."""

    annotation: Any
    constraints: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)


# -- the type of each kind of field ----------------------------------------------------------


def _integer(f: Any) -> _Shape:
    return _Shape(int, {"ge": f.min_value, "le": f.max_value})


def _float(f: Any) -> _Shape:
    return _Shape(float, {"allow_inf_nan": False})


def _decimal(f: Any) -> _Shape:
    low, high = f.value_range()
    return _Shape(Decimal, {
        "max_digits": f.max_digits, "decimal_places": f.decimal_places,
        "allow_inf_nan": False, "ge": low, "le": high,
    })


def _text(f: Any) -> _Shape:
    shape = _Shape(str, {"max_length": f.max_length} if f.max_length else {})
    if isinstance(f, EmailField):
        shape.schema["format"] = "email"
    elif isinstance(f, URLField):
        shape.schema["format"] = "uri"
    elif isinstance(f, SlugField):
        shape.schema["pattern"] = r"^[-\w]+$" if f.allow_unicode else r"^[-a-zA-Z0-9_]+$"
    return shape


def _ip_address(f: Any) -> _Shape:
    fmt = {"both": "ipvanyaddress", "ipv4": "ipv4", "ipv6": "ipv6"}[f.protocol]
    return _Shape(str, {"max_length": 39}, {"format": fmt})


def _binary(f: Any) -> _Shape:
    return _Shape(bytes, {"max_length": f.max_length} if f.max_length else {})


def _json(f: Any) -> _Shape:
    # A custom encoder may store values JsonValue refuses (datetimes ...): the check decides.
    return _Shape(pydantic.JsonValue if f.encoder is None else Any)


def _foreign_key(f: Any) -> _Shape:
    return _type_of(f.target_field)


# Looked up along the field class's MRO: subclasses get their parent's type (the
# Positive*, Small*, Big* and Auto* integers their own range through min/max_value).
_SHAPES: dict[type, Callable[[Any], _Shape]] = {
    IntegerField: _integer,
    FloatField: _float,
    DecimalField: _decimal,
    BooleanField: lambda f: _Shape(bool),
    _StringMixin: _text,  # CharField and its forms, TextField
    GenericIPAddressField: _ip_address,
    BinaryField: _binary,
    JSONField: _json,
    UUIDField: lambda f: _Shape(uuid.UUID),
    DateTimeField: lambda f: _Shape(pydantic.AwareDatetime),
    DateField: lambda f: _Shape(dt.date),
    TimeField: lambda f: _Shape(dt.time),
    DurationField: lambda f: _Shape(dt.timedelta),
    ForeignKey: _foreign_key,
}


def _type_of(f: Any) -> _Shape:
    """The value type of field ``f``; a field class of yours gets its ``python_type``."""
    for klass in type(f).__mro__:
        build = _SHAPES.get(klass)
        if build is not None:
            return build(f)
    return _Shape(f.python_type or Any)


# -- what the field's options add ---------------------------------------------------------------


def _tighten(constraints: dict[str, Any], key: str, limit: Any, pick: Callable[..., Any]) -> None:
    constraints[key] = limit if key not in constraints else pick(constraints[key], limit)


def _validator_constraints(f: Any, shape: _Shape) -> None:
    """Carry the validators that map exactly to pydantic constraints (the check runs all)."""
    numeric = shape.annotation in (int, float, Decimal)
    for validator in f._validators:
        limit = getattr(validator, "limit_value", None)
        if callable(limit) or isinstance(limit, bool):
            continue
        kind = type(validator)
        if numeric and isinstance(limit, (int, float, Decimal)):
            if kind is v.MinValueValidator:
                _tighten(shape.constraints, "ge", limit, max)
            elif kind is v.MaxValueValidator:
                _tighten(shape.constraints, "le", limit, min)
        elif shape.annotation is str and isinstance(limit, int):
            if kind is v.MinLengthValidator:
                _tighten(shape.constraints, "min_length", limit, max)
            elif kind is v.MaxLengthValidator:
                _tighten(shape.constraints, "max_length", limit, min)


def _choices(f: Any, shape: _Shape) -> None:
    values = [value for value, _label in f.flatchoices if value is not None]
    if values and all(type(value) in (str, int, bool) for value in values):
        # The literal carries every constraint the values could have.
        shape.annotation = Literal[tuple(values)]
        shape.constraints = {}
        shape.schema.pop("pattern", None)


def _checker(f: Any) -> Callable[[Any], Any]:
    """Return ``check(value)``: the field's ``clean()``, then every backend's write check."""
    writer = f.target_field if f.is_relation else f
    saves = [writer.get_db_prep_save_func(ops) for ops in all_operations()]
    clean = f.clean
    blank = f.blank

    def check(value: Any) -> Any:
        try:
            # blank=False refuses empty text; an empty document or list is a value.
            if value is None or not (
                value in EMPTY_VALUES and (blank or not isinstance(value, str))
            ):
                value = clean(value, None)
            if value is not None:
                for save in saves:
                    save(value)
        except ValidationError as error:
            raise PydanticCustomError(
                error.code or "invalid", "{message}", {"message": "; ".join(error.messages)}
            ) from None
        except DataError as error:
            raise PydanticCustomError("data_error", "{message}", {"message": str(error)}) from None
        return value

    return check


def _plain(f: Any, value: Any) -> Any:
    """A default as the model holds it (``Role.MEMBER`` -> ``"member"``)."""
    try:
        return f.to_python(value)
    except ValidationError:
        return value


def _default(f: Any) -> tuple[dict[str, Any], bool]:
    """Return (``default``/``default_factory`` keywords, whether ``None`` is allowed).

    Optional are the fields a new instance fills when the value is left out:
    a ``default`` (or its callable), ``null=True`` (None), a literal
    ``db_default``, the empty value of a ``blank`` text or binary field, and
    the values the database or the save fills (auto keys, ``auto_now``,
    ``db_default`` expressions, non-editable fields: None, read-only).
    Everything else is required.
    """
    if f.has_default():
        default = f.default
        if callable(default):
            return {"default_factory": default}, f.null
        if isinstance(default, (dict, list, set)):
            return {"default_factory": lambda: copy.deepcopy(default)}, f.null
        return {"default": _plain(f, default)}, f.null or default is None
    if f.null:
        return {"default": None}, True
    if f.has_db_default():
        if isinstance(f.db_default, sa.sql.ClauseElement):
            return {"default": None}, True
        return {"default": _plain(f, f.db_default)}, False
    if _read_only(f):
        return {"default": None}, True
    empty = f.get_default()
    if (f.blank or not f.editable) and empty is not None:
        return {"default": empty}, False
    return {}, False


def _read_only(f: Any) -> bool:
    return bool(f.is_auto or f.auto_now or f.auto_now_add)


def _labels(f: Any) -> dict[str, Any]:
    labels: dict[str, Any] = {}
    if f.verbose_name and f.verbose_name != f.name.replace("_", " "):
        labels["title"] = str(f.verbose_name)
    if f.help_text:
        labels["description"] = str(f.help_text)
    return labels


def _field_definition(f: Any) -> tuple[Any, Any]:
    shape = _type_of(f)
    _validator_constraints(f, shape)
    if not f.blank and shape.annotation is str and "min_length" not in shape.constraints:
        shape.constraints["min_length"] = 1
    if f.choices is not None:
        _choices(f, shape)
    default, nullable = _default(f)
    # pydantic merges the Field() of a top-level Annotated into the outer one, whose
    # json_schema_extra would replace the inner's: the hints go where they survive.
    inner = shape.schema if nullable else {}
    outer = {} if nullable else dict(shape.schema)
    if _read_only(f) or not f.editable:
        outer["readOnly"] = True
    annotation: Any = Annotated[
        shape.annotation,
        pydantic.Field(**shape.constraints, json_schema_extra=inner or None),
        pydantic.AfterValidator(_checker(f)),
    ]
    if nullable:
        annotation = annotation | None
    return annotation, pydantic.Field(**default, **_labels(f), json_schema_extra=outer or None)


# -- relations, when included ---------------------------------------------------------------


def _key_type(model: Any, what: str) -> Any:
    pk = model._meta.pk
    if not isinstance(pk, Field):
        raise FieldDoesNotExist(
            f"{what}: {model.__name__} has a composite primary key, which a list of keys "
            "cannot hold; leave the relation out."
        )
    shape = _type_of(pk)
    return Annotated[shape.annotation, pydantic.Field(**shape.constraints)]


def _keys_of(name: str) -> Callable[[Any], Any]:
    """Turn related instances (or a related manager's prefetch cache) into their keys."""

    def keys(value: Any) -> Any:
        prefetched = getattr(value, "_prefetched", None)
        if prefetched is not None:  # a related manager: never a query
            cached = prefetched()
            if cached is None:
                raise not_loaded(value.instance, name)
            value = cached
        if isinstance(value, (list, tuple, set, frozenset)):
            return [_key(item) for item in value]
        return _key(value)

    return keys


def _key(value: Any) -> Any:
    return value.pk if hasattr(type(value), "_meta") else value


def _relation_definition(model: Any, name: str, rel: Any) -> tuple[Any, Any]:
    """``list[key]`` of the related rows (``key | None`` for a reverse one-to-one)."""
    key = _key_type(rel.related_model, f"{model.__name__}.{name}")
    to_keys = pydantic.BeforeValidator(_keys_of(name))
    if isinstance(rel, OneToOneRel):
        # No related row: the descriptor raises an AttributeError, so the default applies.
        return (
            Annotated[key | None, to_keys],
            pydantic.Field(default=None, json_schema_extra={"readOnly": True}),
        )
    return Annotated[list[key], to_keys], pydantic.Field(default_factory=list)  # type: ignore[valid-type]


def _relations(model: Any) -> dict[str, Any]:
    """Many-to-many fields by name, visible reverse relations by accessor name."""
    meta = model._meta
    found: dict[str, Any] = {f.name: f for f in meta.many_to_many}
    for rel in meta.related_objects:
        if not rel.hidden:
            found.setdefault(rel.accessor_name, rel)
    return found


# -- the class ------------------------------------------------------------------------------


def _names(
    model: Any, given: Iterable[str] | str | None, option: str, known: dict[str, str]
) -> frozenset[str] | None:
    if given is None:
        return None
    if isinstance(given, str):
        given = (given,)
    names = set()
    for item in given:
        if not isinstance(item, str):
            raise TypeError(
                f"{model.__name__}.pydantic_model({option}=...) takes field names, got {item!r}"
            )
        found = known.get(item)
        if found is None:
            hint = did_you_mean(item, list(known))
            raise FieldDoesNotExist(
                f"{model.__name__}.pydantic_model({option}=...): {model.__name__} has no field "
                f"named {item!r}{hint}{' ' if hint else '. '}Known names: "
                f"{', '.join(sorted(set(known.values())))}."
            )
        names.add(found)
    return frozenset(names)


def pydantic_model(
    model: Any,
    include: Iterable[str] | str | None = None,
    exclude: Iterable[str] | str | None = None,
    name: str | None = None,
) -> type[pydantic.BaseModel]:
    """Return the pydantic model of ``model`` (see ``Model.pydantic_model``); one per arguments."""
    meta = model._meta
    if meta.abstract:
        raise TypeError(
            f"{model.__name__} is abstract; call pydantic_model() on a concrete subclass."
        )
    relations = _relations(model)
    known: dict[str, str] = {}
    for f in meta.fields:
        known[f.name] = known[f.attname] = f.name
    known.update((rel_name, rel_name) for rel_name in relations)
    included = _names(model, include, "include", known)
    excluded = _names(model, exclude, "exclude", known) or frozenset()
    if name is not None and (not isinstance(name, str) or not name.isidentifier()):
        raise TypeError(f"pydantic_model(name=...) must be a class name, got {name!r}")
    key = (included, excluded, name)
    cache: dict[Any, type[pydantic.BaseModel]] = meta.__dict__.setdefault(_CACHE, {})
    found = cache.get(key)
    if found is not None:
        return found

    def wanted(field_name: str) -> bool:
        return (included is None or field_name in included) and field_name not in excluded

    definitions: dict[str, Any] = {}
    for f in meta.fields:
        if wanted(f.name):
            definitions[f.attname] = _field_definition(f)
    for rel_name, rel in relations.items():
        if included is not None and wanted(rel_name):
            definitions[rel_name] = _relation_definition(model, rel_name, rel)
    doc = model.__dict__.get("__doc__")
    created: type[pydantic.BaseModel] = pydantic.create_model(
        name or model.__name__,
        __config__=_CONFIG,
        __doc__=doc,
        __module__=model.__module__,
        **definitions,
    )
    cache[key] = created
    return created
