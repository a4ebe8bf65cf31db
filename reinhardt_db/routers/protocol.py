"""The router protocol: what a router may answer (every method is optional)."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["ROUTER_METHODS", "Router"]

#: A router has at least one of these.
ROUTER_METHODS = ("db_for_read", "db_for_write", "allow_relation", "allow_migrate")


class Router(Protocol):
    """What a router may define; each returns ``None`` for "no opinion".

    The first non-``None`` answer among ``settings.routers`` wins. Hints:
    ``instance=`` (the object being read or written, or the one a related
    manager or relation starts from), ``model=`` for ``allow_migrate``.
    ``databases`` (optional): the aliases the router names, which ``reinhardt
    check`` looks up in the settings (``settings.E004``).
    Two optional hooks serve read fail-over: ``failover_aliases`` (aliases whose
    reads fail fast when they cannot be connected to) and
    ``connect_failed(alias, error)`` (called then, before the read is routed again).
    """

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        """Return the alias to read ``model`` from, or None."""

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        """Return the alias to write ``model`` to, or None."""

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        """Return whether a relation between ``obj1`` and ``obj2`` is allowed, or None."""

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        """Return whether migrations of ``app_label`` (``model_name``) may run on ``db``."""
