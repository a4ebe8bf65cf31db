"""PostgreSQL SQL: what the query and schema layers ask of this vendor."""

from __future__ import annotations

from typing import ClassVar

from reinhardt_db.backends.base.operations import DatabaseOperations

__all__ = ["PostgreSQLOperations"]


class PostgreSQLOperations(DatabaseOperations):
    """Vendor SQL for PostgreSQL."""

    vendor: ClassVar[str] = "postgresql"
    max_name_length: ClassVar[int | None] = 63
