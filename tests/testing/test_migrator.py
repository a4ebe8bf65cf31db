"""``Migrator`` and the ``migrator`` fixture: a data migration tested end to end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reinhardt_db.backends import Database
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.migrations.recorder import MigrationRecorder
from reinhardt_db.testing import Migrator

from ..migrations._helpers import App

INITIAL = """
from reinhardt_db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel("Person", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("first", models.CharField(max_length=30)),
            ("last", models.CharField(max_length=30)),
        ]),
    ]
"""

ADD_FULL_NAME = """
from reinhardt_db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("{label}", "0001_initial")]
    operations = [
        migrations.AddField("person", "full_name", models.CharField(max_length=61, default="")),
    ]
"""

FILL = """
from reinhardt_db import migrations


async def fill(apps, schema_editor):
    Person = apps.get_model("{label}", "Person")
    async for person in Person.objects.all():
        person.full_name = f"{{person.first}} {{person.last}}"
        await person.save(update_fields=["full_name"])


async def clear(apps, schema_editor):
    await apps.get_model("{label}", "Person").objects.update(full_name="")


class Migration(migrations.Migration):
    dependencies = [("{label}", "0002_person_full_name")]
    operations = [migrations.RunPython(fill, clear)]
"""


def write(app: App) -> None:
    app.write_migration("0001_initial", INITIAL)
    app.write_migration("0002_person_full_name", ADD_FULL_NAME.format(label=app.label))
    app.write_migration("0003_fill_full_name", FILL.format(label=app.label))


@pytest.fixture
async def migrator(backend: Database, app: App) -> AsyncIterator[Migrator]:
    await MigrationRecorder(backend).flush()
    instance = Migrator(registry=app.registry)
    yield instance
    await instance.reset()
    await MigrationRecorder(backend).flush()


async def test_data_migration_fills_a_new_field_and_reverses(
    migrator: Migrator, app: App, backend: Database
) -> None:
    write(app)
    apps = await migrator.migrate(app.label, "0002")
    Person = apps.get_model(app.label, "Person")
    await Person.objects.bulk_create([Person(first="Ada", last="Lovelace"),
                                      Person(first="Alan", last="Turing")])
    assert await Person.objects.values_list("full_name", flat=True) == ["", ""]

    apps = await migrator.migrate(app.label, "0003")
    Person = apps.get_model(app.label, "Person")
    names = await Person.objects.order_by("id").values_list("full_name", flat=True)
    assert names == ["Ada Lovelace", "Alan Turing"]

    apps = await migrator.migrate(app.label, "0002")
    Person = apps.get_model(app.label, "Person")
    assert await Person.objects.values_list("full_name", flat=True) == ["", ""]

    apps = await migrator.migrate(app.label, "zero")
    with pytest.raises(LookupError, match="No model"):
        apps.get_model(app.label, "Person")
    assert f"{app.label}_person" not in await introspect(backend).table_names()


async def test_reset_unapplies_everything(migrator: Migrator, app: App, backend: Database) -> None:
    write(app)
    await migrator.migrate()
    assert [len(plan) for plan in migrator.history] == [3]
    await migrator.reset()
    assert f"{app.label}_person" not in await introspect(backend).table_names()
    assert await MigrationRecorder(backend).applied_migrations() == {}


def test_the_fixture_comes_from_the_pytest_plugin(tmp_path: Path) -> None:
    """A project's own test suite gets ``migrator`` from the installed entry point."""
    files = {
        "people/__init__.py": "",
        "people/models.py": textwrap.dedent("""
            from reinhardt_db import models


            class Person(models.Model):
                first = models.CharField(max_length=30)
                last = models.CharField(max_length=30)
                full_name = models.CharField(max_length=61, default="")
        """),
        "people/migrations/__init__.py": "",
        "people/migrations/0001_initial.py": INITIAL,
        "people/migrations/0002_person_full_name.py": ADD_FULL_NAME.format(label="people"),
        "people/migrations/0003_fill_full_name.py": FILL.format(label="people"),
        "conftest.py": textwrap.dedent("""
            import reinhardt_db

            reinhardt_db.configure(
                databases={"default": "sqlite:///test.sqlite3"}, installed_apps=["people"]
            )
            import people.models  # noqa: E402,F401
        """),
        "test_people.py": textwrap.dedent("""
            async def test_fill(migrator):
                apps = await migrator.migrate("people", "0002")
                Person = apps.get_model("people", "Person")
                await Person.objects.create(first="Grace", last="Hopper")
                apps = await migrator.migrate("people", "0003")
                person = await apps.get_model("people", "Person").objects.get()
                assert person.full_name == "Grace Hopper"
        """),
    }
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
