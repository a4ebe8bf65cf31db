"""Model checks: tables, columns, index and constraint names, ordering paths, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.checks import CheckMessage, run_checks
from reinhardt_db.exceptions import FieldError

from .conftest import DATABASES, ids

ALL_DATABASES = list(DATABASES)


def declare(name: str, app_label: str = "shop", **attrs: Any) -> type[models.Model]:
    meta = attrs.pop("Meta", {})
    attrs.setdefault("title", models.CharField(max_length=20))
    body = {"__module__": __name__, **attrs, "Meta": type("Meta", (), {"app_label": app_label,
                                                                     **meta})}
    return type(name, (models.Model,), body)  # type: ignore[return-value]


def model_messages(databases: list[str] | None = None) -> list[CheckMessage]:
    return run_checks(tags=["models"], databases=databases)


def test_well_formed_models_pass_on_every_backend() -> None:
    declare("Order", Meta={"ordering": ["-title"], "indexes": [models.Index(fields=["title"])],
                           "unique_together": [("title", "id")]})
    declare("Line", qty=models.IntegerField(default=1), Meta={"db_table": "order_lines"})
    assert model_messages(ALL_DATABASES) == []


# -- models.E028: one table, two models ---------------------------------------------


def test_two_models_with_one_db_table() -> None:
    order = declare("Order", Meta={"db_table": "orders"})
    declare("Purchase", app_label="billing", Meta={"db_table": "orders"})
    [message] = model_messages()
    assert message.id == "models.E028" and message.obj is order
    assert message.msg == (
        "db_table 'orders' is used by multiple models: shop.Order, billing.Purchase"
    )
    assert "another Meta.db_table" in (message.hint or "")


def test_db_tables_differing_only_in_case_clash_too() -> None:
    declare("Order", Meta={"db_table": "Orders"})
    declare("Purchase", Meta={"db_table": "orders"})
    [message] = model_messages()
    assert message.id == "models.E028" and "spelled Orders, orders" in message.msg


def test_default_db_tables_can_clash() -> None:
    # "shop_item" from app "shop" + model Item, and an explicit table of that name.
    declare("Item")
    declare("Legacy", Meta={"db_table": "shop_item", "managed": False})
    assert ids(model_messages()) == ["models.E028"]


# -- models.E007: two fields, one column --------------------------------------------


def test_two_fields_with_one_column() -> None:
    model = declare("Order", a=models.IntegerField(), b=models.IntegerField(db_column="a"))
    [message] = model_messages()
    assert message.id == "models.E007" and message.obj is model._meta.get_field("b")
    assert message.msg == "field 'b' has column name 'a' that is used by another field ('a')"
    assert str(message).startswith("shop.Order.b: (models.E007)")


# -- models.E029-E032: names unique ---------------------------------------------------


def test_an_index_name_used_twice_in_one_model() -> None:
    declare("Order", code=models.CharField(max_length=5), Meta={"indexes": [
        models.Index(fields=["title"], name="order_idx"),
        models.Index(fields=["code"], name="order_idx"),
    ]})
    [message] = model_messages()
    assert message.id == "models.E029"
    assert message.msg == "index name 'order_idx' is not unique for model shop.Order"


def test_an_index_name_used_by_two_models() -> None:
    declare("Order", Meta={"indexes": [models.Index(fields=["title"], name="title_idx")]})
    declare("Refund", Meta={"indexes": [models.Index(fields=["title"], name="title_idx")]})
    [message] = model_messages()
    assert message.id == "models.E030"
    assert message.msg == "index name 'title_idx' is not unique among models: shop.Order, shop.Refund"


def test_constraint_names_used_twice() -> None:
    declare("Order", qty=models.IntegerField(), Meta={"constraints": [
        models.CheckConstraint(condition=models.Q(qty__gte=0), name="qty_ok"),
        models.UniqueConstraint(fields=["title", "qty"], name="qty_ok"),
    ]})
    declare("Refund", Meta={"constraints": [
        models.UniqueConstraint(fields=["title"], name="same_name"),
    ]})
    declare("Return", Meta={"constraints": [
        models.UniqueConstraint(fields=["title"], name="same_name"),
    ]})
    assert sorted(ids(model_messages())) == ["models.E031", "models.E032"]


def test_generated_names_that_collide_are_found() -> None:
    # unique=True and a one-field unique_together both make "shop_order_code_uniq".
    declare("Order", code=models.CharField(max_length=5, unique=True),
            Meta={"unique_together": [("code",)]})
    [message] = model_messages()
    assert message.id == "models.E031" and "'shop_order_code_uniq'" in message.msg


# -- name lengths per backend: models.E101, E018, E034, E100 --------------------------


LONG = "x" * 64  # PostgreSQL keeps 63 characters, MySQL 64, SQLite any


@pytest.mark.parametrize(
    ("databases", "limits"),
    [(["default"], []), (["pg"], [63]), (["my"], []), (["pg", "my"], [63])],
)
def test_names_too_long_for_the_backend(databases: list[str], limits: list[int]) -> None:
    declare("Order", code=models.CharField(max_length=5, db_column=LONG), Meta={
        "db_table": "t" * 64,
        "indexes": [models.Index(fields=["title"], name="i" * 64)],
        "constraints": [models.UniqueConstraint(fields=["title"], name="c" * 64)],
    })
    messages = model_messages(databases)
    if not limits:
        assert messages == []
        return
    assert ids(messages) == ["models.E101", "models.E018", "models.E034", "models.E100"]
    assert [m.msg for m in messages] == [
        f"db_table '{'t' * 64}' is 64 characters long; postgresql (database 'pg') keeps at most 63",
        f"column name '{LONG}' is 64 characters long; postgresql (database 'pg') keeps at most 63",
        f"index name '{'i' * 64}' is 64 characters long; postgresql (database 'pg') keeps at most 63",
        f"constraint name '{'c' * 64}' is 64 characters long; postgresql (database 'pg') keeps at "
        "most 63",
    ]
    assert [m.hint for m in messages] == [
        "set a shorter Meta.db_table", "set a shorter db_column on the field",
        "pass a shorter name to Index(...)", "pass a shorter name to the constraint",
    ]


def test_a_long_default_db_table_is_found_on_mysql_too() -> None:
    declare("A" * 60, app_label="inventory")  # inventory_aaaa...: 70 characters
    messages = model_messages(["pg", "my"])
    assert ids(messages) == ["models.E101", "models.E101"]
    assert "mysql (database 'my') keeps at most 64" in messages[1].msg
    assert "Meta.db_table (the default is '<app_label>_<model name>')" in (messages[0].hint or "")


def test_unmanaged_models_names_are_not_checked() -> None:
    # Their tables exist already: nothing here creates them or their indexes.
    declare("Order", Meta={"db_table": "t" * 64, "managed": False,
                           "indexes": [models.Index(fields=["title"], name="same")]})
    declare("Refund", Meta={"managed": False,
                            "indexes": [models.Index(fields=["title"], name="same")]})
    assert model_messages(ALL_DATABASES) == []


def test_without_databases_lengths_are_not_checked() -> None:
    declare("Order", Meta={"db_table": "t" * 100})
    assert model_messages() == []


# -- models.E103: a table that cannot be built ------------------------------------------


class NoColumnType(models.Field[str]):
    """A custom field that forgot to say what column it needs."""


def test_a_table_that_cannot_be_built() -> None:
    model = declare("Order", odd=NoColumnType())
    declare("Refund")
    [message] = model_messages(ALL_DATABASES)
    assert (message.id, message.obj) == ("models.E103", model)
    assert message.msg == (
        "the table of shop.Order cannot be built: NoColumnType does not define its column type."
    )


# -- models.E015: ordering paths --------------------------------------------------------


def test_an_ordering_path_that_does_not_resolve() -> None:
    declare("Order", placed=models.DateTimeField(), Meta={"ordering": ["-placed__yeer"]})
    [message] = model_messages()
    assert message.id == "models.E015"
    assert message.msg == (
        "'ordering' refers to the nonexistent field, related field, or lookup 'placed__yeer'"
    )
    assert "Did you mean 'year'?" in (message.hint or "")


def test_an_ordering_path_through_a_transform_is_fine() -> None:
    declare("Order", placed=models.DateTimeField(), Meta={"ordering": ["-placed__year", "title"]})
    assert model_messages() == []


# -- models.E012: Q conditions -------------------------------------------------------


def test_conditions_naming_no_field() -> None:
    declare("Order", qty=models.IntegerField(), Meta={
        "constraints": [
            models.CheckConstraint(condition=models.Q(qyt__gte=0), name="qty_positive"),
            models.UniqueConstraint(fields=["title"], name="uniq_live",
                                    condition=models.Q(qty__gt=0)),
        ],
        "indexes": [models.Index(fields=["title"], name="big_idx",
                                 condition=models.Q(title__nope="x"))],
    })
    messages = model_messages(ALL_DATABASES)
    assert ids(messages) == ["models.E012", "models.E012"]
    assert messages[0].msg.startswith(
        "the condition of constraint 'qty_positive' is invalid: Cannot resolve keyword 'qyt'"
    )
    assert "Did you mean 'qty'?" in messages[0].msg
    assert messages[1].msg.startswith("the condition of index 'big_idx' is invalid: ")
    assert "'nope'" in messages[1].msg


def test_conditions_naming_a_hybrid_property() -> None:
    upper = models.hybrid_property(lambda self: self.title.upper(), expr=lambda cls: models.Upper("title"))
    declare("Order", shout=upper, Meta={
        "constraints": [models.CheckConstraint(condition=models.Q(shout__startswith="A"), name="a")],
    })
    messages = model_messages()
    assert ids(messages) == ["models.E012"]
    assert messages[0].msg.startswith(
        "the condition of constraint 'a' is invalid: 'shout__startswith' names the hybrid "
        "property Order.shout, which a constraint or index condition cannot use"
    )


# -- already refused when the class is created, so not a check ---------------------------


@pytest.mark.parametrize(
    "attrs",
    [
        {"title": models.CharField()},
        {"title": models.CharField(max_length=-1)},
        {"price": models.DecimalField(max_digits=3, decimal_places=5)},
        {"Meta": {"ordering": ["nope"]}},
        {"Meta": {"unique_together": [("title", "nope")]}},
        {"Meta": {"indexes": [models.Index(fields=["nope"], name="n")]}},
        {"Meta": {"constraints": [models.UniqueConstraint(fields=["nope"], name="n")]}},
    ],
    ids=["no-max_length", "negative-max_length", "decimal-places", "ordering", "unique_together",
         "index", "constraint"],
)
def test_these_are_errors_at_import_already(attrs: dict[str, Any]) -> None:
    # If the models layer ever stops refusing one of these, a check must take over.
    with pytest.raises(FieldError):
        declare("Order", **attrs)


def test_choices_that_are_not_pairs_are_an_error_at_import() -> None:
    with pytest.raises(FieldError, match="choices must be"):
        models.CharField(max_length=5, choices=["a", "b"])
