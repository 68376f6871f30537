"""Replicate's predictions API, `Authorization: Bearer <REPLICATE_API_TOKEN>`.

    POST {base}/v1/models/<owner>/<model>/predictions  {"input": {image, video, prompt?, mode,
                                                         character_orientation, keep_original_sound}}
    GET  urls.get       status: starting / processing / succeeded / failed / canceled
    POST urls.cancel    cancel (Stop)

Inputs are URLs. The image goes as a data URL when it is small (DATA_URL_MAX_BYTES), else by the
app's public URL; the video always needs a URL: the one the user gave or the app's own
(KMC_PUBLIC_BASE_URL, MediaHost). The returned urls.get / urls.cancel are used as given and kept
in History beside the prediction id (KeepsTaskData).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
    Redactor,
    bad_base,
    json_object,
    json_or_none,
    send,
    sentences,
    set_keys,
    stream_download,
    url_only_ready,
    url_only_transport,
)
from kmc_ui.backends.errors import Refusals, failure_advice, http_error
from kmc_ui.media.hosting import HostingError
from kmc_ui.messages import Msg
from kmc_ui.providers import PROVIDERS
from kmc_ui.settings import key_problem

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.replicate.com"
# Replicate's docs advise data URLs only for small files; above this the image goes by URL.
DATA_URL_MAX_BYTES = 256 * 1024
TASK_KEYS = ("get", "cancel")
TOKEN_FIX = (
    "Check REPLICATE_API_TOKEN: create a token at replicate.com/account/api-tokens and set it in .env "
    "(or paste it in the key box)."
)
REFUSALS = Refusals(
    provider="Replicate",
    credential="token",
    key_fix=Msg("replicate.token.fix"),  # TOKEN_FIX
    credit_fix=Msg("replicate.credit.fix"),
    access_fix=Msg("replicate.access.fix"),
    not_found="this model or prediction",
    not_found_fix=Msg("replicate.not_found.fix"),
)
VIDEO_URL_FIX = sentences(Msg("transport.replicate_url"), Msg("transport.run_public", {"w_p": "Replicate"}))


def problem_text(body: Any) -> str:
    """Replicate's error body (`title`, `detail`, `invalid_fields`) as one line."""
    if not isinstance(body, dict):
        return ""
    detail = str(body.get("detail") or body.get("title") or "").strip()
    fields = body.get("invalid_fields")
    if isinstance(fields, list):
        named = [f"{f.get('field')}: {f.get('description')}" for f in fields if isinstance(f, dict)]
        named = [n for n in named if n.split(":")[0].strip() and n not in detail]
        if named:
            detail = "; ".join([detail, *named]) if detail else "; ".join(named)
    return " ".join(detail.lstrip("- ").split())


class ReplicateBackend:
    spec = PROVIDERS["replicate"]  # its row: keys, prices, statuses, model ids (kmc_ui/providers.py)
    name = spec.name
    label = spec.label
    needs_video_url = True
    poll_policy = None  # the caller's policy, tuned for hosted providers

    def __init__(
        self,
        settings: Any,
        media_host: Any = None,
        http_client: httpx.Client | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        download_timeout: httpx.Timeout = DOWNLOAD_TIMEOUT,
    ) -> None:
        self._token: str = settings.replicate_api_token
        self._redact = Redactor([self._token])
        self.api_base: str = (settings.replicate_api_base or DEFAULT_BASE).rstrip("/")
        self.media_host = media_host
        self._own_client = http_client is None
        self.client = http_client or httpx.Client(timeout=timeout, follow_redirects=True)
        self.download_timeout = download_timeout
        self._tasks: dict[str, dict[str, str]] = {}

    def __repr__(self) -> str:
        return f"ReplicateBackend(api_base={self.api_base!r}, token_set={bool(self._token)})"

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    # -- Backend protocol ---------------------------------------------------------------------
    def ready(self) -> tuple[bool, str]:
        if not self._token:
            return False, set_keys("setup.keys_replicate")
        if problem := key_problem("REPLICATE_API_TOKEN", self._token):
            return False, problem
        if not self.api_base.startswith(("http://", "https://")):
            return False, bad_base("REPLICATE_API_BASE", "https://api.replicate.com")
        return url_only_ready("Replicate", self.media_host)

    def video_transport(self, video_url: str = "") -> Transport:
        extra = Msg("transport.inline_image")
        return url_only_transport("Replicate", self.media_host, video_url, VIDEO_URL_FIX.msg, extra)

    def submit(self, request: JobRequest) -> str:
        self._require_token()
        model_input: dict[str, Any] = {
            "image": request.image_url or self._image_input(Path(request.image_path), request.run_id),
            "video": request.video_url or self._hosted(Path(request.video_path), "video", request.run_id),
            "mode": request.tier,
            "character_orientation": request.orientation,
            "keep_original_sound": bool(request.keep_sound),
        }
        if request.prompt:
            model_input["prompt"] = request.prompt
        url = f"{self.api_base}/v1/models/{self.spec.model_id(request.model)}/predictions"
        data = self._json(self._send("POST", url, creating=True, json={"input": model_input}), AmbiguousSubmit)
        prediction_id = data.get("id")
        urls = data.get("urls") if isinstance(data.get("urls"), dict) else {}
        if not prediction_id:
            raise AmbiguousSubmit(Msg("replicate.no_prediction_id"))
        links = {k: str(urls.get(k) or "") for k in TASK_KEYS}
        self._tasks[str(prediction_id)] = self._checked_links(str(prediction_id), links)
        log.info("replicate prediction created: %s", prediction_id)
        return str(prediction_id)

    def task_data(self, task_id: str) -> dict[str, str]:
        return dict(self._tasks.get(task_id, {}))

    def restore_task(self, task_id: str, data: dict[str, str]) -> None:
        self._tasks[task_id] = self._checked_links(task_id, {k: data.get(k, "") for k in TASK_KEYS})

    def poll(self, task_id: str) -> TaskState:
        self._require_token()
        data = self._json(self._send("GET", self._links(task_id)["get"]), TransientError)
        raw = str(data.get("status") or "")
        if raw not in self.spec.statuses:
            raise TransientError(Msg("replicate.unknown_status", {"s": repr(raw[:40])}))
        state = TaskState(task_id=task_id, status=self.spec.statuses[raw], raw_status=raw)  # type: ignore[arg-type]
        if state.status == "failed":
            text = self._redact(str(data.get("error") or "")).strip() or "Replicate gave no reason"
            advice = failure_advice(text)
            state.extra.update(provider_message=text, advice=advice)
            state.message = f"{text.rstrip('.')}. What to do: {advice}" if advice else text
        elif state.status == "canceled":
            state.message = "The prediction was canceled."
        elif state.status == "succeeded":
            output = data.get("output")
            if isinstance(output, list):
                output = next((o for o in output if isinstance(o, str) and o), None)
            if not isinstance(output, str) or not output.startswith(("http://", "https://")):
                state.status = "failed"
                state.message = "Replicate reported success but sent no video. Resume later or contact support."
                return state
            state.result_url = output
            metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
            state.extra.update(predict_time=metrics.get("predict_time"))
        return state

    def download(self, state: TaskState, dest: Path) -> Path:
        # replicate.delivery links are public; a file link on the API host itself needs the token.
        headers = {"Authorization": f"Bearer {self._token}"} if state.result_url.startswith(self.api_base) else None
        path = stream_download(
            self.client, state.result_url, dest, task_id=state.task_id, timeout=self.download_timeout, headers=headers
        )
        log.info("replicate result downloaded: prediction %s, %d bytes", state.task_id, path.stat().st_size)
        return path

    def release(self, run_id: str) -> None:
        """End this run's links to its video (and a large image) (see ReleasesFiles)."""
        if self.media_host is not None:
            self.media_host.revoke_run(run_id)

    def cancel(self, task_id: str) -> bool:
        """POST urls.cancel; True when Replicate accepted it."""
        if not self.ready()[0]:
            return False
        try:
            url = self._links(task_id)["cancel"]
            response = self.client.post(url, headers=self._headers())
        except (httpx.HTTPError, BackendError):
            return False
        body = json_or_none(response)
        status = body.get("status") if isinstance(body, dict) else None
        log.info("replicate cancel %s -> HTTP %s %s", task_id, response.status_code, status)
        return response.is_success and status in (None, "canceled", "canceling")

    # -- internals ----------------------------------------------------------------------------
    def _require_token(self) -> None:
        ok, why = self.ready()
        if not ok:
            raise NotConfigured(Msg("replicate.not_configured"), fix=why)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def _checked_links(self, task_id: str, links: dict[str, str]) -> dict[str, str]:
        """The links as given; a missing one falls back to the documented /v1/predictions/{id} paths."""
        fallback = {
            "get": f"{self.api_base}/v1/predictions/{quote(task_id, safe='')}",
            "cancel": f"{self.api_base}/v1/predictions/{quote(task_id, safe='')}/cancel",
        }
        return {k: v if v.startswith(("http://", "https://")) else fallback[k] for k, v in links.items()}

    def _links(self, task_id: str) -> dict[str, str]:
        if task_id not in self._tasks:
            self._tasks[task_id] = self._checked_links(task_id, {"get": "", "cancel": ""})
        return self._tasks[task_id]

    def _send(self, method: str, url: str, *, creating: bool = False, **kwargs: Any) -> httpx.Response:
        return send(
            self.client,
            method,
            url,
            provider="Replicate",
            base_setting="REPLICATE_API_BASE",
            creating=creating,
            headers=self._headers(),
            **kwargs,
        )

    def _json(self, response: httpx.Response, lost: type[TransientError]) -> dict[str, Any]:
        return json_object(response, lost, "Replicate", self._error)

    def _error(self, status: int, body: Any) -> BackendError:
        return http_error(status, self._redact(problem_text(body)), REFUSALS)

    def _image_input(self, path: Path, run_id: str) -> str:
        try:
            size = path.stat().st_size
        except OSError:
            raise InvalidRequest(
                Msg("kling.image_unreadable", {"f": path.name}), fix=Msg("kling.image_unreadable.fix")
            ) from None
        if size > DATA_URL_MAX_BYTES:
            return self._hosted(path, "image", run_id)
        content_type = mimetypes.guess_type(path.name)[0] or "image/png"
        return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    def _hosted(self, path: Path, what: str, run_id: str) -> str:
        why = "KMC_PUBLIC_BASE_URL is not set"
        if self.media_host is not None:
            try:
                return str(self.media_host.register(path, run_id=run_id))
            except HostingError as exc:
                why = str(exc)
        if what == "image":
            fix = Msg("replicate.image_no_url.fix", {"k": DATA_URL_MAX_BYTES // 1024})
            raise NotConfigured(Msg("replicate.image_no_url", {"t_why": why}), fix=fix)
        raise NotConfigured(Msg("kling.video_no_url", {"t_why": why}), fix=VIDEO_URL_FIX)
