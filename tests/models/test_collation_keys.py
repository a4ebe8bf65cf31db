"""Text keys the database joins although Python finds them unequal (collations).

MariaDB's default collations compare 'FR' equal to 'fr', and its foreign keys
accept 'FR' for a row whose key is 'fr'. Reading such a row through a relation
gives what the database's own query (``country.cities.all()``) gives, loaded
by select_related or prefetch_related alike; the stored key is left as it is.
PostgreSQL and SQLite compare text exactly, so the same rows cannot be linked
there: on them these paths run no extra query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import RelationNotLoaded
from reinhardt_db.testing import assert_num_queries, isolate_apps

APP = "tests_collation_keys"


@pytest.fixture
def app() -> Iterator[dict[str, Any]]:
    with isolate_apps():
        class Country(models.Model):
            code = models.CharField(max_length=2, unique=True)
            name = models.CharField(max_length=20)

            class Meta:
                app_label = APP

        class City(models.Model):
            country = models.ForeignKey(
                Country, to_field="code", on_delete=models.CASCADE, related_name="cities"
            )
            name = models.CharField(max_length=20)

            class Meta:
                app_label = APP

        class Capital(models.Model):
            country = models.OneToOneField(
                Country, to_field="code", on_delete=models.CASCADE, related_name="capital"
            )
            name = models.CharField(max_length=20)

            class Meta:
                app_label = APP

        yield {"Country": Country, "City": City, "Capital": Capital}


@pytest.fixture
async def france(app: dict[str, Any], backend: Database, make_tables: Any) -> Any:
    """France ('fr'), Lyon stored with 'FR' (as another writer might), Paris with 'fr'."""
    country, city, capital = app["Country"], app["City"], app["Capital"]
    await make_tables(country, city, capital)
    france = await country.objects.create(code="fr", name="France")
    await country.objects.create(code="de", name="Germany")
    await city.objects.create(country=france, name="Paris")
    if not backend.features.text_equality_is_exact:
        await backend.execute(
            f"INSERT INTO {city._meta.db_table} (country_id, name) VALUES (%s, %s)", ["FR", "Lyon"]
        )
        await backend.execute(
            f"INSERT INTO {capital._meta.db_table} (country_id, name) VALUES (%s, %s)",
            ["FR", "Paris"],
        )
    return france


@pytest.mark.backends("mysql")
async def test_select_related_serves_a_row_joined_under_the_collation(
    app: dict[str, Any], france: Any
) -> None:
    lyon = await app["City"].objects.select_related("country").get(name="Lyon")
    assert lyon.country_id == "FR"  # the stored value, untouched
    assert (lyon.country.code, lyon.country.name) == ("fr", "France")
    lyon.country_id = "de"  # changed by hand: the cached country is stale
    with pytest.raises(RelationNotLoaded, match="select_related"):
        lyon.country  # noqa: B018
    lyon.country_id = "FR"
    assert lyon.country.code == "fr"
    germany = await app["Country"].objects.get(code="de")
    lyon.country = germany  # assigning forgets how the old row was linked
    lyon.country_id = "FR"
    with pytest.raises(RelationNotLoaded):
        lyon.country  # noqa: B018


@pytest.mark.backends("mysql")
async def test_prefetch_reverse_matches_what_the_database_query_returns(
    app: dict[str, Any], france: Any
) -> None:
    country = app["Country"]
    queried = sorted(c.name for c in await france.cities.all())
    assert queried == ["Lyon", "Paris"]
    # The grouped path (plain rows) and the general one (rows with joins of their own).
    for lookup in ("cities", models.Prefetch(
        "cities", queryset=app["City"].objects.select_related("country")
    )):
        (fr,) = await country.objects.filter(code="fr").prefetch_related(lookup)
        cities = sorted(fr.cities.all(), key=lambda c: c.name)
        assert [c.name for c in cities] == queried
        assert all(c.country is fr for c in cities) and cities[0].country_id == "FR"


@pytest.mark.backends("mysql")
async def test_rows_linked_by_the_database_keep_the_querys_order(
    app: dict[str, Any], france: Any
) -> None:
    # Lyon ('FR') is linked after the grouped read; it still comes where order_by puts it.
    city = app["City"]
    await city.objects.create(country=france, name="Marseille")
    for order in ("name", "-name"):
        expected = sorted(["Lyon", "Marseille", "Paris"], reverse=order == "-name")
        for queryset in (city.objects.order_by(order),
                         city.objects.select_related("country").order_by(order)):
            (fr,) = await app["Country"].objects.filter(code="fr").prefetch_related(
                models.Prefetch("cities", queryset=queryset)
            )
            assert [c.name for c in fr.cities.all()] == expected


@pytest.mark.backends("mysql")
async def test_prefetch_forward_and_reverse_one_to_one_under_the_collation(
    app: dict[str, Any], france: Any
) -> None:
    # Two queries, then one more asking the database which country 'FR' joins.
    with assert_num_queries(3):
        cities = await app["City"].objects.order_by("name").prefetch_related("country")
    assert [(c.name, c.country.code) for c in cities] == [("Lyon", "fr"), ("Paris", "fr")]
    assert cities[0].country is cities[1].country
    (fr,) = await app["Country"].objects.filter(code="fr").prefetch_related("capital")
    assert fr.capital.name == "Paris" and fr.capital.country is fr


async def test_exact_text_keys_take_no_extra_query(
    app: dict[str, Any], france: Any, backend: Database
) -> None:
    # A filtered forward prefetch leaves Paris's country out. On exact backends that
    # is all it means; MariaDB asks once which row 'fr' joins (Germany it is not).
    city = app["City"]
    germany = await app["Country"].objects.get(code="de")
    await city.objects.create(country=germany, name="Berlin")
    extra = 0 if backend.features.text_equality_is_exact else 1
    only_de = models.Prefetch("country", queryset=app["Country"].objects.filter(code="de"))
    with assert_num_queries(2 + extra):
        berlin, paris = await city.objects.filter(name__in=["Berlin", "Paris"]).order_by(
            "name"
        ).prefetch_related(only_de)
    assert berlin.country == germany
    with pytest.raises(RelationNotLoaded):
        paris.country  # noqa: B018
    with assert_num_queries(1):
        (paris,) = await city.objects.filter(name="Paris").select_related("country")
    assert paris.country == france
    paris.country_id = "de"
    with pytest.raises(RelationNotLoaded):
        paris.country  # noqa: B018
