"""Plumbing every hosted backend shares: one HTTP call with typed network errors, a streamed
download to disk, JSON reading and redaction of secrets from provider text.

Nothing here knows a provider's error vocabulary: each backend maps statuses and bodies itself.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from kmc_ui.backends.base import AmbiguousSubmit, BackendError, DownloadError, NotConfigured, TransientError, Transport
from kmc_ui.limits import RESULT_URL_LIFETIME_DAYS
from kmc_ui.media.hosting import MediaHost
from kmc_ui.media.netguard import RESULT_DOWNLOAD_LIMITS, Pace, TooSlow, TransferLimits
from kmc_ui.messages import Msg, Said

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=60.0, pool=10.0)
DOWNLOAD_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)
UPLOAD_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=300.0, pool=10.0)
MAX_PROVIDER_TEXT = 500
_JWT_LIKE = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")
_AUTH_LIKE = re.compile(r"(?i)\b(Bearer|Key|Token)\s+[\w.:/+=-]{8,}")


class Redactor:
    """Removes known secrets, JWT-like tokens and `Bearer/Key/Token <value>` from provider text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        # fal keys are "<id>:<secret>": either half alone is secret too.
        for secret in list(self._secrets):
            self._secrets.extend(part for part in secret.split(":") if len(part) >= 8 and part != secret)

    def __call__(self, text: str, limit: int = MAX_PROVIDER_TEXT) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _AUTH_LIKE.sub(lambda m: f"{m.group(1)} ***", text)
        return _JWT_LIKE.sub("***", text)[:limit]


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    provider: str,
    base_setting: str,
    creating: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """One request; network failures become typed errors (never with a header or key in them).

    A failure after the request may have been sent (read timeout, reset) is `AmbiguousSubmit` when
    `creating`: the provider may have created the task.
    """
    lost = AmbiguousSubmit if creating else TransientError
    try:
        response = client.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientError(
            Msg("backend.connect_failed", {"w_who": provider, "exc": type(exc).__name__}),
            fix=Msg("backend.connect_failed.fix", {"s": base_setting}),
        ) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise NotConfigured(
            Msg("backend.bad_base_url", {"s": base_setting}), fix=Msg("backend.bad_base_url.fix", {"s": base_setting})
        ) from None
    except httpx.TimeoutException as exc:
        raise lost(Msg("backend.timeout", {"w_who": provider, "exc": type(exc).__name__})) from None
    except httpx.HTTPError as exc:
        raise lost(Msg("backend.connection_broke", {"w_who": provider, "exc": type(exc).__name__})) from None
    log.debug("%s %s %s -> HTTP %s", provider, method, url.split("?")[0], response.status_code)
    return response


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def stream_download(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    task_id: str,
    timeout: httpx.Timeout,
    headers: dict[str, str] | None = None,
    lifetime_days: int = RESULT_URL_LIFETIME_DAYS,
    limits: TransferLimits = RESULT_DOWNLOAD_LIMITS,
) -> Path:
    """GET `url` into `dest` through `dest.part` and a rename; memory stays flat (one network read
    at a time, at most 64 kB).

    401/403/404/410 (a link not live yet, refused or expired), a short transfer and one past
    `limits` (overall deadline, minimum average rate) are retryable DownloadErrors that keep the
    task id; 429/5xx are TransientErrors.
    """
    if not url:
        raise DownloadError(Msg("backend.no_result_link"), task_id=task_id)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    expected: int | None = None
    written = 0
    pace = Pace(limits)
    # A read may not wait past the deadline: a silent server ends there, a trickling one in pace.chunks.
    read = pace.read_timeout(timeout.read if timeout.read is not None else limits.deadline)
    timeout = httpx.Timeout(**(timeout.as_dict() | {"read": read}))
    try:
        with client.stream("GET", url, timeout=timeout, headers=headers) as response:
            status = response.status_code
            if status in (401, 403, 404, 410):
                raise DownloadError(
                    Msg("backend.result_link_expired", {"s": status}),
                    fix=Msg("backend.result_link_expired.fix", {"d": lifetime_days}),
                    task_id=task_id,
                    retryable=True,
                )
            if status == 429 or status >= 500:
                raise TransientError(Msg("backend.result_link_http", {"s": status}))
            if not response.is_success:
                raise DownloadError(Msg("backend.result_link_http", {"s": status}), task_id=task_id)
            length = response.headers.get("content-length", "")
            expected = int(length) if length.isdigit() else None
            with part.open("wb") as fh:
                for chunk in pace.chunks(response.iter_bytes()):
                    fh.write(chunk)
                written = response.num_bytes_downloaded  # bytes on the wire, as Content-Length counts
    except TooSlow as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(
            Msg("backend.download_stopped", {"t_why": exc.msg}),
            fix=Msg("backend.download_stopped.fix"),
            task_id=task_id,
            retryable=True,
        ) from None
    except httpx.HTTPError as exc:
        part.unlink(missing_ok=True)
        broke = Msg("backend.download_broke", {"exc": type(exc).__name__})
        raise DownloadError(broke, task_id=task_id, retryable=True) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if (expected is not None and written != expected) or written == 0:
        part.unlink(missing_ok=True)
        what = (
            Msg("backend.download_incomplete", {"a": written, "b": expected})
            if expected is not None
            else Msg("backend.download_empty")
        )
        raise DownloadError(what, task_id=task_id, retryable=True)
    os.replace(part, dest)
    return dest


def set_keys(what: str) -> str:
    """ready()'s answer without keys: `what` is the setup.keys_* code naming them and where they come from."""
    return Said(Msg("setup.set_keys", {"what": Msg(what)}))


def bad_base(setting: str, example: str) -> str:
    """ready()'s answer for a base URL setting that is not an http(s) URL."""
    return Said(Msg("setup.base_url", {"v": setting, "url": example}))


def sentences(*parts: Msg) -> str:
    """Several messages as one Said text (English joined by spaces)."""
    return Said(Msg("common.sentences", {"parts": list(parts)}))


def hosting_state(media_host: MediaHost | None) -> tuple[bool, str]:
    """(this app can hand files out by public URL, why not: a Said text)."""
    return media_host.usable() if media_host is not None else (False, Said(Msg("hosting.not_set")))


def url_only_ready(provider: str, media_host: MediaHost | None) -> tuple[bool, str]:
    """ready() tail for providers that read the video only from a URL (keys already checked)."""
    ok, why = hosting_state(media_host)
    if not ok:
        return True, Said(Msg("setup.paste_url", {"w_p": provider, "t_why": getattr(why, "msg", why)}))
    return True, ""


def url_only_transport(
    provider: str, media_host: MediaHost | None, video_url: str, fix: Msg, extra: Msg | None = None
) -> Transport:
    """How the video reaches a provider that reads it only from a URL: the user's URL, else this
    app's public URL, else none (`fix` says what to set before anyone pays)."""
    if video_url:
        return Transport("user_url", Said(Msg("transport.user_url", {"w_p": provider})))
    ok, why = hosting_state(media_host)
    if ok:
        hosted = Msg("transport.media_host", {"w_p": provider})
        return Transport("media_host", sentences(hosted, extra) if extra else Said(hosted))
    none = Msg("transport.none", {"w_p": provider, "t_why": getattr(why, "msg", why)})
    return Transport("none", sentences(none, fix))


def json_object(
    response: httpx.Response,
    lost: type[TransientError],
    provider: str,
    error: Callable[[int, Any], BackendError],
) -> dict[str, Any]:
    """The JSON object of a 2xx answer; an unreadable one raises `lost` (retried, or looked up when a
    create's answer was lost); a non-2xx answer raises the provider's typed error from `error`."""
    body = json_or_none(response)
    if response.is_success:
        if not isinstance(body, dict):
            raise lost(Msg("backend.unreadable_answer", {"w_who": provider, "s": response.status_code}))
        return body
    raise error(response.status_code, body)
