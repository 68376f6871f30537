"""The Backend protocol every provider implements, the job it runs, and typed errors.

A backend turns one prepared request into a provider task:
    submit(request) -> task id      (recorded in history before any polling starts)
    poll(task id)   -> TaskState    (queued / running / succeeded / failed / canceled)
    download(state, dest) -> Path   (the result, streamed to disk)
    cancel(task id) -> bool         (optional; False when the provider has none)

Optional extras a backend may implement (checked with isinstance on the runtime protocols):
    FindsTasks      find_task(run id) -> task id: a lost create answer is looked up, never paid twice
    KeepsTaskData   task_data / restore_task: provider links (fal's status_url...) kept in History
                    beside the task id, so a run can be resumed by another process
    ReleasesFiles   release(run id): end the links this app serves the run's files under (Kling,
                    Replicate); the runner calls it once the provider no longer needs them
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from kmc_ui.messages import Msg, Said, render

if TYPE_CHECKING:
    from kmc_ui.jobs import PollPolicy

Status = Literal["queued", "running", "succeeded", "failed", "canceled"]
FINAL_STATUSES = ("succeeded", "failed", "canceled")


@dataclass(frozen=True)
class JobRequest:
    image_path: Path  # prepared: JPEG or PNG, within limits
    video_path: Path  # prepared: H.264 MP4/MOV within limits
    prompt: str = ""
    orientation: str = "video"
    tier: str = "std"
    model: str = "v2.6"
    keep_sound: bool = True
    run_id: str = ""  # our id; sent as external_task_id where the provider takes one
    video_url: str = ""  # public URL of the prepared video, when one is known
    image_url: str = ""  # public URL of the prepared image (optional; base64 otherwise)
    duration: float = 0.0  # seconds of the prepared video
    watermark: bool = False  # ask for a watermarked copy too (Kling: watermark_info.enabled)
    element_id: str = ""  # an identity Element to bind (Kling 3.0 on API 2.0: a contents[] item)
    callback_url: str = ""  # where the provider posts status changes (signed; kmc_ui/webhooks.py)


@dataclass
class TaskState:
    task_id: str
    status: Status
    message: str = ""  # provider status text (task_status_msg on failure)
    queue_position: int | None = None
    progress: float | None = None  # 0..1 where the provider reports it
    result_url: str = ""
    result_duration: float | None = None  # seconds, as the provider reports it
    raw_status: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES


class BackendError(Exception):
    """Base of every backend error. `str()` is safe to show a user: it never holds a secret.

    `message` and `fix` may be given as structured messages (kmc_ui/messages.py): `msg` and
    `fix_msg` keep them, and `message` / `fix` / `user_text()` are their English rendering, so a
    page can say the same in its own language (`user_msg()`)."""

    retryable = False

    def __init__(
        self, message: str | Msg, *, code: int | None = None, fix: str | Msg = "", task_id: str = ""
    ) -> None:
        message = message.msg if isinstance(message, Said) else message  # English that keeps its message
        fix = fix.msg if isinstance(fix, Said) else fix
        self.msg = message if isinstance(message, Msg) else None
        self.fix_msg = fix if isinstance(fix, Msg) else None
        message = render(message, "en") if isinstance(message, Msg) else message
        fix = render(fix, "en") if isinstance(fix, Msg) else fix
        super().__init__(message)
        self.message = message
        self.code = code
        self.fix = fix
        self.task_id = task_id

    def user_text(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts[0] = f"{self.message} (code {self.code})"
        if self.fix:
            parts.append(f"What to do: {self.fix}")
        if self.task_id:
            parts.append(f"Task id {self.task_id} is kept in History: it can be resumed later.")
        return " ".join(parts)

    def user_msg(self) -> Msg:
        """user_text() as a message: its English rendering is user_text(), word for word (a part
        without a message of its own is carried as its English text)."""
        said: Msg | str = self.msg if self.msg is not None else self.message
        if self.code is not None:
            said = Msg("backend.with_code", {"t_msg": said, "c": self.code})
        parts: list[Msg | str] = [said]
        if self.fix:
            fix: Msg | str = self.fix_msg if self.fix_msg is not None else self.fix
            parts.append(Msg("backend.what_to_do", {"t_fix": fix}))
        if self.task_id:
            parts.append(Msg("backend.task_kept", {"task": self.task_id}))
        return Msg("backend.sentences", {"parts": parts})


class NotConfigured(BackendError):
    """The backend lacks keys or a public URL for the video."""


class AuthError(BackendError):
    """Keys rejected (401 / 1000-1004)."""


class QuotaError(BackendError):
    """Account, arrears, units or permission problems (1100-1103, 1304)."""


class InvalidRequest(BackendError):
    """The provider refused the inputs (1200-1203) or the content (1300/1301)."""


class TransientError(BackendError):
    """Rate limit, concurrency, server trouble or network failure: retry with backoff."""

    retryable = True


class AmbiguousSubmit(TransientError):
    """The create request may have reached the provider and its answer was lost (reset, timeout).

    Before submitting again the runner asks the backend's `find_task(run_id)` (see `FindsTasks`),
    so a task the provider did create is picked up instead of paid for twice.
    """


class SubmitUncertain(BackendError):
    """The create request may have reached the provider, and the provider cannot look it up by our id.

    Not retried: sending it again could pay twice. The text tells the user where to look.
    """


class TaskFailed(BackendError):
    """The task was accepted and then ended `failed`."""


class DownloadError(BackendError):
    """The result could not be fetched; the task id is kept so it can be fetched later.

    `retryable=True` on an instance (a short or broken transfer) lets the runner try again.
    """

    def __init__(
        self,
        message: str | Msg,
        *,
        code: int | None = None,
        fix: str | Msg = "",
        task_id: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message, code=code, fix=fix, task_id=task_id)
        self.retryable = retryable


@dataclass(frozen=True)
class Transport:
    """How the reference video (and the image) reach the provider, in words the UI can show.

    kind: user_url (a public URL the user pasted) / media_host (this app serves the prepared file at
    KMC_PUBLIC_BASE_URL) / provider_upload (uploaded to the provider's own storage with the key) /
    none (no way: `text` says what to set before anyone pays).
    """

    kind: str
    text: str

    @property
    def ok(self) -> bool:
        return self.kind != "none"


@runtime_checkable
class Backend(Protocol):
    name: str  # registry key: local / kling / kling2 / fal / replicate (its row in kmc_ui/providers.py)
    label: str  # shown in the selector
    needs_video_url: bool  # True when the provider can only read the video from a URL
    poll_policy: PollPolicy | None  # its own pace (the offline engine); None: the caller's policy

    def ready(self) -> tuple[bool, str]:
        """(usable now, why not / how to configure). Never mentions key values."""
        ...

    def submit(self, request: JobRequest) -> str:
        """Create the task and return its id. Raises BackendError."""
        ...

    def poll(self, task_id: str) -> TaskState: ...

    def download(self, state: TaskState, dest: Path) -> Path: ...

    def cancel(self, task_id: str) -> bool:
        """Ask the provider to stop the task. False when the provider cannot cancel."""
        ...

    def video_transport(self, video_url: str = "") -> Transport:
        """How the reference video reaches the provider, in words; `.ok` False says what to set first."""
        ...

    def close(self) -> None:
        """Close its HTTP client (a visitor's own-key backend is closed when its run ends)."""
        ...


@runtime_checkable
class FindsTasks(Protocol):
    """Optional: backends whose provider can look a task up by our own id (external_task_id)."""

    def find_task(self, external_id: str) -> str | None:
        """The provider's task id for `external_id`, or None when the provider has no such task."""
        ...


@runtime_checkable
class KeepsTaskData(Protocol):
    """Optional: backends that need more than the task id to poll, download or cancel (returned URLs).

    The runner stores `task_data(task_id)` in the history record together with the task id (before
    the first poll) and hands it back through `restore_task` when a run is resumed. The data holds
    links only, never a secret.
    """

    def task_data(self, task_id: str) -> dict[str, str]: ...

    def restore_task(self, task_id: str, data: dict[str, str]) -> None: ...


@runtime_checkable
class ReleasesFiles(Protocol):
    """Optional: backends that hand the provider files by this app's own links (kmc_ui.media.hosting).

    The runner calls `release(run_id)` when the run ends and the provider can no longer need the
    files (the task reached a final state or reported it was processing, or the create was refused);
    a task that may still fetch them keeps its links until they expire. Backends without hosted
    files need not implement it.
    """

    def release(self, run_id: str) -> None: ...
