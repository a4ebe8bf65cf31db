"""``reinhardt_db.integrations.fastapi``: the lifespan helper and the ``atomic`` dependency.

The apps are driven as ASGI applications in the test's own event loop (no
server, no HTTP client), so what a request writes is checked through the ORM on
each backend.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware

import reinhardt_db
from reinhardt_db import models, transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import OperationalError, TransactionManagementError
from reinhardt_db.integrations.fastapi import AtomicDependency, atomic, lifespan


class Note(models.Model):
    text = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_fastapi"


# -- a minimal ASGI client --------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: Any
    events: list[str] = field(default_factory=list)


async def request(
    app: Any, method: str, path: str, *, body: Any = None, state: dict[str, Any] | None = None,
    events: list[str] | None = None,
) -> Response:
    """Send one HTTP request to ``app``; ``events`` gets "response" when the status is sent."""
    payload = b"" if body is None else json.dumps(body).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json"), (b"host", b"test")],
        "client": ("127.0.0.1", 1), "server": ("test", 80), "state": dict(state or {}),
    }
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": payload, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if chunks:
            return chunks.pop()
        await asyncio.Event().wait()  # no disconnect while the app runs
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and events is not None:
            events.append("response")
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception:
        if not sent:
            raise  # the server error middleware sends its 500 before re-raising
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    raw = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    is_json = any(
        key == b"content-type" and value == b"application/json"
        for m in sent if m["type"] == "http.response.start" for key, value in m["headers"]
    )
    return Response(status, json.loads(raw) if is_json else raw.decode())


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[dict[str, Any]]:
    """Run ``app``'s lifespan (startup before, shutdown after); yield its state."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        await task  # raises what failed the start
        raise AssertionError(started)
    try:
        yield state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


def notes_app(dependency: Any = atomic, **kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.post("/notes/{text}", dependencies=[Depends(dependency)])
    async def add(text: str, fail: str = "") -> dict[str, Any]:
        await Note.objects.create(text=text)
        if text.startswith("http"):
            raise HTTPException(status_code=409, detail="refused")
        if text.startswith("boom"):
            raise ValueError("boom")
        return {"in_block": transaction.in_atomic_block(), "state": transaction.get_state()}

    return app


async def texts() -> list[str]:
    return sorted(await Note.objects.values_list("text", flat=True))


# -- atomic -----------------------------------------------------------------------------------


async def test_returning_commits_and_raising_rolls_back(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    app = notes_app()
    ok = await request(app, "POST", "/notes/kept")
    assert (ok.status, ok.body) == (200, {"in_block": True, "state": "ACTIVE"})
    refused = await request(app, "POST", "/notes/http-409")
    assert (refused.status, refused.body) == (409, {"detail": "refused"})
    failed = await request(app, "POST", "/notes/boom")
    assert failed.status == 500
    assert await texts() == ["kept"]
    assert not transaction.in_atomic_block()  # no block left open in this task


async def test_without_the_dependency_each_query_commits_on_its_own(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    app = FastAPI()

    @app.post("/notes/{text}")
    async def add(text: str) -> None:
        await Note.objects.create(text=text)
        raise HTTPException(status_code=409)

    assert (await request(app, "POST", "/notes/stays")).status == 409
    assert await texts() == ["stays"]


async def test_the_block_commits_before_the_response_is_sent(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    events: list[str] = []
    app = FastAPI()

    @app.post("/")
    async def add(_: None = Depends(atomic)) -> None:
        await Note.objects.create(text="x")
        transaction.on_commit(lambda: events.append("commit"))

    assert (await request(app, "POST", "/", events=events)).status == 200
    assert events == ["commit", "response"]


async def test_a_failing_commit_is_the_response(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    app = FastAPI()

    def broken() -> None:
        raise RuntimeError("after COMMIT")

    @app.post("/", dependencies=[Depends(atomic)])
    async def add() -> dict[str, str]:
        transaction.on_commit(broken)
        return {"status": "saved"}

    assert (await request(app, "POST", "/")).status == 500


async def test_atomic_takes_atomics_options(backend: Database, backend_url: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url, "other": backend_url})
    app = FastAPI()

    @app.get("/", dependencies=[Depends(atomic(using="other"))])
    async def where() -> dict[str, bool]:
        await reinhardt_db.connections["other"].fetch_one("SELECT 1")
        return {"other": transaction.in_atomic_block("other"),
                "default": transaction.in_atomic_block()}

    assert (await request(app, "GET", "/")).body == {"other": True, "default": False}
    assert "parameters" not in app.openapi()["paths"]["/"]["get"]  # no stray query parameter


async def test_declared_twice_it_is_one_block(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    app = FastAPI()

    @app.post("/", dependencies=[Depends(atomic(using="default"))])
    async def add(_: None = Depends(atomic(using="default"))) -> None:
        await Note.objects.create(text="a")
        transaction.set_rollback(True)  # the innermost block: the only one

    assert (await request(app, "POST", "/")).status == 200
    assert await texts() == []


async def test_a_middleware_task_keeps_the_block(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    app = notes_app()

    async def passthrough(request: Request, call_next: Any) -> Any:
        return await call_next(request)

    app.add_middleware(BaseHTTPMiddleware, dispatch=passthrough)
    assert (await request(app, "POST", "/notes/http-1")).status == 409
    assert (await request(app, "POST", "/notes/kept")).body["in_block"] is True
    assert await texts() == ["kept"]


def test_dependency_options() -> None:
    assert atomic(using="replica") == atomic(using="replica")
    assert hash(atomic(using="replica")) == hash(atomic(using="replica"))
    assert atomic(using="replica") != atomic
    assert isinstance(atomic(read_only=True), AtomicDependency)
    assert repr(atomic) == "atomic()"
    assert repr(atomic("replica", isolation="serializable")) == (
        "atomic(using='replica', isolation='serializable')"
    )
    with pytest.raises(TransactionManagementError, match="isolation"):
        atomic(isolation="sometimes")
    with pytest.raises(TypeError, match="unexpected keyword arguments \\['usign'\\]"):
        atomic(usign="replica")


# -- lifespan ---------------------------------------------------------------------------------


async def test_lifespan_opens_checks_and_closes(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    app = notes_app(lifespan=lifespan)
    async with running(app):
        assert (await request(app, "POST", "/notes/kept")).status == 200
        pool = backend.pool
        assert not pool.closed
    assert pool.closed
    assert await texts() == ["kept"]


async def test_lifespan_runs_yours_inside_and_passes_its_state(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Note)
    seen: list[str] = []

    @asynccontextmanager
    async def own(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await Note.objects.create(text="seed")  # the databases are open already
        seen.append("start")
        yield {"greeting": "hi"}
        seen.append(f"stop with {await Note.objects.count()} notes")  # still open

    app = FastAPI(lifespan=lifespan(own, check=False))

    @app.get("/")
    async def hello(request: Request) -> str:
        return str(request.state.greeting)

    async with running(app) as state:
        assert seen == ["start"]
        assert (await request(app, "GET", "/", state=state)).body == "hi"
    assert seen == ["start", "stop with 1 notes"]


async def test_lifespan_accepts_a_plain_async_generator(backend: Database) -> None:
    async def own(app: FastAPI) -> AsyncIterator[None]:
        yield

    async with running(FastAPI(lifespan=lifespan(own))):
        pass


async def test_lifespan_fails_the_start_on_a_bad_database(tmp_path: Any) -> None:
    reinhardt_db.configure(databases={"default": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    try:
        with pytest.raises(OperationalError, match="does not exist; create the directory"):
            async with running(FastAPI(lifespan=lifespan)):
                pass
    finally:
        await reinhardt_db.close_all()
        from reinhardt_db.conf import reset_settings

        reset_settings()


def test_lifespan_refuses_what_is_no_lifespan() -> None:
    with pytest.raises(TypeError, match="takes your app's lifespan"):
        lifespan("not callable")  # type: ignore[call-overload]


async def test_lifespan_says_when_yours_is_no_context_manager(backend: Database) -> None:
    def own(app: FastAPI) -> None:
        return None

    with pytest.raises(TypeError, match=r"decorate it with @contextlib\.asynccontextmanager"):
        async with running(FastAPI(lifespan=lifespan(own))):  # type: ignore[arg-type]
            pass


# -- fastapi stays optional ---------------------------------------------------------------------


def test_importing_without_fastapi_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # "import fastapi" now fails
    monkeypatch.delitem(sys.modules, "reinhardt_db.integrations.fastapi")
    with pytest.raises(ImportError, match=r"pip install 'reinhardt_db\[fastapi\]'"):
        importlib.import_module("reinhardt_db.integrations.fastapi")
