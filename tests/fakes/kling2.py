"""The official Kling API, new design ("API 2.0", one API key as Bearer), played on loopback.

Protocol from ../shared/kling-motion-control-facts.md: `POST /motion-control/kling-2.6` (or
`kling-3.0`) with `contents` / `settings` / `options`, every field and enum checked (unknown ones
are 1201), the image given as URL or raw base64 (no data: prefix), the video only as URL and really
fetched and read with PyAV; `GET /tasks?task_ids=` or `?external_task_ids=` answering an array;
statuses submitted -> processing -> succeeded / failed with `outputs[]` of type video. The
envelope and the error codes are the legacy design's, so the task timeline, the video fetch, the
image check and the CDN come from FakeKling.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kmc_ui.limits import KLING2_PATHS, LIMITS
from tests.fakes.kling import CDN_PREFIX, URL_RE, FakeKling, Scenario, Task, charged_units
from tests.fakes.server import Recorded

TASKS_PATH = "/tasks"
MODELS = {path.rsplit("/", 1)[1]: model for model, path in KLING2_PATHS.items()}  # "kling-2.6" -> "v2.6"
V2_STATUS = {"submitted": "submitted", "processing": "processing", "succeed": "succeeded", "failed": "failed"}
TOP_FIELDS = {"contents", "settings", "options"}
SETTINGS_ENUMS = {
    "character_orientation": ("image", "video"),
    "audio": ("original", "off"),
    "resolution": ("720p", "1080p"),
}
OPTION_FIELDS = {"callback_url", "external_task_id", "watermark_info"}
CONTENT_TYPES = ("prompt", "image", "video")
CONTENT_TYPES_3 = (*CONTENT_TYPES, "element")  # Kling 3.0 only (facts A1): at most one

__all__ = ["FakeKling2", "Scenario"]


class FakeKling2(FakeKling):
    name = "kling2"

    def __init__(self, result_file: Path | None = None) -> None:
        self.api_key = "kling2-" + secrets.token_hex(16)
        self.api_keys: dict[str, str] = {self.api_key: "account-1"}
        super().__init__(result_file)

    # -- FakeProvider hooks ------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/motion-control/{model}", self._create2, methods=["POST"]),
            Route(TASKS_PATH, self._tasks_query, methods=["GET"]),
            Route(CDN_PREFIX + "{task_id}/{name}", self._result, methods=["GET", "HEAD"]),
            *self.element_routes(),
        ]

    def point_for(self, method: str, path: str) -> str | None:
        if path.startswith("/v1/general/"):
            return super().point_for(method, path)  # the Element API (tests/fakes/kling_elements.py)
        if path.startswith("/motion-control/"):
            return "create"
        if path == TASKS_PATH:
            return "poll"  # status checks and look-ups by external id share the endpoint
        if path.startswith(CDN_PREFIX):
            return "result"
        return None

    def reset_state(self) -> None:
        super().reset_state()
        self.api_keys = {self.api_key: "account-1"}

    # -- protocol ---------------------------------------------------------------------------
    def _auth2(self, request: Request) -> tuple[str, Response | None]:
        record: Recorded = request.scope["kmc.record"]
        value = request.headers.get("authorization", "")
        if not value.strip():
            return "", self._error(1001, "Authorization is empty")
        scheme, _, key = value.partition(" ")
        if scheme != "Bearer" or not key:
            return "", self._error(1002, "Authorization is invalid")
        account = self.api_keys.get(key)
        if account is None:
            return "", self._error(1000, "Authentication failed: API key is invalid")
        record.extra["account"] = account
        return account, None

    def _validate2(self, model: str, body: Any) -> tuple[tuple[int, str] | None, dict[str, Any]]:
        """((code, message) or None, the normalised request) for a create body."""
        if model not in MODELS:
            return (1203, f"model '{model}' does not exist"), {}
        if not isinstance(body, dict):
            return (1201, "Request body must be a JSON object"), {}
        unknown = sorted(set(body) - TOP_FIELDS)
        if unknown:
            return (1201, f"Unknown parameter: {', '.join(unknown)}"), {}
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return (1201, "contents is required"), {}
        seen: dict[str, dict[str, Any]] = {}
        types = CONTENT_TYPES_3 if MODELS[model] == "v3" else CONTENT_TYPES
        for item in contents:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in types:
                return (1201, f"contents[].type must be one of {', '.join(types)}"), {}
            if kind in seen:
                return (1201, f"contents has more than one {kind}"), {}
            allowed = {"type", "text"} if kind == "prompt" else {"type", "url"}
            if kind == "element":
                allowed = {"type", "element_id", "id"}
                if not all(isinstance(item.get(k), str) and item[k] for k in ("element_id", "id")):
                    return (1201, "contents[element] needs element_id and id"), {}
            extra = sorted(set(item) - allowed)
            if extra:
                return (1201, f"Unknown parameter: contents[{kind}].{', '.join(extra)}"), {}
            seen[kind] = item
        for kind in ("image", "video"):
            if kind not in seen or not isinstance(seen[kind].get("url"), str) or not seen[kind]["url"]:
                return (1201, f"contents needs an {kind} with a url"), {}
        image, video = seen["image"]["url"], seen["video"]["url"]
        if image.startswith("data:"):
            return (1201, "image url must be a URL or raw Base64 without the 'data:' prefix"), {}
        if not URL_RE.match(image):
            try:
                base64.b64decode(image, validate=True)
            except (binascii.Error, ValueError):
                return (1201, "image url is neither a URL nor valid Base64"), {}
        if not URL_RE.match(video):
            return (1201, "video url must be an http(s) URL"), {}
        prompt = seen.get("prompt", {}).get("text", "")
        if not isinstance(prompt, str) or len(prompt) > LIMITS.prompt_max_chars:
            return (1201, f"prompt text must be a string of at most {LIMITS.prompt_max_chars} characters"), {}
        settings = body.get("settings")
        if not isinstance(settings, dict):
            return (1201, "settings is required"), {}
        unknown = sorted(set(settings) - set(SETTINGS_ENUMS))
        if unknown:
            return (1201, f"Unknown parameter: settings.{', '.join(unknown)}"), {}
        if "character_orientation" not in settings:
            return (1201, "settings.character_orientation is required"), {}
        for name, allowed in SETTINGS_ENUMS.items():
            if name in settings and settings[name] not in allowed:
                return (1201, f"settings.{name} must be one of {', '.join(allowed)}"), {}
        options = body.get("options", {})
        if not isinstance(options, dict):
            return (1201, "options must be an object"), {}
        unknown = sorted(set(options) - OPTION_FIELDS)
        if unknown:
            return (1201, f"Unknown parameter: options.{', '.join(unknown)}"), {}
        for name in ("callback_url", "external_task_id"):
            if name in options and not isinstance(options[name], str):
                return (1201, f"options.{name} must be a string"), {}
        watermark = options.get("watermark_info", {"enabled": False})
        if not isinstance(watermark, dict) or not isinstance(watermark.get("enabled"), bool):
            return (1201, 'options.watermark_info must be {"enabled": bool}'), {}
        element = seen.get("element", {}).get("element_id", "")
        if element and settings["character_orientation"] != "video":
            return (1201, "with an element the output follows the video: character_orientation must be video"), {}
        normalised = {
            "element_id": element,
            "model": MODELS[model],
            "prompt": prompt,
            "image_url": image,
            "video_url": video,
            "character_orientation": settings["character_orientation"],
            "audio": settings.get("audio", "original"),
            "resolution": settings.get("resolution", "720p"),
            "external_task_id": options.get("external_task_id", ""),
        }
        return None, normalised

    def _data2(self, task: Task) -> dict[str, Any]:
        status, updated = task.status(self.clock())
        data: dict[str, Any] = {
            "id": task.task_id,
            "status": V2_STATUS[status],
            "message": "",
            "create_time": task.created_at,
            "update_time": updated,
            "external_id": task.external_task_id,
            "outputs": [],
        }
        if status == "failed":
            data["message"] = task.failure or task.scenario.failure_msg
        if status == "succeed":
            seconds = task.scenario.result_duration or task.fetch.get("duration", 5.0)
            url = f"{self.base_url}{CDN_PREFIX}{task.task_id}/{task.video_id}.mp4"
            video = {"type": "video", "id": task.video_id, "url": url, "duration": f"{round(seconds, 3):g}"}
            if ((task.body.get("options") or {}).get("watermark_info") or {}).get("enabled"):
                video["watermark_url"] = url.replace(".mp4", "-wm.mp4")
            data["outputs"] = [video]
            units = charged_units(task.normalised, seconds)
            data["billing"] = [{"charge_type": "unit", "amount": units, "package_type": "video"}]
        return data

    async def _create2(self, request: Request) -> Response:
        account, denied = self._auth2(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._error(1201, "Request body is not valid JSON")
        problem, norm = self._validate2(request.path_params["model"], body)
        if problem:
            return self._error(*problem)
        if norm["element_id"] and norm["element_id"] not in self.element_ids(account):
            return self._error(1201, f"element {norm['element_id']} does not exist")
        request.scope["kmc.record"].extra["normalised"] = norm
        external = norm["external_task_id"]
        with self._task_lock:
            mine = [t for t in self.tasks.values() if t.account == account]
            if external and any(t.external_task_id == external for t in mine):
                return self._error(1201, f"External_task_id {external} already exists")  # facts A5
            limit = self.scenario.max_concurrent
            busy = [t for t in mine if t.status(self.clock())[0] in ("submitted", "processing")]
            if limit is not None and len(busy) >= limit:
                return self._error(1303)
            n = next(self._ids)
            task = Task(
                task_id=f"{870000000000000000 + n * 7919}",
                account=account,
                external_task_id=external,
                created=self.clock(),
                created_at=int(time.time() * 1000),
                body=body,
                scenario=replace((getattr(self, "scenario_for", None) and self.scenario_for(body)) or self.scenario),
                video_id=f"{n:04d}-{secrets.token_hex(6)}",
                normalised=norm,
            )
            self.tasks[task.task_id] = task
        task.image, image_failure = await self._check_image(norm["image_url"])
        task.fetch, video_failure = await self._fetch_video(norm["video_url"], norm["character_orientation"])
        task.failure = image_failure or video_failure
        self.webhooks.follow(body.get("options", {}).get("callback_url", ""), lambda: self._data2(task), "status")
        data = self._data2(task)
        return self._ok({k: data[k] for k in ("id", "status", "create_time", "update_time", "external_id")})

    async def _tasks_query(self, request: Request) -> Response:
        account, denied = self._auth2(request)
        if denied:
            return denied
        ids = [i for i in request.query_params.get("task_ids", "").split(",") if i]
        externals = [e for e in request.query_params.get("external_task_ids", "").split(",") if e]
        if not ids and not externals:
            return self._error(1201, "task_ids or external_task_ids is required")
        found = [
            t
            for t in sorted(self.tasks.values(), key=lambda t: -int(t.task_id))
            if t.account == account and (t.task_id in ids or (t.external_task_id and t.external_task_id in externals))
        ]
        return self._ok([self._data2(t) for t in found])
