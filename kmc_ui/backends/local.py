"""The offline engine backend (CPU motion transfer). Until the engine lands it is not ready,
and it says which hosted backend to configure instead: no result is ever faked."""

from __future__ import annotations

from pathlib import Path

from kmc_ui.backends.base import JobRequest, NotConfigured, TaskState

HOW_TO_CONFIGURE = (
    "The offline engine is not available in this version. To generate, configure a hosted backend in .env "
    "(or the environment): KLING_ACCESS_KEY + KLING_SECRET_KEY for the official Kling API, and "
    "KMC_PUBLIC_BASE_URL so the provider can fetch the video (see README, Configuration). "
    "Every check and the preparation work without keys."
)


class LocalBackend:
    name = "local"
    label = "Offline engine (CPU, preview quality)"
    needs_video_url = False

    def ready(self) -> tuple[bool, str]:
        return False, HOW_TO_CONFIGURE

    def submit(self, request: JobRequest) -> str:
        raise NotConfigured(HOW_TO_CONFIGURE)

    def poll(self, task_id: str) -> TaskState:
        raise NotConfigured(HOW_TO_CONFIGURE)

    def download(self, state: TaskState, dest: Path) -> Path:
        raise NotConfigured(HOW_TO_CONFIGURE)

    def cancel(self, task_id: str) -> bool:
        return False
