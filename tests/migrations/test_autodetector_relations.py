"""The autodetector with relations: order, cycles, many-to-many, deletes; the optimizer too."""

from __future__ import annotations

from typing import Any

from reinhardt_db import models
from reinhardt_db.migrations import operations as ops
from reinhardt_db.migrations.autodetector import MigrationAutodetector
from reinhardt_db.migrations.graph import MigrationGraph
from reinhardt_db.migrations.optimizer import optimize
from reinhardt_db.migrations.questioner import MigrationQuestioner
from reinhardt_db.migrations.state import ModelState, ProjectState


class NeverAsked(MigrationQuestioner):
    """Fails the test if the autodetector asks anything."""

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        raise AssertionError(f"asked for a default of {model_name}.{field_name}")


def pk() -> tuple[str, Any]:
    return "id", models.BigAutoField(primary_key=True)


def build(*model_states: ModelState) -> ProjectState:
    state = ProjectState()
    for model_state in model_states:
        state.add_model(model_state)
    return state


def detect(before: ProjectState, after: ProjectState) -> list[Any]:
    return MigrationAutodetector(before, after, NeverAsked()).detect_operations().get("lib", [])


def summary(operations: list[Any]) -> list[tuple[str, ...]]:
    result = []
    for op in operations:
        if isinstance(op, ops.CreateModel):
            result.append(("CreateModel", op.name, *[n for n, _f in op.fields]))
        elif isinstance(op, (ops.AddField, ops.RemoveField)):
            result.append((type(op).__name__, op.model_name, op.name))
        else:
            result.append((type(op).__name__, getattr(op, "name", "")))
    return result


def author(**extra: Any) -> ModelState:
    return ModelState("lib", "Author", [pk(), ("name", models.CharField(max_length=20)),
                                        *extra.items()])


def book(**extra: Any) -> ModelState:
    return ModelState("lib", "Book", [
        pk(), ("author", models.ForeignKey("lib.Author", on_delete=models.CASCADE)),
        *extra.items(),
    ])


FAVOURITE = models.ForeignKey("lib.Book", null=True, on_delete=models.SET_NULL,
                              related_name="fans")


def test_referenced_models_are_created_first_whatever_the_declaration_order() -> None:
    after = build(
        book(tags=models.ManyToManyField("lib.Tag")),
        ModelState("lib", "Tag", [pk()]),
        author(),
    )
    assert summary(detect(ProjectState(), after)) == [
        ("CreateModel", "Tag", "id"),
        ("CreateModel", "Author", "id", "name"),
        ("CreateModel", "Book", "id", "author", "tags"),
    ]


def test_a_cycle_is_split_at_its_nullable_foreign_key() -> None:
    after = build(author(favourite=FAVOURITE), book())
    operations = detect(ProjectState(), after)
    assert summary(operations) == [
        ("CreateModel", "Author", "id", "name"),
        ("CreateModel", "Book", "id", "author"),
        ("AddField", "author", "favourite"),
    ]
    replayed = ProjectState()
    for operation in operations:
        operation.state_forwards("lib", replayed)
    assert replayed == after


def test_a_through_model_pointing_back_gets_the_many_to_many_added_after_it() -> None:
    after = build(
        ModelState("lib", "Person", [pk()]),
        ModelState("lib", "Club", [pk(), ("members", models.ManyToManyField(
            "lib.Person", through="lib.Membership"))]),
        ModelState("lib", "Membership", [
            pk(),
            ("person", models.ForeignKey("lib.Person", on_delete=models.CASCADE)),
            ("club", models.ForeignKey("lib.Club", on_delete=models.CASCADE)),
        ]),
    )
    assert summary(detect(ProjectState(), after)) == [
        ("CreateModel", "Person", "id"),
        ("CreateModel", "Club", "id"),
        ("CreateModel", "Membership", "id", "person", "club"),
        ("AddField", "club", "members"),
    ]


def test_a_deferred_field_brings_its_unique_together_back_afterwards() -> None:
    after = build(
        ModelState("lib", "Author", [
            pk(), ("favourite", FAVOURITE), ("name", models.CharField(max_length=20)),
        ], {"unique_together": {("favourite", "name")}}),
        book(),
    )
    operations = detect(ProjectState(), after)
    assert summary(operations) == [
        ("CreateModel", "Author", "id", "name"),
        ("CreateModel", "Book", "id", "author"),
        ("AddField", "author", "favourite"),
        ("AlterUniqueTogether", "author"),
    ]
    assert "unique_together" not in operations[0].options


def test_adding_and_removing_relations_asks_nothing() -> None:
    before = build(author(), book(), ModelState("lib", "Tag", [pk()]))
    after = build(
        author(),
        book(tags=models.ManyToManyField("lib.Tag"),
             editor=models.ForeignKey("lib.Author", null=True, on_delete=models.SET_NULL,
                                      related_name="+")),
        ModelState("lib", "Tag", [pk()]),
    )
    assert summary(detect(before, after)) == [
        ("AddField", "book", "tags"), ("AddField", "book", "editor"),
    ]
    assert summary(detect(after, before)) == [
        ("RemoveField", "book", "tags"), ("RemoveField", "book", "editor"),
    ]


def test_changing_on_delete_is_an_alter_field() -> None:
    before = build(author(), book())
    after = build(author(), ModelState("lib", "Book", [
        pk(), ("author", models.ForeignKey("lib.Author", on_delete=models.PROTECT)),
    ]))
    operations = detect(before, after)
    assert summary(operations) == [("AlterField", "author")]
    assert operations[0].field.remote_field.on_delete is models.PROTECT


def test_deleting_models_that_point_at_each_other_removes_the_relations_first() -> None:
    before = build(author(favourite=FAVOURITE), book(), ModelState("lib", "Tag", [pk()]))
    after = build(ModelState("lib", "Tag", [pk()]))
    operations = detect(before, after)
    assert summary(operations) == [
        ("RemoveField", "author", "favourite"),
        ("DeleteModel", "Book"),
        ("DeleteModel", "Author"),
    ]


def test_deleting_a_many_to_many_target_removes_the_field_first() -> None:
    before = build(author(), book(tags=models.ManyToManyField("lib.Tag")),
                   ModelState("lib", "Tag", [pk()]))
    after = build(author(), book())
    assert summary(detect(before, after)) == [
        ("RemoveField", "book", "tags"), ("DeleteModel", "Tag"),
    ]


def test_a_renamed_model_keeps_the_foreign_keys_pointing_at_it_unchanged() -> None:
    class Yes(NeverAsked):
        def ask_rename_model(self, old: Any, new: Any) -> bool:
            return True

    before = build(author(), book())
    after = build(ModelState("lib", "Writer", [pk(), ("name", models.CharField(max_length=20))]),
                  ModelState("lib", "Book", [pk(), ("author", models.ForeignKey(
                      "lib.Writer", on_delete=models.CASCADE))]))
    operations = MigrationAutodetector(before, after, Yes()).detect_operations()["lib"]
    assert summary(operations) == [("RenameModel", "Author")]


def test_a_rename_in_one_app_depends_on_the_apps_pointing_at_the_old_name() -> None:
    class Yes(NeverAsked):
        def ask_rename_model(self, old: Any, new: Any) -> bool:
            return True

    shop = ModelState("shop", "Order", [pk(), ("buyer", models.ForeignKey(
        "lib.Author", on_delete=models.CASCADE))])
    before = build(author(), shop)
    after = build(
        ModelState("lib", "Writer", [pk(), ("name", models.CharField(max_length=20))]),
        ModelState("shop", "Order", [pk(), ("buyer", models.ForeignKey(
            "lib.Writer", on_delete=models.CASCADE))]),
    )
    graph = MigrationGraph()
    graph.add_node(("lib", "0001_initial"), None)
    graph.add_node(("shop", "0001_initial"), None)
    changes = MigrationAutodetector(before, after, Yes()).changes(graph)
    assert list(changes) == ["lib"]
    assert ("shop", "0001_initial") in changes["lib"][0].dependencies


def test_squashing_folds_relation_fields_into_creates_but_keeps_a_cycle_split() -> None:
    operations = [
        ops.CreateModel("Author", [pk()]),
        ops.CreateModel("Book", [pk(), ("author", models.ForeignKey(
            "lib.Author", on_delete=models.CASCADE))]),
        ops.AddField("book", "editor", models.ForeignKey(
            "lib.Author", null=True, on_delete=models.SET_NULL, related_name="+")),
        ops.CreateModel("Tag", [pk()]),
        ops.AddField("book", "tags", models.ManyToManyField("lib.Tag")),
        ops.AddField("author", "favourite", models.ForeignKey(
            "lib.Book", null=True, on_delete=models.SET_NULL)),
    ]
    assert summary(optimize(operations, "lib")) == [
        ("CreateModel", "Author", "id"),
        ("CreateModel", "Tag", "id"),
        ("CreateModel", "Book", "id", "author", "editor", "tags"),
        ("AddField", "author", "favourite"),
    ]


def names_and_dependencies(changes: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        app: [(m.name, sorted(m.dependencies), [type(op).__name__ for op in m.operations])
              for m in migrations]
        for app, migrations in changes.items()
    }


def test_two_new_apps_whose_models_refer_to_each_other_get_a_second_migration() -> None:
    after = build(
        ModelState("a", "X", [pk(), ("y", models.ForeignKey("b.Y", null=True,
                                                            on_delete=models.SET_NULL))]),
        ModelState("b", "Y", [pk(), ("x", models.ForeignKey("a.X", on_delete=models.CASCADE))]),
    )
    changes = MigrationAutodetector(ProjectState(), after, NeverAsked()).changes(MigrationGraph())
    assert names_and_dependencies(changes) == {
        "a": [("0001_initial", [], ["CreateModel"]),
              ("0002_initial", [("a", "0001_initial"), ("b", "0001_initial")], ["AddField"])],
        "b": [("0001_initial", [("a", "0001_initial")], ["CreateModel"])],
    }
    assert all(m.initial for migrations in changes.values() for m in migrations)


def test_apps_that_need_each_other_without_a_model_cycle_are_split_too() -> None:
    after = build(
        ModelState("a", "Z", [pk()]),
        ModelState("a", "X", [pk(), ("y", models.ForeignKey("b.Y", on_delete=models.CASCADE))]),
        ModelState("b", "Y", [pk(), ("z", models.ForeignKey("a.Z", on_delete=models.CASCADE))]),
    )
    changes = MigrationAutodetector(ProjectState(), after, NeverAsked()).changes(MigrationGraph())
    assert names_and_dependencies(changes) == {
        "a": [("0001_initial", [], ["CreateModel"]),
              ("0002_initial", [("a", "0001_initial"), ("b", "0001_initial")], ["CreateModel"])],
        "b": [("0001_initial", [("a", "0001_initial")], ["CreateModel"])],
    }


def test_a_model_pointing_at_itself_is_still_recognised_as_renamed() -> None:
    class Yes(NeverAsked):
        def ask_rename_model(self, old: Any, new: Any) -> bool:
            return True

    def node(name: str) -> ModelState:
        return ModelState("lib", name, [pk(), ("parent", models.ForeignKey(
            f"lib.{name}", null=True, on_delete=models.CASCADE))])

    operations = MigrationAutodetector(
        build(node("Node")), build(node("Tree")), Yes()
    ).detect_operations()["lib"]
    assert summary(operations) == [("RenameModel", "Node")]
