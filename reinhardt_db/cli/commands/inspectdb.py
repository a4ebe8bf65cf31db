"""``reinhardt inspectdb``: print models for the tables of an existing database."""

from __future__ import annotations

import keyword
import re
from typing import TYPE_CHECKING, Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, run_command
from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS

if TYPE_CHECKING:
    from reinhardt_db.backends.base.introspection import ColumnInfo, ConstraintInfo

__all__ = ["field_for", "inspectdb", "model_source"]

_SKIPPED = {"reinhardt_migrations"}

#: (pattern on the database's type, field class, how to read arguments from the match)
_TYPES: list[tuple[str, str]] = [
    (r"^(character varying|varchar|nvarchar)\((?P<max_length>\d+)\)", "CharField"),
    (r"^(character|char)\((?P<max_length>\d+)\)", "CharField"),
    (r"^(text|longtext|mediumtext|tinytext|clob)$", "TextField"),
    (r"^(tinyint\(1\)|bool|boolean)$", "BooleanField"),
    (r"^(bigint|int8)(\(\d+\))?( unsigned)?$", "BigIntegerField"),
    (r"^(smallint|int2|tinyint)(\(\d+\))?( unsigned)?$", "SmallIntegerField"),
    (r"^(integer|int|int4|mediumint)(\(\d+\))?( unsigned)?$", "IntegerField"),
    (r"^(numeric|decimal)\((?P<max_digits>\d+),\s*(?P<decimal_places>\d+)\)", "DecimalField"),
    (r"^(real|double precision|double|float|float4|float8)", "FloatField"),
    (r"^(timestamp|datetime)", "DateTimeField"),
    (r"^date$", "DateField"),
    (r"^time", "TimeField"),
    (r"^interval", "DurationField"),
    (r"^uuid$", "UUIDField"),
    (r"^(json|jsonb)$", "JSONField"),
    (r"^(bytea|blob|longblob|mediumblob|tinyblob|varbinary.*|binary.*)$", "BinaryField"),
    (r"^inet$", "GenericIPAddressField"),
]


@app.command()
def inspectdb(
    ctx: typer.Context,
    tables: Annotated[
        list[str] | None, typer.Argument(metavar="[TABLE]...", help="Only these tables.")
    ] = None,
    database: Annotated[
        str, typer.Option("--database", metavar="NAME", help="The database alias to read.")
    ] = DEFAULT_DATABASE_ALIAS,
) -> None:
    """Print a models module for the tables of a database (review it before use)."""
    run_command(ctx, lambda state: _inspectdb(state, list(tables or []), database))


async def _inspectdb(state: CLIState, only: list[str], alias: str) -> int:
    from reinhardt_db.backends import connections
    from reinhardt_db.backends.base.introspection import introspect

    db = connections[alias]
    inspector = introspect(db)
    names = [n for n in await inspector.table_names() if n not in _SKIPPED]
    if only:
        missing = sorted(set(only) - set(names))
        if missing:
            from reinhardt_db.cli._runner import CommandError

            raise CommandError(
                f"no table named {', '.join(missing)} in database {alias!r} "
                f"(it has: {', '.join(names) or 'no tables'})"
            )
        names = [n for n in names if n in only]
    typer.echo(f"# Models for the tables of database {alias!r} ({db.vendor}), written by "
               "`reinhardt inspectdb`.")
    typer.echo("# Review them: field types are read from the database, relations are not yet.")
    typer.echo("# managed = False keeps migrations off these tables until you remove it.")
    typer.echo("from reinhardt_db import models")
    for name in names:
        columns = await inspector.get_columns(name)
        constraints = await inspector.get_constraints(name)
        typer.echo("\n")
        typer.echo(model_source(name, columns, constraints, db.vendor))
    return 0


def _class_name(table: str) -> str:
    name = "".join(part.capitalize() for part in re.split(r"\W|_", table) if part)
    if not name or not name[0].isalpha():
        name = f"Table{name}"
    return name


def _attribute(column: str) -> tuple[str, bool]:
    """Return a Python attribute name for ``column`` and whether it differs (``db_column``)."""
    name = re.sub(r"\W", "_", column.lower())
    if not name or name[0].isdigit():
        name = f"field_{name}"
    if keyword.iskeyword(name) or name in ("pk", "objects"):
        name = f"{name}_field"
    return name, name != column


def field_for(
    column: ColumnInfo,
    constraints: dict[str, ConstraintInfo],
    vendor: str,
    pk_columns: tuple[str, ...],
) -> tuple[str, str]:
    """Return ``(field class, keyword arguments source)`` for ``column``."""
    kwargs: list[str] = []
    found = "TextField"
    guessed = True
    for pattern, field in _TYPES:
        match = re.match(pattern, column.type)
        if match:
            found, guessed = field, False
            for key, value in match.groupdict().items():
                if value is not None:
                    kwargs.append(f"{key}={value}")
            break
    if vendor == "mysql" and found == "TextField" and any(
        c.kind == "check" and c.name == column.name and "json_valid" in (c.condition or "")
        for c in constraints.values()
    ):
        found = "JSONField"  # MariaDB's JSON is LONGTEXT with a json_valid() check
    if pk_columns == (column.name,):
        # PostgreSQL: a sequence default; SQLite: INTEGER PRIMARY KEY is the rowid.
        is_serial = "nextval(" in (column.default or "") or vendor in ("sqlite", "mysql")
        if found == "IntegerField" and is_serial:
            found = "AutoField"
        elif found == "BigIntegerField" and is_serial:
            found = "BigAutoField"
        kwargs.insert(0, "primary_key=True")
    else:
        if column.nullable:
            kwargs.append("null=True")
        singles = [c for c in constraints.values() if c.columns == (column.name,)]
        if any(c.kind == "unique" or (c.kind == "index" and c.unique) for c in singles):
            kwargs.append("unique=True")
        elif any(c.kind == "index" for c in singles):
            kwargs.append("db_index=True")
    if guessed:
        kwargs.append(f"db_comment={column.type!r}")
    return found, ", ".join(kwargs)


def model_source(
    table: str, columns: list[ColumnInfo], constraints: dict[str, ConstraintInfo], vendor: str
) -> str:
    """Return the source of an unmanaged model class for ``table``."""
    pk_columns = next(
        (c.columns for c in constraints.values() if c.kind == "primary_key"),
        tuple(c.name for c in columns if c.primary_key),
    )
    lines = [f"class {_class_name(table)}(models.Model):"]
    for column in columns:
        attribute, renamed = _attribute(column.name)
        field, kwargs = field_for(column, constraints, vendor, pk_columns)
        if renamed:
            kwargs = ", ".join(filter(None, [kwargs, f"db_column={column.name!r}"]))
        note = "  # type guessed; see db_comment" if "db_comment=" in kwargs else ""
        lines.append(f"    {attribute} = models.{field}({kwargs}){note}")
    together = sorted(
        tuple(c.columns) for c in constraints.values()
        if c.kind == "unique" and len(c.columns) > 1
    )
    if len(pk_columns) > 1:
        lines.append(f"    pk = models.CompositePrimaryKey({', '.join(map(repr, pk_columns))})")
    lines += ["", "    class Meta:", "        managed = False", f"        db_table = {table!r}"]
    if together:
        lines.append(f"        unique_together = {together!r}")
    return "\n".join(lines)
