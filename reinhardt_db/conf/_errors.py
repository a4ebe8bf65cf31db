"""Turn pydantic's ValidationError into one ImproperlyConfigured naming each key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reinhardt_db._hints import closest
from reinhardt_db.conf._secrets import is_secret_key
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = ["did_you_mean", "key_path", "settings_error"]

# Values under these keys may hold secrets: never echo them in a message
# (nor under any key that names a secret, see _secrets.is_secret_key).
_SECRET_KEYS = frozenset({"url", "options"})


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    match = closest(name, choices, ignore_case=True)
    return f" (did you mean '{match}'?)" if match else ""


def key_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """Write a pydantic location as a dotted settings key: ``databases.default.pool``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path or "settings"


def settings_error(
    exc: ValidationError, model: type[BaseModel], prefix: str = ""
) -> ImproperlyConfigured:
    """Build one ``ImproperlyConfigured`` listing every error as ``key.path: what is wrong``."""
    lines = [_describe(error, model, prefix) for error in exc.errors()]
    return ImproperlyConfigured("; ".join(lines))


def _describe(error: ErrorDetails, model: type[BaseModel], prefix: str) -> str:
    loc = error["loc"]
    key = key_path(loc, prefix)
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        name = str(loc[-1])
        if parent is None:
            return f"{key}: unknown setting"
        allowed = list(parent.model_fields)
        return (
            f"{key}: unknown setting{did_you_mean(name, allowed)}; "
            f"allowed here: {', '.join(allowed)}"
        )
    if kind == "missing":
        return f"{key}: required setting is missing"
    if kind in ("value_error", "assertion_error"):
        cause = error.get("ctx", {}).get("error")
        return f"{key}: {cause if cause is not None else error['msg']}"
    ctx = error.get("ctx", {})
    if kind == "greater_than_equal":
        message = f"must be at least {_number(ctx['ge'])}"
    elif kind == "greater_than":
        message = f"must be greater than {_number(ctx['gt'])}"
    else:
        message = error["msg"]
    if any(str(part) in _SECRET_KEYS or is_secret_key(part) for part in loc):
        return f"{key}: {message}"
    value = error.get("input")
    if isinstance(value, bool | int | float) or value is None:
        message += f" (got {value!r})"
    elif isinstance(value, str):
        message += f" (got {value!r})" if len(value) <= 60 else " (got a long string)"
    else:
        message += f" (got {type(value).__name__})"
    return f"{key}: {message}"


def _number(bound: Any) -> str:
    """Write 0.0 as 0: the bound of a float setting reads better without the decimal."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """Return the settings model found at ``loc`` below ``root``, if any."""
    current: Any = root
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin, args = get_origin(current), get_args(current)
        if origin is dict and len(args) == 2:
            current = args[1]
        elif origin is list and args:
            current = args[0]
        else:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None
