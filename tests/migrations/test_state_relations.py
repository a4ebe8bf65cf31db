"""Historical models with relations: targets resolve inside the state's own registry."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.apps import apps as project_apps
from reinhardt_db.exceptions import FieldError
from reinhardt_db.migrations import operations as ops
from reinhardt_db.migrations.state import ModelState, ProjectState


def pk() -> tuple[str, Any]:
    return "id", models.BigAutoField(primary_key=True)


def build(*model_states: ModelState) -> ProjectState:
    state = ProjectState()
    for model_state in model_states:
        state.add_model(model_state)
    return state


def library() -> ProjectState:
    """Book is added before the models it names (order does not matter)."""
    return build(
        ModelState("lib", "Book", [
            pk(),
            ("author", models.ForeignKey("lib.Author", on_delete=models.CASCADE,
                                         related_name="books")),
            ("sequel", models.OneToOneField("self", null=True, on_delete=models.SET_NULL)),
            ("tags", models.ManyToManyField("Tag", related_name="books")),
            ("shelf", models.ForeignKey("store.Shelf", null=True, on_delete=models.SET_NULL)),
        ]),
        ModelState("lib", "Author", [
            pk(),
            ("name", models.CharField(max_length=20)),
            ("favourite", models.ForeignKey("lib.Book", null=True, on_delete=models.SET_NULL,
                                            related_name="fans")),
        ]),
        ModelState("lib", "Tag", [pk(), ("word", models.CharField(max_length=20))]),
        ModelState("store", "Shelf", [pk()]),
    )


def test_targets_resolve_by_label_bare_name_self_and_across_apps() -> None:
    state = library()
    Book = state.apps.get_model("lib", "Book")
    Author = state.apps.get_model("lib", "Author")
    meta = Book._meta
    assert meta.get_field("author").related_model is Author
    assert meta.get_field("sequel").related_model is Book
    assert meta.get_field("tags").related_model is state.apps.get_model("lib", "Tag")
    assert meta.get_field("shelf").related_model is state.apps.get_model("store", "Shelf")
    # The cycle Author.favourite <-> Book.author resolves both ways.
    assert Author._meta.get_field("favourite").related_model is Book
    assert Author.__module__ == "__fake__"
    # Reverse sides exist on the historical models, not on anything in the project.
    assert Author._meta.get_field("books").related_model is Book
    assert Book._meta.get_field("fans").related_model is Author
    assert all(m.__module__ != "__fake__" for m in project_apps.get_models())


def test_the_junction_model_and_a_through_model_are_historical_too() -> None:
    state = build(
        ModelState("club", "Person", [pk()]),
        ModelState("club", "Group", [
            pk(),
            ("members", models.ManyToManyField("club.Person", through="club.Membership",
                                               related_name="groups")),
        ]),
        ModelState("club", "Membership", [
            pk(),
            ("person", models.ForeignKey("club.Person", on_delete=models.CASCADE)),
            ("group", models.ForeignKey("club.Group", on_delete=models.CASCADE)),
            ("inviter", models.ForeignKey("club.Person", null=True, on_delete=models.SET_NULL,
                                          related_name="+")),
        ]),
    )
    state.alter_field("club", "Group", "members", models.ManyToManyField(
        "club.Person", through="club.Membership", through_fields=("group", "person"),
        related_name="groups",
    ), True)
    Group = state.apps.get_model("club", "Group")
    members = Group._meta.get_field("members")
    assert members.through is state.apps.get_model("club", "Membership")
    assert members.m2m_source_field.name == "group"
    assert members.m2m_target_field.name == "person"
    Person = state.apps.get_model("club", "Person")
    assert Person._meta.get_field("groups").related_model is Group


def test_a_change_renders_the_model_and_its_referrers_anew_without_stale_reverse_sides() -> None:
    state = library()
    Book = state.apps.get_model("lib", "Book")
    old_author = state.apps.get_model("lib", "Author")
    ops.AddField("author", "born", models.IntegerField(null=True)).state_forwards("lib", state)
    Author = state.apps.get_model("lib", "Author")
    assert Author is not old_author
    new_book = state.apps.get_model("lib", "Book")
    assert new_book is not Book, "Book pointed at the old Author: rendered again"
    assert new_book._meta.get_field("author").related_model is Author
    # One reverse relation per relation, each from the current classes.
    rels = [r for r in Author._meta.related_objects if r.field.name == "author"]
    assert [r.field.model for r in rels] == [new_book]
    tag_rels = state.apps.get_model("lib", "Tag")._meta.related_objects
    assert [r.field.model for r in tag_rels if r.field.name == "tags"] == [new_book]


def test_renaming_a_model_renames_the_relations_naming_it() -> None:
    state = library()
    ops.RenameModel("Author", "Writer").state_forwards("lib", state)
    book = state.get_model("lib", "Book")
    assert book.fields["author"].deconstruct()[3]["to"] == "lib.Writer"
    Writer = state.apps.get_model("lib", "Writer")
    assert state.apps.get_model("lib", "Book")._meta.get_field("author").related_model is Writer
    assert Writer._meta.get_field("favourite").related_model is state.apps.get_model(
        "lib", "Book")


def test_renaming_a_field_follows_it_in_to_field() -> None:
    state = build(
        ModelState("lib", "Author", [pk(), ("code", models.CharField(max_length=5,
                                                                      unique=True))]),
        ModelState("lib", "Book", [pk(), ("author", models.ForeignKey(
            "lib.Author", to_field="code", on_delete=models.CASCADE))]),
    )
    ops.RenameField("author", "code", "handle").state_forwards("lib", state)
    field = state.apps.get_model("lib", "Book")._meta.get_field("author")
    assert field.to_field == "handle"
    assert field.target_field.name == "handle"


def test_a_target_missing_from_the_state_is_named() -> None:
    state = build(ModelState("lib", "Book", [pk(), ("author", models.ForeignKey(
        "gone.Author", on_delete=models.CASCADE))]))
    Book = state.apps.get_model("lib", "Book")
    with pytest.raises(FieldError, match=r"Book\.author: the related model 'gone\.Author'"):
        Book._meta.table  # noqa: B018


def test_from_apps_keeps_many_to_many_fields_and_leaves_junction_models_out() -> None:
    from reinhardt_db.testing import isolate_apps

    with isolate_apps("lib") as registry:
        class Tag(models.Model):
            class Meta:
                app_label = "lib"

        class Book(models.Model):
            tags = models.ManyToManyField(Tag)

            class Meta:
                app_label = "lib"

        state = ProjectState.from_apps(registry)
    assert sorted(state.models) == [("lib", "book"), ("lib", "tag")]
    assert list(state.get_model("lib", "Book").fields) == ["id", "tags"]
    assert state.get_model("lib", "Book").fields["tags"].deconstruct()[3] == {"to": "lib.Tag"}
