"""The preparation step ("What will be sent"): the exact files the provider receives.

When an input breaks a limit that can be fixed without guessing, it is fixed here and the
result is shown before anything is sent; a file that already conforms is sent as-is (its own
path comes back, nothing is re-encoded). Every provider limit comes from kmc_ui.limits.

Images (kmc_ui.media.image_convert): other formats -> PNG (JPEG when PNG would be over the size
limit), EXIF orientation applied, CMYK / 16-bit / palette / grey+alpha -> 8-bit RGB(A) or L,
over-large files re-encoded and downscaled, a wrong extension fixed by a plain copy.

Videos (kmc_ui.media.video_plan, video_encode): over-long clips are trimmed to [start, start+max];
a conforming H.264 file is cut by stream copy from the keyframe at or before `start`; other
codecs or containers, oversize frames, odd sizes, variable frame rates, rotation and over-size
files are re-encoded to H.264 yuv420p, even sizes, AAC, +faststart.

Every result is re-probed and checked against the same rules as the input. Results are cached
in out_dir by a hash of the source's content and the options: the same request costs one hash.

UI wiring: `plan_image` / `plan_video` list the changes before doing them ([] = "No changes
needed: the file is sent as-is"); `needs_preparation(findings)` says the same from the checks.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kmc_ui.checks.rules import check_image, check_video
from kmc_ui.findings import Finding
from kmc_ui.limits import LIMITS, InputLimits
from kmc_ui.media import image_convert, video_encode
from kmc_ui.media.image_convert import CONFORMING_IMAGE_MODES, ext_for
from kmc_ui.media.prepare_common import (
    PreparationCancelled,
    PreparationError,
    cache_lookup,
    cache_store,
    elapsed_ms,
    ensure_dir,
    failed,
    limit_fields,
    refuse_unfixable,
    result_stem,
    tmp_name,
)
from kmc_ui.media.probe import ImageInfo, VideoInfo, probe_image, probe_video
from kmc_ui.media.video_plan import VideoPlan, build_plan, keyframe_at_or_before, trimmed_msg
from kmc_ui.messages import Msg, Said

__all__ = [
    "NO_CHANGES",
    "PreparationCancelled",
    "PreparationError",
    "PreparedImage",
    "PreparedVideo",
    "VideoPlan",
    "keyframe_at_or_before",
    "needs_preparation",
    "plan_image",
    "plan_video",
    "planned_fixes",
    "prepare_image",
    "prepare_video",
]

NO_CHANGES = "No changes needed: the file is sent as-is."


@dataclass(frozen=True)
class PreparedImage:
    path: Path  # the file to send (the source itself when nothing had to change)
    source: Path
    info: ImageInfo  # probe of `path`
    actions: list[str] = field(default_factory=list)  # what was done, in words; empty = sent as-is
    elapsed_ms: float = 0.0
    cached: bool = False  # an earlier identical preparation was reused
    action_msgs: list[Msg] = field(default_factory=list)  # `actions` as messages (the page's language)

    @property
    def changed(self) -> bool:
        return self.path != self.source

    def summary(self) -> str:
        return "; ".join(self.actions) if self.actions else NO_CHANGES


@dataclass(frozen=True)
class PreparedVideo:
    path: Path  # the file to send (the source itself when nothing had to change)
    source: Path
    info: VideoInfo  # probe of `path`
    actions: list[str] = field(default_factory=list)  # what was done, in words; empty = sent as-is
    reencoded: bool = False
    elapsed_ms: float = 0.0
    window: tuple[float, float] | None = None  # (start, end) in the source actually kept, when trimmed
    cached: bool = False
    action_msgs: list[Msg] = field(default_factory=list)  # `actions` as messages (the page's language)

    @property
    def changed(self) -> bool:
        return self.path != self.source

    def summary(self) -> str:
        return "; ".join(self.actions) if self.actions else NO_CHANGES


# ----------------------------------------------------------------------------- plans


def planned_fixes(findings: Iterable[Finding]) -> list[Finding]:
    """The findings the preparation step fixes by itself (image and video only)."""
    return [f for f in findings if f.auto_fix and f.input in ("image", "video")]


def needs_preparation(findings: Iterable[Finding]) -> bool:
    """True when preparing will change something the checks found; False: 'sent as-is'.

    plan_image / plan_video are exact (they also see colour modes and pixel formats the
    rules do not flag); this is the quick answer from findings alone.
    """
    return bool(planned_fixes(findings))


def plan_image(info: ImageInfo, limits: InputLimits = LIMITS) -> list[str]:
    """What prepare_image will do, in words, before doing it; [] means the file is sent as-is.

    Raises PreparationError when the image has a problem preparation cannot fix.
    """
    refuse_unfixable(check_image(info, limits=limits))
    return image_convert.plan_steps(info, image_convert.image_needs(info, limits), limits)


def plan_video(
    info: VideoInfo,
    orientation: str = "video",
    start: float = 0.0,
    keep_sound: bool = True,
    limits: InputLimits = LIMITS,
    end: float | None = None,
    before_cut: bool = False,
) -> VideoPlan:
    """What prepare_video will do (plan.actions in words; plan.needed False = sent as-is).

    Reads the container index for keyframes; decodes nothing. `start` matters only when the
    clip is longer than the orientation allows: the window [start, start + max] is kept
    (start is clamped so the window fits in the clip), or when `end` is given: the window
    [start, end] is kept (`before_cut`: that end is before a cut, and the actions say so).
    Raises PreparationError when the video has a problem preparation cannot fix.
    """
    refuse_unfixable(check_video(info, orientation, keep_sound, limits=limits))
    return build_plan(info, orientation, start, keep_sound, limits, end=end, before_cut=before_cut)


# ----------------------------------------------------------------------------- images


def prepare_image(info: ImageInfo, out_dir: Path | str | None = None, limits: InputLimits = LIMITS) -> PreparedImage:
    """The image file to send: the source itself when it conforms, else a fixed copy in out_dir."""
    t0 = time.perf_counter()
    refuse_unfixable(check_image(info, limits=limits))
    needs = image_convert.image_needs(info, limits)
    source = Path(info.path)
    if not needs.decode:  # sent with its own bytes: make sure they decode (the checks read headers only)
        image_convert.verify_decodes(info)
    if not needs.any:
        return PreparedImage(source, source, info, [], elapsed_ms(t0))

    out = ensure_dir(out_dir)
    stem = result_stem(source, {"kind": "image", "limits": limit_fields(limits, "image_")}, "Character image")
    hit = cache_lookup(out, stem)
    if hit is not None:
        path, meta = hit
        actions = list(meta["actions"])  # type: ignore[call-overload]
        msgs = stored_msgs(meta, actions)
        return PreparedImage(path, source, probe_image(path), actions, elapsed_ms(t0), cached=True, action_msgs=msgs)

    if needs.decode:
        data, ext, msgs = image_convert.convert_image(info, limits)
    else:  # right content, wrong name: the same bytes under the right extension
        fmt = info.format.upper()
        data, ext = b"", ext_for(fmt)
        said = info.extension or "-"
        msgs = [Msg("prepare.image_renamed", {"ext": ext, "fmt": fmt, "said": said})]
    actions = [m.en() for m in msgs]
    final = out / f"{stem}{ext}"
    tmp = tmp_name(final)
    try:
        if data:
            tmp.write_bytes(data)
        else:
            shutil.copyfile(source, tmp)
        result = probe_image(tmp)
        _verify_image(result, limits)
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
    cache_store(out, stem, final, {"actions": actions, "action_msgs": [m.to_dict() for m in msgs]})
    return PreparedImage(final, source, probe_image(final), actions, elapsed_ms(t0), action_msgs=msgs)


def _verify_image(info: ImageInfo, limits: InputLimits) -> None:
    problems = [Said(f.msg) if f.msg else f.message for f in check_image(info, limits=limits) if f.level == "error"]
    if info.ok and (info.mode not in CONFORMING_IMAGE_MODES or info.exif_orientation not in (0, 1) or info.frames > 1):
        said = {"fmt": info.format, "mode": info.mode, "o": info.exif_orientation, "n": info.frames}
        problems.append(Said(Msg("prepare.problem_image", said)))
    if problems:
        said = Msg("prepare.image_not_conform", {"t_why": problems[0]})
        raise PreparationError(failed(said, "rgb"))


# ----------------------------------------------------------------------------- videos


def prepare_video(
    info: VideoInfo,
    orientation: str = "video",
    start: float = 0.0,
    out_dir: Path | str | None = None,
    keep_sound: bool = True,
    limits: InputLimits = LIMITS,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
    end: float | None = None,
    before_cut: bool = False,
) -> PreparedVideo:
    """The video file to send: the source itself when it conforms, else a trimmed / remuxed /
    re-encoded file in out_dir (default: a kmc-prepared folder in the system temp dir).

    end, before_cut: the window [start, end] is kept (see plan_video).

    progress: called with 0..1 while re-encoding (from a reader thread).
    cancel: set it to stop a running ffmpeg at once (PreparationCancelled is raised).
    timeout: seconds for one ffmpeg run (default grows with duration and frame size).
    """
    t0 = time.perf_counter()
    plan = plan_video(info, orientation, start, keep_sound, limits, end=end, before_cut=before_cut)
    source = Path(info.path)
    if not plan.needed:
        return PreparedVideo(source, source, info, [], False, elapsed_ms(t0))

    out = ensure_dir(out_dir)
    params = {
        "kind": "video",
        "trim": [plan.trim_start, plan.trim_length],
        "audio": plan.keep_audio,
        "limits": limit_fields(limits, "video_"),
    }
    stem = result_stem(source, params, "Motion video")
    hit = cache_lookup(out, stem)
    if hit is not None:
        path, meta = hit
        window = tuple(meta["window"]) if meta.get("window") else None  # type: ignore[arg-type]
        actions = list(meta["actions"])  # type: ignore[call-overload]
        return PreparedVideo(
            path,
            source,
            probe_video(path),
            actions,
            bool(meta["reencoded"]),
            elapsed_ms(t0),
            window,
            cached=True,
            action_msgs=stored_msgs(meta, actions),
        )

    result: video_encode.Result | None = None
    if plan.copy:
        result, why = video_encode.copy_cut(plan, out / f"{stem}{plan.container_ext}", limits)
        if result is None:  # the copy would not conform: re-encode the wanted window instead
            again = {"force_reason": why, "end": end, "before_cut": before_cut}
            plan = build_plan(info, orientation, start, keep_sound, limits, **again)
    notes: list[Msg] = []
    if result is None:
        result, notes = video_encode.encode(plan, out / f"{stem}.mp4", limits, progress, cancel, timeout)
    path, got = result

    msgs = [*plan.action_msgs, *notes]
    window: tuple[float, float] | None = None
    if plan.trim_start is not None:  # report the window actually kept, from the probed result
        window = (plan.trim_start, plan.trim_start + got.duration)
        msgs[0] = trimmed_msg(window[0], window[1], encoded=plan.encode)
    if got.duration < plan.out_length - max(0.5, 0.05 * plan.out_length):
        msgs.append(Msg("prepare.short_read", {"a": f"{got.duration:.2f}", "b": f"{plan.out_length:.2f}"}))
    actions = [m.en() for m in msgs]
    meta = {"actions": actions, "action_msgs": [m.to_dict() for m in msgs], "reencoded": plan.encode, "window": window}
    cache_store(out, stem, path, meta)
    return PreparedVideo(path, source, got, actions, plan.encode, elapsed_ms(t0), window, action_msgs=msgs)


def stored_msgs(meta: dict, actions: list[str]) -> list[Msg]:  # type: ignore[type-arg]
    """The action messages a cache entry keeps beside its English (none for an older entry)."""
    msgs = [Msg.from_dict(d) for d in meta.get("action_msgs") or []]
    return [m for m in msgs if m is not None] if len(msgs) == len(actions) and all(msgs) else []
