"""Operations: state changes, descriptions, deconstruction and what they ask of the editor."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import migrations, models
from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.migrations.exceptions import IrreversibleError
from reinhardt_db.migrations.operations import Operation
from reinhardt_db.migrations.state import ProjectState

from ._helpers import Call, RecordingEditor

APP = "blog"


def post_state() -> ProjectState:
    state = ProjectState()
    migrations.CreateModel(
        "Post",
        fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("title", models.CharField(max_length=100)),
            ("body", models.TextField(null=True)),
        ],
        options={"indexes": [models.Index(fields=["title"], name="post_title_idx")]},
    ).state_forwards(APP, state)
    return state


async def forwards_and_back(op: Operation, state: ProjectState | None = None
                            ) -> tuple[list[Call], list[Call], ProjectState]:
    before = state or post_state()
    after = before.clone()
    op.state_forwards(APP, after)
    editor = RecordingEditor()
    await op.database_forwards(APP, editor, before, after)
    forwards = list(editor.calls)
    editor.calls.clear()
    await op.database_backwards(APP, editor, after, before)
    return forwards, editor.calls, after


def round_trip(op: Operation) -> None:
    name, args, kwargs = op.deconstruct()
    assert name == type(op).__name__
    assert getattr(migrations, name)(*args, **kwargs) == op


async def test_create_model() -> None:
    op = migrations.CreateModel("Tag", [("id", models.AutoField(primary_key=True)),
                                        ("name", models.CharField(max_length=10))])
    forwards, backwards, after = await forwards_and_back(op)

    assert after.get_model(APP, "tag").name == "Tag"
    assert forwards == [Call("create_model", "blog_tag", (("id", "name"),))]
    assert backwards == [Call("delete_model", "blog_tag", ())]
    assert op.describe() == "Create model Tag"
    assert op.migration_name_fragment == "tag"
    round_trip(op)
    with pytest.raises(ValueError, match="'name' is listed twice"):
        migrations.CreateModel("X", [("name", models.TextField()), ("name", models.TextField())])


async def test_delete_model() -> None:
    forwards, backwards, after = await forwards_and_back(migrations.DeleteModel("Post"))

    assert (APP, "post") not in after.models
    assert forwards == [Call("delete_model", "blog_post", ())]
    assert backwards == [Call("create_model", "blog_post", (("id", "title", "body"),))]
    round_trip(migrations.DeleteModel("Post"))


async def test_rename_model_renames_a_default_table() -> None:
    op = migrations.RenameModel("Post", "Article")
    forwards, backwards, after = await forwards_and_back(op)

    assert after.get_model(APP, "article").name == "Article"
    assert forwards == [Call("alter_db_table", "blog_article", ("blog_post", "blog_article"))]
    assert backwards == [Call("alter_db_table", "blog_post", ("blog_article", "blog_post"))]
    assert op.describe() == "Rename model Post to Article"
    round_trip(op)


async def test_rename_model_with_an_explicit_table_touches_nothing() -> None:
    state = post_state()
    migrations.AlterModelTable("post", "posts").state_forwards(APP, state)

    forwards, _, _ = await forwards_and_back(migrations.RenameModel("Post", "Article"), state)

    assert forwards == []


async def test_alter_model_table_and_options() -> None:
    forwards, backwards, after = await forwards_and_back(migrations.AlterModelTable("post", "p"))
    assert after.get_model(APP, "post").db_table == "p"
    assert forwards == [Call("alter_db_table", "p", ("blog_post", "p"))]
    assert backwards == [Call("alter_db_table", "blog_post", ("p", "blog_post"))]

    op = migrations.AlterModelOptions("post", {"ordering": ["-title"]})
    forwards, backwards, after = await forwards_and_back(op)
    assert after.get_model(APP, "post").options["ordering"] == ["-title"]
    assert forwards == backwards == []
    migrations.AlterModelOptions("post", {}).state_forwards(APP, after)
    assert "ordering" not in after.get_model(APP, "post").options
    round_trip(op)


async def test_add_field_with_a_one_off_default() -> None:
    op = migrations.AddField("post", "views", models.IntegerField(default=5),
                             preserve_default=False)
    forwards, backwards, after = await forwards_and_back(op)

    assert not after.get_model(APP, "post").fields["views"].has_default()
    assert forwards == [Call("add_field", "blog_post", ("views", 5))]
    assert backwards == [Call("remove_field", "blog_post", ("views",))]
    assert op.describe() == "Add field views to post"
    assert op.deconstruct()[2]["preserve_default"] is False
    round_trip(op)


async def test_remove_field_drops_the_index_using_it_from_the_state() -> None:
    op = migrations.RemoveField("post", "title")
    forwards, backwards, after = await forwards_and_back(op)

    assert "title" not in after.get_model(APP, "post").fields
    assert after.get_model(APP, "post").options["indexes"] == []
    assert forwards == [Call("remove_field", "blog_post", ("title",))]
    assert backwards == [Call("add_field", "blog_post", ("title", ""))]
    round_trip(op)


async def test_alter_field() -> None:
    op = migrations.AlterField("post", "title", models.CharField(max_length=200))
    forwards, backwards, after = await forwards_and_back(op)

    assert after.get_model(APP, "post").fields["title"].max_length == 200
    assert forwards == [Call("alter_field", "blog_post", ("title", "title", 100, 200, ""))]
    assert backwards == [Call("alter_field", "blog_post", ("title", "title", 200, 100, ""))]
    round_trip(op)


async def test_rename_field_follows_indexes_and_renames_the_column() -> None:
    op = migrations.RenameField("post", "title", "headline")
    forwards, backwards, after = await forwards_and_back(op)

    model = after.get_model(APP, "post")
    assert list(model.fields) == ["id", "headline", "body"]
    assert model.options["indexes"][0].fields == ["headline"]
    assert forwards == [Call("rename_field", "blog_post", ("title", "headline"))]
    assert backwards == [Call("rename_field", "blog_post", ("headline", "title"))]
    assert op.describe() == "Rename field title on post to headline"
    round_trip(op)


async def test_rename_field_keeping_its_column_runs_nothing() -> None:
    state = post_state()
    migrations.AlterField("post", "title", models.CharField(max_length=100, db_column="title")
                          ).state_forwards(APP, state)

    forwards, _, _ = await forwards_and_back(
        migrations.RenameField("post", "title", "headline"), state
    )
    assert forwards == []


async def test_index_operations() -> None:
    index = models.Index(fields=["body"], name="post_body_idx")
    forwards, backwards, after = await forwards_and_back(migrations.AddIndex("post", index))
    assert forwards == [Call("add_index", "blog_post", ("post_body_idx", False))]
    assert backwards == [Call("remove_index", "blog_post", ("post_body_idx", False))]
    assert len(after.get_model(APP, "post").options["indexes"]) == 2

    forwards, backwards, _ = await forwards_and_back(migrations.RemoveIndex("post", "post_title_idx"))
    assert forwards == [Call("remove_index", "blog_post", ("post_title_idx", False))]
    assert backwards == [Call("add_index", "blog_post", ("post_title_idx", False))]

    op = migrations.RenameIndex("post", new_name="t_idx", old_name="post_title_idx")
    forwards, backwards, after = await forwards_and_back(op)
    assert forwards == [Call("rename_index", "blog_post", ("post_title_idx", "t_idx"))]
    assert backwards == [Call("rename_index", "blog_post", ("t_idx", "post_title_idx"))]
    assert after.get_model(APP, "post").get_index_by_name("t_idx").fields == ["title"]
    for operation in (migrations.AddIndex("post", index), op,
                      migrations.RemoveIndex("post", "post_title_idx")):
        round_trip(operation)
    with pytest.raises(ValueError, match="require a name"):
        migrations.AddIndex("post", models.Index(fields=["body"]))


async def test_constraint_operations() -> None:
    check = models.CheckConstraint(condition=models.Q(title__startswith="A"), name="t_a")
    forwards, backwards, after = await forwards_and_back(migrations.AddConstraint("post", check))
    assert forwards == [Call("add_constraint", "blog_post", ("t_a",))]
    assert backwards == [Call("remove_constraint", "blog_post", ("t_a",))]

    forwards, backwards, _ = await forwards_and_back(
        migrations.RemoveConstraint("post", "t_a"), after
    )
    assert forwards == [Call("remove_constraint", "blog_post", ("t_a",))]
    assert backwards == [Call("add_constraint", "blog_post", ("t_a",))]
    round_trip(migrations.AddConstraint("post", check))
    round_trip(migrations.RemoveConstraint("post", "t_a"))


async def test_alter_unique_together() -> None:
    op = migrations.AlterUniqueTogether("post", [("title", "body")])
    forwards, backwards, after = await forwards_and_back(op)

    assert after.get_model(APP, "post").options["unique_together"] == {("title", "body")}
    assert forwards == [Call("alter_unique_together", "blog_post", ([], [("title", "body")]))]
    assert backwards == [Call("alter_unique_together", "blog_post", ([("title", "body")], []))]
    round_trip(op)


async def test_run_sql_statements_and_params() -> None:
    op = migrations.RunSQL(
        ["UPDATE t SET a = 1", ("UPDATE t SET b = %s", [2])],
        reverse_sql="UPDATE t SET a = 0",
    )
    editor = RecordingEditor()
    state = post_state()
    await op.database_forwards(APP, editor, state, state)
    await op.database_backwards(APP, editor, state, state)

    assert editor.statements == [
        ("UPDATE t SET a = 1", None), ("UPDATE t SET b = %s", [2]), ("UPDATE t SET a = 0", None),
    ]
    round_trip(op)


async def test_run_sql_without_reverse_is_irreversible() -> None:
    op = migrations.RunSQL("SELECT 1")
    assert not op.reversible
    state = post_state()
    with pytest.raises(IrreversibleError, match="reverse_sql"):
        await op.database_backwards(APP, RecordingEditor(), state, state)


def copy_titles(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model(APP, "Post")
    schema_editor.seen = [f.name for f in model._meta.fields]


async def async_copy(apps: Any, schema_editor: Any) -> None:
    schema_editor.seen_async = apps.get_model(f"{APP}.post").__name__


async def test_run_python_gets_historical_models_sync_or_async() -> None:
    state = post_state()
    editor: Any = RecordingEditor()

    await migrations.RunPython(copy_titles).database_forwards(APP, editor, state, state)
    await migrations.RunPython(copy_titles, async_copy).database_backwards(
        APP, editor, state, state
    )

    assert editor.seen == ["id", "title", "body"]
    assert editor.seen_async == "Post"
    op = migrations.RunPython(copy_titles, migrations.RunPython.noop)
    assert op.reversible
    assert not op.reduces_to_sql
    round_trip(op)


async def test_run_python_is_skipped_when_collecting_sql_and_irreversible_without_reverse() -> None:
    state = post_state()
    editor: Any = RecordingEditor(collect_sql=True)
    await migrations.RunPython(copy_titles).database_forwards(APP, editor, state, state)
    assert not hasattr(editor, "seen")
    with pytest.raises(IrreversibleError, match="copy_titles has no reverse_code"):
        await migrations.RunPython(copy_titles).database_backwards(
            APP, RecordingEditor(), state, state
        )
    with pytest.raises(ValueError, match="callable"):
        migrations.RunPython("not code")  # type: ignore[arg-type]


async def test_separate_database_and_state() -> None:
    op = migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunSQL("CREATE TABLE t (x int)", "DROP TABLE t")],
        state_operations=[migrations.AddField("post", "x", models.IntegerField(null=True))],
    )
    before = post_state()
    after = before.clone()
    op.state_forwards(APP, after)
    editor = RecordingEditor()
    await op.database_forwards(APP, editor, before, after)
    await op.database_backwards(APP, editor, after, before)

    assert "x" in after.get_model(APP, "post").fields
    assert [s for s, _ in editor.statements] == ["CREATE TABLE t (x int)", "DROP TABLE t"]
    round_trip(op)


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
async def test_postgres_extension_and_collation(vendor: str) -> None:
    state = post_state()
    editor = RecordingEditor(vendor=vendor)
    for op in (migrations.CreateExtension("hstore"),
               migrations.CreateCollation("german", "de-u-ks-level2", provider="icu",
                                          deterministic=False)):
        await op.database_forwards(APP, editor, state, state)
        await op.database_backwards(APP, editor, state, state)
        round_trip(op)
    await migrations.DropExtension("hstore").database_forwards(APP, editor, state, state)

    expected = [
        'CREATE EXTENSION IF NOT EXISTS "hstore"',
        'DROP EXTENSION IF EXISTS "hstore"',
        "CREATE COLLATION \"german\" (locale='de-u-ks-level2', provider='icu', "
        "deterministic=false)",
        'DROP COLLATION "german"',
        'DROP EXTENSION IF EXISTS "hstore"',
    ]
    assert [s for s, _ in editor.statements] == (expected if vendor == "postgresql" else [])


async def test_concurrent_index_operations() -> None:
    index = models.Index(fields=["body"], name="post_body_idx")
    op = migrations.AddIndexConcurrently("post", index)
    before = post_state()
    after = before.clone()
    op.state_forwards(APP, after)

    with pytest.raises(NotSupportedError, match="set atomic = False"):
        await op.database_forwards(APP, RecordingEditor(vendor="postgresql"), before, after)
    editor = RecordingEditor(vendor="postgresql", atomic=False)
    await op.database_forwards(APP, editor, before, after)
    await migrations.RemoveIndexConcurrently("post", "post_body_idx").database_forwards(
        APP, editor, after, before
    )
    sqlite = RecordingEditor(vendor="sqlite")
    await op.database_forwards(APP, sqlite, before, after)

    assert editor.calls == [Call("add_index", "blog_post", ("post_body_idx", True)),
                            Call("remove_index", "blog_post", ("post_body_idx", True))]
    assert sqlite.calls == [Call("add_index", "blog_post", ("post_body_idx", False))]
    assert op.describe().startswith("Concurrently create index post_body_idx")
    round_trip(op)
    round_trip(migrations.RemoveIndexConcurrently("post", "post_body_idx"))


async def test_unmanaged_models_get_no_ddl() -> None:
    state = ProjectState()
    op = migrations.CreateModel("Legacy", [("id", models.AutoField(primary_key=True))],
                                options={"managed": False})
    after = state.clone()
    op.state_forwards(APP, after)
    editor = RecordingEditor()
    await op.database_forwards(APP, editor, state, after)
    assert editor.calls == []
