"""``MigrationRecorder``: which migrations are applied, kept in ``reinhardt_migrations``.

One row per applied migration: ``app``, ``name``, ``applied`` (UTC). The table
is created on first write (``ensure_schema``); reads of a database that has
none see nothing applied. Statements go through the raw-SQL API with ``%s``
placeholders, so the same code runs on every backend; values are converted by
the same field classes the models use.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from reinhardt_db.exceptions import ProgrammingError
from reinhardt_db.models.fields import CharField, DateTimeField

if TYPE_CHECKING:
    from reinhardt_db.backends import Database

__all__ = ["MigrationRecorder"]

Key = tuple[str, str]
TABLE = "reinhardt_migrations"
_PROBE_SAVEPOINT = "reinhardt_recorder_probe"


def _table() -> sa.Table:
    applied = DateTimeField()
    return sa.Table(
        TABLE,
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("app", CharField(max_length=255).sa_type(), nullable=False),
        sa.Column("name", CharField(max_length=255).sa_type(), nullable=False),
        sa.Column("applied", applied.sa_type(), nullable=False),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )


class MigrationRecorder:
    """Read and write the applied-migrations table of one database.

    ::

        recorder = MigrationRecorder(connections["default"])
        await recorder.record_applied("blog", "0001_initial")
        await recorder.applied_migrations()   # {("blog", "0001_initial"): datetime(...)}
    """

    table_name = TABLE

    def __init__(self, db: Database) -> None:
        self.db = db
        self._applied_field = DateTimeField()
        self._has_table = False

    def __repr__(self) -> str:
        return f"<MigrationRecorder {self.db.alias!r}>"

    async def has_table(self) -> bool:
        """Return whether the table exists (safe inside a transaction)."""
        if self._has_table:
            return True
        bound = self.db.bound_connection()
        in_transaction = bound is not None and bound.in_transaction
        if in_transaction:
            # A failed statement aborts a PostgreSQL transaction: probe inside a savepoint.
            await self.db.execute(f"SAVEPOINT {_PROBE_SAVEPOINT}")
        try:
            await self.db.fetch_all(f"SELECT 1 FROM {TABLE} WHERE 1 = 0")
        except ProgrammingError as exc:
            if TABLE not in str(exc):
                raise
            if in_transaction:
                await self.db.execute(f"ROLLBACK TO SAVEPOINT {_PROBE_SAVEPOINT}")
            return False
        if in_transaction:
            await self.db.execute(f"RELEASE SAVEPOINT {_PROBE_SAVEPOINT}")
        self._has_table = True
        return True

    async def ensure_schema(self) -> None:
        """Create the table unless it exists."""
        if await self.has_table():
            return
        sql = str(CreateTable(_table(), if_not_exists=True).compile(dialect=self.db.dialect))
        await self.db.execute(sql.strip().replace("%", "%%"))
        self._has_table = True

    async def applied_migrations(self) -> dict[Key, dt.datetime]:
        """Return ``{(app, name): applied_at}`` in the order they were applied."""
        if not await self.has_table():
            return {}
        rows = await self.db.fetch_all(f"SELECT app, name, applied FROM {TABLE} ORDER BY id")
        convert = self._applied_field.get_db_converter(self.db.vendor)
        result: dict[Key, dt.datetime] = {}
        for app, name, applied in rows:
            if convert is not None and applied is not None:
                applied = convert(applied)
            result[app, name] = applied
        return result

    async def record_applied(self, app: str, name: str) -> None:
        """Record that ``app.name`` was applied now."""
        await self.ensure_schema()
        now = dt.datetime.now(dt.UTC)
        await self.db.execute(
            f"INSERT INTO {TABLE} (app, name, applied) VALUES (%s, %s, %s)",
            [app, name, self._applied_field.get_db_prep_value(now, self.db.vendor)],
        )

    async def record_unapplied(self, app: str, name: str) -> None:
        """Record that ``app.name`` is no longer applied."""
        await self.ensure_schema()
        await self.db.execute(f"DELETE FROM {TABLE} WHERE app = %s AND name = %s", [app, name])

    async def flush(self) -> None:
        """Forget every applied migration (tests)."""
        if await self.has_table():
            await self.db.execute(f"DELETE FROM {TABLE}")
