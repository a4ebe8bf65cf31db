"""ArrayField: PostgreSQL arrays of a base field; refused on SQLite and MariaDB."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.conf import ENV_DATABASE_URL, ENV_SETTINGS, reset_settings
from reinhardt_db.contrib.postgres import ArrayField
from reinhardt_db.exceptions import DataError, FieldError, NotSupportedError, ValidationError
from reinhardt_db.models import F
from reinhardt_db.testing import isolate_apps

from ..cli._project import Project

APP = "tests_array_field"
PG = pytest.mark.backends("postgresql")
NOT_PG = pytest.mark.backends("sqlite", "mysql")


@pytest.fixture
def app() -> Iterator[dict[str, Any]]:
    with isolate_apps():

        class Post(models.Model):
            title = models.CharField(max_length=20)
            tags = ArrayField(models.CharField(max_length=10), default=list, blank=True)
            scores = ArrayField(models.IntegerField(null=True), null=True, blank=True)
            grid = ArrayField(ArrayField(models.IntegerField()), null=True, blank=True)

            class Meta:
                app_label = APP
                ordering = ["id"]

        class Typed(models.Model):
            stamps = ArrayField(models.DateTimeField(), null=True)
            prices = ArrayField(models.DecimalField(max_digits=6, decimal_places=2), null=True)
            ids = ArrayField(models.UUIDField(), null=True)
            flags = ArrayField(models.BooleanField(), null=True)
            docs = ArrayField(models.JSONField(null=True), null=True)
            days = ArrayField(models.DateField(), null=True)

            class Meta:
                app_label = APP

        class Sized(models.Model):
            tags = ArrayField(models.CharField(max_length=5), size=2)

            class Meta:
                app_label = APP

        yield {"Post": Post, "Typed": Typed, "Sized": Sized}


@pytest.fixture
async def posts(app: dict[str, Any], backend: Database, make_tables: Any) -> list[Any]:
    post = app["Post"]
    await make_tables(post, app["Typed"], app["Sized"])
    rows = [
        ("a", ["django", "python"], [1, 2, 3]),
        ("b", ["python"], [3, None]),
        ("c", [], []),
        ("d", ["rust", "go", "python"], None),
    ]
    return [
        await post.objects.create(title=title, tags=tags, scores=scores)
        for title, tags, scores in rows
    ]


async def _titles(qs: Any) -> list[str]:
    return [title async for title in qs.values_list("title", flat=True)]


# -- round trips ---------------------------------------------------------------------------


@PG
async def test_round_trips_lists_of_several_base_types(app: dict[str, Any], posts: Any) -> None:
    typed = app["Typed"]
    stamp = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    key = uuid.uuid4()
    obj = await typed.objects.create(
        stamps=[stamp], prices=["1.5", decimal.Decimal("2.346")], ids=[str(key)],
        flags=[True, False], docs=[{"a": [1, 2]}, "x", None], days=[dt.date(2020, 2, 29)],
    )
    loaded = await typed.objects.get(pk=obj.pk)
    assert loaded.stamps == [stamp]
    assert loaded.stamps[0].utcoffset() == dt.timedelta(0)
    assert loaded.prices == [decimal.Decimal("1.50"), decimal.Decimal("2.35")]
    assert loaded.ids == [key]
    assert loaded.flags == [True, False]
    assert loaded.docs == [{"a": [1, 2]}, "x", None]
    assert loaded.days == [dt.date(2020, 2, 29)]


@PG
async def test_round_trips_nested_arrays_and_nulls(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    obj = await post.objects.create(title="g", grid=[[1, 2], [3, 4]], scores=[None, 7])
    loaded = await post.objects.get(pk=obj.pk)
    assert loaded.grid == [[1, 2], [3, 4]]
    assert loaded.scores == [None, 7]
    assert (await post.objects.get(title="c")).tags == []
    assert (await post.objects.get(title="d")).scores is None


@PG
def test_column_types_on_postgresql(app: dict[str, Any]) -> None:
    from sqlalchemy.dialects import postgresql

    from reinhardt_db.models.schema import create_statements

    sql = create_statements(app["Post"], postgresql.dialect())[0]
    assert "tags VARCHAR(10)[] NOT NULL" in sql
    assert "grid INTEGER[][]" in sql


# -- lookups and transforms -------------------------------------------------------------


@PG
async def test_contains_contained_by_overlap(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    assert await _titles(post.objects.filter(tags__contains=["python"])) == ["a", "b", "d"]
    assert await _titles(post.objects.filter(tags__contains=["python", "django"])) == ["a"]
    assert await _titles(post.objects.filter(tags__contains=[])) == ["a", "b", "c", "d"]
    assert await _titles(post.objects.filter(tags__contained_by=["python", "django"])) == [
        "a", "b", "c",
    ]
    assert await _titles(post.objects.filter(tags__overlap=["go", "django"])) == ["a", "d"]
    assert await _titles(post.objects.exclude(tags__overlap=["python"])) == ["c"]


@PG
async def test_exact_and_isnull(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    assert await _titles(post.objects.filter(tags=["python"])) == ["b"]
    assert await _titles(post.objects.filter(tags=[])) == ["c"]
    assert await _titles(post.objects.filter(tags=("django", "python"))) == ["a"]
    assert await _titles(post.objects.filter(tags=["python", "django"])) == []
    assert await _titles(post.objects.filter(scores__isnull=True)) == ["d"]
    assert await _titles(post.objects.filter(scores=None)) == ["d"]


@PG
async def test_len(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    assert await _titles(post.objects.filter(tags__len=0)) == ["c"]
    assert await _titles(post.objects.filter(tags__len=1)) == ["b"]
    assert await _titles(post.objects.filter(tags__len__gt=1)) == ["a", "d"]
    # A NULL array has no length: neither 0 nor excluded as one.
    assert await _titles(post.objects.filter(scores__len__lt=3)) == ["b", "c"]
    lengths = [n async for n in post.objects.values_list("scores__len", flat=True)]
    assert lengths == [3, 2, 0, None]


@PG
async def test_index_transform(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    assert await _titles(post.objects.filter(tags__0="python")) == ["b"]
    assert await _titles(post.objects.filter(tags__1="python")) == ["a"]
    assert await _titles(post.objects.filter(tags__0__startswith="r")) == ["d"]
    assert await _titles(post.objects.filter(tags__2__isnull=False)) == ["d"]
    assert await _titles(post.objects.filter(scores__0__gte=2)) == ["b"]
    assert await _titles(post.objects.filter(scores__1__isnull=True)) == ["b", "c", "d"]
    firsts = [v async for v in post.objects.values_list("tags__0", flat=True)]
    assert firsts == ["django", "python", None, "rust"]


@PG
async def test_nested_index_transform(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    await post.objects.create(title="g", grid=[[1, 2], [3, 4]])
    assert await _titles(post.objects.filter(grid__1__0=3)) == ["g"]
    assert await _titles(post.objects.filter(grid__0__1=3)) == []


@PG
async def test_slice_transform(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    assert await _titles(post.objects.filter(tags__0_1=["python"])) == ["b"]
    assert await _titles(post.objects.filter(tags__1_3=["go", "python"])) == ["d"]
    assert await _titles(post.objects.filter(tags__0_2__contains=["python"])) == ["a", "b"]
    assert await _titles(post.objects.filter(tags__0_2__len=2)) == ["a", "d"]
    heads = [v async for v in post.objects.values_list("tags__0_2", flat=True)]
    assert heads == [["django", "python"], ["python"], [], ["rust", "go"]]


@PG
async def test_lookups_bind_values_as_parameters(app: dict[str, Any], posts: Any) -> None:
    from reinhardt_db.testing import capture_queries

    post = app["Post"]
    with capture_queries() as queries:
        await _titles(post.objects.filter(tags__contains=["x'); DROP TABLE t; --"], tags__3="q"))
    query = queries.queries[-1]
    assert "DROP" not in query.sql
    assert "@>" in query.sql
    assert ["x'); DROP TABLE t; --"] in list(query.params)


@PG
async def test_ordering_update_bulk_create_and_f(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    ordered = [p.title async for p in post.objects.order_by("-tags__len", "title")]
    assert ordered == ["d", "a", "b", "c"]
    by_array = [p.title async for p in post.objects.order_by("tags", "title")]
    assert by_array == ["c", "a", "b", "d"]  # PostgreSQL compares arrays element by element

    assert await post.objects.filter(title="c").update(tags=["new"]) == 1
    assert (await post.objects.get(title="c")).tags == ["new"]

    made = await post.objects.bulk_create(
        [post(title="x", tags=["k1", "k2"]), post(title="y", tags=[], grid=[[5]])]
    )
    assert [m.pk is not None for m in made] == [True, True]
    assert (await post.objects.get(title="y")).grid == [[5]]
    assert (await post.objects.get(title="x")).tags == ["k1", "k2"]

    await post.objects.filter(title="b").update(scores=[3])
    await post.objects.filter(title="b").update(tags=F("tags"))
    # F(): rows whose tags hold their own first two tags, and arrays compared column to column.
    same = await _titles(post.objects.filter(tags__contains=F("tags__0_2")))
    assert same == ["a", "b", "c", "d", "x", "y"]


@PG
async def test_bad_filter_values_and_names_are_refused(app: dict[str, Any], posts: Any) -> None:
    post = app["Post"]
    with pytest.raises(ValidationError, match=r"Post\.tags: expected a list, got 'python'"):
        await post.objects.filter(tags__contains="python").count()
    with pytest.raises(FieldError, match=r"Unsupported lookup or transform 'foo' in 'tags__foo'"):
        await post.objects.filter(tags__foo=1).count()
    with pytest.raises(FieldError, match=r"'len' in 'tags__0__len' \(CharField"):
        await post.objects.filter(tags__0__len=1).count()


# -- values: validation, size, defaults ------------------------------------------------


@PG
async def test_save_refuses_too_many_items_and_bad_items(app: dict[str, Any], posts: Any) -> None:
    sized, post = app["Sized"], app["Post"]
    with pytest.raises(DataError, match=r"Sized\.tags: the list has 3 items, more than size=2"):
        await sized.objects.create(tags=["a", "b", "c"])
    with pytest.raises(DataError, match=r"Sized\.tags: item 1: .*max_length is 5"):
        await sized.objects.create(tags=["a", "toolong"])
    with pytest.raises(DataError, match=r"Post\.tags: item 0 is None; pass null=True"):
        await post.objects.create(title="n", tags=[None])
    with pytest.raises(DataError, match="nested lists must all have the same length"):
        await post.objects.create(title="n", grid=[[1, 2], [3]])
    with pytest.raises(ValidationError, match="expected a list"):
        await post.objects.create(title="n", tags="python")
    with pytest.raises(DataError, match=r"Post\.tags: the list has|more than"):
        await sized.objects.filter(pk=0).update(tags=["1", "2", "3"])
    assert await sized.objects.count() == 0


def test_full_clean_checks_size_items_and_nulls(app: dict[str, Any]) -> None:
    sized, post = app["Sized"], app["Post"]
    with pytest.raises(ValidationError) as info:
        sized(tags=["a", "b", "c"]).clean_fields()
    assert "List contains 3 items, it should contain no more than 2" in str(info.value)
    with pytest.raises(ValidationError) as info:
        sized(tags=["ok", "toolong"]).clean_fields()
    assert "Item 1 in the array did not validate" in str(info.value)
    with pytest.raises(ValidationError) as info:
        post(title="t", tags=["x", None]).clean_fields()
    assert "Item 1 in the array did not validate: This field cannot be null" in str(info.value)
    with pytest.raises(ValidationError) as info:
        post(title="t", tags=[], grid=[[1], [2, 3]]).clean_fields()
    assert "Nested arrays must have the same length" in str(info.value)
    with pytest.raises(ValidationError, match="expected a list"):
        post(title="t", tags=5).clean_fields()
    ok = post(title="t", tags=("a", "b"), scores=[None, "3"])
    ok.clean_fields()
    assert ok.tags == ["a", "b"]
    assert ok.scores == [None, 3]


def test_default_must_be_callable() -> None:
    with isolate_apps():
        with pytest.raises(FieldError, match=r"Bad\.tags: default must be a callable"):

            class Bad(models.Model):
                tags = ArrayField(models.IntegerField(), default=[])

                class Meta:
                    app_label = APP

        class Good(models.Model):
            tags = ArrayField(models.IntegerField(), default=list)

            class Meta:
                app_label = APP

        first, second = Good(), Good()
        first.tags.append(1)
        assert second.tags == []


def test_bad_definitions_are_refused() -> None:
    with pytest.raises(TypeError, match="needs a field instance"):
        ArrayField(models.IntegerField)  # type: ignore[arg-type]
    with isolate_apps():
        with pytest.raises(FieldError, match="size must be a positive integer"):

            class BadSize(models.Model):
                tags = ArrayField(models.IntegerField(), size=0)

                class Meta:
                    app_label = APP

        with pytest.raises(FieldError, match="cannot be a relation"):

            class Target(models.Model):
                class Meta:
                    app_label = APP

            class BadBase(models.Model):
                refs = ArrayField(models.ForeignKey(Target, on_delete=models.CASCADE))

                class Meta:
                    app_label = APP


# -- property test ---------------------------------------------------------------------

_INTS = st.lists(st.integers(min_value=-5, max_value=5), max_size=4)


@PG
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_INTS, min_size=1, max_size=6), probe=_INTS, length=st.integers(0, 4))
async def test_filters_match_python_predicates(
    app: dict[str, Any], backend: Database, make_tables: Any,
    rows: list[list[int]], probe: list[int], length: int,
) -> None:
    post = app["Post"]
    await make_tables(post)
    await post.objects.bulk_create(
        [post(title=str(n), tags=[], scores=row) for n, row in enumerate(rows)]
    )

    async def found(**lookup: Any) -> set[int]:
        return {int(t) async for t in post.objects.filter(**lookup).values_list("title", flat=True)}

    everything = dict(enumerate(rows))
    assert await found(scores__contains=probe) == {
        n for n, row in everything.items() if set(probe) <= set(row)
    }
    assert await found(scores__contained_by=probe) == {
        n for n, row in everything.items() if set(row) <= set(probe)
    }
    assert await found(scores__overlap=probe) == {
        n for n, row in everything.items() if set(row) & set(probe)
    }
    assert await found(scores__len=length) == {
        n for n, row in everything.items() if len(row) == length
    }
    assert await found(scores=probe) == {n for n, row in everything.items() if row == probe}


# -- other backends: NotSupportedError ---------------------------------------------------


@NOT_PG
async def test_create_tables_is_refused(
    app: dict[str, Any], backend: Database, backend_name: str
) -> None:
    from reinhardt_db.models.schema import create_tables

    name = "SQLite" if backend_name == "sqlite" else "MySQL/MariaDB"
    with pytest.raises(NotSupportedError, match=rf"Post\.tags: ArrayField needs PostgreSQL; {name}") as info:
        await create_tables([app["Post"]])
    assert "Use a JSONField" in str(info.value)


@NOT_PG
async def test_queries_are_refused(app: dict[str, Any], backend: Database) -> None:
    post = app["Post"]
    message = r"Post\.\w+: ArrayField needs PostgreSQL"
    with pytest.raises(NotSupportedError, match=message):
        await post.objects.filter(title="a").first()
    with pytest.raises(NotSupportedError, match=message):
        await post.objects.filter(tags__len=1).count()
    with pytest.raises(NotSupportedError, match=message):
        await post.objects.filter(tags__contains=["a"]).count()
    with pytest.raises(NotSupportedError, match=message):
        await post.objects.filter(tags__0="a").count()
    with pytest.raises(NotSupportedError, match=message):
        await post.objects.create(title="a", tags=["x"])


# -- migrations ----------------------------------------------------------------------------

MIGRATED_MODELS = """\
from reinhardt_db import models
from reinhardt_db.contrib.postgres import ArrayField


class Post(models.Model):
    title = models.CharField(max_length=20)
    tags = ArrayField(models.CharField(max_length={length}), size={size}, default=list)
    grid = ArrayField(ArrayField(models.IntegerField()), null=True)
"""


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_name: str, backend_url: str
) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_SETTINGS, raising=False)
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_settings()
    url = f"sqlite:///{tmp_path}/db.sqlite3" if backend_name == "sqlite" else backend_url
    with isolate_apps():
        project = Project(tmp_path, f"arr_{uuid.uuid4().hex[:8]}", url)
        project.models(MIGRATED_MODELS.format(length=10, size=3))
        yield project
        project.cleanup()
    reset_settings()


def _column_type(project: Project, column: str) -> Any:
    rows = project.sql(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attname = %s",
        [f"{project.label}_post", column],
    )
    return rows[0][0]


def test_serializer_and_field_signature() -> None:
    from reinhardt_db.migrations.serializer import serialize
    from reinhardt_db.migrations.state import field_signature, rebuild_field

    field = ArrayField(models.CharField(max_length=10), size=3)
    source, imports = serialize(field)
    assert source == "ArrayField(models.CharField(max_length=10), size=3)"
    assert imports == {
        "from reinhardt_db.contrib.postgres import ArrayField", "from reinhardt_db import models",
    }
    same = rebuild_field(field)
    assert field_signature(same) == field_signature(field)
    assert same.base_field is not field.base_field
    for changed in (
        ArrayField(models.CharField(max_length=10), size=4),
        ArrayField(models.CharField(max_length=11), size=3),
        ArrayField(models.TextField(), size=3),
        ArrayField(ArrayField(models.CharField(max_length=10)), size=3),
    ):
        assert field_signature(changed) != field_signature(field)


@PG
def test_makemigrations_writes_array_fields_that_migrate(project: Project) -> None:
    project.ok("makemigrations")
    source = (project.migrations() / "0001_initial.py").read_text()
    assert "from reinhardt_db.contrib.postgres import ArrayField" in source
    assert "ArrayField(models.CharField(max_length=10), size=3, default=list)" in source
    assert "ArrayField(ArrayField(models.IntegerField()), null=True)" in source
    project.ok("migrate")
    assert _column_type(project, "tags") == "character varying(10)[]"
    assert _column_type(project, "grid") == "integer[]"  # PostgreSQL keeps no dimensions
    project.sql(
        f"INSERT INTO {project.label}_post (title, tags) VALUES (%s, %s)", ["kept", ["a", "b"]]
    )
    assert "No changes detected" in project.ok("makemigrations")

    # A change of the base field or of size is a migration; the base type is altered.
    project.models(MIGRATED_MODELS.format(length=30, size=5))
    project.ok("makemigrations")
    second = next(project.migrations().glob("0002_*.py")).read_text()
    assert "ArrayField(models.CharField(max_length=30), size=5, default=list)" in second
    project.ok("migrate")
    assert _column_type(project, "tags") == "character varying(30)[]"
    assert project.sql(f"SELECT tags FROM {project.label}_post") == [(["a", "b"],)]
    assert "No changes detected" in project.ok("makemigrations")
    project.ok("migrate", project.label, "0001")
    assert _column_type(project, "tags") == "character varying(10)[]"


@NOT_PG
def test_migrate_is_refused_without_arrays(project: Project, backend_name: str) -> None:
    project.ok("makemigrations")
    result = project.run("migrate")
    assert result.exit_code != 0
    name = "SQLite" if backend_name == "sqlite" else "MySQL/MariaDB"
    text = result.output + repr(result.exception)
    assert f"Post.tags: ArrayField needs PostgreSQL; {name} has no array columns" in text
