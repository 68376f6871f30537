"""Replicate's predictions API, played on loopback.

    POST /v1/models/<owner>/<name>/predictions   `Authorization: Bearer <token>`, body {"input": {...}};
                                                  only the kwaivgi motion-control models exist; input checked
                                                  (unknown field, enum, type -> 422 with invalid_fields)
    -> 201 prediction {id, model, version, input, status: starting, urls: {get, cancel, stream, web}, ...}
    GET  /v1/predictions/<id>                     starting -> processing -> succeeded / failed (`error`)
    POST /v1/predictions/<id>/cancel              a running prediction really ends `canceled`

The video input is really fetched from its URL (a data URL is decoded) and read with PyAV; the
image is fetched or decoded and measured. Errors use Replicate's problem body {title, detail,
status}. The output is a link on a delivery path that needs no token.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
import httpx
from PIL import Image
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kmc_ui.limits import LIMITS, REPLICATE_MODELS
from tests.fakes.server import FakeProvider, Recorded

MODELS = set(REPLICATE_MODELS.values())
INPUT_FIELDS = {"image", "video", "prompt", "mode", "character_orientation", "keep_original_sound"}
TOP_FIELDS = {"input", "webhook", "webhook_events_filter", "stream"}
ENUMS = {"mode": ("std", "pro"), "character_orientation": ("image", "video")}
DELIVERY = "/fake-delivery/"
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
DATA_RE = re.compile(r"^data:([\w/+.-]+);base64,(.*)$", re.S)
TITLES = {
    400: "Bad Request",
    401: "Unauthenticated",
    402: "Insufficient credit",
    403: "Forbidden",
    404: "Not found",
    422: "Input validation failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
SENSITIVE = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"title": TITLES.get(status, "Error"), "detail": detail, "status": status, **extra}, status)


@dataclass(frozen=True)
class Scenario:
    outcome: str = "succeed"  # succeed | failed
    failure_msg: str = SENSITIVE
    submitted_s: float = 0.0  # starting
    processing_s: float = 0.0  # processing
    result_duration: float | None = None


@dataclass
class Prediction:
    id: str
    model: str
    account: str
    created: float
    created_at: str
    input: dict[str, Any]
    scenario: Scenario
    fetch: dict[str, Any] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)
    failure: str = ""
    canceled_at: float | None = None

    def status(self, now: float) -> str:
        elapsed = now - self.created
        sc = self.scenario
        end = sc.submitted_s + sc.processing_s
        if self.canceled_at is not None and self.canceled_at - self.created < end:
            return "canceled"
        if elapsed < sc.submitted_s:
            return "starting"
        if elapsed < end:
            return "processing"
        return "failed" if self.failure or sc.outcome == "failed" else "succeeded"


class FakeReplicate(FakeProvider):
    name = "replicate"

    def __init__(self, result_file: Path | None = None) -> None:
        self.result_file = result_file
        self.token = "r8_" + secrets.token_hex(18)
        self.tokens: dict[str, str] = {self.token: "account-1"}
        self.scenario = Scenario()
        self.predictions: dict[str, Prediction] = {}
        self._task_lock = threading.Lock()
        super().__init__()

    # -- FakeProvider hooks ------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/models/{owner}/{model}/predictions", self._create, methods=["POST"]),
            Route("/v1/predictions/{pid}", self._get, methods=["GET"]),
            Route("/v1/predictions/{pid}/cancel", self._cancel, methods=["POST"]),
            Route(DELIVERY + "{pid}/{name}", self._delivery, methods=["GET", "HEAD"]),
        ]

    def point_for(self, method: str, path: str) -> str | None:
        if path.startswith("/v1/models/"):
            return "create"
        if path.startswith("/v1/predictions/"):
            return "cancel" if path.endswith("/cancel") else "poll"
        if path.startswith(DELIVERY):
            return "result"
        return None

    def error_body(self, point: str | None, status: int, code: int | None, message: str) -> tuple[str, bytes]:
        if point == "result":
            return "text/plain", b"Forbidden"
        body = {"title": TITLES.get(status, "Error"), "detail": message or f"HTTP {status}", "status": status}
        return "application/problem+json", json.dumps(body).encode()

    def reset_state(self) -> None:
        with self._task_lock:
            self.predictions.clear()
        self.scenario = Scenario()
        self.tokens = {self.token: "account-1"}

    # -- helpers for tests ------------------------------------------------------------------
    @property
    def create_count(self) -> int:
        return len(self.requests_at("create"))

    @property
    def tasks(self) -> dict[str, Prediction]:
        return self.predictions

    # -- protocol ---------------------------------------------------------------------------
    def _auth(self, request: Request) -> tuple[str, Response | None]:
        record: Recorded = request.scope["kmc.record"]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme not in ("Bearer", "Token") or token not in self.tokens:
            return "", problem(401, "You did not pass a valid authentication token")
        record.extra["account"] = self.tokens[token]
        return self.tokens[token], None

    def _validate(self, body: Any) -> tuple[str, list[dict[str, str]]] | None:
        def bad(name: str, kind: str, text: str) -> tuple[str, list[dict[str, str]]]:
            return f"- input.{name}: {text}", [{"type": kind, "field": f"input.{name}", "description": text}]

        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return "- input is required", [{"type": "required", "field": "input", "description": "input is required"}]
        unknown = sorted(set(body) - TOP_FIELDS)
        if unknown:
            return f"- {unknown[0]}: Additional property {unknown[0]} is not allowed", []
        given = body["input"]
        unknown = sorted(set(given) - INPUT_FIELDS)
        if unknown:
            return bad(
                unknown[0], "additional_property_not_allowed", f"Additional property {unknown[0]} is not allowed"
            )
        for name in ("image", "video"):
            value = given.get(name)
            if not isinstance(value, str) or not value:
                return bad(name, "required", f"{name} is required")
            if not (URL_RE.match(value) or DATA_RE.match(value)):
                return bad(name, "format", "Does not match format 'uri'")
        for name, allowed in ENUMS.items():
            if name in given and given[name] not in allowed:
                choices = ", ".join(f'"{a}"' for a in allowed)
                return bad(name, "enum", f"{name} must be one of the following: {choices}")
        if "keep_original_sound" in given and not isinstance(given["keep_original_sound"], bool):
            return bad("keep_original_sound", "invalid_type", "Invalid type. Expected: boolean, given: string")
        prompt = given.get("prompt", "")
        if not isinstance(prompt, str) or len(prompt) > LIMITS.prompt_max_chars:
            return bad("prompt", "string_lte", f"String length must be less than or equal to {LIMITS.prompt_max_chars}")
        return None

    def _body(self, p: Prediction) -> dict[str, Any]:
        status = p.status(self.clock())
        base = f"{self.base_url}/v1/predictions/{p.id}"
        body: dict[str, Any] = {
            "id": p.id,
            "model": p.model,
            "version": "hidden",
            "input": p.input,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": status,
            "created_at": p.created_at,
            "urls": {
                "get": base,
                "cancel": base + "/cancel",
                "stream": f"{self.base_url}/fake-stream/{p.id}",
                "web": f"https://replicate.com/p/{p.id}",
            },
        }
        if status == "failed":
            body["error"] = p.failure or p.scenario.failure_msg
        if status == "succeeded":
            body["output"] = f"{self.base_url}{DELIVERY}{p.id}/output.mp4"
            body["metrics"] = {"predict_time": p.scenario.processing_s}
        return body

    async def _create(self, request: Request) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        model = f"{request.path_params['owner']}/{request.path_params['model']}"
        if model not in MODELS:
            return problem(404, "The requested resource could not be found.")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return problem(400, "The request body is not valid JSON.")
        bad = self._validate(body)
        if bad:
            text, fields = bad
            return problem(422, text, invalid_fields=fields)
        given = body["input"]
        p = Prediction(
            id=secrets.token_hex(13),
            model=model,
            account=account,
            created=self.clock(),
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            input=given,
            scenario=replace(self.scenario),
        )
        with self._task_lock:
            self.predictions[p.id] = p
        p.image, image_failure = await self._check_image(given["image"])
        p.fetch, video_failure = await self._check_video(given["video"], given.get("character_orientation", "video"))
        p.failure = image_failure or video_failure
        return JSONResponse(self._body(p), status_code=201)

    def _owned(self, request: Request, account: str) -> Prediction | None:
        p = self.predictions.get(request.path_params["pid"])
        return p if p is not None and p.account == account else None

    async def _get(self, request: Request) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        p = self._owned(request, account)
        if p is None:
            return problem(404, "The requested resource could not be found.")
        return JSONResponse(self._body(p))

    async def _cancel(self, request: Request) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        p = self._owned(request, account)
        if p is None:
            return problem(404, "The requested resource could not be found.")
        if p.status(self.clock()) in ("starting", "processing"):
            p.canceled_at = self.clock()  # it stops here: it will never succeed
        return JSONResponse(self._body(p))

    async def _delivery(self, request: Request) -> Response:
        p = self.predictions.get(request.path_params["pid"])
        if p is None or self.result_file is None or p.status(self.clock()) != "succeeded":
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(self.result_file, media_type="video/mp4")

    async def _read(self, value: str) -> tuple[int, bytes, str]:
        match = DATA_RE.match(value)
        if match:
            return 200, base64.b64decode(match[2]), ""
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(value)
        except httpx.HTTPError as exc:
            return 0, b"", type(exc).__name__
        return response.status_code, response.content, ""

    async def _check_image(self, value: str) -> tuple[dict[str, Any], str]:
        status, data, error = await self._read(value)
        facts: dict[str, Any] = {"data_url": value.startswith("data:"), "status": status, "bytes": len(data)}
        if status != 200:
            return facts, f"Failed to download image: HTTP {status or error}"
        try:
            with Image.open(io.BytesIO(data)) as im:
                facts.update(format=im.format, width=im.width, height=im.height)
        except Exception:
            return facts, "Failed to open image: cannot identify image file"
        if min(facts["width"], facts["height"]) < LIMITS.image_min_side:
            return facts, "Image pixel is invalid"
        return facts, ""

    async def _check_video(self, value: str, orientation: str) -> tuple[dict[str, Any], str]:
        status, data, error = await self._read(value)
        facts: dict[str, Any] = {"url": value[:200], "status": status, "bytes": len(data)}
        if error:
            facts["error"] = error
        if status != 200:
            return facts, f"Failed to download video: HTTP {status or error}"
        try:
            with av.open(io.BytesIO(data)) as container:
                stream = container.streams.video[0]
                seconds = (
                    container.duration / av.time_base
                    if container.duration
                    else float(stream.duration * stream.time_base)
                )
        except (av.FFmpegError, IndexError, TypeError):
            return facts, "Failed to open video: invalid data found when processing input"
        facts["duration"] = seconds
        longest = LIMITS.video_max_seconds[orientation]
        if not LIMITS.video_min_seconds <= seconds <= longest:
            low = f"{LIMITS.video_min_seconds:g}"
            return facts, f"Video duration is invalid: {seconds:.1f}s, it must be between {low}s and {longest:g}s"
        return facts, ""
