"""Settings checks: every ``installed_apps`` entry and router path imports.

These run first: importing the apps registers their models for the model checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reinhardt_db._hints import closest
from reinhardt_db.checks.messages import CheckMessage, Error
from reinhardt_db.checks.registry import Tags, register
from reinhardt_db.conf.imports import ImportFailed, import_app, load_routers
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = ["check_installed_apps", "check_routers"]


@register(Tags.settings)
def check_installed_apps(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """settings.E001: an app that does not import; settings.E003: two apps with one label."""
    from reinhardt_db.apps import apps  # the registry sits above the settings

    errors: list[CheckMessage] = []
    try:
        apps.get_app_configs()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc).removeprefix("installed_apps: "), obj="installed_apps",
                            hint="give each app a distinct last name component",
                            id="settings.E003"))
    for index, name in enumerate(apps.installed_app_names()):
        try:
            import_app(name, f"installed_apps[{index}]")
        except ImportFailed as exc:
            errors.append(_error(exc, "settings.E001"))
    return errors


@register(Tags.settings)
def check_routers(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """settings.E002: a router path that does not import (or whose class cannot be built);
    settings.E004: a router that names a database that is not configured."""
    from reinhardt_db.conf import get_settings

    settings = get_settings()
    errors: list[CheckMessage] = []
    for index, entry in enumerate(settings.routers):
        try:
            (router,) = load_routers([entry])
        except ImportFailed as exc:
            exc.key = f"routers[{index}]"
            errors.append(_error(exc, "settings.E002"))
            continue
        # settings.E004: a router sending statements to an alias nobody configured.
        for alias in getattr(router, "databases", ()):
            if alias not in settings.databases:
                match = closest(alias, list(settings.databases))
                errors.append(Error(
                    f"{router!r} names database {alias!r}, which is not configured "
                    f"(configured: {', '.join(settings.databases)})",
                    hint=f"did you mean {match!r}?" if match else
                    f"add {alias!r} to databases, or fix the router",
                    obj=f"routers[{index}]", id="settings.E004",
                ))
    return errors


def _error(exc: ImportFailed, ident: str) -> Error:
    return Error(exc.problem, hint=exc.hint, obj=exc.key, id=ident)
