"""Build each model's ``sqlalchemy.Table`` (columns, keys, indexes, constraints).

One ``Table`` serves every backend: column types carry per-dialect variants,
and the parts whose SQL depends on the backend (``db_default`` literals,
``Q`` conditions of CHECK constraints and partial indexes) are SQL elements
compiled for the dialect at hand. Partial indexes are marked with
``ddl_if(dialect=...)`` and ``info["vendors"]`` so MySQL, which lacks them,
skips them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from reinhardt_db.exceptions import ImproperlyConfigured
from reinhardt_db.models.constraints import BaseConstraint, CheckConstraint, UniqueConstraint
from reinhardt_db.models.fields.base import Field
from reinhardt_db.models.fields.composite import CompositePrimaryKey
from reinhardt_db.models.fields.misc import BinaryField, JSONField
from reinhardt_db.models.fields.text import TextField
from reinhardt_db.models.indexes import Index, constraint_name

__all__ = ["FieldLiteral", "QCondition", "build_table", "vendor_of"]

PARTIAL_INDEX_VENDORS = ("postgresql", "sqlite")


def vendor_of(dialect: sa.engine.Dialect) -> str:
    """Return ``"sqlite" | "postgresql" | "mysql"`` for an SQLAlchemy dialect."""
    return "mysql" if dialect.name == "mariadb" else dialect.name


class QCondition(sa.sql.expression.ColumnElement[bool]):
    """A ``Q`` condition on a model, compiled by the query layer for each dialect."""

    __visit_name__ = "reinhardt_q_condition"
    inherit_cache = False

    def __init__(self, model: type[Any], condition: Any) -> None:
        self.model = model
        self.condition = condition
        self.type = sa.Boolean()


@compiles(QCondition)
def _compile_q_condition(element: QCondition, compiler: SQLCompiler, **kw: Any) -> str:
    condition = element.condition
    if not isinstance(condition, sa.sql.ClauseElement):
        from reinhardt_db.models.sql.where import q_to_clause

        condition = q_to_clause(element.model, condition, vendor_of(compiler.dialect))
    kw.update(literal_binds=True, include_table=False)
    return str(compiler.process(condition, **kw))


class FieldLiteral(sa.sql.expression.ColumnElement[Any]):
    """A ``db_default`` literal, prepared by its field for the dialect it compiles to."""

    __visit_name__ = "reinhardt_field_literal"
    inherit_cache = False

    def __init__(self, field: Field[Any], value: Any) -> None:
        self.field = field
        self.value = value
        self.type = field.sa_type()


@compiles(FieldLiteral)
def _compile_field_literal(element: FieldLiteral, compiler: SQLCompiler, **kw: Any) -> str:
    vendor = vendor_of(compiler.dialect)
    value = element.field.get_db_prep_value(element.value, vendor)
    sql = _render_literal(value, vendor, compiler)
    if vendor == "mysql" and isinstance(element.field, (TextField, BinaryField, JSONField)):
        sql = f"({sql})"  # MySQL only accepts expression defaults on TEXT/BLOB/JSON
    return sql


def _render_literal(value: Any, vendor: str, compiler: SQLCompiler) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("true" if value else "false") if vendor == "postgresql" else str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        hexed = bytes(value).hex()
        return f"'\\x{hexed}'::bytea" if vendor == "postgresql" else f"X'{hexed}'"
    if isinstance(value, dt.timedelta):  # only PostgreSQL keeps timedelta natively
        micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
        return f"'{micros} microseconds'::interval"
    if isinstance(value, dt.datetime):
        text = value.isoformat(" ")
    elif isinstance(value, (dt.date, dt.time, uuid.UUID)):
        text = str(value)
    else:
        text = str(value)
    return str(compiler.render_literal_value(text, sa.String()))


def _server_default(field: Field[Any]) -> Any:
    if not field.has_db_default():
        return None
    if isinstance(field.db_default, sa.sql.ClauseElement):
        return field.db_default
    return FieldLiteral(field, field.db_default)


def _column(field: Field[Any], in_pk: bool) -> sa.Column[Any]:
    return sa.Column(
        field.column,
        field.sa_type(),
        primary_key=in_pk,
        nullable=field.null,
        autoincrement=field.is_auto,
        server_default=_server_default(field),
        comment=field.db_comment,
        info={"field": field},
    )


def _partial(element: Any) -> Any:
    element.info["vendors"] = PARTIAL_INDEX_VENDORS
    return element.ddl_if(dialect=PARTIAL_INDEX_VENDORS)


def _condition_kwargs(model: type[Any], condition: Any) -> dict[str, Any]:
    clause = QCondition(model, condition)
    return {"postgresql_where": clause, "sqlite_where": clause}


def _sa_index(model: type[Any], table: sa.Table, index: Index) -> sa.Index:
    meta = model._meta
    expressions: list[Any] = []
    for name, order in index.fields_orders:
        column = table.c[meta.get_field(name).column]
        expressions.append(sa.desc(column) if order == "DESC" else column)
    if index.condition is None:
        return sa.Index(index.name, *expressions)
    return _partial(sa.Index(index.name, *expressions, **_condition_kwargs(model, index.condition)))


def _sa_constraint(model: type[Any], table: sa.Table, constraint: BaseConstraint) -> Any:
    meta = model._meta
    if isinstance(constraint, UniqueConstraint):
        columns = [table.c[meta.get_field(f).column] for f in constraint.fields]
        if constraint.condition is None:
            return sa.UniqueConstraint(*columns, name=constraint.name)
        kwargs = _condition_kwargs(model, constraint.condition)
        return _partial(sa.Index(constraint.name, *columns, unique=True, **kwargs))
    if isinstance(constraint, CheckConstraint):
        return sa.CheckConstraint(QCondition(model, constraint.condition), name=constraint.name)
    raise TypeError(f"{model.__name__}: unsupported constraint {constraint!r}.")


def build_table(model: type[Any]) -> sa.Table:
    """Return a new ``Table`` for ``model`` in its registry's ``MetaData``."""
    meta = model._meta
    composite = isinstance(meta.pk, CompositePrimaryKey)
    pk_fields = set(meta.pk_fields)
    columns = [_column(field, field in pk_fields) for field in meta.concrete_fields]
    metadata = meta.metadata if meta.metadata is not None else sa.MetaData()
    if meta.db_table in metadata.tables:
        other = metadata.tables[meta.db_table].info.get("model")
        raise ImproperlyConfigured(
            f"{meta.label} and {other._meta.label if other else 'another model'} both use "
            f"db_table '{meta.db_table}'; set a distinct Meta.db_table on one of them."
        )
    kwargs: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
    if not composite and meta.pk is not None and meta.pk.is_auto:
        kwargs["sqlite_autoincrement"] = True
    table = sa.Table(meta.db_table, metadata, *columns, info={"model": model}, **kwargs)
    db_table = meta.db_table
    for field in meta.concrete_fields:
        column = table.c[field.column]
        check = field.db_check(column)
        if check is not None:
            name = constraint_name(db_table, [field.column], "check")
            table.append_constraint(sa.CheckConstraint(check, name=name))
        if field.unique and field not in pk_fields:
            name = constraint_name(db_table, [field.column], "uniq")
            table.append_constraint(sa.UniqueConstraint(column, name=name))
        elif field.db_index and field not in pk_fields:
            sa.Index(constraint_name(db_table, [field.column], "idx"), column)
    for group in meta.unique_together:
        group_columns = [meta.get_field(f).column for f in group]
        name = constraint_name(db_table, group_columns, "uniq")
        table.append_constraint(sa.UniqueConstraint(*group_columns, name=name))
    for index in meta.indexes:
        _sa_index(model, table, index)
    for constraint in meta.constraints:
        element = _sa_constraint(model, table, constraint)
        if isinstance(element, sa.Constraint):
            table.append_constraint(element)
    return table
