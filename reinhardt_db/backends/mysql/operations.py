"""MySQL SQL: what the query and schema layers ask of this vendor."""

from __future__ import annotations

from typing import ClassVar

from reinhardt_db.backends.base.operations import DatabaseOperations

__all__ = ["MySQLOperations"]


class MySQLOperations(DatabaseOperations):
    """Vendor SQL for MySQL."""

    vendor: ClassVar[str] = "mysql"
    max_name_length: ClassVar[int | None] = 64
