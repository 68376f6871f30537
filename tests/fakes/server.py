"""A real HTTP server on 127.0.0.1 for fake providers: uvicorn in a background thread.

`ServerThread` binds a free loopback port at construction (so the URL is known before any
route is added) and serves any ASGI app until `stop()`. `FakeProvider` is the base every
provider fake builds on: it records each request, applies injected faults (see faults.py)
in an outermost ASGI layer that sees the raw connection, and keeps a scenario clock that a
test can replace with its own fake clock so provider timelines advance with it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.fakes.faults import Fault, FaultQueue, apply_fault


class ServerThread:
    """uvicorn serving `app` on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1") -> None:
        self.app = app
        # proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted sockets (else +40 ms per answer)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(
            self._dispatch,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            http="h11",
            ws="none",
            proxy_headers=False,
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the loopback test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Recorded:
    """One request as the fake saw it (headers kept as sent: this lives only in test memory)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    point: str | None  # the provider's name for the endpoint: create / poll / list / result / ...
    at: float  # scenario clock
    fault: str = ""  # the fault applied to it, if any
    extra: dict[str, Any] = field(default_factory=dict)  # what the handler learned (auth claims, ...)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class FakeProvider:
    """Base of every provider fake. Subclasses add routes and name their endpoints (points)."""

    name = "fake"

    def __init__(self) -> None:
        self.faults = FaultQueue()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self.clock: Callable[[], float] = time.monotonic  # scenario time; tests may share their fake clock
        self.app = Starlette(routes=self.routes())
        self.server = ServerThread(self._asgi)
        self.base_url = self.server.url

    # -- to override -------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def point_for(self, method: str, path: str) -> str | None:
        """The endpoint's name used by `inject` (None: not a provider endpoint)."""
        return None

    def error_body(self, point: str | None, status: int, code: int | None, message: str) -> tuple[str, bytes]:
        """(content type, body) of an injected HTTP error in the provider's own envelope."""
        body = {"error": message or f"HTTP {status}", "code": code}
        return "application/json", json.dumps(body).encode()

    def reset_state(self) -> None:
        """Forget tasks and scenario (the fixture calls this between tests)."""

    # -- test controls -----------------------------------------------------------------------
    def inject(self, point: str, fault: Fault, times: int | None = 1) -> None:
        """Apply `fault` to the next `times` requests at `point` ('*' = any point; None = forever)."""
        self.faults.push(point, fault, times)

    def reset(self) -> None:
        self.faults.clear()
        with self._lock:
            self.requests.clear()
        self.clock = time.monotonic
        self.reset_state()

    def requests_at(self, point: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.point == point]

    def start(self) -> FakeProvider:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the outermost ASGI layer: record, then fault or pass through ----------------------
    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        chunks: list[bytes] = []
        # A request without a body is not read: waiting for its (empty) body costs a delayed ACK.
        while "content-length" in headers or "transfer-encoding" in headers:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        point = self.point_for(method, path)
        record = Recorded(method, path, query, headers, body, point, self.clock())
        with self._lock:
            self.requests.append(record)
        scope["kmc.record"] = record
        fault = self.faults.pop(point)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # the body was read already: what is left is http.disconnect

        if fault is None:
            await self.app(scope, replay, send)
            return
        record.fault = fault.kind
        await apply_fault(fault, self, point, scope, replay, send)
