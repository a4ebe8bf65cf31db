"""``_meta`` (Options), Meta options, inheritance, managers and model instances."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import (
    FieldDoesNotExist,
    FieldError,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
)
from reinhardt_db.models.query_utils import Q
from reinhardt_db.testing import isolate_apps


class Author(models.Model):
    name = models.CharField(max_length=50)
    email = models.EmailField(unique=True, db_column="mail")
    age = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_options"
        ordering = ["-age", "name"]
        unique_together = ("name", "age")
        get_latest_by = "age"
        verbose_name = "writer"
        default_related_name = "authored"
        indexes = [models.Index(fields=["-age", "name"], name="%(app_label)s_%(class)s_age")]
        constraints = [models.UniqueConstraint(fields=["name", "email"], name="uniq_name_mail")]


class OrderLine(models.Model):
    order_id = models.IntegerField()
    line_no = models.SmallIntegerField()
    qty = models.IntegerField(default=1)
    pk = models.CompositePrimaryKey("order_id", "line_no")

    class Meta:
        app_label = "tests_options"
        db_table = "order_lines"
        managed = False


@pytest.fixture
def isolated() -> Any:
    with isolate_apps():
        yield


# -- _meta attributes (the contract in docs/internals.md) --------------------------------


def test_meta_identity_attributes() -> None:
    meta = Author._meta
    assert meta.model is Author and meta.concrete_model is Author
    assert (meta.app_label, meta.model_name, meta.object_name) == (
        "tests_options", "author", "Author",
    )
    assert (meta.label, meta.label_lower) == ("tests_options.Author", "tests_options.author")
    assert meta.db_table == "tests_options_author"
    assert meta.abstract is False and meta.managed is True and meta.proxy is False
    assert meta.ordering == ["-age", "name"]
    assert meta.get_latest_by == "age"
    assert meta.unique_together == (("name", "age"),)
    assert meta.verbose_name == "writer" and meta.verbose_name_plural == "writers"
    assert meta.default_related_name == "authored"
    assert OrderLine._meta.db_table == "order_lines" and OrderLine._meta.managed is False


def test_meta_fields() -> None:
    meta = Author._meta
    assert [f.name for f in meta.fields] == ["id", "name", "email", "age"]
    assert meta.concrete_fields == meta.fields and meta.local_fields == list(meta.fields)
    assert meta.pk is meta.get_field("id") and meta.pk.auto_created and meta.pk.is_auto
    assert isinstance(meta.pk, models.BigAutoField)
    assert meta.fields_map["email"] is meta.get_field("email") and "mail" not in meta.fields_map
    assert meta.get_field("email").column == "mail"
    assert meta.pk_fields == (meta.pk,) and meta.pk_attnames == ("id",)
    assert meta.db_returning_fields == (meta.pk,)


def test_get_field_unknown_name_hints() -> None:
    with pytest.raises(FieldDoesNotExist, match="Author has no field named 'nmae'; did you mean "
                                                "'name'"):
        Author._meta.get_field("nmae")


def test_indexes_and_constraints_are_settled_per_model() -> None:
    (index,) = Author._meta.indexes
    assert index.name == "tests_options_author_age"
    assert Author._meta.constraints == [
        models.UniqueConstraint(fields=["name", "email"], name="uniq_name_mail")
    ]


def test_composite_primary_key() -> None:
    meta = OrderLine._meta
    assert isinstance(meta.pk, models.CompositePrimaryKey)
    assert [f.name for f in meta.pk.fields] == ["order_id", "line_no"]
    assert meta.pk.columns == ("order_id", "line_no")
    assert "pk" not in [f.name for f in meta.fields] and meta.pk_attnames == ("order_id", "line_no")
    line = OrderLine(order_id=7, line_no=2)
    assert line.pk == (7, 2)
    line.pk = (8, 3)
    assert (line.order_id, line.line_no) == (8, 3)
    with pytest.raises(ValueError, match="assign a tuple of 2 values"):
        line.pk = 5


def test_composite_primary_key_errors(isolated: Any) -> None:
    with pytest.raises(FieldError, match=r"nonexistent|no field named 'nope'"):
        class Bad(models.Model):
            a = models.IntegerField()
            pk = models.CompositePrimaryKey("a", "nope")

            class Meta:
                app_label = "t"

    with pytest.raises(FieldError, match="cannot be null"):
        class Bad2(models.Model):
            a = models.IntegerField()
            b = models.IntegerField(null=True)
            pk = models.CompositePrimaryKey("a", "b")

            class Meta:
                app_label = "t"

    with pytest.raises(FieldError, match="keep one"):
        class Bad3(models.Model):
            a = models.IntegerField(primary_key=True)
            b = models.IntegerField()
            pk = models.CompositePrimaryKey("a", "b")

            class Meta:
                app_label = "t"

    with pytest.raises(FieldError, match="at least two"):
        models.CompositePrimaryKey("a")


# -- Meta options --------------------------------------------------------------------------


def test_unknown_meta_option_is_a_type_error_naming_it(isolated: Any) -> None:
    with pytest.raises(TypeError) as info:
        class Thing(models.Model):
            class Meta:
                app_label = "t"
                orderin = ["id"]

    assert "'class Meta' of Thing got invalid attribute 'orderin'; did you mean 'ordering'" in str(
        info.value
    )


def test_meta_references_to_unknown_fields_fail_at_class_creation(isolated: Any) -> None:
    def make(**meta: Any) -> None:
        type("Thing", (models.Model,), {
            "__module__": __name__,
            "name": models.CharField(max_length=5),
            "Meta": type("Meta", (), {"app_label": "t", **meta}),
        })

    with pytest.raises(FieldError, match=r"Meta\.ordering refers to the nonexistent field 'nmae'"):
        make(ordering=["-nmae"])
    with pytest.raises(FieldDoesNotExist, match="no field named 'nmae'"):
        make(unique_together=[("name", "nmae")])
    with pytest.raises(FieldDoesNotExist, match=r"index .* nonexistent field 'nmae'; did you mean"):
        make(indexes=[models.Index(fields=["nmae"])])
    with pytest.raises(FieldDoesNotExist, match="constraint 'c' refers to the nonexistent"):
        make(constraints=[models.UniqueConstraint(fields=["nmae"], name="c")])
    make(ordering=["?", "pk", "name", "author__name"])  # accepted


def test_default_table_name_and_verbose_name(isolated: Any) -> None:
    class BlogPostEntry(models.Model):
        class Meta:
            app_label = "blog"

    assert BlogPostEntry._meta.db_table == "blog_blogpostentry"
    assert BlogPostEntry._meta.verbose_name == "blog post entry"


# -- inheritance ----------------------------------------------------------------------------


def test_abstract_bases_share_fields_copied_per_subclass(isolated: Any) -> None:
    class Base(models.Model):
        title = models.CharField(max_length=20)
        notes = models.TextField(blank=True)

        class Meta:
            abstract = True
            ordering = ["title"]
            indexes = [models.Index(fields=["title"], name="%(app_label)s_%(class)s_title")]

    class Post(Base):
        body = models.TextField()

        class Meta(Base.Meta):
            app_label = "blog"

    class Page(Base):
        notes = None  # drop the inherited field
        slug = models.SlugField()

        class Meta:
            app_label = "blog"

    assert Base._meta.abstract and not hasattr(Base, "objects")
    assert [f.name for f in Post._meta.fields] == ["id", "title", "notes", "body"]
    assert [f.name for f in Page._meta.fields] == ["id", "title", "slug"]
    assert Post._meta.get_field("title") is not Page._meta.get_field("title")
    assert Post._meta.get_field("title").model is Post
    assert Post._meta.ordering == ["title"] and Post._meta.abstract is False
    assert Post._meta.indexes[0].name == "blog_post_title"
    assert Page._meta.ordering == []  # its own Meta does not subclass Base.Meta
    with pytest.raises(TypeError, match="abstract"):
        Base()
    with pytest.raises(TypeError, match="abstract and has no table"):
        Base._meta.table  # noqa: B018


def test_child_without_meta_inherits_abstract_meta(isolated: Any) -> None:
    class Base(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            abstract = True
            app_label = "shop"
            ordering = ["name"]

    class Item(Base):
        pass

    assert Item._meta.app_label == "shop" and Item._meta.ordering == ["name"]
    assert not Item._meta.abstract


def test_timestamped_model_mixin(isolated: Any) -> None:
    class Note(models.TimestampedModel):
        text = models.TextField()

        class Meta:
            app_label = "notes"

    assert [f.name for f in Note._meta.fields] == ["id", "created_at", "updated_at", "text"]
    assert Note._meta.get_field("created_at").auto_now_add
    assert Note._meta.get_field("updated_at").auto_now


def test_multi_table_inheritance_is_refused_clearly(isolated: Any) -> None:
    class Place(models.Model):
        class Meta:
            app_label = "geo"

    with pytest.raises(FieldError, match=r"multi-table inheritance.*make Place abstract"):
        class Restaurant(Place):
            class Meta:
                app_label = "geo"


def test_exceptions_per_model() -> None:
    assert issubclass(Author.DoesNotExist, ObjectDoesNotExist)
    assert issubclass(Author.MultipleObjectsReturned, MultipleObjectsReturned)
    assert Author.DoesNotExist is not OrderLine.DoesNotExist
    assert Author.DoesNotExist.__qualname__ == "Author.DoesNotExist"


# -- managers ---------------------------------------------------------------------------


class FakeManager:
    """The manager contract: any object with contribute_to_class(model, name)."""

    def __init__(self) -> None:
        self.model: Any = None
        self.name: str | None = None

    def contribute_to_class(self, model: type, name: str) -> None:
        self.model, self.name = model, name
        setattr(model, name, self)

    def get_queryset(self) -> list[Any]:
        return []


def test_declared_managers_are_collected_in_order(isolated: Any) -> None:
    class Thing(models.Model):
        live = FakeManager()
        everything = FakeManager()

        class Meta:
            app_label = "t"

    meta = Thing._meta
    assert [m.name for m in meta.managers] == ["live", "everything"]
    assert meta.default_manager is Thing.live and Thing.live.model is Thing
    assert set(meta.managers_map) == {"live", "everything"}
    assert not hasattr(Thing, "objects")


def test_managers_on_abstract_parents_are_copied_to_children(isolated: Any) -> None:
    class Base(models.Model):
        live = FakeManager()

        class Meta:
            abstract = True

    class A(Base):
        class Meta:
            app_label = "t"

    class B(Base):
        extra = FakeManager()

        class Meta:
            app_label = "t"

    assert A.live is not B.live and A.live.model is A and B.live.model is B
    assert [m.name for m in B._meta.managers] == ["extra", "live"]


def test_default_objects_manager_and_base_manager(isolated: Any) -> None:
    from reinhardt_db.models.manager import Manager

    class Thing(models.Model):
        class Meta:
            app_label = "t"

    assert isinstance(Thing._meta.default_manager, Manager)
    assert Thing.objects is Thing._meta.default_manager and Thing.objects.model is Thing
    base = Thing._meta.base_manager
    assert isinstance(base, Manager) and base.model is Thing and base is not Thing.objects


def test_field_named_objects_needs_an_explicit_manager(isolated: Any) -> None:
    with pytest.raises(FieldError, match="field named 'objects'"):
        class Thing(models.Model):
            objects = models.IntegerField()

            class Meta:
                app_label = "t"


# -- instances ----------------------------------------------------------------------------


def test_init_keywords_positionals_and_properties() -> None:
    a = Author(name="ann", email="a@x.io")
    assert (a.id, a.name, a.email, a.age) == (None, "ann", "a@x.io", None)
    assert a._state.adding is True and a._state.db is None
    b = Author(1, "bob", "b@x.io", 30)
    assert (b.pk, b.name, b.age) == (1, "bob", 30)
    c = Author(pk=5, name="cy")
    assert c.id == 5
    assert set(a.__dict__) == {"_state", "id", "name", "email", "age"}


def test_init_errors() -> None:
    with pytest.raises(TypeError, match=r"Author\(\) got an unexpected keyword argument 'nmae'; "
                                        r"did you mean 'name'\?"):
        Author(nmae="ann")
    with pytest.raises(TypeError, match="multiple values for argument 'name'"):
        Author(1, "ann", name="bob")
    with pytest.raises(TypeError, match="at most 4 positional arguments"):
        Author(1, 2, 3, 4, 5)


def test_equality_and_hash_by_model_and_pk() -> None:
    assert Author(pk=1) == Author(pk=1) and hash(Author(pk=1)) == hash(Author(pk=1))
    assert Author(pk=1) != Author(pk=2)
    assert Author(pk=1) != OrderLine(order_id=1, line_no=1)
    unsaved = Author()
    assert unsaved == unsaved and unsaved != Author()
    with pytest.raises(TypeError, match="unhashable"):
        hash(unsaved)
    assert OrderLine(order_id=1, line_no=2) == OrderLine(order_id=1, line_no=2)
    with pytest.raises(TypeError):
        hash(OrderLine(order_id=1))
    assert len({Author(pk=1), Author(pk=1), Author(pk=2)}) == 2


def test_repr_and_str() -> None:
    assert repr(Author(pk=3)) == "<Author: Author object (3)>"
    assert str(OrderLine(order_id=1, line_no=2)) == "OrderLine object ((1, 2))"


def test_from_db_sets_state_and_skips_defaults() -> None:
    line = OrderLine.from_db("replica", ["order_id", "line_no"], [1, 2])
    assert line._state.adding is False and line._state.db == "replica"
    assert set(line.__dict__) == {"_state", "order_id", "line_no"}
    assert line.get_deferred_fields() == {"qty"}


def test_copy_and_pickle_keep_values_with_their_own_state() -> None:
    a = Author.from_db("default", ["id", "name", "email", "age"], [1, "ann", "a@x", 3])
    b = copy.copy(a)
    assert b == a and b._state is not a._state and b._state.db == "default"
    c = pickle.loads(pickle.dumps(a))
    assert c.__dict__.keys() == a.__dict__.keys() and c.name == "ann" and not c._state.adding


def test_check_constraint_accepts_condition_or_check() -> None:
    a = models.CheckConstraint(condition=Q(age__gte=0), name="c")
    b = models.CheckConstraint(check=Q(age__gte=0), name="c")
    assert a == b and a.check is a.condition
    assert a.deconstruct() == (
        "reinhardt_db.models.CheckConstraint", (), {"name": "c", "condition": Q(age__gte=0)},
    )
    with pytest.raises(TypeError, match="requires condition"):
        models.CheckConstraint(name="c")
    with pytest.raises(TypeError, match="requires a name"):
        models.CheckConstraint(condition=Q(age__gte=0), name="")


def test_index_and_unique_constraint_values() -> None:
    index = models.Index(fields=["-created", "name"], name="i", condition=Q(live=True))
    assert index.fields_orders == [("created", "DESC"), ("name", "")]
    assert index.deconstruct() == (
        "reinhardt_db.models.Index", (),
        {"fields": ["-created", "name"], "name": "i", "condition": Q(live=True)},
    )
    assert index == models.Index(fields=["-created", "name"], name="i", condition=Q(live=True))
    assert index != models.Index(fields=["created", "name"], name="i", condition=Q(live=True))
    with pytest.raises(ValueError, match="must be named"):
        models.Index(fields=["a"], condition=Q(a=1))
    with pytest.raises(ValueError, match="at least one field"):
        models.Index(fields=[])
    unique = models.UniqueConstraint(fields=["a", "b"], name="u", condition=Q(a=1))
    assert unique.deconstruct()[2] == {"name": "u", "fields": ("a", "b"), "condition": Q(a=1)}
    assert unique.clone() == unique
