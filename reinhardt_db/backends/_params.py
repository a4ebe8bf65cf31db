"""Translate the raw-SQL API's one parameter style into each driver's own.

Callers always write Django's ``%s`` placeholders (``%%`` for a literal
percent). asyncpg wants ``$1``, sqlite3 wants ``?``, PyMySQL takes ``%s``
as it is (and un-doubles ``%%`` itself because we always pass a tuple).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["to_dollar", "to_qmark"]

_PLACEHOLDER = re.compile(r"%%|%s")


@lru_cache(maxsize=1024)
def to_dollar(sql: str) -> str:
    """``%s`` -> ``$1, $2, ...``; ``%%`` -> ``%``."""
    counter = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) == "%%":
            return "%"
        counter += 1
        return f"${counter}"

    return _PLACEHOLDER.sub(repl, sql)


@lru_cache(maxsize=1024)
def to_qmark(sql: str) -> str:
    """``%s`` -> ``?``; ``%%`` -> ``%``."""
    return _PLACEHOLDER.sub(lambda m: "%" if m.group(0) == "%%" else "?", sql)
