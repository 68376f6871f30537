"""Official Kling API, new design ("API 2.0"): one API key sent as `Authorization: Bearer <key>`.

    POST /motion-control/kling-2.6 (v3: /motion-control/kling-3.0)   create, body:
         contents [prompt?, image (URL or raw base64), video (URL)], settings, options
    GET  /tasks?task_ids=<id>                                       status (data is an array)
    GET  /tasks?external_task_ids=<run id>                          find a task by our own id

Statuses submitted / processing / succeeded / failed; the result is `outputs[]` of type video.
The answer envelope and the error codes are the legacy design's (kmc_ui.limits.KLING_ERRORS), so
everything but the request and answer shapes is inherited from KlingLegacyBackend.
"""

from __future__ import annotations

import logging
from typing import Any

from kmc_ui.backends.base import AmbiguousSubmit, JobRequest, TaskState, TransientError
from kmc_ui.backends.common import Redactor, bad_base, set_keys, url_only_ready
from kmc_ui.backends.kling import KlingLegacyBackend, set_charge, set_failure, set_video
from kmc_ui.limits import ELEMENTS, TIER_RESOLUTION
from kmc_ui.messages import Msg
from kmc_ui.providers import PROVIDERS
from kmc_ui.settings import key_problem

log = logging.getLogger(__name__)

TASKS_PATH = "/tasks"


class Kling2Backend(KlingLegacyBackend):
    spec = PROVIDERS["kling2"]  # its row: keys, prices, statuses, model ids (kmc_ui/providers.py)
    name = spec.name
    label = spec.label
    needs_video_url = True
    supports_elements = True  # Kling 3.0: a contents[] item of type element (facts A1)

    def __init__(self, settings: Any, media_host: Any, http_client: Any = None, **kwargs: Any) -> None:
        super().__init__(settings, media_host, http_client, **kwargs)
        self._access_key = self._secret_key = ""  # the legacy keys are not used here
        self._api_key: str = settings.kling_api_key
        self._redact = Redactor([self._api_key])

    def __repr__(self) -> str:
        return f"Kling2Backend(api_base={self.api_base!r}, key_set={bool(self._api_key)})"

    def ready(self) -> tuple[bool, str]:
        if not self._api_key:
            return False, set_keys("setup.keys_kling2")
        if problem := key_problem("KLING_API_KEY", self._api_key):
            return False, problem
        if not self.api_base.startswith(("http://", "https://")):
            return False, bad_base("KLING_API_BASE", "https://api-singapore.klingai.com")
        return url_only_ready("Kling", self.media_host)

    def _authorization(self) -> str:
        return f"Bearer {self._api_key}"

    def submit(self, request: JobRequest) -> str:
        self._require_keys()
        contents: list[dict[str, str]] = []
        if request.prompt:
            contents.append({"type": "prompt", "text": request.prompt})
        contents.append({"type": "image", "url": request.image_url or self._image_base64(request.image_path)})
        video_url = request.video_url or self._video_url(request.video_path, request.run_id)
        contents.append({"type": "video", "url": video_url})
        if request.element_id and request.model in ELEMENTS.models:  # at most one; `id` names it in the task
            contents.append({"type": "element", "element_id": request.element_id, "id": "character"})
        body: dict[str, Any] = {
            "contents": contents,
            "settings": {
                "character_orientation": request.orientation,
                "audio": "original" if request.keep_sound else "off",
                "resolution": TIER_RESOLUTION[request.tier],
            },
        }
        options: dict[str, Any] = {}
        if request.run_id:
            options["external_task_id"] = request.run_id
        if request.watermark:
            options["watermark_info"] = {"enabled": True}
        if request.callback_url:
            options["callback_url"] = request.callback_url
        if options:
            body["options"] = options
        data = self._create(self.spec.model_id(request.model), body, request.run_id)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not task_id:
            raise AmbiguousSubmit(Msg("kling.no_task_id"))
        log.info("kling2 task created: %s", task_id)
        return str(task_id)

    def poll(self, task_id: str) -> TaskState:
        self._require_keys()
        data = self._call("GET", TASKS_PATH, params={"task_ids": task_id})
        item = self._pick(data, task_id)
        if item is None:
            raise TransientError(Msg("kling.task_not_listed", {"task": task_id}))
        return self._state(item, task_id)

    def find_task(self, external_id: str) -> str | None:
        self._require_keys()
        data = self._call("GET", TASKS_PATH, params={"external_task_ids": external_id})
        if not isinstance(data, list):
            raise TransientError(Msg("kling.unreadable_list"))
        for item in data:
            if isinstance(item, dict) and item.get("external_id", external_id) == external_id and item.get("id"):
                return str(item["id"])
        return None

    @staticmethod
    def _pick(data: Any, task_id: str) -> dict[str, Any] | None:
        if not isinstance(data, list):
            raise TransientError(Msg("kling.unreadable_status"))
        return next((i for i in data if isinstance(i, dict) and str(i.get("id")) == task_id), None)

    def _state(self, data: Any, task_id: str) -> TaskState:
        if not isinstance(data, dict) or "status" not in data:
            raise TransientError(Msg("kling.unreadable_status"))
        raw = str(data.get("status") or "")
        status = self.spec.statuses.get(raw, "running")
        state = TaskState(
            task_id=str(data.get("id") or task_id),
            status=status,  # type: ignore[arg-type]
            raw_status=raw,
            extra={"external_task_id": str(data.get("external_id") or "")},
        )
        if status == "failed":
            set_failure(state, self._redact(str(data.get("message") or "")))
        elif status == "succeeded":
            outputs = data.get("outputs") if isinstance(data.get("outputs"), list) else []
            set_video(state, next((o for o in outputs if isinstance(o, dict) and o.get("type") == "video"), {}))
        set_charge(state, data)
        return state
