"""``makemigrations``' safety warnings for operations that lock or rewrite big tables."""

from __future__ import annotations

from reinhardt_db import migrations, models
from reinhardt_db.migrations.safety import safety_warnings
from reinhardt_db.migrations.state import ModelState, ProjectState


def state() -> ProjectState:
    project = ProjectState()
    project.add_model(ModelState("shop", "Item", [
        ("id", models.BigAutoField(primary_key=True)),
        ("name", models.CharField(max_length=100)),
        ("count", models.IntegerField(default=0)),
    ]))
    return project


def test_a_column_type_change_warns_and_a_longer_varchar_does_not() -> None:
    bigger = migrations.AlterField("item", "count", models.BigIntegerField(default=0))
    longer = migrations.AlterField("item", "name", models.CharField(max_length=200))

    warnings = safety_warnings("shop", [bigger, longer], state(), {"sqlite"})

    assert len(warnings) == 1
    assert warnings[0].startswith("item.count: changing the column type from IntegerField to "
                                  "BigIntegerField rewrites and locks the table")


def test_not_null_without_default_and_a_plain_index_on_postgresql_warn() -> None:
    add = migrations.AddField("item", "size", models.IntegerField(default=1),
                              preserve_default=False)
    index = migrations.AddIndex("item", models.Index(fields=["name"], name="item_name_idx"))

    on_sqlite = safety_warnings("shop", [add, index], state(), {"sqlite"})
    on_postgresql = safety_warnings("shop", [add, index], state(), {"postgresql"})

    assert [w.split(":")[0] for w in on_sqlite] == ["item.size"]
    assert "AddIndexConcurrently" in on_postgresql[1]
