"""What a check reports: a ``CheckMessage`` with a level, an id, a message, a hint and an object."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "LEVEL_NAMES",
    "WARNING",
    "CheckMessage",
    "Critical",
    "Debug",
    "Error",
    "Info",
    "Warning",
]

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50

#: Level number -> name, as ``--fail-level`` spells them.
LEVEL_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR",
               CRITICAL: "CRITICAL"}


class CheckMessage:
    """One problem found by a check (Django's ``django.core.checks.CheckMessage``).

    ``id`` is stable and documented (``models.E028``); ``obj`` is what the
    message is about: a model, a field, or a settings key such as
    ``"installed_apps[0]"``.

    >>> str(Error("db_table 'x' is used twice", hint="rename one", obj="blog.Post",
    ...           id="models.E028"))
    "blog.Post: (models.E028) db_table 'x' is used twice. HINT: rename one."
    """

    def __init__(
        self,
        level: int,
        msg: str,
        hint: str | None = None,
        obj: Any = None,
        id: str | None = None,
    ) -> None:
        self.level = level
        self.msg = msg
        self.hint = hint
        self.obj = obj
        self.id = id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CheckMessage):
            return NotImplemented
        return (self.level, self.msg, self.hint, self.obj, self.id) == (
            other.level, other.msg, other.hint, other.obj, other.id,
        )

    def __hash__(self) -> int:
        return hash((self.level, self.msg, self.hint, self.id))

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: level={self.level!r}, msg={self.msg!r}, "
            f"hint={self.hint!r}, obj={self.obj!r}, id={self.id!r}>"
        )

    def __str__(self) -> str:
        where = _describe(self.obj)
        ident = f"({self.id}) " if self.id else ""
        text = f"{where}: {ident}{_sentence(self.msg)}"
        if self.hint:
            text += f" HINT: {_sentence(self.hint)}"
        return text

    @property
    def level_name(self) -> str:
        """Return ``"ERROR"``, ``"WARNING"`` ... (the number for a custom level)."""
        return LEVEL_NAMES.get(self.level, str(self.level))

    def is_serious(self, level: int = ERROR) -> bool:
        """Return True when this message is at ``level`` or above."""
        return self.level >= level


def _describe(obj: Any) -> str:
    if obj is None:
        return "?"
    meta = getattr(obj, "_meta", None)
    if isinstance(obj, type) and meta is not None:
        return str(meta.label)
    return str(obj)  # a field prints as app_label.Model.field


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else f"{text}."


class Debug(CheckMessage):
    """A message at DEBUG level."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(DEBUG, *args, **kwargs)


class Info(CheckMessage):
    """A message at INFO level."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(INFO, *args, **kwargs)


class Warning(CheckMessage):  # Django's name, shadowing the builtin on purpose
    """A problem that does not stop ``reinhardt check`` from passing (exit 0)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(WARNING, *args, **kwargs)


class Error(CheckMessage):
    """A problem that makes ``reinhardt check`` exit 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(ERROR, *args, **kwargs)


class Critical(CheckMessage):
    """A problem worse than an error (exits 1 too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(CRITICAL, *args, **kwargs)
