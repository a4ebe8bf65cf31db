"""``reinhardt makemigrations`` and ``showmigrations`` on a project in a temporary directory."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import reinhardt_db
from reinhardt_db.cli import app as cli
from reinhardt_db.conf import reset_settings
from reinhardt_db.migrations.recorder import MigrationRecorder
from reinhardt_db.testing import isolate_apps

MODELS = """
from reinhardt_db import models


class Post(models.Model):
    title = models.CharField(max_length=100)
    body = models.TextField()
"""


@dataclass
class Project:
    root: Path
    label: str
    runner: CliRunner

    @property
    def package(self) -> Path:
        return self.root / self.label

    @property
    def migrations(self) -> Path:
        return self.package / "migrations"

    def models(self, source: str) -> None:
        for name in [n for n in sys.modules if n.startswith(self.label)]:
            del sys.modules[name]
        (self.package / "models.py").write_text(textwrap.dedent(source))

    def run(self, *args: str, input: str | None = None) -> Result:
        with isolate_apps():
            try:
                return self.runner.invoke(cli, list(args), input=input)
            finally:
                for name in [n for n in sys.modules if n.startswith(self.label)]:
                    del sys.modules[name]


@pytest.fixture
def project(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    label = f"proj_{uuid.uuid4().hex[:8]}"
    (clean_settings / label).mkdir()
    (clean_settings / label / "__init__.py").write_text("")
    (clean_settings / "reinhardt.toml").write_text(
        f'installed_apps = ["{label}"]\n\n[databases]\ndefault = "sqlite:///db.sqlite3"\n'
    )
    monkeypatch.syspath_prepend(str(clean_settings))
    project = Project(clean_settings, label, CliRunner())
    project.models(MODELS)
    yield project


def test_initial_then_no_changes(project: Project) -> None:
    result = project.run("makemigrations")

    assert result.exit_code == 0, result.output
    assert f"Migrations for '{project.label}':" in result.output
    assert f"{project.label}/migrations/0001_initial.py" in result.output
    assert "+ Create model Post" in result.output
    assert (project.migrations / "0001_initial.py").is_file()
    again = project.run("makemigrations")
    assert again.exit_code == 0
    assert again.output.strip() == "No changes detected"


def test_check_and_dry_run_write_nothing(project: Project) -> None:
    assert project.run("makemigrations", "--check").exit_code == 1
    dry = project.run("makemigrations", "--dry-run")
    assert dry.exit_code == 0
    assert "0001_initial.py" in dry.output
    assert not project.migrations.exists()
    project.run("makemigrations")
    assert project.run("makemigrations", "--check").exit_code == 0


def test_rename_prompt_yes_and_noinput(project: Project) -> None:
    project.run("makemigrations")
    project.models(MODELS.replace("body = models.TextField()", "content = models.TextField()"))

    result = project.run("makemigrations", input="y\n")

    assert result.exit_code == 0, result.output
    assert "Was Post.body renamed to Post.content" in result.output
    assert "+ Rename field body on post to content" in result.output


def test_noinput_says_remove_and_add(project: Project) -> None:
    project.models(MODELS.replace("body = models.TextField()", "body = models.TextField(default='')"))
    project.run("makemigrations")
    project.models(MODELS.replace("body = models.TextField()", "text = models.TextField(default='')"))

    result = project.run("makemigrations", "--noinput")

    assert result.exit_code == 0, result.output
    assert "not treating 'Post.body' -> 'text' as a rename" in result.output
    assert "+ Remove field body from post" in result.output
    assert "+ Add field text to post" in result.output


def test_not_null_without_default_fails_with_noinput_and_warns_when_given(
    project: Project,
) -> None:
    project.run("makemigrations")
    project.models(MODELS + "    views = models.IntegerField()\n")

    failed = project.run("makemigrations", "--noinput")
    assert failed.exit_code == 1
    assert failed.output.count("\n") == 1
    assert failed.output.startswith("Error: It is impossible to add the non-nullable field")

    result = project.run("makemigrations", input="1\n0\n")
    assert result.exit_code == 0, result.output
    assert "warning: post.views: adding a NOT NULL column without a default" in result.output
    assert "null=True" in result.output


def test_errors_are_one_line(project: Project) -> None:
    unknown = project.run("makemigrations", "nope")
    assert unknown.exit_code == 1
    assert unknown.output.startswith("Error: No installed app with label 'nope'")
    project.run("makemigrations")
    broken = project.migrations / "0002_broken.py"
    broken.write_text("class Migration(:\n")
    result = project.run("makemigrations")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert f"Syntax error in migration file {broken}" in result.output


def test_conflict_and_merge(project: Project) -> None:
    project.run("makemigrations")
    for name in ("0002_left", "0002_right"):
        (project.migrations / f"{name}.py").write_text(
            "from reinhardt_db import migrations\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [('{project.label}', '0001_initial')]\n"
        )

    conflict = project.run("makemigrations")
    assert conflict.exit_code == 1
    assert "0002_left, 0002_right" in conflict.output
    assert "--merge" in conflict.output

    merged = project.run("makemigrations", "--merge")
    assert merged.exit_code == 0, merged.output
    assert (project.migrations / "0003_merge_left_right.py").is_file()
    assert project.run("makemigrations").output.strip() == "No changes detected"


def test_empty_and_name(project: Project) -> None:
    project.run("makemigrations")

    result = project.run("makemigrations", "--empty", project.label, "--name", "backfill")

    assert result.exit_code == 0, result.output
    assert (project.migrations / "0002_backfill.py").is_file()
    assert project.run("makemigrations", "--empty").exit_code == 1
    assert project.run("makemigrations", "--name", "bad name").exit_code == 1


def test_showmigrations_marks_applied(project: Project) -> None:
    project.run("makemigrations")
    project.run("makemigrations", "--empty", project.label, "--name", "second")

    shown = project.run("showmigrations")
    assert shown.exit_code == 0, shown.output
    assert shown.output == f"{project.label}\n [ ] 0001_initial\n [ ] 0002_second\n"

    async def record() -> None:
        reinhardt_db.configure(databases={"default": f"sqlite:///{project.root}/db.sqlite3"})
        try:
            await MigrationRecorder(reinhardt_db.connections["default"]).record_applied(
                project.label, "0001_initial")
        finally:
            await reinhardt_db.close_all()
            reset_settings()

    asyncio.run(record())
    shown = project.run("showmigrations", project.label)
    assert shown.output == f"{project.label}\n [X] 0001_initial\n [ ] 0002_second\n"
    planned = project.run("showmigrations", "--plan")
    assert planned.output == (
        f"[X]  {project.label}.0001_initial\n[ ]  {project.label}.0002_second\n"
    )
    assert project.run("showmigrations", "nope").exit_code == 1
