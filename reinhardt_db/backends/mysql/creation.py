"""MySQL/MariaDB test databases: ``CREATE DATABASE`` from ``information_schema``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reinhardt_db.backends.base.creation import DatabaseCreation

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["MySQLCreation"]


class MySQLCreation(DatabaseCreation):
    """``CREATE DATABASE ... CHARACTER SET utf8mb4``; ``TRUNCATE`` with foreign key checks off."""

    maintenance_databases = ("information_schema",)

    def create_sql(self) -> list[str]:
        return [f"CREATE DATABASE {self.quote(self.name)} CHARACTER SET utf8mb4"]

    def drop_sql(self, features: DatabaseFeatures) -> list[str]:
        return [f"DROP DATABASE IF EXISTS {self.quote(self.name)}"]

    async def flush(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        db = self.db
        # TRUNCATE resets AUTO_INCREMENT; the checks are a session setting, so
        # every statement runs on one connection, and the setting is put back.
        async with db.connection():
            await db.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table in tables:
                    await db.execute(f"TRUNCATE TABLE {self.quote(table)}")
            finally:
                await db.execute("SET FOREIGN_KEY_CHECKS = 1")
