"""Relation fields: definition, lazy targets, attribute access and the database's foreign keys."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError, IntegrityError, RelationNotLoaded
from reinhardt_db.models.schema import create_statements
from reinhardt_db.testing import isolate_apps

from ._relations import ALL, Author, Comment, Post, Profile, Tag


def test_forward_key_attributes() -> None:
    field = Post._meta.get_field("author")
    assert field.attname == "author_id" and field.column == "author_id"
    assert field.is_relation and field.many_to_one and not field.one_to_one
    assert field.related_model is Author and field.target_field is Author._meta.pk
    assert field.db_index
    assert Post._meta.get_field("author_id") is field
    one = Profile._meta.get_field("user")
    assert one.one_to_one and one.unique
    tags = Post._meta.get_field("tags")
    assert tags.many_to_many and not tags.concrete and tags in Post._meta.many_to_many
    assert tags not in Post._meta.fields
    junction = tags.through
    assert junction._meta.auto_created and junction._meta.db_table == "tests_relations_post_tags"
    assert {f.name for f in junction._meta.fields} == {"id", "post", "tag"}
    reverse = Author._meta.get_field("posts")
    assert reverse.related_model is Post and reverse.field is field and not reverse.concrete
    assert Tag._meta.get_field("posts").many_to_many


def test_assignment_sets_key_and_instance() -> None:
    ann = Author(id=7, name="ann")
    post = Post(title="t", author=ann)
    assert post.author_id == 7 and post.author is ann
    bob = Author(id=8, name="bob")
    post.author = bob
    assert post.author_id == 8 and post.author is bob
    post.author_id = 9  # the cached instance no longer matches: not loaded
    with pytest.raises(RelationNotLoaded):
        post.author  # noqa: B018
    post.reviewer = None
    assert post.reviewer_id is None and post.reviewer is None
    with pytest.raises(ValueError, match="must be a Author instance"):
        post.author = Tag(name="x")  # type: ignore[assignment]
    profile = Profile(user=ann)
    assert ann.profile is profile  # one-to-one: both sides
    with pytest.raises(TypeError, match=r"tags\.set"):
        Post(title="t", tags=[])
    with pytest.raises(TypeError, match="set"):
        ann.posts = []  # type: ignore[misc]


def test_not_loaded_relation_says_how_to_load_it() -> None:
    post = Post.from_db("default", ["id", "title", "author_id", "reviewer_id"], [1, "t", 2, None])
    assert post.reviewer is None  # a NULL key needs no query
    with pytest.raises(RelationNotLoaded) as info:
        post.author  # noqa: B018
    message = str(info.value)
    for hint in ("select_related", "prefetch_related", "fetch_related", "Post.author"):
        assert hint in message
    author = Author.from_db("default", ["id", "name"], [2, "ann"])
    with pytest.raises(RelationNotLoaded, match=r"Author\.profile"):
        author.profile  # noqa: B018


def test_class_level_access_builds_expressions() -> None:
    condition = Post.author == 3
    assert isinstance(condition, models.Q)
    assert isinstance(Author.posts, object)


def test_lazy_targets_and_unresolvable_ones() -> None:
    with isolate_apps():
        class Book(models.Model):
            writer = models.ForeignKey("Writer", on_delete=models.CASCADE)
            series = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)
            missing = models.ForeignKey("nowhere.Ghost", null=True, on_delete=models.SET_NULL)

            class Meta:
                app_label = "tests_lazy"

        class Writer(models.Model):
            class Meta:
                app_label = "tests_lazy"

        assert Book._meta.get_field("writer").related_model is Writer
        assert Book._meta.get_field("series").related_model is Book
        assert Writer._meta.get_field("book").related_model is Book
        with pytest.raises(FieldError, match=r"Book.missing: the related model 'nowhere.Ghost'"):
            Book._meta.get_field("missing").related_model  # noqa: B018
        with pytest.raises(FieldError, match=r"nowhere\.Ghost"):
            Book.objects.filter(missing__name="x")


def test_definition_errors() -> None:
    with isolate_apps():
        with pytest.raises(FieldError, match="SET_NULL needs null=True"):
            class A(models.Model):
                other = models.ForeignKey("self", on_delete=models.SET_NULL)

                class Meta:
                    app_label = "tests_bad"

        with pytest.raises(FieldError, match="SET_DEFAULT needs a default"):
            class B(models.Model):
                other = models.ForeignKey("self", on_delete=models.SET_DEFAULT)

                class Meta:
                    app_label = "tests_bad"

        with pytest.raises(TypeError, match="on_delete must be one of"):
            models.ForeignKey("self", on_delete="cascade")  # type: ignore[arg-type]

        with pytest.raises(FieldError, match="has no column"):
            models.ManyToManyField("self", null=True)

        class Target(models.Model):
            title = models.CharField(max_length=5)

            class Meta:
                app_label = "tests_bad"

        with pytest.raises(FieldError, match="clashes"):
            class C(models.Model):
                target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="title")

                class Meta:
                    app_label = "tests_bad"


def test_to_field_and_related_names() -> None:
    with isolate_apps():
        class Country(models.Model):
            code = models.CharField(max_length=2, unique=True)

            class Meta:
                app_label = "tests_names"

        class City(models.Model):
            country = models.ForeignKey(
                Country, to_field="code", on_delete=models.CASCADE,
                related_name="cities", related_query_name="city",
            )
            hidden = models.ForeignKey(Country, null=True, on_delete=models.SET_NULL,
                                       related_name="+")

            class Meta:
                app_label = "tests_names"

        field = City._meta.get_field("country")
        assert field.target_field is Country._meta.get_field("code")
        city = City(country=Country(code="fr"))
        assert city.country_id == "fr"
        assert hasattr(Country, "cities") and Country._meta.get_field("city").field is field
        with pytest.raises(FieldError):
            Country._meta.get_field("cities")
        assert not any(r.accessor_name == "+" for r in Country._meta.related_objects
                       if not r.hidden)


def test_deconstruct() -> None:
    name, path, _args, kwargs = Post._meta.get_field("reviewer").deconstruct()
    assert (name, path) == ("reviewer", "reinhardt_db.models.ForeignKey")
    assert kwargs["to"] == "tests_relations.Author" and kwargs["on_delete"] is models.SET_NULL
    assert kwargs["related_name"] == "reviews" and kwargs["null"] is True
    _, path, _, kwargs = Post._meta.get_field("tags").deconstruct()
    assert path == "reinhardt_db.models.ManyToManyField" and "through" not in kwargs
    assert kwargs["to"] == "tests_relations.Tag"


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"])
def test_create_statements_have_foreign_keys_and_indexes(vendor: str) -> None:
    from .test_compiler_cache import DIALECTS

    statements = create_statements(Post, DIALECTS[vendor].dialect)
    text = "\n".join(statements)
    assert "tests_relations_post_author_id_idx" in text
    if vendor == "sqlite":  # written into CREATE TABLE there; added by ALTER elsewhere
        assert "FOREIGN KEY(author_id) REFERENCES tests_relations_author (id)" in text
    else:
        assert "FOREIGN KEY" not in text


async def test_database_enforces_foreign_keys(make_tables: Any) -> None:
    await make_tables(*ALL)
    with pytest.raises(IntegrityError):
        await Post.objects.create(title="orphan", author_id=12345)
    ann = await Author.objects.create(name="ann")
    post = await Post.objects.create(title="t", author=ann)
    await Comment.objects.create(post=post)
    junction = Post._meta.get_field("tags").through
    with pytest.raises(IntegrityError):
        await junction.objects.create(post_id=post.pk, tag_id=999)


async def test_create_tables_if_not_exists_keeps_foreign_keys(make_tables: Any) -> None:
    from reinhardt_db.models.schema import create_tables

    await make_tables(*ALL)
    await create_tables(list(ALL), if_not_exists=True)  # no duplicate constraint errors
    with pytest.raises(IntegrityError):
        await Post.objects.create(title="orphan", author_id=12345)


async def test_saving_takes_the_key_of_a_related_instance_saved_later(make_tables: Any) -> None:
    await make_tables(*ALL)
    ann = Author(name="ann")
    post = Post(title="t", author=ann)
    with pytest.raises(ValueError, match="unsaved related object 'author'"):
        await post.save()
    await ann.save()
    await post.save()
    assert post.author_id == ann.pk
    fresh = await Post.objects.select_related("author").get(pk=post.pk)
    assert fresh.author.name == "ann"


async def test_bulk_create_takes_keys_of_related_instances_saved_later(make_tables: Any) -> None:
    await make_tables(*ALL)
    ann = Author(name="ann")
    posts = [Post(title="a", author=ann), Post(title="b", author=ann)]
    with pytest.raises(ValueError, match="unsaved related object"):
        await Post.objects.bulk_create(posts)
    await ann.save()
    await Post.objects.bulk_create(posts)
    assert [p.author_id for p in posts] == [ann.pk, ann.pk]
    assert await ann.posts.count() == 2


async def test_refresh_from_db_forgets_prefetched_sets(make_tables: Any) -> None:
    await make_tables(*ALL)
    ann = await Author.objects.create(name="ann")
    loaded = await Author.objects.prefetch_related("posts").get(pk=ann.pk)
    await Post.objects.create(title="new", author=ann)
    assert await loaded.posts.count() == 0  # the prefetched (now stale) set
    await loaded.refresh_from_db()
    assert await loaded.posts.count() == 1
