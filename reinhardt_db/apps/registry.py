"""The app registry: which models exist, under which application label.

Every concrete model registers itself here when its class is created. The
registry also owns the ``sqlalchemy.MetaData`` that holds the models' tables,
so a fresh registry (``reinhardt_db.testing.isolate_apps``) starts with fresh
tables too.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from reinhardt_db.apps.config import AppConfig
from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = ["Apps", "apps"]


class _RegistryState:
    """Everything a registry holds; ``Apps.isolated()`` swaps it for a fresh one."""

    def __init__(self, installed_apps: Sequence[str] | None = None, isolated: bool = False):
        self.app_configs: dict[str, AppConfig] = {}
        self.metadata = sa.MetaData()
        self.installed_apps = list(installed_apps) if installed_apps is not None else None
        self.isolated = isolated


class Apps:
    """Registry of applications and their models.

    ``installed_apps`` comes from settings (``reinhardt_db.conf``) unless an
    isolated registry overrides it.
    """

    def __init__(self) -> None:
        self._state = _RegistryState()

    # -- applications ---------------------------------------------------------------

    def installed_app_names(self) -> list[str]:
        """Return the dotted names of the installed applications."""
        if self._state.installed_apps is not None:
            return list(self._state.installed_apps)
        try:
            from reinhardt_db.conf import get_settings
        except ModuleNotFoundError as exc:  # settings layer not importable: nothing installed
            if exc.name not in ("reinhardt_db.conf", "reinhardt_db"):
                raise
            return []
        return list(get_settings().installed_apps)

    def _config(self, label: str, name: str | None = None) -> AppConfig:
        config = self._state.app_configs.get(label)
        if config is None:
            config = self._state.app_configs[label] = AppConfig(name or label, label, False)
        return config

    def populate(self) -> None:
        """Import every installed app and its ``models`` module, registering their models.

        Raise ``ImproperlyConfigured`` naming the first entry of
        ``installed_apps`` that does not import (with a did-you-mean hint).
        Already imported modules are not imported again, so their models stay
        in the registry they first registered in.
        """
        from reinhardt_db.conf.imports import import_app  # conf sits below the registry

        self.get_app_configs()  # duplicate labels are an error before anything imports
        for index, name in enumerate(self.installed_app_names()):
            import_app(name, f"installed_apps[{index}]")

    def get_app_configs(self) -> list[AppConfig]:
        """Return the installed apps, then labels known only through ``Meta.app_label``."""
        installed: dict[str, AppConfig] = {}
        for name in self.installed_app_names():
            label = name.rpartition(".")[2]
            if label in installed:
                raise ImproperlyConfigured(
                    f"installed_apps: application labels aren't unique, duplicates: {label} "
                    f"({installed[label].name} and {name})."
                )
            config = self._config(label, name)
            config.name, config.installed = name, True
            installed[label] = config
        for label, config in self._state.app_configs.items():
            if label not in installed:
                config.installed = False
                if config.models:
                    installed[label] = config
        return list(installed.values())

    def get_app_config(self, app_label: str) -> AppConfig:
        """Return the app with ``app_label`` or raise ``LookupError`` with a hint."""
        for config in self.get_app_configs():
            if config.label == app_label:
                return config
        labels = [c.label for c in self.get_app_configs()]
        raise LookupError(
            f"No installed app with label '{app_label}'{did_you_mean(app_label, labels)}"
        )

    def is_installed(self, app_name: str) -> bool:
        """Return whether the dotted ``app_name`` is in ``installed_apps``."""
        return app_name in self.installed_app_names()

    def app_label_for_module(self, module: str) -> str | None:
        """Return the label of the installed app whose package holds ``module``.

        The longest matching package wins, so ``shop.billing`` beats ``shop``
        for ``shop.billing.models``.
        """
        best: str | None = None
        for name in self.installed_app_names():
            if (module == name or module.startswith(name + ".")) and (
                best is None or len(name) > len(best)
            ):
                best = name
        return best.rpartition(".")[2] if best is not None else None

    def resolve_app_label(self, model_name: str, module: str, declared: str | None) -> str:
        """Return ``declared`` or the label of the app holding ``module``; else raise."""
        if declared:
            return declared
        label = self.app_label_for_module(module)
        if label is None:
            raise ImproperlyConfigured(
                f"Model class {module}.{model_name} doesn't declare an explicit app_label and "
                f"isn't in an application in installed_apps. Add its package (e.g. "
                f"'{module.rpartition('.')[0] or module}') to installed_apps, or set "
                "'app_label' in the model's Meta."
            )
        return label

    # -- models ---------------------------------------------------------------------

    @property
    def metadata(self) -> sa.MetaData:
        """The ``MetaData`` holding the tables of this registry's models."""
        return self._state.metadata

    @property
    def all_models(self) -> dict[str, dict[str, type[Any]]]:
        """``{app_label: {model_name_lower: model}}``."""
        return {label: c.models for label, c in self._state.app_configs.items() if c.models}

    def register_model(self, app_label: str, model: type[Any]) -> None:
        """Register ``model`` under ``app_label``.

        A different class with the same app label and name raises
        ``RuntimeError`` naming both, except inside an isolated registry, where
        the new class replaces the old one.
        """
        models = self._config(app_label).models
        key = model.__name__.lower()
        existing = models.get(key)
        if existing is not None and existing is not model:
            same_place = (existing.__module__, existing.__qualname__) == (
                model.__module__, model.__qualname__,
            )
            if same_place:
                warnings.warn(
                    f"Model '{app_label}.{key}' was already registered. Reloading models is "
                    "not advised as it can lead to inconsistencies.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            elif not self._state.isolated:
                raise RuntimeError(
                    f"Conflicting '{key}' models in application '{app_label}': "
                    f"{existing.__module__}.{existing.__qualname__} and "
                    f"{model.__module__}.{model.__qualname__}. Rename one, or give it "
                    "another Meta.app_label."
                )
            self._forget_table(existing)
        models[key] = model

    def _forget_table(self, model: type[Any]) -> None:
        table = getattr(model._meta, "_table", None)
        if table is not None and table.metadata is self._state.metadata:
            self._state.metadata.remove(table)

    def get_models(self) -> list[type[Any]]:
        """Return every registered model, app by app, in registration order."""
        return [m for config in self._state.app_configs.values() for m in config.models.values()]

    def get_model(self, app_label: str, model_name: str | None = None) -> type[Any]:
        """Return a model by ``("accounts", "User")`` or ``("accounts.User")``.

        The model name is case-insensitive; raise ``LookupError`` with a hint.
        """
        if model_name is None:
            app_label, _, model_name = app_label.partition(".")
            if not model_name:
                raise ValueError(
                    f"get_model() takes 'app_label.ModelName' or two arguments, got {app_label!r}."
                )
        return self.get_app_config(app_label).get_model(model_name)

    # -- isolation ------------------------------------------------------------------

    @contextlib.contextmanager
    def isolated(self, installed_apps: Sequence[str] | None = None) -> Iterator[Apps]:
        """Swap in an empty registry (and ``MetaData``) for the duration of the block.

        ``installed_apps`` overrides the settings inside the block; without it
        the settings' list still applies.
        """
        saved = self._state
        isolated = self._state = _RegistryState(installed_apps, isolated=True)
        try:
            yield self
        finally:
            self._state = saved
            _detach_reverse_relations(isolated)

    @staticmethod
    def new_isolated_state() -> RegistryState:
        """Return an empty registry state to fill with ``activated()`` blocks later.

        The migrations' historical registry keeps one per ``ProjectState``, so
        models rendered at different times resolve their relations to each other.
        """
        return _RegistryState([], isolated=True)

    @contextlib.contextmanager
    def activated(self, state: RegistryState) -> Iterator[Apps]:
        """Make ``state`` (from ``new_isolated_state()``) the registry for the block."""
        saved = self._state
        self._state = state
        try:
            yield self
        finally:
            self._state = saved

    def unregister_model(self, model: type[Any]) -> None:
        """Forget ``model`` (and its table) if it is the registered one; else do nothing."""
        config = self._state.app_configs.get(model._meta.app_label)
        if config is not None and config.models.get(model.__name__.lower()) is model:
            del config.models[model.__name__.lower()]
            self._forget_table(model)


def _detach_reverse_relations(state: _RegistryState) -> None:
    """Take the reverse sides that models of ``state`` left on models outside it.

    An isolated model pointing at an installed one (a ``ForeignKey`` to
    ``ContentType``) gave that model a reverse relation; once the block ends
    it must not make deletes cascade to a table that no longer exists.
    """
    inside = {m for config in state.app_configs.values() for m in config.models.values()}
    for model in inside:
        meta = model._meta
        fields = [*meta.local_fields, *meta.many_to_many]
        for m2m in meta.many_to_many:
            through: Any = m2m.through
            if hasattr(through, "_meta"):  # resolved (a name until then)
                fields += through._meta.local_fields
        for field in fields:
            target: Any = getattr(field.remote_field, "model", None) if field.is_relation else None
            if not hasattr(target, "_meta") or target in inside:
                continue
            rel = field.remote_field
            target_meta = target._meta
            if rel in target_meta.related_objects:
                target_meta.related_objects.remove(rel)
                target_meta._expire_cache()
            accessor: str = "" if rel.hidden else rel.accessor_name
            descriptor = target.__dict__.get(accessor) if accessor else None
            if descriptor is not None and getattr(descriptor, "rel", None) is rel:
                delattr(target, accessor)


#: A registry's contents (``Apps.new_isolated_state()``, ``Apps.activated()``).
RegistryState = _RegistryState

apps = Apps()
