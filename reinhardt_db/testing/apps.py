"""``isolate_apps``: give a test its own, empty app registry.

Models declared inside the block (or the decorated test) register in a fresh
registry with a fresh ``MetaData``, so they may reuse names freely and vanish
afterwards::

    @isolate_apps()
    def test_something():
        class User(models.Model):
            class Meta:
                app_label = "tests_isolated"

    with isolate_apps("blog") as registry:   # "blog" is the only installed app inside
        ...
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from reinhardt_db.apps import Apps, apps

__all__ = ["isolate_apps"]

F = TypeVar("F", bound=Callable[..., Any])


class isolate_apps(contextlib.ContextDecorator):
    """Context manager and decorator (sync or async) swapping in a fresh registry.

    ``installed_apps`` (dotted names) replace the settings' list inside the
    block; with none given, the settings still decide module-based app labels.
    """

    def __init__(self, *installed_apps: str) -> None:
        self.installed_apps = list(installed_apps) if installed_apps else None
        self._stack: list[contextlib.AbstractContextManager[Apps]] = []

    def __enter__(self) -> Apps:
        manager = apps.isolated(self.installed_apps)
        self._stack.append(manager)
        return manager.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.pop().__exit__(*exc_info)

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]
        return super().__call__(func)

    def _recreate_cm(self) -> isolate_apps:
        return isolate_apps(*(self.installed_apps or ()))

