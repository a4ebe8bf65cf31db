"""``StateApps``: historical model classes rendered from a ``ProjectState``.

``RunPython`` functions and the schema editor need model classes as they were
at some migration: ``apps.get_model("blog", "Post")``. Classes are rendered one
at a time, on first request, into a registry that is not the project's (the
project's ``reinhardt_db.apps`` never sees them) and share one
``sqlalchemy.MetaData`` per state. A state change forgets only the class of the
model it touched, so replaying a long history renders each model a few times,
not once per operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.apps import apps as project_apps
from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.migrations.state import STATE_OPTIONS, ModelKey, rebuild_field
from reinhardt_db.models.fields.composite import CompositePrimaryKey

if TYPE_CHECKING:
    from reinhardt_db.migrations.state import ModelState, ProjectState

__all__ = ["StateApps", "render_model"]

#: ``__module__`` of historical model classes (they live in no importable module).
HISTORICAL_MODULE = "__fake__"


class StateApps:
    """Look up historical models by ``(app_label, model_name)``, like ``reinhardt_db.apps``."""

    def __init__(self, state: ProjectState) -> None:
        self._state = state
        self._models: dict[ModelKey, type[Any]] = {}
        self.metadata = sa.MetaData()

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
        model_state = self._state.models.get(key)
        if model_state is None:
            names = [m.name for (app, _), m in self._state.models.items() if app == app_label]
            raise LookupError(
                f"No model '{app_label}.{model_name}' at this point of the migration history"
                f"{did_you_mean(model_name, names)}."
            )
        model = self._models[key] = render_model(model_state, self.metadata)
        return model

    def get_models(self) -> list[type[Any]]:
        """Return every model of the state, rendered."""
        return [self.get_model(app, name) for app, name in list(self._state.models)]

    def forget(self, key: ModelKey) -> None:
        """Drop the rendered class of ``key`` (its state changed); render anew on next use."""
        model = self._models.pop(key, None)
        if model is not None:
            table = getattr(model._meta, "_table", None)
            if table is not None and table.metadata is self.metadata:
                self.metadata.remove(table)


def render_model(model_state: ModelState, metadata: sa.MetaData) -> type[Any]:
    """Return a new model class for ``model_state`` whose table goes into ``metadata``.

    The class is created inside an isolated app registry, so it is neither
    registered in the project's registry nor in conflict with the real model.
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
    with project_apps.isolated([]):
        model: Any = type(model_state.name, (Model,), body)
    model._meta.metadata = metadata
    return model
