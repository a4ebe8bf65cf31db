"""``migrate --database NAME`` applies only what the routers' ``allow_migrate`` admits.

Operations a router refuses are skipped on that database but the migration is
still recorded there, as Django does. RunPython follows ``allow_migrate`` too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import reinhardt_db
from reinhardt_db.backends import connections
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.conf import ENV_DATABASE_URL, ENV_SETTINGS, reset_settings
from reinhardt_db.testing import isolate_apps

from ..cli._project import Project

MODELS = """
from reinhardt_db import models


class {name}(models.Model):
    title = models.CharField(max_length=40)
"""

DATA_MIGRATION = '''
from reinhardt_db.migrations import Migration, RunPython


async def fill(apps, schema_editor):
    Note = apps.get_model("{app}", "Note")
    await Note.objects.using(schema_editor.db.alias).create(title="from RunPython")


class Migration(Migration):
    dependencies = [("{app}", "0001_initial")]
    operations = [RunPython(fill, RunPython.noop)]
'''


@pytest.fixture
def project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend_name: str,
    backend_url: str,
    replica_urls: dict[str, str],
) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_SETTINGS, raising=False)
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_settings()
    tag = uuid.uuid4().hex[:6]
    notes, logs = f"notes_{tag}", f"logs_{tag}"
    if backend_name == "sqlite":
        urls = {"default": f"sqlite:///{tmp_path}/default.sqlite3",
                "replica": f"sqlite:///{tmp_path}/replica.sqlite3"}
    else:
        urls = {"default": backend_url, "replica": replica_urls[backend_name]}
    with isolate_apps():
        project = Project(tmp_path, notes, urls["default"], apps=[notes, logs])
        project.models(MODELS.format(name="Note"), notes)
        project.models(MODELS.format(name="Entry"), logs)
        (tmp_path / f"routes_{tag}.py").write_text(
            "from reinhardt_db.routers import ModelRouter\n\n"
            f"router = ModelRouter({{'{notes}': 'default', '{logs}': 'replica'}})\n"
        )
        (tmp_path / "reinhardt.toml").write_text(
            f'installed_apps = ["{notes}", "{logs}"]\nrouters = ["routes_{tag}.router"]\n\n'
            f'[databases]\ndefault = "{urls["default"]}"\nreplica = "{urls["replica"]}"\n'
        )
        try:
            yield project
        finally:
            for alias in ("default", "replica"):
                for label in reversed(project.apps):
                    project.run("migrate", label, "zero", "--database", alias)
                asyncio.run(_forget(urls[alias], project.apps))
            project.forget()
    reset_settings()


async def _forget(url: str, apps: list[str]) -> None:
    reinhardt_db.configure(databases={"default": url})
    try:
        labels = ", ".join(f"'{a}'" for a in apps)
        await connections["default"].execute(
            f"DELETE FROM reinhardt_migrations WHERE app IN ({labels})"
        )
    except Exception:
        pass
    finally:
        await reinhardt_db.close_all()
        reset_settings()


def database_state(project: Project, alias: str) -> tuple[set[str], set[str], list[str]]:
    """(tables of the project's apps, recorded migrations, notes' titles) on ``alias``."""

    async def read() -> tuple[set[str], set[str], list[str]]:
        reset_settings()
        db = connections[alias]
        try:
            names = set(await introspect(db).table_names())
            tables = {t for t in names if t.startswith(tuple(project.apps))}
            rows = await db.fetch_all("SELECT app, name FROM reinhardt_migrations")
            recorded = {f"{app}.{name}" for app, name in rows if app in project.apps}
            notes = f"{project.apps[0]}_note"
            titles = []
            if notes in names:
                titles = [r[0] for r in await db.fetch_all(f"SELECT title FROM {notes}")]
            return tables, recorded, titles
        finally:
            await reinhardt_db.close_all()
            reset_settings()

    return asyncio.run(read())


def test_migrate_database_applies_only_what_allow_migrate_admits(project: Project) -> None:
    notes, logs = project.apps
    project.ok("makemigrations")
    (project.migrations(notes) / "0002_fill.py").write_text(DATA_MIGRATION.format(app=notes))
    project.ok("migrate", "--database", "default")
    project.ok("migrate", "--database", "replica")
    every = {f"{notes}.0001_initial", f"{notes}.0002_fill", f"{logs}.0001_initial"}
    tables, recorded, titles = database_state(project, "default")
    assert tables == {f"{notes}_note"}
    assert recorded == every
    assert titles == ["from RunPython"]
    tables, recorded, titles = database_state(project, "replica")
    assert tables == {f"{logs}_entry"}
    assert recorded == every  # skipped operations, recorded migrations
    assert titles == []
