"""Questioners: interactive prompts, and --noinput answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from reinhardt_db.migrations.exceptions import MigrationQuestionError
from reinhardt_db.migrations.questioner import (
    InteractiveMigrationQuestioner,
    NonInteractiveMigrationQuestioner,
)
from reinhardt_db.migrations.state import ModelState


def scripted(answers: list[str], confirms: list[bool] | None = None
             ) -> tuple[InteractiveMigrationQuestioner, list[str]]:
    said: list[str] = []
    replies = iter(answers)
    confirmations = iter(confirms or [])

    def prompt(text: str, **kwargs: Any) -> str:
        said.append(text)
        return next(replies)

    def confirm(text: str, **kwargs: Any) -> bool:
        said.append(text)
        return next(confirmations)

    return InteractiveMigrationQuestioner(prompt=prompt, confirm=confirm,
                                          echo=said.append), said


def test_one_off_default_is_evaluated() -> None:
    questioner, said = scripted(["1", "", "nonsense(", "41 + 1"])

    assert questioner.ask_not_null_addition("views", "Post") == 42
    assert any("non-nullable field 'views' to Post" in line for line in said)
    assert any("Invalid input: SyntaxError" in line for line in said)


def test_timezone_now_is_available() -> None:
    questioner, _ = scripted(["1", "timezone.now()"])
    value = questioner.ask_not_null_alteration("at", "Post")
    assert isinstance(value, dt.datetime)
    assert value.tzinfo is dt.UTC


def test_quitting_raises() -> None:
    questioner, _ = scripted(["2"])
    with pytest.raises(MigrationQuestionError, match=r"add a default to Post\.views"):
        questioner.ask_not_null_addition("views", "Post")
    questioner, _ = scripted(["1", "exit"])
    with pytest.raises(MigrationQuestionError, match="no default given"):
        questioner.ask_not_null_addition("views", "Post")


def test_rename_questions() -> None:
    questioner, said = scripted([], [True, False])
    assert questioner.ask_rename("Post", "body", "text", object()) is True
    old, new = ModelState("blog", "Post", []), ModelState("blog", "Article", [])
    assert questioner.ask_rename_model(old, new) is False
    assert said[0].startswith("Was Post.body renamed to Post.text")
    assert said[1] == "Was the model blog.Post renamed to Article?"


def test_real_typer_prompts_read_the_terminal() -> None:
    app = typer.Typer()

    @app.command()
    def ask() -> None:
        questioner = InteractiveMigrationQuestioner()
        renamed = questioner.ask_rename("Post", "body", "text", object())
        value = questioner.ask_not_null_addition("views", "Post")
        typer.echo(f"renamed={renamed} value={value!r}")

    result = CliRunner().invoke(app, [], input="y\n1\n'x'\n")

    assert result.exit_code == 0, result.output
    assert "renamed=True value='x'" in result.output


def test_noinput_never_renames_and_fails_where_a_value_is_needed() -> None:
    said: list[str] = []
    questioner = NonInteractiveMigrationQuestioner(log=said.append)

    assert questioner.ask_rename("Post", "body", "text", object()) is False
    assert not questioner.ask_rename_model(ModelState("b", "A", []), ModelState("b", "B", []))
    assert "'Post.body' -> 'text'" in said[0]
    assert "model 'A' -> 'B'" in said[1]
    with pytest.raises(MigrationQuestionError, match="non-nullable field 'views' to Post"):
        questioner.ask_not_null_addition("views", "Post")
    with pytest.raises(MigrationQuestionError, match="'views' on Post to non-nullable"):
        questioner.ask_not_null_alteration("views", "Post")
