"""``Model`` and its metaclass ``ModelBase``.

Instance state is exactly ``instance.__dict__``: one entry per loaded field
``attname`` plus ``_state`` (a ``ModelState``). Nothing else is stored, so the
query layer may build instances directly (``cls.__new__(cls)``, fill
``__dict__``, set ``_state``) on its precomputed fast path; ``Model.from_db``
is the reference shape of that. A field missing from ``__dict__`` is deferred.
"""

from __future__ import annotations

import copy
from collections.abc import Coroutine, Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform

from reinhardt_db.apps import apps
from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.exceptions import (
    FieldError,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    ValidationError,
)
from reinhardt_db.models.fields.auto import BigAutoField
from reinhardt_db.models.fields.base import DATABASE_DEFAULT, EMPTY_VALUES, NOT_PROVIDED, Field
from reinhardt_db.models.fields.composite import CompositePrimaryKey
from reinhardt_db.models.fields.related import model_registered
from reinhardt_db.models.hybrid import hybrid_property, model_hybrids
from reinhardt_db.models.options import Options, default_manager_class, read_meta
from reinhardt_db.models.pydantic_model import pydantic_model as make_pydantic_model

if TYPE_CHECKING:
    import pydantic

    from reinhardt_db.models.manager import Manager

__all__ = ["NON_FIELD_ERRORS", "Model", "ModelBase", "ModelState", "expose_deferred"]

_M = TypeVar("_M", bound="Model")

_persistence: ModuleType | None = None


def _persistence_module() -> ModuleType:
    """``models.persistence``, imported on first use (it builds on this module)."""
    global _persistence
    if _persistence is None:
        from reinhardt_db.models import persistence

        _persistence = persistence
    return _persistence

NON_FIELD_ERRORS = "__all__"


class ModelState:
    """Per-instance bookkeeping: ``adding`` (not saved yet) and ``db`` (alias it came from)."""

    __slots__ = ("adding", "db")

    def __init__(self, db: str | None = None, adding: bool = True) -> None:
        self.adding = adding
        self.db = db

    def __repr__(self) -> str:
        return f"ModelState(db={self.db!r}, adding={self.adding!r})"


def _contributes(value: Any) -> bool:
    return (
        hasattr(value, "contribute_to_class")
        and not isinstance(value, (type, Field, CompositePrimaryKey))
    )


# Type checkers only: a model whose fields are annotated (`name: Mapped[str] =
# CharField(...)`) gets a keyword-only __init__ listing them, so unknown keywords
# and wrong value types are errors. The field classes are deliberately not field
# specifiers: a field call is then a default value, so every field may be left
# out, as at run time. Models without annotations keep Model.__init__ (**kwargs).
@dataclass_transform(kw_only_default=True)
class ModelBase(type):
    """Metaclass of ``Model``: builds ``_meta``, binds fields and managers, registers."""

    def __getattr__(cls, name: str) -> Any:
        # Fields are not class attributes (see Field.contribute_to_class); this
        # runs only when normal class lookup failed, so nothing else pays for it.
        meta = cls.__dict__.get("_meta")
        field = meta.fields_map.get(name) if meta is not None and name[:2] != "__" else None
        if field is None:
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
        return field.__get__(None, cls)

    def __dir__(cls) -> list[str]:
        meta = cls.__dict__.get("_meta")
        names = set(super().__dir__())
        return sorted(names | set(meta.fields_map) if meta is not None else names)

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any
    ) -> ModelBase:
        parents = [b for b in bases if isinstance(b, ModelBase) and hasattr(b, "_meta")]
        if not any(isinstance(b, ModelBase) for b in bases):  # Model itself
            return super().__new__(mcs, name, bases, attrs, **kwargs)
        module = attrs.get("__module__", "")
        declared_meta = attrs.pop("Meta", None)
        own_fields: dict[str, Field[Any]] = {}
        own_managers: list[tuple[str, Any]] = []
        others: list[tuple[str, Any]] = []
        composite: CompositePrimaryKey | None = None
        for key, value in list(attrs.items()):
            if isinstance(value, Field):
                own_fields[key] = attrs.pop(key)
            elif isinstance(value, CompositePrimaryKey):
                if key != "pk":
                    raise FieldError(
                        f"{name}.{key}: a CompositePrimaryKey must be declared as 'pk = ...'."
                    )
                composite = attrs.pop(key)
            elif _contributes(value):
                target = own_managers if hasattr(value, "get_queryset") else others
                target.append((key, attrs.pop(key)))
        cls = super().__new__(mcs, name, bases, attrs, **kwargs)

        options = read_meta(declared_meta, name) if declared_meta else _inherited_meta(parents)
        abstract = bool(options.get("abstract"))
        if abstract:  # settings are not read for abstract bases (they import early)
            app_label = options.get("app_label")
        else:
            app_label = apps.resolve_app_label(name, module, options.get("app_label"))
        meta = Options(cls, app_label, options)
        meta.metadata = apps.metadata
        cls._meta = meta  # type: ignore[attr-defined]
        if abstract and declared_meta is not None:
            cls.Meta = declared_meta  # type: ignore[attr-defined]  # for Meta(Parent.Meta)

        removed = {k for k, v in attrs.items() if v is None}
        inherited_fields, inherited_pk, inherited_managers = _from_parents(
            name, parents, set(own_fields) | removed, own_managers
        )
        composite = composite or inherited_pk
        fields = [*inherited_fields, *own_fields.items()]
        has_pk = composite is not None or any(f.primary_key for _, f in fields)
        if not abstract and not has_pk:
            if any(field_name == "id" for field_name, _ in fields):
                raise FieldError(
                    f"{name}.id: 'id' can only be used as a field name if the field also sets "
                    "primary_key=True (or rename it; the model gets an automatic 'id' key)."
                )
            fields.insert(0, ("id", BigAutoField(primary_key=True, auto_created=True)))
        for field_name, field in fields:
            field.contribute_to_class(cls, field_name)
        if composite is not None:
            meta.set_composite_pk(composite)
        for other_name, other in others:  # descriptors of later kinds (generic relations ...)
            other.contribute_to_class(cls, other_name)
        meta.hybrids = model_hybrids(cls, set(meta.fields_map) | set(meta.relations_map))
        meta.property_names = _property_names(cls)

        if abstract:
            meta.local_managers = [*own_managers, *inherited_managers]
            return cls
        _check_options(cls)
        _add_exceptions(cls, module)
        _add_managers(cls, [*own_managers, *inherited_managers])
        if not meta.auto_created:  # junction models belong to their many-to-many field
            apps.register_model(meta.app_label, cls)
        model_registered(cls)
        return cls


def expose_deferred(model: Any, loaded: Iterable[str]) -> None:
    """Install, on ``model``, the field of each concrete attname not in ``loaded``.

    Called before instances are built without those values (``only()``,
    ``defer()``, ``from_db`` with fewer names): reading one then reaches the
    field's ``__get__``, which raises the FieldError saying how to load it,
    instead of a bare AttributeError. Installed once, for good: stores to that
    name are no longer specialised by CPython, the price of the clear error.
    """
    present = set(loaded)
    for field in model._meta.concrete_fields:
        if field.attname not in present and field.attname not in model.__dict__:
            type.__setattr__(model, field.attname, field)


def _inherited_meta(parents: Sequence[type]) -> dict[str, Any]:
    for parent in parents:
        parent_meta = parent._meta  # type: ignore[attr-defined]
        if parent_meta.abstract:
            inherited = dict(parent_meta.original_attrs)
            inherited["abstract"] = False
            return inherited
    return {}


def _from_parents(
    name: str, parents: Sequence[type], taken: set[str], own_managers: list[tuple[str, Any]]
) -> tuple[list[tuple[str, Field[Any]]], CompositePrimaryKey | None, list[tuple[str, Any]]]:
    """Copy fields, composite key and managers declared on abstract parents."""
    fields: list[tuple[str, Field[Any]]] = []
    managers: list[tuple[str, Any]] = []
    composite: CompositePrimaryKey | None = None
    seen_managers = {n for n, _ in own_managers}
    for parent in parents:
        parent_meta = parent._meta  # type: ignore[attr-defined]
        if not parent_meta.abstract:
            raise FieldError(
                f"{name}: inheriting from the concrete model {parent.__name__} (multi-table "
                f"inheritance) is not supported; make {parent.__name__} abstract "
                "(Meta.abstract = True) or copy its fields."
            )
        for field in parent_meta.local_fields:
            if field.name not in taken:
                taken.add(field.name)
                fields.append((field.name, field.clone()))
        if composite is None and isinstance(parent_meta.pk, CompositePrimaryKey):
            composite = CompositePrimaryKey(*parent_meta.pk.field_names)
        for manager_name, manager in parent_meta.local_managers:
            if manager_name not in seen_managers and manager_name not in taken:
                seen_managers.add(manager_name)
                managers.append((manager_name, copy.copy(manager)))
    return fields, composite, managers


def _property_names(cls: type) -> frozenset[str]:
    """Names the constructor may set: properties, and hybrid properties with a setter."""
    return frozenset(
        key for klass in cls.__mro__ for key, value in vars(klass).items()
        if isinstance(value, property)
        or (isinstance(value, hybrid_property) and value.fset is not None)
    )


def _check_options(cls: type[Any]) -> None:
    meta = cls._meta
    for group in meta.unique_together:
        for field_name in group:
            meta.get_field(field_name)  # FieldDoesNotExist names the model and a hint
    for item in meta.ordering:
        if not isinstance(item, str) or item == "?" or "__" in item:
            continue  # expressions, random order and relation paths are checked by queries
        field_name = item.lstrip("-+")
        if field_name != "pk" and field_name not in meta.fields_map and (
            field_name not in meta.hybrids
        ):
            names = [f.name for f in meta.fields] + list(meta.hybrids)
            raise FieldError(
                f"{cls.__name__}: Meta.ordering refers to the nonexistent field "
                f"'{field_name}'{did_you_mean(field_name, names)}."
            )
    for element in [*meta.indexes, *meta.constraints]:
        element.contribute_to_model(cls)


def _add_exceptions(cls: type[Any], module: str) -> None:
    for exc_name, base in (
        ("DoesNotExist", ObjectDoesNotExist),
        ("MultipleObjectsReturned", MultipleObjectsReturned),
    ):
        exc = type(exc_name, (base,), {
            "__module__": module,
            "__qualname__": f"{cls.__qualname__}.{exc_name}",
            "__doc__": f"Raised when a query on {cls.__name__} finds "
                       f"{'no row' if base is ObjectDoesNotExist else 'several rows'}.",
        })
        setattr(cls, exc_name, exc)


def _add_managers(cls: type[Any], managers: list[tuple[str, Any]]) -> None:
    meta = cls._meta
    if not managers:
        manager_class = default_manager_class()
        if manager_class is None:  # the query layer is not importable yet
            return
        if "objects" in meta.fields_map:
            raise FieldError(
                f"{cls.__name__} has a field named 'objects', which hides the default manager; "
                "declare a manager under another name, e.g. 'rows = models.Manager()'."
            )
        managers = [("objects", manager_class())]
    for manager_name, manager in managers:
        manager.contribute_to_class(cls, manager_name)
        meta.managers.append(manager)


class _DefaultManagerAccess:
    """Typing only: ``User.objects`` is a ``Manager[User]`` (the metaclass sets the real one)."""

    def __get__(self, instance: None, owner: type[_M]) -> Manager[_M]:
        raise AttributeError("objects")  # pragma: no cover - replaced on every concrete model


def _init_plan(meta: Options) -> tuple[int, dict[str, Any], tuple[Any, ...]]:
    """What ``Model.__init__`` needs per model, built on its first instance.

    ``(size of a complete instance __dict__, constant defaults in field order,
    (attname, default getter) of the defaults computed per instance)``.
    """
    constant: dict[str, Any] = {}
    computed: list[tuple[str, Any]] = []
    for field in meta.fields:
        default = field.default
        if type(field).get_default is Field.get_default and (
            default is NOT_PROVIDED
            or not (callable(default) or isinstance(default, (dict, list, set)))
        ):
            constant[field.attname] = field.get_default()
        else:
            constant[field.attname] = None  # keeps field order; replaced below
            computed.append((field.attname, field.get_default))
    plan = (len(constant) + 1, constant, tuple(computed))  # + 1: "_state"
    meta.__dict__["_init_plan"] = plan
    return plan


class Model(metaclass=ModelBase):
    """Base class of every model; declare fields as class attributes.

    ::

        class User(models.Model):
            username = models.CharField(max_length=50, unique=True)

        user = User(username="ann")
        await user.save()
    """

    _meta: ClassVar[Options]
    DoesNotExist: ClassVar[type[ObjectDoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[MultipleObjectsReturned]]
    if TYPE_CHECKING:
        objects: ClassVar[_DefaultManagerAccess]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        meta = cls._meta
        if meta.abstract:
            raise TypeError(f"{cls.__name__} is abstract and cannot be instantiated.")
        # Declared here, not in the class body, where dataclass_transform would take
        # it for a field of every model.
        self._state: ModelState
        values = self.__dict__
        values["_state"] = ModelState()
        plan = meta.__dict__.get("_init_plan") or _init_plan(meta)
        if not args:
            # Fast path: two C-level updates; a keyword that is no field attname
            # (a property, a relation's name, a typo) adds a key and takes the long way.
            values.update(plan[1])
            values.update(kwargs)
            if len(values) == plan[0]:
                for attname, get_default in plan[2]:
                    if attname not in kwargs:
                        values[attname] = get_default()
                return
            values.clear()
            values["_state"] = ModelState()
        fields = meta.fields
        if args:
            if len(args) > len(fields):
                raise TypeError(
                    f"{cls.__name__}() takes at most {len(fields)} positional arguments "
                    f"({len(args)} given)."
                )
            for field, value in zip(fields, args, strict=False):
                if field.name in kwargs or field.attname in kwargs:
                    raise TypeError(
                        f"{cls.__name__}() got multiple values for argument '{field.name}'."
                    )
                values[field.attname] = value
            fields = fields[len(args):]
        for field in fields:
            if field.attname in kwargs:
                values[field.attname] = kwargs.pop(field.attname)
            elif field.name in kwargs:
                if field.is_relation:  # author=user: the key and the cached instance
                    setattr(self, field.name, kwargs.pop(field.name))
                else:
                    values[field.attname] = kwargs.pop(field.name)
            else:
                values[field.attname] = field.get_default()
        if kwargs:
            properties = meta.property_names
            for key in list(kwargs):
                if key in properties:
                    setattr(self, key, kwargs.pop(key))
            for key in kwargs:
                if key in meta.relations_map:
                    raise TypeError(
                        f"{cls.__name__}() got {key}=: a many-to-many or reverse relation "
                        f"cannot be set when creating an instance; save it, then "
                        f"'await obj.{key}.set(...)'."
                    )
            for key in kwargs:
                names = [f.name for f in meta.fields]
                raise TypeError(
                    f"{cls.__name__}() got an unexpected keyword argument '{key}'"
                    f"{did_you_mean(key, names)}"
                )

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Sequence[str], values: Sequence[Any]
    ) -> Model:
        """Build an instance from a row already converted to Python values.

        ``field_names`` are attnames in the order of ``values``; fields not
        named stay deferred. No defaults run, no signals fire.
        """
        new = cls.__new__(cls)
        if len(field_names) < len(cls._meta.concrete_fields):
            expose_deferred(cls, field_names)
        new.__dict__.update(zip(field_names, values, strict=True))
        new.__dict__["_state"] = ModelState(db=db, adding=False)
        return new

    @classmethod
    def pydantic_model(
        cls,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        name: str | None = None,
    ) -> type[pydantic.BaseModel]:
        """Return a pydantic model class with this model's fields, types and constraints.

        ::

            UserIn = User.pydantic_model(exclude=["id"])
            data = UserIn.model_validate(request_json)     # errors before the database's
            UserOut = User.pydantic_model()
            UserOut.model_validate(user)                   # from an instance

        ``include``/``exclude`` take field names (a foreign key by ``author`` or
        ``author_id``); many-to-many and reverse relations are there only when
        included (a list of keys, read from the prefetch cache). ``name``
        defaults to the model's name. The same arguments return the same class.
        See docs/models.md, "Pydantic models".
        """
        return make_pydantic_model(cls, include=include, exclude=exclude, name=name)

    # -- primary key ----------------------------------------------------------------

    @property
    def pk(self) -> Any:
        """The primary key value; a tuple for a composite key."""
        names = self._meta.pk_attnames
        if len(names) == 1:
            return self.__dict__.get(names[0])
        return tuple(self.__dict__.get(n) for n in names)

    @pk.setter
    def pk(self, value: Any) -> None:
        names = self._meta.pk_attnames
        if len(names) == 1:
            self.__dict__[names[0]] = value
            return
        if not isinstance(value, (tuple, list)) or len(value) != len(names):
            raise ValueError(
                f"{type(self).__name__}.pk is composite {names!r}; assign a tuple of "
                f"{len(names)} values."
            )
        self.__dict__.update(zip(names, value, strict=True))

    def _is_pk_set(self) -> bool:
        values = self.__dict__
        names = self._meta.pk_attnames
        if len(names) == 1:  # the usual single-column key: no generator
            return values.get(names[0]) is not None
        return all(values.get(n) is not None for n in names)

    # -- identity -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        if self._meta.concrete_model is not other._meta.concrete_model:
            return False
        if not self._is_pk_set():
            return self is other
        return bool(self.pk == other.pk)

    def __hash__(self) -> int:
        if not self._is_pk_set():
            raise TypeError("Model instances without primary key value are unhashable")
        return hash(self.pk)

    def __str__(self) -> str:
        return f"{type(self).__name__} object ({self.pk})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_state"] = copy.copy(state["_state"])
        return state

    def get_deferred_fields(self) -> set[str]:
        """Return the attnames of fields not loaded on this instance."""
        return {f.attname for f in self._meta.concrete_fields if f.attname not in self.__dict__}

    # -- validation -----------------------------------------------------------------

    def clean_fields(self, exclude: Iterable[str] | None = None) -> None:
        """Clean every field's value in place; raise ``ValidationError`` with ``error_dict``."""
        excluded = set(exclude or ())
        values = self.__dict__
        errors: dict[str, list[ValidationError]] = {}
        for field in self._meta.fields:
            if field.name in excluded or field.attname not in values:
                continue
            raw = values[field.attname]
            if raw is DATABASE_DEFAULT or (field.blank and _is_empty(raw)):
                continue
            try:
                values[field.attname] = field.clean(raw, self)
            except ValidationError as exc:
                errors[field.name] = exc.error_list or [exc]
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        """Hook for model-wide validation; raise ``ValidationError`` to report a problem."""

    async def validate_unique(self, exclude: Iterable[str] | None = None) -> None:
        """Check ``unique`` fields and ``unique_together`` against the database."""
        meta = self._meta
        checks: list[tuple[tuple[Field[Any], ...], Any]] = [
            ((f,), None) for f in meta.fields if f.unique
        ]
        checks += [(tuple(meta.get_field(n) for n in group), None)
                   for group in meta.unique_together]
        await self._run_unique_checks(checks, set(exclude or ()))

    async def validate_constraints(self, exclude: Iterable[str] | None = None) -> None:
        """Check ``UniqueConstraint``\\ s without a condition against the database.

        ``CheckConstraint`` and conditional ``UniqueConstraint`` are enforced by
        the database on save, not here.
        """
        from reinhardt_db.models.constraints import UniqueConstraint

        meta = self._meta
        checks = [
            (tuple(meta.get_field(n) for n in c.fields), c)
            for c in meta.constraints
            if isinstance(c, UniqueConstraint) and c.condition is None
        ]
        await self._run_unique_checks(checks, set(exclude or ()))

    async def _run_unique_checks(
        self, checks: list[tuple[tuple[Field[Any], ...], Any]], exclude: set[str]
    ) -> None:
        errors: dict[str, list[ValidationError]] = {}
        values = self.__dict__
        for fields, constraint in checks:
            if any(f.name in exclude for f in fields):
                continue
            lookup = {f.name: values.get(f.attname) for f in fields}
            if any(v is None or v is DATABASE_DEFAULT for v in lookup.values()):
                continue  # NULLs never collide; database defaults are unknown yet
            if len(fields) == 1 and fields[0].primary_key and not self._state.adding:
                continue
            if not await self._unique_queryset(lookup).exists():
                continue
            error = self._unique_error(fields, constraint)
            key = fields[0].name if len(fields) == 1 and constraint is None else NON_FIELD_ERRORS
            errors.setdefault(key, []).append(error)
        if errors:
            raise ValidationError(errors)

    def _unique_queryset(self, lookup: dict[str, Any]) -> Any:
        manager = type(self)._meta.default_manager
        if manager is None:
            raise TypeError(f"{type(self).__name__} has no manager to run unique checks with.")
        db = self._state.db
        queryset = (manager.using(db) if db is not None else manager.all()).filter(**lookup)
        if not self._state.adding and self._is_pk_set():
            queryset = queryset.exclude(**{
                f.name: self.__dict__[f.attname] for f in self._meta.pk_fields
            })
        return queryset

    def _unique_error(self, fields: tuple[Field[Any], ...], constraint: Any) -> ValidationError:
        meta = self._meta
        if constraint is not None and constraint.violation_error_message:
            return ValidationError(
                constraint.get_violation_error_message(),
                code=constraint.violation_error_code or "unique",
            )
        model_name = meta.verbose_name[:1].upper() + meta.verbose_name[1:]
        labels = [str(f.verbose_name or f.name) for f in fields]
        if len(fields) == 1:
            label = labels[0][:1].upper() + labels[0][1:]
            message = fields[0].error_messages["unique"] % {
                "model_name": model_name, "field_label": label,
            }
            return ValidationError(message, code="unique")
        joined = ", ".join(labels[:-1]) + " and " + labels[-1]
        return ValidationError(
            f"{model_name} with this {joined} already exists.", code="unique_together"
        )

    async def full_clean(
        self,
        exclude: Iterable[str] | None = None,
        validate_unique: bool = True,
        validate_constraints: bool = True,
    ) -> None:
        """Run ``clean_fields``, ``clean``, then unique checks against the database.

        Raise one ``ValidationError`` whose ``error_dict`` maps field names (and
        ``"__all__"`` for model-wide problems) to their errors.
        """
        excluded = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        try:
            self.clean_fields(excluded)
        except ValidationError as exc:
            _merge_errors(errors, exc)
        try:
            self.clean()
        except ValidationError as exc:
            _merge_errors(errors, exc)
        excluded |= set(errors)
        if validate_unique:
            try:
                await self.validate_unique(excluded)
            except ValidationError as exc:
                _merge_errors(errors, exc)
        if validate_constraints:
            try:
                await self.validate_constraints(excluded)
            except ValidationError as exc:
                _merge_errors(errors, exc)
        if errors:
            raise ValidationError(errors)

    # -- persistence (carried out by models/persistence.py) -----------------------

    # save(), delete() and refresh_from_db() return persistence's coroutine
    # rather than awaiting it: the same to ``await``, one coroutine frame less.
    # An override may be ``async def`` and ``await super().save(...)``.
    def save(
        self,
        *,
        update_fields: Iterable[str] | None = None,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
    ) -> Coroutine[Any, Any, None]:
        """INSERT or UPDATE this instance (``pre_save``/``post_save`` signals fire)."""
        persistence = _persistence or _persistence_module()
        return persistence.save_instance(
            self, using, update_fields, force_insert, force_update
        )

    def delete(self, using: str | None = None) -> Coroutine[Any, Any, tuple[int, dict[str, int]]]:
        """Delete this instance (and what ``on_delete`` rules cascade to).

        Return ``(total, {"app.Model": count, ...})`` (awaitable).
        """
        persistence = _persistence or _persistence_module()
        return persistence.delete_instance(self, using)

    def refresh_from_db(
        self, using: str | None = None, fields: Iterable[str] | None = None
    ) -> Coroutine[Any, Any, None]:
        """Reload field values (all, or just ``fields``) from the database (awaitable)."""
        persistence = _persistence or _persistence_module()
        return persistence.refresh_instance(self, using, fields)

    async def fetch_related(self, *lookups: Any, using: str | None = None) -> None:
        """Load relations of this instance: ``await post.fetch_related("author", "tags")``.

        Takes what ``prefetch_related()`` takes (``"author__profile"``, ``Prefetch``);
        one query per relation and level. Relations already loaded are kept.
        """
        from reinhardt_db.models.prefetch import prefetch_related_objects

        await prefetch_related_objects([self], *lookups, using=using)


def _is_empty(value: Any) -> bool:
    try:
        return value in EMPTY_VALUES
    except (TypeError, ValueError):  # e.g. objects whose == is not a plain bool
        return False


def _merge_errors(errors: dict[str, list[ValidationError]], exc: ValidationError) -> None:
    if exc.error_dict:
        for key, items in exc.error_dict.items():
            errors.setdefault(key, []).extend(items)
    else:
        errors.setdefault(NON_FIELD_ERRORS, []).extend(exc.error_list or [exc])
