"""Where settings come from, and the one current ``Settings`` of the process.

Precedence, highest first:

1. ``configure(...)`` (files and environment are then not read at all);
2. ``load_settings(path, database_url)`` (the CLI's ``--settings``/``--database-url``);
3. otherwise, lazily on the first ``get_settings()``: one file, the first found of
   ``$REINHARDT_SETTINGS``, ``./reinhardt.toml``, ``[tool.reinhardt]`` in
   ``./pyproject.toml``; then ``$REINHARDT_DATABASE_URL`` replaces the default
   database's URL. With nothing at all the default database is ``sqlite:///db.sqlite3``.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reinhardt_db.conf.settings import DEFAULT_DATABASE_ALIAS, Settings
from reinhardt_db.conf.urls import parse_database_url
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = [
    "ENV_DATABASE_URL",
    "ENV_SETTINGS",
    "SettingsListener",
    "configure",
    "get_settings",
    "load_settings",
    "on_settings_changed",
    "read_settings",
    "reset_settings",
    "settings_configured",
]

#: Environment variable naming a TOML settings file.
ENV_SETTINGS = "REINHARDT_SETTINGS"
#: Environment variable whose URL replaces the default database's URL.
ENV_DATABASE_URL = "REINHARDT_DATABASE_URL"

#: Called with no arguments after the settings were replaced or reset.
SettingsListener = Callable[[], object]

_lock = threading.Lock()
_current: Settings | None = None
_listeners: list[SettingsListener] = []


def configure(settings: Settings | None = None, /, **options: Any) -> Settings:
    """Install settings built from keyword arguments (or a ready ``Settings``).

    Wins over files and environment; calling it again replaces the settings
    (listeners registered with :func:`on_settings_changed` are told).

    >>> configure(databases={"default": "sqlite://:memory:"}, installed_apps=["blog"])
    ... # doctest: +SKIP
    """
    if settings is not None and options:
        raise TypeError("configure() takes a Settings object or keyword arguments, not both")
    new = settings if settings is not None else Settings(**options)
    _install(new)
    return new


def get_settings() -> Settings:
    """Return the current settings, reading files and environment on first use."""
    global _current
    current = _current
    if current is not None:
        return current
    with _lock:
        if _current is None:
            _current = read_settings()
        return _current


def settings_configured() -> bool:
    """Return True once settings are installed (configured, loaded or read lazily)."""
    return _current is not None


def reset_settings() -> None:
    """Forget the current settings so the next ``get_settings()`` reads them again (tests)."""
    _install(None)


def load_settings(
    path: str | os.PathLike[str] | None = None, database_url: str | None = None
) -> Settings:
    """Read settings like ``get_settings()`` would, and install them as current.

    ``path`` names a TOML file to read instead of looking for one; ``database_url``
    replaces the default database's URL (and wins over ``$REINHARDT_DATABASE_URL``).
    """
    new = read_settings(path, database_url)
    _install(new)
    return new


def read_settings(
    path: str | os.PathLike[str] | None = None, database_url: str | None = None
) -> Settings:
    """Build settings from a file and the environment without installing them."""
    file: Path | None
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ImproperlyConfigured(
                f"settings file {_show(file)} does not exist; "
                "pass an existing TOML file or leave it out"
            )
    else:
        file = _find_settings_file()
    data: Mapping[str, Any] = {}
    source = ""
    if file is not None:
        data, table = _read_settings_table(file)
        source = f"{_show(file)}{table}"
    url = database_url or None
    if url is not None:
        parse_database_url(url, key="database_url")
    elif os.environ.get(ENV_DATABASE_URL):
        url = os.environ[ENV_DATABASE_URL]
        parse_database_url(url, key=ENV_DATABASE_URL)
    if url is not None:
        data = _with_default_url(data, url)
    try:
        return Settings.model_validate(data)
    except ImproperlyConfigured as exc:
        if file is None:
            raise
        raise ImproperlyConfigured(f"{source}: {exc}") from exc


def on_settings_changed(callback: SettingsListener) -> Callable[[], None]:
    """Call ``callback()`` whenever settings are configured, loaded or reset.

    For layers that cache objects built from settings (the backends drop their
    ``Database`` objects). Not called when ``get_settings()`` reads settings
    lazily: nothing can hold anything derived from settings before they exist.
    Callbacks are plain functions run in registration order, after the new
    settings are in place (so ``get_settings()`` returns them). Return a
    function that unregisters the callback.
    """
    with _lock:
        _listeners.append(callback)

    def remove() -> None:
        with _lock:
            if callback in _listeners:
                _listeners.remove(callback)

    return remove


def _install(new: Settings | None) -> None:
    global _current
    with _lock:
        _current = new
        listeners = list(_listeners)
    for listener in listeners:
        listener()


def _find_settings_file() -> Path | None:
    named = os.environ.get(ENV_SETTINGS)
    if named:
        file = Path(named)
        if not file.is_file():
            raise ImproperlyConfigured(
                f"{ENV_SETTINGS}: settings file {_show(file)} does not exist; "
                f"point {ENV_SETTINGS} at an existing TOML file or unset it"
            )
        return file
    for candidate in (Path("reinhardt.toml"), Path("pyproject.toml")):
        if candidate.is_file():
            if candidate.name == "pyproject.toml" and not _has_tool_table(candidate):
                continue
            return candidate
    return None


def _has_tool_table(file: Path) -> bool:
    document = _read_toml(file)
    tool = document.get("tool")
    return isinstance(tool, dict) and "reinhardt" in tool


def _read_settings_table(file: Path) -> tuple[dict[str, Any], str]:
    """Return the settings table of ``file`` and how to name it in messages."""
    document = _read_toml(file)
    if file.name != "pyproject.toml" and "tool" not in document:
        return document, ""
    tool = document.get("tool", {})
    table = tool.get("reinhardt", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ImproperlyConfigured(f"{_show(file)}: [tool.reinhardt] must be a table")
    return table, " [tool.reinhardt]"


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ImproperlyConfigured(f"{_show(file)}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{_show(file)}: cannot read the settings file: {exc.strerror or exc}"
        ) from exc


def _with_default_url(data: Mapping[str, Any], url: str) -> dict[str, Any]:
    """Return ``data`` with the default database's URL replaced, its other options kept."""
    merged = dict(data)
    databases = merged.get("databases")
    if databases is None:
        databases = {}
    if isinstance(databases, dict):
        databases = dict(databases)
        default = databases.get(DEFAULT_DATABASE_ALIAS)
        databases[DEFAULT_DATABASE_ALIAS] = (
            {**default, "url": url} if isinstance(default, dict) else url
        )
        merged["databases"] = databases
    return merged


def _show(file: Path) -> str:
    return str(file if file.is_absolute() else Path.cwd() / file)
