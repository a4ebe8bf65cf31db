"""Hybrid properties and methods: Python on instances, their expression in queries.

Every query position a field name takes is checked with rows on each backend:
lookups and transforms, ``Q``, ``exclude``, ``order_by``, ``values``,
``values_list``, ``F``, aggregates, grouping, across relations (forward and
reverse), ``update``/``delete`` filtered by a hybrid; then ``hybrid_method`` on
both sides, the errors (no expression, collisions, bad lookups, expressions a
hybrid cannot hold), the compiled-statement cache, and a hypothesis property:
for random rows, ``filter(full_name=...)``, ``full_name__startswith`` and
``order_by("full_name")`` agree with the Python getter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import (
    Coalesce,
    Concat,
    Count,
    F,
    Length,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Upper,
    Value,
)
from reinhardt_db.models.schema import create_tables, drop_tables
from reinhardt_db.models.sql.cache import statement_cache
from reinhardt_db.testing import isolate_apps

from ._cache import bound_pair

EPOCH = dt.date(1970, 1, 1)
EXAMPLES = int(os.environ.get("REINHARDT_HYBRID_EXAMPLES", "25"))


class Person(models.Model):
    first = models.CharField(max_length=30)
    last = models.CharField(max_length=30, null=True)
    age = models.IntegerField(null=True)
    born = models.DateField(null=True)

    class Meta:
        app_label = "tests_hybrid"

    @models.hybrid_property
    def full_name(self) -> str:
        # Concat reads NULL as "" (Django's rule): the getter says the same.
        return f"{self.first} {self.last or ''}"

    @full_name.expression
    def full_name(cls) -> Any:  # the expression receives the class
        return Concat("first", Value(" "), "last")

    @full_name.setter
    def full_name(self, value: str) -> None:
        self.first, _, self.last = value.partition(" ")

    @models.hybrid_property
    def shout(self) -> str:
        return self.full_name.upper()

    @shout.expression
    def _shout_sql(cls) -> Any:  # another name: the hybrid keeps "shout"
        return Upper("full_name")

    @models.hybrid_property
    def is_adult(self) -> bool:
        return self.age is not None and self.age >= 18

    @is_adult.expression
    def is_adult(cls) -> Any:
        return Q(age__gte=18)

    @models.hybrid_property
    def born_or_epoch(self) -> dt.date:
        return self.born or EPOCH

    @born_or_epoch.expression
    def born_or_epoch(cls) -> Any:
        return Coalesce("born", Value(EPOCH))

    @models.hybrid_property
    def python_only(self) -> int:
        return len(self.first)

    @models.hybrid_method
    def older_than(self, age: int) -> bool:
        return self.age is not None and self.age > age

    @older_than.expression
    def older_than(cls, age: int) -> Any:
        return Q(age__gt=age)

    @models.hybrid_method
    def age_in(self, years: int) -> int | None:
        return None if self.age is None else self.age + years

    @age_in.expression
    def age_in(cls, years: int) -> Any:
        return F("age") + years

    @models.hybrid_method
    def python_method(self, n: int) -> int:
        return n


class Book(models.Model):
    title = models.CharField(max_length=30)
    author = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="books")

    class Meta:
        app_label = "tests_hybrid"

    @models.hybrid_property
    def loud_title(self) -> str:
        return self.title.upper()

    @loud_title.expression
    def loud_title(cls) -> Any:
        return Upper("title")

    @models.hybrid_property
    def label(self) -> str:
        return f"{self.title} by {self.author.last}"

    @label.expression
    def label(cls) -> Any:  # reads across the foreign key
        return Concat("title", Value(" by "), "author__last")

    @models.hybrid_property
    def loud_label(self) -> str:
        return self.label.upper()

    @loud_label.expression
    def loud_label(cls) -> Any:  # reads across the foreign key through another hybrid
        return Upper("label")

    @models.hybrid_property
    def author_first(self) -> str:
        return self.author.first

    @author_first.expression
    def author_first(cls) -> Any:  # a subquery with constants of its own
        people = Person.objects.filter(pk=OuterRef("author_id"), first__gt="")
        return Subquery(people.order_by("-first").values("first")[:1])


class Named(models.Model):
    first = models.CharField(max_length=30)
    last = models.CharField(max_length=30)

    class Meta:
        abstract = True

    @models.hybrid_property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"

    @full_name.expression
    def full_name(cls) -> Any:
        return Concat("first", Value(" "), "last")


class Employee(Named):
    team = models.CharField(max_length=30)

    class Meta:
        app_label = "tests_hybrid"


class Listed(models.Model):
    first = models.CharField(max_length=30)
    last = models.CharField(max_length=30)

    class Meta:
        app_label = "tests_hybrid"
        ordering = ["-sort_name"]

    @models.hybrid_property
    def sort_name(self) -> str:
        return f"{self.last}, {self.first}"

    @sort_name.expression
    def sort_name(cls) -> Any:
        return Concat("last", Value(", "), "first")


class Part(models.Model):
    holder = models.ForeignKey("Broken", on_delete=models.CASCADE, related_name="parts")

    class Meta:
        app_label = "tests_hybrid"


class Broken(models.Model):
    n = models.IntegerField(default=0)

    class Meta:
        app_label = "tests_hybrid"

    @models.hybrid_property
    def counted(self) -> int:
        return 0

    @counted.expression
    def counted(cls) -> Any:
        return Count("id")

    @models.hybrid_property
    def many(self) -> int:
        return 0

    @many.expression
    def many(cls) -> Any:
        return F("parts__id")

    @models.hybrid_property
    def ping(self) -> int:
        return 0

    @ping.expression
    def ping(cls) -> Any:
        return F("pong")

    @models.hybrid_property
    def pong(self) -> int:
        return 0

    @pong.expression
    def pong(cls) -> Any:
        return F("ping")

    @models.hybrid_property
    def number(self) -> int:
        return 42

    @number.expression
    def number(cls) -> Any:
        return 42

    @models.hybrid_property
    def typo(self) -> int:
        return 0

    @typo.expression
    def typo(cls) -> Any:
        return F("nn")


PEOPLE = [
    ("Ann", "Lee", 34, dt.date(1990, 5, 1)), ("Dan", "Ross", 17, None),
    ("Bob", "Mann", 51, dt.date(1973, 2, 3)), ("Cy", None, None, None),
]


@pytest.fixture
async def people(make_tables: Any) -> list[Person]:
    await make_tables(Person, Book, Employee)
    made = await Person.objects.bulk_create(
        [Person(first=f, last=last, age=a, born=b) for f, last, a, b in PEOPLE]
    )
    ann, dan, bob, _ = made
    await Book.objects.bulk_create([
        Book(title="Tide", author=ann), Book(title="Oak", author=ann),
        Book(title="Salt", author=dan), Book(title="Ash", author=bob),
    ])
    return made


async def names(qs: Any) -> list[str]:
    return sorted(await qs.values_list("first", flat=True))


# -- the instance side -----------------------------------------------------------------------


def test_getter_setter_and_constructor_on_instances() -> None:
    ann = Person(first="Ann", last="Lee", age=34)
    assert ann.full_name == "Ann Lee"
    assert ann.shout == "ANN LEE"
    assert ann.is_adult is True
    assert ann.python_only == 3
    ann.full_name = "Bea Ford"
    assert (ann.first, ann.last) == ("Bea", "Ford")
    made = Person(full_name="Cy Young", age=3)  # a hybrid with a setter is a keyword
    assert (made.first, made.last, made.is_adult) == ("Cy", "Young", False)
    with pytest.raises(AttributeError, match=r"no setter; define one with @shout.setter"):
        ann.shout = "x"
    with pytest.raises(TypeError, match="unexpected keyword argument 'shout'"):
        Person(shout="x")
    assert "full_name" not in ann.__dict__  # no state beyond the fields


def test_class_side_is_a_reference_to_the_expression() -> None:
    ref = Person.full_name
    assert isinstance(ref, models.HybridRef) and isinstance(ref, F)
    assert repr(ref) == "HybridRef(Person.full_name)"
    assert ref.expression == Concat("first", Value(" "), "last")
    assert Person.shout.name == "shout"  # the expression's function had another name
    assert isinstance(Person.full_name.icontains("an"), Q)
    assert Person.full_name.icontains("an") == Q(full_name__icontains="an")
    with pytest.raises(FieldError, match="is a hybrid property, not a field"):
        Person.full_name.field  # noqa: B018
    assert set(Person._meta.hybrids) == {
        "full_name", "shout", "is_adult", "born_or_epoch", "python_only",
    }
    assert [f.name for f in Person._meta.fields] == ["id", "first", "last", "age", "born"]
    assert "full_name" not in Person._meta.table.c


def test_hybrid_method_instance_and_class_sides() -> None:
    ann = Person(first="Ann", age=34)
    assert ann.older_than(30) is True and ann.older_than(40) is False
    assert ann.age_in(10) == 44
    assert Person.older_than(30) == Q(age__gt=30)
    assert Person.age_in(10) == F("age") + 10
    assert ann.python_method(5) == 5
    with pytest.raises(FieldError, match=r"Person.python_method\(...\) is a hybrid method "
                       r"without a query expression.*@python_method.expression"):
        Person.python_method(5)


# -- every query position -------------------------------------------------------------------


async def test_filter_exclude_q_with_lookups_and_transforms(people: list[Person]) -> None:
    objects = Person.objects
    assert await names(objects.filter(full_name="Ann Lee")) == ["Ann"]
    assert await names(objects.filter(full_name__icontains="an")) == ["Ann", "Bob", "Dan"]
    assert await names(objects.filter(full_name__startswith="Cy")) == ["Cy"]
    assert await names(objects.filter(full_name="Cy ")) == ["Cy"]  # NULL last name: ""
    assert await names(objects.filter(full_name__in=["Ann Lee", "Bob Mann"])) == ["Ann", "Bob"]
    assert await names(objects.filter(born_or_epoch__year=1970)) == ["Cy", "Dan"]
    assert await names(objects.filter(born_or_epoch__month__gte=2)) == ["Ann", "Bob"]
    assert await names(objects.exclude(full_name__icontains="an")) == ["Cy"]
    assert await names(objects.filter(Q(full_name="Ann Lee") | Q(age__lt=18))) == ["Ann", "Dan"]
    assert await names(objects.filter(~Q(full_name__endswith="n"))) == ["Ann", "Cy", "Dan"]
    assert await names(objects.filter(Person.full_name.startswith("B"))) == ["Bob"]
    assert await names(objects.filter(Person.full_name == "Dan Ross")) == ["Dan"]
    assert await names(objects.filter(shout__contains="ANN")) == ["Ann", "Bob"]
    assert await names(objects.filter(is_adult=True)) == ["Ann", "Bob"]
    assert await names(objects.filter(is_adult=False)) == ["Cy", "Dan"]
    assert await objects.filter(full_name__icontains="an").count() == 3
    assert await objects.filter(full_name="Ann Lee").exists()


async def test_order_by_values_and_values_list(people: list[Person]) -> None:
    objects = Person.objects
    ordered = ["Ann Lee", "Bob Mann", "Cy ", "Dan Ross"]
    assert [p.first for p in await objects.order_by("full_name")] == ["Ann", "Bob", "Cy", "Dan"]
    assert await objects.order_by("-full_name").values_list("full_name", flat=True) == (
        ordered[::-1]
    )
    assert await objects.order_by(Person.full_name.desc()).values_list("first", flat=True) == [
        "Dan", "Cy", "Bob", "Ann",
    ]
    assert await objects.order_by("shout").values("first", "full_name", "shout", "is_adult") == [
        {"first": "Ann", "full_name": "Ann Lee", "shout": "ANN LEE", "is_adult": True},
        {"first": "Bob", "full_name": "Bob Mann", "shout": "BOB MANN", "is_adult": True},
        {"first": "Cy", "full_name": "Cy ", "shout": "CY ", "is_adult": False},
        {"first": "Dan", "full_name": "Dan Ross", "shout": "DAN ROSS", "is_adult": False},
    ]
    assert await objects.order_by("full_name").values_list("full_name", "age")[:2] == [
        ("Ann Lee", 34), ("Bob Mann", 51),
    ]
    distinct = objects.values_list("full_name", flat=True).distinct().order_by("full_name")
    assert await distinct == ordered
    assert await objects.order_by("born_or_epoch__year", "-full_name").values_list(
        "first", "born_or_epoch__year"
    ) == [("Dan", 1970), ("Cy", 1970), ("Bob", 1973), ("Ann", 1990)]
    # Python agrees with each row it read.
    for person in await objects.all():
        assert (await objects.values_list("full_name", flat=True).get(pk=person.pk)) == (
            person.full_name
        )


async def test_inside_expressions_and_aggregates(people: list[Person]) -> None:
    objects = Person.objects
    assert await objects.aggregate(hi=Max("full_name"), lo=Min("shout")) == {
        "hi": "Dan Ross", "lo": "ANN LEE",
    }
    rows = await objects.annotate(n=Length("full_name"), tag=Concat(F("full_name"), Value("!")))
    assert sorted((p.first, p.__dict__["n"], p.__dict__["tag"]) for p in rows) == [
        ("Ann", 7, "Ann Lee!"), ("Bob", 8, "Bob Mann!"), ("Cy", 3, "Cy !"), ("Dan", 8, "Dan Ross!"),
    ]
    same = Concat(F("first"), Value(" "), F("last"))
    assert await names(objects.filter(full_name=same)) == ["Ann", "Bob", "Cy", "Dan"]
    assert await names(objects.filter(last=F("full_name"))) == []
    assert await names(objects.filter(full_name__startswith=F("first"))) == ["Ann", "Bob", "Cy", "Dan"]
    assert await objects.annotate(ref=Person.full_name).order_by("ref").values_list(
        "ref", flat=True
    ) == ["Ann Lee", "Bob Mann", "Cy ", "Dan Ross"]
    grouped = await objects.values("is_adult").annotate(n=Count("id")).order_by("is_adult")
    assert grouped == [{"is_adult": False, "n": 2}, {"is_adult": True, "n": 2}]
    by_name = await objects.values("full_name").annotate(n=Count("books")).order_by("full_name")
    assert by_name == [
        {"full_name": "Ann Lee", "n": 2}, {"full_name": "Bob Mann", "n": 1},
        {"full_name": "Cy ", "n": 0}, {"full_name": "Dan Ross", "n": 1},
    ]
    assert await objects.filter(full_name__contains="o").annotate(n=Count("books")).filter(
        n__gte=1
    ).order_by("first").values_list("first", "n") == [("Bob", 1), ("Dan", 1)]


async def test_hybrid_method_in_queries(people: list[Person]) -> None:
    objects = Person.objects
    assert await names(objects.filter(Person.older_than(30))) == ["Ann", "Bob"]
    # exclude() keeps the NULL age (Django's rule for exclude(age__gt=30))
    assert await names(objects.exclude(Person.older_than(30))) == ["Cy", "Dan"]
    assert await names(objects.filter(Person.older_than(30) | Q(first="Cy"))) == [
        "Ann", "Bob", "Cy",
    ]
    later = await objects.annotate(later=Person.age_in(10)).filter(later__gt=40)
    assert sorted((p.first, p.__dict__["later"]) for p in later) == [("Ann", 44), ("Bob", 61)]
    # the class side and the instance side agree, row by row
    for person in await objects.all():
        hits = await objects.filter(Person.older_than(30), pk=person.pk).exists()
        assert hits == person.older_than(30)


async def test_across_relations(people: list[Person]) -> None:
    books = Book.objects
    assert sorted(await books.filter(author__full_name="Ann Lee").values_list(
        "title", flat=True
    )) == ["Oak", "Tide"]
    assert await books.filter(author__full_name__icontains="ro").values_list(
        "title", flat=True
    ) == ["Salt"]
    assert await books.order_by("-author__full_name", "title").values_list(
        "title", "author__full_name"
    ) == [("Salt", "Dan Ross"), ("Ash", "Bob Mann"), ("Oak", "Ann Lee"), ("Tide", "Ann Lee")]
    assert await books.filter(author__shout__startswith="BOB").values_list(
        "title", flat=True
    ) == ["Ash"]
    assert await books.filter(author__is_adult=False).values_list("title", flat=True) == ["Salt"]
    assert await books.aggregate(m=Max("author__full_name")) == {"m": "Dan Ross"}
    # the reverse side, with Django's multi-valued semantics (exclude: a subquery)
    people_ = Person.objects
    assert await names(people_.filter(books__loud_title="OAK")) == ["Ann"]
    assert await names(people_.filter(books__loud_title__startswith="S")) == ["Dan"]
    assert await names(people_.exclude(books__loud_title="OAK")) == ["Bob", "Cy", "Dan"]
    # a hybrid that reads across a relation itself, on its own model's queries
    assert await books.order_by("label").values_list("label", flat=True) == [
        "Ash by Mann", "Oak by Lee", "Salt by Ross", "Tide by Lee",
    ]
    assert sorted(await books.filter(label__endswith="Lee").values_list("title", flat=True)) == [
        "Oak", "Tide",
    ]
    assert await books.filter(loud_label="OAK BY LEE").values_list("title", flat=True) == ["Oak"]
    with pytest.raises(FieldError, match=r"Book.label reads across relations itself"):
        people_.filter(books__label="x")
    with pytest.raises(FieldError, match=r"Book.loud_label reads across relations itself"):
        people_.order_by("books__loud_label")


async def test_subqueries_inside_and_around_hybrids(people: list[Person]) -> None:
    books = Book.objects
    assert sorted(await books.filter(author_first="Ann").values_list("title", flat=True)) == [
        "Oak", "Tide",
    ]
    assert await books.order_by("-author_first", "title").values_list(
        "author_first", "title"
    ) == [("Dan", "Salt"), ("Bob", "Ash"), ("Ann", "Oak"), ("Ann", "Tide")]
    assert await names(Person.objects.filter(books__author_first="Bob")) == ["Bob"]
    # a hybrid inside a subquery whose parameters follow the outer query's
    inner = Person.objects.filter(age__gt=1, full_name__startswith="B", books__author_first="Bob")
    assert await books.filter(title__gt="A", author__in=inner).values_list(
        "title", flat=True
    ) == ["Ash"]
    assert await names(Person.objects.filter(
        pk__in=books.filter(label__startswith="Salt").values("author")
    )) == ["Dan"]
    assert await Person.objects.annotate(
        first_book=Subquery(books.filter(author=OuterRef("pk")).order_by("loud_title").values(
            "loud_title"
        )[:1])
    ).filter(full_name__endswith="Lee").values_list("first_book", flat=True) == ["OAK"]
    [book] = await books.select_related("author").filter(title="Ash")
    assert book.author_first == "Bob"


async def test_update_and_delete_filtered_by_hybrids(people: list[Person]) -> None:
    assert await Person.objects.filter(full_name__icontains="ross").update(age=F("age") + 1) == 1
    assert (await Person.objects.get(first="Dan")).age == 18
    assert await Book.objects.filter(label__endswith="by Lee").update(title=Upper("title")) == 2
    assert sorted(await Book.objects.values_list("title", flat=True)) == [
        "Ash", "OAK", "Salt", "TIDE",
    ]
    deleted, _ = await Book.objects.filter(label="Salt by Ross").delete()
    assert deleted == 1
    deleted, _ = await Person.objects.filter(full_name="Cy ").delete()
    assert deleted == 1
    assert await Person.objects.count() == 3


async def test_inherited_from_an_abstract_parent(people: list[Person]) -> None:
    await Employee.objects.bulk_create([
        Employee(first="Eve", last="Hart", team="a"), Employee(first="Al", last="Zed", team="b"),
    ])
    assert "full_name" in Employee._meta.hybrids
    assert [f.name for f in Employee._meta.fields] == ["id", "first", "last", "team"]
    assert await Employee.objects.order_by("full_name").values_list("full_name", flat=True) == [
        "Al Zed", "Eve Hart",
    ]
    [eve] = await Employee.objects.filter(full_name__startswith="E")
    assert eve.full_name == "Eve Hart"


async def test_meta_ordering_may_name_a_hybrid(make_tables: Any) -> None:
    await make_tables(Listed)
    await Listed.objects.bulk_create([
        Listed(first="b", last="x"), Listed(first="a", last="y"), Listed(first="c", last="x"),
    ])
    assert await Listed.objects.values_list("sort_name", flat=True) == ["y, a", "x, c", "x, b"]


# -- the compiled-statement cache -------------------------------------------------------------


async def test_one_compiled_statement_per_shape(people: list[Person]) -> None:
    async def run(value: str) -> list[str]:
        return await names(Person.objects.filter(full_name__icontains=value).order_by("full_name"))

    one, two = await bound_pair(run, "an", "ros")
    assert (one, two) == (["Ann", "Bob", "Dan"], ["Dan"])

    async def across(value: str) -> list[str]:
        return await Book.objects.filter(author__full_name=value).values_list("title", flat=True)

    one, two = await bound_pair(across, "Dan Ross", "Bob Mann")
    assert (one, two) == (["Salt"], ["Ash"])
    statement_cache.clear()


# -- errors ---------------------------------------------------------------------------------


async def test_no_expression_is_a_clear_error_in_every_position(people: list[Person]) -> None:
    hint = r"Person.python_only is a hybrid property without a query expression.*" \
           r"define @python_only.expression"
    with pytest.raises(FieldError, match=hint):
        Person.objects.filter(python_only=3)
    with pytest.raises(FieldError, match=hint):
        Person.objects.filter(Person.python_only > 3)
    with pytest.raises(FieldError, match=hint):
        Person.objects.order_by("-python_only")
    with pytest.raises(FieldError, match=hint):
        Person.objects.values("python_only")
    with pytest.raises(FieldError, match=hint):
        Person.objects.annotate(n=F("python_only") + 1)
    with pytest.raises(FieldError, match=hint):
        await Person.objects.aggregate(n=Max("python_only"))
    with pytest.raises(FieldError, match=hint):
        Book.objects.filter(author__python_only=3)
    assert Person(first="abc").python_only == 3  # the instance side is untouched


async def test_unknown_names_and_bad_lookups(people: list[Person]) -> None:
    with pytest.raises(FieldError, match=r"'fullname'.*Did you mean 'full_name'\?.*Choices "
                       r"are: id, first, last, age, born, books, full_name, shout, is_adult"):
        Person.objects.filter(fullname="x")
    with pytest.raises(FieldError, match=r"ordering 'ful_name'.*Did you mean 'full_name'"):
        Person.objects.order_by("ful_name")
    with pytest.raises(FieldError, match=r"'sout'.*Did you mean 'shout'"):
        Person.objects.values("sout")
    with pytest.raises(FieldError, match=r"Unsupported lookup or transform 'bogus' in "
                       r"'full_name__bogus'"):
        Person.objects.filter(full_name__bogus="x")
    with pytest.raises(FieldError, match=r"Unsupported transform 'bogus' in 'full_name__bogus'"):
        Person.objects.order_by("full_name__bogus")
    with pytest.raises(FieldError, match=r"Unsupported lookup or transform 'yaer'.*"
                       r"Did you mean 'year'\?"):
        Person.objects.filter(born_or_epoch__yaer=1970)
    with pytest.raises(FieldError, match=r"'ful_name' in 'author__ful_name': Person has no "
                       r"such field.*Did you mean 'full_name'\?"):
        Book.objects.filter(author__ful_name="x")
    with pytest.raises(ValueError, match=r"conflicts with the hybrid property Person\.full_name"):
        Person.objects.annotate(full_name=F("first"))
    with pytest.raises(FieldError, match=r"Person\.full_name is a hybrid property, not a field"):
        Person.objects.only("full_name")
    with pytest.raises(FieldError, match=r"Person\.full_name is a hybrid property, not a field"):
        await Person.objects.update(full_name="x")


def test_expressions_a_hybrid_cannot_hold() -> None:
    with pytest.raises(FieldError, match=r"Broken.counted: .* cannot hold an aggregate"):
        Broken.objects.filter(counted=1)
    with pytest.raises(FieldError, match=r"Broken.many: .*'parts__id' across a multi-valued"):
        Broken.objects.filter(many=1)
    with pytest.raises(FieldError, match=r"refers to itself"):
        Broken.objects.filter(ping=1)
    with pytest.raises(TypeError, match=r"Broken.number: .* must return an expression"):
        Broken.objects.filter(number=1)
    with pytest.raises(FieldError, match=r"'nn'.*Did you mean 'n'"):
        Broken.objects.order_by("typo")
    # a failed build is not cached as a success
    with pytest.raises(FieldError, match=r"refers to itself"):
        Broken.objects.values("pong")


def test_name_collisions_are_refused_when_the_class_is_made() -> None:
    with isolate_apps("tests_hybrid"):
        _declare_clashes()


def _declare_clashes() -> None:
    with pytest.raises(FieldError, match=r"Clash1.title: cannot define the hybrid property "
                       r"'title': Clash1 has a field .*'title'"):
        class Base1(models.Model):
            title = models.CharField(max_length=5)

            class Meta:
                abstract = True

        class Clash1(Base1):
            class Meta:
                app_label = "tests_hybrid"

            @models.hybrid_property
            def title(self) -> str:
                return ""

    with pytest.raises(FieldError, match=r"Clash2.full_name: cannot define the hybrid property"):
        class Clash2(Named):  # a field where the parent has a hybrid
            full_name = models.CharField(max_length=5)

            class Meta:
                app_label = "tests_hybrid"

    with pytest.raises(FieldError, match=r"Clash3.author_id: .*field's column attribute"):
        class Clash3(models.Model):
            author = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

            class Meta:
                app_label = "tests_hybrid"

            @models.hybrid_method
            def author_id(self) -> int:
                return 0

    with pytest.raises(FieldError, match=r"Clash4.pk: .*'pk' always means the primary key"):
        class Clash4(models.Model):
            class Meta:
                app_label = "tests_hybrid"

            @models.hybrid_property
            def pk(self) -> int:
                return 0

    with pytest.raises(FieldError, match=r"reverse accessor 'Person.full_name' clashes"):
        class Clash5(models.Model):
            person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="full_name")

            class Meta:
                app_label = "tests_hybrid"


# -- the property: the expression agrees with the getter ----------------------------------------

# Lowercase ASCII letters: where SQL and Python compare text alike on every backend
# (MySQL's default collation ignores case and accents; Python does not).
words = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
rows = st.lists(st.tuples(words, st.one_of(st.none(), words)), min_size=1, max_size=8)


async def _agree(data: list[tuple[str, str | None]], probe: int, cut: int) -> None:
    await Person.objects.all().delete()
    stored = await Person.objects.bulk_create([Person(first=f, last=last) for f, last in data])
    target = stored[probe % len(stored)].full_name
    want = sorted(p.pk for p in stored if p.full_name == target)
    assert sorted(await Person.objects.filter(full_name=target).values_list(
        "pk", flat=True
    )) == want, f"filter(full_name={target!r}) on {data!r}"
    prefix = target[:cut]
    want = sorted(p.pk for p in stored if p.full_name.startswith(prefix))
    assert sorted(await Person.objects.filter(full_name__startswith=prefix).values_list(
        "pk", flat=True
    )) == want, f"filter(full_name__startswith={prefix!r}) on {data!r}"
    got = await Person.objects.order_by("full_name", "pk").values_list("full_name", "pk")
    assert got == sorted((p.full_name, p.pk) for p in stored), f"order_by on {data!r}"


def test_expression_agrees_with_the_getter(backend_url: str, backend_name: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with asyncio.Runner() as runner:
            runner.run(drop_tables([Book, Person], if_exists=True))
            runner.run(create_tables([Person, Book]))
            examples = 0

            @settings(
                max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(data=rows, probe=st.integers(0, 7), cut=st.integers(0, 8))
            def check(data: list[tuple[str, str | None]], probe: int, cut: int) -> None:
                nonlocal examples
                examples += 1
                runner.run(_agree(data, probe, cut))

            try:
                check()
                assert examples >= EXAMPLES
            finally:
                runner.run(drop_tables([Book, Person], if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()
