"""Migration.apply/unapply run operations in order on the editor; names come from them."""

from __future__ import annotations

import pytest

from reinhardt_db import migrations, models
from reinhardt_db.migrations.exceptions import IrreversibleError
from reinhardt_db.migrations.state import ProjectState

from ._helpers import Call, RecordingEditor


class Initial(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel("Post", [("id", models.AutoField(primary_key=True))]),
        migrations.AddField("post", "n", models.IntegerField(default=1)),
        migrations.RunSQL("UPDATE blog_post SET n = 2", migrations.RunSQL.noop),
    ]


async def test_apply_then_unapply() -> None:
    migration = Initial("0001_initial", "blog")
    editor = RecordingEditor()

    after = await migration.apply(ProjectState(), editor)
    await migration.unapply(ProjectState(), editor)

    assert list(after.get_model("blog", "post").fields) == ["id", "n"]
    assert editor.calls == [
        Call("create_model", "blog_post", (("id",),)),
        Call("add_field", "blog_post", ("n", 1)),
        Call("remove_field", "blog_post", ("n",)),
        Call("delete_model", "blog_post", ()),
    ]
    assert [s for s, _ in editor.statements] == ["UPDATE blog_post SET n = 2"]


async def test_collect_sql_notes_each_operation_and_skips_python() -> None:
    class WithPython(migrations.Migration):
        operations = [migrations.RunPython(migrations.RunPython.noop),
                      migrations.RunSQL("SELECT 1")]

    editor = RecordingEditor(collect_sql=True)
    await WithPython("0002_x", "blog").apply(ProjectState(), editor)

    assert [s for s, _ in editor.statements] == [
        "-- Raw Python operation RunPython.noop",
        "-- (this operation cannot be written as SQL; it runs only in migrate)",
        "-- Raw SQL operation",
        "SELECT 1",
    ]


async def test_unapply_refuses_before_running_anything() -> None:
    class OneWay(migrations.Migration):
        operations = [migrations.RunSQL("SELECT 1", "SELECT 2"), migrations.RunSQL("SELECT 3")]

    editor = RecordingEditor()
    with pytest.raises(IrreversibleError, match=r"Raw SQL operation in blog\.0003_x"):
        await OneWay("0003_x", "blog").unapply(ProjectState(), editor)
    assert editor.statements == []


def test_suggest_name() -> None:
    assert Initial("x", "blog").suggest_name() == "initial"

    class Two(migrations.Migration):
        operations = [migrations.AddField("post", "a", models.IntegerField(default=0)),
                      migrations.RemoveField("post", "b")]

    assert Two("x", "blog").suggest_name() == "post_a_remove_post_b"

    class Python(migrations.Migration):
        operations = [migrations.RunPython(migrations.RunPython.noop)]

    assert Python("x", "blog").suggest_name().startswith("auto_")


def test_instances_own_their_lists() -> None:
    first, second = Initial("a", "blog"), Initial("b", "blog")
    first.operations.clear()
    assert len(second.operations) == 3
    assert Initial.operations and first != second
    assert str(second) == "blog.b"
