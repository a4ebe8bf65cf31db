"""A throwaway PostgreSQL or MariaDB server for a test session, with testcontainers.

``pytest --reinhardt-db=postgresql`` (or ``mysql``) starts one when the
session first needs a database and stops it at the end; the default alias's
test database is created on it. Needs Docker and ``pip install
'reinhardt_db[containers]'``; without either the error says which is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reinhardt_db.conf import DatabaseURL
from reinhardt_db.exceptions import ImproperlyConfigured

__all__ = ["IMAGES", "start_server"]

#: The image each vendor's server runs.
IMAGES = {"postgresql": "postgres:16-alpine", "mysql": "mariadb:11"}


def start_server(vendor: str) -> tuple[str, Callable[[], None]]:
    """Start a server of ``vendor``; return its URL (database ``test_reinhardt``), and its stop.

    Raise ``ImproperlyConfigured`` naming what is missing when testcontainers
    is not installed or Docker cannot be reached.
    """
    option = f"--reinhardt-db={vendor}"
    try:
        if vendor == "postgresql":
            from testcontainers.postgres import PostgresContainer as container_class
        else:
            from testcontainers.mysql import MySqlContainer as container_class
    except ImportError as error:
        raise ImproperlyConfigured(
            f"{option} starts a database server in Docker with testcontainers, which is not "
            f"installed ({error}): pip install 'reinhardt_db[containers]', or pass "
            "--reinhardt-db-url to test on a server that runs already"
        ) from None
    image = IMAGES[vendor]
    container: Any = container_class(image)
    try:
        container.start()
    except Exception as error:
        raise ImproperlyConfigured(
            f"{option}: Docker is not available, so no {image} container could be started "
            f"({type(error).__name__}: {error}). Start Docker (the current user must reach "
            "its socket), or pass --reinhardt-db-url to test on a server that runs already"
        ) from None
    try:
        url = _server_url(vendor, container)
    except BaseException:
        container.stop()
        raise
    return url, container.stop


def _server_url(vendor: str, container: Any) -> str:
    host = container.get_container_host_ip()
    if vendor == "postgresql":
        port = int(container.get_exposed_port(5432))
        user, password = container.username, container.password
    else:
        # root: the fixtures create and drop databases.
        port = int(container.get_exposed_port(3306))
        user, password = "root", container.root_password
    url = DatabaseURL(
        vendor="postgresql" if vendor == "postgresql" else "mysql",
        host=host, port=port, user=user, password=password, database="test_reinhardt",
    )
    return url.render(hide_password=False)
