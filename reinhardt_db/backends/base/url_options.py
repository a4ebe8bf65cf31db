"""Query-string options of a database URL (``?timeout=5``), typed for the driver.

A URL's query string is text. The drivers want numbers and booleans
(``sqlite3.connect(timeout=5.0)``, ``aiomysql.connect(connect_timeout=5)``), and
handed a string they fail inside the connect call, where a type error looks
like any other connect failure. Each backend declares the options its URL
accepts and their types (:class:`URLOptions`); the settings check a URL when
they are loaded, so a bad option is an ``ImproperlyConfigured`` naming it
before any connection is tried, and the driver gets typed values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reinhardt_db._hints import closest
from reinhardt_db.conf._secrets import MASK, is_secret_key

__all__ = ["URLOptions", "boolean", "number", "text", "whole_number"]

Parser = Callable[[str], Any]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def text(value: str) -> str:
    """The value as written."""
    return value


def number(value: str) -> float:
    """A number of at least 0 (seconds): ``5``, ``2.5``."""
    try:
        parsed = float(value)
    except ValueError:
        raise ValueError("expected a number such as 5 or 2.5") from None
    if not parsed >= 0 or parsed == float("inf"):  # NaN fails the comparison
        raise ValueError("expected a finite number of at least 0")
    return parsed


def whole_number(value: str) -> int:
    """A whole number of at least 0."""
    try:
        parsed = int(value)
    except ValueError:
        raise ValueError("expected a whole number such as 100") from None
    if parsed < 0:
        raise ValueError("expected a whole number of at least 0")
    return parsed


def boolean(value: str) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


@dataclass(frozen=True)
class URLOptions:
    """The query-string options one backend's URLs take.

    ``accepted`` maps each option to the parser giving the driver's value.
    ``owned`` maps options reinhardt_db sets itself (or reads from another
    part of the URL), in lower case, to the reason they cannot be set here. With
    ``pass_others`` an option in neither table goes to the driver as text
    (PostgreSQL: asyncpg makes it a server setting, as libpq does);
    otherwise it is refused with the accepted names.
    """

    vendor: str
    accepted: Mapping[str, Parser]
    owned: Mapping[str, str] = field(default_factory=dict)
    pass_others: bool = False

    def parse(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Return the options of ``query`` with the driver's types.

        Raises ``ValueError`` naming the option, its value (``***`` for a
        secret) and what to write instead.
        """
        parsed: dict[str, Any] = {}
        for key, value in query.items():
            shown = MASK if is_secret_key(key) else value
            reason = self.owned.get(key.lower())  # PostgreSQL's setting names ignore case
            if reason is not None:
                raise ValueError(f"URL option ?{key}={shown}: {reason}")
            parser = self.accepted.get(key)
            if parser is None:
                if self.pass_others:
                    parsed[key] = value
                    continue
                match = closest(key, self.accepted)
                hint = f" (did you mean {match!r}?)" if match else ""
                raise ValueError(
                    f"URL option ?{key}={shown}: not an option of {self.vendor} URLs{hint}; "
                    f"accepted: {', '.join(sorted(self.accepted))}, or pass driver "
                    "arguments in the database's 'options'"
                )
            try:
                parsed[key] = parser(value)
            except ValueError as error:
                raise ValueError(f"URL option ?{key}={shown}: {error}") from None
        return parsed
