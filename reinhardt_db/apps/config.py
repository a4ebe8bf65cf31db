"""``AppConfig``: one installed application and the models registered under its label."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from reinhardt_db.apps.hints import did_you_mean

__all__ = ["AppConfig"]


class AppConfig:
    """An application: its dotted package ``name``, its ``label`` and its models.

    ``installed`` is False for a label that only appears through
    ``Meta.app_label`` (e.g. models declared in tests) and is not in
    ``installed_apps``.
    """

    def __init__(self, name: str, label: str | None = None, installed: bool = True) -> None:
        self.name = name
        self.label = label or name.rpartition(".")[2]
        self.installed = installed
        self.models: dict[str, type[Any]] = {}

    def __repr__(self) -> str:
        return f"<AppConfig: {self.label}>"

    @property
    def module(self) -> ModuleType:
        """The application's package, imported on first access."""
        return importlib.import_module(self.name)

    def get_models(self) -> list[type[Any]]:
        """Return this app's models in registration order."""
        return list(self.models.values())

    def get_model(self, model_name: str) -> type[Any]:
        """Return the model named ``model_name`` (case-insensitive) or raise ``LookupError``."""
        try:
            return self.models[model_name.lower()]
        except KeyError:
            names = [m.__name__ for m in self.models.values()]
            hint = did_you_mean(model_name, names)
            raise LookupError(
                f"App '{self.label}' doesn't have a '{model_name}' model{hint}"
            ) from None
