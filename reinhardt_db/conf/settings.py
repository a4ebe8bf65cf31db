"""The settings models: ``Settings`` -> ``DatabaseSettings`` -> ``PoolSettings``.

Plain pydantic models, frozen, with unknown keys forbidden. Building one from
bad data raises ``ImproperlyConfigured`` (never pydantic's ``ValidationError``)
whose message names each offending key in dotted form::

    databases.replica.pool.min_size: min_size (20) is greater than max_size (10)
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from reinhardt_db.conf._errors import did_you_mean, settings_error
from reinhardt_db.conf._secrets import hide_password, mask_secrets
from reinhardt_db.conf.urls import DatabaseURL, Vendor, split_database_url
from reinhardt_db.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from reinhardt_db.pool import PoolOptions

__all__ = [
    "DEFAULT_DATABASE_ALIAS",
    "DEFAULT_DATABASE_URL",
    "DatabaseSettings",
    "PoolSettings",
    "Settings",
]

DEFAULT_DATABASE_ALIAS = "default"
#: The database used when nothing configures one: a file in the working directory.
DEFAULT_DATABASE_URL = "sqlite:///db.sqlite3"


class _SettingsModel(BaseModel):
    """Base of the settings models: frozen, strict about keys, errors as ImproperlyConfigured."""

    # hide_input_in_errors: the text of pydantic's ValidationError (kept as the
    # __cause__ of ImproperlyConfigured, shown in tracebacks) would otherwise
    # quote each bad input, e.g. a whole databases table with its URLs.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    def __init__(self, /, **data: Any) -> None:
        with _converting_errors(type(self)):
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj``; raise ``ImproperlyConfigured`` naming each bad key."""
        with _converting_errors(cls):
            return super().model_validate(obj, *args, **kwargs)


_nesting: ContextVar[int] = ContextVar("reinhardt_settings_nesting", default=0)


@contextmanager
def _converting_errors(model: type[BaseModel]) -> Iterator[None]:
    """Turn a ValidationError into ImproperlyConfigured at the outermost model only.

    pydantic calls an overridden ``__init__`` for nested models too; converting
    there would lose the key path above them.
    """
    depth = _nesting.get()
    token = _nesting.set(depth + 1)
    try:
        yield
    except ValidationError as exc:
        if depth == 0:
            raise settings_error(exc, model) from exc
        raise
    finally:
        _nesting.reset(token)


class PoolSettings(_SettingsModel):
    """Connection pool options of one database (see ``reinhardt_db.pool.PoolOptions``)."""

    max_size: int = Field(default=10, ge=1, description="Most connections open at once.")
    min_size: int = Field(default=0, ge=0, description="Connections kept open even when idle.")
    acquire_timeout: float = Field(default=30.0, gt=0, description="Seconds acquire() waits.")
    connect_timeout: float = Field(
        default=10.0, gt=0, description="Seconds one connect (or liveness check) may take."
    )
    idle_timeout: float | None = Field(
        default=600.0, description="Close idle connections after this; None/false: never."
    )
    max_lifetime: float | None = Field(
        default=1800.0, description="Close connections older than this; None/false: never."
    )
    test_before_acquire: bool = Field(default=True, description="Check liveness on hand-out.")
    cleanup_interval: float = Field(default=30.0, gt=0, description="Seconds between sweeps.")
    max_waiting: int = Field(default=0, ge=0, description="Most queued acquirers; 0: no cap.")

    @field_validator("idle_timeout", "max_lifetime", mode="before")
    @classmethod
    def _false_disables(cls, value: Any) -> Any:
        # TOML has no null: `idle_timeout = false` is how a file says "never".
        return None if value is False else value

    @field_validator("idle_timeout", "max_lifetime")
    @classmethod
    def _positive_or_none(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(
                f"must be greater than 0 (got {value:g}); write false (None in Python) "
                "to turn it off"
            )
        return value

    @field_validator("min_size")
    @classmethod
    def _min_size_fits(cls, min_size: int, info: ValidationInfo) -> int:
        max_size = info.data.get("max_size")
        if max_size is not None and min_size > max_size:
            raise ValueError(f"min_size ({min_size}) is greater than max_size ({max_size})")
        return min_size

    def to_options(self) -> PoolOptions:
        """Return the ``reinhardt_db.pool.PoolOptions`` these settings describe."""
        from reinhardt_db.pool import PoolOptions  # the pool layer is optional at import time

        return PoolOptions(**self.model_dump())


#: The names of UTC (the only session time zone there is today).
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


def _check_time_zone(name: str | None) -> str | None:
    if name is None or name in UTC_NAMES:
        return name
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if _have_tz_database():
            raise ValueError(
                f"unknown time zone {name!r}; use an IANA name such as 'UTC'"
            ) from None
    # Sessions run in UTC on every backend: date transforms and Now() then agree
    # across backends, and MySQL's DATETIME (no offset) holds UTC. A zone that
    # is set but not used would be a silent difference, so it is refused.
    raise ValueError(
        f"{name!r}: only UTC is supported (sessions run in UTC on every backend and "
        "datetimes come back aware, in UTC); remove the setting or write 'UTC', and "
        "convert to local time in your code (datetime.astimezone)"
    )


@cache
def _have_tz_database() -> bool:
    return bool(zoneinfo.available_timezones())


class DatabaseSettings(_SettingsModel):
    """Settings of one database alias.

    A plain string stands for ``{"url": ...}``::

        DatabaseSettings.model_validate("sqlite:///db.sqlite3")

    ``url`` and ``options`` keep the real values (the drivers read them);
    ``repr()``, ``str()`` and ``model_dump_json()`` show the password and
    secret options (``password``, ``sslpassword``, ...) as ``***``.
    """

    url: str = Field(description="Database URL, e.g. postgresql://user:pass@host:5432/app.")
    pool: PoolSettings = Field(default_factory=lambda: PoolSettings())
    options: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the driver's connect()."
    )
    test: str | None = Field(
        default=None, description="Name of the database the test fixtures use."
    )
    time_zone: Annotated[str | None, AfterValidator(_check_time_zone)] = Field(
        default=None, description="Session time zone: UTC, the only one supported."
    )

    _parsed: tuple[str, DatabaseURL] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _url_shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"url": data}
        if not isinstance(data, dict | BaseModel):
            raise ValueError(
                f"expected a URL string or a table with a 'url' key, got {type(data).__name__}"
            )
        return data

    @field_validator("url")
    @classmethod
    def _url_parses(cls, url: str) -> str:
        parsed = split_database_url(url)  # URLError is a ValueError: pydantic adds the key path
        if parsed.query:
            # Each backend types its query options (``?timeout=5``); the import is
            # here because the backends read the settings.
            from reinhardt_db.backends.handler import backend_module

            backend_module(parsed.vendor).url_options.parse(parsed.query)
        return url

    @field_serializer("url", when_used="json")
    def _url_without_password(self, url: str) -> str:
        return hide_password(url)

    @field_serializer("options", when_used="json")
    def _options_without_secrets(self, options: dict[str, Any]) -> dict[str, Any]:
        return mask_secrets(options)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Used by repr(), str() and rich/devtools pretty-printing alike.
        for name, value in super().__repr_args__():
            if name == "url":
                value = hide_password(value)
            elif name == "options":
                value = mask_secrets(value)
            yield name, value

    @property
    def parsed(self) -> DatabaseURL:
        """Return the parsed ``url`` (cached; follows ``model_copy(update={"url": ...})``)."""
        cached = self._parsed
        if cached is None or cached[0] != self.url:
            cached = (self.url, split_database_url(self.url))
            self._parsed = cached
        return cached[1]

    def __eq__(self, other: object) -> bool:
        # Compare the settings only, not whether `parsed` was cached yet.
        if not isinstance(other, DatabaseSettings):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    @property
    def vendor(self) -> Vendor:
        """Return ``"sqlite"``, ``"postgresql"`` or ``"mysql"``."""
        return self.parsed.vendor


def _check_dotted_path(value: Any) -> Any:
    if isinstance(value, str) and not all(part.isidentifier() for part in value.split(".")):
        raise ValueError(f"{value!r} is not a dotted Python path such as 'myproject.blog'")
    return value


_DottedPath = Annotated[str, AfterValidator(_check_dotted_path)]

#: A router defines at least one of these (see ``reinhardt_db.routers.Router``).
ROUTER_METHODS = ("db_for_read", "db_for_write", "allow_relation", "allow_migrate")


def _check_router(value: Any) -> Any:
    """A dotted path, or an object with at least one router method."""
    if isinstance(value, str):
        return _check_dotted_path(value)
    if isinstance(value, type) or not any(
        callable(getattr(value, name, None)) for name in ROUTER_METHODS
    ):
        what = "a class" if isinstance(value, type) else "an object"
        raise ValueError(
            f"{value!r} is {what}, not a router: give a dotted path such as "
            f"'myproject.routers.PrimaryReplica' or an instance with any of "
            f"{', '.join(ROUTER_METHODS)}"
        )
    return value


def _default_databases() -> dict[str, DatabaseSettings]:
    return {DEFAULT_DATABASE_ALIAS: DatabaseSettings(url=DEFAULT_DATABASE_URL)}


class Settings(_SettingsModel):
    """All reinhardt_db settings.

    >>> Settings(databases={"default": "sqlite://:memory:"}).databases["default"].vendor
    'sqlite'
    """

    databases: dict[str, DatabaseSettings] = Field(
        default_factory=_default_databases,
        description="Database aliases; 'default' must be one of them.",
    )
    installed_apps: list[_DottedPath] = Field(
        default_factory=list, description="Dotted paths of the app packages with models."
    )
    routers: list[Annotated[Any, AfterValidator(_check_router)]] = Field(
        default_factory=list, description="Database routers: dotted paths or instances."
    )
    pagination_secret: SecretStr | None = Field(
        default=None,
        description=(
            "HMAC key of keyset-pagination cursors; unset: a random key per process "
            "(cursors then do not survive a restart nor work across processes)."
        ),
    )

    @field_validator("databases")
    @classmethod
    def _has_default(cls, databases: dict[str, DatabaseSettings]) -> dict[str, DatabaseSettings]:
        if DEFAULT_DATABASE_ALIAS not in databases:
            named = f" (configured: {', '.join(databases)})" if databases else ""
            raise ValueError(
                f"no '{DEFAULT_DATABASE_ALIAS}' database{named}; "
                f'add one, e.g. databases.default = "{DEFAULT_DATABASE_URL}"'
            )
        return databases

    @field_validator("installed_apps")
    @classmethod
    def _apps_unique(cls, apps: list[str]) -> list[str]:
        seen: set[str] = set()
        for app in apps:
            if app in seen:
                raise ValueError(f"{app!r} is listed twice")
            seen.add(app)
        return apps

    def get_database(self, alias: str) -> DatabaseSettings:
        """Return the settings of ``alias``; raise ``ImproperlyConfigured`` naming the choices."""
        try:
            return self.databases[alias]
        except KeyError:
            raise ImproperlyConfigured(
                f"databases.{alias}: no database '{alias}' is configured"
                f"{did_you_mean(alias, self.databases)}; "
                f"configured: {', '.join(self.databases)}"
            ) from None
