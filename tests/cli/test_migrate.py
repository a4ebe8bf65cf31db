"""``reinhardt migrate``, ``sqlmigrate``, ``startapp``, ``graphmigrations``, ``inspectdb`` output."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._project import Project

MODELS = """
from reinhardt_db import models


class Post(models.Model):
    title = models.CharField(max_length=100)
"""

WITH_SUBTITLE = MODELS + "    subtitle = models.CharField(max_length=50, default='')\n"


@pytest.fixture
def project(
    clean_settings: Path, monkeypatch: pytest.MonkeyPatch, backend_name: str, backend_url: str
) -> Iterator[Project]:
    label = f"proj_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{clean_settings}/db.sqlite3" if backend_name == "sqlite" else backend_url
    monkeypatch.syspath_prepend(str(clean_settings))
    project = Project(clean_settings, label, url)
    project.models(MODELS)
    yield project
    project.cleanup()


def timings(output: str) -> str:
    return re.sub(r"\(\d+\.\d{3}s\)", "(T)", output)


def test_migrate_apply_again_check_and_backwards(project: Project) -> None:
    label = project.label
    project.ok("makemigrations")
    out = project.ok("migrate")
    assert timings(out) == (
        f"Operations to perform:\n  Apply all migrations: {label}\nRunning migrations:\n"
        f"  Applying {label}.0001_initial... OK (T)\n"
    )
    assert project.ok("migrate").endswith("Running migrations:\n  No migrations to apply.\n")
    assert project.run("migrate", "--check").exit_code == 0

    project.models(WITH_SUBTITLE)
    project.ok("makemigrations")
    assert project.run("migrate", "--check").exit_code == 1
    assert project.ok("migrate", "--plan") == (
        f"Planned operations:\n{label}.0002_post_subtitle\n    Add field subtitle to post\n"
    )
    project.sql(f"INSERT INTO {label}_post (title) VALUES (%s)", ["kept"])
    project.ok("migrate")
    assert project.sql(f"SELECT title, subtitle FROM {label}_post") == [("kept", "")]
    assert project.ok("showmigrations") == (
        f"{label}\n [X] 0001_initial\n [X] 0002_post_subtitle\n"
    )

    assert project.ok("migrate", label, "0001", "--plan") == (
        f"Planned operations:\n{label}.0002_post_subtitle (backwards)\n"
        "    Undo Add field subtitle to post\n"
    )
    out = project.ok("migrate", label, "0001")
    assert timings(out) == (
        f"Operations to perform:\n  Target specific migration: 0001_initial, from {label}\n"
        f"Running migrations:\n  Unapplying {label}.0002_post_subtitle... OK (T)\n"
    )
    assert project.sql(f"SELECT title FROM {label}_post") == [("kept",)]
    out = project.ok("migrate", label, "zero")
    assert f"Unapply all migrations: {label}" in out
    assert f"Unapplying {label}.0001_initial... OK" in out
    assert project.ok("showmigrations") == f"{label}\n [ ] 0001_initial\n [ ] 0002_post_subtitle\n"


def test_fake_and_fake_initial_output(project: Project) -> None:
    label = project.label
    project.ok("makemigrations")
    out = project.ok("migrate", "--fake")
    assert f"Applying {label}.0001_initial... FAKED (" in out
    assert project.ok("showmigrations", label) == f"{label}\n [X] 0001_initial\n"
    project.ok("migrate", label, "zero", "--fake")
    project.ok("migrate")  # creates the table
    project.ok("migrate", label, "zero", "--fake")  # forgets it, the table stays
    out = project.ok("migrate", "--fake-initial")
    assert f"Applying {label}.0001_initial... FAKED (tables exist) (" in out
    both = project.run("migrate", "--fake", "--fake-initial")
    assert both.exit_code == 1
    assert "Error: --fake and --fake-initial do not go together" in both.output


def test_sqlmigrate_forwards_and_backwards(project: Project, backend_name: str) -> None:
    label = project.label
    project.ok("makemigrations")
    project.models(WITH_SUBTITLE)
    project.ok("makemigrations")

    forwards = project.ok("sqlmigrate", label, "0002").splitlines()
    backwards = project.ok("sqlmigrate", label, "0002", "--backwards").splitlines()

    transactional = backend_name != "mysql"
    assert (forwards[0] == "BEGIN;") == transactional
    assert (forwards[-1] == "COMMIT;") == transactional
    assert "-- Add field subtitle to post" in forwards
    if backend_name == "sqlite":  # NOT NULL filled from a default: a rebuild
        assert forwards[2].startswith(f"CREATE TABLE new__{label}_post (")
        assert (
            f"INSERT INTO new__{label}_post (id, title, subtitle) SELECT id, title, '' "
            f"FROM {label}_post;"
        ) in forwards
    else:
        assert any(f"ALTER TABLE {label}_post ADD COLUMN subtitle VARCHAR(50)" in line
                   for line in forwards)
    assert f"ALTER TABLE {label}_post DROP COLUMN subtitle;" in backwards
    initial = project.ok("sqlmigrate", label, "0001_initial")
    assert f"CREATE TABLE {label}_post (" in initial
    assert f"DROP TABLE {label}_post;" in project.ok("sqlmigrate", label, "0001", "--backwards")
    assert project.ok("showmigrations", label) == (
        f"{label}\n [ ] 0001_initial\n [ ] 0002_post_subtitle\n"
    ), "sqlmigrate runs nothing"


@pytest.mark.backends("sqlite")
def test_errors_are_one_line(project: Project) -> None:
    project.ok("makemigrations")
    cases = {
        ("migrate", "nope"): "Error: No installed app with label 'nope'",
        ("migrate", project.label, "0009"): "Error: Cannot find a migration matching '0009'",
        ("sqlmigrate", project.label, "0009"): "Error: Cannot find a migration matching '0009'",
        ("migrate", "--database", "replica"): "Error: databases.replica: no database named",
        ("--database-url", "oracle://x/y", "migrate"): "Error: --database-url",
        ("squashmigrations", "nope", "0001"): "Error: No installed app with label 'nope'",
        ("graphmigrations", "nope"): "Error: No installed app with label 'nope'",
    }
    for args, start in cases.items():
        result = project.run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith(start), (args, result.output)
        assert result.output.count("\n") == 1, (args, result.output)
    broken = project.migrations() / "0002_broken.py"
    broken.write_text("class Migration(:\n")
    for command in ("migrate", "showmigrations", "sqlmigrate"):
        args = (command, project.label, "0001") if command == "sqlmigrate" else (command,)
        result = project.run(*args)
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: Syntax error in migration file {broken}, line 1")
        assert result.output.count("\n") == 1


@pytest.mark.backends("sqlite")
def test_startapp_writes_a_skeleton_that_migrates(project: Project) -> None:
    out = project.ok("startapp", "journal")
    assert out.startswith(f"Created app 'journal' in {project.root / 'journal'}")
    assert (project.root / "journal" / "migrations" / "__init__.py").is_file()
    source = (project.root / "journal" / "models.py").read_text()
    assert "from reinhardt_db import models" in source
    assert project.run("startapp", "journal").output.startswith("Error: ")
    assert project.run("startapp", "no-dash").output.startswith(
        "Error: 'no-dash' is not a valid app name"
    )
    assert project.run("startapp", "json").output.startswith(
        "Error: 'json' is the name of an existing Python module"
    )
    project.apps.append("journal")
    (project.root / "reinhardt.toml").write_text(
        f'installed_apps = ["{project.label}", "journal"]\n\n[databases]\ndefault = "{project.url}"\n'
    )
    project.models(MODELS.replace("Post", "Entry"), "journal")
    assert "journal/migrations/0001_initial.py" in project.ok("makemigrations", "journal")
    assert "Applying journal.0001_initial... OK" in project.ok("migrate", "journal")


def test_inspectdb_describes_the_tables(project: Project) -> None:
    project.models(MODELS + (
        "    views = models.IntegerField(null=True, db_index=True)\n"
        "    slug = models.CharField(max_length=30, unique=True)\n"
        "    body = models.TextField(default='')\n"
    ))
    project.ok("makemigrations")
    project.ok("migrate")
    out = project.ok("inspectdb", f"{project.label}_post")
    cls = "".join(part.capitalize() for part in project.label.split("_")) + "Post"
    assert f"class {cls}(models.Model):" in out
    assert "    title = models.CharField(max_length=100)" in out
    assert "    views = models.IntegerField(null=True, db_index=True)" in out
    assert "    slug = models.CharField(max_length=30, unique=True)" in out
    assert "    body = models.TextField()" in out
    assert "        managed = False" in out
    assert f"        db_table = '{project.label}_post'" in out
    namespace: dict[str, object] = {"__name__": f"{project.label}.inspected"}
    from reinhardt_db.testing import isolate_apps

    with isolate_apps(project.label):
        exec(compile(out, "inspectdb", "exec"), namespace)  # the output is a models module
    missing = project.run("inspectdb", "nope_table")
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: no table named nope_table")
