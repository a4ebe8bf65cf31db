"""The settings models: shapes accepted, defaults, and errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db.conf import DatabaseSettings, PoolSettings, Settings
from reinhardt_db.exceptions import ImproperlyConfigured


def error_of(**settings: Any) -> str:
    with pytest.raises(ImproperlyConfigured) as info:
        Settings(**settings)
    return str(info.value)


def test_defaults() -> None:
    settings = Settings()
    assert list(settings.databases) == ["default"]
    assert settings.databases["default"].url == "sqlite:///db.sqlite3"
    assert settings.installed_apps == []
    assert settings.routers == []


class _Router:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"


def test_spec_example() -> None:
    router = _Router()
    settings = Settings.model_validate(
        {
            "databases": {
                "default": "postgresql://app:secret@127.0.0.1:5432/app",
                "replica": {"url": "postgresql://ro@10.0.0.2/app", "pool": {"max_size": 20}},
            },
            "installed_apps": ["blog", "accounts", "reinhardt_db.contenttypes"],
            "routers": ["myproject.routers.PrimaryReplicaRouter", router],
        }
    )
    default, replica = settings.databases["default"], settings.databases["replica"]
    assert default.url == "postgresql://app:secret@127.0.0.1:5432/app"
    assert default.pool == PoolSettings()
    assert replica.pool.max_size == 20
    assert replica.parsed.host == "10.0.0.2"
    assert replica.vendor == "postgresql"
    assert settings.routers[1] is router


def test_database_options() -> None:
    db = DatabaseSettings(
        url="mysql://u@h/app",
        options={"charset": "utf8mb4", "autocommit": True},
        test="test_app",
        time_zone="UTC",
    )
    assert db.options == {"charset": "utf8mb4", "autocommit": True}
    assert db.test == "test_app"
    assert db.time_zone == "UTC"


def test_a_string_stands_for_a_url() -> None:
    assert DatabaseSettings.model_validate("sqlite://:memory:").url == "sqlite://:memory:"


def test_pool_defaults_match_the_pool() -> None:
    assert PoolSettings().model_dump() == {
        "max_size": 10,
        "min_size": 0,
        "acquire_timeout": 30.0,
        "connect_timeout": 10.0,
        "idle_timeout": 600.0,
        "max_lifetime": 1800.0,
        "test_before_acquire": True,
        "cleanup_interval": 30.0,
        "max_waiting": 0,
    }


def test_pool_to_options() -> None:
    from reinhardt_db.pool import PoolOptions

    assert PoolSettings().to_options() == PoolOptions()
    options = PoolSettings(max_size=3, acquire_timeout=1.5).to_options()
    assert isinstance(options, PoolOptions)
    assert (options.max_size, options.acquire_timeout, options.min_size) == (3, 1.5, 0)


@pytest.mark.parametrize("off", [None, False])
def test_idle_timeout_and_max_lifetime_can_be_turned_off(off: bool | None) -> None:
    pool = PoolSettings(idle_timeout=off, max_lifetime=off)
    assert (pool.idle_timeout, pool.max_lifetime) == (None, None)
    options = pool.to_options()
    assert (options.idle_timeout, options.max_lifetime) == (None, None)


def test_zero_timeouts_are_rejected() -> None:
    for name in ("acquire_timeout", "connect_timeout", "cleanup_interval", "idle_timeout"):
        with pytest.raises(ImproperlyConfigured) as info:
            PoolSettings.model_validate({name: 0})
        assert str(info.value).startswith(f"{name}: must be greater than 0 (got 0)")


def test_parsed_is_cached_and_follows_copies() -> None:
    db = DatabaseSettings(url="sqlite:///a.db")
    assert db.parsed is db.parsed
    moved = db.model_copy(update={"url": "sqlite:///b.db"})
    assert moved.parsed.database == "b.db"
    assert db.parsed.database == "a.db"


def test_equality_ignores_the_parse_cache() -> None:
    a, b = DatabaseSettings(url="sqlite:///a.db"), DatabaseSettings(url="sqlite:///a.db")
    assert a.parsed.database == "a.db"
    assert a == b
    assert a != DatabaseSettings(url="sqlite:///b.db")
    assert Settings(databases={"default": a}) == Settings(databases={"default": b})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(Exception, match="frozen"):
        settings.installed_apps = ["x"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {
                "databases": {
                    "default": "sqlite:///x.db",
                    "replica": {"url": "sqlite:///y.db", "pool": {"max_size": 10, "min_size": 20}},
                }
            },
            "databases.replica.pool.min_size: min_size (20) is greater than max_size (10)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"max_size": 0}}}},
            "databases.default.pool.max_size: must be at least 1 (got 0)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"min_size": -1}}}},
            "databases.default.pool.min_size: must be at least 0 (got -1)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"max_waiting": -5}}}},
            "databases.default.pool.max_waiting: must be at least 0 (got -5)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"acquire_timeout": -1}}}},
            "databases.default.pool.acquire_timeout: must be greater than 0 (got -1)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"idle_timeout": -0.5}}}},
            "databases.default.pool.idle_timeout: must be greater than 0 (got -0.5); "
            "write false (None in Python) to turn it off",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"max_lifetime": -1}}}},
            "databases.default.pool.max_lifetime: must be greater than 0 (got -1)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"connect_timeout": 0}}}},
            "databases.default.pool.connect_timeout: must be greater than 0 (got 0)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"cleanup_interval": -1}}}},
            "databases.default.pool.cleanup_interval: must be greater than 0 (got -1)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"max_size": "ten"}}}},
            "databases.default.pool.max_size: Input should be a valid integer",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pool": {"maxsize": 3}}}},
            "databases.default.pool.maxsize: unknown setting (did you mean 'max_size'?)",
        ),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "pol": {}}}},
            "databases.default.pol: unknown setting (did you mean 'pool'?); "
            "allowed here: url, pool, options, test, time_zone",
        ),
        (
            {"DATABASES": {}},
            "DATABASES: unknown setting (did you mean 'databases'?); "
            "allowed here: databases, installed_apps, routers",
        ),
        (
            {"debug": True},
            "debug: unknown setting; allowed here: databases, installed_apps, routers",
        ),
        (
            {"databases": {"default": "oracle://u@h/db"}},
            "databases.default.url: unknown database URL scheme",
        ),
        (
            {"databases": {"default": "postgresql://u@h"}},
            "databases.default.url: the URL names no database",
        ),
        ({"databases": {"default": "postgresql://u@h:x/db"}}, "databases.default.url: bad port"),
        (
            {"databases": {"default": {"pool": {}}}},
            "databases.default.url: required setting is missing",
        ),
        ({"databases": {"default": 5}}, "databases.default: expected a URL string or a table"),
        (
            {"databases": {"primary": "sqlite:///x.db"}},
            "databases: no 'default' database (configured: primary)",
        ),
        ({"databases": {}}, "databases: no 'default' database"),
        (
            {"databases": {"default": {"url": "sqlite:///x.db", "time_zone": "Mars/Olympus"}}},
            "databases.default.time_zone: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"installed_apps": ["blog", "my-app"]},
            "installed_apps[1]: 'my-app' is not a dotted Python path",
        ),
        ({"installed_apps": ["blog", "blog"]}, "installed_apps: 'blog' is listed twice"),
        ({"installed_apps": "blog"}, "installed_apps: Input should be a valid list"),
        (
            {"routers": ["x.y", "not a path"]},
            "routers[1]: 'not a path' is not a dotted Python path",
        ),
        (
            {"routers": [object()]},
            "routers[0]: <object object at",
        ),
        (
            {"routers": [_Router]},
            "is a class, not a router: give a dotted path such as",
        ),
    ],
)
def test_errors_name_the_key(settings: dict[str, Any], expected: str) -> None:
    assert expected in error_of(**settings)


def test_every_error_is_reported_at_once() -> None:
    message = error_of(
        databases={
            "default": {"url": "sqlite:///x.db", "pool": {"max_size": 0, "idle_timeout": -1}}
        },
        installed_apps=["a-b"],
    )
    assert "databases.default.pool.max_size" in message
    assert "databases.default.pool.idle_timeout" in message
    assert "installed_apps[0]" in message
    assert "\n" not in message


def test_bad_url_value_is_never_echoed() -> None:
    message = error_of(databases={"default": "postgresql://app:hunter2@h:x/db"})
    assert "hunter2" not in message


def test_models_built_directly_raise_improperly_configured() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^max_size: must be at least 1"):
        PoolSettings(max_size=0)
    with pytest.raises(ImproperlyConfigured, match=r"^url: unknown database URL scheme"):
        DatabaseSettings.model_validate("foo://x")
    with pytest.raises(ImproperlyConfigured, match=r"databases.default.pool.max_size"):
        Settings.model_validate(
            {"databases": {"default": {"url": "sqlite://:memory:", "pool": {"max_size": -1}}}}
        )


def test_get_database() -> None:
    settings = Settings.model_validate(
        {"databases": {"default": "sqlite:///a.db", "replica": "sqlite:///b.db"}}
    )
    assert settings.get_database("replica").url == "sqlite:///b.db"
    with pytest.raises(ImproperlyConfigured) as info:
        settings.get_database("replca")
    assert str(info.value) == (
        "databases.replca: no database 'replca' is configured (did you mean 'replica'?); "
        "configured: default, replica"
    )


def test_pagination_secret_is_hidden() -> None:
    settings = Settings(pagination_secret="s3cret-key")
    assert settings.pagination_secret is not None
    assert settings.pagination_secret.get_secret_value() == "s3cret-key"
    assert "s3cret-key" not in repr(settings) and "s3cret-key" not in str(settings)
    assert "s3cret-key" not in settings.model_dump_json()
    assert Settings().pagination_secret is None
