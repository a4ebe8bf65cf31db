"""Relation fields: ``ForeignKey``, ``OneToOneField``, ``ManyToManyField``.

::

    class Post(models.Model):
        author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="posts")
        tags = models.ManyToManyField("blog.Tag", related_name="posts", blank=True)

A foreign key is a column (``post.author_id``) plus the related instance when
it was loaded (``post.author``); the other side gets a reverse relation
(``user.posts``, a manager; ``user.profile`` for a one-to-one). A
many-to-many relation has no column: its rows live in a junction table
(created automatically, or the ``through=`` model).

Targets may be a class, ``"app_label.Model"``, ``"Model"`` (same app) or
``"self"``; a name is resolved when that model is defined, and using the
relation before then raises ``FieldError`` naming the missing target.

Each relation describes how queries cross it as ``sql.joins.PathStep``\\ s
(``path_steps()``) and which attributes cache what was loaded
(``cache_name``, ``back_cache_name``); the descriptors live in
``related_descriptors``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.apps import apps
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.fields.base import Field, OpsLike
from reinhardt_db.models.fields.related_descriptors import (
    ForwardDescriptor,
    ReverseManyDescriptor,
    ReverseOneToOneDescriptor,
)
from reinhardt_db.models.on_delete import OnDelete
from reinhardt_db.models.sql.joins import PathStep

__all__ = [
    "ForeignKey",
    "ForeignObjectRel",
    "OneToOneField",
    "OneToOneRel",
    "RelatedField",
    "model_registered",
]

RECURSIVE = "self"

PendingKey = tuple[str, str]
# Operations waiting for a model to be defined, per registry (its MetaData, held weakly: an
# id() could be reused by a later registry, which would then inherit stale callbacks):
# MetaData -> {(app_label, model_name): callbacks}.
_pending: weakref.WeakKeyDictionary[Any, dict[PendingKey, list[Callable[[type[Any]], None]]]] = (
    weakref.WeakKeyDictionary()
)


def _wait_for(app_label: str, name: str, function: Callable[[type[Any]], None]) -> None:
    """Call ``function(model)`` once ``app_label.name`` registers in the current registry."""
    waiting = _pending.setdefault(apps.metadata, {})
    waiting.setdefault((app_label, name.lower()), []).append(function)


def _label_of(spec: Any, model: type[Any]) -> tuple[str, str]:
    """``(app_label, model_name)`` a target spec names, relative to ``model``'s app."""
    if spec == RECURSIVE:
        return model._meta.app_label, model.__name__
    app_label, _, name = spec.rpartition(".")
    return (app_label or model._meta.app_label), name


def _lookup(app_label: str, name: str) -> type[Any] | None:
    for candidate in apps.get_models():
        meta = candidate._meta
        if meta.app_label == app_label and meta.model_name == name.lower():
            return candidate
    return None


def lazy_related_operation(
    function: Callable[[type[Any]], None], model: type[Any], spec: Any
) -> None:
    """Call ``function(target)`` now, or once the model ``spec`` names is defined."""
    if isinstance(spec, type):
        function(spec)
        return
    if spec == RECURSIVE:
        function(model)
        return
    app_label, name = _label_of(spec, model)
    found = _lookup(app_label, name)
    if found is not None:
        function(found)
        return
    _wait_for(app_label, name, function)


def model_registered(model: type[Any]) -> None:
    """Run the operations that waited for ``model`` (the metaclass calls this)."""
    meta = model._meta
    waiting = _pending.get(apps.metadata)
    if waiting:
        for function in waiting.pop((meta.app_label, meta.model_name), []):
            function(model)


def _unresolved(field: Any, spec: Any) -> FieldError:
    app_label, name = _label_of(spec, field.model)
    known = [f"{m._meta.app_label}.{m.__name__}" for m in apps.get_models()]
    from reinhardt_db.apps.hints import did_you_mean

    return FieldError(
        f"{field.label}: the related model {spec!r} is not defined (no model "
        f"'{app_label}.{name}' is registered){did_you_mean(f'{app_label}.{name}', known)} "
        "Define it, or name it as 'app_label.ModelName', 'ModelName' (same app) or 'self'."
    )


def _spec(model: Any) -> Any:
    """A target as written in ``deconstruct()``: ``"app.Model"`` for a class."""
    meta = getattr(model, "_meta", None)
    return meta.label if meta is not None else model


def _is_model_instance(value: Any) -> bool:
    return hasattr(type(value), "_meta") and not isinstance(value, type)


class ForeignObjectRel:
    """The reverse side of a relation, living on the target model's ``_meta``.

    ``name`` is the name queries use (``User.objects.filter(posts__title=...)``),
    ``accessor_name`` the attribute on instances (``user.posts``); a
    ``related_name`` ending in ``+`` hides both from users.
    """

    is_relation = True
    concrete = False
    many_to_one = False
    many_to_many = False
    null = True
    auto_created = True
    editable = False

    def __init__(
        self,
        field: Any,
        to: Any,
        related_name: str | None = None,
        related_query_name: str | None = None,
        on_delete: OnDelete | None = None,
    ) -> None:
        self.field = field
        self.model: Any = to  # the target model, a spec until resolved
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.on_delete = on_delete
        self._steps: tuple[PathStep, ...] | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.field.label}>"

    @property
    def one_to_many(self) -> bool:
        return not self.one_to_one and not self.many_to_many

    one_to_one: ClassVar[bool] = False

    @property
    def related_model(self) -> Any:
        """The model holding the relation field (what the reverse side reaches)."""
        return self.field.model

    @property
    def hidden(self) -> bool:
        """True when ``related_name`` ends with ``+``: no reverse accessor."""
        return bool(self.related_name and self.related_name.endswith("+"))

    def _format(self, name: str) -> str:
        meta = self.field.model._meta
        return name % {"class": meta.model_name, "model_name": meta.model_name,
                       "app_label": meta.app_label.lower()}

    @cached_property
    def accessor_name(self) -> str:
        """The attribute of target instances: ``related_name`` or ``<model>_set``."""
        if self.related_name:
            return self._format(self.related_name)
        meta = self.field.model._meta
        if meta.default_related_name:
            return self._format(meta.default_related_name)
        if self.one_to_one:
            return meta.model_name
        return f"{meta.model_name}_set"

    @cached_property
    def name(self) -> str:
        """The name lookups use for this reverse relation."""
        if self.related_query_name:
            return self._format(self.related_query_name)
        if self.related_name:
            return self._format(self.related_name)
        meta = self.field.model._meta
        if meta.default_related_name:
            return self._format(meta.default_related_name)
        return meta.model_name

    @cached_property
    def cache_name(self) -> str:
        """One-to-one: the attribute caching the loaded instance; else the prefetch key."""
        if self.one_to_one:
            return f"_{self.accessor_name.replace('+', '_')}_cache"
        return self.accessor_name

    @property
    def back_cache_name(self) -> str:
        """For one-to-one: the forward field's cache, set on the loaded instance."""
        return self.field.cache_name if self.one_to_one else ""

    @property
    def target_field(self) -> Any:
        """The field of the reached model a path ending here compares: its key."""
        return self.field.model._meta.pk

    def path_steps(self) -> tuple[PathStep, ...]:
        """The hop from the target model to the model holding the foreign key."""
        if self._steps is None:
            field = self.field
            self._steps = (PathStep(
                field.target_field, field, multi=not self.one_to_one, nullable=True,
                direct=False, name=self.name,
            ),)
        return self._steps


class OneToOneRel(ForeignObjectRel):
    """The reverse side of a ``OneToOneField``: one instance, not a manager."""

    one_to_one = True


class RelatedField(Field[Any]):
    """Base of relation fields: the target is resolved lazily (see the module doc)."""

    is_relation = True
    empty_strings_allowed = False
    rel_class: ClassVar[type[ForeignObjectRel]] = ForeignObjectRel
    remote_field: ForeignObjectRel

    @property
    def related_model(self) -> Any:
        """The target model class; ``FieldError`` naming it while it is undefined."""
        model = self.remote_field.model
        if not isinstance(model, type):
            raise _unresolved(self, model)
        return model

    @cached_property
    def cache_name(self) -> str:
        """The instance attribute holding the loaded related object (or list)."""
        return f"_{self.name}_cache"

    def _resolve_related(self, cls: type[Any]) -> None:
        """Resolve the target once ``cls`` is complete (never for abstract models)."""
        if cls._meta.abstract:
            return
        meta = cls._meta

        def resolve(model: type[Any]) -> None:
            lazy_related_operation(self.resolve_target, model, self.remote_field.model)

        _wait_for(meta.app_label, meta.model_name, resolve)

    def resolve_target(self, target: type[Any]) -> None:
        """Record ``target`` and give it the reverse side (hook)."""
        raise NotImplementedError

    def _add_reverse(self, target: type[Any], descriptor: Any) -> None:
        rel = self.remote_field
        if not rel.hidden:
            accessor = rel.accessor_name
            clash = target._meta.fields_map.get(accessor) or target._meta.hybrids.get(accessor)
            if clash is not None or (accessor in vars(target) and not isinstance(
                vars(target)[accessor], type(descriptor)
            )):
                raise FieldError(
                    f"{self.label}: the reverse accessor '{target.__name__}.{accessor}' clashes "
                    f"with a field or attribute of {target.__name__}; give this relation a "
                    "related_name (related_name='+' for none)."
                )
            setattr(target, accessor, descriptor)
        target._meta.add_related_object(rel)

    def clone(self) -> Any:
        new = super().clone()
        old = self.remote_field
        new.remote_field = type(old)(
            new, old.model, old.related_name, old.related_query_name, old.on_delete
        )
        new.__dict__.pop("_steps", None)
        return new


class ForeignKey(RelatedField):
    """A many-to-one relation: a column holding the target row's key.

    ``post.author_id`` is the column's value, ``post.author`` the related
    instance once loaded (``RelationNotLoaded`` otherwise); ``to_field``
    names a unique target field other than the primary key.
    """

    many_to_one = True
    rel_class = ForeignObjectRel
    description = "Foreign key (type determined by related field)"

    def __init__(
        self,
        to: Any,
        on_delete: OnDelete,
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(to, (str, type)):
            raise TypeError(
                f"ForeignKey's first argument must be a model, a model name or 'self', got {to!r}"
            )
        if not isinstance(on_delete, OnDelete):
            raise TypeError(
                f"on_delete must be one of models.CASCADE, PROTECT, RESTRICT, SET_NULL, "
                f"SET_DEFAULT, SET(...), DO_NOTHING; got {on_delete!r}"
            )
        kwargs.setdefault("db_index", True)
        super().__init__(**kwargs)
        self.remote_field = self.rel_class(self, to, related_name, related_query_name, on_delete)
        self.to_field = to_field
        self.db_constraint = db_constraint
        self._target_field: Any = None
        self._steps: tuple[PathStep, ...] | None = None

    # -- definition -------------------------------------------------------------------
    def get_attname(self) -> str:
        return f"{self.name}_id"

    def check_definition(self) -> None:
        super().check_definition()
        rule = self.remote_field.on_delete
        if rule is not None and rule.kind == "set_null" and not self.null:
            self.fail("on_delete=SET_NULL needs null=True on the field.")
        if rule is not None and rule.kind == "set_default" and not self.has_default():
            self.fail("on_delete=SET_DEFAULT needs a default= on the field.")
        related_name = self.remote_field.related_name
        if related_name is not None and not (
            related_name.endswith("+") or (related_name % {"class": "x", "model_name": "x",
                                                           "app_label": "x"}).isidentifier()
        ):
            self.fail(f"related_name {related_name!r} is not a valid Python identifier.")

    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        super().contribute_to_class(cls, name)
        setattr(cls, name, ForwardDescriptor(self))
        self._resolve_related(cls)

    def resolve_target(self, target: type[Any]) -> None:
        self.remote_field.model = target
        self._target_field = None
        self._steps = None
        if self.to_field is not None:
            self.target_field  # noqa: B018 - check to_field now
        descriptor = (
            ReverseOneToOneDescriptor(self.remote_field) if self.one_to_one
            else ReverseManyDescriptor(self.remote_field)
        )
        self._add_reverse(target, descriptor)

    @property
    def target_field(self) -> Any:
        """The target model's field this column refers to (``to_field`` or the key)."""
        found = self._target_field
        if found is None:
            meta = self.related_model._meta
            if self.to_field is not None:
                found = meta.get_field(self.to_field)
                if not (found.unique or found.primary_key):
                    self.fail(
                        f"to_field {self.to_field!r} must name a unique field of "
                        f"{meta.object_name}; add unique=True to it."
                    )
            else:
                found = meta.pk
                if not getattr(found, "concrete", True):
                    self.fail(
                        f"{meta.object_name} has a composite primary key; a foreign key to it "
                        "is not supported (name a unique field with to_field=)."
                    )
            self._target_field = found
        return found

    def path_steps(self) -> tuple[PathStep, ...]:
        """The hop from this model to the target along the column."""
        if self._steps is None:
            self._steps = (PathStep(
                self, self.target_field, multi=False, nullable=self.null, direct=True,
                name=self.name,
            ),)
        return self._steps

    @property
    def back_cache_name(self) -> str:
        """For one-to-one: the reverse cache set on the loaded target."""
        rel = self.remote_field
        return rel.cache_name if self.one_to_one and not rel.hidden else ""

    def clone(self) -> Any:
        new = super().clone()
        new._target_field = None
        new._steps = None
        return new

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        if kwargs.get("db_index") is True:
            del kwargs["db_index"]
        else:
            kwargs.setdefault("db_index", False)
        if self.one_to_one:
            kwargs.pop("unique", None)
        kwargs["to"] = _spec(self.remote_field.model)
        kwargs["on_delete"] = self.remote_field.on_delete
        for key, value in (
            ("related_name", self.remote_field.related_name),
            ("related_query_name", self.remote_field.related_query_name),
            ("to_field", self.to_field),
        ):
            if value is not None:
                kwargs[key] = value
        if not self.db_constraint:
            kwargs["db_constraint"] = False
        return name, f"reinhardt_db.models.{type(self).__name__}", args, kwargs

    # -- values: the target field's ----------------------------------------------------
    def column_type(self) -> sa.types.TypeEngine[Any]:
        return self.target_field.column_type()

    def sa_type(self, ops: OpsLike | None = None) -> sa.types.TypeEngine[Any]:
        """Return the target field's column type (an auto key's plain integer type)."""
        return self.target_field.sa_type(ops)

    def get_db_prep_func(self, ops: OpsLike) -> Callable[[Any], Any]:
        return self.target_field.get_db_prep_func(ops)

    def get_db_converter(self, ops: OpsLike) -> Any:
        return self.target_field.get_db_converter(ops)

    def to_python(self, value: Any) -> Any:
        return self.target_field.to_python(value)

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return list(self.target_field._builtin_validators())

    def get_internal_type(self) -> str:
        return type(self).__name__

    def lookup_value(self, value: Any) -> Any:
        """Turn a related instance (or a list of them, or a QuerySet) into key values."""
        if _is_model_instance(value):
            return self._instance_value(value)
        if getattr(value, "_is_queryset", False):
            target = self.target_field
            if (
                value.query.values_fields is None
                and value.model is self.related_model
                and not target.primary_key
            ):
                return value.values(target.name)
            return value
        if isinstance(value, (list, tuple, set, frozenset)) and any(
            # Each type once: prefetch_related passes thousands of plain keys.
            hasattr(kind, "_meta") and not issubclass(kind, type)
            for kind in {type(item) for item in value}
        ):
            return [self._instance_value(v) if _is_model_instance(v) else v for v in value]
        return value

    def _instance_value(self, value: Any) -> Any:
        model = self.related_model
        if not isinstance(value, model):
            raise ValueError(
                f"Cannot use {value!r} for {self.label}: it must be a {model.__name__} instance."
            )
        return value.__dict__.get(self.target_field.attname)

    def pre_save(self, instance: Any, add: bool) -> Any:
        """Return the key to save; take it from a related instance saved after assignment."""
        values = instance.__dict__
        value = values.get(self.attname)
        if value is None:
            related = values.get(self.cache_name)
            if related is not None:
                value = related.__dict__.get(self.target_field.attname)
                if value is None:
                    raise ValueError(
                        f"save() prohibited to prevent data loss due to unsaved related "
                        f"object '{self.name}' of {type(instance).__name__}; save it first."
                    )
                values[self.attname] = value
        return value


class OneToOneField(ForeignKey):
    """A foreign key that is unique: the reverse side is one instance (``user.profile``)."""

    many_to_one = False
    one_to_one = True
    rel_class = OneToOneRel
    description = "One-to-one relationship"

    def __init__(self, to: Any, on_delete: OnDelete, **kwargs: Any) -> None:
        kwargs["unique"] = True
        super().__init__(to, on_delete, **kwargs)
