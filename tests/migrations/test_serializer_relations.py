"""Relation fields written into migration files and read back, with every option."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.migrations.exceptions import SerializationError
from reinhardt_db.migrations.serializer import serialize
from reinhardt_db.migrations.state import field_signature


def fallback_author_id() -> int:
    return 1


def evaluate(value: Any) -> tuple[Any, str]:
    source, imports = serialize(value)
    namespace: dict[str, Any] = {}
    exec("\n".join(sorted(imports)), namespace)
    return eval(source, namespace), source


@pytest.mark.parametrize("rule, written", [
    (models.CASCADE, "models.CASCADE"),
    (models.PROTECT, "models.PROTECT"),
    (models.RESTRICT, "models.RESTRICT"),
    (models.SET_NULL, "models.SET_NULL"),
    (models.SET_DEFAULT, "models.SET_DEFAULT"),
    (models.DO_NOTHING, "models.DO_NOTHING"),
    (models.SET(7), "models.SET(7)"),
    (models.SET(fallback_author_id),
     f"models.SET({__name__}.fallback_author_id)"),
], ids=["cascade", "protect", "restrict", "set_null", "set_default", "do_nothing", "set_value",
        "set_callable"])
def test_on_delete_rules_are_written_by_name(rule: Any, written: str) -> None:
    result, source = evaluate(rule)
    assert source == written
    assert result == rule
    assert (result.kind, result.value) == (rule.kind, rule.value)


def test_a_lambda_in_set_is_refused_with_the_fix() -> None:
    with pytest.raises(SerializationError, match="use a function defined at module level"):
        serialize(models.SET(lambda: 1))


FIELDS = [
    models.ForeignKey("shop.Author", on_delete=models.CASCADE),
    models.ForeignKey("shop.Author", on_delete=models.SET(fallback_author_id),
                      related_name="books", related_query_name="book", to_field="code",
                      db_constraint=False, db_index=False, null=True),
    models.ForeignKey("self", on_delete=models.SET_NULL, null=True, related_name="+"),
    models.OneToOneField("shop.Author", on_delete=models.PROTECT, related_name="profile"),
    models.ManyToManyField("shop.Tag"),
    models.ManyToManyField("shop.Tag", related_name="posts", related_query_name="post",
                           db_table="shop_post_tag_links", db_constraint=False, blank=True),
    models.ManyToManyField("shop.Person", through="shop.Membership",
                           through_fields=("group", "person")),
    models.ManyToManyField("self", symmetrical=False, related_name="followers"),
    models.ManyToManyField("shop.Person", symmetrical=True),
]


@pytest.mark.parametrize("field", FIELDS, ids=[
    "fk", "fk_every_option", "fk_self", "o2o", "m2m", "m2m_options", "m2m_through",
    "m2m_self_asymmetric", "m2m_symmetrical",
])
def test_relation_fields_round_trip(field: Any) -> None:
    result, source = evaluate(field)
    assert source.startswith(f"models.{type(field).__name__}(")
    assert type(result) is type(field)
    assert field_signature(result) == field_signature(field)
    assert result.deconstruct()[2:] == field.deconstruct()[2:]


def test_a_self_relation_rebuilt_with_its_label_keeps_being_symmetrical() -> None:
    """A resolved ``"self"`` deconstructs as ``"app.Model"``; symmetry must survive that."""
    from reinhardt_db.testing import isolate_apps

    with isolate_apps("club"):
        class Person(models.Model):
            friends = models.ManyToManyField("self")
            follows = models.ManyToManyField("self", symmetrical=False, related_name="fans")

            class Meta:
                app_label = "club"

        friends = Person._meta.get_field("friends")
        follows = Person._meta.get_field("follows")
        rebuilt_friends, source = evaluate(friends)
        assert 'to="club.Person"' in source and "symmetrical=True" in source
        assert rebuilt_friends.symmetrical is True
        rebuilt_follows, source = evaluate(follows)
        assert "symmetrical" not in source
        assert rebuilt_follows.symmetrical is False
