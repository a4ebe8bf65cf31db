"""The writer: an app from nothing gets a clean, loadable 0001_initial.py."""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

from reinhardt_db import migrations, models
from reinhardt_db.migrations.autodetector import MigrationAutodetector
from reinhardt_db.migrations.state import ProjectState
from reinhardt_db.migrations.writer import MigrationWriter, format_imports, load_template

from ._helpers import App, define


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"


def ruff(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache",
         "--select", "E,F,W,I,B,UP,RUF", "--ignore", "RUF012", "--line-length", "88", "--target-version", "py311",
         str(path)],
        cwd=cwd, capture_output=True, text=True, check=False,
    )


def declare_models(app: App) -> None:
    # A callable default from the project's own code (a first-party import).
    (app.path / "utils.py").write_text("def default_score() -> int:\n    return 7\n")
    default_score = importlib.import_module(f"{app.label}.utils").default_score

    class Author(models.Model):
        name = models.CharField(max_length=100, help_text="Shown on every post the author writes")
        email = models.EmailField(unique=True)
        role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
        score = models.IntegerField(default=default_score,
                                    validators=[models.MinValueValidator(0)])
        joined = models.DateTimeField(default=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC))

        class Meta:
            app_label = app.label
            ordering = ["name"]
            indexes = [models.Index(fields=["-joined", "name"], name="author_joined_idx")]
            constraints = [
                models.CheckConstraint(condition=models.Q(score__gte=0), name="score_gte_0"),
                models.UniqueConstraint(fields=["name", "role"], name="uniq_name_role"),
            ]

    class Post(models.Model):
        uid = models.UUIDField(default=uuid.UUID("12345678123456781234567812345678"))
        title = models.CharField(max_length=200)
        price = models.DecimalField(max_digits=8, decimal_places=2,
                                    default=decimal.Decimal("9.90"))
        body = models.TextField(blank=True)
        meta = models.JSONField(default=dict)
        day = models.DateField(null=True)

        class Meta:
            app_label = app.label
            db_table = "blog_posts"
            unique_together = [("title", "day")]


def test_initial_migration_is_clean_python_that_loads_back_with_no_changes(app: App) -> None:
    declare_models(app)

    [path] = app.makemigrations()

    assert path == app.migrations_dir / "0001_initial.py"
    source = path.read_text()
    assert "class Migration(migrations.Migration):" in source
    assert "initial = True" in source
    assert "from reinhardt_db import migrations, models" in source
    assert f"{app.label}.utils.default_score" in source
    assert 'default="member"' in source  # a Choices member is written as its value
    result = ruff(path, app.path.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    loader = app.loader()
    assert list(loader.disk_migrations) == [(app.label, "0001_initial")]
    assert loader.get_migration(app.label, "0001_initial").initial is True
    assert app.detect() == {}
    replayed = loader.project_state()
    assert replayed == ProjectState.from_apps(app.registry)


def test_second_migration_depends_on_the_first_and_is_numbered(app: App) -> None:
    define(app, "Note", text=models.TextField())
    app.makemigrations()
    define(app, "Note", text=models.TextField(), stars=models.PositiveSmallIntegerField(default=0))

    [path] = app.makemigrations()

    assert path.name == "0002_note_stars.py"
    source = path.read_text()
    assert f'("{app.label}", "0001_initial")' in source
    assert ruff(path, app.path.parent).returncode == 0
    assert app.detect() == {}


def test_template_is_read_through_load_template() -> None:
    template = load_template("migration.py-tpl")

    assert "${operations}" in template.template


def test_templates_ship_inside_the_built_wheel(tmp_path: Path) -> None:
    # What an installed copy finds: migrations_template/ packed as reinhardt_db/_templates.
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(root)],
        check=True, timeout=300, capture_output=True,
    )
    (wheel,) = tmp_path.glob("reinhardt_db-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        text = archive.read("reinhardt_db/_templates/migration.py-tpl").decode()
    assert "reinhardt_db/_templates/__init__.py" in names
    assert text == (root / "migrations_template" / "migration.py-tpl").read_text()


def test_attributes_replaces_run_before_and_atomic_are_written(app: App) -> None:
    class Migration(migrations.Migration):
        atomic = False
        replaces = [(app.label, "0001_a"), (app.label, "0002_b")]
        run_before = [("other", "0001_initial")]
        operations = [migrations.RunSQL("SELECT 1", migrations.RunSQL.noop)]

    source = MigrationWriter(Migration("0001_squashed", app.label),
                             include_header=False).as_string()

    namespace: dict[str, object] = {}
    exec(compile(source, "<migration>", "exec"), namespace)
    loaded = namespace["Migration"]("0001_squashed", app.label)  # type: ignore[operator]
    assert loaded.atomic is False
    assert loaded.replaces == [(app.label, "0001_a"), (app.label, "0002_b")]
    assert loaded.run_before == [("other", "0001_initial")]
    assert loaded.operations == [migrations.RunSQL("SELECT 1", "")]
    assert source.startswith("from reinhardt_db import migrations\n")


def test_long_values_break_one_argument_per_line(app: App) -> None:
    class Migration(migrations.Migration):
        operations = [
            migrations.AddField(
                "post", "summary",
                models.CharField(max_length=250, default="", help_text="x" * 40,
                                 verbose_name="a summary of the post in one line"),
            )
        ]

    source = MigrationWriter(Migration("0002_x", app.label), include_header=False).as_string()

    assert max(len(line) for line in source.splitlines()) <= 88
    assert '                help_text="' in source


def test_imports_are_grouped_and_sorted() -> None:
    text = format_imports({
        "import uuid", "import datetime", "from reinhardt_db import models",
        "from reinhardt_db import migrations", "import myproject.utils",
    })

    assert text == (
        "import datetime\nimport uuid\n\n"
        "from reinhardt_db import migrations, models\n\n"
        "import myproject.utils"
    )


def test_empty_app_state_gives_no_migration(app: App) -> None:
    detector = MigrationAutodetector(ProjectState(), ProjectState.from_apps(app.registry))

    assert detector.changes(app.loader().graph) == {}
