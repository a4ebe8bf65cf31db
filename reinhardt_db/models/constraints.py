"""Table constraints declared in ``Meta.constraints``.

::

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email", "role"], name="uniq_email_role"),
            models.CheckConstraint(condition=models.Q(age__gte=0), name="age_non_negative"),
        ]

A ``UniqueConstraint`` with a ``condition`` becomes a partial unique index
(PostgreSQL, SQLite; MySQL cannot express it and skips it, as Django does).
The SQL of ``CheckConstraint`` conditions comes from the query layer's
``q_to_clause``, compiled for each backend when the DDL is compiled.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from reinhardt_db.models.indexes import check_field_names, interpolate_name

__all__ = ["BaseConstraint", "CheckConstraint", "UniqueConstraint"]


class BaseConstraint:
    """A named table constraint."""

    default_violation_error_message = "Constraint “%(name)s” is violated."

    def __init__(
        self,
        *,
        name: str,
        violation_error_code: str | None = None,
        violation_error_message: str | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise TypeError(f"{type(self).__name__} requires a name, e.g. name='...'.")
        self.name = name
        self.violation_error_code = violation_error_code
        self.violation_error_message = violation_error_message

    def get_violation_error_message(self) -> str:
        """Return the message ``full_clean()`` reports when the constraint is violated."""
        message = self.violation_error_message or self.default_violation_error_message
        return message % {"name": self.name}

    def contribute_to_model(self, model: type[Any]) -> None:
        """Settle the name for ``model`` (``%(app_label)s``/``%(class)s``)."""
        self.name = interpolate_name(self.name, model)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this constraint."""
        kwargs: dict[str, Any] = {"name": self.name}
        if self.violation_error_code is not None:
            kwargs["violation_error_code"] = self.violation_error_code
        if self.violation_error_message is not None:
            kwargs["violation_error_message"] = self.violation_error_message
        return f"reinhardt_db.models.{type(self).__name__}", (), kwargs

    def clone(self) -> BaseConstraint:
        """Return a copy built from ``deconstruct()``."""
        _path, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseConstraint):
            return NotImplemented
        return type(self) is type(other) and self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash((type(self), self.name))

    def __repr__(self) -> str:
        _path, _args, kwargs = self.deconstruct()
        parts = " ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return f"<{type(self).__name__}: {parts}>"


class CheckConstraint(BaseConstraint):
    """``CHECK (condition)`` where ``condition`` is a ``Q`` (``check=`` is accepted too)."""

    def __init__(
        self,
        *,
        name: str,
        condition: Any = None,
        check: Any = None,
        violation_error_code: str | None = None,
        violation_error_message: str | None = None,
    ) -> None:
        if condition is not None and check is not None:
            raise TypeError("CheckConstraint takes condition= or check=, not both.")
        condition = condition if condition is not None else check
        if condition is None:
            raise TypeError(
                "CheckConstraint requires condition=, e.g. condition=Q(age__gte=0)."
            )
        if not (
            getattr(condition, "conditional", False)
            or hasattr(condition, "children")
            or isinstance(condition, sa.sql.ClauseElement)
        ):
            raise TypeError(
                f"CheckConstraint.condition must be a Q or an SQLAlchemy boolean expression, "
                f"got {condition!r}."
            )
        self.condition = condition
        super().__init__(
            name=name,
            violation_error_code=violation_error_code,
            violation_error_message=violation_error_message,
        )

    @property
    def check(self) -> Any:
        """Alias of ``condition`` (the pre-5.1 Django name)."""
        return self.condition

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this constraint."""
        path, args, kwargs = super().deconstruct()
        kwargs["condition"] = self.condition
        return path, args, kwargs


class UniqueConstraint(BaseConstraint):
    """Values of ``fields`` are unique together (among rows matching ``condition``)."""

    def __init__(
        self,
        *,
        fields: list[str] | tuple[str, ...] = (),
        name: str,
        condition: Any = None,
        violation_error_code: str | None = None,
        violation_error_message: str | None = None,
    ) -> None:
        if not isinstance(fields, (list, tuple)) or not fields:
            raise ValueError(
                "UniqueConstraint requires fields=, a non-empty list of field names."
            )
        self.fields = tuple(fields)
        self.condition = condition
        super().__init__(
            name=name,
            violation_error_code=violation_error_code,
            violation_error_message=violation_error_message,
        )

    def contribute_to_model(self, model: type[Any]) -> None:
        """Check the fields exist on ``model`` and settle the name."""
        check_field_names(model, self.fields, f"constraint '{self.name}'")
        super().contribute_to_model(model)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this constraint."""
        path, args, kwargs = super().deconstruct()
        kwargs["fields"] = tuple(self.fields)
        if self.condition is not None:
            kwargs["condition"] = self.condition
        return path, args, kwargs
