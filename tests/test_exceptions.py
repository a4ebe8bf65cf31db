"""The error hierarchy users catch (``reinhardt_db.exceptions``), on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reinhardt_db import exceptions as exc
from reinhardt_db import models
from reinhardt_db.testing import isolate_apps

# SPEC section 3: these are all under DatabaseError.
UNDER_DATABASE_ERROR = [
    exc.ObjectDoesNotExist, exc.MultipleObjectsReturned, exc.FieldError, exc.FieldDoesNotExist,
    exc.IntegrityError, exc.DataError, exc.OperationalError, exc.ProgrammingError,
    exc.NotSupportedError, exc.TransactionManagementError, exc.InterfaceError,
    exc.InternalError, exc.ProtectedError, exc.RestrictedError, exc.DatabaseUnavailable,
]


@pytest.mark.parametrize("error", UNDER_DATABASE_ERROR, ids=lambda cls: cls.__name__)
def test_query_errors_are_database_errors(error: type[Exception]) -> None:
    assert issubclass(error, exc.DatabaseError)
    assert issubclass(error, exc.ReinhardtError)


def test_settings_and_validation_errors_are_not_database_errors() -> None:
    for error in (exc.ImproperlyConfigured, exc.ValidationError, exc.RelationNotLoaded):
        assert issubclass(error, exc.ReinhardtError)
        assert not issubclass(error, exc.DatabaseError)


@pytest.fixture
def note() -> Iterator[Any]:
    with isolate_apps():
        class Note(models.Model):
            text = models.CharField(max_length=20)

            class Meta:
                app_label = "tests_exceptions"

        yield Note


async def test_one_except_catches_what_a_query_raises(note: Any, make_tables: Any) -> None:
    await make_tables(note)
    await note.objects.bulk_create([note(text="a"), note(text="a")])
    caught = []
    for query in (
        lambda: note.objects.get(text="missing"), lambda: note.objects.get(text="a"),
        lambda: note.objects.filter(txet="a").count(),  # raises at filter(), as in Django
    ):
        try:
            await query()
        except exc.DatabaseError as error:
            caught.append(type(error))
    assert issubclass(caught[0], note.DoesNotExist) and issubclass(caught[0], exc.ObjectDoesNotExist)
    assert issubclass(caught[1], note.MultipleObjectsReturned)
    assert caught[2] is exc.FieldError
