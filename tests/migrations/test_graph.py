"""The migration graph: plans, cycles, missing dependencies, leaves."""

from __future__ import annotations

import pytest

from reinhardt_db import migrations, models
from reinhardt_db.migrations.exceptions import CircularDependencyError, NodeNotFoundError
from reinhardt_db.migrations.graph import MigrationGraph


def chain() -> MigrationGraph:
    graph = MigrationGraph()
    for key in [("a", "0001"), ("a", "0002"), ("a", "0003"), ("b", "0001"), ("b", "0002")]:
        graph.add_node(key, None)
    graph.add_dependency(("a", "0002"), ("a", "0001"))
    graph.add_dependency(("a", "0003"), ("a", "0002"))
    graph.add_dependency(("b", "0001"), ("a", "0002"))
    graph.add_dependency(("b", "0002"), ("b", "0001"))
    return graph


def test_forwards_plan_lists_dependencies_first() -> None:
    assert chain().forwards_plan(("b", "0002")) == [
        ("a", "0001"), ("a", "0002"), ("b", "0001"), ("b", "0002"),
    ]


def test_backwards_plan_lists_dependents_first() -> None:
    plan = chain().backwards_plan(("a", "0002"))
    assert plan[-1] == ("a", "0002")
    assert plan.index(("b", "0002")) < plan.index(("b", "0001"))
    assert set(plan) == {("a", "0002"), ("a", "0003"), ("b", "0001"), ("b", "0002")}


def test_roots_and_leaves_per_app() -> None:
    graph = chain()
    assert graph.root_nodes() == [("a", "0001"), ("b", "0001")]
    assert graph.leaf_nodes("a") == [("a", "0003")]
    assert graph.leaf_nodes() == [("a", "0003"), ("b", "0002")]


def test_cycle_names_the_migrations() -> None:
    graph = chain()
    graph.add_dependency(("a", "0001"), ("b", "0002"))

    with pytest.raises(CircularDependencyError) as info:
        graph.ensure_not_cyclic()

    message = str(info.value)
    assert "Circular dependency between migrations:" in message
    for name in ("a.0001", "a.0002", "b.0001", "b.0002"):
        assert name in message


def test_missing_node_names_both_ends() -> None:
    graph = chain()
    with pytest.raises(NodeNotFoundError, match=r"a\.0003 depends on a\.0009"):
        graph.add_dependency(("a", "0003"), ("a", "0009"))
    with pytest.raises(NodeNotFoundError, match=r"Migration a\.0042 does not exist"):
        graph.forwards_plan(("a", "0042"))


def test_make_state_replays_in_plan_order() -> None:
    class Initial(migrations.Migration):
        operations = [migrations.CreateModel("Post", [("id", models.AutoField(primary_key=True))])]

    class Second(migrations.Migration):
        operations = [migrations.AddField("post", "n", models.IntegerField(default=0))]

    graph = MigrationGraph()
    graph.add_node(("blog", "0001"), Initial("0001", "blog"))
    graph.add_node(("blog", "0002"), Second("0002", "blog"))
    graph.add_dependency(("blog", "0002"), ("blog", "0001"))

    assert list(graph.make_state().get_model("blog", "post").fields) == ["id", "n"]
    before = graph.make_state(("blog", "0002"), at_end=False)
    assert list(before.get_model("blog", "post").fields) == ["id"]


def test_replacement_rewires_edges() -> None:
    graph = chain()
    graph.add_node(("a", "0001_squashed_0002"), None)
    graph.remove_replaced_nodes(("a", "0001_squashed_0002"), [("a", "0001"), ("a", "0002")])

    assert ("a", "0001") not in graph
    assert graph.parents[("a", "0003")] == {("a", "0001_squashed_0002")}
    assert graph.parents[("b", "0001")] == {("a", "0001_squashed_0002")}
