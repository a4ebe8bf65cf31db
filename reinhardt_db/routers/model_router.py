"""``ModelRouter``: each app or model to the databases its table names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ModelRouter"]

_ACTIONS = ("read", "write")


class ModelRouter:
    """Route by app label or model, with reads and writes apart if wanted.

    ``routes`` maps ``"app"`` or ``"app.Model"`` to an alias (reads and writes)
    or to ``{"read": alias, "write": alias}`` (either may be left out: no
    opinion). A model's own entry wins over its app's. Models not named get no
    answer (the next router, or the default rule, decides).
    ``allow_migrate`` lets a named app's or model's migrations run only on its
    read and write databases.

    >>> router = ModelRouter({"analytics": "warehouse",
    ...                       "accounts.AuditLog": {"read": "r1", "write": "default"}})
    """

    def __init__(self, routes: Mapping[str, str | Mapping[str, str]]) -> None:
        if not isinstance(routes, Mapping):
            raise ValueError(
                f"ModelRouter takes a dict such as {{'blog': 'replica'}}, got {routes!r}"
            )
        self._apps: dict[str, dict[str, str]] = {}
        self._models: dict[str, dict[str, str]] = {}
        for key, target in routes.items():
            if not isinstance(key, str) or key.count(".") > 1 or not all(
                part.isidentifier() for part in key.split(".")
            ):
                raise ValueError(
                    f"ModelRouter: {key!r} is not an app label or 'app.Model' label"
                )
            table = self._models if "." in key else self._apps
            table[key.lower()] = _target(key, target)
        self.routes = dict(routes)

    @property
    def databases(self) -> tuple[str, ...]:
        """Every alias this router sends statements to (checked by ``reinhardt check``)."""
        entries = [*self._apps.values(), *self._models.values()]
        return tuple(dict.fromkeys(alias for entry in entries for alias in entry.values()))

    def __repr__(self) -> str:
        return f"<ModelRouter {self.routes!r}>"

    def _entry(self, app_label: str, model_name: str | None) -> dict[str, str] | None:
        if model_name is not None:
            entry = self._models.get(f"{app_label}.{model_name}".lower())
            if entry is not None:
                return entry
        return self._apps.get(app_label.lower())

    def _alias(self, model: Any, action: str) -> str | None:
        meta = model._meta
        entry = self._entry(meta.app_label, meta.model_name)
        return None if entry is None else entry.get(action)

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        """The ``read`` database of ``model``'s entry."""
        return self._alias(model, "read")

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        """The ``write`` database of ``model``'s entry."""
        return self._alias(model, "write")

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        """A named app's or model's tables go to its read and write databases only."""
        entry = self._entry(app_label, model_name)
        if entry is None:
            return None
        return db in entry.values()


def _target(key: str, target: Any) -> dict[str, str]:
    if isinstance(target, str) and target:
        return {"read": target, "write": target}
    if isinstance(target, Mapping):
        unknown = set(target) - set(_ACTIONS)
        if unknown:
            raise ValueError(
                f"ModelRouter: {key!r} has unknown key(s) {sorted(unknown)}; "
                "use 'read' and/or 'write'"
            )
        for action, alias in target.items():
            if not isinstance(alias, str) or not alias:
                raise ValueError(f"ModelRouter: {key!r}: {action} must be an alias, got {alias!r}")
        return dict(target)
    raise ValueError(
        f"ModelRouter: {key!r} maps to {target!r}; give an alias or "
        "{'read': alias, 'write': alias}"
    )
