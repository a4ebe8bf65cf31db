"""The optimizer folds operations into fewer equivalent ones."""

from __future__ import annotations

from reinhardt_db import migrations, models
from reinhardt_db.migrations.optimizer import MigrationOptimizer, optimize
from reinhardt_db.migrations.state import ProjectState


def create(name: str = "Post", **extra: models.Field) -> migrations.CreateModel:
    fields = [("id", models.AutoField(primary_key=True)), *extra.items()]
    return migrations.CreateModel(name, fields)


def replay(operations: list[migrations.Operation]) -> ProjectState:
    state = ProjectState()
    for op in operations:
        op.state_forwards("blog", state)
    return state


def check(operations: list[migrations.Operation], expected: list[migrations.Operation]) -> None:
    result = optimize(operations, "blog")
    assert result == expected
    assert replay(result) == replay(operations)


def test_create_model_absorbs_field_operations() -> None:
    title = models.CharField(max_length=10)
    check(
        [create(), migrations.AddField("post", "title", title),
         migrations.AlterField("post", "title", models.CharField(max_length=20)),
         migrations.RenameField("post", "title", "headline")],
        [create(headline=models.CharField(max_length=20))],
    )


def test_create_model_absorbs_options_indexes_and_constraints() -> None:
    index = models.Index(fields=["n"], name="n_idx")
    check_c = models.CheckConstraint(condition=models.Q(n__gte=0), name="n_gte_0")
    result = optimize([
        create(n=models.IntegerField()),
        migrations.AddIndex("post", index),
        migrations.AddConstraint("post", check_c),
        migrations.AlterModelOptions("post", {"ordering": ["n"]}),
        migrations.AlterModelTable("post", "posts"),
    ], "blog")

    [op] = result
    assert isinstance(op, migrations.CreateModel)
    assert op.options == {"indexes": [index], "constraints": [check_c], "ordering": ["n"],
                          "db_table": "posts"}


def test_create_then_delete_is_nothing_and_rename_renames_the_create() -> None:
    check([create(), migrations.DeleteModel("Post")], [])
    check([create(), migrations.RenameModel("Post", "Article")], [create("Article")])


def test_add_then_remove_field_is_nothing() -> None:
    check([create(), migrations.AddField("post", "x", models.IntegerField(default=0)),
           migrations.RemoveField("post", "x")], [create()])


def test_alter_then_remove_keeps_the_remove() -> None:
    assert optimize([migrations.AlterField("post", "x", models.IntegerField()),
                     migrations.RemoveField("post", "x")], "blog") == [
        migrations.RemoveField("post", "x")
    ]


def test_renames_chain() -> None:
    assert optimize([migrations.RenameField("post", "a", "b"),
                     migrations.RenameField("post", "b", "c")], "blog") == [
        migrations.RenameField("post", "a", "c")
    ]
    assert optimize([migrations.RenameModel("A", "B"), migrations.RenameModel("B", "C")],
                    "blog") == [migrations.RenameModel("A", "C")]


def test_operations_on_other_models_move_across() -> None:
    tag = create("Tag")
    check(
        [create(), tag, migrations.AddField("post", "n", models.IntegerField(default=0))],
        [tag, create(n=models.IntegerField(default=0))],
    )


def test_run_python_is_a_barrier() -> None:
    operations = [
        create(),
        migrations.RunPython(migrations.RunPython.noop),
        migrations.AddField("post", "n", models.IntegerField(default=0)),
    ]
    assert optimize(operations, "blog") == operations


def test_one_off_default_is_dropped_inside_create_model() -> None:
    [op] = optimize([create(), migrations.AddField("post", "n", models.IntegerField(default=1),
                                                   preserve_default=False)], "blog")
    assert isinstance(op, migrations.CreateModel)
    assert not dict(op.fields)["n"].has_default()


def test_add_then_remove_index_is_nothing() -> None:
    index = models.Index(fields=["n"], name="n_idx")
    operations = [migrations.AddIndex("post", index), migrations.RemoveIndex("post", "n_idx")]
    assert optimize(operations, "blog") == []


def test_optimizer_counts_passes_and_stops() -> None:
    optimizer = MigrationOptimizer()
    optimizer.optimize([create(), migrations.DeleteModel("Post")], "blog")
    assert optimizer.passes == 2
