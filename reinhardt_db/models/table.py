"""Build each model's ``sqlalchemy.Table`` (columns, keys, indexes, constraints).

One ``Table`` serves every backend: column types carry per-dialect variants,
and the parts whose SQL depends on the backend (``db_default`` literals,
``Q`` conditions of CHECK constraints and partial indexes) are SQL elements
compiled for the dialect at hand by that backend's schema editor. Partial
indexes are marked by ``backends.dialects.make_partial``; the schema editor
leaves them out where the server has none (``features.supports_partial_indexes``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from reinhardt_db.backends.dialects import (
    make_partial,
    schema_editor_class,
    table_options,
    vendor_of,
)
from reinhardt_db.exceptions import ImproperlyConfigured
from reinhardt_db.models.constraints import BaseConstraint, CheckConstraint, UniqueConstraint
from reinhardt_db.models.fields.base import Field
from reinhardt_db.models.fields.composite import CompositePrimaryKey
from reinhardt_db.models.indexes import Index, constraint_name

__all__ = ["FieldLiteral", "QCondition", "build_table"]


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
    editor = schema_editor_class(compiler.dialect)
    value = element.field.get_db_prep_value(element.value, editor.vendor)
    return editor.default_literal_sql(value, element.type, compiler)


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


def _sa_index(model: type[Any], table: sa.Table, index: Index) -> sa.Index:
    meta = model._meta
    expressions: list[Any] = []
    for name, order in index.fields_orders:
        column = table.c[meta.get_field(name).column]
        expressions.append(sa.desc(column) if order == "DESC" else column)
    element = sa.Index(index.name, *expressions)
    if index.condition is not None:
        make_partial(element, QCondition(model, index.condition))
    return element


def _sa_constraint(model: type[Any], table: sa.Table, constraint: BaseConstraint) -> Any:
    meta = model._meta
    if isinstance(constraint, UniqueConstraint):
        columns = [table.c[meta.get_field(f).column] for f in constraint.fields]
        if constraint.condition is None:
            return sa.UniqueConstraint(*columns, name=constraint.name)
        element = sa.Index(constraint.name, *columns, unique=True)
        return make_partial(element, QCondition(model, constraint.condition))
    if isinstance(constraint, CheckConstraint):
        return sa.CheckConstraint(QCondition(model, constraint.condition), name=constraint.name)
    raise TypeError(f"{model.__name__}: unsupported constraint {constraint!r}.")


def _foreign_key(field: Any, db_table: str) -> sa.ForeignKeyConstraint:
    """The database foreign key of a relation field (no ON DELETE: the ORM's collector acts).

    ``use_alter``: where ``ALTER TABLE`` can add constraints the schema editor
    adds it after every table exists (any creation order, cycles too); SQLite
    writes it into ``CREATE TABLE``.
    """
    target = field.related_model._meta
    to_column = field.target_field.column
    return sa.ForeignKeyConstraint(
        [field.column],
        [f"{target.db_table}.{to_column}"],
        name=constraint_name(db_table, [field.column], "fk"),
        use_alter=True,
    )


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
    kwargs = table_options(
        autoincrement_pk=not composite and meta.pk is not None and meta.pk.is_auto
    )
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
    for field in meta.concrete_fields:
        if field.is_relation and field.db_constraint:
            table.append_constraint(_foreign_key(field, db_table))
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
