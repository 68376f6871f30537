"""Regenerate everything under assets/: example characters, the Motion Library and the examples.

    python scripts/make_assets.py [--out DIR] [--quick]

Everything is made here, by the project itself: the characters and the motion clips are drawn
(kmc_ui/assets_draw.py) and encoded with ffmpeg; each motion is a pose function of time below.
The metadata is MEASURED, not asserted: framing, people, speed and how the person moves come
from the app's own pose analysis (kmc_ui/pose, kmc_ui/checks/pose.py). Each example's result is
rendered by the offline engine (kmc_ui/engine), scaled down to keep assets/ small, and scored
with the motion-agreement report (JSON + plot), so the UI shows an example at once with no
backend call. Nothing here runs when the app starts.

--out DIR   write there instead of the repo's assets/ (its characters/, motions/ and examples/
            folders are replaced; nothing else in it is touched)
--quick     fewer, shorter items (a smoke run for tests: 2 motions of 3 s, 1 example)

Deterministic: the same code and tools give the same pictures, clips and numbers (timings
are left out of the JSON; the muxers write no version strings).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kmc_ui.assets_draw import (  # noqa: E402
    CHARACTER,
    DANCER,
    STANDING,
    Look,
    PoseFn,
    dance_pose,
    draw_view,
    encode_frames,
    pose_frames,
    save_picture,
)

if TYPE_CHECKING:
    from kmc_ui.media.probe import VideoInfo

ASSETS = ROOT / "assets"
FPS = 24
CLIP_SIZE = (360, 640)  # the Motion Library's frame (9:16 portrait)
RESULT_WIDTH = 360  # pre-rendered results are scaled to this width (the engine renders 720p)
RESULT_CRF = 26
CLIP_CRF = 26
SLOW_SPEED = 1.5  # torso lengths a second (p90): below is "slow"; "fast" is where the app warns
TRAVEL_FOR_VIDEO = 0.05  # hips travel this share of the frame's width: the motion moves about
SCHEMA = 1
PARTS = ("characters", "motions", "examples")  # the folders this script writes (and replaces)


# ---------------------------------------------------------------- motions: pose functions of time


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def ease(t: float, period: float) -> float:
    """0 -> 1 -> 0 over one period (cosine)."""
    return 0.5 - 0.5 * math.cos(2 * math.pi * t / period)


def wave_pose(t: float, seconds: float = 4.0) -> dict[str, float]:
    """The right hand comes up beside the head, waves twice a second, and goes down again."""
    up = smoothstep(t / 0.6) * smoothstep((seconds - t) / 0.6)
    wag = 0.6 + 0.3 * math.sin(2 * math.pi * 2.0 * t)
    return {
        "rsh": 0.2 + (2.75 - 0.2) * up,
        "rel": 0.1 + (wag - 0.1) * up,
        "lsh": 0.2,
        "lel": 0.1,
        "dx": 0.08 * math.sin(math.pi * t / 2),
    }


def squat_pose(t: float) -> dict[str, float]:
    """Squats every 2.5 s: knees open and come towards the camera, hips drop, hands meet in front of the body."""
    u = ease(t, 2.5)
    a = 0.35 * u  # thighs open
    f = 1.0 - 0.5 * u  # and shorten (knees towards the camera)
    return {
        "lhip": 0.08 + a,
        "rhip": 0.08 + a,
        "lkn": -a,
        "rkn": -a,
        "lthigh": f,
        "rthigh": f,
        "dy": 1.7 * (math.cos(0.08) - f * math.cos(0.08 + a)),
        "lsh": 0.3 + 0.25 * u,  # hands meet in front of the body
        "rsh": 0.3 + 0.25 * u,
        "lel": -2.1 * u,
        "rel": -2.1 * u,
    }


def march_pose(t: float) -> dict[str, float]:
    """Marching on the spot, two steps a second: a knee lifts towards the camera, the opposite
    forearm swings up."""
    s = math.sin(2 * math.pi * t / 1.0)
    left, right = max(0.0, s), max(0.0, -s)
    return {
        "lthigh": 1.0 - 0.55 * left,
        "rthigh": 1.0 - 0.55 * right,
        "lhip": 0.08 + 0.06 * left,
        "rhip": 0.08 + 0.06 * right,
        "lkn": -0.1 * left,
        "rkn": -0.1 * right,
        "lsh": 0.25 + 0.2 * right,
        "rsh": 0.25 + 0.2 * left,
        "lel": 0.2 + 1.0 * right,
        "rel": 0.2 + 1.0 * left,
        "dy": -0.05 * (left + right),
    }


def jacks_pose(t: float) -> dict[str, float]:
    """Jumping jacks, one every 1.25 s: arms from the sides to overhead, feet apart, a hop."""
    u = ease(t, 1.25)
    return {
        "lsh": 0.2 + 2.6 * u,
        "rsh": 0.2 + 2.6 * u,
        "lel": 0.1 + 0.2 * u,
        "rel": 0.1 + 0.2 * u,
        "lhip": 0.06 + 0.3 * u,
        "rhip": 0.06 + 0.3 * u,
        "lkn": -0.1 * u,
        "rkn": -0.1 * u,
        "dy": -0.3 * abs(math.sin(2 * math.pi * t / 1.25)),
    }


def arm_circles_pose(t: float, seconds: float = 4.0) -> dict[str, float]:
    """Both arms held out to the sides draw circles, forwards for half the clip, then backwards."""
    half = seconds / 2
    theta = 2 * math.pi / 1.5 * (t if t < half else 2 * half - t)
    return {
        "lsh": 1.5 + 0.55 * math.sin(theta),
        "rsh": 1.5 + 0.55 * math.sin(theta),
        "lel": 0.35 + 0.35 * math.cos(theta),
        "rel": 0.35 + 0.35 * math.cos(theta),
    }


def beat(period: float, pitch: int = 660) -> str:
    """A soft click on every beat (lavfi source for encode_frames)."""
    return f"aevalsrc='0.3*sin(2*PI*{pitch}*t)*exp(-30*mod(t,{period}))':s=48000:c=mono"


PERFORMER = Look(
    skin=DANCER.skin,
    shirt=DANCER.shirt,
    trousers=DANCER.trousers,
    hair=DANCER.hair,
    background=DANCER.background,
    floor=DANCER.floor,
    size=0.8,  # full body with room for arms held out (9:16 is narrow)
)
FULL_DY = 1.2  # full-body clips: the figure stands lower, feet on the floor


@dataclass(frozen=True)
class MotionSpec:
    id: str
    title: str
    pose: PoseFn
    seconds: float
    shows: str
    audio: str | None = None
    sound: str = "silent"
    look: Look = PERFORMER
    zoom: float = 1.0  # > 1: the camera is closer (upper body)
    top: float = 0.0
    dy: float = FULL_DY


MOTIONS: tuple[MotionSpec, ...] = (
    MotionSpec(
        "dance",
        "Dance",
        dance_pose,
        4.0,
        "A two-second dance, twice: arms swing up and down out of phase, elbows bend, hips sway, a knee lifts.",
        beat(0.5),
        "a click on every beat (120 bpm)",
    ),
    MotionSpec(
        "wave",
        "Wave hello",
        wave_pose,
        4.0,
        "Upper body: the right hand comes up beside the head, waves for about three seconds, then goes down.",
        zoom=1.55,
        top=0.03,
        dy=0.0,
    ),
    MotionSpec(
        "squat",
        "Squats",
        squat_pose,
        5.0,
        "Two slow squats: the hips drop, the knees open, the hands come together in front of the body.",
    ),
    MotionSpec(
        "march",
        "March in place",
        march_pose,
        4.0,
        "Marching on the spot: knees lift in turn, the opposite forearm swings up, two steps a second.",
        beat(0.5, 520),
        "a click on every step",
    ),
    MotionSpec(
        "jumping_jacks",
        "Jumping jacks",
        jacks_pose,
        3.75,
        "Three jumping jacks: arms sweep from the sides to overhead while the feet jump apart and back.",
        beat(0.625, 780),
        "a click on every jump and landing",
    ),
    MotionSpec(
        "arm_circles",
        "Arm circles",
        arm_circles_pose,
        4.0,
        "Arms held out to the sides draw circles, forwards for two seconds, then backwards.",
    ),
)


# ---------------------------------------------------------------- characters


# Full-body pictures leave room around the figure (like a photo framed with a margin), so arms
# raised to the side stay inside the picture: the pre-flight clipping check stays quiet.
ROOMY = 0.8
FEET_DOWN = 1.0  # head units: the smaller figure stands on the floor


@dataclass(frozen=True)
class CharacterSpec:
    id: str
    title: str
    size: tuple[int, int]
    look: Look
    shows: str
    zoom: float = 1.0
    top: float = 0.0
    pose: dict[str, float] = field(default_factory=lambda: dict(STANDING))


CHARACTERS: tuple[CharacterSpec, ...] = (
    CharacterSpec(
        "full_body",
        "Full body",
        (720, 1280),
        replace(CHARACTER, size=ROOMY),
        "A standing figure seen from head to toe, arms a little away from the body.",
        pose={**STANDING, "dy": FEET_DOWN},
    ),
    CharacterSpec(
        "upper_body",
        "Upper body",
        (720, 960),
        Look(
            skin=(200, 150, 115),
            shirt=(40, 90, 180),
            trousers=(50, 50, 60),
            hair=(30, 25, 25),
            background=(225, 230, 215),
            floor=(150, 160, 140),
            arm_length=1.0,
        ),
        "A closer view: head, arms and body down to the knees; the lower legs and feet are out of the picture.",
        zoom=1.4,
        top=0.03,
    ),
    CharacterSpec(
        "stylized",
        "Stylized",
        (720, 1280),
        Look(
            skin=(250, 215, 190),
            shirt=(130, 60, 180),
            trousers=(20, 120, 130),
            hair=(235, 90, 150),
            background=(255, 240, 190),
            floor=(120, 200, 170),
            shoes=(240, 240, 245),
            head=1.3,
            legs=0.85,
            shoulders=1.1,
            arm_length=0.95,
            size=ROOMY,
        ),
        "A cartoon figure: big head, short legs, wide shoulders, bright colours, white shoes.",
        pose={**STANDING, "dy": FEET_DOWN},
    ),
)


# ---------------------------------------------------------------- examples


@dataclass(frozen=True)
class ExampleSpec:
    id: str
    title: str
    character: str
    motion: str
    orientation: str
    why: str


EXAMPLES: tuple[ExampleSpec, ...] = (
    ExampleSpec(
        "full_body_dance",
        "Full-body character dances",
        "full_body",
        "dance",
        "video",
        "Framing matches (both full body); the dancer sways across the frame, so the character follows the video.",
    ),
    ExampleSpec(
        "upper_body_wave",
        "Upper-body character waves",
        "upper_body",
        "wave",
        "image",
        "Framing matches (both three-quarter, knees up); the person stays in place, so the picture's own framing "
        "is kept.",
    ),
    ExampleSpec(
        "stylized_arm_circles",
        "Stylized character draws arm circles",
        "stylized",
        "arm_circles",
        "video",
        "A cartoon figure with other proportions: the motion is retargeted to its own bone lengths; 'video' "
        "sizes and places it like the performer (the motion stays in place, so 'image' would suit too).",
    ),
    ExampleSpec(
        "full_body_squat",
        "Full-body character squats",
        "full_body",
        "squat",
        "image",
        "A slow motion in place, rendered in the picture's own frame (orientation 'image').",
    ),
)


# ---------------------------------------------------------------- making and measuring


def log(text: str) -> None:
    print(text, flush=True)


def make_character(spec: CharacterSpec, path: Path) -> Path:
    w, h = spec.size
    return save_picture(path, draw_view(w, h, spec.pose, spec.look, spec.zoom, spec.top))


def placed(spec: MotionSpec) -> Callable[[float], dict[str, float]]:
    def pose(t: float) -> dict[str, float]:
        p = spec.pose(t)
        return {**p, "dy": p.get("dy", 0.0) + spec.dy}

    return pose


def make_motion(spec: MotionSpec, path: Path, seconds: float) -> Path:
    w, h = CLIP_SIZE
    frames = pose_frames(placed(spec), w, h, seconds, FPS, spec.look, spec.zoom, spec.top)
    return encode_frames(path, frames, w, h, FPS, seconds, audio=spec.audio, preset="slow", crf=CLIP_CRF, bitexact=True)


def measure_character(path: Path, cache: Path) -> dict[str, object]:
    from kmc_ui.checks.pose import image_facts
    from kmc_ui.pose import analyse_image

    a = analyse_image(path, cache_dir=cache)
    if a.error or a.pose is None:
        raise SystemExit(f"{path.name}: no person found ({a.error or 'nobody'}); the drawing needs fixing")
    f = image_facts(a)
    return {"framing": f.framing, "people": f.people, "subject_area": round(f.area, 3)}


@dataclass(frozen=True)
class MotionMeasure:
    """What the app's own pose analysis says about a clip (written to library.json)."""

    framing: str
    people: int  # most people seen at once
    person_found: float  # share of pose samples with a person
    subject_area: float  # median subject box / frame
    speed: str  # slow / moderate / fast
    speed_p90: float  # torso lengths a second
    fast_fraction: float  # share of speed checks above the app's fast threshold
    hip_travel: float  # range of the hips' x / frame width
    turns: bool
    camera_moves: bool
    cuts: int


def measure_motion(path: Path, cache: Path | None) -> MotionMeasure:
    """Framing, people, speed and travel of a clip, from the app's own pose analysis
    (kmc_ui/checks/pose.py's video_facts: the numbers the pre-flight checks use)."""
    from kmc_ui.checks.pose import video_facts
    from kmc_ui.limits import POSE
    from kmc_ui.pose import analyse_video
    from kmc_ui.pose import landmarks as L

    v = analyse_video(path, cache_dir=cache, use_cache=cache is not None)
    if v.error:
        raise SystemExit(f"{path.name}: pose analysis failed: {v.error}")
    f = video_facts(v)
    found = float(f.found.mean()) if f.samples else 0.0
    if found < 0.9:
        raise SystemExit(f"{path.name}: a person was found in only {found:.0%} of the samples")
    p90 = float(np.percentile(f.speeds, 90)) if len(f.speeds) else 0.0
    if len(f.speeds) and f.fast_fraction >= POSE.fast_fraction:
        speed = "fast"  # the pre-flight check warns about it
    elif p90 >= SLOW_SPEED:
        speed = "moderate"
    else:
        speed = "slow"
    hips = np.array([L.midpoint(lm, *L.HIPS) for lm in v.landmarks[f.found]])
    travel = float(np.ptp(hips[:, 0]) / v.width) if len(hips) else 0.0
    return MotionMeasure(
        framing=f.framing,
        people=int(f.max_people),
        person_found=round(found, 3),
        subject_area=round(f.area, 3),
        speed=speed,
        speed_p90=round(p90, 2),
        fast_fraction=round(f.fast_fraction, 3),
        hip_travel=round(travel, 3),
        turns=bool(f.back_fraction >= POSE.turn_fraction),
        camera_moves=bool(f.pan >= POSE.camera_pan or f.zoom >= POSE.camera_zoom),
        cuts=len(f.cuts),
    )


def orientation_advice(m: MotionMeasure, duration: float) -> dict[str, object]:
    """Which orientation suits the clip, and why (from the measured facts)."""
    from kmc_ui.limits import LIMITS

    image_max = LIMITS.video_max_seconds["image"]
    suits = ["video", "image"] if duration <= image_max else ["video"]
    reasons = [] if "image" in suits else [f"longer than {image_max:g} s, so only 'video' accepts it"]
    if m.turns or m.camera_moves:
        what = " and ".join(w for w, on in (("the person turns", m.turns), ("the camera moves", m.camera_moves)) if on)
        reasons.append(f"{what}: 'video' copies that, 'image' would keep the picture's facing and a still camera")
        best = "video"
    elif m.hip_travel >= TRAVEL_FOR_VIDEO:
        reasons.append(
            f"the hips travel {m.hip_travel:.0%} of the frame's width: 'video' moves the character about like "
            "the performer; 'image' works too (no turning, still camera)"
        )
        best = "video"
    else:
        reasons.append(
            f"the person stays in place (hips travel {m.hip_travel:.0%} of the width), faces the camera and the "
            "camera is still: 'image' keeps the character picture's framing; 'video' works too"
        )
        best = "image" if "image" in suits else "video"
    return {"suits": suits, "recommended": best, "why": "; ".join(reasons) + "."}


def probe(path: Path) -> VideoInfo:
    from kmc_ui.media.probe import probe_video

    info = probe_video(path)
    if not info.ok:
        raise SystemExit(f"{path.name}: {info.error}")
    return info


def shrink(src: Path, dest: Path) -> Path:
    """The engine's 720p render scaled to RESULT_WIDTH (H.264 yuv420p, AAC kept, +faststart)."""
    from kmc_ui.media.ffmpeg import ffmpeg_exe

    dest.parent.mkdir(parents=True, exist_ok=True)
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-vf", f"scale={RESULT_WIDTH}:-2:flags=area"]
    cmd += ["-c:v", "libx264", "-preset", "slow", "-crf", str(RESULT_CRF), "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-b:a", "48k", "-ac", "1", "-movflags", "+faststart", "-map_metadata", "-1"]
    cmd += ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", str(dest)]
    subprocess.run(cmd, check=True, capture_output=True)
    return dest


def rel(path: Path, out: Path) -> str:
    return path.relative_to(out).as_posix()


def render_example(
    spec: ExampleSpec, character: Path, motion: Path, out: Path, work: Path, cache: Path
) -> dict[str, object]:
    from kmc_ui.engine import EngineJob, agreement_report, run_engine

    started = time.perf_counter()
    raw = work / f"{spec.id}_720p.mp4"
    result = run_engine(EngineJob(character, motion, spec.orientation, "std", True), raw, cache_dir=cache)
    small = shrink(raw, out / "examples" / "results" / f"{spec.id}.mp4")
    plot = small.with_name(f"{spec.id}_agreement.png")
    report = agreement_report(motion, small, character_image=character, plot_path=plot, cache_dir=cache)
    if report.error:
        raise SystemExit(f"{spec.id}: the agreement report failed: {report.error}")
    data = report.to_dict()
    data.update(reference=rel(motion, out), output=rel(small, out), plot_path=rel(plot, out))
    data.pop("elapsed", None)  # a timing: would make the file differ run to run
    report_path = small.with_name(f"{spec.id}_agreement.json")
    report_path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    info = probe(small)
    log(
        f"  example {spec.id}: PCK {report.pck:.3f}, following {report.following:.3f}, "
        f"{info.width}x{info.height} {info.duration:.3f} s, {info.size_bytes} bytes "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return {
        "id": spec.id,
        "title": spec.title,
        "character": spec.character,
        "motion": spec.motion,
        "orientation": spec.orientation,
        "tier": "std",
        "keep_sound": True,
        "why": spec.why,
        "backend": "offline engine",
        "rendered": {"width": result.width, "height": result.height, "frames": result.frames},
        "result": rel(small, out),
        "result_size": [info.width, info.height],
        "result_duration": round(info.duration, 3),
        "result_audio": info.has_audio,
        "report": rel(report_path, out),
        "plot": rel(plot, out),
        "pck": round(report.pck, 4),
        "following": round(report.following, 4),
        "summary": report.summary(),
        "notes": [n for n in result.notes if not n.startswith("Offline engine")],
    }


def build(out: Path, quick: bool = False) -> dict[str, object]:
    motions = [m for m in MOTIONS if m.id in ("dance", "wave")] if quick else list(MOTIONS)
    examples = [e for e in EXAMPLES if e.id == "upper_body_wave"] if quick else list(EXAMPLES)
    for part in PARTS:  # only what this script makes: other files in `out` are left alone
        shutil.rmtree(out / part, ignore_errors=True)
    (out / "motions").mkdir(parents=True)
    (out / "examples" / "results").mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="kmc-assets-"))
    cache = work / "cache"
    try:
        chars: list[dict[str, object]] = []
        char_paths: dict[str, Path] = {}
        for c in CHARACTERS:
            path = make_character(c, out / "characters" / f"{c.id}.png")
            char_paths[c.id] = path
            measured = measure_character(path, cache)
            chars.append(
                {
                    "id": c.id,
                    "title": c.title,
                    "file": rel(path, out),
                    "size": list(c.size),
                    "shows": c.shows,
                    **measured,
                    "bytes": path.stat().st_size,
                }
            )
            log(f"  character {c.id}: {measured}")
        (out / "characters" / "characters.json").write_text(
            json.dumps({"schema": SCHEMA, "characters": chars}, indent=1) + "\n", encoding="utf-8"
        )

        library: list[dict[str, object]] = []
        motion_paths: dict[str, Path] = {}
        for m in motions:
            seconds = 3.0 if quick else m.seconds
            path = make_motion(m, out / "motions" / f"{m.id}.mp4", seconds)
            motion_paths[m.id] = path
            info = probe(path)
            measured = measure_motion(path, cache)
            library.append(
                {
                    "id": m.id,
                    "title": m.title,
                    "file": rel(path, out),
                    "duration": round(info.duration, 3),
                    "fps": round(info.fps, 3),
                    "size": [info.width, info.height],
                    "framing": measured.framing,
                    "people": measured.people,
                    "speed": measured.speed,
                    "orientation": orientation_advice(measured, info.duration),
                    "shows": m.shows,
                    "audio": info.has_audio,
                    "sound": m.sound if info.has_audio else "silent",
                    "measured": asdict(measured),
                    "bytes": info.size_bytes,
                }
            )
            log(f"  motion {m.id}: {info.duration:.3f} s, {asdict(measured)}")
        (out / "motions" / "library.json").write_text(
            json.dumps({"schema": SCHEMA, "fps": FPS, "motions": library}, indent=1) + "\n", encoding="utf-8"
        )

        rendered = [
            render_example(e, char_paths[e.character], motion_paths[e.motion], out, work, cache) for e in examples
        ]
        (out / "examples" / "examples.json").write_text(
            json.dumps({"schema": SCHEMA, "examples": rendered}, indent=1) + "\n", encoding="utf-8"
        )
        return {"characters": chars, "motions": library, "examples": rendered}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def total_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ASSETS, help="folder to write (its characters/, motions/, examples/ are replaced)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter items (for tests)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if ROOT.is_relative_to(out):
        parser.error(f"refusing to write into {out}: it holds the repository")
    # pose caches go to a scratch folder, never to the app's data folder
    scratch = tempfile.mkdtemp(prefix="kmc-assets-data-")
    os.environ["KMC_DATA_DIR"] = scratch
    started = time.perf_counter()
    try:
        build(out, args.quick)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log(f"wrote {out} ({total_bytes(out) / 1e6:.2f} MB) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
