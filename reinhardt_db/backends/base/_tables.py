"""Compare and copy ``sqlalchemy.Table`` definitions for the schema editor.

Field and table changes are worked out from two tables: the historical model
before the change and the one after it. Their indexes and constraints are
*elements*; an element's *shape* is what it does without its name (columns,
uniqueness, condition, target). Two elements with the same shape but different
names are one element renamed; the rest are dropped or added. SQLite rebuilds
tables from a copy of a model's table (``copy_table``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql import visitors

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

__all__ = [
    "Element",
    "ElementChanges",
    "copy_table",
    "diff_elements",
    "elements_of",
    "stub_targets",
]

#: A named index or (non primary key) constraint of a table.
Item = sa.Index | sa.Constraint


@dataclass(frozen=True)
class Element:
    """An index or constraint with the names of the columns it involves and its shape."""

    item: Item
    name: str
    columns: frozenset[str]
    shape: tuple[Any, ...]

    @property
    def is_index(self) -> bool:
        """True for a ``CREATE INDEX`` (unique or not, partial or not)."""
        return isinstance(self.item, sa.Index)


@dataclass
class ElementChanges:
    """What turns one table's elements into another's."""

    drop: list[Element]
    rename: list[tuple[Element, Element]]
    add: list[Element]

    def __bool__(self) -> bool:
        return bool(self.drop or self.rename or self.add)


def _text(element: Any, dialect: Dialect) -> str:
    compiled = element.compile(
        dialect=dialect, compile_kwargs={"include_table": False, "literal_binds": True}
    )
    return str(compiled).strip()


def _column_names(element: Any) -> list[str]:
    names: list[str] = []

    def visit(column: Any) -> None:
        if isinstance(column, sa.Column):
            names.append(column.name)

    visitors.traverse(element, {}, {"column": visit})
    return names


def _mentioned(text: str, table: sa.Table) -> set[str]:
    # A condition compiled from a Q (no Column objects to visit): look for the names.
    return {c.name for c in table.columns if re.search(rf"\b{re.escape(c.name)}\b", text)}


def _index_element(index: sa.Index, table: sa.Table, dialect: Dialect) -> Element:
    parts: list[str] = []
    columns: set[str] = set()
    for expression in index.expressions:
        if isinstance(expression, sa.Column):
            parts.append(expression.name)
            columns.add(expression.name)
        else:
            columns.update(_column_names(expression))
            parts.append(_text(expression, dialect))
    condition = index.info.get("condition")
    condition_text = None
    if condition is not None:
        condition_text = _text(condition, dialect)
        columns |= _mentioned(condition_text, table)
    shape = ("index", bool(index.unique), tuple(parts), condition_text)
    return Element(index, str(index.name), frozenset(columns), shape)


def _constraint_element(
    constraint: sa.Constraint, table: sa.Table, dialect: Dialect
) -> Element | None:
    name = str(constraint.name) if constraint.name else ""
    if isinstance(constraint, sa.PrimaryKeyConstraint):
        return None
    if isinstance(constraint, sa.ForeignKeyConstraint):
        shape: tuple[Any, ...] = (
            "fk",
            tuple(constraint.column_keys),
            tuple(e.target_fullname for e in constraint.elements),
            constraint.ondelete,
            constraint.onupdate,
            constraint.deferrable,
            constraint.initially,
        )
        return Element(constraint, name, frozenset(constraint.column_keys), shape)
    if isinstance(constraint, sa.UniqueConstraint):
        names = tuple(c.name for c in constraint.columns)
        return Element(constraint, name, frozenset(names), ("unique", names))
    if isinstance(constraint, sa.CheckConstraint):
        text = _text(constraint.sqltext, dialect)
        columns = set(_column_names(constraint.sqltext)) | _mentioned(text, table)
        return Element(constraint, name, frozenset(columns), ("check", text))
    return None


def elements_of(table: sa.Table, dialect: Dialect) -> list[Element]:
    """Return the named indexes and constraints of ``table`` (not its primary key)."""
    found: list[Element] = []
    for constraint in sorted(table.constraints, key=lambda c: str(c.name or "")):
        element = _constraint_element(constraint, table, dialect)
        if element is not None:
            found.append(element)
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        found.append(_index_element(index, table, dialect))
    return found


def _renamed_shape(element: Element, renames: Mapping[str, str]) -> tuple[Any, ...]:
    if not renames:
        return element.shape

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return renames.get(value, value)
        if isinstance(value, tuple):
            return tuple(rename(v) for v in value)
        return value

    kind = element.shape[0]
    if kind == "index":
        return ("index", element.shape[1], rename(element.shape[2]), element.shape[3])
    if kind in ("unique", "fk"):
        return (kind, rename(element.shape[1]), *element.shape[2:])
    return element.shape


def diff_elements(
    old: Iterable[Element], new: Iterable[Element], renamed_columns: Mapping[str, str] = {}
) -> ElementChanges:
    """Return the drops, renames and additions that turn ``old`` elements into ``new``.

    ``renamed_columns`` maps old column names to new ones, so that an index on
    a renamed column counts as the same index.
    """
    old_left = list(old)
    new_left: list[Element] = []
    for element in new:
        same = next(
            (o for o in old_left
             if o.name == element.name and _renamed_shape(o, renamed_columns) == element.shape),
            None,
        )
        if same is None:
            new_left.append(element)
        else:
            old_left.remove(same)
    renames: list[tuple[Element, Element]] = []
    added: list[Element] = []
    for element in new_left:
        match = next(
            (o for o in old_left
             if _renamed_shape(o, renamed_columns) == element.shape
             and o.is_index == element.is_index),
            None,
        )
        if match is None:
            added.append(element)
        else:
            old_left.remove(match)
            renames.append((match, element))
    return ElementChanges(drop=old_left, rename=renames, add=added)


def _rebind(expression: Any, target: sa.Table) -> Any:
    def replace(element: Any) -> Any:
        if isinstance(element, sa.Column) and element.table is not target:
            return target.c[element.name]
        return None

    return visitors.replacement_traverse(expression, {}, replace)  # type: ignore[call-overload]


def copy_table(
    source: sa.Table,
    metadata: sa.MetaData,
    name: str | None = None,
    *,
    drop_columns: Collection[str] = (),
    drop_items: Collection[Item] = (),
) -> sa.Table:
    """Return a copy of ``source`` in ``metadata``, called ``name``.

    Leave out ``drop_columns`` and ``drop_items`` (the caller lists the
    elements involving dropped columns: ``elements_of`` knows them). Foreign
    keys refer to their targets by name; the tables they name must be in
    ``metadata`` when the copy is compiled (``stub_targets``).
    """
    dropped = set(drop_columns)
    skip = {id(item) for item in drop_items}
    columns = [c._copy() for c in source.columns if c.name not in dropped]
    table = sa.Table(
        name or source.name, metadata, *columns,
        comment=source.comment, info=dict(source.info), **source.kwargs,
    )
    for constraint in source.constraints:
        if id(constraint) in skip or isinstance(constraint, sa.PrimaryKeyConstraint):
            continue
        if isinstance(constraint, sa.ForeignKeyConstraint):
            table.append_constraint(sa.ForeignKeyConstraint(
                list(constraint.column_keys),
                [e.target_fullname for e in constraint.elements],
                name=constraint.name, ondelete=constraint.ondelete,
                onupdate=constraint.onupdate, deferrable=constraint.deferrable,
                initially=constraint.initially,
            ))
        elif isinstance(constraint, sa.UniqueConstraint):
            names = [c.name for c in constraint.columns]
            table.append_constraint(sa.UniqueConstraint(*names, name=constraint.name))
        elif isinstance(constraint, sa.CheckConstraint):
            check = sa.CheckConstraint(
                _rebind(constraint.sqltext, table), name=constraint.name, _autoattach=False
            )
            table.append_constraint(check)
    primary = [c.name for c in source.primary_key.columns if c.name not in dropped]
    if primary:
        pk_name = source.primary_key.name
        table.append_constraint(
            sa.PrimaryKeyConstraint(*primary, name=pk_name if isinstance(pk_name, str) else None)
        )
    for index in source.indexes:
        if id(index) not in skip:
            # Built on the copy's columns, the index attaches itself to the copy.
            sa.Index(
                index.name, *(_rebind(e, table) for e in index.expressions),
                unique=index.unique, info=dict(index.info), **index.dialect_kwargs,
            )
    return table


def stub_targets(table: sa.Table) -> None:
    """Add stand-ins for the tables ``table``'s foreign keys name, so its DDL compiles."""
    metadata = table.metadata
    for constraint in table.foreign_key_constraints:
        for element in constraint.elements:
            target_table, _, target_column = element.target_fullname.rpartition(".")
            stub = metadata.tables.get(target_table)
            if stub is None:
                stub = sa.Table(target_table, metadata)
            if target_column not in stub.c:
                stub.append_column(sa.Column(target_column, sa.Integer))
