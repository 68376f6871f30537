"""The official Kling API, legacy design ("v1", AccessKey/SecretKey JWT), played on loopback.

Speaks the protocol of ../shared/kling-motion-control-facts.md: HS256 JWT checked with PyJWT
(codes 1000-1004), `POST /v1/videos/motion-control` with every field and enum checked, the
reference video really fetched from its URL and its duration read with PyAV, statuses
submitted -> processing -> succeed/failed on a timeline of the scenario clock, the single and
list queries, and the result served from a CDN-like path that needs no auth.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
import httpx
import jwt
from PIL import Image
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kmc_ui.limits import ELEMENT_DELETE_PATH, ELEMENT_PATH, KLING_ERRORS, KLING_MODEL_NAMES, LIMITS, PRICES
from tests.fakes.callbacks import CallbackSender
from tests.fakes.faults import Fault
from tests.fakes.kling_elements import FakeElements
from tests.fakes.server import FakeProvider, Recorded

CREATE_PATH = "/v1/videos/motion-control"
CDN_PREFIX = "/fake-cdn/"
FIELDS = {
    "model_name",
    "prompt",
    "image_url",
    "video_url",
    "character_orientation",
    "mode",
    "keep_original_sound",
    "watermark_info",
    "callback_url",
    "external_task_id",
}
REQUIRED = ("image_url", "video_url", "character_orientation", "mode")
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
AUTH_MESSAGES = {
    1000: "Authentication failed: signature is invalid",
    1001: "Authorization is empty",
    1002: "Authorization is invalid",
    1003: "Authorization is not yet valid",
    1004: "Authorization has expired",
}
# Texts of failed tasks, worded like the provider's task_status_msg.
MSG_VIDEO_FETCH = "Failed to download the video from video_url"
MSG_VIDEO_DECODE = "The video file could not be decoded"
MSG_IMAGE_PIXEL = "Image pixel is invalid"


def charged_units(body: dict[str, Any], seconds: float) -> str:
    """What the provider deducts for a finished task, as a string of units (facts A4): billed seconds
    rounded to the nearest whole second, times the model and tier's units per second."""
    names = {name: model for model, name in KLING_MODEL_NAMES.items()}
    model = names.get(str(body.get("model_name") or ""), str(body.get("model") or "v2.6"))
    tier = str(body.get("mode") or ("pro" if body.get("resolution") == "1080p" else "std"))
    price = PRICES["kling"][model][tier]
    assert price is not None and price.units_per_second is not None
    return f"{math.floor(seconds + 0.5) * price.units_per_second:g}"


def kling_error(code: int, message: str = "") -> Fault:
    """An HTTP error as the provider returns it: the code's own status from limits.KLING_ERRORS."""
    spec = KLING_ERRORS[code]
    return Fault.http(spec.http, code=code, message=message or spec.meaning)


@dataclass(frozen=True)
class Scenario:
    outcome: str = "succeed"  # succeed | failed
    failure_msg: str = "Failure to pass the risk control system"
    submitted_s: float = 0.0  # scenario-clock seconds in `submitted`
    processing_s: float = 0.0  # then in `processing`
    result_duration: float | None = None  # None: the reference video's duration
    max_concurrent: int | None = None  # running tasks per account before 1303


@dataclass
class Task:
    task_id: str
    account: str
    external_task_id: str
    created: float  # scenario clock
    created_at: int  # epoch ms
    body: dict[str, Any]
    scenario: Scenario
    video_id: str
    fetch: dict[str, Any] = field(default_factory=dict)  # what fetching video_url found
    image: dict[str, Any] = field(default_factory=dict)  # what the image turned out to be
    failure: str = ""  # set when the inputs doom the task
    normalised: dict[str, Any] = field(default_factory=dict)  # API 2.0: the body read as the legacy fields

    def status(self, now: float) -> tuple[str, int]:
        """(task_status, updated_at ms) at scenario time `now`."""
        elapsed = now - self.created
        sc = self.scenario
        if elapsed < sc.submitted_s:
            return "submitted", self.created_at
        if elapsed < sc.submitted_s + sc.processing_s:
            return "processing", self.created_at + int(sc.submitted_s * 1000)
        final = "failed" if self.failure or sc.outcome == "failed" else "succeed"
        return final, self.created_at + int((sc.submitted_s + sc.processing_s) * 1000)


class FakeKling(FakeElements, FakeProvider):
    name = "kling"

    def __init__(self, result_file: Path | None = None) -> None:
        self.result_file = result_file
        self.access_key = "ak-" + secrets.token_hex(8)
        self.secret_key = "sk-" + secrets.token_hex(16)
        self.accounts: dict[str, str] = {self.access_key: self.secret_key}
        # An API key for the same account works on the legacy design too (facts A3).
        self.legacy_api_key = "kling-key-" + secrets.token_hex(16)
        self.scenario = Scenario()
        # Per-request scenario: called with each accepted create body; a Scenario it returns
        # replaces `scenario` for that task (e.g. fail the task whose image or prompt matches).
        self.scenario_for: Callable[[dict[str, Any]], Scenario | None] | None = None
        self.tasks: dict[str, Task] = {}
        self.external_lookup = True
        self._ids = itertools.count(1)
        self._task_lock = threading.Lock()
        self.webhooks = CallbackSender()  # signed status callbacks (facts A2; tests/fakes/callbacks.py)
        super().__init__()

    # -- FakeProvider hooks ------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route(CREATE_PATH, self._create, methods=["POST"]),
            Route(CREATE_PATH, self._list, methods=["GET"]),
            Route(CREATE_PATH + "/{task_id}", self._query, methods=["GET"]),
            Route(CDN_PREFIX + "{task_id}/{name}", self._result, methods=["GET", "HEAD"]),
            Route("/account/costs", self._account_costs, methods=["GET"]),
            *self.element_routes(),
        ]

    def point_for(self, method: str, path: str) -> str | None:
        if path.startswith(ELEMENT_PATH):
            return "element_create" if method == "POST" else "element_poll"
        if path == ELEMENT_DELETE_PATH:
            return "element_delete"
        if path == CREATE_PATH:
            return "create" if method == "POST" else "list"
        if path.startswith(CREATE_PATH + "/"):
            return "poll"
        if path.startswith(CDN_PREFIX):
            return "result"
        if path == "/account/costs":
            return "account"
        return None

    def error_body(self, point: str | None, status: int, code: int | None, message: str) -> tuple[str, bytes]:
        if point == "result":  # the CDN, not the API
            xml = f"<Error><Code>{'AccessDenied' if status == 403 else 'NoSuchKey'}</Code></Error>"
            return "application/xml", xml.encode()
        return "application/json", json.dumps(self._envelope(code, message, None)).encode()

    def reset_state(self) -> None:
        with self._task_lock:
            self.tasks.clear()
            self.elements.clear()
        self.element_failure = ""
        self.external_lookup = True  # False: the query takes task ids only (motion control's is inferred)
        self.scenario = Scenario()
        self.scenario_for = None
        self.accounts = {self.access_key: self.secret_key}
        self.webhooks.reset()

    # -- helpers for tests ------------------------------------------------------------------
    @property
    def create_count(self) -> int:
        return len(self.requests_at("create"))

    def task_by_external(self, external_id: str) -> Task | None:
        return next((t for t in self.tasks.values() if t.external_task_id == external_id), None)

    # -- protocol ---------------------------------------------------------------------------
    @staticmethod
    def _envelope(code: int | None, message: str, data: Any) -> dict[str, Any]:
        return {"code": 0 if code is None else code, "message": message, "request_id": str(uuid.uuid4()), "data": data}

    def _ok(self, data: Any) -> JSONResponse:
        return JSONResponse(self._envelope(0, "SUCCEED", data))

    def _error(self, code: int, message: str = "") -> JSONResponse:
        spec = KLING_ERRORS[code]
        return JSONResponse(self._envelope(code, message or spec.meaning, None), status_code=spec.http)

    def _auth(self, request: Request) -> tuple[str, JSONResponse | None]:
        """(account, None) or ("", the 401 answer). Records what it saw on the request record."""
        record: Recorded = request.scope["kmc.record"]
        value = request.headers.get("authorization", "")
        if not value.strip():
            return "", self._error(1001, AUTH_MESSAGES[1001])
        scheme, _, token = value.partition(" ")
        if scheme != "Bearer" or not token:
            return "", self._error(1002, AUTH_MESSAGES[1002])
        if token == self.legacy_api_key:
            record.extra["account"] = self.access_key
            record.extra["api_key"] = True
            return self.access_key, None
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return "", self._error(1002, AUTH_MESSAGES[1002])
        record.extra["jwt_header"] = header
        record.extra["jwt_claims"] = claims
        if header.get("alg") != "HS256" or header.get("typ") != "JWT":
            return "", self._error(1002, AUTH_MESSAGES[1002])
        issuer = claims.get("iss")
        secret = self.accounts.get(issuer) if isinstance(issuer, str) else None
        if secret is None:
            return "", self._error(1002, AUTH_MESSAGES[1002])
        try:
            jwt.decode(token, secret, algorithms=["HS256"], issuer=issuer, options={"require": ["iss", "exp", "nbf"]})
        except jwt.ExpiredSignatureError:
            return "", self._error(1004, AUTH_MESSAGES[1004])
        except jwt.ImmatureSignatureError:
            return "", self._error(1003, AUTH_MESSAGES[1003])
        except jwt.InvalidSignatureError:
            return "", self._error(1000, AUTH_MESSAGES[1000])
        except jwt.PyJWTError:
            return "", self._error(1002, AUTH_MESSAGES[1002])
        record.extra["account"] = issuer
        return issuer, None

    def _validate(self, body: Any) -> tuple[int, str] | None:
        """(code, message) for a bad create body, None when it is acceptable."""
        if not isinstance(body, dict):
            return 1201, "Request body must be a JSON object"
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            return 1201, f"Unknown parameter: {', '.join(unknown)}"
        for name in REQUIRED:
            if not isinstance(body.get(name), str) or not body[name]:
                return 1201, f"{name} is required"
        model = body.get("model_name", KLING_MODEL_NAMES["v2.6"])
        if model not in KLING_MODEL_NAMES.values():
            return 1203, f"model_name '{model}' does not exist"
        image = body["image_url"]
        if image.startswith("data:"):
            return 1201, "image_url must be a URL or raw Base64 without the 'data:' prefix"
        if not URL_RE.match(image):
            try:
                base64.b64decode(image, validate=True)
            except (binascii.Error, ValueError):
                return 1201, "image_url is neither a URL nor valid Base64"
        if not URL_RE.match(body["video_url"]):
            return 1201, "video_url must be an http(s) URL"
        enums = {
            "character_orientation": ("image", "video"),
            "mode": ("std", "pro"),
            "keep_original_sound": ("yes", "no"),
        }
        for name, allowed in enums.items():
            if name in body and body[name] not in allowed:
                return 1201, f"{name} must be one of {', '.join(allowed)}"
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str) or len(prompt) > LIMITS.prompt_max_chars:
            return 1201, f"prompt must be a string of at most {LIMITS.prompt_max_chars} characters"
        watermark = body.get("watermark_info", {"enabled": False})
        if not isinstance(watermark, dict) or not isinstance(watermark.get("enabled"), bool):
            return 1201, 'watermark_info must be {"enabled": bool}'
        for name in ("callback_url", "external_task_id"):
            if name in body and not isinstance(body[name], str):
                return 1201, f"{name} must be a string"
        return None

    async def _fetch_video(self, url: str, orientation: str) -> tuple[dict[str, Any], str]:
        """GET the reference video as the provider would, read its duration: (facts, failure text)."""
        facts: dict[str, Any] = {"url": url}
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            facts["error"] = type(exc).__name__
            return facts, MSG_VIDEO_FETCH
        facts["status"] = response.status_code
        facts["bytes"] = len(response.content)
        if response.status_code != 200:
            return facts, f"{MSG_VIDEO_FETCH} (HTTP {response.status_code})"
        try:
            with av.open(io.BytesIO(response.content)) as container:
                stream = container.streams.video[0]
                if container.duration:
                    seconds = container.duration / av.time_base
                else:
                    seconds = float(stream.duration * stream.time_base)
                facts["codec"] = stream.codec_context.name
        except (av.FFmpegError, IndexError, TypeError):
            return facts, MSG_VIDEO_DECODE
        facts["duration"] = seconds
        longest = LIMITS.video_max_seconds[orientation]
        if not LIMITS.video_min_seconds <= seconds <= longest:
            low = f"{LIMITS.video_min_seconds:g}"
            return facts, f"Video duration is invalid: {seconds:.1f}s, it must be between {low}s and {longest:g}s"
        return facts, ""

    async def _check_image(self, value: str) -> tuple[dict[str, Any], str]:
        facts: dict[str, Any] = {}
        if URL_RE.match(value):
            facts["url"] = value
            try:
                async with httpx.AsyncClient(timeout=5.0) as client:
                    response = await client.get(value)
                data = response.content if response.status_code == 200 else b""
            except httpx.HTTPError:
                data = b""
        else:
            facts["base64"] = True
            data = base64.b64decode(value)
        facts["bytes"] = len(data)
        try:
            with Image.open(io.BytesIO(data)) as im:
                facts.update(format=im.format, width=im.width, height=im.height)
        except Exception:  # any undecodable image is the provider's "invalid"
            return facts, MSG_IMAGE_PIXEL
        if min(facts["width"], facts["height"]) < LIMITS.image_min_side:
            return facts, MSG_IMAGE_PIXEL
        return facts, ""

    def _data(self, task: Task, base_url: str) -> dict[str, Any]:
        status, updated = task.status(self.clock())
        data: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": status,
            "task_status_msg": "",
            "task_info": {"external_task_id": task.external_task_id},
            "created_at": task.created_at,
            "updated_at": updated,
        }
        if status == "failed":
            data["task_status_msg"] = task.failure or task.scenario.failure_msg
        if status == "succeed":
            seconds = task.scenario.result_duration or task.fetch.get("duration", 5.0)
            url = f"{base_url}{CDN_PREFIX}{task.task_id}/{task.video_id}.mp4"
            data["final_unit_deduction"] = charged_units(task.body, seconds)
            video = {"id": task.video_id, "url": url, "duration": f"{round(seconds, 3):g}"}
            if (task.body.get("watermark_info") or {}).get("enabled"):
                video["watermark_url"] = url.replace(".mp4", "-wm.mp4")
            data["task_result"] = {"videos": [video]}
        return data

    async def _create(self, request: Request) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._error(1201, "Request body is not valid JSON")
        problem = self._validate(body)
        if problem:
            return self._error(*problem)
        external = body.get("external_task_id", "")
        with self._task_lock:  # the task exists (and is listed) from here on, like the provider's
            mine = [t for t in self.tasks.values() if t.account == account]
            if external and any(t.external_task_id == external for t in mine):
                return self._error(1201, f"External_task_id {external} already exists")  # facts A5
            limit = self.scenario.max_concurrent
            busy = [t for t in mine if t.status(self.clock())[0] in ("submitted", "processing")]
            if limit is not None and len(busy) >= limit:
                return self._error(1303)
            n = next(self._ids)
            task = Task(
                task_id=f"{860000000000000000 + n * 7919}",
                account=account,
                external_task_id=external,
                created=self.clock(),
                created_at=int(time.time() * 1000),
                body=body,
                scenario=replace((self.scenario_for and self.scenario_for(body)) or self.scenario),
                video_id=f"{n:04d}-{secrets.token_hex(6)}",
            )
            self.tasks[task.task_id] = task
        task.image, image_failure = await self._check_image(body["image_url"])
        task.fetch, video_failure = await self._fetch_video(body["video_url"], body["character_orientation"])
        task.failure = image_failure or video_failure
        self.webhooks.follow(body.get("callback_url", ""), lambda: self._data(task, self.base_url), "task_status")
        return self._ok(self._data(task, self.base_url))

    async def _query(self, request: Request) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        # By the provider's task id or by our external_task_id (facts A5: most legacy products take
        # either); an unknown one is 400 1201, as measured live.
        key = request.path_params["task_id"]
        task = self.tasks.get(key) or (self.task_by_external(key) if self.external_lookup else None)
        if task is None or task.account != account:
            return self._error(1201, f"Task not found by id/external id: {key}")
        return self._ok(self._data(task, self.base_url))

    async def _account_costs(self, request: Request) -> Response:
        """GET /account/costs (facts A4): both times in ms required; the packs with units left."""
        account, denied = self._auth(request)
        if denied:
            return denied
        try:
            start, end = int(request.query_params["start_time"]), int(request.query_params["end_time"])
        except (KeyError, ValueError):
            return self._error(1201, "start_time and end_time are required")
        if start > end:
            return self._error(1201, "start_time must not be after end_time")
        mine = [t for t in self.tasks.values() if t.account == account]
        used = sum(float(charged_units(t.normalised or t.body, 5.0)) for t in mine)
        pack = {
            "resource_pack_name": "Video pack 1000", "resource_pack_id": "pack-1", "resource_pack_type": "video",
            "total_quantity": 1000.0, "remaining_quantity": 1000.0 - used, "status": "online",
            "purchase_time": start, "effective_time": start, "invalid_time": end + 86400000,
        }  # fmt: skip
        return self._ok({"code": 0, "msg": "success", "resource_pack_subscribe_infos": [pack]})

    async def _list(self, request: Request) -> Response:
        account, denied = self._auth(request)
        if denied:
            return denied
        try:
            page = int(request.query_params.get("pageNum", "1"))
            size = int(request.query_params.get("pageSize", "30"))
        except ValueError:
            return self._error(1201, "pageNum and pageSize must be integers")
        if not (page >= 1 and 1 <= size <= 500):
            return self._error(1201, "pageNum must be >= 1 and pageSize between 1 and 500")
        mine = sorted((t for t in self.tasks.values() if t.account == account), key=lambda t: -int(t.task_id))
        chunk = mine[(page - 1) * size : page * size]
        return self._ok([self._data(t, self.base_url) for t in chunk])

    async def _result(self, request: Request) -> Response:
        task = self.tasks.get(request.path_params["task_id"])
        name = request.path_params["name"]
        if (
            task is None
            or self.result_file is None
            or task.status(self.clock())[0] != "succeed"
            or name not in (f"{task.video_id}.mp4", f"{task.video_id}-wm.mp4")
        ):
            return PlainTextResponse("<Error><Code>NoSuchKey</Code></Error>", status_code=404)
        return FileResponse(self.result_file, media_type="video/mp4")
