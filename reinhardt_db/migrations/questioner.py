"""Questioners: what ``makemigrations`` asks when the models alone cannot tell.

* Was this field (or model) renamed, or removed and another added?
* A NOT NULL field is added (or a field becomes NOT NULL) and has no default:
  which one-off value do existing rows get?

``InteractiveMigrationQuestioner`` asks on the terminal (typer prompts).
``NonInteractiveMigrationQuestioner`` (``--noinput``) never guesses a rename,
reports each decision through ``log``, and raises ``MigrationQuestionError``
where a value is needed that only a person can give.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import typer

from reinhardt_db.migrations.exceptions import MigrationQuestionError
from reinhardt_db.models.fields.base import NOT_PROVIDED

__all__ = [
    "InteractiveMigrationQuestioner",
    "MigrationQuestioner",
    "NonInteractiveMigrationQuestioner",
]

Log = Callable[[str], None]


class MigrationQuestioner:
    """Default answers, without asking: no renames, no one-off defaults, no merge."""

    def __init__(self, defaults: dict[str, Any] | None = None, log: Log | None = None) -> None:
        self.defaults = defaults or {}
        self.log: Log = log or (lambda message: None)

    def ask_initial(self, app_label: str) -> bool:
        """Return whether the first migration of an app should be marked ``initial``."""
        return bool(self.defaults.get("ask_initial", True))

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field: Any) -> bool:
        """Return whether ``model_name.old_name`` was renamed to ``new_name``."""
        return bool(self.defaults.get("ask_rename", False))

    def ask_rename_model(self, old_model_state: Any, new_model_state: Any) -> bool:
        """Return whether model ``old`` was renamed to ``new``."""
        return bool(self.defaults.get("ask_rename_model", False))

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        """Return a one-off default for a new NOT NULL field without one."""
        raise MigrationQuestionError(
            f"It is impossible to add the non-nullable field '{field_name}' to {model_name} "
            "without a default: existing rows need a value. Give the field a default "
            "(default=...), allow NULL (null=True), or run makemigrations interactively to "
            "provide a one-off default."
        )

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        """Return a one-off default for rows whose NULL must go (field becomes NOT NULL)."""
        raise MigrationQuestionError(
            f"It is impossible to change the nullable field '{field_name}' on {model_name} to "
            "non-nullable without a default: existing rows may hold NULL. Give the field a "
            "default, fill the NULLs in a data migration first, or run makemigrations "
            "interactively to provide a one-off default."
        )

    def ask_merge(self, app_label: str) -> bool:
        """Return whether to write a merge migration for ``app_label``."""
        return bool(self.defaults.get("ask_merge", False))


class NonInteractiveMigrationQuestioner(MigrationQuestioner):
    """Answers for ``--noinput``: never a rename; fail where only a person can answer."""

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field: Any) -> bool:
        """Say no, and report that the field is removed and another added."""
        self.log(
            f"  --noinput: not treating '{model_name}.{old_name}' -> '{new_name}' as a rename; "
            f"'{old_name}' is removed (with its data) and '{new_name}' added. Run without "
            "--noinput to answer the rename question."
        )
        return False

    def ask_rename_model(self, old_model_state: Any, new_model_state: Any) -> bool:
        """Say no, and report that the model is deleted and another created."""
        self.log(
            f"  --noinput: not treating model '{old_model_state.name}' -> "
            f"'{new_model_state.name}' as a rename; '{old_model_state.name}' is deleted (with "
            f"its data) and '{new_model_state.name}' created. Run without --noinput to answer "
            "the rename question."
        )
        return False


class InteractiveMigrationQuestioner(MigrationQuestioner):
    """Ask on the terminal with typer prompts (``prompt``/``confirm`` replaceable in tests)."""

    def __init__(
        self,
        defaults: dict[str, Any] | None = None,
        log: Log | None = None,
        prompt: Callable[..., Any] = typer.prompt,
        confirm: Callable[..., bool] = typer.confirm,
        echo: Callable[[str], Any] = typer.echo,
    ) -> None:
        super().__init__(defaults, log)
        self.prompt = prompt
        self.confirm = confirm
        self.echo = echo

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field: Any) -> bool:
        """Ask whether the field was renamed."""
        return bool(self.confirm(
            f"Was {model_name}.{old_name} renamed to {model_name}.{new_name} "
            f"(a {type(field).__name__})?",
            default=False,
        ))

    def ask_rename_model(self, old_model_state: Any, new_model_state: Any) -> bool:
        """Ask whether the model was renamed."""
        return bool(self.confirm(
            f"Was the model {old_model_state.app_label}.{old_model_state.name} renamed to "
            f"{new_model_state.name}?",
            default=False,
        ))

    def ask_merge(self, app_label: str) -> bool:
        """Ask whether to merge the app's branches."""
        return bool(self.confirm(f"Merge the migrations of '{app_label}'?", default=False))

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        """Ask for a one-off default (or quit) for a new NOT NULL field."""
        self.echo(
            f"It is impossible to add a non-nullable field '{field_name}' to {model_name} "
            "without a default; existing rows need a value."
        )
        return self._ask_default(field_name, model_name)

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        """Ask for a one-off value for NULL rows (or quit) when a field becomes NOT NULL."""
        self.echo(
            f"The field '{field_name}' on {model_name} becomes non-nullable; existing NULLs "
            "need a value."
        )
        return self._ask_default(field_name, model_name)

    def _ask_default(self, field_name: str, model_name: str) -> Any:
        self.echo(
            " 1) Provide a one-off default now (existing rows get it)\n"
            " 2) Quit, and add a default (or null=True) in models.py"
        )
        choice = str(self.prompt("Select an option", default="1")).strip()
        if choice != "1":
            raise MigrationQuestionError(
                f"Stopped: add a default to {model_name}.{field_name} (or null=True) and run "
                "makemigrations again."
            )
        self.echo(
            "Enter the default as a Python expression; 'datetime' and 'timezone' are "
            "available (e.g. timezone.now() or 0)."
        )
        while True:
            text = str(self.prompt(">>>")).strip()
            if not text:
                self.echo("Please enter a value, or 'exit' to quit.")
                continue
            if text in ("exit", "quit"):
                raise MigrationQuestionError(
                    f"Stopped: no default given for {model_name}.{field_name}."
                )
            try:
                value = eval(text, {"datetime": datetime, "timezone": _Timezone()}, {})
            except Exception as exc:
                self.echo(f"Invalid input: {type(exc).__name__}: {exc}")
                continue
            if value is NOT_PROVIDED:
                continue
            return value


class _Timezone:
    """``timezone.now()`` in answers to the default question (aware UTC, like Django's)."""

    utc = datetime.UTC

    @staticmethod
    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)
