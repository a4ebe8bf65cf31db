"""A forgotten ``await`` is loud: plain iteration of a QuerySet or Manager raises TypeError.

The forms run in a child process with a memory cap, a CPU-time alarm per form and a
wall-clock timeout, so a regression (Python falling back to ``__getitem__(0), (1),
...`` forever) fails the test instead of hanging the suite or exhausting memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from reinhardt_db import models

FORMS = {
    "for": "for _ in qs: pass",
    "list": "list(qs)",
    "tuple": "tuple(qs)",
    "sorted": "sorted(qs)",
    "set": "set(qs)",
    "comprehension": "[x for x in qs]",
    "unpacking": "a, b = qs",
    "star": "print(*qs)",
    "enumerate": "list(enumerate(qs))",
    "reversed": "reversed(qs)",
    "in": "object() in qs",
    "len": "len(qs)",
    "bool": "bool(qs)",
    "values": "list(qs.values())",
    "values_list": "list(qs.values_list('name', flat=True))",
    "sliced": "list(qs[:2])",
    "manager for": "for _ in Book.objects: pass",
    "manager list": "list(Book.objects)",
    "manager len": "len(Book.objects)",
}

CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys

    # A regression must not take the machine down with it: cap memory at 1 GiB
    # and give each form one second of CPU time.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    import reinhardt_db
    from reinhardt_db import models

    reinhardt_db.configure(databases={"default": "sqlite://:memory:"})


    class Book(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "iteration_child"


    class Hung(Exception):
        pass


    def on_alarm(signum, frame):
        raise Hung


    signal.signal(signal.SIGVTALRM, on_alarm)
    results = {}
    for label, code in json.loads(sys.argv[1]).items():
        qs = Book.objects.filter(name="x")
        signal.setitimer(signal.ITIMER_VIRTUAL, 1.0)
        try:
            exec(code, {"qs": qs, "Book": Book})
        except TypeError as exc:
            results[label] = ["TypeError", str(exc)]
        except Hung:
            results[label] = ["hung", ""]
        except MemoryError:
            results[label] = ["MemoryError", ""]
        except BaseException as exc:
            results[label] = [type(exc).__name__, str(exc)]
        else:
            results[label] = ["no error", ""]
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def child_results() -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(FORMS)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


@pytest.mark.parametrize("label", list(FORMS))
def test_sync_form_raises_type_error_at_once(
    child_results: dict[str, list[str]], label: str
) -> None:
    kind, message = child_results[label]
    assert kind == "TypeError", f"{FORMS[label]!r} gave {kind} {message}"
    if label in ("len", "manager len"):
        assert "count()" in message
    elif label == "bool":
        assert "exists()" in message
    elif label == "in":
        assert "await qs.contains(obj)" in message
    elif label == "reversed":
        assert "reversed(await qs)" in message
    elif label.startswith("manager"):
        assert "Book.objects" in message and "await Book.objects.all()" in message
    else:
        assert "async for obj in qs" in message and "await qs" in message, message


class Shelf(models.Model):
    name = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_query_iteration"
        ordering = ["name"]


async def test_evaluated_queryset_iterates_its_cache(backend: Any, make_tables: Any) -> None:
    await make_tables(Shelf)
    await Shelf.objects.bulk_create([Shelf(name="b"), Shelf(name="a")])
    qs = Shelf.objects.all()
    loaded = await qs
    assert [s.name for s in qs] == ["a", "b"]  # type: ignore[attr-defined]
    assert [s.name for s in reversed(qs)] == ["b", "a"]
    assert loaded[0] in qs  # type: ignore[operator]
    assert sorted(s.name for s in qs) == ["a", "b"]  # type: ignore[attr-defined]


async def test_unevaluated_queryset_names_the_fix_in_process(
    backend: Any, make_tables: Any
) -> None:
    await make_tables(Shelf)
    with pytest.raises(TypeError, match="async for obj in qs"):
        list(Shelf.objects.all())  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"Shelf\.objects"):
        list(Shelf.objects)  # type: ignore[call-overload]
    assert bool(Shelf.objects) is True
