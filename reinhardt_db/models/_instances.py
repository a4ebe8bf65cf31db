"""Blank model instances for the row readers, made in C where it was built.

``new(cls)`` is ``object.__new__(cls)``: an instance with no attributes and
no ``__init__`` run. ``blank(cls, count)`` is a list of ``count`` of them, so
a reader fills the list it returns instead of appending to one.

``reinhardt_db.models._speedups`` (``_speedups.c``, built by ``setup.py``
where a C compiler is available) calls object's allocation slot directly:
making an instance is about half a row's cost in a reader, and the wrapper
behind ``object.__new__`` about half of that (a ``select_related`` read of
10,000 rows: 2.1 ms with ``object.__new__`` and appends, 1.4 ms with the C
``blank``; the Python ``blank`` below 2.0 ms). The Python versions here do the
same and are used when the extension is missing or ``REINHARDT_PURE_PYTHON``
is set in the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["ACCELERATED", "blank", "new", "py_blank", "py_new"]


def py_new(cls: type) -> Any:
    """A blank instance of ``cls`` (``object.__new__``)."""
    return object.__new__(cls)


def py_blank(cls: type, count: int) -> list[Any]:
    """A list of ``count`` blank instances of ``cls``."""
    if count < 0:
        raise ValueError(f"blank() count must be >= 0, got {count}")
    make = object.__new__
    return [make(cls) for _ in range(count)]


new: Callable[[type], Any] = py_new
blank: Callable[[type, int], list[Any]] = py_blank
#: True when the readers make instances in C.
ACCELERATED = False

if not os.environ.get("REINHARDT_PURE_PYTHON"):
    try:
        from reinhardt_db.models import _speedups
    except ImportError:  # built without a C compiler: the Python versions above
        pass
    else:
        new, blank, ACCELERATED = _speedups.new, _speedups.blank, True
