"""Opaque keyset-pagination cursors: encode a row's ordering values, check and decode them.

A cursor is ``base64url(payload + mac)``: ``payload`` is compact JSON holding the
ordering fingerprint and the row's ordering values (each tagged with its type so
it decodes to the same Python value), ``mac`` the first 16 bytes of an
HMAC-SHA256 of the payload. The HMAC key is ``settings.pagination_secret`` when
set, else random bytes drawn once per process (cursors then stop working when
the process restarts, and one process cannot read another's).

Decoded values are only ever used as bound parameters, so a forged cursor could
at worst move the page; the checksum makes it refuse to.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["decode_cursor", "encode_cursor", "ordering_fingerprint"]

_MAC_SIZE = 16
_process_key = secrets.token_bytes(32)


def _key() -> bytes:
    from reinhardt_db.conf import get_settings

    secret = get_settings().pagination_secret
    if secret is None:
        return _process_key
    return secret.get_secret_value().encode()


def ordering_fingerprint(parts: Sequence[Any]) -> str:
    """Return a short digest of an ordering description (what a cursor was made for)."""
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:16]


# type -> (tag, encoder); tag -> decoder. bool before int: it is an int subclass.
_ENCODERS: list[tuple[type, str, Callable[[Any], Any]]] = [
    (bool, "b", bool),
    # int() and str.__str__: enum members (IntegerChoices, TextChoices) as their values.
    (int, "i", lambda v: str(int(v))),
    (float, "f", float.hex),
    (str, "s", str.__str__),
    (decimal.Decimal, "d", str),
    (dt.datetime, "D", dt.datetime.isoformat),
    (dt.date, "a", dt.date.isoformat),
    (dt.time, "t", dt.time.isoformat),
    (dt.timedelta, "T", lambda v: [v.days, v.seconds, v.microseconds]),
    (uuid.UUID, "u", lambda v: v.hex),
    (bytes, "x", bytes.hex),
]
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "b": bool,
    "i": int,
    "f": float.fromhex,
    "s": str,
    "d": decimal.Decimal,
    "D": dt.datetime.fromisoformat,
    "a": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "T": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "u": uuid.UUID,
    "x": bytes.fromhex,
}


def _encode_value(value: Any) -> Any:
    if value is None:
        return None
    for kind, tag, encode in _ENCODERS:
        if isinstance(value, kind):
            return [tag, encode(value)]
    if isinstance(value, (bytearray, memoryview)):
        return ["x", bytes(value).hex()]
    raise TypeError(
        f"keyset pagination cannot put a {type(value).__name__} value ({value!r}) in a "
        "cursor; order by fields holding numbers, text, dates, times, UUIDs or bytes"
    )


def _decode_value(item: Any) -> Any:
    if item is None:
        return None
    tag, text = item
    return _DECODERS[tag](text)


def encode_cursor(fingerprint: str, values: Sequence[Any]) -> str:
    """Return the opaque cursor for a row with ordering ``values``."""
    payload = json.dumps(
        {"o": fingerprint, "v": [_encode_value(v) for v in values]},
        separators=(",", ":"),
    ).encode()
    mac = hmac.digest(_key(), payload, "sha256")[:_MAC_SIZE]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: Any, fingerprint: str, count: int) -> list[Any]:
    """Return the ordering values in ``cursor``; ``ValueError`` when it is not usable here.

    The cursor must decode, pass its checksum and have been made for the
    ordering ``fingerprint`` (with ``count`` values).
    """
    if not isinstance(cursor, str):
        raise ValueError(
            f"a pagination cursor is a str (a Page's next_cursor or previous_cursor), "
            f"got {type(cursor).__name__}"
        )
    shown = cursor if len(cursor) <= 24 else cursor[:21] + "..."
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) <= _MAC_SIZE:
        raise ValueError(
            f"the pagination cursor {shown!r} does not decode: pass a next_cursor or "
            "previous_cursor of a Page exactly as it was given (was it cut or changed?)"
        )
    payload, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
    expected = hmac.digest(_key(), payload, "sha256")[:_MAC_SIZE]
    if not hmac.compare_digest(mac, expected):
        raise ValueError(
            f"the pagination cursor {shown!r} fails its checksum: it was changed, or made "
            "by another process or with another settings.pagination_secret; start again "
            "from the first page (paginate() without a cursor)"
        )
    try:
        data = json.loads(payload)
        made_for = data["o"]
        values = [_decode_value(item) for item in data["v"]]
    except (ValueError, KeyError, TypeError, IndexError, OverflowError):
        raise ValueError(
            f"the pagination cursor {shown!r} passes its checksum but holds values this "
            "version cannot read; start again from the first page"
        ) from None
    if made_for != fingerprint or len(values) != count:
        raise ValueError(
            f"the pagination cursor {shown!r} was made for another ordering: paginate the "
            "QuerySet with the order_by() the cursor came from, or start again from the "
            "first page (paginate() without a cursor)"
        )
    return values
