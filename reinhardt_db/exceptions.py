"""The one error hierarchy of reinhardt_db.

Every error a user can catch lives here (the pool's own errors live in
``reinhardt_db.pool.errors`` so the pool stays usable on its own, and are
re-exported from here). Driver exceptions are never raised bare: the backend
maps them onto these classes and keeps the original as ``__cause__``.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db.pool.errors import (
    InvalidConnection,
    PoolClosed,
    PoolConfigError,
    PoolError,
    PoolExhausted,
    PoolNotFound,
    PoolTimeout,
)

__all__ = [
    "DataError",
    "DatabaseError",
    "DatabaseUnavailable",
    "DoesNotExist",
    "FieldDoesNotExist",
    "FieldError",
    "ImproperlyConfigured",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "InvalidConnection",
    "MultipleObjectsReturned",
    "NotSupportedError",
    "ObjectDoesNotExist",
    "OperationalError",
    "PoolClosed",
    "PoolConfigError",
    "PoolError",
    "PoolExhausted",
    "PoolNotFound",
    "PoolTimeout",
    "ProgrammingError",
    "ProtectedError",
    "ReinhardtError",
    "RelationNotLoaded",
    "RestrictedError",
    "TransactionManagementError",
    "ValidationError",
]


class ReinhardtError(Exception):
    """Base of every error raised by reinhardt_db itself."""


class ImproperlyConfigured(ReinhardtError):
    """Settings are missing or wrong; the message names the offending key."""


class DatabaseError(ReinhardtError):
    """Base of every error that comes from talking to a database."""


class InterfaceError(DatabaseError):
    """The driver or connection was used wrongly (e.g. a closed connection)."""


class DataError(DatabaseError):
    """A value did not fit its column (too long, out of range, bad format)."""


class OperationalError(DatabaseError):
    """The database could not be reached or dropped the connection."""


class IntegrityError(DatabaseError):
    """A unique, foreign key, not-null or check constraint was violated."""


class InternalError(DatabaseError):
    """The database reported an internal error."""


class ProgrammingError(DatabaseError):
    """The SQL was wrong: syntax error, missing table or column."""


class NotSupportedError(DatabaseError):
    """The backend does not support what was asked of it."""


class TransactionManagementError(DatabaseError):
    """A transaction or task-bound connection was used in a way that cannot work."""


class FieldError(DatabaseError):
    """An unknown field or lookup was named, or a field was used wrongly.

    Under :class:`DatabaseError`, as every query error is (SPEC: one
    ``except DatabaseError`` catches what a query can raise).
    """


class FieldDoesNotExist(FieldError):
    """``Model._meta.get_field(name)`` found no field of that name."""


class ObjectDoesNotExist(DatabaseError):
    """Base of every model's ``DoesNotExist``."""


DoesNotExist = ObjectDoesNotExist


class MultipleObjectsReturned(DatabaseError):
    """Base of every model's ``MultipleObjectsReturned``."""


class ValidationError(ReinhardtError):
    """Validation failed.

    Holds either a single message (``.messages``) or, when raised by
    ``full_clean()``/``clean_fields()``, a mapping of field name to messages
    (``.error_dict``).
    """

    def __init__(
        self,
        message: str | list[Any] | dict[str, Any],
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.params = params
        self.message: str
        self.error_dict: dict[str, list[ValidationError]] = {}
        self.error_list: list[ValidationError] = []
        if isinstance(message, dict):
            for field, msgs in message.items():
                items = msgs if isinstance(msgs, list) else [msgs]
                self.error_dict[field] = [
                    m if isinstance(m, ValidationError) else ValidationError(str(m))
                    for m in items
                ]
            self.message = "; ".join(
                f"{f}: {', '.join(e.message for e in errs)}" for f, errs in self.error_dict.items()
            )
        elif isinstance(message, list):
            for m in message:
                if isinstance(m, ValidationError):
                    self.error_list.extend(m.error_list or [m])
                else:
                    self.error_list.append(ValidationError(str(m)))
            self.message = "; ".join(e.message for e in self.error_list)
        else:
            self.message = message % params if params else message
            self.error_list = [self]
        super().__init__(self.message)

    @property
    def messages(self) -> list[str]:
        """Every message, flattened."""
        if self.error_dict:
            return [e.message for errs in self.error_dict.values() for e in errs]
        return [e.message for e in self.error_list]

    @property
    def message_dict(self) -> dict[str, list[str]]:
        """``{field: [message, ...]}`` for errors raised by ``full_clean()``."""
        return {f: [e.message for e in errs] for f, errs in self.error_dict.items()}


class DatabaseUnavailable(OperationalError, PoolTimeout):
    """No connection could be opened within ``acquire_timeout``: the database is down
    or unreachable. Both an ``OperationalError`` and a ``PoolTimeout``; ``__cause__``
    is the pool's ``PoolTimeout``, whose own cause is the last connect error.

    ``connect_failed`` is True when it was raised at the first failed connect
    (a task inside ``backends.failing_fast()``, e.g. a router's replica read):
    no statement was sent, so the caller may run it on another database.
    """

    connect_failed: bool = False


class ProtectedError(IntegrityError):
    """A delete was refused: ``on_delete=PROTECT`` rows refer to what would be deleted.

    ``protected_objects`` holds the referring instances; nothing was deleted.
    """

    def __init__(self, message: str, protected_objects: Any) -> None:
        super().__init__(message)
        self.protected_objects = protected_objects


class RestrictedError(IntegrityError):
    """A delete was refused: ``on_delete=RESTRICT`` rows refer to what would be deleted.

    ``restricted_objects`` holds the referring instances; nothing was deleted.
    """

    def __init__(self, message: str, restricted_objects: Any) -> None:
        super().__init__(message)
        self.restricted_objects = restricted_objects


class RelationNotLoaded(ReinhardtError):
    """A related object or set was read before it was loaded (reading never runs a query).

    Load it with ``select_related()`` / ``prefetch_related()`` on the query, or
    ``await obj.fetch_related(...)`` on the instance.
    """
