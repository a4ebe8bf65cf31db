"""ProjectState/ModelState and historical models rendered from them."""

from __future__ import annotations

import pytest

from reinhardt_db import migrations, models
from reinhardt_db.apps import apps as project_apps
from reinhardt_db.exceptions import FieldDoesNotExist
from reinhardt_db.migrations.state import ModelState, ProjectState

from ._helpers import App, define


def test_from_model_keeps_fields_and_declared_options(app: App) -> None:
    Post = define(
        app, "Post", title=models.CharField(max_length=50), n=models.IntegerField(default=0),
        meta={"ordering": ["-n"], "unique_together": ["title", "n"],
              "indexes": [models.Index(fields=["n"])],
              "constraints": [models.CheckConstraint(condition=models.Q(n__gte=0), name="c")]},
    )

    state = ModelState.from_model(Post)

    assert state.name == "Post"
    assert list(state.fields) == ["id", "title", "n"]
    assert all(field.model is None for field in state.fields.values())
    assert state.options["ordering"] == ["-n"]
    assert state.options["unique_together"] == {("title", "n")}
    assert state.options["indexes"][0].name == f"{app.label}_post_n_idx"
    assert "db_table" not in state.options
    assert state.db_table == f"{app.label}_post"


def test_model_state_refuses_bound_fields_and_unnamed_indexes(app: App) -> None:
    Post = define(app, "Post", title=models.CharField(max_length=5))
    with pytest.raises(ValueError, match="cannot be bound"):
        ModelState(app.label, "X", [("title", Post._meta.get_field("title"))])
    with pytest.raises(ValueError, match="require a name"):
        ModelState(app.label, "X", [], {"indexes": [models.Index(fields=["a"])]})


def blog_state() -> ProjectState:
    state = ProjectState()
    migrations.CreateModel("Post", [
        ("id", models.BigAutoField(primary_key=True)),
        ("title", models.CharField(max_length=50)),
        ("n", models.IntegerField(default=1)),
    ], options={"ordering": ["title"], "unique_together": {("title", "n")},
                "indexes": [models.Index(fields=["-title"], name="t_idx")]}).state_forwards(
        "blog", state)
    migrations.CreateModel("Tag", [("id", models.AutoField(primary_key=True))]).state_forwards(
        "blog", state)
    return state


def test_historical_models_are_classes_outside_the_project_registry() -> None:
    state = blog_state()

    Post = state.apps.get_model("blog", "Post")

    assert Post is state.apps.get_model("blog.post")
    assert [f.name for f in Post._meta.fields] == ["id", "title", "n"]
    assert Post._meta.db_table == "blog_post"
    assert Post._meta.get_field("n").get_default() == 1
    assert Post.__module__ == "__fake__"
    assert "blog" not in project_apps.all_models
    with pytest.raises(LookupError, match=r"No model 'blog\.Pots'.*did you mean 'Post'"):
        state.apps.get_model("blog", "Pots")


def test_a_change_rerenders_only_the_model_it_touches() -> None:
    state = blog_state()
    Post, Tag = state.apps.get_model("blog", "Post"), state.apps.get_model("blog", "Tag")

    migrations.AddField("post", "views", models.IntegerField(default=0)).state_forwards(
        "blog", state)

    assert state.apps.get_model("blog", "Tag") is Tag
    NewPost = state.apps.get_model("blog", "Post")
    assert NewPost is not Post
    assert "views" in NewPost._meta.fields_map
    assert NewPost._meta.table.name == "blog_post"


def test_clone_is_independent() -> None:
    state = blog_state()
    copy = state.clone()

    migrations.RemoveField("post", "n").state_forwards("blog", copy)

    assert "n" in state.get_model("blog", "post").fields
    assert state.get_model("blog", "post").options["unique_together"] == {("title", "n")}
    assert "unique_together" not in copy.get_model("blog", "post").options
    assert copy != state


def test_rename_field_follows_options() -> None:
    state = blog_state()
    state.rename_field("blog", "post", "title", "headline")

    options = state.get_model("blog", "post").options
    assert options["ordering"] == ["headline"]
    assert options["unique_together"] == {("headline", "n")}
    assert options["indexes"][0].fields == ["-headline"]


def test_errors_name_the_model_and_a_hint() -> None:
    state = blog_state()
    with pytest.raises(LookupError, match=r"No model 'blog\.Pots' in the migration state"):
        state.get_model("blog", "Pots")
    with pytest.raises(FieldDoesNotExist, match="did you mean 'title'"):
        state.get_model("blog", "post").get_field("titel")
    with pytest.raises(ValueError, match="already exists"):
        state.add_model(ModelState("blog", "Tag", []))


def test_composite_primary_key_renders() -> None:
    state = ProjectState()
    migrations.CreateModel("Line", [
        ("pk", models.CompositePrimaryKey("order_id", "line_no")),
        ("order_id", models.IntegerField()),
        ("line_no", models.IntegerField()),
    ]).state_forwards("shop", state)

    Line = state.apps.get_model("shop", "Line")

    assert [f.name for f in Line._meta.pk_fields] == ["order_id", "line_no"]


def test_from_apps_equals_the_replayed_state(app: App) -> None:
    define(app, "Post", title=models.CharField(max_length=5),
           meta={"indexes": [models.Index(fields=["title"], name="i")]})
    current = ProjectState.from_apps(app.registry)
    replayed = ProjectState()
    for model_state in current:
        migrations.CreateModel(model_state.name, list(model_state.fields.items()),
                               model_state.options).state_forwards(app.label, replayed)

    assert replayed == current
