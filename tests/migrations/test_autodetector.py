"""The autodetector: model changes -> operations, ordered and numbered."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import migrations, models
from reinhardt_db.migrations.autodetector import MigrationAutodetector
from reinhardt_db.migrations.exceptions import MigrationQuestionError
from reinhardt_db.migrations.graph import MigrationGraph
from reinhardt_db.migrations.questioner import (
    MigrationQuestioner,
    NonInteractiveMigrationQuestioner,
)
from reinhardt_db.migrations.state import ModelState, ProjectState

from ._helpers import App, define, undefine


def ops(app: App, questioner: MigrationQuestioner | None = None) -> list[Any]:
    changes = app.detect(questioner)
    if not changes:
        return []
    [migration] = changes[app.label]
    return migration.operations


def kinds(operations: list[Any]) -> list[str]:
    return [type(op).__name__ for op in operations]


class Yes(MigrationQuestioner):
    def __init__(self, default: Any = None) -> None:
        super().__init__({"ask_rename": True, "ask_rename_model": True})
        self.default = default

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        return self.default

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        return self.default


def base(app: App, **extra: Any) -> type[Any]:
    fields = {"title": models.CharField(max_length=100), "body": models.TextField()}
    fields.update(extra)
    return define(app, "Post", **fields)


def test_created_model_is_one_create_model_with_its_options(app: App) -> None:
    base(app)

    [op] = ops(app)

    assert isinstance(op, migrations.CreateModel)
    assert op.name == "Post"
    assert [name for name, _ in op.fields] == ["id", "title", "body"]


def test_no_changes_after_makemigrations(app: App) -> None:
    base(app)
    app.makemigrations()

    assert app.detect() == {}


def _headline(self: Any) -> str:
    return str(self.title).upper()


def _headline_sql(cls: Any) -> Any:
    return models.Upper("title")


def test_hybrid_properties_are_no_columns(app: App) -> None:
    base(app, headline=models.hybrid_property(_headline, expr=_headline_sql))

    [op] = ops(app)
    assert [name for name, _ in op.fields] == ["id", "title", "body"]
    state = ProjectState.from_apps(app.registry).models[(app.label, "post")]
    assert list(state.fields) == ["id", "title", "body"]
    [written] = app.makemigrations()
    assert "headline" not in written.read_text()
    # Adding, changing or removing a hybrid changes no table.
    base(app, shout=models.hybrid_property(_headline, expr=_headline_sql))
    assert app.detect() == {}
    base(app)
    assert app.detect() == {}


def test_added_field_with_default(app: App) -> None:
    base(app)
    app.makemigrations()
    base(app, views=models.IntegerField(default=0))

    [op] = ops(app)

    assert isinstance(op, migrations.AddField)
    assert (op.model_name, op.name, op.preserve_default) == ("post", "views", True)


def test_added_not_null_field_without_default_fails_clearly_with_noinput(app: App) -> None:
    base(app)
    app.makemigrations()
    base(app, views=models.IntegerField())

    with pytest.raises(MigrationQuestionError, match="non-nullable field 'views' to Post"):
        app.detect(NonInteractiveMigrationQuestioner())


def test_added_not_null_field_gets_the_one_off_default_given(app: App) -> None:
    base(app)
    app.makemigrations()
    base(app, views=models.IntegerField())

    [op] = ops(app, Yes(default=3))

    assert isinstance(op, migrations.AddField)
    assert op.preserve_default is False
    assert op.field.default == 3
    app.makemigrations(Yes(default=3))
    assert app.detect() == {}  # the state keeps no default, like the model


def test_fields_that_need_no_default(app: App) -> None:
    base(app)
    app.makemigrations()
    base(app, a=models.IntegerField(null=True), b=models.CharField(max_length=5, blank=True),
         c=models.DateTimeField(auto_now_add=True), d=models.IntegerField(db_default=1))

    assert kinds(ops(app, NonInteractiveMigrationQuestioner())) == ["AddField"] * 4


def test_removed_field(app: App) -> None:
    base(app)
    app.makemigrations()
    define(app, "Post", title=models.CharField(max_length=100))

    [op] = ops(app)

    assert isinstance(op, migrations.RemoveField)
    assert op.name == "body"


@pytest.mark.parametrize(
    "new_field",
    [
        models.CharField(max_length=200),
        models.CharField(max_length=100, null=True),
        models.CharField(max_length=100, default="x"),
        models.CharField(max_length=100, unique=True),
        models.CharField(max_length=100, db_index=True),
        models.TextField(),
    ],
    ids=["max_length", "null", "default", "unique", "db_index", "type"],
)
def test_altered_field(app: App, new_field: Any) -> None:
    base(app)
    app.makemigrations()
    base(app, title=new_field)

    [op] = ops(app)

    assert isinstance(op, migrations.AlterField)
    assert op.name == "title"
    assert op.field.deconstruct()[2:] == new_field.deconstruct()[2:]


def test_null_to_not_null_asks_for_a_one_off_default(app: App) -> None:
    base(app, note=models.CharField(max_length=10, null=True))
    app.makemigrations()
    base(app, note=models.CharField(max_length=10))

    with pytest.raises(MigrationQuestionError, match="'note' on Post to non-nullable"):
        app.detect(NonInteractiveMigrationQuestioner())
    [op] = ops(app, Yes(default="-"))
    assert isinstance(op, migrations.AlterField)
    assert (op.preserve_default, op.field.default) == (False, "-")


def test_renamed_field_when_the_answer_is_yes(app: App) -> None:
    base(app)
    app.makemigrations()
    define(app, "Post", title=models.CharField(max_length=100), text=models.TextField())

    [op] = ops(app, Yes())

    assert isinstance(op, migrations.RenameField)
    assert (op.old_name, op.new_name) == ("body", "text")


def test_noinput_never_guesses_a_rename_and_says_so(app: App) -> None:
    base(app, body=models.TextField(default=""))
    app.makemigrations()
    define(app, "Post", title=models.CharField(max_length=100),
           text=models.TextField(default=""))
    said: list[str] = []

    operations = ops(app, NonInteractiveMigrationQuestioner(log=said.append))

    assert kinds(operations) == ["AddField", "RemoveField"]
    assert len(said) == 1
    assert "'Post.body' -> 'text'" in said[0]
    assert "removed (with its data)" in said[0]


def test_noinput_rename_of_a_required_field_fails_clearly(app: App) -> None:
    base(app)
    app.makemigrations()
    define(app, "Post", title=models.CharField(max_length=100), text=models.TextField())

    with pytest.raises(MigrationQuestionError, match="non-nullable field 'text'"):
        app.detect(NonInteractiveMigrationQuestioner())


def test_rename_keeping_the_column_with_db_column(app: App) -> None:
    base(app)
    app.makemigrations()
    define(app, "Post", title=models.CharField(max_length=100),
           text=models.TextField(db_column="body"))

    assert kinds(ops(app, Yes())) == ["RenameField", "AlterField"]


def test_renamed_model_when_the_answer_is_yes_otherwise_delete_and_create(app: App) -> None:
    base(app)
    app.makemigrations()
    undefine(app, "Post")
    define(app, "Article", title=models.CharField(max_length=100), body=models.TextField())

    [op] = ops(app, Yes())
    assert isinstance(op, migrations.RenameModel)
    assert (op.old_name, op.new_name) == ("Post", "Article")
    said: list[str] = []
    operations = ops(app, NonInteractiveMigrationQuestioner(log=said.append))
    assert kinds(operations) == ["DeleteModel", "CreateModel"]
    assert "model 'Post' -> 'Article'" in said[0]


def test_deleted_model(app: App) -> None:
    base(app)
    define(app, "Tag", name=models.CharField(max_length=10))
    app.makemigrations()
    undefine(app, "Tag")

    [op] = ops(app)

    assert isinstance(op, migrations.DeleteModel)
    assert op.name == "Tag"


def test_indexes_added_removed_and_renamed(app: App) -> None:
    idx = models.Index(fields=["title"], name="post_title_idx")
    define(app, "Post", title=models.CharField(max_length=100), meta={"indexes": [idx]})
    app.makemigrations()

    renamed = models.Index(fields=["title"], name="post_title_2_idx")
    define(app, "Post", title=models.CharField(max_length=100), meta={"indexes": [renamed]})
    [op] = ops(app)
    assert isinstance(op, migrations.RenameIndex)
    assert (op.old_name, op.new_name) == ("post_title_idx", "post_title_2_idx")

    other = models.Index(fields=["-title"], name="post_title_idx")
    define(app, "Post", title=models.CharField(max_length=100), meta={"indexes": [other]})
    assert kinds(ops(app)) == ["RemoveIndex", "AddIndex"]

    define(app, "Post", title=models.CharField(max_length=100))
    assert kinds(ops(app)) == ["RemoveIndex"]


def test_constraints_added_changed_and_removed(app: App) -> None:
    check = models.CheckConstraint(condition=models.Q(n__gte=0), name="n_gte_0")
    define(app, "Post", n=models.IntegerField())
    app.makemigrations()

    define(app, "Post", n=models.IntegerField(), meta={"constraints": [check]})
    [op] = ops(app)
    assert isinstance(op, migrations.AddConstraint)
    app.makemigrations()

    changed = models.CheckConstraint(condition=models.Q(n__gte=1), name="n_gte_0")
    define(app, "Post", n=models.IntegerField(), meta={"constraints": [changed]})
    assert kinds(ops(app)) == ["RemoveConstraint", "AddConstraint"]

    define(app, "Post", n=models.IntegerField())
    assert kinds(ops(app)) == ["RemoveConstraint"]


def test_unique_together_and_a_removed_field_in_the_group(app: App) -> None:
    fields = {"a": models.IntegerField(), "b": models.IntegerField()}
    define(app, "Post", **fields, meta={"unique_together": [("a", "b")]})
    app.makemigrations()

    define(app, "Post", a=models.IntegerField())

    operations = ops(app)
    assert kinds(operations) == ["AlterUniqueTogether", "RemoveField"]
    assert operations[0].unique_together == set()


def test_unique_together_added(app: App) -> None:
    define(app, "Post", a=models.IntegerField(), b=models.IntegerField())
    app.makemigrations()
    define(app, "Post", a=models.IntegerField(), b=models.IntegerField(),
           meta={"unique_together": ["a", "b"]})

    [op] = ops(app)

    assert isinstance(op, migrations.AlterUniqueTogether)
    assert op.unique_together == {("a", "b")}


def test_table_and_python_only_options(app: App) -> None:
    base(app)
    app.makemigrations()
    base(app)  # unchanged declaration, then new options:
    define(app, "Post", title=models.CharField(max_length=100), body=models.TextField(),
           meta={"db_table": "posts", "ordering": ["-title"], "verbose_name": "entry"})

    operations = ops(app)

    assert kinds(operations) == ["AlterModelTable", "AlterModelOptions"]
    assert operations[0].table == "posts"
    assert operations[1].options == {"ordering": ["-title"], "verbose_name": "entry"}


def test_migration_names_and_numbers(app: App) -> None:
    base(app)
    [first] = app.detect()[app.label]
    assert first.name == "0001_initial"
    app.makemigrations()
    base(app, views=models.IntegerField(default=0))

    [second] = app.detect()[app.label]

    assert second.name == "0002_post_views"
    assert second.dependencies == [(app.label, "0001_initial")]
    assert not second.initial


# -- references between models (ready for foreign keys) -------------------------------


def PointerField(to: str) -> Any:
    """A foreign key to ``to`` (written before relations existed, kept by its name)."""
    return models.ForeignKey(to, on_delete=models.CASCADE)


def state(*model_states: ModelState) -> ProjectState:
    result = ProjectState()
    for model_state in model_states:
        result.add_model(model_state)
    return result


def test_created_models_come_after_the_models_they_refer_to() -> None:
    to = state(
        ModelState("shop", "Line", [("id", models.AutoField(primary_key=True)),
                                    ("order", PointerField("shop.Order"))]),
        ModelState("shop", "Order", [("id", models.AutoField(primary_key=True)),
                                     ("customer", PointerField("shop.Customer"))]),
        ModelState("shop", "Customer", [("id", models.AutoField(primary_key=True))]),
    )

    operations = MigrationAutodetector(ProjectState(), to).detect_operations()["shop"]

    assert [op.name for op in operations] == ["Customer", "Order", "Line"]


def test_cross_app_references_become_dependencies() -> None:
    graph = MigrationGraph()
    graph.add_node(("accounts", "0001_initial"), None)
    before = state(ModelState("accounts", "User", [("id", models.AutoField(primary_key=True))]))
    after = state(
        ModelState("accounts", "User", [("id", models.AutoField(primary_key=True))]),
        ModelState("accounts", "Team", [("id", models.AutoField(primary_key=True))]),
        ModelState("blog", "Post", [("id", models.AutoField(primary_key=True)),
                                    ("author", PointerField("accounts.User")),
                                    ("team", PointerField("accounts.Team"))]),
    )

    changes = MigrationAutodetector(before, after).changes(graph)

    assert changes["accounts"][0].name == "0002_team"
    assert changes["blog"][0].name == "0001_initial"
    assert sorted(changes["blog"][0].dependencies) == [
        ("accounts", "0001_initial"), ("accounts", "0002_team"),
    ]


def test_trim_to_apps_keeps_the_apps_needed() -> None:
    after = state(
        ModelState("accounts", "User", [("id", models.AutoField(primary_key=True))]),
        ModelState("blog", "Post", [("id", models.AutoField(primary_key=True)),
                                    ("author", PointerField("accounts.User"))]),
        ModelState("shop", "Item", [("id", models.AutoField(primary_key=True))]),
    )

    changes = MigrationAutodetector(ProjectState(), after).changes(
        MigrationGraph(), trim_to_apps=["blog"]
    )

    assert sorted(changes) == ["accounts", "blog"]
