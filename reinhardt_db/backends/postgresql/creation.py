"""PostgreSQL test databases: ``CREATE DATABASE`` from the ``postgres`` database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reinhardt_db.backends.base.creation import DatabaseCreation

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["PostgreSQLCreation"]


class PostgreSQLCreation(DatabaseCreation):
    """``CREATE DATABASE``/``DROP DATABASE``; ``TRUNCATE ... RESTART IDENTITY CASCADE``."""

    maintenance_databases = ("postgres", "template1")

    def create_sql(self) -> list[str]:
        return [f"CREATE DATABASE {self.quote(self.name)}"]

    def drop_sql(self, features: DatabaseFeatures) -> list[str]:
        name = self.quote(self.name)
        if features.server_version >= (13,):
            return [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]
        # Before 13: end the other sessions first (a crashed run may have left some).
        literal = self.name.replace("'", "''")
        return [
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{literal}' AND pid <> pg_backend_pid()",
            f"DROP DATABASE IF EXISTS {name}",
        ]

    async def flush(self, tables: Sequence[str]) -> None:
        if tables:
            names = ", ".join(self.quote(table) for table in tables)
            await self.db.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
