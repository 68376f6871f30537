"""fal.ai through its queue protocol, `Authorization: Key <FAL_KEY>`.

    POST {queue}/<model id>              submit -> {request_id, status_url, response_url, cancel_url}
    GET  status_url                      IN_QUEUE (queue_position) / IN_PROGRESS / COMPLETED
    GET  response_url                    the result body: {"video": {"url", ...}} or an error detail
    PUT  cancel_url                      cancel (Stop)

The tier is the endpoint path (limits.FAL_MODEL_IDS), `keep_original_sound` is a boolean and no
other field is sent (fal answers 422 to unknown fields). The returned URLs are used exactly as
given: they name the app without the endpoint's subpath, and a status path built from the full
model id answers 405. They are kept in History with the task id (KeepsTaskData), so another
process can resume the run. COMPLETED is not success by itself: the result body decides.

Local files go to fal's own storage first (the REST flow its clients use):
    POST {rest}/storage/upload/initiate?storage_type=fal-cdn-v3 {"file_name", "content_type"}
         -> {"upload_url", "file_url"}
    PUT  upload_url  <bytes>  (Content-Type; a pre-signed link: no key is sent to it)
and `file_url` is what the model receives. See docs/providers.md for what is documented and
what is assumed.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any

import httpx

from kmc_ui.backends.base import (
    AmbiguousSubmit,
    BackendError,
    InvalidRequest,
    JobRequest,
    NotConfigured,
    TaskState,
    TransientError,
    Transport,
)
from kmc_ui.backends.common import (
    DEFAULT_TIMEOUT,
    DOWNLOAD_TIMEOUT,
    UPLOAD_TIMEOUT,
    Redactor,
    bad_base,
    json_object,
    json_or_none,
    send,
    set_keys,
    stream_download,
)
from kmc_ui.backends.errors import Refusals, failure_advice, http_error
from kmc_ui.messages import Msg, Said
from kmc_ui.providers import PROVIDERS
from kmc_ui.settings import key_problem

log = logging.getLogger(__name__)

DEFAULT_QUEUE_BASE = "https://queue.fal.run"
DEFAULT_REST_BASE = "https://rest.alpha.fal.ai"  # fal-client's REST_URL
UPLOAD_PATH = "/storage/upload/initiate"
STORAGE_TYPE = "fal-cdn-v3"
TASK_KEYS = ("status_url", "response_url", "cancel_url")
KEY_FIX = "Check FAL_KEY: create a key at fal.ai/dashboard/keys and set FAL_KEY in .env (or paste it in the key box)."
REFUSALS = Refusals(
    provider="fal",
    credential="key",
    key_fix=Msg("fal.key.fix"),  # KEY_FIX
    credit_fix=Msg("fal.credit.fix"),
    access_fix=Msg("fal.access.fix"),
    not_found="this endpoint or request",
    not_found_fix=Msg("fal.not_found.fix"),
)


def rest_base_for(queue_base: str) -> str:
    """fal's REST host: the public one for the public queue; the same host for a test or proxy queue."""
    queue_base = queue_base.rstrip("/")
    return DEFAULT_REST_BASE if queue_base == DEFAULT_QUEUE_BASE else queue_base


def detail_text(detail: Any) -> tuple[str, str]:
    """(readable text, error type) from fal's `detail`: a string, or a list of {loc, msg, type}."""
    if isinstance(detail, str):
        return detail, ""
    if isinstance(detail, dict):
        detail = [detail]
    if isinstance(detail, list):
        parts, kinds = [], []
        for item in detail:
            if not isinstance(item, dict):
                continue
            loc = [str(p) for p in item.get("loc") or [] if p != "body"]
            msg = str(item.get("msg") or item.get("message") or "").strip()
            parts.append(f"{'.'.join(loc)}: {msg}" if loc and msg else msg or ".".join(loc))
            kinds.append(str(item.get("type") or ""))
        return "; ".join(p for p in parts if p), next((k for k in kinds if k), "")
    return "", ""


class FalBackend:
    spec = PROVIDERS["fal"]  # its row: keys, prices, statuses, model ids (kmc_ui/providers.py)
    name = spec.name
    label = spec.label
    needs_video_url = False  # local files go to fal's own storage
    poll_policy = None  # the caller's policy, tuned for hosted providers

    def __init__(
        self,
        settings: Any,
        media_host: Any = None,
        http_client: httpx.Client | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        download_timeout: httpx.Timeout = DOWNLOAD_TIMEOUT,
        upload_timeout: httpx.Timeout = UPLOAD_TIMEOUT,
        rest_base: str = "",
    ) -> None:
        self._key: str = settings.fal_key
        self._redact = Redactor([self._key])
        self.queue_base: str = (settings.fal_queue_base or DEFAULT_QUEUE_BASE).rstrip("/")
        self.rest_base = (rest_base or getattr(settings, "fal_rest_base", "") or rest_base_for(self.queue_base)).rstrip(
            "/"
        )
        self.media_host = media_host  # unused: fal has its own storage
        self._own_client = http_client is None
        self.client = http_client or httpx.Client(timeout=timeout, follow_redirects=True)
        self.download_timeout = download_timeout
        self.upload_timeout = upload_timeout
        self._tasks: dict[str, dict[str, str]] = {}
        self._uploaded: dict[tuple[str, int, int], str] = {}

    def __repr__(self) -> str:
        return f"FalBackend(queue_base={self.queue_base!r}, key_set={bool(self._key)})"

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    # -- Backend protocol ---------------------------------------------------------------------
    def ready(self) -> tuple[bool, str]:
        if not self._key:
            return False, set_keys("setup.keys_fal")
        if problem := key_problem("FAL_KEY", self._key):
            return False, problem
        if not self.queue_base.startswith(("http://", "https://")):
            return False, bad_base("FAL_QUEUE_BASE", "https://queue.fal.run")
        return True, ""

    def video_transport(self, video_url: str = "") -> Transport:
        if video_url:
            return Transport("user_url", Said(Msg("transport.user_url", {"w_p": "fal"})))
        return Transport("provider_upload", Said(Msg("transport.fal_upload")))

    def submit(self, request: JobRequest) -> str:
        self._require_key()
        body: dict[str, Any] = {
            "image_url": request.image_url or self._upload(Path(request.image_path)),
            "video_url": request.video_url or self._upload(Path(request.video_path)),
            "character_orientation": request.orientation,
            "keep_original_sound": bool(request.keep_sound),
        }
        if request.prompt:
            body["prompt"] = request.prompt
        model_id = self.spec.model_id(request.model, request.tier)
        response = self._send("POST", f"{self.queue_base}/{model_id}", creating=True, json=body)
        data = self._json(response, AmbiguousSubmit)
        links = {key: data.get(key) for key in TASK_KEYS}
        request_id = data.get("request_id")
        if not request_id or not all(
            isinstance(v, str) and v.startswith(("http://", "https://")) for v in links.values()
        ):
            raise AmbiguousSubmit(Msg("fal.no_request_id"))
        self._tasks[str(request_id)] = {k: str(v) for k, v in links.items()}
        log.info("fal request queued: %s", request_id)
        return str(request_id)

    def task_data(self, task_id: str) -> dict[str, str]:
        return dict(self._tasks.get(task_id, {}))

    def restore_task(self, task_id: str, data: dict[str, str]) -> None:
        links = {k: data.get(k, "") for k in TASK_KEYS}
        if all(v.startswith(("http://", "https://")) for v in links.values()):
            self._tasks[task_id] = links

    def poll(self, task_id: str) -> TaskState:
        self._require_key()
        links = self._links(task_id)
        data = self._json(self._send("GET", links["status_url"]), TransientError)
        raw = str(data.get("status") or "")
        if raw not in self.spec.statuses:
            raise TransientError(Msg("fal.unknown_status", {"s": repr(raw[:40])}))
        position = data.get("queue_position")
        state = TaskState(
            task_id=task_id,
            status=self.spec.statuses[raw],  # type: ignore[arg-type]
            raw_status=raw,
            queue_position=position if isinstance(position, int) else None,
        )
        if raw == "COMPLETED":
            self._result(state, links["response_url"], data)
        return state

    def download(self, state: TaskState, dest: Path) -> Path:
        # fal's CDN link is public: it gets no Authorization header.
        path = stream_download(
            self.client, state.result_url, dest, task_id=state.task_id, timeout=self.download_timeout
        )
        log.info("fal result downloaded: request %s, %d bytes", state.task_id, path.stat().st_size)
        return path

    def cancel(self, task_id: str) -> bool:
        """PUT cancel_url: 202 CANCELLATION_REQUESTED -> True; ALREADY_COMPLETED / NOT_FOUND -> False."""
        links = self._tasks.get(task_id)
        if not links or not self.ready()[0]:
            return False
        try:
            response = self.client.put(links["cancel_url"], headers=self._headers())
        except httpx.HTTPError:
            return False
        body = json_or_none(response)
        answer = body.get("status") if isinstance(body, dict) else None
        log.info("fal cancel %s -> HTTP %s %s", task_id, response.status_code, answer)
        return response.is_success and answer in (None, "CANCELLATION_REQUESTED")

    # -- internals ----------------------------------------------------------------------------
    def _require_key(self) -> None:
        ok, why = self.ready()
        if not ok:
            raise NotConfigured(Msg("fal.not_configured"), fix=why)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self._key}", "Accept": "application/json"}

    def _links(self, task_id: str) -> dict[str, str]:
        links = self._tasks.get(task_id)
        if not links:
            raise NotConfigured(
                Msg("fal.links_unknown", {"task": task_id}),
                fix=Msg("fal.links_unknown.fix"),
            )
        return links

    def _send(self, method: str, url: str, *, creating: bool = False, **kwargs: Any) -> httpx.Response:
        return send(
            self.client,
            method,
            url,
            provider="fal",
            base_setting="FAL_QUEUE_BASE",
            creating=creating,
            headers=self._headers(),
            **kwargs,
        )

    def _json(self, response: httpx.Response, lost: type[TransientError]) -> dict[str, Any]:
        return json_object(response, lost, "fal", self._error)

    def _error(self, status: int, body: Any) -> BackendError:
        text, kind = detail_text(body.get("detail") if isinstance(body, dict) else None)
        return http_error(status, self._redact(text), REFUSALS, content_refused="content_policy" in kind)

    def _result(self, state: TaskState, response_url: str, status_body: dict[str, Any]) -> None:
        """COMPLETED: read the result body. A video means success; an error detail means failure."""
        response = self._send("GET", response_url)
        body = json_or_none(response)
        status_error = self._redact(str(status_body.get("error") or "")).strip()
        if response.is_success and isinstance(body, dict):
            video = body.get("video")
            if isinstance(video, dict) and isinstance(video.get("url"), str) and video["url"]:
                state.result_url = video["url"]
                state.extra.update(file_name=video.get("file_name", ""), file_size=video.get("file_size"))
                return
            self._failed(state, status_error or "fal reported COMPLETED but the result has no video")
            return
        if (
            not response.is_success
            and (response.status_code == 429 or response.status_code >= 500)
            and not status_error
        ):
            raise TransientError(Msg("fal.result_http", {"s": response.status_code}))
        if response.is_success:  # 2xx, not JSON
            raise TransientError(Msg("fal.unreadable_result"))
        text, kind = detail_text(body.get("detail") if isinstance(body, dict) else None)
        advice = REFUSALS.content_fix.en() if "content_policy" in kind else ""
        self._failed(state, self._redact(text) or status_error or f"HTTP {response.status_code}", advice)

    @staticmethod
    def _failed(state: TaskState, text: str, advice: str = "") -> None:
        advice = advice or failure_advice(text)
        state.status = "failed"
        state.raw_status = "COMPLETED with an error"
        state.extra.update(provider_message=text, advice=advice)
        state.message = f"{text.rstrip('.')}. What to do: {advice}" if advice else text

    def _upload(self, path: Path) -> str:
        """fal storage: initiate, PUT the bytes to the pre-signed link, return the file URL."""
        try:
            stat = path.stat()
        except OSError:
            unreadable = Msg("fal.file_unreadable", {"f": path.name})
            raise InvalidRequest(unreadable, fix=Msg("fal.file_unreadable.fix")) from None
        cache_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if cache_key in self._uploaded:  # a retried submit does not upload the same file again
            return self._uploaded[cache_key]
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        response = send(
            self.client,
            "POST",
            f"{self.rest_base}{UPLOAD_PATH}",
            provider="fal storage",
            base_setting="FAL_QUEUE_BASE",
            params={"storage_type": STORAGE_TYPE},
            json={"file_name": path.name, "content_type": content_type},
            headers=self._headers(),
        )
        data = self._json(response, TransientError)
        upload_url, file_url = data.get("upload_url"), data.get("file_url")
        if not (isinstance(upload_url, str) and isinstance(file_url, str) and file_url):
            raise TransientError(Msg("fal.no_upload_link"))
        with path.open("rb") as fh:
            put = send(
                self.client,
                "PUT",
                upload_url,
                provider="fal storage",
                base_setting="FAL_QUEUE_BASE",
                content=fh,
                headers={"Content-Type": content_type, "Content-Length": str(stat.st_size)},
                timeout=self.upload_timeout,
            )
        if not put.is_success:
            if put.status_code == 429 or put.status_code >= 500:
                raise TransientError(Msg("fal.upload_http", {"s": put.status_code}))
            raise BackendError(
                Msg("fal.upload_refused", {"f": path.name, "s": put.status_code}),
                fix=Msg("fal.upload_refused.fix"),
            )
        log.info("fal storage: uploaded %s (%d bytes)", path.name, stat.st_size)
        self._uploaded[cache_key] = file_url
        return file_url
