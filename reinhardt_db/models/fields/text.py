"""Text fields: bounded ``CharField`` (and its e-mail, URL, slug forms) and ``TextField``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.exceptions import DataError
from reinhardt_db.models import validators as v
from reinhardt_db.models.fields.base import _N, Field, FieldOptions

__all__ = ["CharField", "EmailField", "SlugField", "TextField", "URLField", "text_save_func"]

_BINARY = (bytes, bytearray, memoryview)


class _StringMixin:
    python_type: ClassVar[type | None] = str
    name: str
    max_length: int | None

    def to_python(self, value: Any) -> str | None:
        """Return ``str(value)`` (a plain ``str``, also for ``TextChoices`` members).

        Bytes are refused: ``str(b"x")`` is the text ``"b'x'"``, never what was meant.
        """
        if value is None or type(value) is str:
            return value
        if isinstance(value, _BINARY):
            raise self.invalid(  # type: ignore[attr-defined]
                value, "text (str); decode bytes first, e.g. value.decode('utf-8')"
            )
        return str(value)

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        # Inline: the write path of every text column, one len() and one scan.
        return text_save_func(self, self.save_max_length)  # type: ignore[arg-type]

    @property
    def save_max_length(self) -> int | None:
        """The length the column holds (None: unbounded)."""
        return self.max_length


def text_problem(field: Field[Any], value: str, max_length: int | None) -> DataError | None:
    """Return the ``DataError`` for text a column cannot hold, or None when it fits."""
    if max_length is not None and len(value) > max_length:
        return field.data_error(
            f"value is {len(value)} characters, max_length is {max_length}"
        )
    if "\x00" in value:
        return field.data_error(
            f"value contains a NUL character (\\x00) at position {value.index(chr(0))}; "
            "no backend stores it the same way (PostgreSQL refuses it), so strip it first"
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return field.data_error(
                f"value is not valid Unicode text ({error.reason} at position {error.start}: "
                f"{value[error.start]!r}); it cannot be sent as UTF-8"
            )
    return None


def text_save_func(field: Field[Any], max_length: int | None) -> Callable[[Any], Any]:
    """Return the write-path function of a text field: coerce, then refuse what cannot be stored.

    Costs one ``len()``, one scan for NUL and, for non-ASCII text only, a UTF-8
    encode (lone surrogates cannot be sent to any backend).
    """
    to_python = field.to_python
    limit = max_length if max_length is not None else -1

    def prep(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not str:
            value = to_python(value)
            if value is None:
                return None
        if (
            (limit >= 0 and len(value) > limit)
            or "\x00" in value
            or not value.isascii()
        ):
            problem = text_problem(field, value, max_length)
            if problem is not None:
                raise problem
        return value

    return prep


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

    @property
    def save_max_length(self) -> int | None:
        """None: the column is unbounded (``max_length`` is checked by ``full_clean`` only)."""
        return None

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
