"""Reusable validators for field values.

A validator is any callable taking one value and raising
:class:`~reinhardt_db.exceptions.ValidationError` when the value is bad. The
classes here compare equal when built with the same arguments and
``deconstruct()`` themselves, so migrations can tell when a field's validators
changed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from reinhardt_db.exceptions import ValidationError

__all__ = [
    "BaseValidator",
    "DecimalValidator",
    "EmailValidator",
    "MaxLengthValidator",
    "MaxValueValidator",
    "MinLengthValidator",
    "MinValueValidator",
    "RegexValidator",
    "URLValidator",
    "validate_email",
    "validate_ipv4_address",
    "validate_ipv6_address",
    "validate_ipv46_address",
    "validate_slug",
    "validate_unicode_slug",
]


class _Deconstructible:
    """Compare by constructor arguments and write them back out for migrations."""

    _args: tuple[Any, ...]
    _kwargs: dict[str, Any]

    def _remember(self, *args: Any, **kwargs: Any) -> None:
        self._args = args
        self._kwargs = {k: v for k, v in kwargs.items() if v is not None}

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this validator."""
        return f"reinhardt_db.models.{type(self).__name__}", self._args, dict(self._kwargs)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Deconstructible)
        return self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash((type(self), repr(self._args), repr(sorted(self._kwargs.items()))))

    def __repr__(self) -> str:
        parts = [repr(a) for a in self._args] + [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"{type(self).__name__}({', '.join(parts)})"


class RegexValidator(_Deconstructible):
    """Reject strings that do not match ``regex`` (or that do, with ``inverse_match``)."""

    regex: re.Pattern[str] | str = ""
    message = "Enter a valid value."
    code = "invalid"
    inverse_match = False
    flags = 0

    def __init__(
        self,
        regex: str | re.Pattern[str] | None = None,
        message: str | None = None,
        code: str | None = None,
        inverse_match: bool | None = None,
        flags: int | None = None,
    ) -> None:
        self._remember(
            regex=regex.pattern if isinstance(regex, re.Pattern) else regex,
            message=message,
            code=code,
            inverse_match=inverse_match,
            flags=flags,
        )
        if regex is not None:
            self.regex = regex
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if inverse_match is not None:
            self.inverse_match = inverse_match
        if flags is not None:
            self.flags = flags
        if self.flags and not isinstance(self.regex, str):
            raise TypeError("If the flags are set, regex must be a regular expression string.")
        if isinstance(self.regex, str):
            self.regex = re.compile(self.regex, self.flags)

    def __call__(self, value: Any) -> None:
        """Raise ``ValidationError`` unless ``value`` matches (or does not, if inverted)."""
        assert isinstance(self.regex, re.Pattern)
        matched = bool(self.regex.search(str(value)))
        if matched == self.inverse_match:
            raise ValidationError(self.message, code=self.code, params={"value": value})


_slug_re = re.compile(r"^[-a-zA-Z0-9_]+\Z")
_unicode_slug_re = re.compile(r"^[-\w]+\Z")

validate_slug = RegexValidator(
    _slug_re,
    "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
    "invalid",
)
validate_unicode_slug = RegexValidator(
    _unicode_slug_re,
    "Enter a valid “slug” consisting of Unicode letters, numbers, underscores, or hyphens.",
    "invalid",
)


class EmailValidator(_Deconstructible):
    """Accept ``local@domain`` addresses with a dotted domain, ``localhost`` or an IP literal."""

    message = "Enter a valid email address."
    code = "invalid"
    user_regex = re.compile(
        r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
        r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
        re.IGNORECASE,
    )
    domain_regex = re.compile(
        r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z",
        re.IGNORECASE,
    )
    literal_regex = re.compile(r"\[([A-F0-9:.]+)\]\Z", re.IGNORECASE)
    domain_allowlist: tuple[str, ...] = ("localhost",)

    def __init__(
        self,
        message: str | None = None,
        code: str | None = None,
        allowlist: Sequence[str] | None = None,
    ) -> None:
        self._remember(message=message, code=code, allowlist=allowlist)
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if allowlist is not None:
            self.domain_allowlist = tuple(allowlist)

    def __call__(self, value: Any) -> None:
        """Raise ``ValidationError`` unless ``value`` looks like an email address."""
        if not isinstance(value, str) or "@" not in value or len(value) > 320:
            raise ValidationError(self.message, code=self.code, params={"value": value})
        user_part, domain_part = value.rsplit("@", 1)
        if not self.user_regex.match(user_part):
            raise ValidationError(self.message, code=self.code, params={"value": value})
        if domain_part in self.domain_allowlist or self._valid_domain(domain_part):
            return
        raise ValidationError(self.message, code=self.code, params={"value": value})

    def _valid_domain(self, domain: str) -> bool:
        if self.domain_regex.match(domain):
            return True
        literal = self.literal_regex.match(domain)
        if literal is None:
            return False
        try:
            ipaddress.ip_address(literal[1])
        except ValueError:
            return False
        return True


validate_email = EmailValidator()


class URLValidator(RegexValidator):
    """Accept absolute URLs whose scheme is in ``schemes`` (http, https, ftp, ftps)."""

    message = "Enter a valid URL."
    regex = re.compile(
        r"^(?:[a-z0-9.+-]*)://"  # scheme, checked against self.schemes below
        r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"  # user:pass
        r"(?:"
        r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
        r"|\[[0-9a-f:.]+\]"  # IPv6 literal
        r"|(?:[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?"
        r"(?:\.(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-))*\.?)"
        r")"
        r"(?::[0-9]{1,5})?"  # port
        r"(?:[/?#][^\s]*)?"  # path, query, fragment
        r"\Z",
        re.IGNORECASE,
    )
    schemes: tuple[str, ...] = ("http", "https", "ftp", "ftps")

    def __init__(self, schemes: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if schemes is not None:
            self.schemes = tuple(schemes)
            self._kwargs["schemes"] = list(schemes)

    def __call__(self, value: Any) -> None:
        """Raise ``ValidationError`` unless ``value`` is a URL with an allowed scheme."""
        if not isinstance(value, str) or len(value) > 2048:
            raise ValidationError(self.message, code=self.code, params={"value": value})
        scheme = value.split("://", 1)[0].lower()
        if scheme not in self.schemes:
            raise ValidationError(self.message, code=self.code, params={"value": value})
        super().__call__(value)


def validate_ipv4_address(value: Any) -> None:
    """Raise ``ValidationError`` unless ``value`` is an IPv4 address."""
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValidationError(
            "Enter a valid IPv4 address.", code="invalid", params={"value": value}
        ) from None


def validate_ipv6_address(value: Any) -> None:
    """Raise ``ValidationError`` unless ``value`` is an IPv6 address."""
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        raise ValidationError(
            "Enter a valid IPv6 address.", code="invalid", params={"value": value}
        ) from None


def validate_ipv46_address(value: Any) -> None:
    """Raise ``ValidationError`` unless ``value`` is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(
            "Enter a valid IPv4 or IPv6 address.", code="invalid", params={"value": value}
        ) from None


class BaseValidator(_Deconstructible):
    """Compare a cleaned value against ``limit_value``; subclasses define the test."""

    message = "Ensure this value is %(limit_value)s (it is %(show_value)s)."
    code = "limit_value"

    def __init__(self, limit_value: Any, message: str | None = None) -> None:
        self._remember(limit_value, message=message)
        self.limit_value = limit_value
        if message is not None:
            self.message = message

    def __call__(self, value: Any) -> None:
        """Raise ``ValidationError`` when ``compare(clean(value), limit)`` holds."""
        cleaned = self.clean(value)
        limit = self.limit_value() if callable(self.limit_value) else self.limit_value
        if self.compare(cleaned, limit):
            params = {"limit_value": limit, "show_value": cleaned, "value": value}
            raise ValidationError(self.message, code=self.code, params=params)

    def compare(self, a: Any, b: Any) -> bool:
        """Return True when the value is invalid."""
        return bool(a is not b)

    def clean(self, x: Any) -> Any:
        """Return the quantity compared (the value itself, or its length)."""
        return x


class MaxValueValidator(BaseValidator):
    """Reject values greater than ``limit_value``."""

    message = "Ensure this value is less than or equal to %(limit_value)s."
    code = "max_value"

    def compare(self, a: Any, b: Any) -> bool:
        """Return True when ``a > b``."""
        return bool(a > b)


class MinValueValidator(BaseValidator):
    """Reject values less than ``limit_value``."""

    message = "Ensure this value is greater than or equal to %(limit_value)s."
    code = "min_value"

    def compare(self, a: Any, b: Any) -> bool:
        """Return True when ``a < b``."""
        return bool(a < b)


class MinLengthValidator(BaseValidator):
    """Reject values shorter than ``limit_value``."""

    message = "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d)."
    code = "min_length"

    def compare(self, a: Any, b: Any) -> bool:
        """Return True when ``a < b``."""
        return bool(a < b)

    def clean(self, x: Any) -> int:
        """Return ``len(x)``."""
        return len(x)


class MaxLengthValidator(BaseValidator):
    """Reject values longer than ``limit_value``."""

    message = "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d)."
    code = "max_length"

    def compare(self, a: Any, b: Any) -> bool:
        """Return True when ``a > b``."""
        return bool(a > b)

    def clean(self, x: Any) -> int:
        """Return ``len(x)``."""
        return len(x)


class DecimalValidator(_Deconstructible):
    """Reject decimals with more digits than ``max_digits`` or places than ``decimal_places``."""

    messages = {
        "invalid": "Enter a number.",
        "max_digits": "Ensure that there are no more than %(max)s digits in total.",
        "max_decimal_places": "Ensure that there are no more than %(max)s decimal places.",
        "max_whole_digits": (
            "Ensure that there are no more than %(max)s digits before the decimal point."
        ),
    }

    def __init__(self, max_digits: int | None, decimal_places: int | None) -> None:
        self._remember(max_digits, decimal_places)
        self.max_digits = max_digits
        self.decimal_places = decimal_places

    def __call__(self, value: Decimal) -> None:
        """Raise ``ValidationError`` when ``value`` does not fit the digit limits."""
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValidationError(self.messages["invalid"], code="invalid", params={"value": value})
        _sign, digit_tuple, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        if exponent >= 0:
            digits = len(digit_tuple) + exponent if digit_tuple != (0,) else 1
            decimals = 0
        else:
            digits = max(len(digit_tuple), -exponent)
            decimals = -exponent
        whole_digits = digits - decimals
        if self.max_digits is not None and digits > self.max_digits:
            raise ValidationError(
                self.messages["max_digits"], code="max_digits", params={"max": self.max_digits}
            )
        if self.decimal_places is not None and decimals > self.decimal_places:
            raise ValidationError(
                self.messages["max_decimal_places"],
                code="max_decimal_places",
                params={"max": self.decimal_places},
            )
        if (
            self.max_digits is not None
            and self.decimal_places is not None
            and whole_digits > self.max_digits - self.decimal_places
        ):
            limit = self.max_digits - self.decimal_places
            raise ValidationError(
                self.messages["max_whole_digits"], code="max_whole_digits", params={"max": limit}
            )
