"""Per-vendor value conversion as pure functions: prep, converters, column types.

``get_db_converter(v)(get_db_prep_value(x, v))`` must give back ``x`` for every
field type and vendor; where the converter is None the prepared value must
already be what the driver hands back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite

from reinhardt_db import models
from reinhardt_db.exceptions import ValidationError

UTC = dt.UTC
VENDORS = ("sqlite", "postgresql", "mysql")
DIALECTS = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
}


def round_trip(field: models.Field[Any], value: Any, vendor: str) -> Any:
    prepared = field.get_db_prep_value(value, vendor)
    converter = field.get_db_converter(vendor)
    return prepared if converter is None else converter(prepared)


# -- what each vendor's driver is sent -------------------------------------------------

MOMENT = dt.datetime(2024, 5, 17, 14, 30, 45, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (models.DateTimeField(), MOMENT, {
            "postgresql": dt.datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=UTC),
            # PyMySQL writes the wall-clock fields and ignores tzinfo: UTC lands as UTC.
            "mysql": dt.datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=UTC),
            "sqlite": "2024-05-17 12:30:45.123456",
        }),
        (models.DateTimeField(), dt.datetime(2024, 1, 1, tzinfo=UTC), {
            "sqlite": "2024-01-01 00:00:00.000000",
        }),
        (models.DateField(), dt.date(2024, 2, 29), {
            "postgresql": dt.date(2024, 2, 29), "mysql": dt.date(2024, 2, 29),
            "sqlite": "2024-02-29",
        }),
        (models.TimeField(), dt.time(9, 5), {
            "postgresql": dt.time(9, 5), "mysql": dt.time(9, 5), "sqlite": "09:05:00.000000",
        }),
        (models.DurationField(), dt.timedelta(days=-1, seconds=1, microseconds=2), {
            "postgresql": dt.timedelta(days=-1, seconds=1, microseconds=2),
            "mysql": -86_398_999_998, "sqlite": -86_398_999_998,
        }),
        (models.UUIDField(), UID, {
            "postgresql": UID, "mysql": UID.hex, "sqlite": UID.hex,
        }),
        (models.UUIDField(), str(UID), {"postgresql": UID, "sqlite": UID.hex}),
        (models.JSONField(), {"ü": [1, None]}, {
            "postgresql": '{"ü": [1, null]}', "mysql": '{"ü": [1, null]}',
            "sqlite": '{"ü": [1, null]}',
        }),
        (models.DecimalField(max_digits=10, decimal_places=2), Decimal("1.5"), {
            "postgresql": Decimal("1.5"), "mysql": Decimal("1.5"), "sqlite": "1.50",
        }),
        (models.DecimalField(max_digits=10, decimal_places=2), Decimal("1.005"), {
            "sqlite": "1.005",  # not rounded: a filter value compares as itself
        }),
        (models.DecimalField(max_digits=10, decimal_places=2), Decimal("1E+3"), {
            "sqlite": "1000.00",
        }),
        (models.BooleanField(), True, {"postgresql": True, "mysql": True, "sqlite": True}),
        (models.IntegerField(), "12", {"postgresql": 12, "mysql": 12, "sqlite": 12}),
        (models.BinaryField(), bytearray(b"\x00"), {"postgresql": b"\x00", "sqlite": b"\x00"}),
    ],
)
def test_prepared_values_per_vendor(
    field: models.Field[Any], value: Any, expected: dict[str, Any]
) -> None:
    for vendor, want in expected.items():
        got = field.get_db_prep_value(value, vendor)
        assert got == want and type(got) is type(want), (vendor, got, want)


@pytest.mark.parametrize("vendor", VENDORS)
def test_none_stays_none(vendor: str) -> None:
    for field in all_fields():
        assert field.get_db_prep_value(None, vendor) is None


# -- which columns need a converter ------------------------------------------------------


def all_fields() -> list[models.Field[Any]]:
    return [
        models.BooleanField(), models.CharField(max_length=20), models.TextField(),
        models.SlugField(), models.EmailField(), models.URLField(),
        models.IntegerField(), models.BigIntegerField(), models.SmallIntegerField(),
        models.PositiveIntegerField(), models.PositiveSmallIntegerField(),
        models.PositiveBigIntegerField(), models.FloatField(),
        models.DecimalField(max_digits=30, decimal_places=10), models.DateField(),
        models.DateTimeField(), models.TimeField(), models.DurationField(), models.UUIDField(),
        models.JSONField(), models.BinaryField(), models.GenericIPAddressField(),
        models.AutoField(primary_key=True), models.BigAutoField(primary_key=True),
        models.SmallAutoField(primary_key=True),
    ]


NEEDS_CONVERTER = {
    "postgresql": {"JSONField"},
    # DateTimeField: the MySQL backend's decoders return aware UTC datetimes.
    "mysql": {"BooleanField", "TimeField", "DurationField", "UUIDField", "JSONField"},
    "sqlite": {"BooleanField", "DecimalField", "DateField", "DateTimeField", "TimeField",
               "DurationField", "UUIDField", "JSONField"},
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_converters_only_where_the_driver_returns_another_type(vendor: str) -> None:
    have = {
        f.get_internal_type() for f in all_fields() if f.get_db_converter(vendor) is not None
    }
    assert have == NEEDS_CONVERTER[vendor]


def test_driver_shaped_values_convert() -> None:
    assert models.TimeField().get_db_converter("mysql")(  # type: ignore[misc]
        dt.timedelta(hours=13, seconds=5, microseconds=7)
    ) == dt.time(13, 0, 5, 7)
    assert models.BooleanField().get_db_converter("mysql")(1) is True  # type: ignore[misc]
    assert models.DateTimeField().get_db_converter("sqlite")(  # type: ignore[misc]
        "2024-01-01 10:00:00"
    ) == dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert models.DecimalField(max_digits=5, decimal_places=1).get_db_converter("sqlite")(  # type: ignore[misc]
        2.5
    ) == Decimal("2.5")
    assert models.JSONField().get_db_converter("mysql")(b'{"a": 1}') == {"a": 1}  # type: ignore[misc]


def test_json_encoder_and_decoder_and_bad_values() -> None:
    class Encoder(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            return sorted(o) if isinstance(o, set) else super().default(o)

    class Decoder(json.JSONDecoder):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(object_hook=lambda d: {k.upper(): v for k, v in d.items()}, **kwargs)

    field = models.JSONField(encoder=Encoder, decoder=Decoder)
    assert field.get_db_prep_value({"s": {2, 1}}, "sqlite") == '{"s": [1, 2]}'
    assert field.get_db_converter("sqlite")('{"a": 1}') == {"A": 1}  # type: ignore[misc]
    for bad in (float("nan"), {"x": object()}):
        with pytest.raises(ValidationError, match="not JSON serializable"):
            models.JSONField().get_db_prep_value(bad, "postgresql")


# -- round trips for every field and vendor ---------------------------------------------

_aware = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                               dt.timezone(dt.timedelta(hours=-11))]),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=15,
)
CASES: list[tuple[models.Field[Any], st.SearchStrategy[Any]]] = [
    (models.BooleanField(), st.booleans()),
    (models.CharField(max_length=50), st.text()),
    (models.TextField(), st.text()),
    (models.IntegerField(), st.integers(-(2**31), 2**31 - 1)),
    (models.BigIntegerField(), st.integers(-(2**63), 2**63 - 1)),
    (models.PositiveSmallIntegerField(), st.integers(0, 2**15 - 1)),
    (models.FloatField(), st.floats(allow_nan=False)),
    (models.DecimalField(max_digits=20, decimal_places=6),
     st.decimals(min_value=-(10**14) + 1, max_value=10**14 - 1, places=6)),
    (models.DecimalField(max_digits=5, decimal_places=0),
     st.decimals(min_value=-99999, max_value=99999, places=0)),
    (models.DateField(), st.dates()),
    (models.DateTimeField(), _aware),
    (models.TimeField(), st.times()),
    (models.DurationField(), st.timedeltas(
        min_value=dt.timedelta(days=-10**8), max_value=dt.timedelta(days=10**8))),
    (models.UUIDField(), st.uuids()),
    (models.JSONField(), _json),
    (models.BinaryField(), st.binary()),
    (models.GenericIPAddressField(), st.ip_addresses().map(str)),
]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(
    ("field", "strategy"), CASES, ids=[f.get_internal_type() + str(i) for i, (f, _) in
                                       enumerate(CASES)]
)
@given(data=st.data())
def test_round_trip_is_exact(
    vendor: str, field: models.Field[Any], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    value = data.draw(strategy)
    back = round_trip(field, value, vendor)
    assert back == value
    if isinstance(value, dt.datetime):
        assert back.tzinfo is UTC or back.utcoffset() == dt.timedelta(0)
    elif isinstance(value, str) and isinstance(field, models.GenericIPAddressField):
        assert back == str(back)
    elif value is not None and not isinstance(field, models.JSONField):
        assert isinstance(back, type(value)), (type(back), type(value))


@pytest.mark.parametrize("vendor", VENDORS)
@given(values=st.lists(
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.just(UTC)),
    min_size=2, max_size=5,
))
def test_sqlite_datetime_text_sorts_like_time(vendor: str, values: list[dt.datetime]) -> None:
    if vendor != "sqlite":
        return
    field = models.DateTimeField()
    texts = [field.get_db_prep_value(v, "sqlite") for v in values]
    assert sorted(texts) == [field.get_db_prep_value(v, "sqlite") for v in sorted(values)]


# -- column types -------------------------------------------------------------------------


def ddl_type(field: models.Field[Any], vendor: str) -> str:
    return str(field.sa_type().compile(dialect=DIALECTS[vendor]))


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (models.BooleanField(), ("BOOLEAN", "BOOLEAN", "BOOL")),
        (models.CharField(max_length=30), ("VARCHAR(30)", "VARCHAR(30)", "VARCHAR(30)")),
        (models.TextField(), ("TEXT", "TEXT", "LONGTEXT")),
        (models.IntegerField(), ("INTEGER", "INTEGER", "INTEGER")),
        (models.BigIntegerField(), ("BIGINT", "BIGINT", "BIGINT")),
        (models.SmallIntegerField(), ("SMALLINT", "SMALLINT", "SMALLINT")),
        (models.BigAutoField(primary_key=True), ("INTEGER", "BIGINT", "BIGINT")),
        (models.FloatField(), ("DOUBLE", "DOUBLE PRECISION", "DOUBLE")),
        (models.DecimalField(max_digits=12, decimal_places=4),
         ("DECIMAL_TEXT(12, 4)", "NUMERIC(12, 4)", "NUMERIC(12, 4)")),
        (models.DateField(), ("DATE", "DATE", "DATE")),
        (models.DateTimeField(), ("DATETIME", "TIMESTAMP WITH TIME ZONE", "DATETIME(6)")),
        (models.TimeField(), ("TIME", "TIME WITHOUT TIME ZONE", "TIME(6)")),
        (models.DurationField(), ("BIGINT", "INTERVAL", "BIGINT")),
        (models.UUIDField(), ("CHAR(32)", "UUID", "CHAR(32)")),
        (models.JSONField(), ("TEXT", "JSONB", "JSON")),
        (models.BinaryField(), ("BLOB", "BYTEA", "LONGBLOB")),
        (models.GenericIPAddressField(), ("VARCHAR(39)", "VARCHAR(39)", "VARCHAR(39)")),
    ],
)
def test_column_types_per_vendor(field: models.Field[Any], expected: tuple[str, str, str]) -> None:
    assert tuple(ddl_type(field, v) for v in VENDORS) == expected
    for vendor, want in zip(VENDORS, expected, strict=True):
        assert str(field.sa_type(vendor).compile(dialect=DIALECTS[vendor])) == want


def test_mariadb_dialect_name_gets_the_mysql_types() -> None:
    from sqlalchemy.dialects.mysql import mariadb

    dialect = mariadb.MariaDBDialect()
    assert str(models.JSONField().sa_type().compile(dialect=dialect)) == "JSON"
    assert str(models.DateTimeField().sa_type().compile(dialect=dialect)) == "DATETIME(6)"


def test_sqlite_decimal_ordering_comparisons_are_numeric() -> None:
    table = sa.Table(
        "t", sa.MetaData(),
        sa.Column("price", models.DecimalField(max_digits=5, decimal_places=2).sa_type()),
    )
    price = table.c.price
    on_sqlite = {str(e.compile(dialect=DIALECTS["sqlite"])) for e in (price > 1, price.desc())}
    assert on_sqlite == {"CAST(t.price AS REAL) > ?", "CAST(t.price AS REAL) DESC"}
    assert str((price == 1).compile(dialect=DIALECTS["sqlite"])) == "t.price = ?"
    assert str(price.desc().compile(dialect=DIALECTS["postgresql"])) == "t.price DESC"
