"""The checks framework: messages, registering checks, running them by tag."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import checks, models
from reinhardt_db.checks import CheckMessage, CheckRegistry, Error, Warning


def test_a_message_prints_as_one_line_with_its_id_and_hint() -> None:
    class Post(models.Model):
        title = models.CharField(max_length=5)

        class Meta:
            app_label = "blog"

    field = Post._meta.get_field("title")
    assert str(Error("bad", hint="fix it", obj=Post, id="models.E999")) == (
        "blog.Post: (models.E999) bad. HINT: fix it."
    )
    assert str(Warning("odd?", obj=field, id="fields.W999")) == "blog.Post.title: (fields.W999) odd?"
    assert str(Error("no object")) == "?: no object."
    assert str(Error("about a setting", obj="routers[0]", id="settings.E002")) == (
        "routers[0]: (settings.E002) about a setting."
    )


def test_levels_and_equality() -> None:
    error = Error("x", id="a.E1")
    assert error.is_serious() and error.level == checks.ERROR and error.level_name == "ERROR"
    warning = Warning("x", id="a.W1")
    assert not warning.is_serious() and warning.is_serious(checks.WARNING)
    assert checks.Critical("x").is_serious()
    assert not checks.Info("x").is_serious() and checks.Debug("x").level == checks.DEBUG
    assert error == Error("x", id="a.E1") and error != warning
    assert CheckMessage(75, "custom").level_name == "75"
    assert "level=40" in repr(error)


def test_register_run_and_filter_by_tag() -> None:
    registry = CheckRegistry()
    seen: list[dict[str, Any]] = []

    @registry.register("mine")
    def first(**kwargs: Any) -> list[CheckMessage]:
        seen.append(kwargs)
        return [Warning("first", id="mine.W001")]

    @registry.register
    def untagged(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
        return [Error("second", id="other.E001")]

    registry.register(first, "mine")  # registering twice runs it once
    messages = registry.run_checks(databases=["default"])
    assert [m.id for m in messages] == ["mine.W001", "other.E001"]
    assert seen == [{"app_configs": None, "databases": ["default"]}]
    assert [m.id for m in registry.run_checks(tags=["mine"])] == ["mine.W001"]
    with pytest.raises(ValueError, match="no check has the tag"):
        registry.run_checks(tags=["nope"])
    registry.unregister(first)
    assert [m.id for m in registry.run_checks()] == ["other.E001"]


def test_a_check_must_take_keyword_arguments() -> None:
    def no_kwargs(app_configs: Any = None) -> list[CheckMessage]:
        return []

    with pytest.raises(TypeError, match=r"must accept keyword arguments \(\*\*kwargs\)"):
        checks.register(no_kwargs)


def test_the_built_in_checks_are_registered_with_settings_first() -> None:
    tags = [sorted(t) for _f, t in checks.registry._checks]
    assert tags[0] == ["settings"] and tags[1] == ["settings"]
    assert {"settings", "models"} <= checks.registry.tags_available()
    assert checks.run_checks() == []
