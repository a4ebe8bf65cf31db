"""``ManyToManyField``: rows linked through a junction table (created, or ``through=``).

See ``fields.related`` for how relations resolve their targets and describe
their joins; the managers (``post.tags``) live in ``models/related_managers.py``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.fields.related import (
    RECURSIVE,
    ForeignKey,
    ForeignObjectRel,
    RelatedField,
    _spec,
    _unresolved,
    lazy_related_operation,
)
from reinhardt_db.models.fields.related_descriptors import ManyToManyDescriptor
from reinhardt_db.models.on_delete import CASCADE, DO_NOTHING
from reinhardt_db.models.sql.joins import PathStep

__all__ = ["ManyToManyField", "ManyToManyRel"]


class ManyToManyRel(ForeignObjectRel):
    """The reverse side of a ``ManyToManyField``."""

    many_to_many = True

    @property
    def target_field(self) -> Any:
        return self.field.model._meta.pk

    def path_steps(self) -> tuple[PathStep, ...]:
        if self._steps is None:
            field = self.field
            source, target = field.m2m_source_field, field.m2m_target_field
            self._steps = (
                PathStep(target.target_field, target, multi=True, nullable=True,
                         direct=False, name=self.name),
                PathStep(source, source.target_field, multi=False, nullable=False,
                         direct=True, name=source.name),
            )
        return self._steps


class ManyToManyField(RelatedField):
    """A many-to-many relation through a junction table.

    Without ``through=`` the junction model is created (``<table>_<field>``,
    one foreign key to each side, unique together); with it, that model's two
    foreign keys are used (``through_fields=(source, target)`` when it has
    more). A relation to ``"self"`` is ``symmetrical`` unless told otherwise:
    adding b to a's set adds a to b's too, and there is no reverse accessor.
    """

    many_to_many = True
    concrete = False
    rel_class = ManyToManyRel
    description = "Many-to-many relationship"

    def __init__(
        self,
        to: Any,
        related_name: str | None = None,
        related_query_name: str | None = None,
        through: Any = None,
        through_fields: tuple[str, str] | None = None,
        symmetrical: bool | None = None,
        db_table: str | None = None,
        db_constraint: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(to, (str, type)):
            raise TypeError(
                f"ManyToManyField's first argument must be a model, a model name or 'self', "
                f"got {to!r}"
            )
        for option in ("null", "default", "db_default", "unique", "primary_key", "db_column"):
            if option in kwargs:
                raise FieldError(
                    f"ManyToManyField has no column, so {option}= means nothing on it; remove it."
                )
        super().__init__(**kwargs)
        if symmetrical is None:
            symmetrical = to == RECURSIVE
        if symmetrical and related_name is None:
            # Symmetrical only means something on a relation to the model itself (named
            # "self", or "app.Model" when rebuilt from deconstruct()): no reverse accessor.
            related_name = "%(class)s_rel_+"
        # The junction's own foreign keys carry the delete (CASCADE); this side does nothing.
        self.remote_field = ManyToManyRel(
            self, to, related_name, related_query_name, DO_NOTHING
        )
        self.through: Any = through
        self.through_fields = through_fields
        self.symmetrical = symmetrical
        self.db_table = db_table
        self.db_constraint = db_constraint
        self.m2m_source_field: Any = None
        self.m2m_target_field: Any = None
        self._steps: tuple[PathStep, ...] | None = None
        self._target: Any = None

    def get_attname(self) -> str:
        return self.name

    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        self.set_attributes_from_name(name)
        self.model = cls
        self.check_definition()
        cls._meta.add_many_to_many(self)
        setattr(cls, name, ManyToManyDescriptor(self.remote_field, reverse=False))
        if self.through is not None and self.through_fields is not None and (
            len(self.through_fields) != 2
        ):
            self.fail("through_fields takes two names: (source field, target field).")
        self._resolve_related(cls)

    def resolve_target(self, target: type[Any]) -> None:
        self._target = target
        self.remote_field.model = target
        if self.through is None:
            self.through = _junction_model(self, self.model, target)
            self._finish()
        else:
            lazy_related_operation(self._set_through, self.model, self.through)

    def _set_through(self, through: type[Any]) -> None:
        self.through = through
        self._finish()

    def _finish(self) -> None:
        through = self.through
        source_model, target = self.model, self._target
        fks = [f for f in through._meta.concrete_fields if f.is_relation]
        if self.through_fields is not None:
            source = through._meta.get_field(self.through_fields[0])
            target_fk = through._meta.get_field(self.through_fields[1])
        else:
            sources = [f for f in fks if f.remote_field.model is source_model]
            targets = [f for f in fks if f.remote_field.model is target]
            if source_model is target:
                if len(sources) != 2:
                    self.fail(
                        f"the through model {through.__name__} needs exactly two foreign keys "
                        f"to {target.__name__} (or through_fields=(source, target))."
                    )
                source, target_fk = sources
            else:
                if len(sources) != 1 or len(targets) != 1:
                    self.fail(
                        f"the through model {through.__name__} needs one foreign key to "
                        f"{source_model.__name__} and one to {target.__name__}; with more, "
                        "name them with through_fields=(source, target)."
                    )
                source, target_fk = sources[0], targets[0]
        self.m2m_source_field, self.m2m_target_field = source, target_fk
        self._steps = None
        if self.symmetrical and source_model is target:
            target._meta.add_related_object(self.remote_field)
            return
        self._add_reverse(target, ManyToManyDescriptor(self.remote_field, reverse=True))

    @property
    def related_model(self) -> Any:
        model = self.remote_field.model
        if not isinstance(model, type) or self.m2m_source_field is None:
            raise _unresolved(self, model if not isinstance(model, type) else self.through)
        return model

    @property
    def target_field(self) -> Any:
        """The target model's key (what a path ending at this relation compares)."""
        return self.related_model._meta.pk

    @property
    def cache_name(self) -> str:
        return self.name

    @property
    def back_cache_name(self) -> str:
        return ""

    def path_steps(self) -> tuple[PathStep, ...]:
        """The hops to the junction table, then to the target."""
        if self._steps is None:
            self.related_model  # noqa: B018 - raise while unresolved
            source, target = self.m2m_source_field, self.m2m_target_field
            self._steps = (
                PathStep(source.target_field, source, multi=True, nullable=True,
                         direct=False, name=f"{self.name}+"),
                PathStep(target, target.target_field, multi=False, nullable=False,
                         direct=True, name=target.name),
            )
        return self._steps

    def column_type(self) -> sa.types.TypeEngine[Any]:
        raise FieldError(f"{self.label}: a many-to-many relation has no column.")

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        kwargs["to"] = _spec(self.remote_field.model)
        rel = self.remote_field
        if rel.related_name is not None and not rel.related_name.endswith("_rel_+"):
            kwargs["related_name"] = rel.related_name
        if rel.related_query_name is not None:
            kwargs["related_query_name"] = rel.related_query_name
        through_meta = getattr(self.through, "_meta", None)
        if self.through is not None and not getattr(through_meta, "auto_created", False):
            kwargs["through"] = _spec(self.through)
        if self.through_fields is not None:
            kwargs["through_fields"] = self.through_fields
        if self.db_table is not None:
            kwargs["db_table"] = self.db_table
        if self.symmetrical != (kwargs["to"] == RECURSIVE):
            # A rebuilt field names its target "app.Model", whose default is not symmetrical.
            kwargs["symmetrical"] = self.symmetrical
        if not self.db_constraint:
            kwargs["db_constraint"] = False
        return name, "reinhardt_db.models.ManyToManyField", args, kwargs

    def clone(self) -> Any:
        new: Any = super().clone()
        new.m2m_source_field = new.m2m_target_field = None
        new._steps = None
        new._target = None
        if getattr(getattr(new.through, "_meta", None), "auto_created", False):
            new.through = None
        return new


def _junction_model(field: ManyToManyField, source: type[Any], target: type[Any]) -> type[Any]:
    """Create the junction model of ``field``: a key to each side, unique together."""
    # Lazy: the fields package is imported by models.base, which this builds on.
    from reinhardt_db.models.base import Model

    meta = source._meta
    name = f"{source.__name__}_{field.name}"
    source_name = meta.model_name
    target_name = target._meta.model_name
    if source is target:
        source_name, target_name = f"from_{source_name}", f"to_{target_name}"
    options = {
        "app_label": meta.app_label,
        "db_table": field.db_table or f"{meta.db_table}_{field.name}",
        "unique_together": ((source_name, target_name),),
        "auto_created": True,
        "verbose_name": f"{meta.model_name}-{target._meta.model_name} relationship",
    }
    attrs = {
        "Meta": type("Meta", (), options),
        "__module__": source.__module__,
        source_name: ForeignKey(
            source, CASCADE, related_name=f"{name}+", db_constraint=field.db_constraint
        ),
        target_name: ForeignKey(
            target, CASCADE, related_name=f"{name}+", db_constraint=field.db_constraint
        ),
    }
    return type(name, (Model,), attrs)
