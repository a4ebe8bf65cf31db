"""Number fields: integers of each width, their non-negative forms, floats, decimals."""

from __future__ import annotations

import decimal
import math
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.backends.base.types import ExactNumeric
from reinhardt_db.models import validators as v
from reinhardt_db.models.fields.base import _N, DbConverter, Field, FieldOptions

__all__ = [
    "BigIntegerField",
    "DecimalField",
    "FloatField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
]

_BINARY = (bytes, bytearray, memoryview)


class IntegerField(Field[int, _N]):
    """A 32-bit signed integer (``INTEGER``)."""

    empty_strings_allowed = False
    python_type = int
    description = "Integer"
    min_value: ClassVar[int] = -(2**31)
    max_value: ClassVar[int] = 2**31 - 1
    #: ``filter(n__lt=10**30)`` matches every row, NULLs too (Django 5's FullResultSet).
    beyond_range_matches_null: ClassVar[bool] = True

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``INTEGER`` on every backend."""
        return sa.Integer()

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [v.MinValueValidator(self.min_value), v.MaxValueValidator(self.max_value)]

    def value_range(self) -> tuple[Any, Any] | None:
        """Return ``(min_value, max_value)``: the same on every backend."""
        return self.min_value, self.max_value

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        # Inline: two comparisons per value on the write path.
        to_python = self.to_python
        low, high = self.min_value, self.max_value
        out_of_range = self._out_of_range

        def prep(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not int:
                value = to_python(value)
                if value is None:
                    return None
            if low <= value <= high:
                return value
            raise out_of_range(value)

        return prep

    def _out_of_range(self, value: int) -> Exception:
        return self.data_error(
            f"{value} is out of range for {type(self).__name__} "
            f"({self.min_value} to {self.max_value})"
        )

    def to_python(self, value: Any) -> int | None:
        """Coerce ``"42"``, ``42.0`` or ``Decimal("42")`` to ``42``; reject fractions."""
        if value is None or type(value) is int:
            return value
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, _BINARY):
            raise self.invalid(value, "an integer")
        if isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise self.invalid(value, "an integer")
            return int(value)
        if isinstance(value, Decimal):
            if not value.is_finite() or value != value.to_integral_value():
                raise self.invalid(value, "an integer")
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.invalid(value, "an integer") from None


class BigIntegerField(IntegerField[_N]):
    """A 64-bit signed integer (``BIGINT``)."""

    description = "Big (8 byte) integer"
    min_value = -(2**63)
    max_value = 2**63 - 1

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``BIGINT``."""
        return sa.BigInteger()


class SmallIntegerField(IntegerField[_N]):
    """A 16-bit signed integer (``SMALLINT``)."""

    description = "Small integer"
    min_value = -(2**15)
    max_value = 2**15 - 1

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``SMALLINT``."""
        return sa.SmallInteger()


class _PositiveMixin:
    """Non-negative integers: validated in Python and by ``CHECK (col >= 0)``."""

    min_value = 0

    def db_check(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool] | None:
        """Return ``column >= 0``."""
        return column >= 0


class PositiveIntegerField(_PositiveMixin, IntegerField[_N]):
    """An integer from 0 to 2**31 - 1."""

    description = "Positive integer"


class PositiveBigIntegerField(_PositiveMixin, BigIntegerField[_N]):
    """An integer from 0 to 2**63 - 1."""

    description = "Positive big integer"


class PositiveSmallIntegerField(_PositiveMixin, SmallIntegerField[_N]):
    """An integer from 0 to 32767."""

    description = "Positive small integer"


class FloatField(Field[float, _N]):
    """A double-precision float (``DOUBLE PRECISION`` / ``DOUBLE`` / ``REAL``)."""

    empty_strings_allowed = False
    python_type = float
    description = "Floating point number"

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return an 8-byte float type (MySQL's ``FLOAT`` would be 4 bytes)."""
        return sa.Double()

    def to_python(self, value: Any) -> float | None:
        """Coerce numbers and numeric strings to ``float``."""
        if value is None or type(value) is float:
            return value
        if isinstance(value, _BINARY):
            raise self.invalid(value, "a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise self.invalid(value, "a number") from None
        except OverflowError:
            raise self.invalid(value, "a number a double-precision float holds") from None

    def value_range(self) -> tuple[Any, Any] | None:
        """Return the finite doubles; NaN and infinity are stored nowhere."""
        return -sys.float_info.max, sys.float_info.max

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        to_python = self.to_python
        not_finite = self._not_finite

        def prep(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not float:
                value = to_python(value)
                if value is None:
                    return None
            # x - x is 0.0 for every finite x and NaN for NaN and +-infinity.
            if value - value:
                raise not_finite(value)
            return value

        return prep

    def _not_finite(self, value: float) -> Exception:
        return self.data_error(
            f"{value!r} is not a finite number; no backend stores NaN or infinity the same way "
            "(SQLite turns NaN into NULL, MySQL refuses both), so store None or a sentinel instead"
        )


class DecimalField(Field[Decimal, _N]):
    """An exact decimal with ``max_digits`` digits, ``decimal_places`` of them after the point.

    ``NUMERIC(p, s)`` on PostgreSQL and MySQL; exact decimal text on SQLite
    (``backends.base.types.ExactNumeric``), so every digit round-trips on every backend.
    """

    empty_strings_allowed = False
    python_type = Decimal
    description = "Decimal number"

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        super().__init__(verbose_name, **kwargs)

    def check_definition(self) -> None:
        """Require ``max_digits >= decimal_places >= 0``."""
        super().check_definition()
        example = "DecimalField(max_digits=10, decimal_places=2)"
        for option in ("max_digits", "decimal_places"):
            value = getattr(self, option)
            if value is None:
                self.fail(f"DecimalField requires {option}, e.g. {example}.")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.fail(f"{option} must be a non-negative integer, got {value!r}.")
        assert self.max_digits is not None and self.decimal_places is not None
        if self.max_digits < 1:
            self.fail("max_digits must be at least 1.")
        if self.decimal_places > self.max_digits:
            self.fail(
                f"decimal_places ({self.decimal_places}) must not exceed max_digits "
                f"({self.max_digits}); raise max_digits or lower decimal_places."
            )

    def _deconstruct_extra(self) -> dict[str, Any]:
        return {"max_digits": self.max_digits, "decimal_places": self.decimal_places}

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return [v.DecimalValidator(self.max_digits, self.decimal_places)]

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``NUMERIC(p, s)`` (``DECIMAL_TEXT(p, s)`` on SQLite)."""
        return ExactNumeric(self.max_digits or 0, self.decimal_places or 0, asdecimal=True)

    def to_python(self, value: Any) -> Decimal | None:
        """Coerce ints, floats (by their shortest repr) and strings to a finite ``Decimal``."""
        if value is None:
            return None
        if isinstance(value, float):
            value = repr(value)
        try:
            result = value if isinstance(value, Decimal) else Decimal(value)
        except (TypeError, ValueError, decimal.InvalidOperation):
            raise self.invalid(value, "a decimal number") from None
        if not result.is_finite():
            raise self.invalid(value, "a finite decimal number")
        return result

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the backend's adapter (exact text on SQLite; the drivers take ``Decimal``)."""
        return ops.decimal_adapter(self.max_digits or 0, self.decimal_places or 0)

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        check = self.db_value_check(ops)
        assert check is not None
        adapt = ops.decimal_adapter(self.max_digits or 0, self.decimal_places or 0, rounded=True)
        to_python = self.to_python

        def prep(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not Decimal:
                value = to_python(value)
                if value is None:
                    return None
            value = check(value)
            return value if adapt is None else adapt(value)

        return prep

    def value_range(self) -> tuple[Any, Any] | None:
        """Return +- the largest value ``NUMERIC(max_digits, decimal_places)`` holds."""
        places = self.decimal_places or 0
        whole = (self.max_digits or 0) - places
        highest = Decimal(10) ** whole - Decimal(1).scaleb(-places)
        return -highest, highest

    def db_value_check(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Round to ``decimal_places`` (half to even, as Django); refuse more than ``max_digits``.

        Every backend then stores the same digits: none rounds again, and a
        value too large is ``DataError`` instead of SQLite keeping it as text.
        """
        max_digits = self.max_digits or 0
        places = self.decimal_places or 0
        exponent = Decimal(1).scaleb(-places)
        context = decimal.Context(prec=max_digits, rounding=decimal.ROUND_HALF_EVEN,
                                  traps=[decimal.InvalidOperation])
        quantize = Decimal.quantize
        too_many = self._too_many_digits

        to_python = self.to_python

        def check(value: Decimal) -> Decimal:
            try:
                rounded = quantize(value, exponent, context=context)
            except decimal.InvalidOperation:
                if not value.is_finite():
                    to_python(value)  # ValidationError: NaN and infinity are no decimals
                raise too_many(value) from None
            if not rounded.is_finite():  # a quiet NaN or infinity quantizes to itself
                to_python(value)
            # -0.00 and 0.00 are one number; keep one spelling (SQLite compares text).
            return rounded if rounded else rounded.copy_abs()

        return check

    def _too_many_digits(self, value: Decimal) -> Exception:
        whole = (self.max_digits or 0) - (self.decimal_places or 0)
        return self.data_error(
            f"{value} has more than {whole} digit(s) before the decimal point once rounded to "
            f"{self.decimal_places} place(s) (max_digits={self.max_digits}, "
            f"decimal_places={self.decimal_places})"
        )

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (text -> ``Decimal`` on SQLite)."""
        return ops.decimal_converter()
