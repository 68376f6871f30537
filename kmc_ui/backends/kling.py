"""Official Kling API, legacy design ("v1"): AccessKey + SecretKey (a fresh HS256 JWT per request), or an
API key alone (Bearer, facts A3). A create refused with 1201 "External_task_id ... already exists" is
an earlier create of the same run: its task is looked up by our id and used (facts A5).

    POST /v1/videos/motion-control            create (image as URL or raw base64, video as URL)
    GET  /v1/videos/motion-control/{task_id}  status (also by external_task_id: a lost create is looked up)
    GET  /v1/videos/motion-control?pageNum=&pageSize=   list (used to find a task by external_task_id)

Error codes, statuses and hints come from kmc_ui.limits. The keys go into the Authorization
header and nowhere else: not into exceptions, logs, reprs or history.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from kmc_ui.backends.base import (
    AmbiguousSubmit,
    AuthError,
    BackendError,
    InvalidRequest,
    JobRequest,
    NotConfigured,
    QuotaError,
    TaskState,
    TransientError,
    Transport,
)
from kmc_ui.backends.common import (
    DEFAULT_TIMEOUT,
    DOWNLOAD_TIMEOUT,
    Redactor,
    bad_base,
    send,
    sentences,
    set_keys,
    stream_download,
    url_only_ready,
    url_only_transport,
)
from kmc_ui.backends.errors import Refusals, failure_advice, http_error
from kmc_ui.backends.kling_elements import KlingElements
from kmc_ui.limits import KLING_ERRORS
from kmc_ui.media.hosting import HostingError, MediaHost
from kmc_ui.messages import Msg
from kmc_ui.providers import PROVIDERS
from kmc_ui.settings import key_problem

log = logging.getLogger(__name__)

PATH = "/v1/videos/motion-control"
ACCOUNT_COSTS_PATH = "/account/costs"  # the account's resource packs (facts A4): free, at most 1 call a second
ACCOUNT_WINDOW_MS = 365 * 24 * 3600 * 1000  # packs bought within a year
TOKEN_LIFETIME = 1800  # seconds, as the provider's docs sign it
TOKEN_NOT_BEFORE = 5  # seconds of clock-skew allowance
LIST_PAGE_SIZE = 500  # the largest page the list takes (facts A5)
LIST_MAX_PAGES = 2  # the newest 1,000 tasks: a lost submit is always among the newest
REFUSALS = Refusals(
    provider="The Kling API",
    credential="keys",
    key_fix=Msg("kling.advice.1000"),  # KLING_ERRORS[n].advice
    credit_fix=Msg("kling.advice.1102"),
    access_fix=Msg("kling.advice.1103"),
    not_found="this path",
    not_found_fix=Msg("kling.check_base.fix"),
)
VIDEO_URL_FIX = sentences(Msg("transport.kling_url_only"), Msg("transport.run_public", {"w_p": "the provider"}))


def set_failure(state: TaskState, provider_text: str) -> None:
    """A failed task: the provider's reason (already redacted) and what to do about it."""
    provider_text = provider_text.strip()
    advice = failure_advice(provider_text)
    state.extra.update(provider_message=provider_text, advice=advice)
    state.message = provider_text or "The provider gave no reason"
    if advice:
        state.message = f"{state.message.rstrip('.')}. What to do: {advice}"


def set_video(state: TaskState, video: dict[str, Any]) -> None:
    """A succeeded task: its result video ({id, url, watermark_url, duration}), or a failure when
    the provider reported success without one."""
    if not video.get("url"):
        state.status = "failed"
        state.message = "The provider reported success but sent no video. Resume later or contact support."
        return
    state.result_url = str(video["url"])
    try:
        state.result_duration = float(video.get("duration"))  # a string of seconds in the docs
    except (TypeError, ValueError):
        state.result_duration = None
    state.extra.update(video_id=video.get("id", ""), watermark_url=video.get("watermark_url", ""))


def set_charge(state: TaskState, data: dict[str, Any]) -> None:
    """What the provider says it charged (facts addendum A4), into state.extra as `charge_units`,
    `charge_usd` and `charge_note`: the legacy design's `final_unit_deduction` (units, a string) or
    API 2.0's `billing[]` (`charge_type` unit: `amount` units of a `package_type` pack; cash: `amount`
    in `currency`). Absent or unreadable fields leave nothing: the estimate stands, marked as such."""
    units = usd = 0.0
    notes: list[str] = []
    found = False
    legacy = data.get("final_unit_deduction")
    if legacy not in (None, ""):
        try:
            units, found = float(str(legacy)), True
            notes.append(f"final_unit_deduction {legacy}")
        except ValueError:
            pass
    for item in data.get("billing") if isinstance(data.get("billing"), list) else []:
        if not isinstance(item, dict) or "amount" not in item:
            continue
        try:
            amount = float(str(item["amount"]))
        except ValueError:
            continue
        kind = str(item.get("charge_type") or "")
        if kind == "unit":
            units, found = units + amount, True
            notes.append(f"{amount:g} units ({item.get('package_type') or 'video'} pack)")
        elif kind == "cash" and str(item.get("currency") or "USD").upper() == "USD":
            usd, found = usd + amount, True
            notes.append(f"${amount:g} from the balance")
        elif kind == "cash":
            notes.append(f"{amount:g} {item.get('currency')} from the balance (not converted)")
    if found:
        state.extra.update(charge_units=units, charge_cash_usd=usd, charge_note="; ".join(notes))


def _error_class(code: int) -> type[BackendError]:
    """Typed error for a provider code, derived from the limits table (retry flag and HTTP status)."""
    spec = KLING_ERRORS[code]
    if spec.retry:
        return TransientError
    if spec.http == 401:
        return AuthError  # 1000-1004
    if spec.http in (403, 429):
        return QuotaError  # 1100-1103, 1304
    return InvalidRequest  # 1200-1203, 1300-1301


class KlingLegacyBackend(KlingElements):
    spec = PROVIDERS["kling"]  # its row: keys, prices, statuses, model ids (kmc_ui/providers.py)
    name = spec.name
    label = spec.label
    needs_video_url = True
    poll_policy = None  # the caller's policy, tuned for hosted providers

    def __init__(
        self,
        settings: Any,
        media_host: MediaHost | None,
        http_client: httpx.Client | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        download_timeout: httpx.Timeout = DOWNLOAD_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access_key: str = settings.kling_access_key
        self._secret_key: str = settings.kling_secret_key
        # An API key alone also works on the legacy design (facts A3); AK/SK wins when both are set.
        self._api_key: str = getattr(settings, "kling_api_key", "") or ""
        self._redact = Redactor([self._access_key, self._secret_key, self._api_key])
        self.api_base: str = (settings.kling_api_base or "").rstrip("/")
        self.media_host = media_host
        self._own_client = http_client is None
        self.client = http_client or httpx.Client(timeout=timeout, follow_redirects=True)
        self.download_timeout = download_timeout
        self.clock = clock

    def __repr__(self) -> str:
        return f"KlingLegacyBackend(api_base={self.api_base!r}, keys_set={self.ready()[0]})"

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    # -- Backend protocol ---------------------------------------------------------------------
    def ready(self) -> tuple[bool, str]:
        if self._access_key and self._secret_key:
            problem = key_problem("KLING_ACCESS_KEY", self._access_key)
            problem = problem or key_problem("KLING_SECRET_KEY", self._secret_key)
        elif self._api_key:
            problem = key_problem("KLING_API_KEY", self._api_key)
        else:
            return False, set_keys("setup.keys_kling")
        if problem:
            return False, problem
        if not self.api_base.startswith(("http://", "https://")):
            return False, bad_base("KLING_API_BASE", "https://api-singapore.klingai.com")
        return url_only_ready("Kling", self.media_host)

    def video_transport(self, video_url: str = "") -> Transport:
        """How the reference video reaches Kling: the user's URL, else this app's public URL, else none."""
        return url_only_transport("Kling", self.media_host, video_url, VIDEO_URL_FIX.msg)

    def submit(self, request: JobRequest) -> str:
        self._require_keys()
        body: dict[str, Any] = {
            "model_name": self.spec.model_id(request.model),
            "image_url": request.image_url or self._image_base64(request.image_path),
            "video_url": request.video_url or self._video_url(request.video_path, request.run_id),
            "character_orientation": request.orientation,
            "mode": request.tier,
            "keep_original_sound": "yes" if request.keep_sound else "no",
        }
        if request.prompt:
            body["prompt"] = request.prompt
        if request.run_id:
            body["external_task_id"] = request.run_id
        if request.watermark:
            body["watermark_info"] = {"enabled": True}
        if request.callback_url:
            body["callback_url"] = request.callback_url
        data = self._create(PATH, body, request.run_id)
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not task_id:
            raise AmbiguousSubmit(Msg("kling.no_task_id"))
        log.info("kling task created: %s", task_id)
        return str(task_id)

    def poll(self, task_id: str) -> TaskState:
        self._require_keys()
        data = self._call("GET", f"{PATH}/{quote(task_id, safe='')}")
        return self._state(data, task_id)

    def download(self, state: TaskState, dest: Path) -> Path:
        # The result link is a CDN URL: it gets no Authorization header.
        path = stream_download(
            self.client, state.result_url, dest, task_id=state.task_id, timeout=self.download_timeout
        )
        log.info("%s result downloaded: task %s, %d bytes", self.name, state.task_id, path.stat().st_size)
        return path

    def cancel(self, task_id: str) -> bool:
        return False  # the provider has no cancel endpoint

    def release(self, run_id: str) -> None:
        """End this run's links to its reference video (see ReleasesFiles)."""
        if self.media_host is not None:
            self.media_host.revoke_run(run_id)

    def account_packs(self) -> list[dict[str, Any]]:
        """The account's resource packs (`GET /account/costs`): name, type, total, remaining (which
        lags up to 12 h at the provider), status. Callers keep to 1 call a second (Studio caches)."""
        self._require_keys()
        now = int(time.time() * 1000)
        data = self._call("GET", ACCOUNT_COSTS_PATH, params={"start_time": now - ACCOUNT_WINDOW_MS, "end_time": now})
        packs = data.get("resource_pack_subscribe_infos") if isinstance(data, dict) else None
        if not isinstance(packs, list):
            raise TransientError(Msg("kling.unreadable_account"))
        keep = ("resource_pack_name", "resource_pack_type", "total_quantity", "remaining_quantity", "status")
        return [{k: p.get(k) for k in keep} for p in packs if isinstance(p, dict)]

    def find_task(self, external_id: str) -> str | None:
        """The provider's task id created with external_task_id == external_id, or None.

        Asked directly first (the legacy query takes an external_task_id on most products, facts A5;
        for motion control that is inferred), then, when that finds nothing, in the newest list pages."""
        self._require_keys()
        try:
            data = self._call("GET", f"{PATH}/{quote(external_id, safe='')}")
        except InvalidRequest:  # 1201 "Task not found by id/external id", or no such lookup here
            data = None
        info = data.get("task_info") if isinstance(data, dict) else None
        if isinstance(info, dict) and info.get("external_task_id") == external_id and data.get("task_id"):
            return str(data["task_id"])
        for page in range(1, LIST_MAX_PAGES + 1):
            data = self._call("GET", PATH, params={"pageNum": page, "pageSize": LIST_PAGE_SIZE})
            if not isinstance(data, list):
                raise TransientError(Msg("kling.unreadable_list"))
            for item in data:
                info = item.get("task_info") if isinstance(item, dict) else None
                if isinstance(info, dict) and info.get("external_task_id") == external_id and item.get("task_id"):
                    return str(item["task_id"])
            if len(data) < LIST_PAGE_SIZE:
                return None
        return None

    # -- internals ----------------------------------------------------------------------------
    def _require_keys(self) -> None:
        ok, why = self.ready()
        if not ok:
            raise NotConfigured(Msg("kling.not_configured"), fix=why)

    def _token(self) -> str:
        now = int(self.clock())
        claims = {"iss": self._access_key, "exp": now + TOKEN_LIFETIME, "nbf": now - TOKEN_NOT_BEFORE}
        return jwt.encode(claims, self._secret_key, algorithm="HS256", headers={"typ": "JWT"})

    def _authorization(self) -> str:
        if self._access_key and self._secret_key:
            return f"Bearer {self._token()}"  # a fresh JWT for every request
        return f"Bearer {self._api_key}"  # the API key itself (facts A3: it works on the legacy design)

    def _create(self, path: str, body: dict[str, Any], run_id: str) -> Any:
        """The create call. A 1201 "External_task_id ... already exists" means an earlier create of this
        run reached Kling (its answer was lost): that task is looked up by our id and used (facts A5),
        never paid for twice."""
        try:
            return self._call("POST", path, json=body, creating=True)
        except InvalidRequest as exc:
            if not (run_id and exc.code == 1201 and "already exists" in exc.message.lower()):
                raise
            found = self.find_task(run_id)
            if not found:
                raise
            log.info("%s: the create of run %s had reached the provider: task %s is used", self.name, run_id, found)
            return {"task_id": found, "id": found}

    def _image_base64(self, path: Path) -> str:
        try:
            data = Path(path).read_bytes()
        except OSError:
            raise InvalidRequest(
                Msg("kling.image_unreadable", {"f": Path(path).name}), fix=Msg("kling.image_unreadable.fix")
            ) from None
        return base64.b64encode(data).decode("ascii")  # raw base64: the API refuses a data: prefix

    def _video_url(self, path: Path, run_id: str) -> str:
        if self.media_host is None:
            raise NotConfigured(
                Msg("kling.video_no_url", {"t_why": "KMC_PUBLIC_BASE_URL is not set"}), fix=VIDEO_URL_FIX
            )
        try:
            return self.media_host.register(path, run_id=run_id)  # one link per run, reused by retries
        except HostingError as exc:
            raise NotConfigured(Msg("kling.video_no_url", {"t_why": str(exc)}), fix=VIDEO_URL_FIX) from None

    def _call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None, creating: bool = False
    ) -> Any:
        """One authenticated API call; returns `data` or raises a typed BackendError."""
        headers = {"Authorization": self._authorization(), "Accept": "application/json"}
        lost = AmbiguousSubmit if creating else TransientError
        response = send(
            self.client,
            method,
            self.api_base + path,
            provider="the Kling API",
            base_setting="KLING_API_BASE",
            creating=creating,
            json=json,
            params=params,
            headers=headers,
        )
        return self._parse(response, lost)

    def _parse(self, response: httpx.Response, lost: type[TransientError]) -> Any:
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            if status == 401:
                raise AuthError(Msg("kling.refused_keys"), fix=Msg("kling.advice.1000"))
            if response.is_success or status == 429 or status >= 500:
                raise lost(Msg("kling.unreadable_answer", {"s": status}))
            raise InvalidRequest(Msg("kling.answered_http", {"s": status}), fix=Msg("kling.check_base.fix"))
        code = payload.get("code")
        provider_text = self._redact(str(payload.get("message") or ""))
        if code == 0 and response.is_success:
            return payload.get("data")
        if isinstance(code, int) and code in KLING_ERRORS:
            spec = KLING_ERRORS[code]
            reason = provider_text if provider_text and provider_text.lower() != spec.meaning.lower() else ""
            text = Msg("kling.error", {"w_meaning": spec.meaning, "reason": reason})
            raise _error_class(code)(text, code=code, fix=Msg(f"kling.advice.{code}"))
        error = http_error(status, provider_text, REFUSALS)  # a code the tables do not know: the HTTP ladder
        error.code = code if isinstance(code, int) else None
        raise error

    def _state(self, data: Any, task_id: str) -> TaskState:
        if not isinstance(data, dict) or "task_status" not in data:
            raise TransientError(Msg("kling.unreadable_status"))
        raw = str(data.get("task_status") or "")
        status = self.spec.statuses.get(raw, "running")
        state = TaskState(
            task_id=str(data.get("task_id") or task_id),
            status=status,  # type: ignore[arg-type]
            raw_status=raw,
            extra={"external_task_id": (data.get("task_info") or {}).get("external_task_id", "")},
        )
        if status == "failed":
            set_failure(state, self._redact(str(data.get("task_status_msg") or "")))
        elif status == "succeeded":
            result = data.get("task_result") if isinstance(data.get("task_result"), dict) else {}
            videos = result.get("videos") or []
            set_video(state, videos[0] if videos and isinstance(videos[0], dict) else {})
        set_charge(state, data)
        return state
