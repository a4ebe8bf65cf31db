"""``CompositePrimaryKey``: a primary key made of several concrete fields."""

from __future__ import annotations

from typing import Any, overload

from reinhardt_db.exceptions import FieldError

__all__ = ["CompositePrimaryKey"]


class CompositePrimaryKey:
    """Declare ``pk = CompositePrimaryKey("order_id", "line_no")`` on a model.

    It has no column of its own: ``_meta.pk`` is this object, ``.fields`` the
    component fields in order, and ``instance.pk`` a tuple of their values.
    """

    primary_key = True
    is_relation = False
    concrete = False
    is_auto = False
    name = "pk"
    attname = "pk"

    def __init__(self, *field_names: str) -> None:
        if len(field_names) < 2:
            raise FieldError(
                "CompositePrimaryKey needs at least two field names, e.g. "
                "CompositePrimaryKey('order_id', 'line_no'); for one field use primary_key=True."
            )
        if len(set(field_names)) != len(field_names):
            raise FieldError(f"CompositePrimaryKey{field_names!r} names a field twice.")
        for field_name in field_names:
            if not isinstance(field_name, str):
                raise FieldError(
                    f"CompositePrimaryKey takes field names, got {field_name!r}."
                )
        self.field_names: tuple[str, ...] = field_names
        self.fields: tuple[Any, ...] = ()
        self.model: Any = None

    def __repr__(self) -> str:
        names = ", ".join(repr(n) for n in self.field_names)
        return f"CompositePrimaryKey({names})"

    # Never reached at run time (the metaclass takes the key off the class, leaving
    # Model.pk); they tell type checkers that instance.pk is a tuple.
    @overload
    def __get__(self, instance: None, owner: type[Any]) -> CompositePrimaryKey: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> tuple[Any, ...]: ...

    def __get__(self, instance: object | None, owner: type[Any]) -> Any:
        return self

    def __set__(self, instance: object, value: tuple[Any, ...]) -> None:
        raise AttributeError("CompositePrimaryKey is replaced by Model.pk on model classes.")

    @property
    def columns(self) -> tuple[str, ...]:
        """The component columns, in order."""
        return tuple(f.column for f in self.fields)

    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        """Resolve the component fields of ``cls`` and become its ``_meta.pk``."""
        label = f"{cls.__name__}.{name}"
        if name != "pk":
            raise FieldError(f"{label}: a CompositePrimaryKey must be declared as 'pk = ...'.")
        fields = []
        for field_name in self.field_names:
            try:
                field = cls._meta.get_field(field_name)
            except FieldError as exc:
                raise FieldError(f"{label}: {exc}") from None
            if field.null:
                raise FieldError(
                    f"{label}: primary key component '{field_name}' cannot be null; "
                    "remove null=True."
                )
            if field.primary_key:
                raise FieldError(
                    f"{label}: '{field_name}' sets primary_key=True but the model also "
                    "declares a CompositePrimaryKey; remove primary_key=True from the field."
                )
            fields.append(field)
        self.fields = tuple(fields)
        self.model = cls

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        """Return ``(name, import path, args, kwargs)`` that rebuild this key."""
        return "pk", "reinhardt_db.models.CompositePrimaryKey", list(self.field_names), {}
