"""Lookups (``age__gte=18``) and transforms (``created_at__year``).

A lookup turns ``lhs <lookup> rhs`` into an SQLAlchemy boolean expression; a
transform turns ``lhs`` into another expression that further lookups apply to.
Both register on field classes (``RegisterLookupMixin``) and are found by name.

Write a custom lookup by implementing one method::

    from reinhardt_db.models import CharField, Lookup

    @CharField.register_lookup
    class NotEqual(Lookup):
        lookup_name = "ne"

        def as_expression(self, lhs, rhs):
            return lhs != rhs        # lhs: the column, rhs: a bound parameter

    User.objects.filter(username__ne="ann")

``self.field`` is the left-hand side's field; ``self.ops`` and
``self.features`` are the backend's vendor SQL and capabilities (what the
built-in lookups ask), ``self.vendor`` its name. As in Django, a method
``as_<vendor>`` (``as_postgresql`` / ``as_mysql`` / ``as_sqlite``, same
signature) overrides ``as_expression`` on that backend; the backend's
``ops.vendor_method`` finds it. A transform implements
``as_expression(self, lhs)`` and may set ``output_field`` (a Field instance)
when its result has another type than its input.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.models.expressions import Expression
from reinhardt_db.models.query_utils import RegisterLookupMixin

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = [
    "Contains",
    "EndsWith",
    "Exact",
    "GreaterThan",
    "GreaterThanOrEqual",
    "IContains",
    "IEndsWith",
    "IExact",
    "IRegex",
    "IStartsWith",
    "In",
    "IsNull",
    "LessThan",
    "LessThanOrEqual",
    "Lookup",
    "Range",
    "Regex",
    "StartsWith",
    "Transform",
    "pk_value",
]

#: Template of an empty ``in`` list (it matches no row).
EMPTY = "empty"
#: The right-hand side of a condition that matches no row (an empty ``in`` list, a
#: ``none()`` subquery, an integer too large for the column): compiled as FALSE.
EMPTY_RESULT = ("C", EMPTY)
#: The right-hand side of a condition every row meets, NULLs included
#: (``lt`` a value above the column's range, as Django 5's FullResultSet).
FULL_RESULT = ("C", "full")
#: ``FULL_RESULT`` for a column whose values are ordered below and above its
#: range (floats below infinity): every row whose value is not NULL.
NOT_NULL_RESULT = ("C", "not null")
#: Shapes :func:`where.compile_node` replaces by a constant (or ``IS NOT NULL``).
CONSTANT_RESULTS = (EMPTY_RESULT, FULL_RESULT, NOT_NULL_RESULT)


_RANGED = (int, float, decimal.Decimal, dt.timedelta)


def outside(value: Any, bounds: tuple[Any, Any]) -> int:
    """Return -1 below ``bounds``, 1 above, 2 for NaN (nothing compares), 0 inside or unknown.

    Values of another type than the bounds (``"42"`` for an integer column) are
    left to the field's own conversion: 0.
    """
    if not isinstance(value, _RANGED):
        return 0
    low, high = bounds
    try:
        if value != value:  # NaN
            return 2
        if value < low:
            return -1
        if value > high:
            return 1
    except (TypeError, ArithmeticError):
        return 0
    return 0


def pk_value(value: Any) -> Any:
    """Return ``value.pk`` for a model instance, else ``value`` unchanged."""
    if hasattr(type(value), "_meta") and not isinstance(value, type):
        return value.pk
    return value


def _is_queryset(value: Any) -> bool:
    return bool(getattr(value, "_is_queryset", False))


class Lookup:
    """Base class of lookups: implement :meth:`as_expression`."""

    lookup_name: ClassVar[str] = ""
    is_transform: ClassVar[bool] = False
    #: Adapt the right-hand side with the field's ``get_db_prep_value``.
    prepare_rhs: ClassVar[bool] = True
    #: Under a negation the ORM adds ``lhs IS NOT NULL`` so NOT keeps two-valued
    #: logic (Django's semantics); lookups that test for NULL themselves opt out.
    handles_null: ClassVar[bool] = False
    #: The right-hand side is a list of values (``in``): a QuerySet value stays a
    #: subquery instead of becoming a scalar one.
    rhs_is_list: ClassVar[bool] = False
    #: What a value below / above the column's range (``Field.value_range()``)
    #: means: ``EMPTY_RESULT``, ``FULL_RESULT``, or None to send the value as it is.
    #: NaN matches nothing. Django 5's rule for integers, applied to every ranged field.
    below_range: ClassVar[tuple[str, str] | None] = None
    above_range: ClassVar[tuple[str, str] | None] = None

    def __init__(self, field: Any, ctx: CompileContext, transform: Any = None) -> None:
        self.field = field
        self.ctx = ctx
        self.ops = ctx.ops
        self.features = ctx.features
        self.vendor: str = ctx.vendor
        self.transform = transform

    # -- the right-hand side's shape (at filter() time) --------------------------------
    @classmethod
    def shape_rhs(
        cls, value: Any, values: list[Any], resolver: Resolver, bounds: tuple[Any, Any] | None
    ) -> Any:
        """Return the shape of ``value`` for a left-hand side holding values within ``bounds``.

        A value outside the range the column can hold becomes ``EMPTY_RESULT`` or
        ``FULL_RESULT`` (see :attr:`below_range`) instead of reaching the driver;
        everything else goes to :meth:`parameterize_rhs`.
        """
        if bounds is not None and (cls.below_range or cls.above_range):
            side = outside(value, bounds)
            if side:
                if side == -1 and cls.below_range is not None:
                    return cls.below_range
                if side == 1 and cls.above_range is not None:
                    return cls.above_range
                if side == 2:
                    return EMPTY_RESULT
        return cls.parameterize_rhs(value, values, resolver)

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Resolver) -> Any:
        """Return the shape of ``value``, appending its constants to ``values``."""
        if isinstance(value, Expression):
            value.resolve(resolver)
            return value.parameterize(values, resolver)
        if _is_queryset(value):
            return value._as_subquery_template(values)
        if value is None:
            raise ValueError(
                f"Cannot use None as a query value for the {cls.lookup_name!r} lookup; "
                "use isnull=True (or exact None)."
            )
        values.append(pk_value(value))
        return ("P", len(values) - 1)

    # -- compiling ------------------------------------------------------------------------
    def process_value(self, value: Any) -> Any:
        """Transform a right-hand-side value in Python before it is bound."""
        return value

    def rhs_adapter(self) -> Callable[[Any], Any] | None:
        """Return the function applied to each bound right-hand-side value."""
        prep = None
        if self.prepare_rhs and self.field is not None:
            prep = self.ctx.field_adapter(self.field)
        if type(self).process_value is Lookup.process_value:
            return prep
        process = self.process_value
        if prep is None:
            return process
        return lambda value: process(prep(value))

    def compile_rhs(self, template: Any) -> Any:
        """Build the right-hand side from its shape (see :meth:`parameterize_rhs`)."""
        if type(template) is tuple:
            tag = template[0]
            if tag == "P":
                return self.ctx.bind(template[1], self.rhs_adapter())
            if tag == "PL":
                adapter = self.rhs_adapter()
                return [self.ctx.bind(template[1] + k, adapter) for k in range(template[2])]
            if tag == "C":
                return template[1]
            if tag == "SQ":
                from reinhardt_db.models.sql.compiler import compile_subquery

                subquery = compile_subquery(self.ctx, template[1], template[2])
                return subquery if self.rhs_is_list else subquery.scalar_subquery()
        return template.to_sa(self.ctx)

    def build(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        """Return the condition, using a user's ``as_<vendor>`` when the lookup has one."""
        method = self.ops.vendor_method(self) or self.as_expression
        return method(lhs, rhs)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        """Return the SQLAlchemy condition for ``lhs <lookup> rhs``."""
        raise NotImplementedError(f"{type(self).__name__} must implement as_expression()")

    def const(self, value: Any) -> sa.BindParameter[Any]:
        """Return a bound parameter for a constant of your SQL (never inline it)."""
        return self.ctx.const(value)


class Transform(RegisterLookupMixin):
    """Base class of transforms: implement :meth:`as_expression`."""

    lookup_name: ClassVar[str] = ""
    is_transform: ClassVar[bool] = True
    #: The field describing the result (a Field instance); None: same as the input.
    output_field: ClassVar[Any] = None

    def __init__(self, field: Any, ctx: CompileContext, *args: Any) -> None:
        self.field = field
        self.ctx = ctx
        self.ops = ctx.ops
        self.features = ctx.features
        self.vendor: str = ctx.vendor

    def build(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        """Return the transformed expression, using a user's ``as_<vendor>`` when defined."""
        method = self.ops.vendor_method(self) or self.as_expression
        return method(lhs)

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        """Return the SQLAlchemy expression for the transformed ``lhs``."""
        raise NotImplementedError(f"{type(self).__name__} must implement as_expression()")

    def select_expression(self, built: ColumnElement[Any]) -> ColumnElement[Any]:
        """Return what ``values()`` selects for this transform (``built`` by default)."""
        return built


# -- equality and comparisons ------------------------------------------------------------


class Exact(Lookup):
    """``field = value``; ``None`` means ``IS NULL``."""

    lookup_name = "exact"
    below_range: ClassVar[tuple[str, str] | None] = EMPTY_RESULT
    above_range: ClassVar[tuple[str, str] | None] = EMPTY_RESULT

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Resolver) -> Any:
        if value is None:
            return ("C", None)
        return super().parameterize_rhs(value, values, resolver)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if rhs is None:
            return lhs.is_(None)
        return lhs == rhs


class IExact(Exact):
    """Case-insensitive equality."""

    lookup_name = "iexact"
    prepare_rhs = False
    below_range = above_range = None

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if rhs is None:
            return lhs.is_(None)
        return sa.func.lower(self.ops.as_text(lhs)) == sa.func.lower(rhs)


class GreaterThan(Lookup):
    """``field > value``."""

    lookup_name = "gt"
    below_range, above_range = FULL_RESULT, EMPTY_RESULT

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs > rhs


class GreaterThanOrEqual(Lookup):
    """``field >= value``."""

    lookup_name = "gte"
    below_range, above_range = FULL_RESULT, EMPTY_RESULT

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs >= rhs


class LessThan(Lookup):
    """``field < value``."""

    lookup_name = "lt"
    below_range, above_range = EMPTY_RESULT, FULL_RESULT

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs < rhs


class LessThanOrEqual(Lookup):
    """``field <= value``."""

    lookup_name = "lte"
    below_range, above_range = EMPTY_RESULT, FULL_RESULT

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs <= rhs


class IsNull(Lookup):
    """``field IS NULL`` (``True``) or ``IS NOT NULL`` (``False``)."""

    lookup_name = "isnull"
    handles_null = True

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Resolver) -> Any:
        if not isinstance(value, bool):
            raise ValueError(f"The value of an isnull lookup must be True or False, got {value!r}.")
        return ("C", value)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs.is_(None) if rhs else lhs.is_not(None)


class In(Lookup):
    """``field IN (...)``: a list, tuple or set, or a one-column QuerySet.

    A statement with more parameters than the server binds
    (``features.max_query_params``) sends a long list as one parameter
    (``ops.in_list``: an array on PostgreSQL, JSON through ``json_each`` on
    SQLite) instead of failing; PyMySQL interpolates on the client, so MySQL
    takes any number of placeholders.
    """

    lookup_name = "in"
    rhs_is_list = True
    #: Whether a long list may travel as one parameter (``ops.in_list``).
    list_parameter = True

    @classmethod
    def shape_rhs(
        cls, value: Any, values: list[Any], resolver: Resolver, bounds: tuple[Any, Any] | None
    ) -> Any:
        if bounds is not None and not _is_queryset(value) and isinstance(value, Iterable) and (
            not isinstance(value, (str, bytes))
        ):
            # A value the column cannot hold matches no row: leave it out.
            value = [item for item in value if not outside(item, bounds)]
        return cls.parameterize_rhs(value, values, resolver)

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Resolver) -> Any:
        if _is_queryset(value):
            return value._as_subquery_template(values)
        if getattr(value, "is_subquery", False):  # Subquery(...): its rows are the list
            value.resolve(resolver)
            return value.parameterize(values, resolver)
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(
                f"The value of an 'in' lookup must be a list, tuple or set of values "
                f"(or a QuerySet), got {type(value).__name__}."
            )
        items = _unique_keys(value)
        if not items:
            return EMPTY_RESULT
        size = _padded(len(items)) if resolver.pad_lists else len(items)
        items.extend([items[-1]] * (size - len(items)))
        start = len(values)
        values.extend(items)
        return ("PL", start, size)

    def compile_rhs(self, template: Any) -> Any:
        ctx = self.ctx
        if getattr(template, "is_subquery", False):
            return template.select(ctx)
        if (
            type(template) is tuple
            and template[0] == "PL"
            and self.list_parameter
            and template[2] > 1
            and ctx.features.server_side_parameters
            and ctx.param_count > ctx.features.max_query_params
            and ctx.values is None
        ):
            return _ListParam(ctx.bind_list(
                template[1], template[2], self.rhs_adapter(), self.ops.in_list_param
            ))
        return super().compile_rhs(template)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        if isinstance(rhs, str) and rhs == EMPTY:
            return sa.false()
        if isinstance(rhs, _ListParam):
            return self.ops.in_list(lhs, rhs.param)
        return lhs.in_(rhs)


def _unique_keys(value: Iterable[Any]) -> list[Any]:
    """The distinct non-NULL values of an ``in`` list, in order, instances as their keys.

    Long lists (``prefetch_related`` sends thousands of keys) take the fast
    path: one look at each value's type, then ``dict.fromkeys``.
    """
    values = value if isinstance(value, (list, tuple)) else list(value)
    if not any(_is_instance_type(kind) for kind in {type(item) for item in values}):
        try:
            unique = dict.fromkeys(values)
        except TypeError:  # an unhashable value: the loop below keeps it
            pass
        else:
            unique.pop(None, None)  # x IN (NULL) never matches; Django drops it too
            return list(unique)
    items: list[Any] = []
    seen: set[Any] = set()
    for item in values:
        if item is None:
            continue
        item = pk_value(item)
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:
            pass
        items.append(item)
    return items


def _is_instance_type(kind: type) -> bool:
    """True for the type of a model instance (``pk_value`` would take its key)."""
    return hasattr(kind, "_meta") and not issubclass(kind, type)


class _ListParam:
    """A whole ``in`` list bound as one parameter (see ``ops.in_list``)."""

    __slots__ = ("param",)

    def __init__(self, param: Any) -> None:
        self.param = param


def _padded(size: int) -> int:
    """Pad to a power of two up to 1,024 (lists of similar length share one statement),
    then to a multiple of 1,024, so padding never adds more than 1,023 parameters."""
    if size <= 1024:
        return 1 << (size - 1).bit_length()
    return -(-size // 1024) * 1024


class Range(Lookup):
    """``low <= field <= high`` (SQL ``BETWEEN``)."""

    lookup_name = "range"

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Resolver) -> Any:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"The value of a 'range' lookup must be (low, high), got {value!r}.")
        pair = list(value)
        if len(pair) != 2 or None in pair:
            raise ValueError(f"The value of a 'range' lookup must be (low, high), got {value!r}.")
        return cls._pair_shape(pair, values)

    @classmethod
    def shape_rhs(
        cls, value: Any, values: list[Any], resolver: Resolver, bounds: tuple[Any, Any] | None
    ) -> Any:
        if bounds is None or isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            return cls.parameterize_rhs(value, values, resolver)
        pair = list(value)
        if len(pair) != 2 or None in pair:
            return cls.parameterize_rhs(value, values, resolver)
        low, high = pair
        low_side, high_side = outside(low, bounds), outside(high, bounds)
        if low_side in (1, 2) or high_side in (-1, 2):
            return EMPTY_RESULT
        # Clamp an end beyond the column's range: the same rows match.
        if low_side == -1:
            low = bounds[0]
        if high_side == 1:
            high = bounds[1]
        return cls._pair_shape([low, high], values)

    @classmethod
    def _pair_shape(cls, pair: list[Any], values: list[Any]) -> Any:
        start = len(values)
        values.extend(pk_value(v) for v in pair)
        return ("PL", start, 2)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        return lhs.between(rhs[0], rhs[1])


# -- text patterns -------------------------------------------------------------------------


class PatternLookup(Lookup):
    """``LIKE``-style matching; the value's wildcards are escaped, never interpreted.

    The backend decides the operator (``ops.pattern_match``): e.g. ``LIKE`` on
    PostgreSQL, ``LIKE BINARY`` on MySQL and ``GLOB`` on SQLite (whose ``LIKE``
    ignores ASCII case) for case-sensitive matching.
    """

    prepare_rhs = False
    case_sensitive: ClassVar[bool] = True
    anchored_start: ClassVar[bool] = False
    anchored_end: ClassVar[bool] = False

    def process_value(self, value: Any) -> Any:
        ops, case_sensitive = self.ops, self.case_sensitive
        text = ops.pattern_escape(str(value), case_sensitive)
        wildcard = ops.pattern_wildcard(case_sensitive)
        start = "" if self.anchored_start else wildcard
        end = "" if self.anchored_end else wildcard
        return f"{start}{text}{end}"

    def _pattern(self, rhs: Any) -> Any:
        if isinstance(rhs, sa.BindParameter):
            return rhs
        # An expression on the right: build the pattern in SQL.
        wildcard = self.const(self.ops.pattern_wildcard(self.case_sensitive))
        parts = [] if self.anchored_start else [wildcard]
        parts.append(rhs)
        if not self.anchored_end:
            parts.append(wildcard)
        return self.ops.concat(*parts)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        pattern = self._pattern(rhs)
        ops = self.ops
        return ops.pattern_match(ops.as_text(lhs), pattern, self.case_sensitive)


class Contains(PatternLookup):
    """Case-sensitive substring match."""

    lookup_name = "contains"


class IContains(PatternLookup):
    """Case-insensitive substring match."""

    lookup_name = "icontains"
    case_sensitive = False


class StartsWith(PatternLookup):
    """Case-sensitive prefix match."""

    lookup_name = "startswith"
    anchored_start = True


class IStartsWith(PatternLookup):
    """Case-insensitive prefix match."""

    lookup_name = "istartswith"
    case_sensitive = False
    anchored_start = True


class EndsWith(PatternLookup):
    """Case-sensitive suffix match."""

    lookup_name = "endswith"
    anchored_end = True


class IEndsWith(PatternLookup):
    """Case-insensitive suffix match."""

    lookup_name = "iendswith"
    case_sensitive = False
    anchored_end = True


class Regex(Lookup):
    """Case-sensitive regular-expression search.

    PostgreSQL ``~``, MySQL/MariaDB ``REGEXP`` with ``(?-i)``, SQLite ``REGEXP``
    (the backend registers a Python ``re.search`` function on each connection).
    """

    lookup_name = "regex"
    prepare_rhs = False
    case_sensitive: ClassVar[bool] = True

    def process_value(self, value: Any) -> Any:
        return self.ops.regex_value(str(value), self.case_sensitive)

    def as_expression(self, lhs: ColumnElement[Any], rhs: Any) -> ColumnElement[bool]:
        ops = self.ops
        return ops.regex_match(ops.as_text(lhs), rhs, self.case_sensitive)


class IRegex(Regex):
    """Case-insensitive regular-expression search."""

    lookup_name = "iregex"
    case_sensitive = False


BUILTIN_LOOKUPS: tuple[type[Lookup], ...] = (
    Exact, IExact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual, IsNull, In,
    Range, Contains, IContains, StartsWith, IStartsWith, EndsWith, IEndsWith, Regex, IRegex,
)


def register_builtin_lookups(field_class: type[RegisterLookupMixin]) -> None:
    """Register every built-in lookup on ``field_class`` (done once for ``Field``)."""
    for lookup in BUILTIN_LOOKUPS:
        field_class.register_lookup(lookup)
