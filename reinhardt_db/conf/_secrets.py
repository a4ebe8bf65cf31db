"""Which settings values are secrets, and how they show in ``repr``, JSON and messages.

A password can sit in three places: the URL's user info
(``postgresql://app:secret@host/app``), a URL query option
(``?sslpassword=...``) and the driver ``options`` (``{"password": ...}``).
Everything that writes settings out for people (``repr``, ``str``,
``model_dump_json``, error messages, ``reinhardt check -v 2``) goes through
the helpers here; the drivers read the real values from ``DatabaseSettings.parsed``
and ``DatabaseSettings.options``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["MASK", "hide_password", "is_secret_key", "mask_secrets"]

#: What a hidden value shows as.
MASK = "***"

# A key naming one of these (any case, anywhere in the key) holds a secret:
# password, sslpassword, passwd, MYSQL_PWD-style pwd, client_secret, auth_token ...
_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token")


def is_secret_key(key: object) -> bool:
    """Return True when an option called ``key`` holds a secret (``sslpassword``, ...)."""
    name = str(key).lower()
    return any(word in name for word in _SECRET_WORDS)


def mask_secrets(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``options`` with the value of every secret key replaced by ``***``.

    Nested tables (``server_settings``) are masked too.
    """
    masked: dict[str, Any] = {}
    for key, value in options.items():
        if is_secret_key(key):
            masked[key] = MASK
        elif isinstance(value, Mapping):
            masked[key] = mask_secrets(value)
        else:
            masked[key] = value
    return masked


def hide_password(url: str) -> str:
    """Return ``url`` as written, with its password and secret query options as ``***``.

    Unlike ``DatabaseURL.render()`` this keeps the user's spelling (scheme,
    encoding); it works on any text shaped like a URL, valid or not.

    >>> hide_password("postgres://app:s3cret@db/app?sslmode=require")
    'postgres://app:***@db/app?sslmode=require'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        # Not URL-shaped: it cannot be told apart from a bare secret.
        return MASK if url else url
    body, qmark, query = rest.partition("?")
    # The parser splits user info at the last '@' before the path; an
    # unencoded '/' in a password moves that boundary, so mask up to the last
    # '@' anywhere in the body: nothing of the password is left either way.
    userinfo, at, hostpath = body.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        body = f"{user}:{MASK}@{hostpath}" if colon else f"{user}@{hostpath}"
    if qmark:
        query = "&".join(_mask_pair(pair) for pair in query.split("&"))
    return f"{scheme}{sep}{body}{qmark}{query}"


def _mask_pair(pair: str) -> str:
    key, equals, _value = pair.partition("=")
    if equals and is_secret_key(unquote(key)):
        return f"{key}={MASK}"
    return pair
