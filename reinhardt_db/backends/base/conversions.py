"""Value conversions more than one backend uses (the operations classes hand them out).

Adapters turn a clean Python value into what a driver accepts; converters turn
what a driver returns into the Python value. Converters are never called with
``None`` (row readers skip NULLs) and accept the Python value itself too, so a
driver that already decoded a column does no harm.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

__all__ = [
    "micros_to_timedelta",
    "timedelta_to_micros",
    "to_decimal",
    "uuid_from_text",
    "uuid_hex",
]


def uuid_hex(value: uuid.UUID) -> str:
    """Return the 32 hex digits stored where there is no native UUID type."""
    return value.hex


def uuid_from_text(value: Any) -> uuid.UUID:
    """Return the ``UUID`` of stored hex text."""
    return uuid.UUID(value) if isinstance(value, str) else value


def timedelta_to_micros(value: dt.timedelta) -> int:
    """Return a duration as whole microseconds (a ``BIGINT`` column)."""
    return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds


def micros_to_timedelta(value: Any) -> dt.timedelta:
    """Return the ``timedelta`` of a microsecond count."""
    return dt.timedelta(microseconds=int(value))


def to_decimal(value: Any) -> Decimal:
    """Return a ``Decimal`` from exact text, a float (by its shortest repr) or a number."""
    if type(value) is str:
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)
