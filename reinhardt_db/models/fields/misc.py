"""Booleans, UUIDs, JSON documents, bytes and IP addresses."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.exceptions import ValidationError
from reinhardt_db.models import validators as v
from reinhardt_db.models.fields.base import _N, DbConverter, Field, FieldOptions

__all__ = ["BinaryField", "BooleanField", "GenericIPAddressField", "JSONField", "UUIDField"]


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

    Python ``None`` is SQL ``NULL``. ``encoder``/``decoder`` customize
    ``json.dumps``/``json.loads`` (e.g. ``encoder=DjangoJSONEncoder``-like classes).
    Non-finite floats (NaN, infinity) are rejected: no backend stores them in JSON.
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
        if value is not None:
            self.dumps(value)

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return ``json.dumps``: every driver here sends JSON as text."""
        return self.dumps

    def _build_prep_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        dumps = self.dumps
        return lambda value: None if value is None else dumps(value)

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return ``json.loads`` (the drivers return JSON as text)."""
        decoder = self.decoder

        def loads(value: Any) -> Any:
            if isinstance(value, (str, bytes, bytearray)):
                return json.loads(value, cls=decoder)
            return value

        return loads


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
