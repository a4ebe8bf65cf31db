"""The application registry: ``apps.get_model("accounts", "User")``, ``apps.get_models()``."""

from reinhardt_db.apps.config import AppConfig
from reinhardt_db.apps.registry import Apps, apps

get_model = apps.get_model
get_models = apps.get_models
get_app_config = apps.get_app_config
get_app_configs = apps.get_app_configs

__all__ = [
    "AppConfig",
    "Apps",
    "apps",
    "get_app_config",
    "get_app_configs",
    "get_model",
    "get_models",
]
