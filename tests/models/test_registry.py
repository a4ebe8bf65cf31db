"""The app registry: app labels, lookups, conflicts and isolation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.apps import apps, get_model
from reinhardt_db.conf import reset_settings
from reinhardt_db.exceptions import ImproperlyConfigured
from reinhardt_db.testing import isolate_apps


def declare(name: str, module: str, **meta: Any) -> type[models.Model]:
    attrs: dict[str, Any] = {"__module__": module, "title": models.CharField(max_length=5)}
    if meta:
        attrs["Meta"] = type("Meta", (), meta)
    return type(name, (models.Model,), attrs)  # type: ignore[return-value]


def test_app_label_from_the_installed_app_holding_the_module() -> None:
    with isolate_apps("shop", "shop.billing", "blog"):
        order = declare("Order", "shop.models")
        invoice = declare("Invoice", "shop.billing.models")
        post = declare("Post", "blog.models.posts")
        explicit = declare("Tag", "shop.models", app_label="tags")
    assert order._meta.app_label == "shop"
    assert invoice._meta.app_label == "billing", "the longest matching package wins"
    assert post._meta.app_label == "blog"
    assert explicit._meta.app_label == "tags"
    assert invoice._meta.db_table == "billing_invoice"


def test_app_label_from_settings() -> None:
    reinhardt_db.configure(databases={"default": "sqlite://:memory:"}, installed_apps=["crm"])
    try:
        with isolate_apps():
            lead = declare("Lead", "crm.models")
        assert lead._meta.app_label == "crm"
    finally:
        reset_settings()


def test_model_outside_installed_apps_needs_an_explicit_label() -> None:
    with isolate_apps("shop"), pytest.raises(ImproperlyConfigured) as info:
        declare("Stray", "elsewhere.models")
    message = str(info.value)
    assert "elsewhere.models.Stray" in message
    assert "installed_apps" in message and "app_label" in message and "'elsewhere'" in message


def test_get_model_forms_and_hints() -> None:
    with isolate_apps("accounts") as registry:
        user = declare("User", "accounts.models")
        assert registry.get_model("accounts", "User") is user
        assert registry.get_model("accounts", "user") is user
        assert registry.get_model("accounts.User") is user
        assert get_model("accounts.USER") is user
        assert registry.get_models() == [user]
        config = registry.get_app_config("accounts")
        assert config.name == "accounts" and config.installed and config.get_models() == [user]
        with pytest.raises(LookupError, match="doesn't have a 'Usr' model; did you mean 'User'"):
            registry.get_model("accounts", "Usr")
        with pytest.raises(LookupError, match="No installed app with label 'acounts'; did you "
                                              "mean 'accounts'"):
            registry.get_model("acounts", "User")
        with pytest.raises(ValueError, match=r"app_label\.ModelName"):
            registry.get_model("accounts")


def test_labels_known_only_through_meta_are_app_configs_too() -> None:
    with isolate_apps() as registry:
        thing = declare("Thing", __name__, app_label="tests_only")
        config = registry.get_app_config("tests_only")
        assert config.installed is False and config.get_model("thing") is thing


def test_abstract_models_are_not_registered() -> None:
    with isolate_apps() as registry:
        declare("Base", "nowhere.models", abstract=True)
        assert registry.get_models() == []


def test_conflicting_model_names_raise_naming_both_modules() -> None:
    with isolate_apps() as registry:
        first = declare("Clash", "pkg_one.models", app_label="clash")
        registry._state.isolated = False  # behave like the global registry
        with pytest.raises(RuntimeError) as info:
            declare("Clash", "pkg_two.models", app_label="clash")
        assert "Conflicting 'clash' models in application 'clash'" in str(info.value)
        assert "pkg_one.models.Clash" in str(info.value)
        assert "pkg_two.models.Clash" in str(info.value)
        assert registry.get_model("clash.Clash") is first
        with pytest.warns(RuntimeWarning, match="already registered"):
            declare("Clash", "pkg_one.models", app_label="clash")


def test_isolated_registry_replaces_models_and_restores_the_outer_one() -> None:
    before = apps.get_models()
    with isolate_apps() as registry:
        declare("Again", __name__, app_label="iso")
        second = declare("Again", __name__ + "_other", app_label="iso")
        assert registry.get_model("iso.Again") is second
        assert second._meta.table.metadata is registry.metadata
    assert apps.get_models() == before
    with pytest.raises(LookupError):
        apps.get_model("iso.Again")


def test_isolated_registry_reuses_table_names_with_fresh_metadata() -> None:
    with isolate_apps():
        a = declare("Same", __name__, app_label="iso2")
        table_a = a._meta.table
    with isolate_apps():
        b = declare("Same", __name__, app_label="iso2")
        assert b._meta.table is not table_a


def test_two_models_sharing_a_table_name_fail_clearly() -> None:
    with isolate_apps():
        a = declare("One", __name__, app_label="t", db_table="shared")
        b = declare("Two", __name__, app_label="t", db_table="shared")
        a._meta.table  # noqa: B018
        with pytest.raises(ImproperlyConfigured, match=r"t\.Two and t\.One both use db_table 'shared'"):
            b._meta.table  # noqa: B018


@isolate_apps("deco")
def test_isolate_apps_as_sync_decorator() -> None:
    thing = declare("Thing", "deco.models")
    assert apps.get_model("deco", "Thing") is thing


@isolate_apps("deco_async")
async def test_isolate_apps_as_async_decorator() -> None:
    await asyncio.sleep(0)
    thing = declare("Thing", "deco_async.models")
    assert apps.get_model("deco_async", "Thing") is thing


def test_decorated_tests_left_nothing_behind() -> None:
    for label in ("deco", "deco_async"):
        with pytest.raises(LookupError):
            apps.get_app_config(label)
