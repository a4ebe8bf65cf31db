"""FastAPI: open the databases with the app, and run a request's database work atomically.

::

    from fastapi import Depends, FastAPI
    from reinhardt_db.integrations.fastapi import atomic, lifespan

    app = FastAPI(lifespan=lifespan)              # or lifespan(your_lifespan, check=False)

    @app.post("/transfers", dependencies=[Depends(atomic)])
    async def transfer(...): ...                  # COMMIT when it returns, ROLLBACK when it raises

    @app.get("/report", dependencies=[Depends(atomic(using="replica", read_only=True))])
    async def report(): ...

FastAPI stays optional: ``pip install 'reinhardt_db[fastapi]'``. User docs:
docs/integrations.md.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, overload

try:
    import fastapi  # the integration is for FastAPI: fail here, not at first use
    from starlette.applications import Starlette
    from starlette.requests import HTTPConnection, Request
except ModuleNotFoundError as error:  # pragma: no cover - the message is tested
    if error.name not in ("fastapi", "starlette"):
        raise
    raise ImportError(
        "reinhardt_db.integrations.fastapi needs FastAPI, which is not installed: "
        "pip install 'reinhardt_db[fastapi]'"
    ) from error

import reinhardt_db
from reinhardt_db import transaction

if (0, 118) <= tuple(int(part) for part in fastapi.__version__.split(".")[:2]) < (0, 121):
    warnings.warn(
        f"FastAPI {fastapi.__version__} ends dependencies with yield only after the response "
        "is sent, so Depends(atomic) commits after the client got its response (a failed "
        "COMMIT is never reported): use FastAPI 0.110-0.117 or 0.121+",
        RuntimeWarning,
        stacklevel=2,
    )

__all__ = ["AtomicDependency", "atomic", "lifespan"]

#: What FastAPI takes as ``lifespan=``: ``app -> async context manager``.
AppLifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


# -- lifespan ---------------------------------------------------------------------------------


@overload
def lifespan(app: Starlette, /) -> AbstractAsyncContextManager[None]: ...


@overload
def lifespan(own: AppLifespan | None = None, /, *, check: bool = True) -> AppLifespan: ...


def lifespan(
    app_or_own: Starlette | AppLifespan | None = None, /, *, check: bool = True
) -> AbstractAsyncContextManager[Any] | AppLifespan:
    """Open the databases when the app starts and close every pool when it stops.

    ``FastAPI(lifespan=lifespan)`` runs ``reinhardt_db.lifespan()`` around the
    app: ``setup()`` (installed apps, routers) and, with ``check=True``, one
    connection to every configured database at start-up, so a bad URL fails
    the start instead of the first request.

    ``lifespan(own, check=...)`` returns a lifespan that also runs ``own``
    (``app -> async context manager``, e.g. an ``@asynccontextmanager``
    function) inside: its start-up code can use the databases, what it yields
    becomes the app's state (``request.state``), and it ends before the pools
    close.
    """
    if isinstance(app_or_own, Starlette):  # FastAPI calling FastAPI(lifespan=lifespan)
        return _open(app_or_own, None, check)
    own = app_or_own
    if own is not None and not callable(own):
        raise TypeError(
            f"lifespan() takes your app's lifespan (a function of the app returning an async "
            f"context manager), got {own!r}"
        )
    if own is not None and inspect.isasyncgenfunction(own):
        own = asynccontextmanager(own)

    def app_lifespan(app: Any) -> AbstractAsyncContextManager[Any]:
        return _open(app, own, check)

    return app_lifespan


@asynccontextmanager
async def _open(app: Any, own: AppLifespan | None, check: bool) -> AsyncIterator[Any]:
    async with reinhardt_db.lifespan(check=check):
        if own is None:
            yield None
            return
        context = own(app)
        if not hasattr(context, "__aenter__"):
            raise TypeError(
                f"lifespan({own!r}): it returned {context!r}, not an async context manager; "
                "decorate it with @contextlib.asynccontextmanager"
            )
        async with context as state:
            yield state


# -- atomic -----------------------------------------------------------------------------------


class AtomicDependency:
    """A FastAPI dependency running the request's database work in ``transaction.atomic()``.

    ``Depends(atomic)`` uses the default database; ``Depends(atomic(using="replica",
    isolation="serializable"))`` passes ``atomic()``'s options. The block
    commits when the endpoint returns and rolls back when it raises (an
    ``HTTPException`` too), and it ends before the response is sent (see
    ``_block``). Equal options make equal dependencies, so FastAPI runs one
    block per request however often the dependency is declared.
    """

    # FastAPI reads the parameters a dependency wants from its signature and decides
    # how to run it from its __call__ attribute (set per instance to the async
    # generator below); calling the object itself configures a new one.
    __signature__ = inspect.Signature(
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    )

    def __init__(
        self,
        using: str | None = None,
        *,
        savepoint: bool = True,
        durable: bool = False,
        isolation: str | None = None,
        read_only: bool = False,
    ) -> None:
        transaction.atomic(using, isolation=isolation)  # a bad isolation name fails here
        self.options: dict[str, Any] = {
            "using": using, "savepoint": savepoint, "durable": durable,
            "isolation": isolation, "read_only": read_only,
        }
        vars(self)["__call__"] = self._block

    def __call__(
        self,
        using: str | None = None,
        *,
        savepoint: bool = True,
        durable: bool = False,
        isolation: str | None = None,
        read_only: bool = False,
        **request: Any,
    ) -> Any:
        """Return a dependency with these ``atomic()`` options: ``atomic(using="replica")``.

        (FastAPI calls the dependency as ``dependency(request=...)`` on each
        request: that runs the block.)
        """
        connection = request.pop("request", None)
        if isinstance(connection, HTTPConnection) and not request and using is None:
            return self._block(connection)
        if request:
            raise TypeError(f"atomic() got unexpected keyword arguments {sorted(request)}")
        return AtomicDependency(
            using, savepoint=savepoint, durable=durable, isolation=isolation, read_only=read_only
        )

    async def _block(self, request: HTTPConnection) -> AsyncIterator[None]:
        block = transaction.atomic(**self.options)
        # FastAPI >= 0.121 ends a yield dependency after the response is sent unless it
        # was declared with Depends(..., scope="function"). The block ends with the
        # endpoint instead, on FastAPI's per-endpoint exit stack: a COMMIT that fails
        # is then the response (500), never a 200 for data that is not there.
        stack = request.scope.get("fastapi_function_astack")
        if stack is None:  # FastAPI before 0.118 ends the dependency with the endpoint
            async with block:
                yield
        else:
            await stack.enter_async_context(block)
            yield

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AtomicDependency):
            return NotImplemented
        return self.options == other.options

    def __hash__(self) -> int:
        return hash(tuple(self.options.values()))

    def __repr__(self) -> str:
        given = ", ".join(
            f"{key}={value!r}" for key, value in self.options.items()
            if value != _DEFAULTS[key]
        )
        return f"atomic({given})"


_DEFAULTS: dict[str, Any] = {
    "using": None, "savepoint": True, "durable": False, "isolation": None, "read_only": False,
}

#: ``Depends(atomic)``, or ``Depends(atomic(using=..., isolation=...))``.
atomic = AtomicDependency()
