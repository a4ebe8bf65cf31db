"""Database URLs: parse ``postgresql://user:pass@host:5432/app`` into parts and back.

Accepted forms::

    sqlite:///relative.db          a file relative to the working directory
    sqlite:////abs/path.db         an absolute path
    sqlite://:memory:              an in-memory database (also sqlite:///:memory:)
    postgresql://user:pass@host:5432/name   (postgres://, postgresql+asyncpg://)
    mysql://user:pass@host:3306/name        (mariadb://, mysql+aiomysql://)

User, password, host and database name are percent-decoded; the query string
(``?sslmode=require``) is kept in :attr:`DatabaseURL.query` for the driver.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode

from reinhardt_db._hints import closest
from reinhardt_db.conf._secrets import MASK, mask_secrets
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = ["SCHEMES", "DatabaseURL", "Vendor", "parse_database_url"]

Vendor = Literal["sqlite", "postgresql", "mysql"]

#: Every accepted URL scheme and the vendor it names.
SCHEMES: dict[str, Vendor] = {
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+asyncpg": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+aiomysql": "mysql",
    "mariadb+aiomysql": "mysql",
}

_MEMORY = ":memory:"
_DEFAULT_PORT: dict[Vendor, int] = {"sqlite": 0, "postgresql": 5432, "mysql": 3306}
_EXAMPLES = (
    "sqlite:///db.sqlite3, postgresql://user:password@host:5432/name "
    "or mysql://user:password@host:3306/name"
)


class URLError(ValueError):
    """A database URL is malformed; the message says what to write instead.

    Raised by :func:`split_database_url` without naming a settings key, so
    that pydantic validators can add the key path themselves.
    """


@dataclass(frozen=True, repr=False)
class DatabaseURL:
    """The parts of a database URL.

    ``database`` is the database name, or for SQLite the file path (relative
    paths are relative to the working directory) or ``":memory:"``. ``query``
    holds the query-string options, passed through to the driver.

    ``password`` holds the real password for the driver; ``repr()``, ``str()``
    and ``render()`` show it (and secret query options such as
    ``sslpassword``) as ``***``.
    """

    vendor: Vendor
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str = ""
    query: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_memory(self) -> bool:
        """Return True for an in-memory SQLite database."""
        return self.vendor == "sqlite" and self.database == _MEMORY

    def with_database(self, name: str) -> DatabaseURL:
        """Return a copy naming another database (for SQLite: another file).

        >>> parse_database_url("postgresql://u@h/app").with_database("test_app").database
        'test_app'
        """
        return dataclasses.replace(self, database=name, query=dict(self.query))

    def render(self, hide_password: bool = True) -> str:
        """Write the URL back out; the password shows as ``***`` unless asked for.

        Secret query options (``sslpassword``, ...) are hidden the same way.

        ``parse_database_url(url.render(hide_password=False)) == url`` always holds.
        """
        options = mask_secrets(self.query) if hide_password else self.query
        query = f"?{urlencode(options, safe='*')}" if options else ""
        if self.vendor == "sqlite":
            if self.database == _MEMORY:
                return f"sqlite://{_MEMORY}{query}"
            return f"sqlite:///{quote(self.database, safe='/')}{query}"
        userinfo = ""
        if self.user is not None or self.password is not None:
            userinfo = quote(self.user or "", safe="")
            if self.password is not None:
                password = MASK if hide_password else quote(self.password, safe="")
                userinfo += f":{password}"
            userinfo += "@"
        host = ""
        if self.host is not None:
            if ":" in self.host:
                host = f"[{quote(self.host, safe=':')}]"
            else:
                host = quote(self.host, safe="")
        port = f":{self.port}" if self.port is not None else ""
        name = quote(self.database, safe="")
        return f"{self.vendor}://{userinfo}{host}{port}/{name}{query}"

    def __str__(self) -> str:
        return self.render(hide_password=True)

    def __repr__(self) -> str:
        password = None if self.password is None else MASK
        return (
            f"DatabaseURL(vendor={self.vendor!r}, host={self.host!r}, port={self.port!r}, "
            f"user={self.user!r}, password={password!r}, database={self.database!r}, "
            f"query={mask_secrets(self.query)!r})"
        )


def parse_database_url(url: str, *, key: str = "url") -> DatabaseURL:
    """Parse a database URL; raise ``ImproperlyConfigured`` naming ``key`` if it is wrong.

    ``key`` is where the URL came from, e.g. ``"databases.default.url"`` or
    ``"REINHARDT_DATABASE_URL"``.

    >>> parse_database_url("postgres://app:s%40cret@db:5432/app?sslmode=require").password
    's@cret'
    """
    try:
        return split_database_url(url)
    except URLError as exc:
        raise ImproperlyConfigured(f"{key}: {exc}") from None


def split_database_url(url: str) -> DatabaseURL:
    """Parse a database URL; raise :class:`URLError` (no key named) if it is wrong."""
    if not isinstance(url, str):
        raise URLError(f"expected a URL string, got {type(url).__name__}; write {_EXAMPLES}")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        hint = ""
        if url and "@" not in url and ":" not in url:
            hint = f" (for a SQLite file write sqlite:///{url})"
        raise URLError(f"not a database URL{hint}; write {_EXAMPLES}")
    vendor = SCHEMES.get(scheme.lower())
    if vendor is None:
        raise URLError(_unknown_scheme(scheme))
    if vendor == "sqlite":
        return _split_sqlite(rest)
    return _split_server(vendor, rest)


def _unknown_scheme(scheme: str) -> str:
    message = f"unknown database URL scheme '{scheme}://'"
    match = closest(scheme, SCHEMES, ignore_case=True)
    if match:
        message += f" (did you mean '{match}://'?)"
    return f"{message}; write {_EXAMPLES}"


def _split_query(rest: str) -> tuple[str, dict[str, str]]:
    body, _, raw_query = rest.partition("?")
    query = dict(parse_qsl(raw_query, keep_blank_values=True)) if raw_query else {}
    return body, query


def _split_sqlite(rest: str) -> DatabaseURL:
    body, query = _split_query(rest)
    if body == _MEMORY or body == f"/{_MEMORY}":
        return DatabaseURL(vendor="sqlite", database=_MEMORY, query=query)
    if body and not body.startswith("/"):
        raise URLError(
            "a SQLite URL has no host; write sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db or sqlite://:memory:"
        )
    path = unquote(body[1:])  # "" when the URL was just sqlite:// or sqlite:///
    if not path:
        raise URLError(
            "the SQLite URL names no file; write sqlite:///db.sqlite3 "
            "(relative), sqlite:////abs/path.db or sqlite://:memory:"
        )
    return DatabaseURL(vendor="sqlite", database=path, query=query)


def _split_server(vendor: Vendor, rest: str) -> DatabaseURL:
    body, query = _split_query(rest)
    example = f"{vendor}://user:password@host:{_DEFAULT_PORT[vendor]}/name"
    netloc, slash, raw_name = body.partition("/")
    if "#" in netloc:
        raise URLError(
            "'#' in the host part; percent-encode special characters in the "
            f"user and password (# is %23), as in {example}"
        )
    userinfo, at, hostport = netloc.rpartition("@")
    user: str | None = None
    password: str | None = None
    if at:
        raw_user, colon, raw_password = userinfo.partition(":")
        user = unquote(raw_user) or None
        password = unquote(raw_password) if colon else None
    host, port = _split_hostport(hostport, example)
    if not slash or not raw_name:
        raise URLError(f"the URL names no database; add it after the host, as in {example}")
    if "/" in raw_name:
        raise URLError(
            f"the database name contains '/'; write one name after the host, as in {example}"
        )
    return DatabaseURL(
        vendor=vendor,
        host=host,
        port=port,
        user=user,
        password=password,
        database=unquote(raw_name),
        query=query,
    )


def _split_hostport(hostport: str, example: str) -> tuple[str | None, int | None]:
    if hostport.startswith("["):
        inner, bracket, after = hostport[1:].partition("]")
        if not bracket:
            raise URLError(f"unclosed '[' in the host; write IPv6 hosts as [::1], as in {example}")
        host: str | None = unquote(inner)
        if after and not after.startswith(":"):
            raise URLError(f"unexpected text after the IPv6 host; write host:port, as in {example}")
        raw_port = after[1:] if after else ""
    else:
        raw_host, _, raw_port = hostport.partition(":")
        host = unquote(raw_host)
    if not raw_port:
        return host or None, None
    # The port text is not echoed: with an unencoded '/' or '@' in the
    # password it may be a piece of the password.
    if not (raw_port.isascii() and raw_port.isdigit()) or not 0 < int(raw_port) < 65536:
        raise URLError(
            f"bad port; a port is a number from 1 to 65535, as in {example} "
            "(percent-encode ':', '@', '/' and '#' in the user and password)"
        )
    return host or None, int(raw_port)
