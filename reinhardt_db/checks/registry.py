"""The registry of check functions and ``run_checks()``.

A check function takes keyword arguments and returns ``CheckMessage`` objects::

    from reinhardt_db import checks

    @checks.register(checks.Tags.models)
    def check_titles(app_configs=None, databases=None, **kwargs):
        return [checks.Warning("...", obj=model, id="myapp.W001") for model in ...]

``app_configs`` is None (every app) or the apps to check; ``databases`` the
aliases whose backends database-dependent checks (name lengths) look at.
Checks run in registration order; the built-in settings checks come first, as
they import the installed apps whose models the model checks look at.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from reinhardt_db.checks.messages import CheckMessage

__all__ = ["CheckFunction", "CheckRegistry", "Tags", "register", "registry", "run_checks"]

CheckFunction = Callable[..., Iterable[CheckMessage]]
_F = TypeVar("_F", bound=CheckFunction)


class Tags:
    """The tags of the built-in checks (``run_checks(tags=[Tags.models])``)."""

    settings = "settings"
    models = "models"


class CheckRegistry:
    """Check functions with their tags, run in registration order."""

    def __init__(self) -> None:
        self._checks: list[tuple[CheckFunction, frozenset[str]]] = []

    def register(
        self, check: CheckFunction | str | None = None, *tags: str
    ) -> Any:
        """Register ``check`` under ``tags``; usable as ``@register`` or ``@register("tag")``."""

        def add(function: _F) -> _F:
            if not _accepts_kwargs(function):
                raise TypeError(
                    f"check function {function.__qualname__} must accept keyword arguments "
                    "(**kwargs)"
                )
            if all(existing is not function for existing, _tags in self._checks):
                self._checks.append((function, frozenset(tags)))
            return function

        if callable(check):
            return add(check)
        if check is not None:
            tags = (check, *tags)
        return add

    def unregister(self, check: CheckFunction) -> None:
        """Remove ``check`` (tests that register throwaway checks)."""
        self._checks = [(f, t) for f, t in self._checks if f is not check]

    def tags_available(self) -> set[str]:
        """Return every tag some registered check carries."""
        return {tag for _check, tags in self._checks for tag in tags}

    def run_checks(
        self,
        app_configs: Sequence[Any] | None = None,
        tags: Iterable[str] | None = None,
        databases: Sequence[str] | None = None,
    ) -> list[CheckMessage]:
        """Run the checks (those with any of ``tags``, or all) and return their messages."""
        wanted = set(tags) if tags is not None else None
        if wanted is not None and not wanted <= self.tags_available():
            unknown = ", ".join(sorted(wanted - self.tags_available()))
            raise ValueError(
                f"no check has the tag(s) {unknown}; known: "
                f"{', '.join(sorted(self.tags_available()))}"
            )
        messages: list[CheckMessage] = []
        for check, check_tags in list(self._checks):
            if wanted is not None and not wanted & check_tags:
                continue
            found = check(app_configs=app_configs, databases=databases)
            messages.extend(found)
        return messages


def _accepts_kwargs(function: Callable[..., Any]) -> bool:
    parameters = inspect.signature(function).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


registry = CheckRegistry()
register = registry.register
run_checks = registry.run_checks
