"""Settings against reality: installed apps and routers that do not import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db.apps import Apps
from reinhardt_db.checks import run_checks
from reinhardt_db.conf import get_settings
from reinhardt_db.conf.imports import ImportFailed, load_routers
from reinhardt_db.exceptions import ImproperlyConfigured

from .conftest import DATABASES, ids

MODELS = """
from reinhardt_db import models


class Entry(models.Model):
    title = models.CharField(max_length=20)
"""

ROUTERS = """
class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        return "replica"


class NeedsArguments:
    def __init__(self, where):
        self.where = where


router = PrimaryReplicaRouter()
"""


def configure(**options: Any) -> None:
    reinhardt_db.configure(databases=DATABASES, **options)


def settings_messages() -> list[Any]:
    return run_checks(tags=["settings"])


def test_installed_apps_that_import_pass_and_register_their_models(
    write_app: Callable[..., str], registry: Apps
) -> None:
    blog = write_app("blog", models=MODELS)
    configure(installed_apps=[blog])
    assert run_checks() == []
    entry = registry.get_model(blog, "Entry")
    assert entry._meta.db_table == f"{blog}_entry"


def test_a_missing_app_is_named_with_a_hint(write_app: Callable[..., str]) -> None:
    blog = write_app("blog", models=MODELS)
    typo = blog.replace("blog", "blgo")
    configure(installed_apps=[blog, typo])
    [message] = settings_messages()
    assert message.id == "settings.E001" and message.obj == "installed_apps[1]"
    assert message.msg == f"cannot import '{typo}': no module named '{typo}'"
    assert message.hint == f"did you mean '{blog}'?"
    assert str(message).startswith("installed_apps[1]: (settings.E001) cannot import")


def test_a_missing_app_without_a_close_name_says_where_to_look() -> None:
    configure(installed_apps=["zzq_nothing_like_it"])
    [message] = settings_messages()
    assert message.id == "settings.E001"
    assert "sys.path" in (message.hint or "") and "installed" in (message.hint or "")


def test_an_app_whose_import_fails_inside_is_named(write_app: Callable[..., str]) -> None:
    shop = write_app("shop", init="import reinhardt_missing_dependency\n")
    notes = write_app("notes", models="from reinhardt_missing_lib import thing\n")
    configure(installed_apps=[shop, notes])
    first, second = settings_messages()
    assert (first.id, first.obj, second.id, second.obj) == (
        "settings.E001", "installed_apps[0]", "settings.E001", "installed_apps[1]",
    )
    assert first.msg == (
        f"importing '{shop}' failed: No module named 'reinhardt_missing_dependency'"
    )
    assert first.hint == f"install 'reinhardt_missing_dependency' or fix the import in {shop}"
    assert f"importing '{notes}.models' failed" in second.msg


def test_an_app_without_a_models_module_is_fine(write_app: Callable[..., str]) -> None:
    configure(installed_apps=[write_app("plain")])
    assert settings_messages() == []


def test_duplicate_app_labels(write_app: Callable[..., str]) -> None:
    one = write_app("one", sub="")
    two = write_app("two", sub="")
    configure(installed_apps=[f"{one}.sub", f"{two}.sub"])
    [message] = settings_messages()
    assert message.id == "settings.E003" and "aren't unique, duplicates: sub" in message.msg


def test_routers_that_import_pass(write_app: Callable[..., str]) -> None:
    pkg = write_app("proj", routers=ROUTERS)
    instance = type("Inline", (), {"allow_migrate": lambda self, db, app, **hints: None})()
    configure(routers=[f"{pkg}.routers.PrimaryReplicaRouter", f"{pkg}.routers.router", instance])
    assert settings_messages() == []
    loaded = load_routers()
    assert type(loaded[0]).__name__ == "PrimaryReplicaRouter", "a class is instantiated"
    assert loaded[1] is pkg_module_attr(f"{pkg}.routers", "router"), "an object is used as is"
    assert loaded[2] is instance


def pkg_module_attr(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    ("path", "problem", "hint"),
    [
        (
            "{pkg}.routers.PrimaryReplicRouter",
            "cannot import '{pkg}.routers.PrimaryReplicRouter': module '{pkg}.routers' has no "
            "'PrimaryReplicRouter'",
            "did you mean '{pkg}.routers.PrimaryReplicaRouter'?",
        ),
        (
            "{pkg}.router.PrimaryReplicaRouter",
            "cannot import '{pkg}.router.PrimaryReplicaRouter': no module named '{pkg}.router'",
            "did you mean '{pkg}.routers'?",
        ),
        ("PrimaryReplicaRouter", "'PrimaryReplicaRouter' names no module",
         "write the full path, e.g. 'myproject.routers.PrimaryReplicaRouter'"),
        ("{pkg}.routers.NeedsArguments",
         "'{pkg}.routers.NeedsArguments()' failed: TypeError: ",
         "a router class listed by path is built without arguments"),
    ],
)
def test_a_router_that_does_not_import_is_named(
    write_app: Callable[..., str], path: str, problem: str, hint: str
) -> None:
    pkg = write_app("proj", routers=ROUTERS)
    configure(routers=[f"{pkg}.routers.router", path.format(pkg=pkg)])
    [message] = settings_messages()
    assert (message.id, message.obj) == ("settings.E002", "routers[1]")
    assert message.msg.startswith(problem.format(pkg=pkg))
    assert (message.hint or "").startswith(hint.format(pkg=pkg))


def test_every_bad_entry_is_reported_at_once(write_app: Callable[..., str]) -> None:
    configure(installed_apps=["zzq_gone_one", "zzq_gone_two"], routers=["zzq_r.R", "zzq_s.S"])
    assert ids(settings_messages()) == ["settings.E001"] * 2 + ["settings.E002"] * 2


# -- at start-up: reinhardt_db.setup() and lifespan() -------------------------------


def test_setup_imports_the_apps_and_routers(write_app: Callable[..., str], registry: Apps) -> None:
    blog = write_app("blog", models=MODELS)
    pkg = write_app("proj", routers=ROUTERS)
    configure(installed_apps=[blog], routers=[f"{pkg}.routers.PrimaryReplicaRouter"])
    assert registry.get_models() == []
    reinhardt_db.setup()
    assert [m.__name__ for m in registry.get_models()] == ["Entry"]
    reinhardt_db.setup()  # again: nothing changes, nothing fails
    assert len(registry.get_models()) == 1


def test_setup_raises_naming_the_app(write_app: Callable[..., str]) -> None:
    blog = write_app("blog", models=MODELS)
    configure(installed_apps=[blog, "blgo"])
    with pytest.raises(ImproperlyConfigured) as info:
        reinhardt_db.setup()
    assert isinstance(info.value, ImportFailed)
    assert str(info.value).startswith("installed_apps[1]: cannot import 'blgo'")


def test_setup_raises_naming_the_router() -> None:
    configure(routers=["zzq_nowhere.Router"])
    with pytest.raises(ImproperlyConfigured, match=r"^routers\[0\]: cannot import "
                                                   r"'zzq_nowhere.Router'"):
        reinhardt_db.setup()


async def test_lifespan_fails_at_start_up_on_a_bad_app() -> None:
    configure(installed_apps=["zzq_not_an_app"])
    with pytest.raises(ImproperlyConfigured, match=r"installed_apps\[0\]: cannot import"):
        async with reinhardt_db.lifespan(check=False):
            pytest.fail("the block must not run")


def test_configure_does_not_import_the_apps() -> None:
    # Apps may import reinhardt_db and call configure() themselves while they
    # are being imported, so configure() only checks the paths' form.
    configure(installed_apps=["zzq_not_yet_importable"])
    assert get_settings().installed_apps == ["zzq_not_yet_importable"]


def test_a_router_naming_an_unknown_database() -> None:
    from reinhardt_db.routers import ModelRouter, PrimaryReplicaRouter

    configure(routers=[
        PrimaryReplicaRouter(primary="default", replicas=["pgg", "my"]),
        ModelRouter({"blog": {"read": "pg", "write": "nowhere"}}),
    ])
    messages = settings_messages()
    assert ids(messages) == ["settings.E004", "settings.E004"]
    first, second = messages
    assert first.obj == "routers[0]" and second.obj == "routers[1]"
    assert "names database 'pgg', which is not configured (configured: default, pg, my)" in (
        first.msg
    )
    assert first.hint == "did you mean 'pg'?"
    assert second.hint == "add 'nowhere' to databases, or fix the router"
