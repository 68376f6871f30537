"""Gradio's queue spoken by hand, the way a stranger calls any event (hidden or not) of a running app.

`POST /gradio_api/queue/join` with the event's `fn_index` and raw input values, then the
server-sent events of `/gradio_api/queue/data` until that event completes. No gradio_client:
nothing on the client side checks or shapes the values.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TIMINGS = {"eta", "rank_eta", "duration", "average_duration", "avg_time", "cache_duration"}


@dataclass
class Answer:
    fn_index: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # the join was refused, or the stream broke off
    seconds: float = 0.0

    @property
    def completed(self) -> dict[str, Any] | None:
        return next((m for m in self.messages if m.get("msg") == "process_completed"), None)

    @property
    def success(self) -> bool:
        done = self.completed
        return bool(done and done.get("success"))

    @property
    def outputs(self) -> list[Any]:
        """The data of the last message that carried output (a generator's last step, or the result)."""
        for m in reversed(self.messages):
            data = (m.get("output") or {}).get("data")
            if data is not None:
                return list(data)
        return []

    def text(self) -> str:
        return json.dumps(self.messages, default=str) + self.error

    def said(self) -> str:
        """Everything the server said, less the queue's own timings (an eta of 0.6635... is not a leaked $0.66)."""
        kept = [{k: v for k, v in m.items() if k not in TIMINGS} for m in self.messages]
        for m in kept:
            if isinstance(m.get("output"), dict):
                m["output"] = {k: v for k, v in m["output"].items() if k not in TIMINGS}
        return json.dumps(kept, default=str) + self.error


@dataclass
class Config:
    raw: dict[str, Any]

    @property
    def components(self) -> dict[int, dict[str, Any]]:
        return {c["id"]: c for c in self.raw["components"]}

    @property
    def dependencies(self) -> list[dict[str, Any]]:
        return [d for d in self.raw["dependencies"] if d.get("backend_fn")]

    def kind(self, component_id: int) -> str:
        return str(self.components[component_id]["type"])


def config(client: httpx.Client) -> Config:
    response = client.get("/config")
    response.raise_for_status()
    return Config(response.json())


def call(
    client: httpx.Client, dep: dict[str, Any], data: list[Any], timeout: float = 90.0, session: str = ""
) -> Answer:
    """Run one event through the queue with these raw values; the cookies are the client's. `session`:
    the page's session hash (events of one page share it, and with it their gr.State values)."""
    session = session or secrets.token_hex(6)
    answer = Answer(int(dep["id"]))
    start = time.monotonic()
    trigger = dep["targets"][0][0] if dep.get("targets") else None
    body = {"data": data, "fn_index": dep["id"], "session_hash": session, "event_data": None, "trigger_id": trigger}
    joined = client.post("/gradio_api/queue/join", json=body)
    if joined.status_code != 200:
        answer.error = f"join HTTP {joined.status_code}: {joined.text[:500]}"
        answer.seconds = time.monotonic() - start
        return answer
    try:
        with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=timeout) as sse:
            for line in sse.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                answer.messages.append(message)
                if message.get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
                if time.monotonic() - start > timeout:
                    answer.error = "timed out"
                    break
    except httpx.HTTPError as exc:
        answer.error = f"stream broke off: {type(exc).__name__}"
    answer.seconds = time.monotonic() - start
    return answer


def upload(client: httpx.Client, path: Path) -> dict[str, Any]:
    """Upload a file as a page does; the FileData value an event takes for it."""
    with path.open("rb") as fh:
        response = client.post("/gradio_api/upload", files={"files": (path.name, fh)})
    response.raise_for_status()
    return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def generate_values(client: httpx.Client, image: Path, video: Path, backend: str) -> tuple[dict[str, Any], list[Any]]:
    """The /generate event and what a page sends when Generate is pressed: its defaults, these files
    (uploaded) and this backend."""
    cfg = config(client)
    (gen,) = [d for d in cfg.dependencies if d.get("api_name") == "generate"]
    inputs = [cfg.components[c] for c in gen["inputs"]]
    values: list[Any] = [c.get("props", {}).get("value") for c in inputs]
    values[0], values[1] = upload(client, image), upload(client, video)
    values[next(i for i, c in enumerate(inputs) if c["props"].get("elem_id") == "kmc-backend")] = backend
    return gen, values


def generate_then_leave(
    client: httpx.Client, image: Path, video: Path, backend: str, leave: Callable[[], bool]
) -> dict[str, Any]:
    """Press Generate (see generate_values), follow its events until `leave()` is true, then drop the
    connection as a closed tab does. The event."""
    gen, values = generate_values(client, image, video, backend)
    session = secrets.token_hex(6)
    body = {"data": values, "fn_index": gen["id"], "session_hash": session, "event_data": None, "trigger_id": None}
    assert client.post("/gradio_api/queue/join", json=body).status_code == 200
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as sse:
        for _line in sse.iter_lines():
            if leave():
                break
    return gen
