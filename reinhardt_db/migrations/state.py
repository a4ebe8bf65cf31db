"""``ProjectState`` and ``ModelState``: the models as the migration files describe them.

A ``ProjectState`` is built by replaying migration operations in graph order
(``MigrationLoader.project_state()``), never by looking at the database. Each
operation's ``state_forwards`` changes it; the autodetector compares the
replayed state with ``ProjectState.from_apps()`` (the models in the code).

Fields held by a ``ModelState`` are unbound and treated as immutable: an
operation replaces a field, never mutates it, so ``clone()`` can share them.
Historical model classes (``state.apps.get_model("blog", "Post")``) are
rendered from the state on demand (see ``migrations/_rendering.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.exceptions import FieldDoesNotExist
from reinhardt_db.models.fields.base import NOT_PROVIDED, Field
from reinhardt_db.models.fields.composite import CompositePrimaryKey

if TYPE_CHECKING:
    from reinhardt_db.apps import Apps
    from reinhardt_db.migrations._rendering import StateApps

__all__ = [
    "ModelState",
    "ProjectState",
    "field_references",
    "normalize_together",
    "rebuild_field",
    "rebuild_field_with",
    "resolve_relation",
]

ModelKey = tuple[str, str]

#: ``Meta`` options a ``ModelState`` keeps (``app_label`` and ``abstract`` are not options here).
STATE_OPTIONS = (
    "db_table",
    "ordering",
    "indexes",
    "constraints",
    "unique_together",
    "managed",
    "default_related_name",
    "get_latest_by",
    "verbose_name",
    "verbose_name_plural",
)
#: Options that change nothing in the database (``AlterModelOptions`` handles them).
ALTER_OPTION_KEYS = (
    "ordering",
    "managed",
    "default_related_name",
    "get_latest_by",
    "verbose_name",
    "verbose_name_plural",
)


def normalize_together(value: Any) -> set[tuple[str, ...]]:
    """Return ``unique_together`` as a set of field-name tuples (``("a", "b")`` is one group)."""
    if not value:
        return set()
    if isinstance(value, (tuple, list)) and isinstance(value[0], str):
        return {tuple(value)}
    return {tuple(group) for group in value}


def rebuild_field(field: Any) -> Any:
    """Return a new, unbound field built from ``field.deconstruct()``.

    The class is the field's own (``deconstruct()`` of a custom field may name
    the built-in module); only the constructor arguments come from the tuple.
    """
    _name, _path, args, kwargs = field.deconstruct()
    return type(field)(*args, **kwargs)


def resolve_relation(spec: Any, app_label: str, model_name: str) -> ModelKey:
    """Return the ``(app_label, model_name_lower)`` a relation target names.

    ``spec`` is a model class, ``"app_label.Model"``, ``"Model"`` (the app of
    the model holding the field) or ``"self"`` (that model itself).
    """
    meta = getattr(spec, "_meta", None)
    if meta is not None:
        return meta.app_label, meta.model_name
    if spec == "self":
        return app_label, model_name.lower()
    target_app, _, name = str(spec).rpartition(".")
    return (target_app or app_label), name.lower()


def field_references(field: Any, app_label: str, model_name: str) -> list[ModelKey]:
    """Return the models a field needs to exist: its target and its ``through`` model."""
    remote = getattr(field, "remote_field", None)
    if remote is None:
        return []
    keys = [resolve_relation(remote.model, app_label, model_name)]
    through = getattr(field, "through", None)
    if through is not None and not getattr(getattr(through, "_meta", None), "auto_created", False):
        keys.append(resolve_relation(through, app_label, model_name))
    return keys


def field_signature(field: Any) -> tuple[Any, ...]:
    """Return what identifies a field definition: its class and constructor arguments."""
    _name, _path, args, kwargs = field.deconstruct()
    for key in ("to", "through"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = kwargs[key].lower()  # "blog.Author" and "blog.author" are one model
    # A field among the arguments (ArrayField's base field) compares by its own signature.
    frozen = tuple(field_signature(a) if _is_field(a) else _freeze(a) for a in args)
    return (type(field).__qualname__, frozen, _freeze(kwargs))


def _is_field(value: Any) -> bool:
    return not isinstance(value, type) and callable(getattr(value, "get_internal_type", None))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class ModelState:
    """One model as of some point in the migration history.

    ``fields`` maps names to unbound fields (a composite key is the entry
    ``"pk"``); ``options`` holds the ``Meta`` options in ``STATE_OPTIONS``
    that differ from their defaults, plus ``indexes`` and ``constraints``
    (lists of named ``Index``/constraint objects) and ``unique_together`` (a
    set of tuples) when set.
    """

    def __init__(
        self,
        app_label: str,
        name: str,
        fields: Iterable[tuple[str, Any]] | Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.app_label = app_label
        self.name = name
        items = fields.items() if isinstance(fields, Mapping) else fields
        self.fields: dict[str, Any] = dict(items)
        self.options: dict[str, Any] = dict(options or {})
        self.options.setdefault("indexes", [])
        self.options.setdefault("constraints", [])
        if "unique_together" in self.options:
            together = normalize_together(self.options["unique_together"])
            if together:
                self.options["unique_together"] = together
            else:
                del self.options["unique_together"]
        for field_name, field in self.fields.items():
            if getattr(field, "model", None) is not None:
                raise ValueError(
                    f"ModelState.fields cannot be bound to a model: '{name}.{field_name}' "
                    "is; pass a new field or rebuild_field(field)."
                )
        for index in self.options["indexes"]:
            if not index.name:
                raise ValueError(
                    f"Indexes passed to ModelState require a name; {index!r} on {name} has none."
                )

    def __repr__(self) -> str:
        return f"<ModelState: '{self.app_label}.{self.name}'>"

    @property
    def name_lower(self) -> str:
        """The model name in lower case (how operations and the registry key it)."""
        return self.name.lower()

    @property
    def key(self) -> ModelKey:
        """``(app_label, name_lower)``."""
        return self.app_label, self.name_lower

    @property
    def db_table(self) -> str:
        """The table name: ``Meta.db_table`` or ``<app_label>_<model name lowercased>``."""
        return self.options.get("db_table") or f"{self.app_label}_{self.name_lower}"

    def related_keys(self) -> list[ModelKey]:
        """Return the other models this model's relations name (targets and ``through``)."""
        keys: list[ModelKey] = []
        for field in self.fields.values():
            for key in field_references(field, self.app_label, self.name):
                if key != self.key and key not in keys:
                    keys.append(key)
        return keys

    def get_field(self, name: str) -> Any:
        """Return the field called ``name``; raise ``FieldDoesNotExist`` with a hint."""
        try:
            return self.fields[name]
        except KeyError:
            raise FieldDoesNotExist(
                f"{self.app_label}.{self.name} has no field named '{name}' in the migration "
                f"state{did_you_mean(name, list(self.fields))}"
            ) from None

    def get_index_by_name(self, name: str) -> Any:
        """Return the index called ``name``; raise ``ValueError`` naming the model."""
        for index in self.options["indexes"]:
            if index.name == name:
                return index
        raise ValueError(f"No index named '{name}' on model '{self.app_label}.{self.name}'.")

    def get_constraint_by_name(self, name: str) -> Any:
        """Return the constraint called ``name``; raise ``ValueError`` naming the model."""
        for constraint in self.options["constraints"]:
            if constraint.name == name:
                return constraint
        raise ValueError(
            f"No constraint named '{name}' on model '{self.app_label}.{self.name}'."
        )

    @classmethod
    def from_model(cls, model: type[Any]) -> ModelState:
        """Return the state of a model class (its fields rebuilt unbound, its options)."""
        meta = model._meta
        fields: list[tuple[str, Any]] = []
        if isinstance(meta.pk, CompositePrimaryKey):
            fields.append(("pk", CompositePrimaryKey(*meta.pk.field_names)))
        for field in meta.local_fields:
            fields.append((field.name, rebuild_field(field)))
        for field in meta.many_to_many:
            fields.append((field.name, rebuild_field(field)))
        options: dict[str, Any] = {}
        declared = meta.original_attrs
        for key in ("db_table", *ALTER_OPTION_KEYS):
            if key in declared and declared[key] is not None:
                value = declared[key]
                options[key] = list(value) if key == "ordering" else value
        if "managed" in options and options["managed"] is True:
            del options["managed"]
        if meta.unique_together:
            options["unique_together"] = normalize_together(meta.unique_together)
        options["indexes"] = [index.clone() for index in meta.indexes]
        options["constraints"] = [constraint.clone() for constraint in meta.constraints]
        return cls(meta.app_label, model.__name__, fields, options)

    def clone(self) -> ModelState:
        """Return a copy whose options and field map can change independently.

        Field objects are shared: state operations replace fields, never mutate them.
        """
        options = dict(self.options)
        options["indexes"] = list(self.options["indexes"])
        options["constraints"] = list(self.options["constraints"])
        if "unique_together" in options:
            options["unique_together"] = set(options["unique_together"])
        return ModelState(self.app_label, self.name, dict(self.fields), options)

    def field_signatures(self) -> dict[str, tuple[Any, ...]]:
        """Return ``{field name: field_signature(field)}``."""
        return {name: field_signature(field) for name, field in self.fields.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelState):
            return NotImplemented
        return (
            (self.app_label, self.name) == (other.app_label, other.name)
            and list(self.fields) == list(other.fields)
            and self.field_signatures() == other.field_signatures()
            and _comparable_options(self.options) == _comparable_options(other.options)
        )

    __hash__ = None  # type: ignore[assignment]


def _comparable_options(options: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(options)
    result["indexes"] = sorted(
        (_freeze(index.deconstruct()) for index in options.get("indexes", [])), key=repr
    )
    result["constraints"] = sorted(
        (_freeze(c.deconstruct()) for c in options.get("constraints", [])), key=repr
    )
    return result


class ProjectState:
    """Every model of the project at one point of the migration history.

    ``models`` maps ``(app_label, model_name_lower)`` to ``ModelState``.
    ``apps`` renders historical model classes from it on demand; every change
    made through the methods below forgets the rendered class of the model
    it touches.
    """

    def __init__(self, models: Mapping[ModelKey, ModelState] | None = None) -> None:
        self.models: dict[ModelKey, ModelState] = dict(models or {})
        self._apps: StateApps | None = None

    def __repr__(self) -> str:
        return f"<ProjectState: {len(self.models)} models>"

    def __iter__(self) -> Iterator[ModelState]:
        return iter(self.models.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProjectState):
            return NotImplemented
        return self.models == other.models

    __hash__ = None  # type: ignore[assignment]

    @property
    def apps(self) -> StateApps:
        """The registry of historical model classes for this state (rendered lazily)."""
        if self._apps is None:
            from reinhardt_db.migrations._rendering import StateApps

            self._apps = StateApps(self)
        return self._apps

    @classmethod
    def from_apps(cls, registry: Apps | None = None, app_labels: Iterable[str] | None = None
                  ) -> ProjectState:
        """Return the state of the models registered now (``reinhardt_db.apps`` by default).

        ``app_labels`` limits it to those applications.
        """
        if registry is None:
            from reinhardt_db.apps import apps as project_apps

            registry = project_apps
        wanted = set(app_labels) if app_labels is not None else None
        state = cls()
        for model in registry.get_models():
            if model._meta.auto_created:
                continue  # a many-to-many junction: it comes with its field
            if wanted is None or model._meta.app_label in wanted:
                state.add_model(ModelState.from_model(model))
        return state

    def clone(self) -> ProjectState:
        """Return a copy that can change without touching this state."""
        return ProjectState({key: model.clone() for key, model in self.models.items()})

    def get_model(self, app_label: str, model_name: str) -> ModelState:
        """Return the state of ``app_label.model_name``; raise ``LookupError`` with a hint."""
        try:
            return self.models[app_label, model_name.lower()]
        except KeyError:
            names = [m.name for (app, _), m in self.models.items() if app == app_label]
            raise LookupError(
                f"No model '{app_label}.{model_name}' in the migration state"
                f"{did_you_mean(model_name, names)}. Does a migration create it?"
            ) from None

    def app_labels(self) -> set[str]:
        """Return the labels of the apps that have models in this state."""
        return {app for app, _ in self.models}

    def _changed(self, *keys: ModelKey) -> None:
        if self._apps is not None:
            for key in keys:
                self._apps.forget(key)

    # -- models ---------------------------------------------------------------------

    def add_model(self, model_state: ModelState) -> None:
        """Add ``model_state``; raise ``ValueError`` when the model exists already."""
        key = model_state.key
        if key in self.models:
            raise ValueError(
                f"Model '{model_state.app_label}.{model_state.name}' already exists in the "
                "migration state; is it created by two migrations?"
            )
        self.models[key] = model_state
        self._changed(key)

    def remove_model(self, app_label: str, model_name: str) -> None:
        """Remove a model."""
        model = self.get_model(app_label, model_name)
        del self.models[model.key]
        self._changed(model.key)

    def rename_model(self, app_label: str, old_name: str, new_name: str) -> None:
        """Rename a model (its table follows when the table name is the default)."""
        model = self.get_model(app_label, old_name)
        renamed = model.clone()
        renamed.name = new_name
        del self.models[model.key]
        self.add_model(renamed)
        self._changed(model.key)
        # Relations naming the old model now name the new one (their columns stay).
        old_key, label = model.key, f"{app_label}.{new_name}"
        for other in self.models.values():
            changed = False
            for field_name, field in list(other.fields.items()):
                remote = getattr(field, "remote_field", None)
                if remote is None:
                    continue
                updates: dict[str, Any] = {}
                if resolve_relation(remote.model, other.app_label, other.name) == old_key:
                    updates["to"] = label
                through = getattr(field, "through", None)
                if through is not None and resolve_relation(
                    through, other.app_label, other.name
                ) == old_key:
                    updates["through"] = label
                if updates:
                    other.fields[field_name] = rebuild_field_with(field, updates)
                    changed = True
            if changed:
                self._changed(other.key)

    def alter_model_options(
        self, app_label: str, model_name: str, options: Mapping[str, Any],
        option_keys: Iterable[str] = (),
    ) -> None:
        """Set ``options``; remove each key of ``option_keys`` that ``options`` lacks."""
        model = self.get_model(app_label, model_name)
        model.options.update(options)
        for key in option_keys:
            if key not in options:
                model.options.pop(key, None)
        self._changed(model.key)

    def alter_model_table(self, app_label: str, model_name: str, table: str | None) -> None:
        """Set (or with ``None`` reset to the default) the model's table name."""
        model = self.get_model(app_label, model_name)
        if table:
            model.options["db_table"] = table
        else:
            model.options.pop("db_table", None)
        self._changed(model.key)

    def alter_unique_together(
        self, app_label: str, model_name: str, unique_together: Any
    ) -> None:
        """Replace the model's ``unique_together`` groups."""
        model = self.get_model(app_label, model_name)
        together = normalize_together(unique_together)
        if together:
            model.options["unique_together"] = together
        else:
            model.options.pop("unique_together", None)
        self._changed(model.key)

    # -- fields ---------------------------------------------------------------------

    def add_field(
        self, app_label: str, model_name: str, name: str, field: Any, preserve_default: bool
    ) -> None:
        """Add ``field`` (a copy without its one-off default unless ``preserve_default``)."""
        model = self.get_model(app_label, model_name)
        if name in model.fields:
            raise ValueError(f"Field '{name}' already exists on '{app_label}.{model.name}'.")
        model.fields[name] = field if preserve_default else _without_default(field)
        self._changed(model.key)

    def remove_field(self, app_label: str, model_name: str, name: str) -> None:
        """Remove a field, and the indexes, constraints and groups that use it."""
        model = self.get_model(app_label, model_name)
        model.get_field(name)
        del model.fields[name]
        _drop_field_references(model, name)
        self._changed(model.key)

    def alter_field(
        self, app_label: str, model_name: str, name: str, field: Any, preserve_default: bool
    ) -> None:
        """Replace a field's definition."""
        model = self.get_model(app_label, model_name)
        model.get_field(name)
        model.fields[name] = field if preserve_default else _without_default(field)
        self._changed(model.key)

    def rename_field(self, app_label: str, model_name: str, old_name: str, new_name: str) -> None:
        """Rename a field, keeping its position, and follow it in options."""
        model = self.get_model(app_label, model_name)
        model.get_field(old_name)
        if new_name in model.fields:
            raise ValueError(
                f"Cannot rename '{app_label}.{model.name}.{old_name}' to '{new_name}': "
                "that field exists already."
            )
        model.fields = {
            (new_name if key == old_name else key): value for key, value in model.fields.items()
        }
        _rename_field_references(model, old_name, new_name)
        self._changed(model.key)
        # Foreign keys naming the field with to_field= follow it.
        for other in self.models.values():
            for field_name, field in list(other.fields.items()):
                remote = getattr(field, "remote_field", None)
                if (
                    remote is not None
                    and getattr(field, "to_field", None) == old_name
                    and resolve_relation(remote.model, other.app_label, other.name) == model.key
                ):
                    other.fields[field_name] = rebuild_field_with(field, {"to_field": new_name})
                    self._changed(other.key)

    # -- indexes and constraints ---------------------------------------------------

    def add_index(self, app_label: str, model_name: str, index: Any) -> None:
        """Add a named index."""
        model = self.get_model(app_label, model_name)
        if any(i.name == index.name for i in model.options["indexes"]):
            raise ValueError(f"Index '{index.name}' exists already on '{app_label}.{model.name}'.")
        model.options["indexes"] = [*model.options["indexes"], index.clone()]
        self._changed(model.key)

    def remove_index(self, app_label: str, model_name: str, index_name: str) -> None:
        """Remove the index called ``index_name``."""
        model = self.get_model(app_label, model_name)
        model.get_index_by_name(index_name)
        model.options["indexes"] = [i for i in model.options["indexes"] if i.name != index_name]
        self._changed(model.key)

    def rename_index(self, app_label: str, model_name: str, old_name: str, new_name: str) -> None:
        """Rename an index."""
        model = self.get_model(app_label, model_name)
        renamed = model.get_index_by_name(old_name).clone()
        renamed.name = new_name
        model.options["indexes"] = [
            renamed if i.name == old_name else i for i in model.options["indexes"]
        ]
        self._changed(model.key)

    def add_constraint(self, app_label: str, model_name: str, constraint: Any) -> None:
        """Add a constraint."""
        model = self.get_model(app_label, model_name)
        if any(c.name == constraint.name for c in model.options["constraints"]):
            raise ValueError(
                f"Constraint '{constraint.name}' exists already on '{app_label}.{model.name}'."
            )
        model.options["constraints"] = [*model.options["constraints"], constraint.clone()]
        self._changed(model.key)

    def remove_constraint(self, app_label: str, model_name: str, name: str) -> None:
        """Remove the constraint called ``name``."""
        model = self.get_model(app_label, model_name)
        model.get_constraint_by_name(name)
        model.options["constraints"] = [
            c for c in model.options["constraints"] if c.name != name
        ]
        self._changed(model.key)


def rebuild_field_with(field: Any, updates: Mapping[str, Any]) -> Any:
    """Return a new field like ``field`` with the constructor arguments in ``updates``."""
    _name, _path, args, kwargs = field.deconstruct()
    kwargs.update(updates)
    return type(field)(*args, **kwargs)


def _without_default(field: Any) -> Any:
    _name, _path, args, kwargs = field.deconstruct()
    kwargs.pop("default", None)
    return type(field)(*args, **kwargs)


def has_one_off_default(field: Field[Any]) -> bool:
    """Return whether ``field`` carries a ``default`` (used for preserve_default=False)."""
    return field.default is not NOT_PROVIDED


def _drop_field_references(model: ModelState, name: str) -> None:
    options = model.options
    options["indexes"] = [i for i in options["indexes"] if name not in i.field_names]
    options["constraints"] = [
        c for c in options["constraints"] if name not in getattr(c, "fields", ())
    ]
    if "unique_together" in options:
        groups = {g for g in options["unique_together"] if name not in g}
        if groups:
            options["unique_together"] = groups
        else:
            del options["unique_together"]
    if "ordering" in options:
        options["ordering"] = [o for o in options["ordering"]
                               if not (isinstance(o, str) and o.lstrip("-+") == name)]


def _rename_field_references(model: ModelState, old: str, new: str) -> None:
    options = model.options
    indexes = []
    for index in options["indexes"]:
        if old in index.field_names:
            index = index.clone()
            index.fields = [
                (f"-{new}" if f == f"-{old}" else new if f == old else f) for f in index.fields
            ]
            index.fields_orders = [(new if n == old else n, o) for n, o in index.fields_orders]
        indexes.append(index)
    options["indexes"] = indexes
    constraints = []
    for constraint in options["constraints"]:
        fields = getattr(constraint, "fields", ())
        if old in fields:
            _path, args, kwargs = constraint.deconstruct()
            kwargs["fields"] = tuple(new if f == old else f for f in fields)
            constraint = type(constraint)(*args, **kwargs)
        constraints.append(constraint)
    options["constraints"] = constraints
    if "unique_together" in options:
        options["unique_together"] = {
            tuple(new if f == old else f for f in group) for group in options["unique_together"]
        }
    if "ordering" in options:
        renamed = []
        for item in options["ordering"]:
            if isinstance(item, str) and item.lstrip("-+") == old:
                item = item[: len(item) - len(old)] + new
            renamed.append(item)
        options["ordering"] = renamed
