"""The router chain: which database a model's reads and writes go to.

Every place that picks a database asks :data:`router` (Django's
``django.db.router``): ``using=`` wins, then the first router in
``settings.routers`` with a non-``None`` answer, then the database of the
``instance`` hint (the one it was read from), else ``"default"``.

Routers sit between ``backends`` and ``models``: this package reads settings
and, for the built-in routers, the task's connection state, and never imports
the models layer (models are seen through ``_meta`` only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reinhardt_db.conf.imports import load_routers
from reinhardt_db.conf.loader import on_settings_changed
from reinhardt_db.conf.settings import DEFAULT_DATABASE_ALIAS

__all__ = ["ConnectionRouter", "db_for", "relation_allowed", "router"]

_EMPTY: frozenset[str] = frozenset()


class ConnectionRouter:
    """Ask the configured routers in order; the first non-``None`` answer wins.

    ``routers``: a list of router objects to use instead of ``settings.routers``
    (loaded on first use and again after the settings change).
    """

    def __init__(self, routers: Iterable[Any] | None = None) -> None:
        self._given = None if routers is None else list(routers)
        self._routers: list[Any] | None = self._given
        self._failover: frozenset[str] | None = None
        self._sharding: bool | None = None

    def reset(self) -> None:
        """Forget the loaded routers: the next question loads ``settings.routers`` again."""
        self._routers = self._given
        self._failover = None
        self._sharding = None

    @property
    def sharding(self) -> bool:
        """True when a router splits queries over shards (has ``shards_for``)."""
        found = self._sharding
        if found is None:
            found = self._sharding = any(
                callable(getattr(r, "shards_for", None)) for r in self.routers
            )
        return found

    def shards_for(self, model: Any, **hints: Any) -> list[str] | None:
        """The first non-None ``shards_for`` answer: the databases a statement needs."""
        shards = self._first_answer("shards_for", model, **hints)
        return None if shards is None else list(shards)

    @property
    def routers(self) -> list[Any]:
        """The router objects, loaded from settings on first use."""
        routers = self._routers
        if routers is None:
            routers = self._routers = load_routers()
        return routers

    # -- the four questions ----------------------------------------------------------------
    def db_for_read(self, model: Any, **hints: Any) -> str:
        """Return the alias to read ``model`` from."""
        return self._route("db_for_read", model, hints)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        """Return the alias to write ``model`` to."""
        return self._route("db_for_write", model, hints)

    def _first_answer(self, question: str, *args: Any, **hints: Any) -> Any:
        """The first non-None answer of the routers that have ``question``, else None."""
        for candidate in self.routers:
            method = getattr(candidate, question, None)
            if method is not None:
                answer = method(*args, **hints)
                if answer is not None:
                    return answer
        return None

    def _route(self, action: str, model: Any, hints: dict[str, Any]) -> str:
        alias = self._first_answer(action, model, **hints)
        if alias is not None:
            return str(alias)
        instance = hints.get("instance")
        if instance is not None:
            state = instance.__dict__.get("_state")
            if state is not None and state.db is not None:
                return str(state.db)
        return DEFAULT_DATABASE_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        """Return whether ``obj1`` and ``obj2`` may be related (a foreign key between them).

        Without an answer: allowed when both are in the same database, or when
        either is not stored yet.
        """
        allowed = self._first_answer("allow_relation", obj1, obj2, **hints)
        if allowed is not None:
            return bool(allowed)
        db1 = _db_of(obj1)
        db2 = _db_of(obj2)
        return db1 is None or db2 is None or db1 == db2

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        """Return whether migrations of ``app_label`` may run on ``db`` (default True)."""
        allowed = self._first_answer("allow_migrate", db, app_label, **hints)
        return True if allowed is None else bool(allowed)

    def allow_migrate_model(self, db: str, model: Any) -> bool:
        """Return whether ``model``'s table belongs in ``db`` (unmanaged models: never)."""
        meta = model._meta
        if not getattr(meta, "managed", True):
            return False
        return self.allow_migrate(db, meta.app_label, model_name=meta.model_name, model=model)

    # -- replicas that may be skipped --------------------------------------------------------
    @property
    def failover_aliases(self) -> frozenset[str]:
        """The aliases some router can route reads around when they cannot be connected to.

        A read on one of them fails fast on a failed connect; the router is
        told (:meth:`connect_failed`) and asked again.
        """
        aliases = self._failover
        if aliases is None:
            found: set[str] = set()
            for candidate in self.routers:
                found.update(getattr(candidate, "failover_aliases", ()) or ())
            aliases = self._failover = frozenset(found) if found else _EMPTY
        return aliases

    def connect_failed(self, alias: str, error: BaseException) -> None:
        """Tell every router that has a ``connect_failed`` hook that ``alias`` is unreachable."""
        for candidate in self.routers:
            method = getattr(candidate, "connect_failed", None)
            if method is not None:
                method(alias, error)


def _db_of(obj: Any) -> str | None:
    state = obj.__dict__.get("_state")
    return None if state is None else state.db


#: The router chain of the current settings (Django's ``django.db.router``).
router = ConnectionRouter()
on_settings_changed(router.reset)


def relation_allowed(obj1: Any, obj2: Any) -> bool:
    """``router.allow_relation(obj1, obj2)``, cheap when no routers are configured.

    Relation assignment (``book.author = ann``) asks this on every call, also
    while building instances in bulk.
    """
    if router._routers or router._routers is None:
        return router.allow_relation(obj1, obj2)
    state1 = obj1.__dict__.get("_state")
    state2 = obj2.__dict__.get("_state")
    if state1 is None or state2 is None:
        return True
    db1, db2 = state1.db, state2.db
    return db1 is None or db2 is None or db1 == db2


def db_for(model: Any, using: str | None = None, *, write: bool = False, **hints: Any) -> str:
    """Return the alias a statement on ``model`` runs on: the one rule, used everywhere.

    ``using`` wins; then the routers' ``db_for_write`` (``write=True``) or
    ``db_for_read``; then the database of the ``instance`` hint (where it was
    read from); else ``"default"``.
    """
    if using is not None:
        return using
    if router._routers or router._routers is None:
        if write:
            return router.db_for_write(model, **hints)
        return router.db_for_read(model, **hints)
    # No routers (the common case, on every query): the fallback, inline.
    instance = hints.get("instance")
    if instance is not None:
        state = instance.__dict__.get("_state")
        if state is not None and state.db is not None:
            return str(state.db)
    return DEFAULT_DATABASE_ALIAS
