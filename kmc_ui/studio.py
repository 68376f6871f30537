"""The studio service: check, prepare and generate, shared by the UI, the CLI and the API.

The UI only renders what this returns; every user-facing decision lives here or below.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kmc_ui.backends.base import Backend
from kmc_ui.checks.rules import check_all
from kmc_ui.cost import BILLING_NOTE, Estimate, billed, estimate, guard_usd
from kmc_ui.elements import COST_MSG, ORIENTATION_MSG, ElementStore, check_pictures
from kmc_ui.elements import delete as delete_element
from kmc_ui.elements import digest as element_digest
from kmc_ui.findings import Finding, has_errors, sort_findings
from kmc_ui.history import History, new_id, safe_id
from kmc_ui.identity import Identity, server_secret
from kmc_ui.jobs import PollPolicy, Progress, ready_msg, record_notes, stopped_msg
from kmc_ui.limits import ELEMENTS, LIMITS
from kmc_ui.media.hosting import MediaHost
from kmc_ui.media.probe import ImageInfo, VideoInfo, probe_image, probe_video
from kmc_ui.messages import Msg, Said
from kmc_ui.priority import yield_cores
from kmc_ui.settings import Settings
from kmc_ui.spend import Caps, Ledger
from kmc_ui.storage import DISK_FULL, DISK_FULL_PREPARE, is_disk_full
from kmc_ui.verdict import Verdict, judge
from kmc_ui.webhooks import callback_url_for
from kmc_ui.worker import ACTIVE, WATCH_TICK, Workers, alive, progress_of

if TYPE_CHECKING:
    from kmc_ui.checks.trim import TrimSuggestion

WAITING_FOR_WORKER = "Waiting for a free worker…"
STOP_WAIT = 15.0  # seconds Stop waits for a worker to close its run
SIGN_IN_FIRST = (
    "This studio asks visitors to sign in before they spend its provider credit: press "
    "'Sign in with Hugging Face' at the top of the page, or paste your own provider key under Keys."
)
PACKS_CACHE_S = 30.0  # the Kling account's packs are read at most this often (the provider allows 1 call/s)


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
    watermark: bool = False  # Kling: a watermarked copy beside the clean result
    extra_pictures: tuple[str, ...] = ()  # 1-3 more angles of the character: an identity lock (kmc_ui/elements.py)

    def effective(self) -> Inputs:
        """The inputs as they will be sent: an identity lock always follows the video's orientation."""
        return replace(self, orientation="video") if self.extra_pictures else self


@dataclass
class CheckReport:
    findings: list[Finding]
    image: ImageInfo | None
    video: VideoInfo | None
    estimate: Estimate | None
    billed_seconds: float = 0.0

    @property
    def blocking(self) -> bool:
        """Any error, fixable by preparing or not: the files cannot be sent as they are (/check's
        "blocking"; the same as kmc_ui.verdict.Verdict.has_errors, not Verdict.blocked)."""
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
class BodyReport:
    findings: list[Finding]
    character_preview: str | None = None  # the character image with its skeleton (PNG)
    motion_preview: str | None = None  # the motion's skeleton retargeted onto the character (MP4)
    # the suggested trim window (kmc_ui/checks/trim.py): before the first cut, from the pose closest to the picture's
    trim: TrimSuggestion | None = None


@dataclass
class PrepareReport:
    image_path: str | None
    video_path: str | None
    image: ImageInfo | None
    video: VideoInfo | None
    image_actions: list[str] = field(default_factory=list)
    video_actions: list[str] = field(default_factory=list)
    image_action_msgs: list[Msg] = field(default_factory=list)  # the actions as messages (a page's language)
    video_action_msgs: list[Msg] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # checks re-run on the prepared files
    error: str = ""  # a preparation that could not be done, in plain words
    error_msg: Msg | None = None  # `error` as a message (its sentences), for a page in another language

    @property
    def blocking(self) -> bool:
        """The prepared files still cannot be sent: the preparation failed, or an error remains."""
        return bool(self.error) or has_errors(self.findings)


def _prepare_error(exc: Exception) -> tuple[str, Msg]:
    """A preparation that could not be done: its English and its message."""
    if is_disk_full(exc):
        return DISK_FULL_PREPARE, Msg("prepare.disk_full")
    said = getattr(exc, "msg", None)  # PreparationError's
    return str(exc), said if isinstance(said, Msg) else Msg("common.sentences", {"parts": [str(exc)]})


class Studio:
    def __init__(
        self,
        settings: Settings,
        backends: dict[str, Backend],
        history: History | None = None,
        poll: PollPolicy | None = None,
        media_host: MediaHost | None = None,
    ) -> None:
        self.settings = settings
        self.backends = backends
        self.history = history or History(settings.data_dir, settings.database_url)
        self.media_host = media_host  # for backends built with a session's own keys
        self.poll = poll or PollPolicy()  # how often a running task is checked (tests pass a faster one)
        # read a submitted run's reference for its motion report while the result is made (the page
        # shows a report after every result); the CLI never reports, and a process that exits while
        # that reading runs in mediapipe's native code can crash on the way out, so it turns this off
        self.read_ahead = True
        self.work_dir = Path(settings.data_dir) / "prepared"
        self.cache_dir = Path(settings.data_dir) / "cache"
        from kmc_ui.fair import FairScheduler  # one pose worker, visitors served in turn (kmc_ui/fair.py)

        self._pose_pool = FairScheduler(workers=1, name="kmc-pose")
        # Reports get their own worker: one reads every sample of two videos three ways (~20 s for
        # a 12 s pair) and must not hold up the body checks of someone's next upload. Like every
        # thread of the report's readings it yields the cores to a render (kmc_ui/priority.py).
        self._report_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-report", initializer=yield_cores)
        self._body_cache: dict[tuple[str, str, str], BodyReport] = {}
        secret = server_secret(settings.data_dir)
        self.identity = Identity(secret)
        caps = Caps(settings.daily_budget_usd, settings.visitor_daily_usd, settings.visitor_daily_runs)
        self.ledger = Ledger(self.history.store, caps, secret)  # the owner's money (kmc_ui/spend.py)
        self.elements = ElementStore(self.history.store)  # identity Elements, per visitor (kmc_ui/elements.py)
        self._workers: Workers | None = None
        self._packs: tuple[float, list[dict[str, Any]], str] | None = None
        self._packs_lock = threading.Lock()
        self._workers_lock = threading.Lock()

    # ----------------------------------------------------------------- checks
    def check(self, inputs: Inputs) -> CheckReport:
        lock, inputs = element_findings(inputs), inputs.effective()
        image = probe_image(inputs.image) if inputs.image else None
        video = probe_video(inputs.video) if inputs.video else None
        findings = check_all(image, video, inputs.prompt, inputs.orientation, inputs.tier, inputs.keep_sound) + lock
        seconds = billed(inputs.backend, billed_seconds(video, inputs.orientation))
        est = estimate(inputs.backend, inputs.model, inputs.tier, seconds) if video and video.ok else None
        return CheckReport(findings, image, video, est, seconds)

    def verdict(self, inputs: Inputs, body: BodyReport | None = None) -> Verdict:
        """The verdict on `inputs` (kmc_ui/verdict.py): blocked, changes, the trim window, the findings
        of the limit check merged with `body`'s (the body check's, once it has run)."""
        return judge(inputs, self.check(inputs), body)

    def visitor(self, cookie_header: str | None) -> str | None:
        """The visitor id in a request's Cookie header, when this server signed it (kmc_ui/identity.py)."""
        return self.identity.from_headers(cookie_header)

    # ------------------------------------------------------------ body checks
    def body_check(
        self, inputs: Inputs, cancel: threading.Event | None = None, previews: bool = True, visitor: str = ""
    ) -> BodyReport:
        """Pose pre-flight (kmc_ui/checks/pose.py) on the pose worker, cached by file content.

        mediapipe graphs are per thread, so every body check runs on the same worker; the UI's
        handler thread only waits for it. The worker serves visitors in turn (kmc_ui/fair.py;
        "" is the shared anonymous bucket), and a visitor's newer check with previews replaces
        its older one still waiting, whose caller gets a hint saying so. Only the part of the
        video that would be sent is analysed, for at most CHECK_BUDGET_S seconds of work.
        Never raises: problems come back as findings.
        """
        from kmc_ui.checks.pose import superseded_finding
        from kmc_ui.fair import Superseded

        if not inputs.image and not inputs.video:
            return BodyReport([])
        kind = "body" if previews else None  # checks without previews (a batch's) queue one after another
        try:
            return self._pose_pool.submit(visitor, self._body_check, inputs, cancel, previews, supersede=kind).result()
        except Superseded:
            return BodyReport([superseded_finding()])

    def body_cached(self, inputs: Inputs) -> BodyReport | None:
        """The last body check for exactly these files, orientation and trim start, if one has run."""
        return self._body_cache.get(
            (inputs.image or "", inputs.video or "", f"{inputs.orientation}@{inputs.trim_start:.2f}")
        )

    def _body_check(self, inputs: Inputs, cancel: threading.Event | None, previews: bool = True) -> BodyReport:
        from kmc_ui.checks.pose import pose_findings, window_seconds
        from kmc_ui.checks.trim import trim_for
        from kmc_ui.pose.detect import CHECK_BUDGET_S
        from kmc_ui.pose.preview import skeleton_preview

        cache = self.cache_dir
        deadline = time.monotonic() + CHECK_BUDGET_S
        findings = pose_findings(
            inputs.image, inputs.video, inputs.orientation, cache_dir=cache, cancel=cancel, trim_start=inputs.trim_start
        )
        trim = None  # read from the analyses just cached; a cancelled check has none to read
        if not (cancel and cancel.is_set()):
            trim = trim_for(
                inputs.image, inputs.video, inputs.orientation, cache_dir=cache, trim_start=inputs.trim_start
            )
        if previews and not (cancel and cancel.is_set()):
            self._read_ahead(inputs)
        character = motion = None
        # The character's skeleton as soon as there is a picture (with its own findings above: no video
        # needed); the motion's only beside a video.
        if previews and inputs.image and not (cancel and cancel.is_set()):
            window = {"start": inputs.trim_start, "max_seconds": window_seconds(inputs.orientation)}
            try:
                png, mp4 = skeleton_preview(
                    inputs.image,
                    inputs.video or None,
                    self.work_dir / "previews",
                    cache_dir=cache,
                    deadline=deadline,
                    **window,
                )
                character, motion = str(png), (str(mp4) if mp4 else None)
            except Exception:  # the preview is evidence, never a blocker: findings already say why
                character = motion = None
        report = BodyReport(findings, character, motion, trim)
        if previews and not (cancel and cancel.is_set()):
            key = (inputs.image or "", inputs.video or "", f"{inputs.orientation}@{inputs.trim_start:.2f}")
            self._body_cache[key] = report
        return report

    def _read_ahead(self, inputs: Inputs) -> None:
        """For the offline engine, the readings a run of these inputs would start with, started now
        that they are checked: the visitor looks at the checks before pressing Generate, and the run
        then finds the picture cut out and rigged (pipeline.read_picture_ahead) and the motion read
        (pipeline.read_motion_ahead). Not while this machine renders or has renders waiting (they
        keep the cores), nor where nothing is read ahead (the CLI); a clip with a trim window is not
        read (the run reads a trimmed copy)."""
        inputs = inputs.effective()
        if not (self.read_ahead and inputs.backend == "local"):
            return
        from kmc_ui.backends.local import rendering

        if rendering():
            return
        from kmc_ui.engine.pipeline import read_motion_ahead, read_picture_ahead

        video = inputs.video if inputs.video and not inputs.trim_start else None
        if inputs.image:
            picture = partial(self._sent_picture, inputs.image)
            read_picture_ahead(picture, inputs.orientation, inputs.tier, video, self.cache_dir)
        if video:
            read_motion_ahead(video, inputs.orientation, self.cache_dir)

    def _sent_picture(self, image: str) -> Path:
        """The character picture a run of `image` sends: the same file prepare() gives (a phone's
        HEIC converted, an EXIF rotation applied...), made once and found again by its content."""
        from kmc_ui.media.prepare import prepare_image

        return prepare_image(probe_image(image), self.work_dir).path

    def skeleton_track(self, video: str | None, visitor: str = "") -> dict[str, Any] | None:
        """The reference's skeleton per sampled time, normalised to 0..1, for the player's overlay.

        `video` is a sent (prepared) file, so at most the longest clip preparation sends is read."""
        if not video:
            return None
        from kmc_ui.pose.detect import CHECK_BUDGET_S, analyse_video

        def run() -> dict[str, Any] | None:
            longest = max(LIMITS.video_max_seconds.values())
            deadline = time.monotonic() + CHECK_BUDGET_S
            analysis = analyse_video(video, cache_dir=self.cache_dir, max_seconds=longest, deadline=deadline)
            if analysis.error or not analysis.width or not len(analysis.times):
                return None
            lm = analysis.landmarks
            points = []
            for k in range(len(analysis.times)):
                frame = lm[k]
                if np.isnan(frame[:, 0]).all():
                    points.append(None)
                    continue
                xy = np.nan_to_num(frame[:, :2] / [analysis.width, analysis.height], nan=-1.0)
                vis = np.nan_to_num(frame[:, 3], nan=0.0)
                points.append(
                    [
                        [round(float(x), 4), round(float(y), 4), round(float(v), 2)]
                        for (x, y), v in zip(xy, vis, strict=True)
                    ]
                )
            return {"times": [round(float(t), 3) for t in analysis.times], "points": points}

        return self._pose_pool.submit(visitor, run).result()

    def report(self, owner: str, run_id: str) -> dict[str, Any] | None:
        """Motion-agreement report for a finished run (any backend), stored in its history record.

        Pose is re-detected in the output on the report worker; the plot is saved in the run folder.
        """
        record = self.history.get(owner, run_id)
        if not record or not record.get("output"):
            return None
        if record.get("report"):
            return record["report"]
        from kmc_ui.engine import agreement_report

        inputs = record.get("inputs") or {}
        plot = self.history.run_dir(owner, run_id) / "agreement.png"
        rep = self._report_pool.submit(
            agreement_report,
            inputs.get("video"),
            record["output"],
            character_image=inputs.get("image"),
            plot_path=plot,
            cache_dir=self.cache_dir,
        ).result()
        said = [m.to_dict() for m in rep.summary_msgs()]  # the page renders these in its language
        data = rep.to_dict() | {"summary": rep.summary(), "summary_msgs": said}
        self.history.update(owner, run_id, report=data)
        return data

    def export_comparison(self, owner: str, run_id: str, audio: str = "output", skeleton: bool = False) -> Path:
        """The reference and the result side by side in one MP4, in the run's own folder.

        Only a run of this visitor's History can be exported: the record, and so every path, is
        looked up here. Raises ExportRefused (a plain sentence) otherwise, or when composing fails."""
        from kmc_ui.media.compose import ComposeError, export_comparison

        record = self.history.get(owner, run_id)
        if not record or not record.get("output") or not Path(str(record["output"])).is_file():
            raise ExportRefused(Msg("export.no_result"))
        settings = record.get("settings") or {}
        body = self.body_cached(
            Inputs(
                image=record.get("source_image"),
                video=record.get("source_video"),
                orientation=settings.get("orientation", "video"),
                trim_start=float(settings.get("trim_start") or 0.0),
            )
        )
        skel = body.motion_preview if (skeleton and body) else None
        dest = self.history.run_dir(owner, run_id) / "comparison.mp4"
        audio = audio if audio in ("reference", "output", "none") else "output"
        try:
            reference = (record.get("inputs") or {}).get("video")
            return Path(export_comparison(reference, record["output"], dest, skeleton=skel, audio=audio))
        except ComposeError as exc:
            raise ExportRefused(exc.msg or str(exc)) from exc

    def warm_up(self) -> None:
        """Load the models in the background, so that the first check and the first offline run do
        not pay for it: the offline engine's (when the local backend is here), then the body
        checks' on their worker (after the engine's: mediapipe imported by one thread at a time)."""
        from kmc_ui.engine.pipeline import warm_up as warm_engine
        from kmc_ui.pose import warm_up as warm_checks

        def checks(_: object = None) -> None:
            with contextlib.suppress(RuntimeError):  # the studio was closed meanwhile
                self._pose_pool.submit("", warm_checks, self.cache_dir)

        if "local" in self.backends:
            warm_engine(self.cache_dir).add_done_callback(checks)
        else:
            checks()

    # ------------------------------------------------------------ preparation
    def trim_end(self, inputs: Inputs, duration: float) -> tuple[float | None, bool]:
        """Where the clip sent ends, and whether that is before a cut, for a clip with a cut (the body
        check's suggested window, kmc_ui/checks/trim.py): before the first cut after the trim start;
        with the start past that cut, the rest of the clip from the start (at most the longest clip);
        (None, False) when the clip has no cut, or the start lies before the shot the suggestion
        keeps (the visitor's choice is sent as it is). Read from the body check's analyses (cached
        on disk by content: milliseconds after a check), else analysed on the pose worker."""
        from kmc_ui.checks.pose import window_seconds
        from kmc_ui.checks.trim import trim_for

        if not inputs.video:
            return None, False
        body = self.body_cached(inputs)
        trim = body.trim if body is not None else None
        if trim is None:
            args = (inputs.image, inputs.video, inputs.orientation)
            try:
                trim = self._pose_pool.submit(
                    "", trim_for, *args, cache_dir=self.cache_dir, trim_start=inputs.trim_start
                ).result()
            except RuntimeError:  # shutting down: send the window as chosen
                return None, False
        if trim is None or trim.cut is None:
            return None, False
        if trim.cut <= inputs.trim_start + 0.05:  # the start is past the cut
            return min(duration, inputs.trim_start + window_seconds(inputs.orientation)), False
        if trim.shot > inputs.trim_start + 0.05:
            return None, False
        return trim.end, True

    def prepare(self, inputs: Inputs, cancel: threading.Event | None = None) -> PrepareReport:
        """The files to send, fixed where needed; `cancel` stops a running transcode
        (PreparationCancelled is raised)."""
        from kmc_ui.media.prepare import PreparationCancelled, PreparationError, prepare_image, prepare_video

        report, inputs = self.check(inputs), inputs.effective()
        out = PrepareReport(inputs.image, inputs.video, report.image, report.video)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        errors: dict[str, Msg] = {}  # English -> message, each once
        if report.image and report.image.ok:
            try:
                img = prepare_image(report.image, self.work_dir)
                out.image_path, out.image, out.image_actions = str(img.path), img.info, list(img.actions)
                out.image_action_msgs = list(img.action_msgs)
            except (PreparationError, OSError) as exc:
                if not (isinstance(exc, PreparationError) or is_disk_full(exc)):
                    raise
                errors.setdefault(*_prepare_error(exc))
        if report.video and report.video.ok and report.video.has_video:
            try:
                end, before_cut = self.trim_end(inputs, report.video.duration)
                vid = prepare_video(
                    report.video,
                    inputs.orientation,
                    start=inputs.trim_start,
                    out_dir=self.work_dir,
                    keep_sound=inputs.keep_sound,
                    cancel=cancel,
                    end=end,
                    before_cut=before_cut,
                )
                # The file that will be sent is decoded once (its first keyframe): corrupt picture
                # data is caught here, while the instant checks stay header-only.
                out.video_path, out.video = str(vid.path), probe_video(vid.path, decode=True)
                out.video_actions = list(vid.actions)
                out.video_action_msgs = list(vid.action_msgs)
            except PreparationCancelled:
                raise
            except (PreparationError, OSError) as exc:
                if not (isinstance(exc, PreparationError) or is_disk_full(exc)):
                    raise
                errors.setdefault(*_prepare_error(exc))
        out.error = " ".join(errors)
        out.error_msg = Msg("common.sentences", {"parts": list(errors.values())}) if errors else None
        findings = check_all(out.image, out.video, inputs.prompt, inputs.orientation, inputs.tier, inputs.keep_sound)
        findings += check_pictures(inputs.extra_pictures, inputs.model, inputs.backend)
        out.findings = sort_findings(findings)
        return out

    # ------------------------------------------------------------- generation
    def backend_status(self) -> dict[str, tuple[bool, str]]:
        return {name: backend.ready() for name, backend in self.backends.items()}

    @contextlib.contextmanager
    def session_backend(self, name: str, keys: dict[str, str] | None = None) -> Iterator[Backend | None]:
        """backend_for for a moment (a note, a selector): a backend built with typed keys is closed after."""
        backend = self.backend_for(name, keys)
        try:
            yield backend
        finally:
            if backend is not None and backend is not self.backends.get(name):
                backend.close()

    def backend_for(self, name: str, keys: dict[str, str] | None = None) -> Backend | None:
        """The configured backend, or one built with this session's keys (held in memory only)."""
        from kmc_ui.backends.registry import FACTORIES, KEY_FIELDS, build_backend

        typed = {k: v for k, v in (keys or {}).items() if v and v.strip() and k in KEY_FIELDS.get(name, ())}
        if not typed or name not in FACTORIES:
            return self.backends.get(name)
        return build_backend(name, self.settings, self.media_host, typed)

    def generate(
        self,
        inputs: Inputs,
        owner: str,
        video_url: str = "",
        backend: Backend | None = None,
        cancel: threading.Event | None = None,
        address: str = "",
        username: str | None = None,
    ) -> Iterator[Progress]:
        """Prepare and record the run, put it on the queue, then watch it (see `watch`). Yields
        Progress; ends with done/failed/stopped.

        `cancel` stops the preparing step at once (a transcode), and later stops the run (Stop).
        Closing the generator only stops watching: the run goes on (kmc_ui/worker.py). A run on the
        owner's keys reserves its estimated cost first (kmc_ui/spend.py; `address`: the client's
        address, for the per-address quota) and is refused, before anything is sent, past a cap.
        With KMC_REQUIRE_LOGIN such a run needs a Hugging Face sign-in (`username`), whose quotas
        then follow the account rather than the browser."""
        from kmc_ui.media.prepare import PreparationCancelled

        start = time.monotonic()
        inputs = inputs.effective()
        backend = backend or self.backends.get(inputs.backend)
        if backend is None:
            yield Progress("failed", Msg("progress.unknown_backend", {"b": inputs.backend}), error="unknown backend")
            return
        ok, why = backend.ready()
        if not ok:
            yield Progress("failed", why, error=why)
            return
        if not inputs.image or not inputs.video:
            missing = Msg("progress.add_image" if not inputs.image else "progress.add_video")
            yield Progress("failed", missing, error=missing.en())
            return
        own_key = backend is not self.backends.get(backend.name)  # a session's backend, with its keys
        handed = False  # a visitor's own-key backend goes to the worker with its run, else it is closed here
        try:
            guarded = not own_key and backend.name != "local"  # a run the owner pays for
            if guarded and self.settings.require_login and not username:
                yield Progress("failed", Msg("progress.sign_in_first"), error=SIGN_IN_FIRST)
                return
            spender = f"hf-{safe_user(username)}" if username else owner  # whose quotas the run counts in
            if guarded and self.ledger.caps.any:  # refused at once, before any preparing
                early = self.check(inputs).estimate
                decision = self.ledger.precheck(spender, address, guard_usd(early)) if early else None
                if decision is not None and not decision.ok:
                    yield Progress("failed", decision.text, error=decision.text)
                    return
            yield Progress("preparing", Msg("progress.preparing"))
            try:
                prepared = self.prepare(inputs, cancel)
            except PreparationCancelled:
                yield Progress("stopped", stopped_msg(None, ""), time.monotonic() - start)
                return
            if prepared.blocking:
                errors = [f.text_msg() for f in prepared.findings if f.level == "error"]
                said = prepared.error_msg or Msg("finding.fix_first", {"parts": errors})
                yield Progress("failed", said, time.monotonic() - start, error=prepared.error or said.en())
                return
            assert prepared.image_path and prepared.video_path and prepared.video
            changed = bool(video_url and prepared.video_actions)
            if changed:  # a pasted URL points at the original, not at the fixed file
                video_url = ""
            transport = backend.video_transport(video_url)
            if not transport.ok:  # nothing is recorded or reserved: no way to hand the video over
                said: Msg | str = getattr(transport.text, "msg", transport.text)
                if changed:
                    done = {"a": prepared.video_action_msgs, "t_rest": said}
                    said = Msg("progress.url_not_sent", done)
                text = said if isinstance(said, str) else said.en()
                yield Progress("failed", said, time.monotonic() - start, error=text)  # type: ignore[arg-type]
                return
            run_id = new_id()
            seconds = billed(backend.name, billed_seconds(prepared.video, inputs.orientation))
            est = estimate(backend.name, inputs.model, inputs.tier, seconds)
            if guarded:
                decision = self.ledger.reserve(run_id, spender, address, backend.name, guard_usd(est))
                if not decision.ok:
                    yield Progress("failed", decision.text, time.monotonic() - start, error=decision.text)
                    return
            try:
                # The exact files sent live in the run's folder: served from there, kept for History.
                inputs_dir = self.history.run_dir(owner, run_id) / "inputs"
                image_path = keep_copy(Path(prepared.image_path), inputs_dir)
                video_path = keep_copy(Path(prepared.video_path), inputs_dir)
                extra = {"video_url": video_url, "video_duration": prepared.video.duration}
                # What preparing changed, in words: the page shows what was sent.
                extra["prepared_changes"] = [*prepared.image_actions, *prepared.video_actions]
                change_msgs = [*prepared.image_action_msgs, *prepared.video_action_msgs]
                if len(change_msgs) == len(extra["prepared_changes"]):  # the same, as messages
                    extra["prepared_change_msgs"] = [m.to_dict() for m in change_msgs]
                if inputs.extra_pictures:
                    extra["element"] = self._element_spec(inputs, image_path, inputs_dir)
                if callback := callback_url_for(self.settings, backend.name, run_id):
                    extra["callback_url"] = callback  # Kling posts status changes there (kmc_ui/webhooks.py)
                if own_key:
                    extra["key_source"] = "visitor"  # the keys stay in this process's memory (kmc_ui/worker.py)
                self._record_run(owner, run_id, backend.name, inputs, image_path, video_path, est, seconds, extra)
                # the reference's side of the motion report, read while the result is made: the
                # report after the result then reads only the result (never raises)
                if self.read_ahead:
                    from kmc_ui.engine.agreement import read_reference_ahead

                    read_reference_ahead(video_path, self.cache_dir)
            except OSError as exc:
                if not is_disk_full(exc):
                    raise
                shutil.rmtree(self.history.run_dir(owner, run_id), ignore_errors=True)  # nothing was sent
                self.ledger.settle(run_id, {"status": "failed"})
                yield Progress("failed", Msg("progress.disk_full"), time.monotonic() - start, error=DISK_FULL)
                return
            self.workers.enqueue(run_id, backend if own_key else None)
            handed = True
            yield from self.watch(owner, run_id, cancel, backend.label)
        finally:
            if own_key and not handed:
                backend.close()

    def _record_run(
        self,
        owner: str,
        run_id: str,
        provider: str,
        inputs: Inputs,
        image_path: Path,
        video_path: Path,
        est: Estimate,
        seconds: float,
        extra: dict[str, Any],
    ) -> None:
        """The run's record, written before anything is sent."""
        self.history.create(
            owner,
            extra
            | {
                "run_id": run_id,
                "status": "queued",
                "provider": provider,
                "settings": {
                    "prompt": inputs.prompt,
                    "orientation": inputs.orientation,
                    "tier": inputs.tier,
                    "model": inputs.model,
                    "keep_sound": inputs.keep_sound,
                    "trim_start": inputs.trim_start,
                    "watermark": inputs.watermark,
                },
                "inputs": {"image": str(image_path), "video": str(video_path)},
                "source_image": inputs.image,  # the uploads as given (the body-check cache is keyed by them)
                "source_video": inputs.video,
                "estimate_usd": est.usd,
                "estimate_units": est.units,
                "billed_seconds_estimate": seconds,
            },
        )

    def _element_spec(self, inputs: Inputs, frontal: Path, inputs_dir: Path) -> dict[str, Any]:
        """The identity lock's pictures, prepared like the character image and kept in the run's folder
        (one folder each: two uploads may share a name): what the worker makes the Element from."""
        from kmc_ui.media.prepare import prepare_image

        others = []
        for index, path in enumerate(inputs.extra_pictures, 1):
            prepared = prepare_image(probe_image(path), self.work_dir)
            others.append(keep_copy(Path(prepared.path), inputs_dir / "element" / str(index)))
        return {"digest": element_digest(frontal, others), "frontal": str(frontal), "others": [str(p) for p in others]}

    def my_elements(self, owner: str) -> list[dict[str, Any]]:
        """The visitor's identity Elements, as a page may show them."""
        return [row.public() for row in self.elements.of(owner)]

    def delete_element(self, owner: str, element_id: str, backend: Backend | None = None) -> str:
        """Delete one of the visitor's Elements (at Kling too), with the keys it was made with."""
        backend = backend or self.backends.get(ELEMENTS.backends[0])
        if backend is None or not backend.ready()[0]:
            return Said(Msg("element.delete_unconfigured"))
        return delete_element(backend, self.elements, owner, element_id)

    # ----------------------------------------------------------------- resume
    def pending(self, owner: str) -> list[dict[str, Any]]:
        """Runs whose task the provider accepted and whose result is not on disk: they can be resumed."""
        return [r for r in self.history.pending(owner) if r.get("status") != "canceled"]

    def resume(
        self, owner: str, run_id: str, backend: Backend | None = None, cancel: threading.Event | None = None
    ) -> Iterator[Progress]:
        """Put a recorded task back in a worker's hands and watch it: polled again and downloaded,
        never submitted again, so nothing is paid twice.

        `backend` replaces the configured one (e.g. a per-session backend built with the user's keys).
        """
        try:
            record = self.history.get(owner, run_id)
        except ValueError:  # not a run id at all
            record = None
        if not record:
            said = Msg("progress.no_such_run", {"r": run_id})
            yield Progress("failed", said, run_id=run_id, error=said.en())
            return
        task_id = str(record.get("task_id") or "")
        if not task_id:
            said = Msg("progress.never_accepted")
            yield Progress("failed", said, run_id=run_id, error=said.en())
            return
        output = Path(str(record.get("output") or ""))
        if record.get("status") == "succeeded" and output.is_file():
            took = _took(record)
            yield Progress("done", Msg("progress.done"), took, task_id=task_id, run_id=run_id, result_path=output)
            return
        if record.get("status") == "canceled":
            said = Msg("progress.canceled_no_result")
            yield Progress("failed", said, task_id=task_id, run_id=run_id, error=said.en())
            return
        name = str(record.get("provider") or "")
        backend = backend or self.backends.get(name)
        if backend is None or backend.name != name:
            said = Msg("progress.backend_unavailable", {"b": name})
            yield Progress("failed", said, task_id=task_id, run_id=run_id, error=said.en())
            return
        ok, why = backend.ready()
        if not ok:
            yield Progress("failed", why, task_id=task_id, run_id=run_id, error=why)
            return
        own_key = backend is not self.backends.get(name)
        if record.get("status") not in ACTIVE or own_key:
            self.history.update(owner, run_id, status="submitted", error="", key_source="visitor" if own_key else "")
        self.workers.enqueue(run_id, backend if own_key else None)
        yield from self.watch(owner, run_id, cancel, backend.label)

    # ------------------------------------------------------------- watching
    @property
    def workers(self) -> Workers:
        """This process's workers (kmc_ui/worker.py), started with the first run put on the queue."""
        with self._workers_lock:
            if self._workers is None:
                self._workers = Workers(self, self.settings.workers, self.settings.lease_seconds)
            return self._workers

    def start_workers(self) -> None:
        """Start driving runs now (the app does at launch): unfinished runs continue by themselves."""
        self.workers.start()

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()

    def active_runs(self, owner: str) -> list[dict[str, Any]]:
        """The owner's runs a worker still drives or will drive, newest first."""
        return [r.to_dict() for r in self.history.store.list(safe_id(owner), statuses=ACTIVE)]

    def account_packs(self) -> tuple[list[dict[str, Any]], str]:
        """The Kling account's resource packs on the owner's keys, and "" or why they could not be read.

        Cached for PACKS_CACHE_S, one call at a time: GET /account/costs allows at most 1 call a second."""
        from kmc_ui.backends.base import BackendError

        kling = [b for n, b in self.backends.items() if n in ("kling", "kling2") and hasattr(b, "account_packs")]
        backend = next((b for b in kling if b.ready()[0]), None)
        if backend is None:
            return [], ""
        with self._packs_lock:
            now = time.monotonic()
            if self._packs is not None and now - self._packs[0] < PACKS_CACHE_S:
                return self._packs[1], self._packs[2]
            try:
                packs, why = backend.account_packs(), ""  # type: ignore[attr-defined]
            except BackendError as exc:
                packs, why = [], exc.message
            self._packs = (now, packs, why)
            return packs, why

    def is_owner(self, password: str, username: str | None = None) -> bool:
        """The studio's owner: a signed-in name in KMC_ADMIN_USERS, or KMC_ADMIN_PASSWORD (constant time)."""
        if username and username in self.settings.admin_users:
            return True
        wanted = self.settings.admin_password
        return bool(wanted) and hmac.compare_digest(password.encode(), wanted.encode())

    def settle(self, run_id: str) -> None:
        """A run that ended turns its reservation into its charge, or releases it (kmc_ui/spend.py)."""
        record = self.history.store.get(run_id)
        if record is not None and record.status not in ACTIVE:
            self.ledger.settle(run_id, record.to_dict())

    def live_preview(self, owner: str, run_id: str) -> Path | None:
        """The latest frame the offline engine drew for the owner's run still rendering (a JPEG the
        page shows before the video is done), or None: another provider, an ended run, no frame yet."""
        record = self.history.get(owner, run_id) if run_id else None
        backend = self.backends.get("local")
        if not record or record.get("status") not in ACTIVE or record.get("provider") != "local":
            return None
        task_id = str(record.get("task_id") or "")
        preview = getattr(backend, "preview_path", None)
        if not task_id or preview is None:
            return None
        path = Path(preview(task_id))
        return path if path.is_file() else None

    def live_text(self, record: dict[str, Any]) -> str:
        """What the worker of a run still going last said ("" for an ended run)."""
        step = self.live_step(record)
        return step.text if step is not None else ""

    def live_step(self, record: dict[str, Any]) -> Progress | None:
        """The last step the worker of a run still going published (None for an ended run), with its
        message: a page renders it in its own language (kmc_ui.ui.runtime_text.say(step.msg, step.text))."""
        if record.get("status") not in ACTIVE:
            return None
        step = progress_of((self.history.store.work.get(str(record["run_id"])) or {}).get("progress"))
        if step is not None and not step.finished:
            return step
        return Progress("queued", Msg("progress.waiting_for_worker"), run_id=str(record["run_id"]))  # type: ignore[arg-type]

    def watch(
        self, owner: str, run_id: str, cancel: threading.Event | None = None, label: str = ""
    ) -> Iterator[Progress]:
        """The run's progress as its worker publishes it, until it ends: done, failed or stopped.

        Closing this generator changes nothing for the run. `cancel` set (Stop) stops the run and
        waits for its worker to say what became of the task (see stop_run)."""
        stopping = False
        try:
            while True:
                record = self.history.get(owner, run_id)
                if record is None:
                    said = Msg("progress.no_such_run", {"r": run_id})
                    yield Progress("failed", said, run_id=run_id, error=said.en())
                    return
                status, task_id = str(record.get("status") or ""), str(record.get("task_id") or "")
                row = self.history.store.work.get(run_id) or {}
                step = progress_of(row.get("progress"))
                if status not in ACTIVE:
                    yield self._ended(record, step, label)
                    return
                if cancel is not None and cancel.is_set() and not stopping:
                    stopping = True
                    self.stop_run(owner, run_id)
                    continue
                if step is None or step.finished:
                    step = Progress("queued", Msg("progress.waiting_for_worker"), task_id=task_id, run_id=run_id)
                yield step
                time.sleep(WATCH_TICK)
        finally:
            if cancel is not None and cancel.is_set() and not stopping:
                self.stop_run(owner, run_id)

    def _ended(self, record: dict[str, Any], step: Progress | None, label: str) -> Progress:
        """The last step of an ended run, from its record (and its worker's last words)."""
        run_id, task_id = str(record["run_id"]), str(record.get("task_id") or "")
        status, error = str(record.get("status") or ""), str(record.get("error") or "")
        output = Path(str(record.get("output") or ""))
        # the worker's count (left out, every ended run read "Elapsed: 0 s"), else the record's
        elapsed = step.elapsed if step is not None else _took(record)
        if status == "succeeded" and output.is_file():
            duration = record.get("result_duration")
            # its worker's last words (in any language: a message), else the notes its record keeps
            said = ready_msg(record_notes(record))
            if step is not None and step.stage == "done" and step.msg is not None:
                said = step.msg
            return Progress(
                "done",
                said,
                elapsed,
                task_id=task_id,
                run_id=run_id,
                result_path=output,
                result_duration=duration,
            )
        if status in ("canceled", "stopped", "stopped_waiting") and not (status == "stopped_waiting" and error):
            label = label or str(record.get("provider") or "")
            return Progress("stopped", stopped_msg(record, label), elapsed, task_id=task_id, run_id=run_id)
        said: Msg | str = error  # the record's English (translated on a Chinese page) unless its worker said more
        if step is not None and step.stage == "failed" and step.error == error:
            said = step.msg or step.text
        if not said:
            said = Msg("progress.run_ended", {"w_s": status})
        text = said.en() if isinstance(said, Msg) else said
        return Progress("failed", said, elapsed, task_id=task_id, run_id=run_id, error=error or text)  # type: ignore[arg-type]

    def stop_run(self, owner: str, run_id: str, wait: float = STOP_WAIT) -> dict[str, Any] | None:
        """Stop a run: its worker cancels the task where the provider can, or keeps it for resuming
        (jobs.run_job); a run no worker holds is recorded stopped here. Waits up to `wait` seconds
        for the run to end; its record (None for a run that is not the owner's)."""
        record = self.history.get(owner, run_id)
        if record is None or record.get("status") not in ACTIVE:
            return record
        if not self.history.store.work.request_stop(run_id, time.time(), alive):
            status = "stopped_waiting" if record.get("task_id") else "stopped"
            record = self.history.update(owner, run_id, status=status)
            self.settle(run_id)
            return record
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            record = self.history.get(owner, run_id)
            if record is None or record.get("status") not in ACTIVE:
                break
            time.sleep(0.05)
        return record


class ExportRefused(ValueError):
    """The comparison cannot be made; the text says why and what to do (`msg`: as a message, when
    it has one)."""

    def __init__(self, said: Msg | str) -> None:
        self.msg = said if isinstance(said, Msg) else None
        super().__init__(said.en() if isinstance(said, Msg) else said)


def _body_key(inputs: Inputs) -> tuple[str, str, str]:
    return (inputs.image or "", inputs.video or "", inputs.orientation)


def safe_user(name: str) -> str:
    """A Hugging Face user name as an id fragment (letters, digits, - and _)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]


def element_findings(inputs: Inputs) -> list[Finding]:
    """The identity lock's findings: its pictures against the Element limits, what it costs, and that it
    makes the run follow the video's orientation (kmc_ui/elements.py). None without extra pictures."""
    if not inputs.extra_pictures:
        return []
    findings = check_pictures(inputs.extra_pictures, inputs.model, inputs.backend)
    findings.append(Finding.of("hint", "element", "element_cost", COST_MSG))
    if inputs.orientation != "video":
        findings.append(Finding.of("warning", "element", "element_orientation", ORIENTATION_MSG))
    return findings


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


def _took(record: dict[str, Any]) -> float:
    """How long a run took, by its record: from its creation to its result (0 when not recorded)."""
    created, finished = record.get("created_at"), record.get("finished_at")
    return max(0.0, float(finished) - float(created)) if created and finished else 0.0
