"""``StateApps``: historical model classes rendered from a ``ProjectState``.

``RunPython`` functions and the schema editor need model classes as they were
at some migration: ``apps.get_model("blog", "Post")``. Classes are rendered on
first request into one registry per state that is not the project's (the
project's ``reinhardt_db.apps`` never sees them) and share one
``sqlalchemy.MetaData``, so relations resolve between historical models:
rendering a model renders the models it points at first (``"app.Model"``,
``"self"``, a ``through=`` model; a cycle resolves once its last model is
rendered), and a many-to-many field creates its junction model there.

A state change forgets the class of the model it touched and of every
rendered model that captured it (their relations point at the old class);
the reverse relations a forgotten class gave to models that stay are taken
back. So replaying a long history renders each model a few times, not once
per operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.apps import apps as project_apps
from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.migrations.state import STATE_OPTIONS, ModelKey, rebuild_field
from reinhardt_db.models.fields.composite import CompositePrimaryKey

if TYPE_CHECKING:
    import sqlalchemy as sa

    from reinhardt_db.migrations.state import ModelState, ProjectState

__all__ = ["StateApps", "render_model"]

#: ``__module__`` of historical model classes (they live in no importable module).
HISTORICAL_MODULE = "__fake__"


class StateApps:
    """Look up historical models by ``(app_label, model_name)``, like ``reinhardt_db.apps``."""

    def __init__(self, state: ProjectState) -> None:
        self._state = state
        self._models: dict[ModelKey, type[Any]] = {}
        # Which rendered models captured a model's class: key -> keys of the models whose
        # relations point at it (they are forgotten with it).
        self._captured_by: dict[ModelKey, set[ModelKey]] = {}
        self._rendering: set[ModelKey] = set()
        self._referrer_index: dict[ModelKey, list[ModelKey]] | None = None
        self._registry = project_apps.new_isolated_state()
        self.metadata: sa.MetaData = self._registry.metadata

    def __repr__(self) -> str:
        return f"<StateApps: {len(self._state.models)} models, {len(self._models)} rendered>"

    def get_model(self, app_label: str, model_name: str | None = None) -> type[Any]:
        """Return the historical model ``("blog", "Post")`` or ``("blog.Post")``.

        Raise ``LookupError`` with a hint when the state has no such model.
        """
        if model_name is None:
            app_label, _, model_name = app_label.partition(".")
        key = (app_label, model_name.lower())
        model = self._models.get(key)
        if model is not None:
            return model
        if key not in self._state.models:
            names = [m.name for (app, _), m in self._state.models.items() if app == app_label]
            raise LookupError(
                f"No model '{app_label}.{model_name}' at this point of the migration history"
                f"{did_you_mean(model_name, names)}."
            )
        with project_apps.activated(self._registry):
            self._render(key)
            # The models pointing at it give it its reverse relations (``author.books``,
            # the deletion collector's cascades): render them, and theirs, too.
            todo = [key]
            while todo:
                for referrer in self._referrers().get(todo.pop(), ()):
                    if referrer not in self._models:
                        self._render(referrer)
                        todo.append(referrer)
        return self._models[key]

    def _referrers(self) -> dict[ModelKey, list[ModelKey]]:
        """``{model: the models whose relations name it}`` for the current state."""
        if self._referrer_index is None:
            index: dict[ModelKey, list[ModelKey]] = {}
            for key, model_state in self._state.models.items():
                for target in model_state.related_keys():
                    index.setdefault(target, []).append(key)
            self._referrer_index = index
        return self._referrer_index

    def get_models(self) -> list[type[Any]]:
        """Return every model of the state, rendered."""
        return [self.get_model(app, name) for app, name in list(self._state.models)]

    def _render(self, key: ModelKey) -> None:
        """Render ``key`` after the models it points at (inside the activated registry)."""
        if key in self._models or key in self._rendering:
            return  # rendered, or a cycle: its relations resolve when it registers
        model_state = self._state.models[key]
        targets = [k for k in model_state.related_keys() if k in self._state.models]
        self._rendering.add(key)
        try:
            for target in targets:
                self._render(target)
            self._models[key] = render_model(model_state, self.metadata)
        finally:
            self._rendering.discard(key)
        for target in targets:
            self._captured_by.setdefault(target, set()).add(key)

    def forget(self, key: ModelKey) -> None:
        """Drop the rendered class of ``key`` (its state changed) and of the models capturing it.

        They render anew on next use.
        """
        self._referrer_index = None  # the state changed
        doomed: list[ModelKey] = []
        stack = [key]
        while stack:
            current = stack.pop()
            if current in doomed:
                continue
            doomed.append(current)
            stack.extend(self._captured_by.pop(current, ()))
        classes = [self._models.pop(k) for k in doomed if k in self._models]
        if not classes:
            return
        staying = set(self._models.values())
        for model in classes:
            _take_back(model, staying, self._registry)


def _take_back(model: type[Any], staying: set[type[Any]], registry: Any) -> None:
    """Remove what ``model`` put on models that stay rendered, and unregister it."""
    meta = model._meta
    owned = [model]
    for field in meta.many_to_many:
        through: Any = field.through
        if getattr(getattr(through, "_meta", None), "auto_created", False):
            owned.append(through)
    with project_apps.activated(registry):
        for cls in owned:
            relations = [f for f in cls._meta.local_fields if f.is_relation]
            relations += list(cls._meta.many_to_many)
            for field in relations:
                target = field.remote_field.model
                if isinstance(target, type) and target in staying:
                    _remove_reverse(target, field.remote_field)
            project_apps.unregister_model(cls)
            table = getattr(cls._meta, "_table", None)
            if table is not None and table.metadata is registry.metadata:
                registry.metadata.remove(table)  # junction models are not registered


def _remove_reverse(target: type[Any], rel: Any) -> None:
    meta = target._meta
    if rel in meta.related_objects:
        meta.related_objects.remove(rel)
        meta._expire_cache()
    if not rel.hidden:
        accessor = rel.accessor_name
        descriptor = vars(target).get(accessor)
        if getattr(descriptor, "rel", None) is rel:
            delattr(target, accessor)


def render_model(model_state: ModelState, metadata: sa.MetaData) -> type[Any]:
    """Return a new model class for ``model_state`` whose table goes into ``metadata``.

    The class registers in the registry active at the call (``StateApps``
    activates its own); called outside one, it goes into a throwaway registry.
    """
    from reinhardt_db.models.base import Model

    meta_attrs: dict[str, Any] = {"app_label": model_state.app_label}
    for key in STATE_OPTIONS:
        if key not in model_state.options:
            continue
        value = model_state.options[key]
        if key == "indexes":
            value = [index.clone() for index in value]
        elif key == "constraints":
            value = [constraint.clone() for constraint in value]
        elif key == "unique_together":
            value = sorted(value)
        meta_attrs[key] = value
    body: dict[str, Any] = {
        "__module__": HISTORICAL_MODULE,
        "__qualname__": model_state.name,
        "Meta": type("Meta", (), meta_attrs),
    }
    for name, field in model_state.fields.items():
        if isinstance(field, CompositePrimaryKey):
            body[name] = CompositePrimaryKey(*field.field_names)
        else:
            body[name] = rebuild_field(field)
    if project_apps.metadata is metadata:
        model: Any = type(model_state.name, (Model,), body)
    else:
        with project_apps.isolated([]):
            model = type(model_state.name, (Model,), body)
    model._meta.metadata = metadata
    return model
