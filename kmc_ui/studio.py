"""The studio service: check, prepare and generate, shared by the UI, the CLI and the API.

The UI only renders what this returns; every user-facing decision lives here or below.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kmc_ui.backends.base import Backend, JobRequest
from kmc_ui.checks.rules import check_all
from kmc_ui.cost import BILLING_NOTE, Estimate, estimate
from kmc_ui.findings import Finding, has_errors, sort_findings
from kmc_ui.history import History, new_id
from kmc_ui.jobs import Progress, run_job
from kmc_ui.limits import LIMITS
from kmc_ui.media.probe import ImageInfo, VideoInfo, probe_image, probe_video
from kmc_ui.settings import Settings


@dataclass(frozen=True)
class Inputs:
    image: str | None = None
    video: str | None = None
    prompt: str = ""
    orientation: str = "video"
    tier: str = "std"
    model: str = "v2.6"
    keep_sound: bool = True
    backend: str = "local"
    trim_start: float = 0.0


@dataclass
class CheckReport:
    findings: list[Finding]
    image: ImageInfo | None
    video: VideoInfo | None
    estimate: Estimate | None
    billed_seconds: float = 0.0

    @property
    def blocking(self) -> bool:
        return has_errors(self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "image": self.image.to_dict() if self.image else None,
            "video": self.video.to_dict() if self.video else None,
            "estimate": self.estimate.__dict__ if self.estimate else None,
            "estimate_text": self.estimate.text() if self.estimate else "",
            "billing_note": BILLING_NOTE,
            "blocking": self.blocking,
        }


@dataclass
class PrepareReport:
    image_path: str | None
    video_path: str | None
    image: ImageInfo | None
    video: VideoInfo | None
    image_actions: list[str] = field(default_factory=list)
    video_actions: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # checks re-run on the prepared files
    error: str = ""  # a preparation that could not be done, in plain words

    @property
    def blocking(self) -> bool:
        return bool(self.error) or has_errors(self.findings)


class Studio:
    def __init__(self, settings: Settings, backends: dict[str, Backend], history: History | None = None) -> None:
        self.settings = settings
        self.backends = backends
        self.history = history or History(settings.data_dir)
        self.work_dir = Path(settings.data_dir) / "prepared"

    # ----------------------------------------------------------------- checks
    def check(self, inputs: Inputs) -> CheckReport:
        image = probe_image(inputs.image) if inputs.image else None
        video = probe_video(inputs.video) if inputs.video else None
        findings = check_all(image, video, inputs.prompt, inputs.orientation, inputs.tier, inputs.keep_sound)
        seconds = billed_seconds(video, inputs.orientation)
        est = estimate(inputs.backend, inputs.model, inputs.tier, seconds) if video and video.ok else None
        return CheckReport(findings, image, video, est, seconds)

    # ------------------------------------------------------------ preparation
    def prepare(self, inputs: Inputs) -> PrepareReport:
        from kmc_ui.media.prepare import PreparationError, prepare_image, prepare_video

        report = self.check(inputs)
        out = PrepareReport(inputs.image, inputs.video, report.image, report.video)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        errors = []
        if report.image and report.image.ok:
            try:
                img = prepare_image(report.image, self.work_dir)
                out.image_path, out.image, out.image_actions = str(img.path), img.info, list(img.actions)
            except PreparationError as exc:
                errors.append(str(exc))
        if report.video and report.video.ok and report.video.has_video:
            try:
                vid = prepare_video(
                    report.video,
                    inputs.orientation,
                    start=inputs.trim_start,
                    out_dir=self.work_dir,
                    keep_sound=inputs.keep_sound,
                )
                # The file that will be sent is decoded once (its first keyframe): corrupt picture
                # data is caught here, while the instant checks stay header-only.
                out.video_path, out.video = str(vid.path), probe_video(vid.path, decode=True)
                out.video_actions = list(vid.actions)
            except PreparationError as exc:
                errors.append(str(exc))
        out.error = " ".join(errors)
        findings = check_all(out.image, out.video, inputs.prompt, inputs.orientation, inputs.tier, inputs.keep_sound)
        out.findings = sort_findings(findings)
        return out

    # ------------------------------------------------------------- generation
    def backend_status(self) -> dict[str, tuple[bool, str]]:
        return {name: backend.ready() for name, backend in self.backends.items()}

    def generate(self, inputs: Inputs, owner: str, video_url: str = "") -> Iterator[Progress]:
        """Prepare, record, submit, poll, download. Yields Progress; ends with done/failed."""
        start = time.monotonic()
        backend = self.backends.get(inputs.backend)
        if backend is None:
            yield Progress("failed", f"Unknown backend '{inputs.backend}'.", error="unknown backend")
            return
        ok, why = backend.ready()
        if not ok:
            yield Progress("failed", why, error=why)
            return
        if not inputs.image or not inputs.video:
            missing = "character image" if not inputs.image else "motion video"
            text = f"Add a {missing} first."
            yield Progress("failed", text, error=text)
            return
        yield Progress("preparing", "Checking and preparing the files…")
        prepared = self.prepare(inputs)
        if prepared.blocking:
            errors = [f.text() for f in prepared.findings if f.level == "error"]
            text = prepared.error or "Fix these first: " + " ".join(errors)
            yield Progress("failed", text, time.monotonic() - start, error=text)
            return
        assert prepared.image_path and prepared.video_path and prepared.video
        run_id = new_id()
        # The exact files sent live in the run's folder: served from there, kept for History.
        inputs_dir = self.history.run_dir(owner, run_id) / "inputs"
        image_path = keep_copy(Path(prepared.image_path), inputs_dir)
        video_path = keep_copy(Path(prepared.video_path), inputs_dir)
        seconds = billed_seconds(prepared.video, inputs.orientation)
        est = estimate(backend.name, inputs.model, inputs.tier, seconds)
        self.history.create(
            owner,
            {
                "run_id": run_id,
                "provider": backend.name,
                "settings": {
                    "prompt": inputs.prompt,
                    "orientation": inputs.orientation,
                    "tier": inputs.tier,
                    "model": inputs.model,
                    "keep_sound": inputs.keep_sound,
                    "trim_start": inputs.trim_start,
                },
                "inputs": {"image": str(image_path), "video": str(video_path)},
                "estimate_usd": est.usd,
                "estimate_units": est.units,
                "billed_seconds_estimate": seconds,
            },
        )
        request = JobRequest(
            image_path=image_path,
            video_path=video_path,
            prompt=inputs.prompt,
            orientation=inputs.orientation,
            tier=inputs.tier,
            model=inputs.model,
            keep_sound=inputs.keep_sound,
            run_id=run_id,
            video_url=video_url,
            duration=prepared.video.duration,
        )
        yield from run_job(backend, request, self.history, owner)


def keep_copy(src: Path, folder: Path) -> Path:
    """Hard-link (or copy) a file into folder, keeping its name."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / src.name
    if not dest.exists():
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)
    return dest


def billed_seconds(video: VideoInfo | None, orientation: str) -> float:
    """Seconds that will be billed at most: the (trimmed) reference duration."""
    if not video or not video.ok:
        return 0.0
    cap = LIMITS.video_max_seconds.get(orientation, LIMITS.video_max_seconds["video"])
    return round(min(video.duration, cap), 2)
