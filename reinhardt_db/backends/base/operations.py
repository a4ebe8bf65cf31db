"""Vendor SQL: what the query and schema layers ask of a backend instead of its name.

Django's ``connection.ops`` is the model: the layers above call a method here
(``db.ops.<name>``) and each vendor's ``operations.py`` overrides what differs.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["DatabaseOperations"]


class DatabaseOperations:
    """Vendor SQL for one backend; subclasses override what their vendor does differently."""

    vendor: ClassVar[str]
    #: Longest identifier (table, column, index, constraint name) the server keeps
    #: whole; None when there is no limit worth checking.
    max_name_length: ClassVar[int | None] = None
