"""A data migration on a real database: RunPython with historical models, both ways."""

from __future__ import annotations

from typing import Any

from reinhardt_db import migrations, models
from reinhardt_db.backends import Database
from reinhardt_db.migrations.state import ProjectState
from reinhardt_db.models.schema import create_tables, drop_tables

from ._helpers import RecordingEditor

APP = "rp_blog"


async def fill_slugs(apps: Any, schema_editor: Any) -> None:
    Post = apps.get_model(APP, "Post")
    async for post in Post.objects.all():
        post.slug = post.title.lower().replace(" ", "-")
        await post.save(update_fields=["slug"])


def clear_slugs(apps: Any, schema_editor: Any) -> Any:
    return apps.get_model(APP, "Post").objects.update(slug=None)


class Initial(migrations.Migration):
    operations = [
        migrations.CreateModel("Post", [
            ("id", models.BigAutoField(primary_key=True)),
            ("title", models.CharField(max_length=50)),
        ]),
        migrations.AddField("post", "slug", models.CharField(max_length=50, null=True)),
    ]


class FillSlugs(migrations.Migration):
    operations = [migrations.RunPython(fill_slugs, clear_slugs)]


async def test_run_python_fills_a_field_from_another_and_reverses(backend: Database) -> None:
    state = Initial("0001_initial", APP).mutate_state(ProjectState())
    Post = state.apps.get_model(APP, "Post")
    await drop_tables([Post], if_exists=True)
    await create_tables([Post])
    try:
        await Post.objects.bulk_create([Post(title="Hello World"), Post(title="Second Post")])
        migration = FillSlugs("0002_fill_slugs", APP)

        await migration.apply(state.clone(), RecordingEditor(db=backend))
        rows = await backend.fetch_all("SELECT title, slug FROM rp_blog_post ORDER BY id")
        assert [tuple(r) for r in rows] == [("Hello World", "hello-world"),
                                            ("Second Post", "second-post")]

        await migration.unapply(state.clone(), RecordingEditor(db=backend))
        rows = await backend.fetch_all("SELECT slug FROM rp_blog_post ORDER BY id")
        assert [tuple(r) for r in rows] == [(None,), (None,)]
    finally:
        await drop_tables([Post], if_exists=True)
