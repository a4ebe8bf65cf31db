"""``Options``: a model's ``_meta`` (fields, primary key, table, managers, Meta options)."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.exceptions import FieldDoesNotExist, FieldError
from reinhardt_db.models.fields.base import Field
from reinhardt_db.models.fields.composite import CompositePrimaryKey
from reinhardt_db.models.table import build_table

if TYPE_CHECKING:
    from reinhardt_db.models.constraints import BaseConstraint
    from reinhardt_db.models.indexes import Index

__all__ = ["DEFAULT_NAMES", "Options", "default_manager_class", "read_meta"]

DEFAULT_NAMES = (
    "app_label",
    "db_table",
    "ordering",
    "indexes",
    "constraints",
    "unique_together",
    "abstract",
    "managed",
    "default_related_name",
    "get_latest_by",
    "verbose_name",
    "verbose_name_plural",
    "auto_created",
)

def default_manager_class() -> type[Any] | None:
    """Return the query layer's ``Manager`` class, or None while it does not exist yet.

    Imported on first use rather than at module level so that ``manager.py`` may
    import from ``models`` freely.
    """
    try:
        from reinhardt_db.models.manager import Manager
    except ModuleNotFoundError as exc:
        if exc.name != "reinhardt_db.models.manager":
            raise
        return None
    return Manager


_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def read_meta(meta: type | None, model_name: str) -> dict[str, Any]:
    """Return the options set on a ``class Meta`` (and its bases); reject unknown names.

    ``abstract`` is read from the class's own namespace only, so a ``Meta``
    that subclasses an abstract parent's ``Meta`` is not abstract itself.
    """
    if meta is None:
        return {}
    options: dict[str, Any] = {}
    for klass in reversed(meta.__mro__[:-1]):
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if name not in DEFAULT_NAMES:
                raise TypeError(
                    f"'class Meta' of {model_name} got invalid attribute '{name}'"
                    f"{did_you_mean(name, DEFAULT_NAMES)}. Valid options: "
                    f"{', '.join(DEFAULT_NAMES)}."
                )
            options[name] = value
    options["abstract"] = bool(vars(meta).get("abstract", False))
    return options


def _normalize_together(value: Any) -> tuple[tuple[str, ...], ...]:
    if not value:
        return ()
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"unique_together must be a list of field-name lists, got {value!r}.")
    if value and isinstance(value[0], str):  # a single group: ("a", "b")
        value = (value,)
    return tuple(tuple(group) for group in value)


class Options:
    """The ``_meta`` of a model: everything the query layer needs to know about it.

    Fields are kept in declaration order (the automatic ``id`` first, then
    fields inherited from abstract parents, then the model's own).
    """

    def __init__(self, model: type[Any], app_label: str | None, meta: dict[str, Any]) -> None:
        self.model = model
        self.concrete_model = model
        self.object_name = model.__name__
        self.model_name = self.object_name.lower()
        self.app_label = app_label or ""
        self.original_attrs = dict(meta)
        self.abstract: bool = meta.get("abstract", False)
        self.proxy = False
        self.managed: bool = meta.get("managed", True)
        self.ordering: list[str] = list(meta.get("ordering", []))
        self.get_latest_by: str | Sequence[str] | None = meta.get("get_latest_by")
        self.default_related_name: str | None = meta.get("default_related_name")
        self.unique_together = _normalize_together(meta.get("unique_together"))
        self.indexes: list[Index] = [copy.copy(i) for i in meta.get("indexes", [])]
        self.constraints: list[BaseConstraint] = [copy.copy(c) for c in meta.get("constraints", [])]
        self.verbose_name: str = meta.get("verbose_name") or _CAMEL_RE.sub(
            " ", self.object_name
        ).lower()
        self.verbose_name_plural: str = meta.get("verbose_name_plural") or f"{self.verbose_name}s"
        self.db_table: str = meta.get("db_table") or (
            f"{self.app_label}_{self.model_name}" if self.app_label else self.model_name
        )
        self.local_fields: list[Field[Any]] = []
        self.pk: Field[Any] | CompositePrimaryKey | None = None
        self.managers: list[Any] = []
        self.local_managers: list[tuple[str, Any]] = []
        self.many_to_many: list[Any] = []
        self.related_objects: list[Any] = []
        #: Relations without a column of their own (``GenericForeignKey``), for prefetching.
        self.private_fields: list[Any] = []
        #: Created for a many-to-many field (a junction model), not declared by the user.
        self.auto_created: bool = bool(meta.get("auto_created", False))
        #: ``AssociationProxy`` attributes by name (usable in filters).
        self.association_proxies: dict[str, Any] = {}
        self.property_names: frozenset[str] = frozenset()
        #: ``hybrid_property`` attributes by name, inherited ones included (usable in queries).
        self.hybrids: dict[str, Any] = {}
        #: Their expressions on this model, built on first use (``hybrid.hybrid_shape``).
        self.hybrid_shapes: dict[str, Any] = {}
        self._table: sa.Table | None = None
        self.metadata: sa.MetaData | None = None

    def __repr__(self) -> str:
        return f"<Options for {self.object_name}>"

    @property
    def label(self) -> str:
        """``"app_label.ModelName"``."""
        return f"{self.app_label}.{self.object_name}"

    @property
    def label_lower(self) -> str:
        """``"app_label.modelname"``."""
        return f"{self.app_label}.{self.model_name}"

    # -- fields ---------------------------------------------------------------------

    def add_field(self, field: Field[Any]) -> None:
        """Append ``field`` (called by ``Field.contribute_to_class``)."""
        if field.primary_key:
            if isinstance(self.pk, Field) and self.pk is not field:
                raise FieldError(
                    f"{self.object_name}: fields '{self.pk.name}' and '{field.name}' both set "
                    "primary_key=True; keep one, or declare "
                    f"pk = CompositePrimaryKey('{self.pk.name}', '{field.name}')."
                )
            self.pk = field
        self.local_fields.append(field)
        self._expire_cache()

    def set_composite_pk(self, pk: CompositePrimaryKey) -> None:
        """Make ``pk`` the primary key (after its component fields are added)."""
        if isinstance(self.pk, Field):
            raise FieldError(
                f"{self.object_name}: '{self.pk.name}' sets primary_key=True and the model "
                "also declares pk = CompositePrimaryKey(...); keep one."
            )
        pk.contribute_to_class(self.model, "pk")
        self.pk = pk
        self._expire_cache()

    def add_many_to_many(self, field: Any) -> None:
        """Append a ``ManyToManyField`` (it has no column, so it is not in ``fields``)."""
        self.many_to_many.append(field)
        self._expire_cache()

    def add_related_object(self, rel: Any) -> None:
        """Record a relation pointing at this model (its reverse side)."""
        if rel not in self.related_objects:
            self.related_objects.append(rel)
        self._expire_cache()

    def _expire_cache(self) -> None:
        for name in ("fields", "concrete_fields", "fields_map", "pk_fields", "pk_attnames",
                     "db_returning_fields", "relations_map"):
            self.__dict__.pop(name, None)

    @cached_property
    def relations_map(self) -> dict[str, Any]:
        """Many-to-many fields by name and reverse relations by query name."""
        mapping: dict[str, Any] = {}
        for rel in self.related_objects:
            mapping.setdefault(rel.name, rel)
        for field in self.many_to_many:
            mapping[field.name] = field
        return mapping

    @property
    def relation_names(self) -> list[str]:
        """The names lookups may use for many-to-many and reverse relations."""
        return [name for name, rel in self.relations_map.items() if not name.endswith("+")]

    def get_fields(self) -> tuple[Any, ...]:
        """Every field and relation: concrete fields, many-to-many, reverse relations."""
        return (*self.local_fields, *self.many_to_many, *self.related_objects)

    @cached_property
    def fields(self) -> tuple[Field[Any], ...]:
        """Concrete fields in declaration order (a composite key is not among them)."""
        return tuple(self.local_fields)

    @cached_property
    def concrete_fields(self) -> tuple[Field[Any], ...]:
        """Fields with a column (all of ``fields`` until relations arrive)."""
        return tuple(f for f in self.local_fields if f.concrete)

    @cached_property
    def fields_map(self) -> dict[str, Field[Any]]:
        """``{name: field}``, with each ``attname`` as a key too."""
        mapping: dict[str, Field[Any]] = {}
        for field in self.local_fields:
            mapping[field.name] = field
            mapping[field.attname] = field
        return mapping

    @cached_property
    def pk_fields(self) -> tuple[Field[Any], ...]:
        """The primary key's fields: one, or the components of a composite key."""
        if isinstance(self.pk, CompositePrimaryKey):
            return self.pk.fields
        return (self.pk,) if self.pk is not None else ()

    @cached_property
    def pk_attnames(self) -> tuple[str, ...]:
        """``attname`` of each primary key field (what ``instance.pk`` reads)."""
        return tuple(f.attname for f in self.pk_fields)

    @cached_property
    def db_returning_fields(self) -> tuple[Field[Any], ...]:
        """Fields the database fills on insert: auto keys and fields with ``db_default``."""
        return tuple(f for f in self.concrete_fields if f.is_auto or f.has_db_default())

    def get_field(self, name: str) -> Any:
        """Return the field called ``name`` (or with that attname), or the relation.

        Many-to-many fields answer by name, reverse relations by query name.

        Raise ``FieldDoesNotExist`` with a did-you-mean hint.
        """
        try:
            return self.fields_map[name]
        except KeyError:
            relation = self.relations_map.get(name)
            if relation is not None:
                return relation
            names = [f.name for f in self.local_fields] + self.relation_names
            raise FieldDoesNotExist(
                f"{self.object_name} has no field named '{name}'{did_you_mean(name, names)}"
            ) from None

    # -- managers -------------------------------------------------------------------

    @property
    def default_manager(self) -> Any:
        """The first manager declared (``objects`` unless the model declares others)."""
        return self.managers[0] if self.managers else None

    @cached_property
    def base_manager(self) -> Any:
        """A plain ``Manager`` that sees every row (used for saves and related access)."""
        manager_class = default_manager_class()
        if manager_class is None or self.abstract:
            return None
        manager = manager_class()
        manager.name = "_base_manager"
        manager.model = self.model
        if hasattr(manager, "auto_created"):
            manager.auto_created = True
        return manager

    @property
    def managers_map(self) -> dict[str, Any]:
        """``{name: manager}``."""
        return {getattr(m, "name", ""): m for m in self.managers}

    # -- table ----------------------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        """The model's ``sqlalchemy.Table``, built on first access.

        The tables its foreign keys refer to are built with it, so that the
        constraints resolve in the shared ``MetaData``.
        """
        table = self._table
        if table is None:
            if self.abstract:
                raise TypeError(f"{self.object_name} is abstract and has no table.")
            table = self._table = build_table(self.model)
            for field in self.concrete_fields:
                related: Any = field
                if related.is_relation and related.db_constraint:
                    target = related.related_model._meta.table
                    if target.metadata is not table.metadata and (
                        target.name not in table.metadata.tables
                    ):
                        # A model of an isolated registry pointing at an installed one
                        # (ContentType): the constraint resolves in this MetaData.
                        target.to_metadata(table.metadata)
        return table
