"""``ContentType`` and its manager: rows per model, cached per database, and the app's migration."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.contenttypes.models import ContentType
from reinhardt_db.exceptions import ObjectDoesNotExist
from reinhardt_db.testing import Migrator, assert_num_queries, isolate_apps

APP = "tests_ctypes_models"


@pytest.fixture
def app() -> Iterator[dict[str, Any]]:
    with isolate_apps():
        class Post(models.Model):
            title = models.CharField(max_length=50)

            class Meta:
                app_label = APP
                verbose_name = "blog post"

        class Link(models.Model):
            url = models.CharField(max_length=100)

            class Meta:
                app_label = APP

        yield {"Post": Post, "Link": Link}


@pytest.fixture
async def tables(app: dict[str, Any], make_tables: Any) -> dict[str, Any]:
    await make_tables(ContentType, app["Post"], app["Link"])
    ContentType.objects.clear_cache()
    return app


async def test_get_for_model_creates_the_row_once_then_answers_from_the_cache(
    tables: dict[str, Any],
) -> None:
    post = tables["Post"]
    with assert_num_queries(4):  # the lookup, then the insert (BEGIN, INSERT, COMMIT)
        ct = await ContentType.objects.get_for_model(post)
    assert (ct.app_label, ct.model) == (APP, "post")
    with assert_num_queries(0):
        assert await ContentType.objects.get_for_model(post) is ct
        assert await ContentType.objects.get_for_model(post(title="x")) is ct  # an instance
        assert await ContentType.objects.get_for_id(ct.pk) is ct
        assert await ContentType.objects.get_by_natural_key(APP, "post") is ct
    assert await ContentType.objects.count() == 1
    assert ct.model_class() is post
    assert ct.name == "blog post" and ct.natural_key() == (APP, "post")
    assert str(ct) == f"{APP}.post"


async def test_clear_cache_makes_the_next_call_read_the_existing_row(
    tables: dict[str, Any],
) -> None:
    ct = await ContentType.objects.get_for_model(tables["Post"])
    ContentType.objects.clear_cache()
    with assert_num_queries(1):
        again = await ContentType.objects.get_for_model(tables["Post"])
    assert again.pk == ct.pk and again is not ct
    ContentType.objects.clear_cache()
    with assert_num_queries(1):
        assert (await ContentType.objects.get_for_id(ct.pk)).pk == ct.pk
    with assert_num_queries(0):
        assert (await ContentType.objects.get_for_model(tables["Post"])).pk == ct.pk


async def test_get_for_models_reads_the_known_ones_in_one_query(tables: dict[str, Any]) -> None:
    post, link = tables["Post"], tables["Link"]
    await ContentType.objects.get_for_model(post)
    ContentType.objects.clear_cache()
    with assert_num_queries(5):  # one read for both; for Link: lookup, BEGIN, INSERT, COMMIT
        found = await ContentType.objects.get_for_models(post, link)
    assert {m: ct.model for m, ct in found.items()} == {post: "post", link: "link"}
    with assert_num_queries(0):
        assert await ContentType.objects.get_for_models(post, link) == found


async def test_concurrent_first_calls_make_one_row(tables: dict[str, Any]) -> None:
    found = await asyncio.gather(
        *(ContentType.objects.get_for_model(tables["Link"]) for _ in range(6))
    )
    assert len({ct.pk for ct in found}) == 1
    assert await ContentType.objects.filter(model="link").count() == 1


async def test_the_pair_is_unique_in_the_database(tables: dict[str, Any]) -> None:
    from reinhardt_db.exceptions import IntegrityError

    await ContentType.objects.create(app_label="a", model="b")
    with pytest.raises(IntegrityError):
        await ContentType.objects.create(app_label="a", model="b")


async def test_objects_for_this_type(tables: dict[str, Any]) -> None:
    post = tables["Post"]
    first = await post.objects.create(title="first")
    await post.objects.create(title="second")
    ct = await ContentType.objects.get_for_model(post)
    assert (await ct.get_object_for_this_type(pk=first.pk)).title == "first"
    rows = await ct.get_all_objects_for_this_type(title__startswith="s")
    assert [p.title for p in rows] == ["second"]
    with pytest.raises(post.DoesNotExist):
        await ct.get_object_for_this_type(pk=first.pk + 100)


async def test_a_stale_type_has_no_model_class(tables: dict[str, Any]) -> None:
    stale = await ContentType.objects.create(app_label=APP, model="gone")
    assert stale.model_class() is None
    assert stale.name == "gone"
    with pytest.raises(LookupError, match=r"is stale: no model 'tests_ctypes_models\.gone'"):
        await stale.get_object_for_this_type(pk=1)
    with pytest.raises(LookupError, match="is stale"):
        stale.get_all_objects_for_this_type()


async def test_unknown_ids_and_names_raise_does_not_exist(tables: dict[str, Any]) -> None:
    with pytest.raises(ContentType.DoesNotExist):
        await ContentType.objects.get_for_id(123456)
    with pytest.raises(ObjectDoesNotExist):
        await ContentType.objects.get_by_natural_key(APP, "nothing")


def test_get_for_model_refuses_what_is_no_model() -> None:
    with pytest.raises(TypeError, match="concrete model class or instance, got 'post'"):
        asyncio.run(ContentType.objects.get_for_model("post"))


async def test_the_cache_is_per_database_alias(tables: dict[str, Any]) -> None:
    ct = await ContentType.objects.get_for_model(tables["Post"])
    assert ContentType.objects.cached_for_model(tables["Post"]) is ct
    assert ContentType.objects.cached_for_model(tables["Post"], using="other") is None


def test_model_meta() -> None:
    meta = ContentType._meta
    assert (meta.db_table, meta.app_label) == ("reinhardt_content_type", "contenttypes")
    assert [tuple(group) for group in meta.unique_together] == [("app_label", "model")]


async def test_migrate_creates_the_table_when_the_app_is_installed(backend: Database) -> None:
    with isolate_apps("reinhardt_db.contenttypes") as registry:
        migrator = Migrator(registry=registry)
        try:
            await migrator.migrate("contenttypes")
            names = await introspect(backend).table_names()
            assert "reinhardt_content_type" in names
            columns = [c.name for c in await introspect(backend).get_columns(
                "reinhardt_content_type"
            )]
            assert columns == ["id", "app_label", "model"]
            ContentType.objects.clear_cache()
            with isolate_apps():
                class Thing(models.Model):
                    class Meta:
                        app_label = APP

                ct = await ContentType.objects.get_for_model(Thing)
                assert ct.model == "thing"
            await migrator.migrate("contenttypes", "zero")
            assert "reinhardt_content_type" not in await introspect(backend).table_names()
        finally:
            await migrator.reset()


async def test_a_type_created_in_a_rolled_back_transaction_is_not_cached(
    tables: dict[str, Any], backend: Database,
) -> None:
    from reinhardt_db import transaction

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with transaction.atomic():
            made = await ContentType.objects.get_for_model(tables["Post"])
            assert ContentType.objects.cached_for_model(tables["Post"]) is None
            raise Rollback
    assert not await ContentType.objects.filter(pk=made.pk).exists()
    assert ContentType.objects.cached_for_model(tables["Post"]) is None
    async with transaction.atomic():
        kept = await ContentType.objects.get_for_model(tables["Post"])
    assert ContentType.objects.cached_for_model(tables["Post"]) is kept


def test_the_cli_migrates_the_installed_app_and_finds_no_changes(tmp_path: Any) -> None:
    """``reinhardt migrate`` in a fresh process of a project that installs the app."""
    import sqlite3
    import subprocess
    import sys

    (tmp_path / "reinhardt.toml").write_text(
        'installed_apps = ["reinhardt_db.contenttypes"]\n\n'
        '[databases]\ndefault = "sqlite:///./project.sqlite3"\n'
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reinhardt_db", *args], cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )

    checked = cli("makemigrations", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the file is up to date
    migrated = cli("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Applying contenttypes.0001_initial... OK" in migrated.stdout
    with sqlite3.connect(tmp_path / "project.sqlite3") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(reinhardt_content_type)")]
    assert columns == ["id", "app_label", "model"]
