"""fal.ai's queue and storage, played on loopback.

Queue protocol (../shared/kling-motion-control-facts.md, fal's queue docs):
    POST /<model id>                                   `Authorization: Key <key>`; input checked like
                                                       the model's schema: unknown field -> 422 detail list
    -> {request_id, response_url, status_url, cancel_url, queue_position}, the links naming the app
       (`fal-ai/kling-video`) WITHOUT the endpoint's subpath
    GET  /<owner>/<app>/requests/<id>/status           202 IN_QUEUE (queue_position) / IN_PROGRESS,
                                                       200 COMPLETED (with `error`/`error_type` on failure)
    GET  /<owner>/<app>/requests/<id>                  the result: {"video": {...}}, or 422/500 {"detail"}
    PUT  /<owner>/<app>/requests/<id>/cancel           202 CANCELLATION_REQUESTED / 400 ALREADY_COMPLETED
    GET  /<model id with subpath>/requests/<id>/...    405: a client that builds the path itself is wrong

Storage (the REST flow fal's clients use):
    POST /storage/upload/initiate?storage_type=fal-cdn-v3  {file_name, content_type} -> {upload_url, file_url}
    PUT  upload_url  (no key; Content-Type must match)      then file_url serves the bytes

The reference video is really fetched from the URL the model receives (fal storage or any other)
and read with PyAV; the image is fetched or decoded and measured. Timeline on the scenario clock:
IN_QUEUE for submitted_s (queue position counting down from queue_position), IN_PROGRESS for
processing_s, then COMPLETED.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
import httpx
from PIL import Image
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kmc_ui.limits import FAL_MODEL_IDS, LIMITS
from tests.fakes.server import FakeProvider, Recorded

MODEL_IDS = set(FAL_MODEL_IDS.values())
APP_ID = "fal-ai/kling-video"  # owner/app of every motion-control endpoint
INPUT_FIELDS = {"image_url", "video_url", "character_orientation", "prompt", "keep_original_sound"}
REQUIRED = ("image_url", "video_url", "character_orientation")
UPLOAD_PATH = "/storage/upload/initiate"
STORAGE_PUT = "/fake-storage/"
FILES = "/fake-files/"
CDN = "/fake-cdn/"
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
DATA_RE = re.compile(r"^data:([\w/+.-]+);base64,(.*)$", re.S)
REQUESTS_RE = re.compile(r"^/(?P<app>[^/]+/[^/]+)/requests/(?P<rid>[^/]+)(?P<tail>/status|/cancel)?$")
SUBPATH_RE = re.compile(r"^/(?P<model>.+)/requests/[^/]+(/status|/cancel)?$")


def detail(loc: list[str], msg: str, kind: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", *loc], "msg": msg, "type": kind}]


@dataclass(frozen=True)
class Scenario:
    outcome: str = "succeed"  # succeed | failed
    failure_msg: str = "Failure to pass the risk control system"
    failure_type: str = "content_policy_violation"
    submitted_s: float = 0.0  # IN_QUEUE
    processing_s: float = 0.0  # IN_PROGRESS
    queue_position: int = 0  # position when submitted; counts down to 0 over submitted_s
    result_duration: float | None = None


@dataclass
class FalRequest:
    request_id: str
    model_id: str
    account: str
    created: float
    body: dict[str, Any]
    scenario: Scenario
    fetch: dict[str, Any] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)
    failure: tuple[list[str], str, str] | None = None  # (loc, msg, type) when the inputs doom it
    canceled_at: float | None = None

    def status(self, now: float) -> tuple[str, int | None]:
        """(IN_QUEUE | IN_PROGRESS | COMPLETED, queue position) at scenario time `now`."""
        if self.canceled_at is not None:
            return "COMPLETED", None
        elapsed = now - self.created
        sc = self.scenario
        if elapsed < sc.submitted_s:
            left = 1 - elapsed / sc.submitted_s
            return "IN_QUEUE", math.floor(sc.queue_position * left)
        if elapsed < sc.submitted_s + sc.processing_s:
            return "IN_PROGRESS", None
        return "COMPLETED", None

    def outcome(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of the result once COMPLETED."""
        if self.canceled_at is not None:
            return 400, {"detail": "Request was cancelled by the user"}
        if self.failure:
            loc, msg, kind = self.failure
            return 422, {"detail": detail(loc, msg, kind)}
        if self.scenario.outcome == "failed":
            return 422, {"detail": detail([], self.scenario.failure_msg, self.scenario.failure_type)}
        return 200, {}


class FakeFal(FakeProvider):
    name = "fal"

    def __init__(self, result_file: Path | None = None) -> None:
        self.result_file = result_file
        self.key = f"{uuid.uuid4()}:{secrets.token_hex(16)}"
        self.keys: dict[str, str] = {self.key: "account-1"}
        self.scenario = Scenario()
        self.requests_by_id: dict[str, FalRequest] = {}
        self.uploads: dict[str, dict[str, Any]] = {}  # token -> {file_id, name, content_type, data}
        self._task_lock = threading.Lock()
        super().__init__()

    # -- FakeProvider hooks ------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route(UPLOAD_PATH, self._initiate, methods=["POST"]),
            Route(STORAGE_PUT + "{token}", self._put, methods=["PUT"]),
            Route(FILES + "{file_id}/{name}", self._file, methods=["GET", "HEAD"]),
            Route(CDN + "{rid}/{name}", self._cdn, methods=["GET", "HEAD"]),
            Route("/{path:path}", self._queue, methods=["GET", "POST", "PUT"]),
        ]

    def point_for(self, method: str, path: str) -> str | None:
        if path == UPLOAD_PATH:
            return "upload"
        if path.startswith(STORAGE_PUT):
            return "upload_put"
        if path.startswith(FILES):
            return "file"
        if path.startswith(CDN):
            return "result"
        if path.lstrip("/") in MODEL_IDS and method == "POST":
            return "create"
        match = REQUESTS_RE.match(path)
        if match and match["app"] == APP_ID:
            return {"/status": "poll", "/cancel": "cancel", None: "response"}[match["tail"]]
        return "wrong"

    def error_body(self, point: str | None, status: int, code: int | None, message: str) -> tuple[str, bytes]:
        if point == "result":
            return "application/xml", b"<Error><Code>AccessDenied</Code></Error>"
        return "application/json", json.dumps({"detail": message or f"HTTP {status}"}).encode()

    def reset_state(self) -> None:
        with self._task_lock:
            self.requests_by_id.clear()
            self.uploads.clear()
        self.scenario = Scenario()
        self.keys = {self.key: "account-1"}

    # -- helpers for tests ------------------------------------------------------------------
    @property
    def create_count(self) -> int:
        return len(self.requests_at("create"))

    @property
    def tasks(self) -> dict[str, FalRequest]:
        return self.requests_by_id

    # -- protocol ---------------------------------------------------------------------------
    def _auth(self, request: Request) -> tuple[str, Response | None]:
        record: Recorded = request.scope["kmc.record"]
        value = request.headers.get("authorization", "")
        scheme, _, key = value.partition(" ")
        if not value:
            return "", JSONResponse({"detail": "Missing authorization header"}, status_code=401)
        if scheme != "Key" or key not in self.keys:
            return "", JSONResponse({"detail": "Invalid authentication credentials"}, status_code=401)
        record.extra["account"] = self.keys[key]
        return self.keys[key], None

    async def _initiate(self, request: Request) -> Response:
        _account, denied = self._auth(request)
        if denied:
            return denied
        if request.query_params.get("storage_type") not in (None, "fal-cdn-v3", "gcs"):
            return JSONResponse({"detail": "Unknown storage_type"}, status_code=422)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"detail": "Body is not JSON"}, status_code=422)
        if not isinstance(body, dict) or not body.get("file_name") or not body.get("content_type"):
            return JSONResponse({"detail": detail(["file_name"], "field required", "missing")}, status_code=422)
        token, file_id = secrets.token_urlsafe(24), uuid.uuid4().hex
        name = re.sub(r"[^\w.-]", "_", str(body["file_name"]))
        self.uploads[token] = {"file_id": file_id, "name": name, "content_type": body["content_type"], "data": None}
        return JSONResponse(
            {
                "upload_url": f"{self.base_url}{STORAGE_PUT}{token}",
                "file_url": f"{self.base_url}{FILES}{file_id}/{name}",
            }
        )

    async def _put(self, request: Request) -> Response:
        upload = self.uploads.get(request.path_params["token"])
        if upload is None:
            return PlainTextResponse("<Error><Code>NoSuchUpload</Code></Error>", status_code=404)
        if request.headers.get("content-type") != upload["content_type"]:
            return PlainTextResponse("<Error><Code>SignatureDoesNotMatch</Code></Error>", status_code=403)
        request.scope["kmc.record"].extra["authorization"] = "authorization" in request.headers
        upload["data"] = await request.body()
        return Response(status_code=200)

    async def _file(self, request: Request) -> Response:
        upload = next((u for u in self.uploads.values() if u["file_id"] == request.path_params["file_id"]), None)
        if upload is None or upload["data"] is None or upload["name"] != request.path_params["name"]:
            return PlainTextResponse("Not found", status_code=404)
        return Response(upload["data"], media_type=upload["content_type"])

    async def _cdn(self, request: Request) -> Response:
        task = self.requests_by_id.get(request.path_params["rid"])
        if (
            task is None
            or self.result_file is None
            or task.status(self.clock())[0] != "COMPLETED"
            or task.outcome()[0] != 200
        ):
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(self.result_file, media_type="video/mp4")

    async def _queue(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        if path.lstrip("/") in MODEL_IDS:
            if method != "POST":
                return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)
            return await self._create(request, path.lstrip("/"))
        match = REQUESTS_RE.match(path)
        if match and match["app"] == APP_ID:
            tail = match["tail"]
            wanted = {"/status": "GET", "/cancel": "PUT", None: "GET"}[tail]
            if method != wanted:
                return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)
            account, denied = self._auth(request)
            if denied:
                return denied
            task = self.requests_by_id.get(match["rid"])
            if task is None or task.account != account:
                return JSONResponse({"detail": "Request not found", "status": "NOT_FOUND"}, status_code=404)
            if tail == "/status":
                return self._status(task)
            if tail == "/cancel":
                return self._cancel(task)
            return self._response(task)
        sub = SUBPATH_RE.match(path)
        if sub and any(sub["model"].startswith(m) for m in MODEL_IDS):
            # the model id's own path is only a POST route: a status path built from it is refused
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    def _links(self, task: FalRequest) -> dict[str, str]:
        base = f"{self.base_url}/{APP_ID}/requests/{task.request_id}"
        return {"response_url": base, "status_url": base + "/status", "cancel_url": base + "/cancel"}

    def _validate(self, body: Any) -> list[dict[str, Any]] | None:
        if not isinstance(body, dict):
            return detail([], "Input should be a valid dictionary", "dict_type")
        unknown = sorted(set(body) - INPUT_FIELDS)
        if unknown:
            return detail([unknown[0]], "Extra inputs are not permitted", "extra_forbidden")
        for name in REQUIRED:
            if not isinstance(body.get(name), str) or not body[name]:
                return detail([name], "Field required", "missing")
        for name in ("image_url", "video_url"):
            if not (URL_RE.match(body[name]) or DATA_RE.match(body[name])):
                return detail([name], "Input should be a valid URL or data URI", "url_parsing")
        if body["character_orientation"] not in ("image", "video"):
            return detail(["character_orientation"], "Input should be 'image' or 'video'", "literal_error")
        if "keep_original_sound" in body and not isinstance(body["keep_original_sound"], bool):
            return detail(["keep_original_sound"], "Input should be a valid boolean", "bool_type")
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str) or len(prompt) > LIMITS.prompt_max_chars:
            msg = f"String should have at most {LIMITS.prompt_max_chars} characters"
            return detail(["prompt"], msg, "string_too_long")
        return None

    async def _create(self, request: Request, model_id: str) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"detail": "Body is not valid JSON"}, status_code=400)
        problem = self._validate(body)
        if problem:
            return JSONResponse({"detail": problem}, status_code=422)
        task = FalRequest(str(uuid.uuid4()), model_id, account, self.clock(), body, replace(self.scenario))
        with self._task_lock:
            self.requests_by_id[task.request_id] = task
        task.image, image_failure = await self._fetch_image(body["image_url"])
        task.fetch, video_failure = await self._fetch_video(body["video_url"], body["character_orientation"])
        task.failure = image_failure or video_failure
        queue_position = task.status(self.clock())[1] or 0
        return JSONResponse({"request_id": task.request_id, **self._links(task), "queue_position": queue_position})

    def _status(self, task: FalRequest) -> Response:
        status, position = task.status(self.clock())
        body: dict[str, Any] = {"status": status, "request_id": task.request_id, **self._links(task)}
        if status == "IN_QUEUE":
            body["queue_position"] = position
            return JSONResponse(body, status_code=202)
        body["logs"] = None
        if status == "IN_PROGRESS":
            return JSONResponse(body, status_code=202)
        code, result = task.outcome()
        if code != 200:
            text = result["detail"] if isinstance(result["detail"], str) else result["detail"][0]["msg"]
            body.update(error=text, error_type=result["detail"][0]["type"] if code == 422 else "request_error")
        body["metrics"] = {"inference_time": task.scenario.processing_s}
        return JSONResponse(body, status_code=200)

    def _response(self, task: FalRequest) -> Response:
        if task.status(self.clock())[0] != "COMPLETED":
            return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
        code, result = task.outcome()
        if code != 200:
            return JSONResponse(result, status_code=code)
        size = self.result_file.stat().st_size if self.result_file else 0
        return JSONResponse(
            {
                "video": {
                    "url": f"{self.base_url}{CDN}{task.request_id}/output.mp4",
                    "content_type": "video/mp4",
                    "file_name": "output.mp4",
                    "file_size": size,
                }
            }
        )

    def _cancel(self, task: FalRequest) -> Response:
        if task.status(self.clock())[0] == "COMPLETED":
            return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
        task.canceled_at = self.clock()  # the request stops: it never completes with a video
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def _get(self, url: str) -> tuple[int, bytes, str]:
        match = DATA_RE.match(url)
        if match:
            return 200, base64.b64decode(match[2]), ""
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            return 0, b"", type(exc).__name__
        return response.status_code, response.content, ""

    async def _fetch_image(self, url: str) -> tuple[dict[str, Any], tuple[list[str], str, str] | None]:
        status, data, error = await self._get(url)
        facts: dict[str, Any] = {"url": url[:64], "status": status, "bytes": len(data)}
        if status != 200:
            return facts, (
                ["image_url"],
                f"Failed to download the file (HTTP {status or error})",
                "file_download_error",
            )
        try:
            with Image.open(io.BytesIO(data)) as im:
                facts.update(format=im.format, width=im.width, height=im.height)
        except Exception:
            return facts, (["image_url"], "The image could not be decoded", "image_load_error")
        if min(facts["width"], facts["height"]) < LIMITS.image_min_side:
            return facts, (["image_url"], "Image pixel is invalid", "image_too_small")
        return facts, None

    async def _fetch_video(
        self, url: str, orientation: str
    ) -> tuple[dict[str, Any], tuple[list[str], str, str] | None]:
        status, data, error = await self._get(url)
        facts: dict[str, Any] = {"url": url, "status": status, "bytes": len(data)}
        if error:
            facts["error"] = error
        if status != 200:
            return facts, (
                ["video_url"],
                f"Failed to download the file (HTTP {status or error})",
                "file_download_error",
            )
        try:
            with av.open(io.BytesIO(data)) as container:
                stream = container.streams.video[0]
                seconds = (
                    container.duration / av.time_base
                    if container.duration
                    else float(stream.duration * stream.time_base)
                )
        except (av.FFmpegError, IndexError, TypeError):
            return facts, (["video_url"], "The video could not be decoded", "video_load_error")
        facts["duration"] = seconds
        longest = LIMITS.video_max_seconds[orientation]
        if not LIMITS.video_min_seconds <= seconds <= longest:
            msg = f"Video duration must be between {LIMITS.video_min_seconds:g}s and {longest:g}s, got {seconds:.1f}s"
            return facts, (["video_url"], msg, "video_duration")
        return facts, None
