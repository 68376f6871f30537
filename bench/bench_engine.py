"""Offline engine benchmark: motion agreement, tears, speed, memory. Prints figures; asserts nothing.

    python bench/bench_engine.py            # everything (about 3 minutes on 2 cores)
    python bench/bench_engine.py --quick    # skip the memory series

Figures:
- PCK@0.1 of the engine's own output against the targets it drew (pose re-detected on the
  encoded MP4, joints inside the frame; "swap-tolerant": a frame the detector labelled
  left/right the other way round is scored with the labels swapped), on the shared sample pair
  (../shared/media) and on a fixture pair (tests/figures.py). Target >= 0.9. Printed twice:
  with mediapipe's tracking pass alone (the figure reported before) and with the fused readings
  the agreement report uses (per landmark, the median of the tracking pass, the frame on its own
  and the frame mirrored; kmc_ui/engine/motion.fused_track). Same joints, same tolerance.
- The detector's own repeatability on the same output (pose on each frame vs pose on the
  mirrored frame, mirrored back): PCK@0.1 between the two. A floor for the figure above.
- Torn frames: frames where more than 1% of the body's core points (material points along the
  middle of each bone, carried by the deformed mesh) show background instead of the character,
  measured during rendering on the coverage of all layers. Target < 1% of frames.
- Speed at 720p: wall time of a 10 s, 24 fps clip end to end (cut-out, pose of every frame,
  rig, render, encode). Target < 25 s (>= 10 frames/s). Also CPU seconds and the load average:
  the machine's 2 cores are shared.
- Peak memory (RSS of a fresh process) against clip length: flat when frames are streamed.
- Three frames of the sample result saved as PNG under docs/engine/.
- `--faces`: each real photo with the talking head, its result's mouth and eyes read back and set
  against the reference's (the mouth's opening and width correlated; the eyes' gap in its blinks).
- `--photos`: with a talking head, where the result's face is against the clip's (the nose read on
  both, its distance as a share of the frame's width).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kmc_ui.engine import EngineJob, agreement_report, face, pipeline, run_engine  # noqa: E402
from kmc_ui.engine.agreement import MIRROR  # noqa: E402
from kmc_ui.engine.flaps import flap_rows  # noqa: E402
from kmc_ui.engine.motion import fused_track, track_motion  # noqa: E402
from kmc_ui.engine.pipeline import SMOOTHING, motion_stride  # noqa: E402
from kmc_ui.engine.smoothing import fill_gaps, jitter, smooth_offline  # noqa: E402
from kmc_ui.pose import landmarks as L  # noqa: E402
from tests.figures import make_character, make_dance  # noqa: E402

SHARED = ROOT.parent / "shared" / "media"
DOCS = ROOT / "docs" / "engine"
JOINTS = list(L.BODY_JOINTS)


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def pck_vs_targets(video: Path, targets: np.ndarray, width: int, height: int, fused: bool = False) -> dict[str, object]:
    """PCK@0.1 of the pose re-detected on `video` against the drawn targets. fused=False: mediapipe's
    tracking pass alone (the figure reported before the fused readings); True: the per-landmark
    median of the tracking pass, the frame alone and the frame mirrored (what the report uses)."""
    reader = fused_track if fused else track_motion
    det = reader(video, cache_dir=None).landmarks
    n = min(len(det), len(targets))
    det, targets = det[:n], targets[:n]
    torso = np.array([max(L.torso_length(t), 1.0) for t in targets])
    inside = (
        (targets[:, JOINTS, 0] >= 0)
        & (targets[:, JOINTS, 0] < width)
        & (targets[:, JOINTS, 1] >= 0)
        & (targets[:, JOINTS, 1] < height)
    )
    found = np.isfinite(det[:, 0, 0])
    d_raw = np.linalg.norm(det[:, JOINTS, :2] - targets[:, JOINTS, :2], axis=2) / torso[:, None]
    d_mir = np.linalg.norm(det[:, MIRROR][:, JOINTS, :2] - targets[:, JOINTS, :2], axis=2) / torso[:, None]
    swap = np.nanmean(d_mir, axis=1) < np.nanmean(d_raw, axis=1)
    d = np.where(swap[:, None], d_mir, d_raw)
    ok = inside & found[:, None]
    per_joint = {L.NAMES[j]: round(float(np.mean(d[:, k][ok[:, k]] <= 0.1)), 3) for k, j in enumerate(JOINTS)}
    frame_pck = np.array([np.mean(d[i][ok[i]] <= 0.1) if ok[i].any() else 0.0 for i in range(n)])
    return {
        "pck": float(np.mean(d[ok] <= 0.1)),
        "pck_raw_labels": float(np.mean(d_raw[ok] <= 0.1)),
        "pck_at_0.2": float(np.mean(d[ok] <= 0.2)),
        "frames_detected": float(found.mean()),
        "swapped_frames": int(swap.sum()),
        "misread_frames": int((frame_pck < 0.5).sum()),
        "joints_inside_frame": float(inside.mean()),
        "per_joint": per_joint,
        "worst_joints": dict(sorted(per_joint.items(), key=lambda kv: kv[1])[:4]),
    }


def detector_repeatability(video: Path, stride: int = 2) -> float:
    """PCK@0.1 between the pose on each frame and the pose on the mirrored frame (mirrored back)."""
    import av
    import mediapipe as mp

    from kmc_ui.engine.motion import fresh_landmarker

    frames = []
    with av.open(str(video)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % stride == 0:
                frames.append(f.to_ndarray(width=f.width // 2, height=f.height // 2, format="rgb24"))
    results = []
    for flip in (False, True):
        lmk = fresh_landmarker(None)
        out = []
        for i, img in enumerate(frames):
            data = np.ascontiguousarray(img[:, ::-1] if flip else img)
            r = lmk.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=data), i * 42)
            lm = np.full((33, 2), np.nan)
            if r.pose_landmarks:
                lm = np.array([[p.x, p.y] for p in r.pose_landmarks[0]]) * [img.shape[1], img.shape[0]]
                if flip:
                    lm[:, 0] = img.shape[1] - lm[:, 0]
                    lm = lm[MIRROR]
            out.append(lm)
        lmk.close()
        results.append(np.array(out))
    a, b = results
    torso = np.array([np.linalg.norm((x[11] + x[12]) / 2 - (x[23] + x[24]) / 2) for x in a])
    d = np.linalg.norm(a[:, JOINTS] - b[:, JOINTS], axis=2) / np.maximum(torso, 1)[:, None]
    d_sw = np.linalg.norm(a[:, JOINTS] - b[:, MIRROR][:, JOINTS], axis=2) / np.maximum(torso, 1)[:, None]
    d = np.where((np.nanmean(d_sw, 1) < np.nanmean(d, 1))[:, None], d_sw, d)
    return float(np.nanmean(d <= 0.1))


def render(pair: tuple[Path, Path], orientation: str, out: Path, save: dict[int, Path] | None = None):
    frames: dict[int, np.ndarray] = {}
    first: dict[str, float] = {}  # when the page would first see the puppet, and its first frame

    def on_frame(i: int, frame: np.ndarray, _stats: object) -> None:
        first.setdefault("frame", time.perf_counter() - wall0)
        if save and i in save:
            frames[i] = frame.copy()

    def on_preview(_frame: np.ndarray) -> None:
        first.setdefault("preview", time.perf_counter() - wall0)

    cpu0 = time.process_time()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    job = EngineJob(pair[0], pair[1], orientation, "std", True)
    result = run_engine(job, out, on_frame=on_frame, on_preview=on_preview)
    result.timings.update({f"first_{k}": v for k, v in first.items()})
    wall = time.perf_counter() - wall0
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    for i, path in (save or {}).items():
        if i in frames:
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), frames[i])
    return result, wall, cpu


def report_quality(name: str, pair: tuple[Path, Path], tmp: Path, save: bool = False) -> dict[str, object]:
    out = tmp / f"{name.split()[0]}.mp4"
    picks = None
    if save:
        n = track_motion(pair[1], max_seconds=30.0).frames  # kept in memory: the render reuses it
        picks = {int(n * f): DOCS / f"sample_frame_{int(n * f):03d}.png" for f in (0.2, 0.5, 0.8)}
    result, wall, cpu = render(pair, "video", out, picks)
    single = pck_vs_targets(result.path, result.targets, result.width, result.height)
    fused = pck_vs_targets(result.path, result.targets, result.width, result.height, fused=True)
    torn = result.torn_frames
    print(f"\n== {name}: {result.frames} frames {result.width}x{result.height} @ {result.fps:g} fps")
    print(f"{result.calibration.summary()}; frames used per round {result.calibration.frames_used}")
    readings = (("tracking pass alone (the figure before)", single), ("fused readings (what the report uses)", fused))
    for label, q in readings:
        print(
            f"PCK@0.1 output vs drawn targets, {label}: {q['pck']:.3f}  (target >= 0.9)"
            f"\n   with the detector's own left/right labels: {q['pck_raw_labels']:.3f}; "
            f"PCK@0.2: {q['pck_at_0.2']:.3f}"
            f"\n   frames with a pose: {q['frames_detected']:.0%}; frames the detector mirrored: {q['swapped_frames']};"
            f" frames misread as a whole (< half the joints within 0.1): {q['misread_frames']}"
            f"\n   joints inside the frame: {q['joints_inside_frame']:.0%}; per joint: {json.dumps(q['per_joint'])}"
        )
    print(
        f"detector repeatability on this output (frame vs mirrored frame), PCK@0.1: {detector_repeatability(out):.3f}"
    )
    print(
        f"torn frames (>1% of core points show background): {torn} of {result.frames} = {torn / result.frames:.2%}"
        f"  (target < 1%); core holes mean {result.holes.mean():.4f} p95 {np.percentile(result.holes, 95):.4f}"
        f" max {result.holes.max():.4f}; folded mesh area p95 {np.percentile(result.flipped, 95):.3f}"
    )
    if save and picks:
        print("saved frames: " + ", ".join(str(p.relative_to(ROOT)) for p in picks.values()))
    return {"result": result, "pck": fused, "pck_single": single, "wall": wall, "cpu": cpu}


def speed(pair: tuple[Path, Path], tmp: Path, ahead: bool = False) -> None:
    print(f"\n== speed at 720p (load average before: {load()})")
    from kmc_ui.engine.pipeline import forget_pictures
    from kmc_ui.pose import cache

    cache.clear_memory()  # cold: the motion pass runs, and the picture is read
    forget_pictures()
    result, wall, cpu = render(pair, "image", tmp / "speed.mp4")
    t = result.timings
    print(
        f"{result.frames} frames ({result.duration:.1f} s @ {result.fps:g} fps, {result.width}x{result.height}) "
        f"in {wall:.1f} s wall = {result.frames / wall:.1f} frames/s  (target: 10 s clip < 10 s)"
    )
    print(
        f"   phases: cut-out {t['cut_out']:.1f} s, scene fill {t.get('scene', 0.0):.1f} s, "
        f"pose of every frame {t['motion']:.1f} s "
        f"(beside the cut-out, the scene and the rig; {t.get('motion_wait', 0.0):.1f} s of it after), "
        f"rig {t.get('rig_early', 0.0):.1f} s beside the motion + {t['rig']:.1f} s after it, "
        f"bind-pose calibration {t.get('bind', 0.0):.1f} s, "
        f"render+encode {t['render']:.1f} s ({1000 * t['render'] / result.frames:.0f} ms/frame)"
    )
    print(
        f"   the page's first look at the puppet moving after {t.get('first_preview', 0.0):.1f} s "
        f"(a calibration drawing), its first frame after {t.get('first_frame', 0.0):.1f} s"
    )
    print(f"   CPU {cpu:.1f} s (this process + ffmpeg) for {wall:.1f} s wall; load average after: {load()}")
    if not ahead:
        return
    # the page's run: its picture and its motion read while the visitor looked at the checks
    from kmc_ui.engine.pipeline import read_motion_ahead, read_picture_ahead

    cache.clear_memory()
    forget_pictures()
    t0 = time.perf_counter()
    for reading in (read_picture_ahead(pair[0], "image", "std"), read_motion_ahead(pair[1], "image", None)):
        if reading is not None:
            reading.result()
    read = time.perf_counter() - t0
    result, wall, _ = render(pair, "image", tmp / "speed.mp4")
    t = result.timings
    print(
        f"   read ahead first ({read:.1f} s, as while the page's visitor looks at the checks): the run then took "
        f"{wall:.1f} s (calibration {t.get('bind', 0.0):.1f} s, render+encode {t['render']:.1f} s), the puppet "
        f"first drawn after {t.get('first_preview', 0.0):.1f} s, its first frame after "
        f"{t.get('first_frame', 0.0):.1f} s"
    )


def phone(tmp: Path) -> None:
    """A phone-sized photo (the woman's made 4x, 2456 x 3688 JPEG) with the 12 s dance in the video
    orientation: cold, then with the picture and the motion read ahead apart, then with the picture
    read ahead with its clip (rigged at the placement's scale), as the page reads them."""
    from PIL import Image

    from kmc_ui.engine.pipeline import forget_pictures, read_motion_ahead, read_picture_ahead
    from kmc_ui.pose import cache

    with Image.open(SHARED / "person_woman_fullbody.png") as im:
        big = tmp / "phone_woman.jpg"
        im.convert("RGB").resize((im.width * 4, im.height * 4), Image.Resampling.LANCZOS).save(big, quality=92)
    dance = SHARED / "dance_fullbody_12s.mp4"
    print(f"\n== a phone-sized photo (2456x3688), video orientation (load average before: {load()})")
    for how in ("cold", "read ahead apart", "read ahead with its clip"):
        cache.clear_memory()
        forget_pictures()
        t0 = time.perf_counter()
        if how != "cold":
            clip = (dance, None) if how.endswith("clip") else ()
            for reading in (read_picture_ahead(big, "video", "std", *clip), read_motion_ahead(dance, "video", None)):
                if reading is not None:
                    reading.result()
        read = time.perf_counter() - t0
        result, wall, _ = render((big, dance), "video", tmp / "phone.mp4")
        t = result.timings
        print(
            f"{how}{f' (in {read:.1f} s)' if read > 0.01 else ''}: the run took {wall:.1f} s (cut-out "
            f"{t.get('cut_out', 0.0):.1f} s, rig after the motion {t['rig']:.1f} s, calibration {t['bind']:.1f} s, "
            f"render+encode {t['render']:.1f} s), the puppet first drawn after {t.get('first_preview', 0.0):.1f} s"
        )


# VmHWM (this process's own peak resident set): ru_maxrss would report the parent's peak too, as
# Linux carries it across fork and exec.
MEMORY_SCRIPT = """
import re, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from kmc_ui.engine import EngineJob, run_engine
t = time.perf_counter()
r = run_engine(EngineJob(Path({image!r}), Path({video!r}), "video", "std", False), Path({out!r}))
hwm = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(r.frames, hwm, time.perf_counter() - t)
"""


def peak(image: Path, video: Path, out: Path) -> tuple[str, float, float]:
    code = MEMORY_SCRIPT.format(root=str(ROOT), image=str(image), video=str(video), out=str(out))
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    frames, rss_kb, wall = got.stdout.split()[-3:]
    return frames, int(rss_kb) / 1024, float(wall)


FIRST_RUN_SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from kmc_ui.engine import EngineJob, pipeline, run_engine
warm = 0.0
if {warm!r}:
    warm = pipeline.warm_up().result()  # as the app does at launch, before a visitor comes
first = {{}}  # when the page would first see the puppet (a calibration drawing), and its first frame
t = time.perf_counter()
r = run_engine(
    EngineJob(Path({image!r}), Path({video!r}), "image", "std", False),
    Path({out!r}),
    on_preview=lambda _: first.setdefault("first_preview", time.perf_counter() - t),
    on_frame=lambda *_: first.setdefault("first_frame", time.perf_counter() - t),
)
print(json.dumps(dict(warm=warm, wall=time.perf_counter() - t, **first, **r.timings)))
"""


def first_run(tmp: Path, image: Path, video: Path, rounds: int = 2) -> None:
    """A process's first run, cold and after the warm-up the app starts at launch (fresh process each)."""
    print(f"\n== a process's first run: {image.name} (load average before: {load()})")
    for _ in range(rounds):
        for warm in (False, True):
            paths = {"image": str(image), "video": str(video), "out": str(tmp / "f.mp4")}
            code = FIRST_RUN_SCRIPT.format(root=str(ROOT), warm=warm, **paths)
            got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            t = json.loads(got.stdout.strip().splitlines()[-1])
            print(
                f"{'warmed' if warm else 'cold':>6}: {t['wall']:.1f} s end to end"
                + (f" (the warm-up before it: {t['warm']:.1f} s)" if warm else "")
                + f"; cut-out {t['cut_out']:.1f} s, pose of every frame {t['motion']:.1f} s, "
                f"render {t['render']:.1f} s; the puppet first drawn after {t['first_preview']:.1f} s, "
                f"the first frame after {t['first_frame']:.1f} s"
            )


def memory(tmp: Path, character: Path) -> None:
    print("\n== peak memory against clip length (fresh process each, 720p output)")
    for seconds in (3, 10, 20):
        video = make_dance(tmp / f"mem_{seconds}.mp4", 360, 640, seconds=float(seconds), fps=24, audio=False)
        frames, mb, wall = peak(character, video, tmp / "m.mp4")
        print(f"{seconds:>3} s clip: {frames:>4} frames, peak RSS {mb:.0f} MB, {wall:.1f} s")
    if SHARED.is_dir():
        image, video = SHARED / "character_anime_fullbody.jpg", SHARED / "dance_fullbody_12s.mp4"
        frames, mb, wall = peak(image, video, tmp / "m.mp4")
        print(f"shared sample pair (12 s, 1080x1920 source): {frames} frames, peak RSS {mb:.0f} MB, {wall:.1f} s")


def smoothing_figures(video: Path) -> None:
    track = track_motion(video, cache_dir=None)
    filled, _ = fill_gaps(track.landmarks)
    scale = float(np.median([L.body_scale(m) for m in filled]))
    raw = filled[:, JOINTS, :2] / scale
    smooth = smooth_offline(raw, track.times, SMOOTHING)
    print(
        f"\n== smoothing on the reference ({track.frames} frames): jitter (RMS frame-to-frame acceleration, torso "
        f"units) raw {jitter(raw):.4f} -> smoothed {jitter(smooth):.4f}; mean move {np.abs(smooth - raw).mean():.4f}"
    )


PHOTO_CLIP = "dance_fullbody_12s.mp4"
# every photo is also run with the talking head: the framing follows the reference's head and
# shoulders, so the face, the hair and a hand raised to the chest are seen close up
TALKING_CLIP = "talking_head_12s.mp4"
PHOTO_CLIPS = ((PHOTO_CLIP, ""), (TALKING_CLIP, "_talking"))  # the clip, its frames' file-name tag
PHOTO_FRAMES = (0.25, 0.5, 0.75)  # where in the clip the reference | result frames are saved


def side_by_side(reference: Path, index: int, result: np.ndarray) -> np.ndarray:
    """The reference's frame `index` beside the result's, both at the result's height, halved."""
    cap = cv2.VideoCapture(str(reference))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, ref = cap.read()
    cap.release()
    h = result.shape[0]
    ref = cv2.resize(ref, (round(ref.shape[1] * h / ref.shape[0]), h)) if ok else np.zeros_like(result)
    both = np.hstack([ref, result])
    return cv2.resize(both, (both.shape[1] // 2, both.shape[0] // 2), interpolation=cv2.INTER_AREA)


def artefact_line(result: object) -> str:
    a = result.artefacts()
    names = ("breaks", "tears", "exposed", "stretch", "cut_ends")
    parts = [f"{k} mean {a[k]['mean']:.4f} p95 {a[k]['p95']:.4f} max {a[k]['max']:.4f}" for k in names]
    return "; ".join(parts) + f"; torn {result.torn_frames}/{result.frames}; hands {a['hands']}"


def face_place_line(clip: Path, result: Path) -> str:
    """Where the result's face is against the clip's: the nose read by the pose model on both
    videos, frame by frame, its distance as a share of the frame's width (the result's frame is
    the clip's, scaled)."""
    ref, got = track_motion(clip, max_seconds=30.0), track_motion(result, max_seconds=30.0)
    n = min(ref.frames, got.frames)
    a = ref.landmarks[:n, L.NOSE, :2] / ref.width
    b = got.landmarks[:n, L.NOSE, :2] / got.width
    ok = ref.found[:n] & got.found[:n]
    d = np.linalg.norm(a[ok] - b[ok], axis=1)
    if not len(d):
        return "face place: no face read"
    spread = f"median {np.median(d):.3f} p95 {np.percentile(d, 95):.3f}"
    return f"face off the clip's: {spread} of the frame's width ({len(d)}/{n} frames read)"


def flaps_line(picture: Path) -> str:
    """The picture's rig (at its own size) measured for flaps beside the upper arms (flaps.py)."""
    cut = pipeline.cut_out(pipeline.load_picture(picture))
    if cut is None:
        return "flaps: no rig"
    rig, _ = pipeline._rig(replace(cut, hands=pipeline.picture_hands(cut)), 1.0)
    found = flap_rows(rig)
    return "flaps (rows with body past a gap, below the shoulder's cap to the elbow): " + ", ".join(
        f"{name} {n}/{rows}" for name, (rows, n) in found.items()
    )


# the engine as it was, for --before (arms as skinned meshes) and --skinned (no ARAP solve)
VARIANTS = {
    "": ("", {}),
    "before": (" [before: arms as skinned meshes]", {"rigid_arms": False}),
    "skinned": (" [before: body skinned, no ARAP]", {"arap": False}),
}


def landscape_clip(tmp: Path, seconds: float = 6.0, source: str = PHOTO_CLIP) -> Path:
    """The real dance's (or `source`'s) first `seconds`, padded to a 1280x720 landscape frame
    (white either side, as a phone's portrait clip posted in a landscape video is): a portrait
    picture then leaves 300-400 px of frame either side of it."""
    out = tmp / f"{Path(source).stem}_landscape.mp4"
    pad = "scale=-2:720,pad=1280:720:(ow-iw)/2:0:color=white"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(SHARED / source), "-t", str(seconds), "-vf", pad]
    subprocess.run([*cmd, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-an", str(out)], check=True)
    return out


# pictures cropped through the hair (--top): the studio photos' heads start 23-25 rows down; the night
# street's figure cropped at 16 % of her height, through her hair and her raised fingers
TOP_ROWS = {
    "person_man_fullbody.png": 50,
    "person_woman_fullbody.png": 50,
    "character_anime_fullbody.jpg": 194,
    "character_armor_fullbody.png": 76,
}


def photos(
    tmp: Path,
    before: bool,
    only: str = "",
    skinned: bool = False,
    landscape: bool = False,
    waist: bool = False,
    portrait: bool = False,
    top: bool = False,
) -> None:
    """Every picture in ../shared/media with each real clip (the dance, the talking head; with
    `landscape` also the dance and the talking head in a landscape frame): the artefact measures (with
    a talking head also where the face is against the clip's), and reference | result
    frames saved under docs/engine/photos/ (with the dance also the engine before, with arms as
    skinned meshes, when `before`; with the body skinned without ARAP when `skinned`; with `waist`
    also the studio photos cut at 45 % of their height, waist up, their hands out of the picture;
    with `portrait` also cut to a head-and-shoulders portrait, their shoulders cut by its sides, and
    to their left 60 %, cut lengthwise at the right; with `top` also the pictures of TOP_ROWS with
    that many rows cropped off their top, through the hair)."""
    out_dir = DOCS / "photos"
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = sorted(p for p in SHARED.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg") and only in p.name)
    if waist:
        for picture in [p for p in pictures if p.name.startswith("person_")]:
            photo = Image.open(picture).convert("RGB")
            pictures.append(tmp / f"{picture.stem}_waist.png")
            photo.crop((0, 0, photo.width, int(0.45 * photo.height))).save(pictures[-1])
    if portrait:
        for picture in [p for p in pictures if p.name.startswith("person_") and p.parent == SHARED]:
            photo = Image.open(picture).convert("RGB")
            w, h = photo.size
            for tag, box in (("_portrait", (0.35, 0.0, 0.65, 0.34)), ("_side", (0.0, 0.0, 0.6, 1.0))):
                pictures.append(tmp / f"{picture.stem}{tag}.png")
                photo.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h))).save(pictures[-1])
    if top:
        for picture in [p for p in pictures if p.name in TOP_ROWS and p.parent == SHARED]:
            photo = Image.open(picture).convert("RGB")
            pictures.append(tmp / f"{picture.stem}_top.png")
            photo.crop((0, TOP_ROWS[picture.name], photo.width, photo.height)).save(pictures[-1])
    clips = [(SHARED / name, tag) for name, tag in PHOTO_CLIPS]
    if landscape:
        clips.append((landscape_clip(tmp), "_landscape"))
        clips.append((landscape_clip(tmp, source=TALKING_CLIP), "_talking_landscape"))
    for clip, tag in clips:
        if not clip.is_file():
            print(f"\n({clip.name} not found: skipped)")
            continue
        print(f"\n== real photos x {clip.name} (video orientation, 720p; load average {load()})")
        n = track_motion(clip, max_seconds=30.0).frames
        picks = [int(n * f) for f in PHOTO_FRAMES]
        variants = ("", *(("before",) if before else ()), *(("skinned",) if skinned else ())) if not tag else ("",)
        for picture in pictures:
            for variant in variants:
                label, options = VARIANTS[variant]
                frames: dict[int, np.ndarray] = {}

                def keep(
                    i: int,
                    frame: np.ndarray,
                    _stats: object,
                    frames: dict[int, np.ndarray] = frames,
                    picks: list[int] = picks,
                ) -> None:
                    if i in picks:
                        frames[i] = frame.copy()

                wall0 = time.perf_counter()
                try:
                    result = run_engine(
                        EngineJob(picture, clip, "video", "std", False, **options), tmp / "photo.mp4", on_frame=keep
                    )
                except Exception as exc:  # a picture the engine refuses is a figure too
                    print(f"{picture.name}: refused: {exc}")
                    break
                wall = time.perf_counter() - wall0
                print(f"{picture.name}{label}: {wall:.1f} s wall; {artefact_line(result)}")
                if not tag and not variant:
                    print(f"   {flaps_line(picture)}")
                if "_talking" in tag:
                    print(f"   {face_place_line(clip, tmp / 'photo.mp4')}")
                suffix = f"{tag}_{variant}" if variant else tag
                for i, frame in frames.items():
                    path = out_dir / f"{picture.stem}_{i:03d}{suffix}.jpg"
                    cv2.imwrite(str(path), side_by_side(clip, i, frame), [cv2.IMWRITE_JPEG_QUALITY, 82])
    print(f"frames saved under {out_dir.relative_to(ROOT)}/ (reference | result)")


def turns(tmp: Path, only: str = "") -> None:
    """How well each result's face turn follows the reference's: the nose's place between the ears
    (face.yaw) read on every frame of the reference and of the result, correlated; with the face
    turning and with it held still (face.TURN_LIMIT 0, everything else equal)."""
    print(f"\n== face turns x {PHOTO_CLIP} (video orientation, 720p; load average {load()})")
    clip = SHARED / PHOTO_CLIP
    ref = np.array([face.yaw(lm) for lm in track_motion(clip, max_seconds=30.0).landmarks])
    print(f"reference yaw: 10th-90th percentile {np.nanpercentile(ref, 10):+.3f} .. {np.nanpercentile(ref, 90):+.3f}")
    limit = face.TURN_LIMIT
    pictures = sorted(p for p in SHARED.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg") and only in p.name)
    for picture in pictures:
        line = []
        for label, turn in (("turning", limit), ("still", 0.0)):
            face.TURN_LIMIT = turn
            try:
                run_engine(EngineJob(picture, clip, "video", "std", False), tmp / "turns.mp4")
            finally:
                face.TURN_LIMIT = limit
            got = np.array([face.yaw(lm) for lm in track_motion(tmp / "turns.mp4", max_seconds=30.0).landmarks])
            n = min(len(ref), len(got))
            ok = np.isfinite(ref[:n]) & np.isfinite(got[:n])
            corr = float(np.corrcoef(ref[:n][ok], got[:n][ok])[0, 1]) if ok.sum() > 2 else float("nan")
            line.append(f"{label} {corr:+.2f} (read on {ok.sum()}/{n} frames)")
        print(f"{picture.name}: face yaw correlation with the reference: " + ", ".join(line))


def faces(tmp: Path, only: str = "") -> None:
    """How well each result's mouth and eyes follow the reference's, read by the face mesh as the
    engine reads the reference (its stride) on every frame of both: the mouth's opening correlated
    and the result's 90th percentile; the mouth's width correlated; the eyes' gap in the
    reference's blinks (its gap under 0.75 of its median) against the result's median, and the
    share of the other frames the result reads as low. With the face drawn, and held still (the
    engine given no opening, closing or width: everything else equal). Reference | result frames of
    the face drawn saved under docs/engine/photos/: the reference's widest opening (_mouth) and the
    middle of its first blink (_blink), its narrowest and its widest mouth (_narrow, _wide)."""
    print(f"\n== faces x {TALKING_CLIP} (video orientation, 720p; load average {load()})")
    clip = SHARED / TALKING_CLIP
    ref = track_motion(clip, max_seconds=30.0, stride=motion_stride(clip))
    times = np.arange(round(ref.duration * ref.fps)) / ref.fps
    ref_mouth, ref_eyes = ref.face_at(ref.mouth, times), ref.face_at(ref.eyes, times)
    ref_width = ref.face_at(ref.mouth_width, times)
    blink = ref_eyes < 0.75 * np.nanmedian(ref_eyes)
    shut = np.flatnonzero(blink)
    first_blink = shut[shut < shut[0] + 5] if len(shut) else shut  # its frames within 5 of its first
    picks = {int(np.nanargmax(ref_mouth)): "mouth"}
    if len(first_blink):
        picks[int(first_blink[len(first_blink) // 2])] = "blink"
    for index, tag in ((np.nanargmin(ref_width), "narrow"), (np.nanargmax(ref_width), "wide")):
        picks.setdefault(int(index), tag)
    print(
        f"reference: read on {np.isfinite(ref_mouth).mean():.0%} of frames; opening 5th-95th percentile "
        f"{np.nanpercentile(ref_mouth, 5):.3f} .. {np.nanpercentile(ref_mouth, 95):.3f}; blink frames "
        f"{np.flatnonzero(blink).tolist()}"
    )
    drawn = (pipeline.clip_opening, pipeline.clip_closing, pipeline.clip_width)
    still = (lambda *_: None, lambda *_: None, lambda *_: None)
    pictures = sorted(p for p in SHARED.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg") and only in p.name)
    for picture in pictures:
        line = []
        for label, (opening, closing, width) in (("drawn", drawn), ("still", still)):
            pipeline.clip_opening, pipeline.clip_closing, pipeline.clip_width = opening, closing, width
            frames: dict[int, np.ndarray] = {}

            def keep(i: int, frame: np.ndarray, _stats: object, frames: dict[int, np.ndarray] = frames) -> None:
                if i in picks:
                    frames[i] = frame.copy()

            try:
                run_engine(EngineJob(picture, clip, "video", "std", False), tmp / "faces.mp4", on_frame=keep)
            finally:
                pipeline.clip_opening, pipeline.clip_closing, pipeline.clip_width = drawn
            for i, tag in picks.items():
                if label == "drawn" and i in frames:
                    path = DOCS / "photos" / f"{picture.stem}_{tag}.jpg"
                    cv2.imwrite(str(path), side_by_side(clip, i, frames[i]), [cv2.IMWRITE_JPEG_QUALITY, 82])
            got = track_motion(tmp / "faces.mp4", max_seconds=30.0, stride=motion_stride(clip))
            got_mouth, got_eyes = got.face_at(got.mouth, times), got.face_at(got.eyes, times)
            ok = np.isfinite(ref_mouth) & np.isfinite(got_mouth)
            corr = float(np.corrcoef(ref_mouth[ok], got_mouth[ok])[0, 1]) if ok.sum() > 2 else float("nan")
            p90 = float(np.percentile(got_mouth[ok], 90)) if ok.any() else float("nan")
            got_width = got.face_at(got.mouth_width, times)
            both = np.isfinite(ref_width) & np.isfinite(got_width)
            wide = float(np.corrcoef(ref_width[both], got_width[both])[0, 1]) if both.sum() > 2 else float("nan")
            usual = float(np.nanmedian(got_eyes)) if np.isfinite(got_eyes).any() else float("nan")
            in_blinks = (
                float(np.nanmean(got_eyes[blink])) / usual if np.isfinite(got_eyes[blink]).any() else float("nan")
            )
            other = got_eyes[~blink & np.isfinite(got_eyes)]
            low = float(np.mean(other < (1 - 1 / 6) * usual)) if len(other) else float("nan")
            line.append(
                f"{label}: mouth {corr:+.2f}, 90th percentile {p90:.3f}, width {wide:+.2f}; eyes in blinks "
                f"{in_blinks:.2f} of usual, other frames low {low:.1%} (read on {ok.sum()}/{len(times)} frames)"
            )
        print(f"{picture.name}: " + " | ".join(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the memory series")
    parser.add_argument("--photos", action="store_true", help="only the real photos' artefact figures and frames")
    parser.add_argument("--before", action="store_true", help="with --photos: also the engine before (skinned arms)")
    parser.add_argument("--skinned", action="store_true", help="with --photos: also the body without ARAP")
    parser.add_argument("--only", default="", help="with --photos: only the pictures whose name contains this")
    parser.add_argument(
        "--landscape",
        action="store_true",
        help="with --photos: also the dance and the talking head padded to a landscape frame",
    )
    parser.add_argument(
        "--waist", action="store_true", help="with --photos: also the studio photos cut at the waist (hands cut off)"
    )
    parser.add_argument(
        "--portrait",
        action="store_true",
        help="with --photos: also the studio photos cut to a portrait, and cut lengthwise (cut off at the sides)",
    )
    parser.add_argument(
        "--top", action="store_true", help="with --photos: also photos cropped through the hair (cut off at the top)"
    )
    parser.add_argument("--speed", action="store_true", help="only the speed on the real photos (models warm)")
    parser.add_argument(
        "--ahead",
        action="store_true",
        help="with --speed: also each run with its picture and motion read ahead, and a phone-sized photo",
    )
    parser.add_argument("--first", action="store_true", help="only a process's first run, cold and warmed up")
    parser.add_argument("--turns", action="store_true", help="only the real photos' face turns against the reference's")
    parser.add_argument(
        "--faces", action="store_true", help="only the real photos' mouths and eyes against the talking head's"
    )
    args = parser.parse_args()
    print(f"kmc offline engine benchmark; {os.cpu_count()} cores; load average {load()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.speed:
            dance = SHARED / "dance_fullbody_12s.mp4"
            render((SHARED / "person_man_fullbody.png", dance), "image", tmp / "warm.mp4")  # models warm
            # the studio photos, and two scenes (their background filled by PatchMatch beside the rig's
            # build): the half-figure and the night street, the largest picture (704x1216)
            for name in (
                "person_man_fullbody.png",
                "person_woman_fullbody.png",
                "character_anime_upperbody.png",
                "character_anime_fullbody.jpg",
            ):
                print(f"\n{name}")
                speed((SHARED / name, dance), tmp, args.ahead)
            if args.ahead:
                phone(tmp)
            return
        if args.first:
            first_run(tmp, SHARED / "character_anime_fullbody.jpg", SHARED / "dance_fullbody_12s.mp4")
            return
        if args.turns:
            turns(tmp, args.only)
            return
        if args.faces:
            faces(tmp, args.only)
            return
        if args.photos:
            if not SHARED.is_dir():
                print(f"shared media not found at {SHARED}")
                return
            photos(tmp, args.before, args.only, args.skinned, args.landscape, args.waist, args.portrait, args.top)
            return
        character = make_character(tmp / "fixture_character.png", 360, 640)
        dance = make_dance(tmp / "fixture_dance.mp4", 360, 640, seconds=6.0, fps=24, audio=True)
        report_quality("fixture pair (drawn character, drawn dancer, 6 s)", (character, dance), tmp)
        if SHARED.is_dir():
            sample = (SHARED / "character_anime_fullbody.jpg", SHARED / "dance_fullbody_12s.mp4")
            got = report_quality("shared sample pair (anime character, dance 12 s)", sample, tmp, save=True)
            result = got["result"]
            print(f"detector repeatability on the reference video itself: {detector_repeatability(sample[1]):.3f}")
            rep = agreement_report(sample[1], result.path, sample[0], plot_path=DOCS / "sample_agreement.png")
            print(f"agreement report on the sample result ({rep.elapsed:.1f} s): {rep.summary()}")
            print(f"   plot: {Path(rep.plot_path).relative_to(ROOT)}")
            smoothing_figures(sample[1])
            photos(tmp, before=False)
            speed(sample, tmp)
        else:
            print(f"\n(shared sample media not found at {SHARED}: sample figures skipped)")
            speed((character, make_dance(tmp / "ten.mp4", 360, 640, seconds=10.0, fps=24)), tmp)
        if not args.quick:
            memory(tmp, character)


if __name__ == "__main__":
    main()
