"""Booleans, UUIDs, JSON documents, bytes and IP addresses."""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.exceptions import ValidationError
from reinhardt_db.models import validators as v
from reinhardt_db.models.expressions import Param, Value
from reinhardt_db.models.fields.base import _N, DbConverter, Field, FieldOptions

__all__ = [
    "BinaryField", "BooleanField", "GenericIPAddressField", "JSONField", "JSONNull", "UUIDField",
]

# json.dumps escapes NUL as \u0000; an escaped backslash before "u0000" is literal text.
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class JSONNull(Value):
    """The JSON scalar ``null``, as opposed to SQL ``NULL`` (Django's ``JSONNull``).

    ``await Dog.objects.create(data=JSONNull())`` stores JSON ``null``;
    ``filter(data=JSONNull())`` and ``filter(data=None)`` find it;
    ``filter(data__isnull=True)`` finds SQL ``NULL``.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(None)

    def __repr__(self) -> str:
        return "JSONNull()"

    def identity(self) -> tuple[Any, ...]:
        return ("JSONNull",)

    def parameterize(self, values: list[Any], resolver: Any) -> Any:
        values.append(JSON_NULL)
        return Param(len(values) - 1, _JSON_NULL_FIELD, type(None))


class _JSONNullMarker:
    """The parameter value of ``JSONNull()`` in a query (``None`` would be SQL NULL)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL = _JSONNullMarker()


def _json_value(value: Any) -> Any:
    """The document a JSON field value stands for (``Value(x, JSONField())`` is ``x``)."""
    if value is JSON_NULL or type(value) is JSONNull:
        return None
    if isinstance(value, Value) and isinstance(value._output_field, JSONField):
        return None if value.value is None else value.value
    return value


class BooleanField(Field[bool, _N]):
    """``True``/``False`` (``BOOLEAN``; 0/1 integers on SQLite and MySQL)."""

    empty_strings_allowed = False
    python_type = bool
    description = "Boolean (Either True or False)"
    _TRUE = frozenset({"t", "true", "1", "yes", "y", "on"})
    _FALSE = frozenset({"f", "false", "0", "no", "n", "off"})

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``BOOLEAN`` (``BOOL`` = ``TINYINT(1)`` on MySQL)."""
        return sa.Boolean()

    def to_python(self, value: Any) -> bool | None:
        """Coerce 0/1 and ``"true"``/``"false"``-like strings to ``bool``."""
        if value is None or type(value) is bool:
            return value
        if value in (0, 1) and not isinstance(value, str):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in self._TRUE:
                return True
            if lowered in self._FALSE:
                return False
        raise self.invalid(value, "True or False")

    def validate(self, value: Any, instance: Any) -> None:
        """Accept ``False`` even when ``blank=False`` (it is a value, not an empty one)."""
        if value is False:
            return
        super().validate(value, instance)

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (``bool`` where booleans are stored as 0/1)."""
        return ops.boolean_converter()


class UUIDField(Field[uuid.UUID, _N]):
    """A ``uuid.UUID``: native ``UUID`` on PostgreSQL, 32 hex characters elsewhere."""

    empty_strings_allowed = False
    python_type = uuid.UUID
    description = "Universally unique identifier"

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``CHAR(32)`` (backends with a native ``UUID`` type use it)."""
        return sa.CHAR(32)

    def to_python(self, value: Any) -> uuid.UUID | None:
        """Coerce strings (any of the standard spellings) and ints to ``UUID``."""
        if value is None or isinstance(value, uuid.UUID):
            return value
        try:
            if isinstance(value, int) and not isinstance(value, bool):
                return uuid.UUID(int=value)
            if isinstance(value, str):
                return uuid.UUID(value)
        except ValueError:
            pass
        raise self.invalid(value, "a UUID")

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the backend's adapter (``.hex`` text without a native type)."""
        return ops.uuid_adapter()

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (hex text -> ``UUID``)."""
        return ops.uuid_converter()


class JSONField(Field[Any, _N]):
    """A JSON document (``JSONB`` on PostgreSQL, ``JSON`` on MySQL, ``TEXT`` on SQLite).

    Storing ``None`` stores SQL ``NULL``; ``JSONNull()`` (or ``Value(None,
    JSONField())``) stores the JSON scalar ``null``. Both read back as ``None``.
    In filters ``None`` means JSON ``null`` (``filter(data=None)``); SQL ``NULL``
    is ``isnull=True`` (Django's rule). ``encoder``/``decoder`` customize
    ``json.dumps``/``json.loads`` (e.g. ``encoder=DjangoJSONEncoder``-like classes).
    Non-finite floats (NaN, infinity) are rejected: no backend stores them in JSON;
    so are NUL characters (``\u0000``) and lone surrogates in strings, which
    PostgreSQL refuses and the others would store.
    """

    empty_strings_allowed = False
    description = "A JSON object"
    default_error_messages = {"invalid": "Value must be valid JSON."}

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        encoder: type[json.JSONEncoder] | None = None,
        decoder: type[json.JSONDecoder] | None = None,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        if encoder is not None and not callable(encoder):
            raise ValueError("The encoder parameter must be a callable object.")
        if decoder is not None and not callable(decoder):
            raise ValueError("The decoder parameter must be a callable object.")
        self.encoder = encoder
        self.decoder = decoder
        super().__init__(verbose_name, **kwargs)

    def _deconstruct_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.encoder is not None:
            extra["encoder"] = self.encoder
        if self.decoder is not None:
            extra["decoder"] = self.decoder
        return extra

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``TEXT`` (``JSONB`` on PostgreSQL and ``JSON`` on MySQL/MariaDB)."""
        return sa.Text()

    def dumps(self, value: Any) -> str:
        """Serialize ``value`` to JSON text; raise ``ValidationError`` if it cannot be."""
        try:
            return json.dumps(value, cls=self.encoder, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"{self.label}: value is not JSON serializable ({exc}).", code="invalid"
            ) from exc

    def validate(self, value: Any, instance: Any) -> None:
        """Also check that ``value`` serializes to JSON."""
        super().validate(value, instance)
        if value is not None and not isinstance(value, Value):
            self.dumps(value)

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return ``json.dumps``: every driver here sends JSON as text."""
        return self.dumps

    #: What ``Value(None, JSONField())`` stands for: the JSON scalar null.
    null_value: ClassVar[Any] = JSON_NULL

    def _build_prep_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        dumps = self.dumps
        return lambda value: None if value is None else dumps(_json_value(value))

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        dumps = self.dumps
        problem = self._text_problem

        def prep(value: Any) -> Any:
            if value is None:
                return None  # SQL NULL; JSONNull() / Value(None, JSONField()) is JSON null
            text = dumps(_json_value(value))
            if "\\u0000" in text or not text.isascii():
                error = problem(text)
                if error is not None:
                    raise error
            return text

        return prep

    def _text_problem(self, text: str) -> Exception | None:
        if _JSON_NUL.search(text):
            return self.data_error(
                "the document holds a NUL character (\\u0000) in a string; PostgreSQL "
                "refuses it and the other backends would store it, so strip it first"
            )
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                return self.data_error(
                    f"the document holds text that is not valid Unicode ({error.reason}: "
                    f"{text[error.start]!r}); it cannot be sent as UTF-8"
                )
        return None

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return ``json.loads`` (the drivers return JSON as text)."""
        decoder = self.decoder

        def loads(value: Any) -> Any:
            if isinstance(value, (str, bytes, bytearray)):
                return json.loads(value, cls=decoder)
            return value

        return loads


_JSON_NULL_FIELD = JSONField()


class BinaryField(Field[bytes, _N]):
    """Raw bytes (``BYTEA``, ``LONGBLOB``, ``BLOB``). Not editable by default."""

    empty_strings_allowed = True
    python_type = bytes
    description = "Raw binary data"

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_length: int | None = None,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(verbose_name, max_length=max_length, **kwargs)

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [v.MaxLengthValidator(self.max_length)] if self.max_length else []

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``BLOB`` (``BYTEA`` on PostgreSQL, ``LONGBLOB`` on MySQL)."""
        return sa.LargeBinary()

    def get_default(self) -> Any:
        """Return ``b""`` where other text-like fields would return ``""``."""
        default = super().get_default()
        return b"" if default == "" else default

    def to_python(self, value: Any) -> bytes | None:
        """Coerce ``bytearray``/``memoryview`` to ``bytes``."""
        if value is None or type(value) is bytes:
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise self.invalid(value, "bytes")


class GenericIPAddressField(Field[str, _N]):
    """An IPv4 or IPv6 address as normalized text (``VARCHAR(39)``)."""

    empty_strings_allowed = False
    python_type = str
    description = "IP address"

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        protocol: str = "both",
        unpack_ipv4: bool = False,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        if protocol.lower() not in ("both", "ipv4", "ipv6"):
            raise ValueError(f"protocol must be 'both', 'IPv4' or 'IPv6', got {protocol!r}.")
        self.protocol = protocol.lower()
        self.unpack_ipv4 = unpack_ipv4
        super().__init__(verbose_name, max_length=39, **kwargs)

    def _deconstruct_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.protocol != "both":
            extra["protocol"] = self.protocol
        if self.unpack_ipv4:
            extra["unpack_ipv4"] = True
        return extra

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [
            {
                "both": v.validate_ipv46_address,
                "ipv4": v.validate_ipv4_address,
                "ipv6": v.validate_ipv6_address,
            }[self.protocol]
        ]

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``VARCHAR(39)``, long enough for any IPv6 address."""
        return sa.String(39)

    def to_python(self, value: Any) -> str | None:
        """Normalize the address (compressed lowercase IPv6); ``""`` becomes ``None``."""
        if value is None:
            return None
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = value
        else:
            text = str(value).strip()
            if not text:
                return None
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise self.invalid(value, "an IPv4 or IPv6 address") from None
        if isinstance(address, ipaddress.IPv6Address) and self.unpack_ipv4:
            mapped = address.ipv4_mapped
            if mapped is not None:
                return str(mapped)
        return str(address)

    def _build_prep_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        to_python = self.to_python
        return lambda value: None if value is None else to_python(value)

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        to_python = self.to_python
        too_long = self._too_long

        def prep(value: Any) -> Any:
            if value is None:
                return None
            text = to_python(value)
            # A scoped IPv6 address ("fe80::1%eth0") can exceed the column.
            if text is not None and len(text) > 39:
                raise too_long(text)
            return text

        return prep

    def _too_long(self, text: str) -> Exception:
        return self.data_error(f"value is {len(text)} characters, max_length is 39 ({text!r})")
