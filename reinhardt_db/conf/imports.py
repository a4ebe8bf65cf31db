"""Import what the settings name: the installed apps and the routers.

Settings validation only checks that ``installed_apps`` and ``routers`` hold
dotted paths; whether those import is checked here, at start-up
(``reinhardt_db.setup()``, which ``lifespan()`` calls) and by ``reinhardt check``.
Importing user code from ``configure()`` would be too early: an app may itself
import reinhardt_db and call ``configure()`` while it is being imported.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from reinhardt_db._hints import closest
from reinhardt_db.conf.settings import ROUTER_METHODS
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = ["ImportFailed", "import_app", "import_string", "load_routers"]

_ON_PATH = "and that its folder is on sys.path (the reinhardt CLI adds the working directory)"


class ImportFailed(ImproperlyConfigured):
    """A settings entry could not be imported (or a router class not built).

    ``key`` is the entry (``installed_apps[2]``), ``problem`` what went wrong and
    ``hint`` what to do; the message is ``"<key>: <problem>; <hint>"``.
    """

    def __init__(self, key: str, problem: str, hint: str) -> None:
        super().__init__(f"{key}: {problem}; {hint}")
        self.key = key
        self.problem = problem
        self.hint = hint


def import_app(name: str, key: str) -> ModuleType:
    """Import the app package ``name`` and its ``models`` module when it has one.

    ``key`` names the settings entry in errors (``"installed_apps[0]"``).
    Raise :class:`ImportFailed` when the package, or a module it imports, is missing.
    """
    module = _import_module(name, key)
    models_name = f"{name}.models"
    try:
        importlib.import_module(models_name)
    except ModuleNotFoundError as exc:
        if exc.name != models_name:
            raise _failed_inside(models_name, key, exc) from exc
    except ImportError as exc:
        raise _failed_inside(models_name, key, exc) from exc
    return module


def import_string(path: str, key: str) -> Any:
    """Import ``"package.module.Name"`` and return ``Name``; raise :class:`ImportFailed`."""
    module_name, dot, attribute = path.rpartition(".")
    if not dot:
        hint = f"write the full path, e.g. 'myproject.routers.{path}'"
        raise ImportFailed(key, f"'{path}' names no module", hint)
    module = _import_module(module_name, key, wanted=path)
    try:
        return getattr(module, attribute)
    except AttributeError:
        public = [n for n in vars(module) if not n.startswith("_")]
        match = closest(attribute, public)
        hint = f"did you mean '{module_name}.{match}'?" if match else (
            f"define '{attribute}' in {module_name} or fix the path"
        )
        raise ImportFailed(
            key, f"cannot import '{path}': module '{module_name}' has no '{attribute}'", hint
        ) from None


def load_routers(routers: Sequence[Any] | None = None) -> list[Any]:
    """Return the router objects the settings list (default: ``get_settings().routers``).

    A dotted path is imported; a class found there is instantiated without
    arguments (as Django does); an object that is not a string is used as it is.
    Raise :class:`ImportFailed` naming the entry that fails.
    """
    if routers is None:
        from reinhardt_db.conf.loader import get_settings

        routers = get_settings().routers
    loaded: list[Any] = []
    for index, entry in enumerate(routers):
        key = f"routers[{index}]"
        router = entry
        if isinstance(entry, str):
            router = import_string(entry, key)
            if isinstance(router, type):
                try:
                    router = router()
                except Exception as exc:
                    raise ImportFailed(
                        key,
                        f"'{entry}()' failed: {type(exc).__name__}: {exc}",
                        "a router class listed by path is built without arguments; give its "
                        "__init__ defaults, or list a ready instance instead of the path",
                    ) from exc
        if not any(callable(getattr(router, name, None)) for name in ROUTER_METHODS):
            raise ImportFailed(
                key,
                f"{entry!r} gives {router!r}, which is not a router",
                f"define at least one of {', '.join(ROUTER_METHODS)} on it",
            )
        loaded.append(router)
    return loaded


def _import_module(name: str, key: str, wanted: str | None = None) -> ModuleType:
    """Import ``name`` for the settings entry ``key`` (which asks for ``wanted``)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if name != missing and not name.startswith(missing + "."):
            raise _failed_inside(name, key, exc) from exc
        raise ImportFailed(
            key,
            f"cannot import '{wanted or name}': no module named '{missing}'",
            _module_hint(missing),
        ) from exc
    except ImportError as exc:
        raise _failed_inside(name, key, exc) from exc


def _failed_inside(name: str, key: str, exc: ImportError) -> ImportFailed:
    """The module exists, but an import inside it failed."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        hint = f"install '{exc.name.partition('.')[0]}' or fix the import in {name}"
    else:
        hint = f"fix the import in {name}"
    return ImportFailed(key, f"importing '{name}' failed: {exc}", hint)


def _module_hint(missing: str) -> str:
    """Suggest the closest existing module to ``missing``."""
    parent, _, leaf = missing.rpartition(".")
    if parent:
        package = sys.modules.get(parent)
        path = getattr(package, "__path__", None)
        names = [m.name for m in pkgutil.iter_modules(path)] if path is not None else []
    else:
        # Project and installed packages only: a standard-library name is never
        # what an app or router path meant.
        names = [m.name for m in pkgutil.iter_modules() if m.name not in sys.stdlib_module_names]
    match = closest(leaf, names)
    if match:
        return f"did you mean '{parent + '.' if parent else ''}{match}'?"
    return f"check the spelling, that the package is installed, {_ON_PATH}"
