"""ModelRouter: each app or model goes where its table says, reads and writes apart."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db.routers import ModelRouter, router
from reinhardt_db.testing import capture_queries

from ._models import AuditLog, Author, Book
from .conftest import REPLICA, Configure


async def test_each_model_goes_where_its_entry_says(aliases: Configure) -> None:
    await aliases(routers=[ModelRouter({
        "routing_logs": REPLICA,
        "routing_books.Book": {"read": REPLICA, "write": "default"},
    })])
    with capture_queries() as captured:
        log = await AuditLog.objects.create(message="m")
        assert [x.message for x in await AuditLog.objects.all()] == ["m"]
        ann = await Author.objects.create(name="ann")  # not named: "default"
        assert await Author.objects.count() == 1
        await Book.objects.create(title="b", author=ann)  # writes: "default"
        assert await Book.objects.count() == 0  # reads: the replica, which has none
    assert [q.alias for q in captured] == [REPLICA, REPLICA, "default", "default", "default",
                                          REPLICA]
    assert log._state.db == REPLICA
    assert await AuditLog.objects.using("default").count() == 0
    assert await Book.objects.using("default").count() == 1


def test_a_model_entry_wins_over_its_app_and_names_ignore_case() -> None:
    mr = ModelRouter({"routing_books": "a", "routing_books.book": {"write": "w"}})
    assert mr.db_for_read(Author) == "a" and mr.db_for_write(Author) == "a"
    assert mr.db_for_write(Book) == "w"
    assert mr.db_for_read(Book) is None  # no opinion: the next router or the default
    assert mr.db_for_read(AuditLog) is None
    assert mr.allow_migrate("a", "routing_books", model_name="author") is True
    assert mr.allow_migrate("w", "routing_books", model_name="book") is True
    assert mr.allow_migrate("a", "routing_books", model_name="book") is False
    assert mr.allow_migrate("x", "routing_logs") is None
    assert router.allow_migrate_model("default", AuditLog) is True


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"not an app": "x"}, "'not an app' is not an app label or 'app.Model' label"),
        ({"a.b.c": "x"}, "'a.b.c' is not an app label"),
        ({"blog": {"reads": "x"}}, "unknown key(s) ['reads']; use 'read' and/or 'write'"),
        ({"blog": 3}, "'blog' maps to 3; give an alias"),
        ({"blog": {"read": ""}}, "'blog': read must be an alias"),
        (["blog"], "ModelRouter takes a dict"),
    ],
)
def test_bad_routes_say_what_is_wrong(routes: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        ModelRouter(routes)
    assert message in str(info.value)
