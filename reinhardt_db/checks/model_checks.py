"""Model checks: what the models layer accepts at import but the database would refuse.

Unknown fields in ``Meta.ordering``/``indexes``/``constraints``/``unique_together``,
a ``CharField`` without ``max_length`` or a bad ``DecimalField`` already fail
when the model class is created; these checks cover what only shows when the
tables are built or a query runs.

Ids below 100 mean what Django's do (``models.E028``); from 100 up they are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reinhardt_db.checks._models import (
    NameLimit,
    TableNames,
    checked_models,
    duplicates,
    name_limits,
    table_names,
)
from reinhardt_db.checks.messages import CheckMessage, Error
from reinhardt_db.checks.registry import Tags, register
from reinhardt_db.exceptions import ReinhardtError

__all__ = [
    "check_column_clashes",
    "check_conditions",
    "check_db_table_clashes",
    "check_ordering",
    "check_table_names",
]


def _labels(models: Sequence[type[Any]]) -> str:
    return ", ".join(model._meta.label for model in models)


@register(Tags.models)
def check_db_table_clashes(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """models.E028: two models use one table (names compared case-insensitively)."""
    groups = duplicates(
        (model._meta.db_table.lower(), model) for model in checked_models(app_configs)
    )
    errors: list[CheckMessage] = []
    for models in groups.values():
        tables = {model._meta.db_table for model in models}
        spelled = "" if len(tables) == 1 else (
            f" (spelled {', '.join(sorted(tables))}: SQLite and, on some systems, MySQL "
            "ignore the case of table names)"
        )
        errors.append(Error(
            f"db_table '{models[0]._meta.db_table}' is used by multiple models: "
            f"{_labels(models)}{spelled}",
            hint="give all but one of them another Meta.db_table; every model's table is "
                 "defined once, even when routers send the models to different databases",
            obj=models[0],
            id="models.E028",
        ))
    return errors


@register(Tags.models)
def check_column_clashes(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """models.E007: two fields of one model write the same column."""
    errors: list[CheckMessage] = []
    for model in checked_models(app_configs):
        clashes = duplicates((f.column, f) for f in model._meta.concrete_fields)
        for column, fields in clashes.items():
            for field in fields[1:]:
                errors.append(Error(
                    f"field '{field.name}' has column name '{column}' that is used by "
                    f"another field ('{fields[0].name}')",
                    hint="give one of them another db_column",
                    obj=field,
                    id="models.E007",
                ))
    return errors


@register(Tags.models)
def check_table_names(
    app_configs: Sequence[Any] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """Index and constraint names: unique (models.E029-E032) and short enough (E034, E100...).

    Lengths are checked against the backend of each database in ``databases``
    (``db.ops.max_name_length``: 63 on PostgreSQL, 64 on MySQL, none on SQLite).
    Unmanaged models are left out (their tables exist already). A table that
    cannot be built at all is models.E103.
    """
    models = checked_models(app_configs)
    unbuildable = {m for m in models if _clashes(m, models)}
    errors: list[CheckMessage] = []
    names: dict[type[Any], TableNames] = {}
    for model in models:
        if model in unbuildable:
            continue  # reported by models.E028 / models.E007
        try:
            found = table_names(model)
        except Exception as exc:  # whatever stops the DDL from being built is the finding
            errors.append(Error(
                f"the table of {model._meta.label} cannot be built: {exc}",
                hint="fix the model definition; queries, create_tables() and migrations "
                     "would fail the same way",
                obj=model,
                id="models.E103",
            ))
            continue
        if model._meta.managed:  # unmanaged tables exist already; their DDL is not ours
            names[model] = found
    errors += _unique_names(names, "index", ("models.E029", "models.E030"), "indexes",
                            "PostgreSQL and SQLite name indexes per database, not per table")
    errors += _unique_names(names, "constraint", ("models.E031", "models.E032"), "constraints",
                            "a unique constraint is an index, named per database, on PostgreSQL")
    for limit in name_limits(databases):
        for model, found in names.items():
            errors += _too_long(model, found, limit)
    return errors


def _clashes(model: type[Any], models: Sequence[type[Any]]) -> bool:
    table = model._meta.db_table.lower()
    if any(other is not model and other._meta.db_table.lower() == table for other in models):
        return True
    return bool(duplicates((f.column, f) for f in model._meta.concrete_fields))


def _unique_names(
    names: dict[type[Any], TableNames], kind: str, ids: tuple[str, str], attribute: str,
    why: str,
) -> list[CheckMessage]:
    owners = duplicates(
        (name, model) for model, found in names.items() for name in getattr(found, attribute)
    )
    errors: list[CheckMessage] = []
    for name, models in sorted(owners.items()):
        distinct = list(dict.fromkeys(models))
        if len(distinct) == 1:
            where, ident = f"for model {_labels(distinct)}", ids[0]
        else:
            where, ident = f"among models: {_labels(distinct)}", ids[1]
        message = f"{kind} name '{name}' is not unique {where}"
        errors.append(Error(
            message,
            hint=f"give each {kind} its own name ({why})",
            obj=distinct[0],
            id=ident,
        ))
    return errors


def _too_long(model: type[Any], found: TableNames, limit: NameLimit) -> list[CheckMessage]:
    meta = model._meta
    backend = limit.describe()
    errors: list[CheckMessage] = []

    def long(name: str) -> bool:
        return len(name) > limit.length

    def keeps(what: str, name: str) -> str:
        return (f"{what} '{name}' is {len(name)} characters long; {backend} keeps at most "
                f"{limit.length}")

    if long(meta.db_table):
        how = "set a shorter Meta.db_table" if "db_table" in meta.original_attrs else (
            "set Meta.db_table (the default is '<app_label>_<model name>')"
        )
        errors.append(Error(keeps("db_table", meta.db_table), hint=how, obj=model,
                            id="models.E101"))
    for field in meta.concrete_fields:
        if long(field.column):
            errors.append(Error(keeps("column name", field.column), obj=field, id="models.E018",
                                hint="set a shorter db_column on the field"))
    for name in found.indexes:
        if long(name):
            errors.append(Error(keeps("index name", name), obj=model, id="models.E034",
                                hint="pass a shorter name to Index(...)"))
    for name in found.constraints:
        if long(name):
            errors.append(Error(keeps("constraint name", name), obj=model, id="models.E100",
                                hint="pass a shorter name to the constraint"))
    return errors


@register(Tags.models)
def check_ordering(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """models.E015: a ``Meta.ordering`` path (``"created__year"``) that does not resolve.

    Plain field names are checked when the class is created; paths through
    transforms and relations only here (and when a query runs).
    """
    from reinhardt_db.models.sql.context import Resolver  # the checks sit above the models

    errors: list[CheckMessage] = []
    for model in checked_models(app_configs):
        for item in model._meta.ordering:
            if not isinstance(item, str) or "__" not in item:
                continue
            path = item.lstrip("-+")
            try:
                Resolver(model).resolve_ref(path)
            except ReinhardtError as exc:
                errors.append(Error(
                    f"'ordering' refers to the nonexistent field, related field, or lookup "
                    f"'{path}'",
                    hint=str(exc),
                    obj=model,
                    id="models.E015",
                ))
    return errors


@register(Tags.models)
def check_conditions(
    app_configs: Sequence[Any] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """models.E012: a ``Q`` condition of a constraint or index that names no field.

    ``CheckConstraint(condition=Q(...))`` and partial indexes are compiled only
    when the DDL is; this compiles them for the backend of each database.
    """
    from reinhardt_db.models.sql.where import q_to_clause

    vendors = _vendors(databases)
    errors: list[CheckMessage] = []
    for model in checked_models(app_configs):
        meta = model._meta
        for element in [*meta.constraints, *meta.indexes]:
            condition = getattr(element, "condition", None)
            if condition is None or not hasattr(condition, "children"):
                continue  # none, or an SQLAlchemy expression written by hand
            problems: dict[str, None] = {}
            for vendor in vendors:
                try:
                    q_to_clause(model, condition, vendor)
                except ReinhardtError as exc:
                    problems[str(exc)] = None
            kind = "index" if element in meta.indexes else "constraint"
            for problem in problems:
                errors.append(Error(
                    f"the condition of {kind} '{element.name}' is invalid: {problem}",
                    hint="fix the Q(...) so it names fields of the model",
                    obj=model,
                    id="models.E012",
                ))
    return errors


def _vendors(databases: Sequence[str] | None) -> list[str]:
    from reinhardt_db.conf import get_settings

    settings = get_settings()
    aliases = databases or ["default"]
    return list(dict.fromkeys(settings.get_database(alias).vendor for alias in aliases))
