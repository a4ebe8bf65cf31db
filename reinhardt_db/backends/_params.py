"""Translate the raw-SQL API's one parameter style into each driver's own.

Callers always write Django's ``%s`` placeholders and ``%%`` for a literal
percent, on every backend. asyncpg wants ``$1``, sqlite3 wants ``?``, PyMySQL
takes ``%s`` as it is (and un-doubles ``%%`` itself because we always pass a
tuple). Any other ``%`` (a lone one, ``%d``, ``%(name)s``) is a
``ProgrammingError`` on every backend, and so is a parameter count that does
not match the placeholders: both are caught here, before the SQL reaches a
driver, so the connection is never involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from reinhardt_db.exceptions import ProgrammingError

__all__ = ["check_params", "placeholder_count", "to_dollar", "to_qmark"]

# A percent sign and the character after it (none at the very end).
_PERCENT = re.compile(r"%(.?)", re.DOTALL)


def _translate(sql: str, placeholder: Callable[[int], str], percent: str) -> tuple[str, int]:
    count = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal count
        after = match.group(1)
        if after == "s":
            count += 1
            return placeholder(count)
        if after == "%":
            return percent
        raise _lone_percent(sql, match.start())

    return _PERCENT.sub(repl, sql), count


def _lone_percent(sql: str, at: int) -> ProgrammingError:
    snippet = sql[max(0, at - 20): at + 20]
    return ProgrammingError(
        f"unexpected '%' at position {at} of the SQL (near {snippet!r}): raw SQL takes %s "
        f"for a parameter and %% for a literal percent sign, on every backend"
    )


@lru_cache(maxsize=1024)
def to_dollar(sql: str) -> str:
    """``%s`` -> ``$1, $2, ...``; ``%%`` -> ``%``; any other ``%`` is a ``ProgrammingError``."""
    return _translate(sql, lambda n: f"${n}", "%")[0]


@lru_cache(maxsize=1024)
def to_qmark(sql: str) -> str:
    """``%s`` -> ``?``; ``%%`` -> ``%``; any other ``%`` is a ``ProgrammingError``."""
    return _translate(sql, lambda n: "?", "%")[0]


@lru_cache(maxsize=1024)
def placeholder_count(sql: str) -> int:
    """Return how many ``%s`` placeholders ``sql`` has; any ``%`` but ``%s``/``%%`` is an error."""
    return _translate(sql, lambda n: "%s", "%%")[1]


def check_params(sql: str, params: tuple[object, ...]) -> None:
    """Raise ``ProgrammingError`` unless ``params`` has one value per ``%s`` in ``sql``."""
    expected = placeholder_count(sql)
    if len(params) != expected:
        given = len(params)
        raise ProgrammingError(
            f"the SQL has {expected} %s placeholder{'s' if expected != 1 else ''} but "
            f"{given} parameter{'s were' if given != 1 else ' was'} given; pass one value "
            f"per %s (write %% for a literal percent sign)"
        )
