"""The router chain without routers, with several routers, and from settings."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db.conf import reset_settings
from reinhardt_db.conf.imports import ImportFailed
from reinhardt_db.routers import ConnectionRouter, PrimaryReplicaRouter, router
from reinhardt_db.testing import capture_queries

from ._models import AuditLog, Author, Book
from .conftest import REPLICA, Configure


def aliases_of(captured: Any) -> list[str]:
    return [q.alias for q in captured]


async def test_without_routers_an_instance_saves_back_where_it_was_read(
    aliases: Configure,
) -> None:
    await aliases()
    await Author.objects.using(REPLICA).create(name="ann")
    ann = await Author.objects.using(REPLICA).get(name="ann")
    assert ann._state.db == REPLICA
    with capture_queries() as captured:
        ann.name = "anne"
        await ann.save()  # no using=: where it came from
        book = await ann.books.create(title="b")  # the related set follows the instance
        assert [b.title for b in await ann.books.all()] == ["b"]
        await ann.refresh_from_db()
        await book.delete()
    assert set(aliases_of(captured)) == {REPLICA}, captured.describe()
    assert [a.name for a in await Author.objects.using(REPLICA).all()] == ["anne"]
    assert await Author.objects.count() == 0  # "default" holds nothing
    loaded = await Author.objects.using(REPLICA).prefetch_related("books").get()
    assert loaded._state.db == REPLICA
    # save(using=) wins over where it was read from.
    loaded.name = "copied"
    await loaded.save(using="default", force_insert=True)
    assert [a.name for a in await Author.objects.all()] == ["copied"]
    assert loaded._state.db == "default"


async def test_db_manager_and_delete_using(aliases: Configure) -> None:
    await aliases()
    on_replica = Author.objects.db_manager(REPLICA)
    assert on_replica.db == REPLICA
    ann = await on_replica.create(name="ann")
    assert ann._state.db == REPLICA
    assert await Author.objects.using(REPLICA).count() == 1
    twin = await Author.objects.using("default").create(pk=ann.pk, name="twin")
    await twin.delete(using=REPLICA)
    assert await Author.objects.using(REPLICA).count() == 0
    assert await Author.objects.using("default").count() == 1


async def test_relations_across_databases_are_refused_without_a_router(
    aliases: Configure,
) -> None:
    await aliases()
    ann = await Author.objects.using(REPLICA).create(name="ann")
    book = await Book.objects.create(title="b", author=await Author.objects.create(name="x"))
    with pytest.raises(ValueError) as info:
        book.author = ann
    message = str(info.value)
    assert "in database 'replica'" in message and "in 'default'" in message
    assert "database routers do not allow" in message
    with pytest.raises(ValueError, match="database routers do not allow"):
        await ann.books.add(book)
    Book(title="new", author=ann)  # not stored yet: allowed


async def test_primary_and_replica_objects_may_be_related(aliases: Configure) -> None:
    await aliases(routers=[PrimaryReplicaRouter(replicas=[REPLICA])])
    ann = await Author.objects.using(REPLICA).create(name="ann")
    book = Book(title="b")
    book.author = ann  # no error: the router allows it
    assert book.author_id == ann.pk


class _Fixed:
    def __init__(self, read: str | None, write: str | None) -> None:
        self.read, self.write = read, write

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return self.read

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return self.write


def test_the_first_answer_wins_and_using_wins_over_routers() -> None:
    chain = ConnectionRouter([_Fixed(None, None), _Fixed("a", None), _Fixed("b", "w")])
    assert chain.db_for_read(Author) == "a"
    assert chain.db_for_write(Author) == "w"
    assert ConnectionRouter([]).db_for_read(Author) == "default"
    assert chain.allow_migrate("x", "app") is True


async def test_using_wins_over_the_router(aliases: Configure) -> None:
    await aliases(routers=[_Fixed(REPLICA, REPLICA)])
    with capture_queries() as captured:
        await Author.objects.using("default").create(name="a")
        await Author.objects.using("default").count()
        await AuditLog.objects.create(message="m")
    assert aliases_of(captured) == ["default", "default", REPLICA]


ROUTERS_MODULE = '''
from reinhardt_db.routers import PrimaryReplicaRouter


class ToReplica(PrimaryReplicaRouter):
    def __init__(self):
        super().__init__(primary="default", replicas=["replica"])


class NotARouter:
    pass
'''


@pytest.fixture
def routers_module(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "routing_settings_mod.py").write_text(ROUTERS_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "routing_settings_mod"
    sys.modules.pop("routing_settings_mod", None)
    reset_settings()


async def test_routers_come_from_settings_by_dotted_path(
    aliases: Configure, routers_module: str
) -> None:
    await aliases(routers=[f"{routers_module}.ToReplica"])
    assert type(router.routers[0]).__name__ == "ToReplica"
    with capture_queries() as captured:
        await Author.objects.create(name="a")
        await Author.objects.count()
    assert aliases_of(captured) == ["default", REPLICA]


def test_a_path_to_something_that_is_not_a_router_is_refused(routers_module: str) -> None:
    reinhardt_db.configure(routers=[f"{routers_module}.NotARouter"])
    with pytest.raises(ImportFailed) as info:
        router.db_for_read(Author)
    message = str(info.value)
    assert message.startswith("routers[0]: 'routing_settings_mod.NotARouter' gives")
    assert "define at least one of db_for_read, db_for_write" in message


def test_a_misspelt_router_path_names_the_entry(routers_module: str) -> None:
    reinhardt_db.configure(routers=[f"{routers_module}.ToReplika"])
    with pytest.raises(ImportFailed, match=r"routers\[0\].*did you mean 'routing_settings_mod"):
        router.db_for_write(Author)
