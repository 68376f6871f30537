"""Fault injection for provider fakes: one queue per endpoint ("point"), applied on the wire.

    fake.inject("poll", Fault.http(429, code=1302))        # the next status check is rate limited
    fake.inject("create", Fault.reset(after=True))          # task created, then the response is lost
    fake.inject("result", Fault.truncate(0.5))             # half the video, then the connection closes
    fake.inject("*", Fault.delay(0.2), times=None)          # every request slow, until reset()
    fake.inject("create", Fault.json(422, {"detail": [...]}))  # a provider's own error shape, verbatim

Every kind is provider-neutral: an HTTP error uses the provider's own error envelope
(`FakeProvider.error_body`), everything else acts on the raw connection. A new fault is one
constructor plus one branch in `apply_fault`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from tests.fakes.server import FakeProvider, Recorded

MALFORMED_JSON = b'{"code": 0, "message": "SUCCEED", "data": {"task_id": '


@dataclass(frozen=True)
class Fault:
    kind: str  # http / json / reset / timeout / delay / malformed / truncate / observe
    status: int = 0
    code: int | None = None
    message: str = ""
    seconds: float = 0.0
    after: bool = False  # reset / timeout: the provider handles the request first, then the answer is lost
    fraction: float = 0.5
    body: bytes = b""
    fn: Callable[[Recorded], None] | None = None

    @classmethod
    def http(cls, status: int, code: int | None = None, message: str = "") -> Fault:
        """Answer with this HTTP status and (where the provider has one) its error envelope and code."""
        return cls("http", status=status, code=code, message=message)

    @classmethod
    def reset(cls, after: bool = False) -> Fault:
        """TCP reset instead of an answer; with after=True the request was processed first."""
        return cls("reset", after=after)

    @classmethod
    def timeout(cls, seconds: float, after: bool = True) -> Fault:
        """Hold the request `seconds` (past the client's read timeout), then drop the connection."""
        return cls("timeout", seconds=seconds, after=after)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally, `seconds` late."""
        return cls("delay", seconds=seconds)

    @classmethod
    def json(cls, status: int, payload: Any) -> Fault:
        """Answer with this HTTP status and this exact JSON body (a provider-specific error shape)."""
        return cls("json", status=status, body=json.dumps(payload).encode())

    @classmethod
    def malformed(cls, status: int = 200, body: bytes = MALFORMED_JSON) -> Fault:
        """A body that claims to be JSON and is not."""
        return cls("malformed", status=status, body=body)

    @classmethod
    def truncate(cls, fraction: float = 0.5) -> Fault:
        """Headers with the full Content-Length, then only `fraction` of the body, then close."""
        return cls("truncate", fraction=fraction)

    @classmethod
    def observe(cls, fn: Callable[[Recorded], None]) -> Fault:
        """Call fn(record) on the server before handling the request normally (e.g. to read state)."""
        return cls("observe", fn=fn)


class FaultQueue:
    """Faults waiting per point; '*' matches any point. Thread-safe (test thread vs server thread)."""

    def __init__(self) -> None:
        self._items: dict[str, list[list[Any]]] = {}
        self._lock = threading.Lock()

    def push(self, point: str, fault: Fault, times: int | None = 1) -> None:
        with self._lock:
            self._items.setdefault(point, []).append([fault, times])

    def pop(self, point: str | None) -> Fault | None:
        with self._lock:
            for key in (point, "*"):
                queue = self._items.get(key) if key else None
                if queue:
                    fault, times = queue[0]
                    if times is not None:
                        if times <= 1:
                            queue.pop(0)
                        else:
                            queue[0][1] = times - 1
                    return fault
        return None

    def pending(self, point: str | None = None) -> int:
        with self._lock:
            if point is not None:
                return len(self._items.get(point, []))
            return sum(len(q) for q in self._items.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _transport(send: Send) -> asyncio.Transport:
    """The connection under uvicorn's h11 cycle (the fake's outermost layer gets its bound `send`)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("fault injection needs uvicorn's h11 connection (ServerThread)")
    return transport


def _abort_with_reset(send: Send) -> None:
    transport = _transport(send)
    if transport.is_closing():  # the client left already
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0: close() sends RST instead of FIN
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _wait_disconnect(receive: Receive, seconds: float = 2.0) -> None:
    """Return once the connection is gone (so uvicorn does not complain), or after `seconds`."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass


async def _run_captured(provider: FakeProvider, scope: Scope, receive: Receive) -> list[Message]:
    """Let the provider handle the request; keep its answer instead of sending it."""
    messages: list[Message] = []

    async def capture(message: Message) -> None:
        messages.append(message)

    await provider.app(scope, receive, capture)
    return messages


async def _send_json(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def apply_fault(
    fault: Fault, provider: FakeProvider, point: str | None, scope: Scope, receive: Receive, send: Send
) -> None:
    kind = fault.kind
    if kind == "http":
        content_type, body = provider.error_body(point, fault.status, fault.code, fault.message)
        await _send_json(send, fault.status, content_type, body)
    elif kind in ("malformed", "json"):
        await _send_json(send, fault.status, "application/json", fault.body)
    elif kind == "observe":
        assert fault.fn is not None
        fault.fn(scope["kmc.record"])
        await provider.app(scope, receive, send)
    elif kind == "delay":
        await asyncio.sleep(fault.seconds)
        await provider.app(scope, receive, send)
    elif kind == "reset":
        if fault.after:
            await _run_captured(provider, scope, receive)
        _abort_with_reset(send)
        await _wait_disconnect(receive)
    elif kind == "timeout":
        if fault.after:
            await _run_captured(provider, scope, receive)
        await _wait_disconnect(receive, fault.seconds)  # the client gives up first when its timeout is shorter
        _abort_with_reset(send)
        await _wait_disconnect(receive)
    elif kind == "truncate":
        messages = await _run_captured(provider, scope, receive)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body[: int(len(body) * fault.fraction)], "more_body": True})
        await asyncio.sleep(0.05)  # let the partial body leave before closing
        _transport(send).close()
        await _wait_disconnect(receive)
    else:  # pragma: no cover - a typo in a test
        raise ValueError(f"unknown fault kind {kind!r}")
