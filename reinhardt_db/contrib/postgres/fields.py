"""``ArrayField``: a list of values of one field type, in a PostgreSQL array column."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.backends.base.types import ArrayColumn
from reinhardt_db.contrib.postgres.lookups import (
    ARRAY_FIELD_LOOKUPS,
    IndexTransform,
    SliceTransform,
)
from reinhardt_db.exceptions import DataError, ValidationError
from reinhardt_db.models.fields.base import _N, DbConverter, Field, FieldOptions

__all__ = ["ArrayField"]

_E = TypeVar("_E")
_SLICE = re.compile(r"([0-9]+)_([0-9]+)")


class ArrayField(Field[list[_E], _N]):
    """A list of ``base_field`` values: ``base_type[]`` on PostgreSQL (Django's ArrayField).

    ``size`` is the most elements a value may hold (checked by ``full_clean()``
    and on save). Each element goes through ``base_field``: conversion,
    validation and what is written (``ArrayField(DecimalField(...))`` rounds
    each element to its places). ``None`` elements need ``base_field`` with
    ``null=True``. Nest ArrayFields for multi-dimensional arrays (their
    sub-lists must all have the same length). The default must be a callable
    (``default=list``), never a list shared by every instance.

    Lookups: ``contains``, ``contained_by``, ``overlap``, ``len``, an index
    (``tags__0``), a slice (``tags__0_2``), ``exact`` with a list, ``isnull``.
    PostgreSQL only: other backends raise ``NotSupportedError``.
    """

    empty_strings_allowed = False
    python_type = list
    description = "Array"
    default_error_messages: ClassVar[dict[str, str]] = {
        "item_invalid": "Item %(nth)s in the array did not validate: %(error)s",
        "nested_array_mismatch": "Nested arrays must have the same length.",
        "size": "List contains %(count)s items, it should contain no more than %(size)s.",
    }

    def __init__(
        self,
        base_field: Field[_E, Any],
        size: int | None = None,
        *,
        verbose_name: str | None = None,
        **options: Unpack[FieldOptions[_N]],
    ) -> None:
        if not isinstance(base_field, Field):
            raise TypeError(
                f"ArrayField needs a field instance as its base field, e.g. "
                f"ArrayField(models.CharField(max_length=20)); got {base_field!r}."
            )
        self.base_field: Field[_E, Any] = base_field
        self.size = size
        super().__init__(verbose_name, **options)

    # -- definition -------------------------------------------------------------------
    def check_definition(self) -> None:
        """Also check ``base_field``, ``size`` and ``default``."""
        super().check_definition()
        base = self.base_field
        if base.is_relation or base.many_to_many:
            self.fail("the base field cannot be a relation (ForeignKey, ManyToManyField ...); "
                      "store the keys in an ArrayField of their type instead.")
        if base.primary_key or base.unique:
            self.fail("the base field cannot be a primary key or unique; put those options "
                      "on the ArrayField itself.")
        if self.size is not None and (
            not isinstance(self.size, int) or isinstance(self.size, bool) or self.size <= 0
        ):
            self.fail(f"size must be a positive integer or None, got {self.size!r}.")
        if isinstance(self.default, (list, tuple, set, dict)):
            self.fail(f"default must be a callable (default=list), not the {self.default!r} "
                      "instance shared by every model instance; use default=list, or a "
                      "function returning a new list.")

    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        """Bind the field, and its base field for error messages naming ``Model.field``."""
        super().contribute_to_class(cls, name)
        base: Field[Any, Any] = self.base_field
        while True:  # nested ArrayFields: every level names the model's field
            base.set_attributes_from_name(name)
            base.model = cls
            if not isinstance(base, ArrayField):
                break
            base = base.base_field

    def clone(self) -> ArrayField[_E, _N]:
        """Return an unbound copy with its own copy of the base field."""
        new = super().clone()
        assert isinstance(new, ArrayField)
        new.base_field = self.base_field.clone()
        return new

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        """Return ``ArrayField(base_field, size=...)`` (the base field unbound)."""
        name, _path, args, kwargs = super().deconstruct()
        _n, _p, base_args, base_kwargs = self.base_field.deconstruct()
        base = type(self.base_field)(*base_args, **base_kwargs)
        if self.size is not None:
            kwargs = {"size": self.size, **kwargs}
        return name, "reinhardt_db.contrib.postgres.ArrayField", [base, *args], kwargs

    def dynamic_transform(self, name: str) -> tuple[type[Any], tuple[Any, ...], Any] | None:
        """Return ``(transform, args, output field)`` for ``tags__0`` / ``tags__0_2``, or None."""
        if name.isascii() and name.isdigit():
            return IndexTransform, (int(name),), self.base_field
        match = _SLICE.fullmatch(name)
        if match is not None:
            return SliceTransform, (int(match[1]), int(match[2])), self
        return None

    # -- Python values ------------------------------------------------------------------
    def to_python(self, value: Any) -> list[Any] | None:
        """Coerce a list or tuple, each element through the base field's ``to_python``."""
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise self.invalid(value, "a list")
        base = self.base_field
        return [None if item is None else base.to_python(item) for item in value]

    def validate(self, value: Any, instance: Any) -> None:
        """Check the list, its size, then each element with the base field."""
        super().validate(value, instance)
        if value is None:
            return
        if self.size is not None and len(value) > self.size:
            raise ValidationError(
                self.error_messages["size"], code="size",
                params={"count": len(value), "size": self.size},
            )
        base = self.base_field
        for index, item in enumerate(value):
            if item is None and base.null:
                continue  # allowed by null=True alone: a None element is no blank value
            try:
                base.validate(item, instance)
            except ValidationError as error:
                raise self._item_error(index, error) from error
        if isinstance(self.base_field, ArrayField) and len({len(item) for item in value}) > 1:
            raise ValidationError(
                self.error_messages["nested_array_mismatch"], code="nested_array_mismatch"
            )

    def run_validators(self, value: Any) -> None:
        """Run this field's validators, then the base field's on each element."""
        super().run_validators(value)
        if not isinstance(value, list):
            return
        for index, item in enumerate(value):
            try:
                self.base_field.run_validators(item)
            except ValidationError as error:
                raise self._item_error(index, error) from error

    def _item_error(self, index: int, error: ValidationError) -> ValidationError:
        return ValidationError(
            self.error_messages["item_invalid"], code="item_invalid",
            params={"nth": index, "error": error.message},
        )

    # -- database -------------------------------------------------------------------------
    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return a type only backends with arrays compile (PostgreSQL: ``base[]``)."""
        return ArrayColumn(self.label)

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return each element through the base field's converter (None when it has none)."""
        ops.check_array_support(self.label)
        convert = self.base_field.get_db_converter(ops)
        if convert is None:
            return None
        return lambda value: [None if item is None else convert(item) for item in value]

    def _build_prep_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        ops.check_array_support(self.label)
        prep_item = self.base_field.get_db_prep_func(ops)
        invalid = self.invalid

        def prep(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, (list, tuple)):
                raise invalid(value, "a list")
            return [prep_item(item) for item in value]

        return prep

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        ops.check_array_support(self.label)
        save_item = self.base_field.get_db_prep_save_func(ops)
        size = self.size
        null_items = self.base_field.null
        nested = isinstance(self.base_field, ArrayField)
        invalid, data_error = self.invalid, self.data_error

        def prep(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, (list, tuple)):
                raise invalid(value, "a list")
            if size is not None and len(value) > size:
                raise data_error(f"the list has {len(value)} items, more than size={size}")
            saved = []
            for index, item in enumerate(value):
                if item is None and not null_items:
                    raise data_error(
                        f"item {index} is None; pass null=True to the base field to allow "
                        "None elements"
                    )
                try:
                    saved.append(save_item(item))
                except (DataError, ValidationError) as error:
                    raise data_error(f"item {index}: {error}") from error
            if nested and len({len(item) for item in saved if item is not None}) > 1:
                raise data_error("nested lists must all have the same length")
            return saved

        return prep


for _lookup in ARRAY_FIELD_LOOKUPS:
    ArrayField.register_lookup(_lookup)
