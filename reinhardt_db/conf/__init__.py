"""Settings: the pydantic models, database URLs, and where settings come from."""

from reinhardt_db.conf.loader import (
    ENV_DATABASE_URL,
    ENV_SETTINGS,
    SettingsListener,
    configure,
    get_settings,
    load_settings,
    on_settings_changed,
    read_settings,
    reset_settings,
    settings_configured,
)
from reinhardt_db.conf.settings import (
    DEFAULT_DATABASE_ALIAS,
    DEFAULT_DATABASE_URL,
    DatabaseSettings,
    PoolSettings,
    Settings,
)
from reinhardt_db.conf.urls import DatabaseURL, Vendor, parse_database_url

__all__ = [
    "DEFAULT_DATABASE_ALIAS",
    "DEFAULT_DATABASE_URL",
    "ENV_DATABASE_URL",
    "ENV_SETTINGS",
    "DatabaseSettings",
    "DatabaseURL",
    "PoolSettings",
    "Settings",
    "SettingsListener",
    "Vendor",
    "configure",
    "get_settings",
    "load_settings",
    "on_settings_changed",
    "parse_database_url",
    "read_settings",
    "reset_settings",
    "settings_configured",
]
