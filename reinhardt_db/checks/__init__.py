"""The checks ``reinhardt check`` runs: settings against reality, models against the backends.

Each check returns ``CheckMessage`` objects with a stable id (``models.E028``),
a message and a hint; ``run_checks()`` runs every registered check::

    from reinhardt_db import checks

    for message in checks.run_checks(databases=["default"]):
        print(message)     # blog.Post: (models.E028) db_table 'posts' is used by ...

Register your own with ``@checks.register(...)`` (see ``registry``).
"""

# Importing a check module registers its checks, and checks run in registration
# order: the settings checks first, since they import the apps the others look at.
# isort: off
from reinhardt_db.checks import settings_checks as settings_checks
from reinhardt_db.checks import model_checks as model_checks
from reinhardt_db.checks import field_checks as field_checks
# isort: on
from reinhardt_db.checks.messages import (
    CRITICAL,
    DEBUG,
    ERROR,
    INFO,
    LEVEL_NAMES,
    WARNING,
    CheckMessage,
    Critical,
    Debug,
    Error,
    Info,
    Warning,
)
from reinhardt_db.checks.registry import (
    CheckFunction,
    CheckRegistry,
    Tags,
    register,
    registry,
    run_checks,
)

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "LEVEL_NAMES",
    "WARNING",
    "CheckFunction",
    "CheckMessage",
    "CheckRegistry",
    "Critical",
    "Debug",
    "Error",
    "Info",
    "Tags",
    "Warning",
    "register",
    "registry",
    "run_checks",
]
