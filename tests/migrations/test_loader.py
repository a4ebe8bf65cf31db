"""The loader: migration files of installed apps, squashes, errors naming the file."""

from __future__ import annotations

import pytest

from reinhardt_db.migrations.exceptions import (
    AmbiguityError,
    BadMigrationError,
    CircularDependencyError,
    ConflictingMigrationsError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)

from ._helpers import App

HEAD = "from reinhardt_db import migrations, models\n\n\n"


def migration(deps: list[tuple[str, str]] | None = None, body: str = "", extra: str = "") -> str:
    return HEAD + (
        "class Migration(migrations.Migration):\n"
        f"    dependencies = {deps or []!r}\n"
        f"{extra}"
        f"    operations = [{body}]\n"
    )


CREATE = ('migrations.CreateModel("Post", [("id", models.AutoField(primary_key=True))])')


def test_loads_files_and_builds_the_chain(app: App) -> None:
    app.write_migration("0001_initial", migration(body=CREATE, extra="    initial = True\n"))
    app.write_migration("0002_more", migration(
        [(app.label, "0001_initial")],
        'migrations.AddField("post", "n", models.IntegerField(default=0))'))
    app.write_migration("_helper", "x = 1\n")

    loader = app.loader()

    assert sorted(loader.disk_migrations) == [(app.label, "0001_initial"), (app.label, "0002_more")]
    assert loader.migrated_apps == {app.label}
    assert loader.graph.leaf_nodes(app.label) == [(app.label, "0002_more")]
    assert list(loader.project_state().get_model(app.label, "post").fields) == ["id", "n"]
    assert loader.get_migration_by_prefix(app.label, "0002").name == "0002_more"


def test_app_without_migrations_is_unmigrated(app: App) -> None:
    loader = app.loader()
    assert loader.unmigrated_apps == {app.label}
    assert loader.disk_migrations == {}


def test_syntax_error_names_the_file(app: App) -> None:
    path = app.write_migration("0001_initial", "class Migration(:\n")

    with pytest.raises(BadMigrationError, match=f"Syntax error in migration file {path}, line 1"):
        app.loader()


def test_file_without_migration_class(app: App) -> None:
    path = app.write_migration("0001_initial", "x = 1\n")
    with pytest.raises(BadMigrationError, match=f"{path} has no Migration class"):
        app.loader()


def test_import_error_names_the_file(app: App) -> None:
    path = app.write_migration("0001_initial", "import does_not_exist_anywhere\n")
    with pytest.raises(BadMigrationError, match=f"{path} failed to import: ModuleNotFoundError"):
        app.loader()


def test_missing_dependency_names_both(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_next", migration([(app.label, "0001_initail")]))

    with pytest.raises(NodeNotFoundError) as info:
        app.loader()

    message = str(info.value)
    assert f"{app.label}.0002_next depends on nonexistent migration {app.label}.0001_initail" in message
    assert "did you mean '0001_initial'" in message


def test_cycle(app: App) -> None:
    app.write_migration("0001_a", migration([(app.label, "0002_b")]))
    app.write_migration("0002_b", migration([(app.label, "0001_a")]))

    with pytest.raises(CircularDependencyError, match=f"{app.label}.0001_a"):
        app.loader()


def test_two_leaves_are_a_conflict_naming_both(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_left", migration([(app.label, "0001_initial")]))
    app.write_migration("0002_right", migration([(app.label, "0001_initial")]))
    loader = app.loader()

    assert loader.detect_conflicts() == {app.label: ["0002_left", "0002_right"]}
    with pytest.raises(ConflictingMigrationsError,
                       match=f"{app.label}: 0002_left, 0002_right.*--merge"):
        loader.check_conflicts()


def test_first_and_latest_dependencies(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_next", migration([(app.label, "__first__")]))
    app.write_migration("0003_last", migration([(app.label, "__latest__")]))

    graph = app.loader().graph

    assert graph.parents[(app.label, "0002_next")] == {(app.label, "0001_initial")}
    assert graph.parents[(app.label, "0003_last")] == {(app.label, "0002_next")}


def squashed(app: App) -> None:
    app.write_migration("0001_initial", migration(body=CREATE))
    app.write_migration("0002_n", migration(
        [(app.label, "0001_initial")],
        'migrations.AddField("post", "n", models.IntegerField(default=0))'))
    app.write_migration("0001_squashed_0002_n", migration(
        body=CREATE[:-2] + ', ("n", models.IntegerField(default=0))])',
        extra=f"    replaces = [({app.label!r}, '0001_initial'), ({app.label!r}, '0002_n')]\n"))
    app.write_migration("0003_m", migration(
        [(app.label, "0002_n")],
        'migrations.AddField("post", "m", models.IntegerField(default=0))'))


def test_squashed_migration_replaces_when_none_or_all_applied(app: App) -> None:
    squashed(app)
    for applied in ([], [(app.label, "0001_initial"), (app.label, "0002_n")]):
        graph = app.loader(applied).graph
        assert sorted(name for _, name in graph.nodes) == ["0001_squashed_0002_n", "0003_m"]
        assert graph.parents[(app.label, "0003_m")] == {(app.label, "0001_squashed_0002_n")}


def test_partly_applied_squash_keeps_the_originals(app: App) -> None:
    squashed(app)
    loader = app.loader([(app.label, "0001_initial")])

    assert sorted(name for _, name in loader.graph.nodes) == ["0001_initial", "0002_n", "0003_m"]
    assert list(loader.project_state().get_model(app.label, "post").fields) == ["id", "n", "m"]


def test_prefix_lookup_errors(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_a", migration([(app.label, "0001_initial")]))
    app.write_migration("0002_b", migration([(app.label, "0002_a")]))
    loader = app.loader()

    with pytest.raises(AmbiguityError, match="0002_a, 0002_b"):
        loader.get_migration_by_prefix(app.label, "0002")
    with pytest.raises(NodeNotFoundError, match="Cannot find a migration matching '0009'"):
        loader.get_migration_by_prefix(app.label, "0009")


def test_inconsistent_history(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_next", migration([(app.label, "0001_initial")]))
    loader = app.loader([(app.label, "0002_next")])

    with pytest.raises(InconsistentMigrationHistory,
                       match=f"{app.label}.0002_next is applied before its dependency"):
        loader.check_consistent_history()


def test_run_before_orders_a_migration_ahead_of_another(app: App) -> None:
    # 0003_seed declares it must run before 0002_index, which does not depend on it.
    app.write_migration("0001_initial", migration(body=CREATE))
    app.write_migration("0002_index", migration([(app.label, "0001_initial")]))
    app.write_migration("0003_seed", migration(
        [(app.label, "0001_initial")], extra=f"    run_before = [({app.label!r}, '0002_index')]\n"
    ))
    loader = app.loader()

    assert loader.graph.leaf_nodes(app.label) == [(app.label, "0002_index")]
    assert loader.graph.forwards_plan((app.label, "0002_index")) == [
        (app.label, "0001_initial"), (app.label, "0003_seed"), (app.label, "0002_index"),
    ]
    assert loader.detect_conflicts() == {}


def test_run_before_a_missing_migration_names_both(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_seed", migration(
        [(app.label, "0001_initial")], extra=f"    run_before = [({app.label!r}, '0001_intial')]\n"
    ))

    with pytest.raises(NodeNotFoundError) as info:
        app.loader()
    message = str(info.value)
    assert (
        f"{app.label}.0002_seed lists nonexistent migration {app.label}.0001_intial" in message
    )
    assert "did you mean '0001_initial'" in message and "run_before" in message


def test_run_before_a_migration_it_depends_on_is_a_cycle(app: App) -> None:
    app.write_migration("0001_initial", migration())
    app.write_migration("0002_next", migration(
        [(app.label, "0001_initial")], extra=f"    run_before = [({app.label!r}, '0001_initial')]\n"
    ))

    with pytest.raises(CircularDependencyError, match=f"{app.label}.0001_initial"):
        app.loader()
