"""The ``Field`` base class: options, descriptor protocol, validation, conversion.

A field is a *non-data descriptor* that is normally not on the class: an
instance keeps its value in ``instance.__dict__[field.attname]``, so reading
``user.age`` never runs Python code, and with no class attribute under that name
CPython specialises the stores that fill instances. ``__get__`` runs on class
access (through ``ModelBase.__getattr__``), where it returns a ``FieldRef`` for
building query expressions (``User.age >= 18``), and, once a query deferred the
field (``only()``/``defer()``, which install it on the class), when an instance's
value is missing.

Conversion between Python values and what each driver speaks belongs to the
backend: a field asks the backend's operations (``db.ops``, a
``DatabaseOperations``) for the adapter or converter of its kind of value and
caches what it gets per operations class. Where a method below takes ``ops``,
a vendor name (``"sqlite"``, ``"postgresql"``, ``"mysql"``) works too.

* ``get_db_prep_value(value, ops)``: Python value -> driver parameter
  (``get_db_prep_func(ops)`` returns the same as a cached callable);
* ``get_db_converter(ops)``: driver value -> Python value, or ``None`` when
  the driver already returns the right type (the row loop then does nothing);
* ``sa_type(ops=None)``: the SQLAlchemy column type for that backend, or with
  every backend's variant.

Subclasses implement the hooks ``column_type()`` (the portable type),
``db_adapter(ops)`` and ``db_converter(ops)``.

Typing: ``Field[T, N]`` holds values of type ``T``; ``N`` is ``Literal[True]`` when
the field was declared with ``null=True`` (inferred from that argument), so
``user.age`` type-checks as ``int`` for ``IntegerField()`` and ``int | None`` for
``IntegerField(null=True)``. ``Mapped[T]`` is the annotation for models whose
constructors type checkers should check (see docs/models.md, "Typing").
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypedDict, overload

import sqlalchemy as sa
from typing_extensions import TypeVar

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.backends.vendors import all_operations, operations_for
from reinhardt_db.exceptions import DataError, FieldError, ValidationError
from reinhardt_db.models.query_utils import RegisterLookupMixin

if TYPE_CHECKING:
    from reinhardt_db.models.expressions import FieldRef

__all__ = [
    "DATABASE_DEFAULT",
    "NOT_PROVIDED",
    "DatabaseDefault",
    "DbConverter",
    "Field",
    "FieldOptions",
    "Mapped",
    "OpsLike",
]

_T = TypeVar("_T")
_V = TypeVar("_V")
# Literal[True] for null=True. Inferred from the `null` argument; Literal[False] when
# it is left out. Invariant: were it covariant, a Field[int, Literal[False]] would
# also match the `__set__` overload for `null` given as a plain bool, taking None.
_N = TypeVar("_N", bound=Literal[True, False], default=Literal[False])
# The same for FieldOptions, whose bare form keeps accepting any `null`.
_NO = TypeVar("_NO", bound=Literal[True, False], default=bool)
DbConverter = Callable[[Any], Any]
#: A backend's operations, or its vendor name.
OpsLike = DatabaseOperations | str
EMPTY_VALUES: tuple[Any, ...] = (None, "", [], (), {})


class NOT_PROVIDED:
    """Sentinel: an option (``default``, ``db_default``) was not given."""


class DatabaseDefault:
    """Marker value of a field the database fills from ``db_default`` on insert.

    ``Field.get_default()`` returns ``DATABASE_DEFAULT`` for a field that has a
    ``db_default`` and no ``default``; the persistence layer leaves such fields
    out of the INSERT and reads them back (``_meta.db_returning_fields``).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "DATABASE_DEFAULT"

    def __reduce__(self) -> str:
        return "DATABASE_DEFAULT"


DATABASE_DEFAULT = DatabaseDefault()


class FieldOptions(TypedDict, Generic[_NO], total=False):
    """The options every field accepts (see ``Field.__init__``).

    Subclasses that add options take ``**kwargs: Unpack[FieldOptions[_N]]`` so that
    ``null=True`` still reaches the nullability type parameter.
    """

    primary_key: bool
    null: _NO
    blank: bool
    default: Any
    unique: bool
    db_index: bool
    db_column: str | None
    db_default: Any
    choices: Any
    validators: Sequence[Callable[[Any], None]]
    editable: bool
    help_text: str
    db_comment: str | None
    error_messages: dict[str, str] | None
    auto_created: bool


class Field(RegisterLookupMixin, Generic[_T, _N]):
    """Base class of every model field.

    ``_T`` is the Python type of its values, ``_N`` ``Literal[True]`` for a field
    declared with ``null=True`` (then instances read as ``_T | None``).
    """

    empty_strings_allowed: ClassVar[bool] = True
    python_type: ClassVar[type | None] = None
    default_validators: ClassVar[list[Callable[[Any], None]]] = []
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid_choice": "Value %(value)r is not a valid choice.",
        "null": "This field cannot be null.",
        "blank": "This field cannot be blank.",
        "unique": "%(model_name)s with this %(field_label)s already exists.",
    }
    description: ClassVar[str] = "Field"
    # Relation flags, ready for ForeignKey & co.
    is_relation: ClassVar[bool] = False
    many_to_many: ClassVar[bool] = False
    many_to_one: ClassVar[bool] = False
    one_to_many: ClassVar[bool] = False
    one_to_one: ClassVar[bool] = False
    concrete: ClassVar[bool] = True
    is_auto: ClassVar[bool] = False
    remote_field: Any = None

    _counter = itertools.count()

    name: str
    attname: str
    column: str
    model: Any
    null: bool

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        primary_key: bool = False,
        null: _N = False,  # type: ignore[assignment]  # the literal False is what _N defaults to
        blank: bool = False,
        default: Any = NOT_PROVIDED,
        unique: bool = False,
        db_index: bool = False,
        db_column: str | None = None,
        db_default: Any = NOT_PROVIDED,
        choices: Any = None,
        validators: Sequence[Callable[[Any], None]] = (),
        editable: bool = True,
        help_text: str = "",
        db_comment: str | None = None,
        error_messages: dict[str, str] | None = None,
        max_length: int | None = None,
        auto_created: bool = False,
    ) -> None:
        self.verbose_name = verbose_name
        self.primary_key = primary_key
        self.null = null
        self.blank = blank
        self.default = default
        self.unique = unique or primary_key
        self.db_index = db_index
        self.db_column = db_column
        self.db_default = db_default
        self.choices = _normalize_choices(choices)
        self._validators = list(validators)
        self.editable = editable
        self.help_text = help_text
        self.db_comment = db_comment
        self.max_length = max_length
        self.auto_created = auto_created
        self.auto_now = False
        self.auto_now_add = False
        self.error_messages: dict[str, str] = {}
        for klass in reversed(type(self).__mro__):
            self.error_messages.update(getattr(klass, "default_error_messages", {}))
        self.error_messages.update(error_messages or {})
        self.creation_counter = next(Field._counter)
        self.model = None
        self.name = self.attname = self.column = ""
        # Keyed by operations class (None: every backend's variant).
        self._prep_funcs: dict[type, Callable[[Any], Any]] = {}
        self._save_funcs: dict[type, Callable[[Any], Any]] = {}
        self._converters: dict[type, DbConverter | None] = {}
        self._sa_types: dict[type | None, sa.types.TypeEngine[Any]] = {}
        self._get_default = self._make_default_getter()

    # -- identity -----------------------------------------------------------------

    def __repr__(self) -> str:
        path = f"{type(self).__module__}.{type(self).__qualname__}"
        return f"<{path}: {self.name}>" if self.name else f"<{path}>"

    def __str__(self) -> str:
        if self.model is None:
            return self.name or type(self).__name__
        return f"{self.model._meta.label}.{self.name}"

    @property
    def label(self) -> str:
        """``Model.field``, used in error messages."""
        model_name = self.model.__name__ if self.model is not None else "<unbound>"
        return f"{model_name}.{self.name}"

    # -- class creation -----------------------------------------------------------

    def set_attributes_from_name(self, name: str) -> None:
        """Set ``name``, ``attname``, ``column`` and a default ``verbose_name``."""
        self.name = name
        self.attname = self.get_attname()
        self.column = self.db_column or self.attname
        if self.verbose_name is None:
            self.verbose_name = name.replace("_", " ")

    def get_attname(self) -> str:
        """Return the key of this field's value in ``instance.__dict__``."""
        return self.name

    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        """Bind this field to model ``cls`` under ``name`` and check its definition."""
        self.set_attributes_from_name(name)
        self.model = cls
        self.check_definition()
        # Not set on the class: a class attribute under the value's name keeps
        # CPython from specialising the row readers' stores to it. Class access
        # (``User.age``) reaches the field through ``ModelBase.__getattr__``, and a
        # deferred load installs it (``expose_deferred``) so reading the missing
        # value raises the FieldError below.
        cls._meta.add_field(self)
        if self.choices is not None and f"get_{name}_display" not in cls.__dict__:
            setattr(cls, f"get_{name}_display", _display_getter(self))

    def check_definition(self) -> None:
        """Raise ``FieldError`` naming ``Model.field`` and the fix for a bad definition."""
        if "__" in self.name:
            self.fail(f"field names must not contain '__' (lookup separator); rename "
                      f"'{self.name}', e.g. to '{self.name.replace('__', '_')}'.")
        if self.name.endswith("_"):
            self.fail(f"field names must not end with an underscore; rename '{self.name}'.")
        if self.name == "pk":
            self.fail("'pk' is reserved for the primary key; name the field e.g. 'id' "
                      "and pass primary_key=True.")
        if self.primary_key and self.null:
            self.fail("a primary key cannot be null; remove null=True.")
        if self.max_length is not None and (
            not isinstance(self.max_length, int) or isinstance(self.max_length, bool)
            or self.max_length <= 0
        ):
            self.fail(f"max_length must be a positive integer, got {self.max_length!r}.")
        if self.db_default is not NOT_PROVIDED and callable(self.db_default) and not isinstance(
            self.db_default, sa.sql.ClauseElement
        ):
            self.fail("db_default must be a literal value or an SQL expression, not a "
                      "Python callable; use default= for values computed in Python.")

    def fail(self, message: str) -> None:
        """Raise ``FieldError`` about this field's definition."""
        raise FieldError(f"{self.label}: {message}")

    def clone(self) -> Field[_T, _N]:
        """Return an unbound copy (used to give each subclass its own inherited field)."""
        new = copy.copy(self)
        new._validators = list(self._validators)
        new._prep_funcs = {}
        new._save_funcs = {}
        new._converters = {}
        new._sa_types = {}
        new.model = None
        return new

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        """Return ``(name, import path, args, kwargs)`` that rebuild this field."""
        defaults: dict[str, Any] = {
            "verbose_name": None, "primary_key": False, "null": False, "blank": False,
            "default": NOT_PROVIDED, "unique": False, "db_index": False, "db_column": None,
            "db_default": NOT_PROVIDED, "choices": None, "editable": True, "help_text": "",
            "db_comment": None, "max_length": None,
        }
        kwargs: dict[str, Any] = {}
        for key, default in defaults.items():
            value = getattr(self, key)
            if key == "unique" and self.primary_key:
                continue
            if key == "verbose_name" and value == self.name.replace("_", " "):
                continue
            if value is not default and value != default:
                kwargs[key] = value
        if self._validators:
            kwargs["validators"] = list(self._validators)
        kwargs.update(self._deconstruct_extra())
        return self.name, f"reinhardt_db.models.{type(self).__name__}", [], kwargs

    def _deconstruct_extra(self) -> dict[str, Any]:
        return {}

    # -- descriptor ---------------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> FieldRef: ...

    @overload
    def __get__(self: Field[_V, Literal[False]], instance: object, owner: type[Any]) -> _V: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> _T | None: ...

    def __get__(self, instance: object | None, owner: type[Any]) -> Any:
        if instance is None:
            from reinhardt_db.models.expressions import FieldRef

            return FieldRef(owner, self.name)
        raise FieldError(
            f"{type(instance).__name__}.{self.name} was deferred and is not loaded. "
            f"Load it with 'await obj.refresh_from_db(fields=[\"{self.name}\"])', or drop "
            f"'{self.name}' from defer()/add it to only()."
        )

    if TYPE_CHECKING:
        # Typing only: a field stays a non-data descriptor at run time (reads never
        # call Python code). This types `obj.field = value` and lets a field be
        # assigned to a `Mapped[...]` annotation.
        @overload
        def __set__(self: Field[_V, Literal[False]], instance: object, value: _V) -> None: ...

        @overload
        def __set__(
            self: Field[_V, Literal[True]], instance: object, value: _V | None
        ) -> None: ...

        @overload
        def __set__(self: Field[_V, bool], instance: object, value: _V | None) -> None: ...

        def __set__(self, instance: object, value: Any) -> None: ...

    # -- defaults -----------------------------------------------------------------

    def has_default(self) -> bool:
        """Return whether a Python-side ``default`` was given."""
        return self.default is not NOT_PROVIDED

    def has_db_default(self) -> bool:
        """Return whether a database-side ``db_default`` was given."""
        return self.db_default is not NOT_PROVIDED

    def get_default(self) -> Any:
        """Return the value a new instance gets when none is passed."""
        return self._get_default()

    def _make_default_getter(self) -> Callable[[], Any]:
        default = self.default
        if default is NOT_PROVIDED:
            if self.db_default is not NOT_PROVIDED:
                return lambda: DATABASE_DEFAULT
            if not self.empty_strings_allowed or self.null:
                return lambda: None
            return lambda: ""
        if callable(default):
            return default
        if isinstance(default, (dict, list, set)):
            # A fresh copy per instance: mutating one row's value never leaks into others.
            return lambda: copy.deepcopy(default)
        return lambda: default

    def pre_save(self, instance: Any, add: bool) -> Any:
        """Return the value to save for ``instance`` (hook for ``auto_now`` & co)."""
        return getattr(instance, self.attname)

    # -- validation ---------------------------------------------------------------

    @property
    def validators(self) -> list[Callable[[Any], None]]:
        """Built-in validators of the field type plus the ones passed in."""
        return [*self.default_validators, *self._builtin_validators(), *self._validators]

    def _builtin_validators(self) -> list[Callable[[Any], None]]:
        return []

    @property
    def flatchoices(self) -> list[tuple[Any, str]]:
        """Choices with option groups flattened."""
        if self.choices is None:
            return []
        flat: list[tuple[Any, str]] = []
        for value, label in self.choices:
            if isinstance(label, (list, tuple)):
                flat.extend(label)
            else:
                flat.append((value, label))
        return flat

    def to_python(self, value: Any) -> Any:
        """Coerce user input to this field's Python type; raise ``ValidationError``."""
        return value

    def invalid(self, value: Any, expected: str, code: str = "invalid") -> ValidationError:
        """Build the ``ValidationError`` for a value ``to_python`` cannot coerce."""
        return ValidationError(
            f"{self.label}: expected {expected}, got %(value)r.",
            code=code,
            params={"value": value},
        )

    def validate(self, value: Any, instance: Any) -> None:
        """Check ``value`` against choices, ``null`` and ``blank``."""
        if not self.editable:
            return
        if self.choices is not None and value not in EMPTY_VALUES:
            if not any(value == choice for choice, _ in self.flatchoices):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice",
                    params={"value": value},
                )
        if value is None and not self.null:
            raise ValidationError(self.error_messages["null"], code="null")
        if not self.blank and value in EMPTY_VALUES:
            raise ValidationError(self.error_messages["blank"], code="blank")

    def run_validators(self, value: Any) -> None:
        """Run every validator; raise one ``ValidationError`` listing all failures."""
        if value in EMPTY_VALUES:
            return
        errors: list[ValidationError] = []
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as exc:
                if exc.code in self.error_messages:
                    exc = ValidationError(
                        self.error_messages[exc.code], code=exc.code, params=exc.params
                    )
                errors.append(exc)
        if errors:
            raise ValidationError(errors)

    def clean(self, value: Any, instance: Any) -> Any:
        """Convert, validate and run validators; return the cleaned value."""
        value = self.to_python(value)
        self.validate(value, instance)
        self.run_validators(value)
        return value

    # -- database types and conversion --------------------------------------------

    def get_internal_type(self) -> str:
        """Return the field's type name (the class name for built-in fields)."""
        return type(self).__name__

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return the portable SQLAlchemy column type (backends may override it per class)."""
        raise NotImplementedError(f"{type(self).__name__} does not define its column type.")

    def sa_type(self, ops: OpsLike | None = None) -> sa.types.TypeEngine[Any]:
        """Return the SQLAlchemy type: for backend ``ops``, or with every backend's variant."""
        backend = None if ops is None else operations_for(ops)
        key = None if backend is None else type(backend)
        cached = self._sa_types.get(key)
        if cached is not None:
            return cached
        portable = self.column_type()
        if backend is not None:
            result = backend.column_type(self) or portable
        else:
            result = portable
            for other in all_operations():
                variant = other.column_type(self)
                if variant is not None:
                    result = result.with_variant(variant, *other.dialect_names)
        self._sa_types[key] = result
        return result

    def db_check(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool] | None:
        """Return a CHECK condition the column always carries (e.g. ``col >= 0``), or None."""
        return None

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the function turning a clean Python value into the driver's, or None."""
        return None

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the driver value -> Python value function for ``ops``, or None (hook)."""
        return None

    def get_db_converter(self, ops: OpsLike) -> DbConverter | None:
        """Return the cached driver value -> Python value function, or None when not needed.

        The function is never called with ``None``; the row loop skips NULLs.
        """
        backend = operations_for(ops)
        key = type(backend)
        try:
            return self._converters[key]
        except KeyError:
            converter = self._converters[key] = self.db_converter(backend)
            return converter

    def get_db_prep_func(self, ops: OpsLike) -> Callable[[Any], Any]:
        """Return a cached ``value -> driver value`` function (``None`` stays ``None``)."""
        backend = operations_for(ops)
        func = self._prep_funcs.get(type(backend))
        if func is None:
            func = self._prep_funcs[type(backend)] = self._build_prep_func(backend)
        return func

    def get_db_prep_value(self, value: Any, ops: OpsLike) -> Any:
        """Return ``value`` as the backend's driver accepts it; coerce via ``to_python``."""
        return self.get_db_prep_func(ops)(value)

    def _build_prep_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        to_python = self.to_python
        py_type = self.python_type
        adapt = self.db_adapter(ops)
        if adapt is None:

            def prep(value: Any) -> Any:
                if value is None or type(value) is py_type:
                    return value
                return to_python(value)

            if py_type is not None:
                # Read by sql.cache._run: values of this type (or None) pass as they are.
                prep.keeps_type = py_type  # type: ignore[attr-defined]
            return prep

        def prep_adapt(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not py_type:
                value = to_python(value)
                if value is None:
                    return None
            return adapt(value)

        return prep_adapt

    # -- writes: stored exactly or refused ------------------------------------------
    def get_db_prep_save_func(self, ops: OpsLike) -> Callable[[Any], Any]:
        """Return a cached ``value -> driver value`` function for values being written.

        Like :meth:`get_db_prep_func`, and a value the column cannot hold exactly
        on that backend (too long, out of range, NaN, a NUL character ...) raises
        ``DataError`` naming the field instead of reaching the driver, which
        would refuse it on one backend and store it altered on another.
        """
        backend = operations_for(ops)
        func = self._save_funcs.get(type(backend))
        if func is None:
            func = self._save_funcs[type(backend)] = self._build_save_func(backend)
        return func

    def get_db_prep_save(self, value: Any, ops: OpsLike) -> Any:
        """Return ``value`` as the driver takes it for a write (``DataError`` if it cannot be)."""
        return self.get_db_prep_save_func(ops)(value)

    def db_value_check(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the write-time check of a clean value, or None when every value fits (hook).

        The function receives the value ``to_python`` returned, raises
        ``DataError`` (see :meth:`data_error`) when the column cannot hold it
        exactly, and returns the value to adapt (a Decimal rounded to its places).
        """
        return None

    def data_error(self, problem: str) -> DataError:
        """Build the ``DataError`` for a value this field's column cannot hold."""
        return DataError(f"{self.label}: {problem}")

    def value_range(self) -> tuple[Any, Any] | None:
        """Return the inclusive ``(lowest, highest)`` value stored on every backend, or None.

        Filters compare with it: an exact match with a value outside finds
        nothing, ``lt`` with a value above finds every row (Django 5's rule),
        and the value never reaches a driver that cannot encode it.
        """
        return None

    def _build_save_func(self, ops: DatabaseOperations) -> Callable[[Any], Any]:
        check = self.db_value_check(ops)
        if check is None:
            return self.get_db_prep_func(ops)
        to_python = self.to_python
        py_type = self.python_type
        adapt = self.db_adapter(ops)
        if adapt is None:

            def prep_check(value: Any) -> Any:
                if value is None:
                    return None
                if type(value) is not py_type:
                    value = to_python(value)
                    if value is None:
                        return None
                return check(value)

            return prep_check

        def prep_check_adapt(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not py_type:
                value = to_python(value)
                if value is None:
                    return None
            return adapt(check(value))

        return prep_check_adapt


class Mapped(Protocol[_T]):
    """Annotation of a model field whose constructor keyword type checkers should check.

    A model whose fields are all annotated with ``Mapped[...]`` gets an
    ``__init__`` signature from ``typing.dataclass_transform``: unknown keywords
    and values of the wrong type are type errors, every field stays optional::

        class User(models.Model):
            username: models.Mapped[str] = models.CharField(max_length=50)
            age: models.Mapped[int | None] = models.IntegerField(null=True)

    The annotation must agree with the field (``Mapped[int]`` on an
    ``IntegerField(null=True)`` is an error). Typing only; nothing changes at run time.
    """

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> FieldRef: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> _T: ...

    def __set__(self, instance: Any, value: _T) -> None: ...


def _normalize_choices(choices: Any) -> list[tuple[Any, Any]] | None:
    if choices is None:
        return None
    if isinstance(choices, type) and hasattr(choices, "choices"):
        choices = choices.choices
    elif callable(choices):
        choices = choices()
    if isinstance(choices, dict):
        choices = list(choices.items())
    normalized: list[tuple[Any, Any]] = []
    for item in choices:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise FieldError(
                f"choices must be (value, label) pairs or a Choices enum, got {item!r}."
            )
        value, label = item
        if isinstance(label, dict):
            label = list(label.items())
        normalized.append((value, label))
    return normalized


def _display_getter(field: Field[Any, Any]) -> Callable[[Any], Any]:
    def get_display(self: Any) -> Any:
        value = getattr(self, field.attname)
        for choice, label in field.flatchoices:
            if choice == value:
                return label
        return value

    get_display.__doc__ = f"Return the label of the current '{field.name}' choice."
    return get_display
