"""Blank instances for the row readers: the C extension and its Python fallback agree."""

from __future__ import annotations

import abc
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.models import _instances, prefetch
from reinhardt_db.models.sql.cache import statement_cache


class Shelf(models.Model):
    name = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_instances"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.built_by_init = True


class Book(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_instances"


class Plain:
    pass


class Abstract(abc.ABC):
    @abc.abstractmethod
    def run(self) -> None: ...


class DictBased(dict[str, Any]):
    pass


def _implementations() -> list[Any]:
    impls = [pytest.param((_instances.py_new, _instances.py_blank), id="python")]
    if _instances.ACCELERATED:
        from reinhardt_db.models import _speedups

        impls.append(pytest.param((_speedups.new, _speedups.blank), id="c"))
    return impls


Impl = tuple[Callable[[type], Any], Callable[[type, int], list[Any]]]


@pytest.mark.parametrize("impl", _implementations())
def test_blank_instances_have_the_class_and_nothing_else(impl: Impl) -> None:
    new, blank = impl
    one = new(Shelf)
    assert type(one) is Shelf and one.__dict__ == {}  # __init__ did not run
    many = blank(Shelf, 3)
    assert [type(o) for o in many] == [Shelf] * 3 and len({id(o) for o in many}) == 3
    assert all(o.__dict__ == {} for o in many)
    assert blank(Plain, 0) == []
    many[0].name = "filled"  # attributes store as on any instance
    assert many[0].__dict__ == {"name": "filled"}


@pytest.mark.parametrize("impl", _implementations())
def test_blank_instances_refuse_what_object_new_refuses(impl: Impl) -> None:
    new, blank = impl
    with pytest.raises(TypeError):
        new(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        blank("Shelf", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="abstract"):
        new(Abstract)
    with pytest.raises(TypeError, match="abstract"):
        blank(Abstract, 1)
    with pytest.raises(TypeError):
        new(DictBased)  # a C base object.__new__ cannot set up
    with pytest.raises(ValueError, match="count must be >= 0, got -1"):
        blank(Plain, -1)
    with pytest.raises(TypeError):
        blank(Plain, 1.5)  # type: ignore[arg-type]


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only CI must build the C extension")
def test_ci_builds_the_c_extension() -> None:
    # A missing compiler would leave the readers on the slower fallback unnoticed.
    assert _instances.ACCELERATED


def test_the_environment_can_ask_for_the_python_fallback() -> None:
    code = "from reinhardt_db.models import _instances as i; print(i.ACCELERATED, i.new.__module__)"
    env = {**os.environ, "REINHARDT_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "reinhardt_db.models._instances"]


@pytest.fixture
def fresh_readers() -> Iterator[None]:
    # Readers are generated once per compiled statement: start and end with none.
    statement_cache.clear()
    prefetch._READERS.clear()
    yield
    statement_cache.clear()
    prefetch._READERS.clear()


async def _read_everything() -> list[Any]:
    books = await Book.objects.order_by("id")
    joined = await Book.objects.select_related("shelf").order_by("id")
    shelves = await Shelf.objects.prefetch_related("books").order_by("id")
    return [
        [(type(b), {k: v for k, v in b.__dict__.items() if k != "_state"},
          (b._state.db, b._state.adding)) for b in books],
        [(type(b), b.title, b.shelf_id, type(b.shelf), b.shelf.name) for b in joined],
        [joined[1].shelf is joined[2].shelf, "built_by_init" in joined[0].shelf.__dict__],
        [(type(s), s.name, [(type(b), b.title, b.shelf is s) for b in s.books.all()])
         for s in shelves],
    ]


async def test_queries_read_the_same_through_either_implementation(
    backend: Database, make_tables: Any, fresh_readers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_tables(Shelf, Book)
    left, right = await Shelf.objects.bulk_create([Shelf(name="left"), Shelf(name="right")])
    await Book.objects.bulk_create(
        [Book(shelf=left if i % 3 else right, title=f"book {i}") for i in range(7)]
    )
    default = await _read_everything()
    statement_cache.clear()
    prefetch._READERS.clear()
    monkeypatch.setattr(_instances, "new", _instances.py_new)
    monkeypatch.setattr(_instances, "blank", _instances.py_blank)
    fallback = await _read_everything()
    assert fallback == default
    assert default[2] == [True, False]  # related rows share one instance; no __init__ ran
