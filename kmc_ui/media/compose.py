"""Side-by-side comparison export: reference | result (| skeleton) in ONE ffmpeg filter graph.

Every panel is decoded by ffmpeg (which applies a video's rotation on its own: phone clips come
out upright), brought to a common frame rate, scaled to a common height with an even width, given
square pixels and an optional label (drawtext), then the panels are stacked with `hstack`. The
chosen audio track is copied when it is AAC mono/stereo, else encoded to AAC. The result is H.264
yuv420p with even sizes and the index first (+faststart), and is probed before it is handed back.
No frame ever passes through Python (moviepy's frame piping was 5-9x slower here, and writes MP3
audio without faststart: bench/bench_compose.py).

    plan = plan_comparison(reference, output, skeleton=None, labels=("Reference", "Result"))
    plan.notes            # what was decided that the user should know (no font, no audio, ...)
    export_comparison(reference, output, "cmp.mp4", audio="reference")  # -> Path, probed

Sizes: unless `height` is given, the common height is the smallest panel's height, lowered so
the whole layout fits in 1920x720 (a 10 s pair of 1080p videos exports >= 5x real time on 2 cores;
pass height=1080 for a sharper, slower export). Duration: the shorter of reference and result; a
shorter skeleton video holds its last frame.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av

from kmc_ui.media.ffmpeg import FFmpegError, run_ffmpeg
from kmc_ui.media.probe import VIDEO_DEMUXERS, VideoInfo, probe_video
from kmc_ui.messages import Msg

log = logging.getLogger(__name__)

AUDIO_CHOICES = ("reference", "output", "none")
ROLES = ("reference", "output", "skeleton")
ROLE_NAMES = {"reference": "Reference video", "output": "Result video", "skeleton": "Skeleton video"}
DEFAULT_SKELETON_LABEL = "Skeleton"

# The layout fits in this box unless a height is asked for: 720 px high keeps a 10 s pair of 1080p
# videos >= 5x real time on 2 cores (bench/bench_compose.py: at 1080 px high it is ~2.5x, the
# decoding of two 1080p streams alone takes ~2.3 s of CPU) and plays everywhere.
FIT_WIDTH, FIT_HEIGHT = 1920, 720
MIN_HEIGHT = 64
MAX_WIDTH = 4096  # an explicit height may not make the layout wider (H.264 level 5.1 and browsers)
MAX_FPS = 60.0
DEFAULT_FPS = 30.0

X264_CRF = 20
# x264 preset by output pixels per second, measured by bench/bench_compose.py on 2 cores: the
# slower presets only where the frame is small enough to stay >= 5x real time.
X264_PRESETS = ((8_000_000, "ultrafast"), (4_000_000, "superfast"), (0, "veryfast"))
BITS_PER_PIXEL = 0.2  # bit-rate cap (ultrafast at CRF 20 on grainy phone video can reach 60 Mb/s)
MIN_MAXRATE = 2_000_000
AUDIO_BITRATE = 128_000
SCALE_FLAGS = "bilinear"  # downscaling a video for a comparison: bicubic costs more and shows no gain
# A panel shown at this share of its height or less is decoded without H.264's deblocking filter
# (-skip_loop_filter): ~10-15% less decoding, and the block edges it would smooth are averaged
# away by the downscale.
SKIP_DEBLOCK_BELOW = 0.75

# Fonts tried when fontconfig (fc-match / fc-list) is not installed.
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
LATIN_MAX = 0x24F  # what every font in KNOWN_FONTS covers (Basic Latin .. Latin Extended-B)


class ComposeError(RuntimeError):
    """The comparison cannot be exported. `input` names the file at fault ("" when it is none of
    them); the text says what is wrong and the fix, and can be shown as-is."""

    def __init__(self, message: str | Msg, input: str = "") -> None:
        self.msg = message if isinstance(message, Msg) else None  # for a page in another language
        super().__init__(message.en() if isinstance(message, Msg) else message)
        self.input = input


def _with_fix(what: Msg, fix: str) -> Msg:
    """What is wrong, then "Fix: ..." (`fix` is an export.fix_* code)."""
    return Msg("common.with_fix", {"what": what, "fix": Msg(f"export.fix_{fix}")})


class ComposeCancelled(ComposeError):
    """The export was stopped on request (the `cancel` event was set)."""


@dataclass(frozen=True)
class Panel:
    role: str  # reference / output / skeleton
    info: VideoInfo
    width: int  # scaled, even
    height: int
    label: str = ""  # "" = no label on this panel
    font: str = ""  # TTF used for the label

    @property
    def name(self) -> str:
        return ROLE_NAMES[self.role]

    def decode_args(self) -> list[str]:
        """ffmpeg input options for this panel's video (before its -i)."""
        if self.info.codec == "h264" and self.height <= self.info.height * SKIP_DEBLOCK_BELOW:
            return ["-skip_loop_filter", "all"]
        return []


@dataclass(frozen=True)
class ComparisonPlan:
    """Everything decided before ffmpeg runs: the layout, the timing, the audio and the notes."""

    panels: tuple[Panel, ...]
    width: int
    height: int
    fps: Fraction
    duration: float  # seconds; 0 when no input knows its duration (then the shortest one ends it)
    audio: str  # what was asked: reference / output / none
    audio_panel: int | None  # index of the panel whose audio is used, None = silent
    preset: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    audio_copy: bool = False  # the chosen track is AAC mono/stereo: copied, not encoded again

    def ffmpeg_args(self, dest: Path | str) -> list[str]:
        """The ffmpeg arguments (after the global flags) that write this plan to `dest`."""
        args: list[str] = []
        for panel in self.panels:
            if self.duration > 0:  # stop decoding where the export ends
                args += ["-t", f"{self.duration:.3f}"]
            args += [*panel.decode_args(), "-i", panel.info.path]
        args += ["-filter_complex", self.filter_graph(), "-map", "[v]"]
        if self.audio_panel is not None and self.audio_copy:
            args += ["-map", f"{self.audio_panel}:a:0", "-c:a", "copy"]
        elif self.audio_panel is not None:
            args += ["-map", f"{self.audio_panel}:a:0", "-c:a", "aac", "-b:a", str(AUDIO_BITRATE), "-ac", "2"]
        else:
            args += ["-an"]
        pixels_per_second = self.width * self.height * float(self.fps)
        maxrate = int(max(MIN_MAXRATE, pixels_per_second * BITS_PER_PIXEL))
        args += ["-c:v", "libx264", "-preset", self.preset, "-crf", str(X264_CRF)]
        args += ["-maxrate", str(maxrate), "-bufsize", str(maxrate * 2), "-pix_fmt", "yuv420p", "-profile:v", "high"]
        if self.duration > 0:
            args += ["-t", f"{self.duration:.3f}"]
        args += ["-sn", "-dn", "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", str(dest)]
        return args

    def filter_graph(self) -> str:
        rate = f"{self.fps.numerator}/{self.fps.denominator}"
        chains = []
        for i, panel in enumerate(self.panels):
            chain = [f"fps={rate}", f"scale={panel.width}:{panel.height}:flags={SCALE_FLAGS}", "setsar=1"]
            if panel.label and panel.font:
                chain.append(_drawtext(panel.label, panel.font, panel.width, panel.height))
            chains.append(f"[{i}:v:0]{','.join(chain)}[p{i}]")
        inputs = "".join(f"[p{i}]" for i in range(len(self.panels)))
        # Without a known duration the first input to end ends the export; otherwise -t does,
        # and a shorter skeleton video holds its last frame (hstack's default).
        shortest = ":shortest=1" if self.duration <= 0 else ""
        chains.append(f"{inputs}hstack=inputs={len(self.panels)}{shortest},format=yuv420p[v]")
        return ";".join(chains)


def plan_comparison(
    reference: str | Path,
    output: str | Path,
    *,
    skeleton: str | Path | None = None,
    labels: Sequence[str] | None = ("Reference", "Result"),
    audio: str = "reference",
    height: int | None = None,
    font: str | Path | None = None,
) -> ComparisonPlan:
    """Probe the inputs (headers only) and decide the layout. Raises ComposeError naming the input."""
    if audio not in AUDIO_CHOICES:
        raise ComposeError(Msg("export.audio", {"l": ", ".join(AUDIO_CHOICES), "a": repr(audio)}))
    sources = [("reference", reference), ("output", output)]
    if skeleton is not None and str(skeleton):
        sources.append(("skeleton", skeleton))
    infos = [_probe(role, path) for role, path in sources]
    facts = [_header_facts(info.path) for info in infos]
    aspects = [_display_aspect(info, sar) for info, (sar, _) in zip(infos, facts, strict=True)]
    notes: list[str] = []

    target = _common_height(infos, aspects, height)
    widths = [_even(target * a) for a in aspects]

    texts = _labels_for(labels, len(infos))
    fonts = _fonts_for(texts, font, notes)
    panels = tuple(
        Panel(role, info, w, target, text if fnt else "", fnt)
        for (role, _), info, w, text, fnt in zip(sources, infos, widths, texts, fonts, strict=True)
    )

    rate = _common_rate(infos[1], infos[0])
    known = [i.duration for i in infos[:2] if i.duration > 0]
    duration = round(min(known), 3) if known else 0.0
    if skeleton is not None and infos[-1].duration and duration and infos[-1].duration < duration - 0.05:
        notes.append(
            f"The skeleton video is shorter ({infos[-1].duration:.1f} s) than the export ({duration:.1f} s): "
            "its last frame stays on screen to the end."
        )

    audio_panel: int | None = None
    audio_copy = False
    if audio != "none":
        index = 0 if audio == "reference" else 1
        if infos[index].has_audio:
            audio_panel = index
            # AAC in mono or stereo plays everywhere: copied as it is (an encode costs ~0.4 s of CPU)
            audio_copy = infos[index].audio_codec == "aac" and 1 <= facts[index][1] <= 2
        else:
            notes.append(f"The {ROLE_NAMES[ROLES[index]].lower()} has no audio track: the export is silent.")

    width = sum(widths)
    pixels_per_second = width * target * float(rate)
    preset = next(name for threshold, name in X264_PRESETS if pixels_per_second > threshold)
    return ComparisonPlan(panels, width, target, rate, duration, audio, audio_panel, preset, tuple(notes), audio_copy)


def export_comparison(
    reference: str | Path,
    output: str | Path,
    dest: str | Path,
    *,
    skeleton: str | Path | None = None,
    labels: Sequence[str] | None = ("Reference", "Result"),
    audio: str = "reference",
    height: int | None = None,
    font: str | Path | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> Path:
    """Write reference | output (| skeleton) side by side to `dest` (MP4) and return its path.

    Raises ComposeError (ComposeCancelled when `cancel` is set). Notes that do not stop the export
    (labels skipped for want of a font, a silent source) are logged; call plan_comparison() first
    to show them, or use export_plan().
    """
    plan = plan_comparison(reference, output, skeleton=skeleton, labels=labels, audio=audio, height=height, font=font)
    return export_plan(plan, dest, progress=progress, cancel=cancel, timeout=timeout)


def export_plan(
    plan: ComparisonPlan,
    dest: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> Path:
    """Run a plan made by plan_comparison(): one ffmpeg process, then a probe of what it wrote."""
    dest = Path(dest)
    for note in plan.notes:
        log.info("comparison export: %s", note)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ComposeError(_with_fix(Msg("export.folder", {"w_why": exc.strerror or str(exc)}), "folder")) from None
    tmp = dest.with_name(f".{dest.stem}.{secrets.token_hex(4)}.part.mp4")
    seconds = plan.duration or max((p.info.duration for p in plan.panels), default=0.0) or 30.0
    if timeout is None:  # generous: a loaded 2-core machine is still well under this
        timeout = 60 + seconds * 6 * max(1.0, plan.width * plan.height / (1920 * 1080))
    try:
        try:
            run_ffmpeg(plan.ffmpeg_args(tmp), timeout=timeout, duration=seconds, progress=progress, cancel=cancel)
        except FFmpegError as exc:
            if exc.cancelled:
                raise ComposeCancelled(Msg("export.stopped")) from None
            if exc.timed_out:
                raise ComposeError(_with_fix(Msg("export.took_too_long", {"s": f"{timeout:.0f}"}), "lower")) from None
            detail = f": {exc.detail}" if exc.detail else ""
            raise ComposeError(_with_fix(Msg("export.failed", {"why": f"{exc}{detail}"}), "failed")) from None
        _verify(tmp, plan)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


# ----------------------------------------------------------------------------------- layout
def _probe(role: str, path: str | Path) -> VideoInfo:
    name = ROLE_NAMES[role]
    info = probe_video(path)
    said = {"w_name": name, "f": Path(path).name}
    if not info.ok:
        what = Msg("export.input_unreadable", said | {"t_err": info.error_msg or info.error})
        raise ComposeError(_with_fix(what, "missing" if info.missing else "unreadable"), role)
    if not info.has_video or not info.width or not info.height:
        raise ComposeError(_with_fix(Msg("export.no_picture", said), "video_file"), role)
    return info


def _display_aspect(info: VideoInfo, sar: float) -> float:
    """Width / height as shown: rotation applied (probe does that) and non-square pixels too."""
    if info.rotation in (90, 270):
        sar = 1 / sar
    return info.width * sar / info.height


def _header_facts(path: str) -> tuple[float, int]:
    """(pixel aspect ratio, audio channels) from the container header: (1.0, 0) when unknown."""
    options = {"format_whitelist": VIDEO_DEMUXERS, "protocol_whitelist": "file", "probesize": "32"}
    try:
        with av.open(path, options={**options, "analyzeduration": "0"}, metadata_errors="ignore") as container:
            value = container.streams.video[0].sample_aspect_ratio
            audio = container.streams.audio
            channels = int(audio[0].codec_context.channels or 0) if audio else 0
    except Exception:  # the probe already read this file: an odd header just means square pixels
        return 1.0, 0
    try:
        sar = float(value) if value else 1.0
    except (ZeroDivisionError, TypeError, ValueError):
        sar = 1.0
    return (sar if math.isfinite(sar) and 0.1 < sar < 10 else 1.0), channels


def _even(value: float) -> int:
    """The nearest even number (halves go up), at least 2: H.264 4:2:0 needs even sizes."""
    return max(2, 2 * math.floor(value / 2 + 0.5))


def _common_height(infos: list[VideoInfo], aspects: list[float], height: int | None) -> int:
    total_aspect = sum(aspects)
    if height is not None:
        target = _even(height)
        widest = 2 * math.floor(MAX_WIDTH / total_aspect / 2)
        if target < MIN_HEIGHT:
            raise ComposeError(f"The export height must be at least {MIN_HEIGHT} px (got {height}).")
        if sum(_even(target * a) for a in aspects) > MAX_WIDTH:
            raise ComposeError(
                f"At {target} px high the side-by-side would be wider than {MAX_WIDTH} px. "
                f"Fix: pick a height of {widest} px or less (or leave it empty for the default)."
            )
        return target
    target = min(min(i.height for i in infos), FIT_HEIGHT, math.floor(FIT_WIDTH / total_aspect))
    target = max(MIN_HEIGHT, 2 * math.floor(target / 2))
    while sum(_even(target * a) for a in aspects) > FIT_WIDTH and target > MIN_HEIGHT:
        target -= 2  # rounding each panel to even can add a pixel or two
    return target


def _common_rate(output: VideoInfo, reference: VideoInfo) -> Fraction:
    """The result's frame rate (what the comparison is about), else the reference's, capped at 60."""
    fps = output.fps or reference.fps or DEFAULT_FPS
    fps = min(MAX_FPS, max(1.0, fps))
    for exact in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(fps - float(exact)) < 0.005:
            return exact
    return Fraction(fps).limit_denominator(1000)


def _labels_for(labels: Sequence[str] | None, count: int) -> list[str]:
    if not labels:
        return [""] * count
    texts = [_clean_label(t) for t in list(labels)[:count]]
    if count == 3 and len(texts) == 2:
        texts.append(DEFAULT_SKELETON_LABEL)
    return texts + [""] * (count - len(texts))


def _clean_label(text: str) -> str:
    """One line of printable text, at most 60 characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return " ".join(text.split())[:60]


# ------------------------------------------------------------------------------------ fonts
def _fonts_for(texts: list[str], font: str | Path | None, notes: list[str]) -> list[str]:
    """A TTF for each non-empty label ("" where none can draw it; the reason goes to notes)."""
    wanted = [t for t in texts if t]
    if not wanted:
        return [""] * len(texts)
    if font is not None and str(font):
        path = Path(font)
        if not path.is_file():
            raise ComposeError(
                f"Label font: {path.name} does not exist. Fix: give a .ttf/.otf file, or leave it empty."
            )
        return [str(path) if t else "" for t in texts]
    found = [find_font(t) if t else "" for t in texts]
    missing = [t for t, f in zip(texts, found, strict=True) if t and not f]
    if missing:
        quoted = ", ".join(f"'{t}'" for t in missing)
        if len(missing) == len(wanted) and all(max(map(ord, t)) <= LATIN_MAX for t in missing):
            notes.append(
                f"No font was found, so the labels ({quoted}) were left off. Fix: install a font "
                "(Debian: apt-get install fonts-dejavu-core)."
            )
        else:
            notes.append(
                f"No installed font has every character of {quoted}, so that label was left off. Fix: install "
                "a font that covers it (Debian: fonts-noto-cjk for Chinese)."
            )
    return found


@lru_cache(maxsize=64)
def find_font(text: str = "Reference") -> str:
    """Path of a sans-serif TTF/OTF that has every character of `text`, or "" when none does.

    Asks fontconfig (fc-match, checked against fc-list's charset filter); without fontconfig,
    a list of known paths is tried for Latin text.
    """
    codes = sorted({ord(ch) for ch in text if not ch.isspace()})
    if not codes:
        return ""
    charset = " ".join(f"{c:x}" for c in codes)
    fc_match, fc_list = shutil.which("fc-match"), shutil.which("fc-list")
    if fc_match and fc_list:
        covering = _lines([fc_list, f":charset={charset}", "--format", "%{file}\n"])
        covering = [f for f in covering if f.lower().endswith((".ttf", ".otf", ".ttc"))]
        if not covering:
            return ""
        best = _lines([fc_match, "--format", "%{file}\n", f"sans:charset={charset}"])
        if best and best[0] in covering:
            return best[0]
        regular = [f for f in covering if "Sans" in f and not any(s in f for s in ("Bold", "Oblique", "Italic"))]
        return sorted(regular or covering)[0]
    if max(codes) <= LATIN_MAX:
        return next((f for f in KNOWN_FONTS if os.path.isfile(f)), "")
    return ""


def _lines(cmd: list[str]) -> list[str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def _drawtext(text: str, font: str, panel_width: int, panel_height: int) -> str:
    size = label_size(text, font, panel_width, panel_height)
    pad = max(3, size // 3)
    options = {
        "fontfile": font,
        "text": text,
        "expansion": "none",  # the text is shown as typed: '%' is not a format sequence
        "fontsize": str(size),
        "fontcolor": "white",
        "box": "1",
        "boxcolor": "black@0.55",
        "boxborderw": str(pad),
        "x": str(pad * 2),
        "y": str(pad * 2),
    }
    return "drawtext=" + ":".join(f"{k}={_escape(v)}" for k, v in options.items())


def label_size(text: str, font: str, panel_width: int, panel_height: int) -> int:
    """Font size in px: 4.5% of the panel's height, smaller when the text would not fit its width."""
    size = max(10, round(panel_height * 0.045))
    try:
        from PIL import ImageFont

        length = ImageFont.truetype(font, 100).getlength(text) / 100  # width per px of font size
    except Exception:  # an unreadable font: assume a wide one
        length = 0.65 * len(text)
    room = panel_width * 0.9 - 4 * max(3, size // 3)
    if length > 0 and size * length > room:
        size = max(8, math.floor(room / length))
    return size


def _escape(value: str) -> str:
    """Escape a filter option value for both parsing levels of a filter graph (see ffmpeg-filters,
    "Notes on filtergraph escaping"): first the option level, then the graph level."""
    for ch in "\\':":
        value = value.replace(ch, "\\" + ch)
    for ch in "\\'[],;":
        value = value.replace(ch, "\\" + ch)
    return value


# --------------------------------------------------------------------------------- checking
def _verify(path: Path, plan: ComparisonPlan) -> None:
    got = probe_video(path)
    problems: list[str] = []
    if not got.ok:
        problems.append(got.error)
    else:
        if (got.codec, got.pix_fmt) != ("h264", "yuv420p"):
            problems.append(f"got {got.codec} {got.pix_fmt}")
        if (got.width, got.height, got.rotation) != (plan.width, plan.height, 0):
            problems.append(f"got {got.width}x{got.height} rotation {got.rotation}")
        if got.has_audio != (plan.audio_panel is not None) or (got.has_audio and got.audio_codec != "aac"):
            problems.append(f"audio: {got.audio_codec or 'none'}")
        if not moov_first(path):
            problems.append("the index is not at the start (no faststart)")
    if problems:
        raise ComposeError(
            f"The comparison export came out wrong ({problems[0]}). Fix: report this; the inputs may be unusual."
        )


def moov_first(path: str | Path) -> bool:
    """True when an MP4's index (moov) comes before its media data (mdat): it can start playing
    before it is fully downloaded ("faststart"). Reads top-level box headers only."""
    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, 2)
            pos = 0
            while pos + 8 <= end:
                fh.seek(pos)
                head = fh.read(16)
                size, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if size == 1:
                    size = int.from_bytes(head[8:16], "big")
                elif size == 0:
                    size = end - pos
                if kind == b"moov":
                    return True
                if kind == b"mdat" or size < 8:
                    return False
                pos += size
    except OSError:
        return False
    return False
