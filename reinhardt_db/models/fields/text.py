"""Text fields: bounded ``CharField`` (and its e-mail, URL, slug forms) and ``TextField``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.models import validators as v
from reinhardt_db.models.fields.base import _N, Field, FieldOptions

__all__ = ["CharField", "EmailField", "SlugField", "TextField", "URLField"]


class _StringMixin:
    python_type: ClassVar[type | None] = str
    name: str

    def to_python(self, value: Any) -> str | None:
        """Return ``str(value)`` (a plain ``str``, also for ``TextChoices`` members)."""
        if value is None or type(value) is str:
            return value
        return str(value)


class CharField(_StringMixin, Field[str, _N]):
    """A string of at most ``max_length`` characters (``VARCHAR(n)``)."""

    description = "String (up to %(max_length)s)"

    def check_definition(self) -> None:
        """Require ``max_length``."""
        if self.max_length is None:
            self.fail(f"{type(self).__name__} requires max_length, e.g. "
                      f"{type(self).__name__}(max_length=100); use TextField for unbounded text.")
        super().check_definition()

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [v.MaxLengthValidator(self.max_length)]

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``VARCHAR(max_length)``."""
        return sa.String(self.max_length)


class TextField(_StringMixin, Field[str, _N]):
    """Unbounded text (``TEXT``; ``LONGTEXT`` on MySQL). ``max_length`` only validates."""

    description = "Text"

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [v.MaxLengthValidator(self.max_length)] if self.max_length else []

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``TEXT`` (``LONGTEXT`` on MySQL, whose ``TEXT`` holds only 64 KiB)."""
        return sa.Text()


class SlugField(CharField[_N]):
    """A short label of letters, digits, ``-`` and ``_``; indexed by default."""

    description = "Slug (up to %(max_length)s)"

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_length: int | None = 50,
        allow_unicode: bool = False,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        kwargs.setdefault("db_index", True)
        self.allow_unicode = allow_unicode
        super().__init__(verbose_name, max_length=max_length, **kwargs)

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        slug = v.validate_unicode_slug if self.allow_unicode else v.validate_slug
        return [*super()._builtin_validators(), slug]

    def _deconstruct_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"allow_unicode": True} if self.allow_unicode else {}
        return extra


class EmailField(CharField[_N]):
    """An e-mail address (``max_length`` 254 by default), checked by ``EmailValidator``."""

    description = "Email address"
    default_validators = [v.validate_email]

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_length: int | None = 254,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        super().__init__(verbose_name, max_length=max_length, **kwargs)


class URLField(CharField[_N]):
    """A URL (``max_length`` 200 by default), checked by ``URLValidator``."""

    description = "URL"

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_length: int | None = 200,
        schemes: list[str] | None = None,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        self.schemes = schemes
        super().__init__(verbose_name, max_length=max_length, **kwargs)

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [*super()._builtin_validators(), v.URLValidator(schemes=self.schemes)]

    def _deconstruct_extra(self) -> dict[str, Any]:
        return {"schemes": self.schemes} if self.schemes else {}
