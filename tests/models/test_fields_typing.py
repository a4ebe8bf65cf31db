"""User code type-checks: field descriptors are generic (mypy on a sample module)."""

from __future__ import annotations

import os
import tempfile
import textwrap

SAMPLE = textwrap.dedent(
    """
    import datetime as dt
    from decimal import Decimal
    from reinhardt_db import models

    class Item(models.Model):
        name = models.CharField(max_length=20)
        count = models.IntegerField(default=0)
        price = models.DecimalField(max_digits=8, decimal_places=2)
        seen = models.DateTimeField(null=True)
        data = models.JSONField(default=dict)
        line = models.SmallIntegerField()
        pk = models.CompositePrimaryKey("name", "line")

        class Meta:
            app_label = "typing_sample"

    item = Item(name="a")
    reveal_type(item.name)
    reveal_type(item.count)
    reveal_type(item.price)
    reveal_type(item.seen)
    reveal_type(item.pk)
    reveal_type(Item.count)
    reveal_type(Item.objects.filter(count__gte=1))
    total: int = item.count + 1
    cost: Decimal = item.price * 2
    wrong: str = item.count
    """
)


def test_field_values_have_their_python_types() -> None:
    from mypy import api

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.py")
        with open(path, "w") as handle:
            handle.write(SAMPLE)
        out, _err, _status = api.run([
            path, "--no-error-summary", "--show-error-codes", "--ignore-missing-imports",
            "--cache-dir", os.path.join(tmp, "cache"), "--follow-imports=silent",
        ])
    revealed = [line.split("Revealed type is ")[1].strip('"') for line in out.splitlines()
                if "Revealed type is" in line]
    assert [r.removeprefix("builtins.") for r in revealed] == [
        "str",
        "int",
        "decimal.Decimal",
        "datetime.datetime | None",
        "tuple[Any, ...]",
        "reinhardt_db.models.expressions.FieldRef[Any]",
        "reinhardt_db.models.query.QuerySet[sample.Item]",
    ], out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "wrong" not in errors[0] and "[assignment]" in errors[0], out
