"""Spelling hints for error messages: the closest known name to a mistyped one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(name: str, choices: Iterable[str], *, ignore_case: bool = False) -> str | None:
    """Return the choice closest to ``name`` (as spelled in ``choices``), or None."""
    if ignore_case:
        by_lower = {choice.lower(): choice for choice in choices}
        match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
        return by_lower[match[0]] if match else None
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    match = closest(name, choices)
    return f"; did you mean {match!r}?" if match else ""
