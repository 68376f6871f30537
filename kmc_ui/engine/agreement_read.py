"""Reading the pose of the two videos of a motion-agreement report, quickly.

`read_both(reference, output, ...)` gives each video's tracking pass and its fused reading, the two
videos read at the same time on two threads (mediapipe releases the GIL while it works: on two
cores the report takes the time of the longer video, not of both).

The fused reading (kmc_ui/engine/motion.fuse_readings) is made of three readings of each sample:
the tracking pass, the frame on its own and the frame mirrored. The mirrored reading only matters
where the first two disagree (it is the tie-breaker of the median), so it is read only there:
where the frame alone and the tracking pass differ by more than DISAGREE torso lengths on the body
joints (labels read either way), or one of them found nobody. Where they agree the fused pose is
their mean, as fuse_readings does with two readings. Cached by content like the other readings.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from kmc_ui.engine.motion import (
    FUSED_VERSION,
    MIRROR,
    POSE_MAX_SIDE,
    TRACK_VERSION,
    MotionTrack,
    _rotation,
    fuse_readings,
    read_pose,
    track_motion,
)
from kmc_ui.pose import cache as _cache
from kmc_ui.pose import landmarks as L

DISAGREE = 0.15  # torso lengths (mean over the body joints): two readings this far apart call for a third
LAZY_VERSION = 1
# two threads, kept: each keeps its own mediapipe graphs (per thread), built once
_READERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kmc-report-read")


def read_both(
    reference: Path, output: Path, cache_dir: Path | None, ref_stride: int, out_stride: int
) -> tuple[tuple[MotionTrack, MotionTrack], tuple[MotionTrack, MotionTrack]]:
    """((reference tracking pass, reference fused), (output tracking pass, output fused)), read at
    the same time. Raises what reading raises (EngineError for unreadable media)."""
    ref = _READERS.submit(read_one, reference, cache_dir, ref_stride)
    out = _READERS.submit(read_one, output, cache_dir, out_stride)
    return ref.result(), out.result()


def read_one(path: Path, cache_dir: Path | None, stride: int) -> tuple[MotionTrack, MotionTrack]:
    """(tracking pass, fused reading) of every `stride`-th frame (module docstring)."""
    import mediapipe

    track = track_motion(path, cache_dir=cache_dir, stride=stride)
    params = {"v": FUSED_VERSION, "lazy": LAZY_VERSION, "mp": mediapipe.__version__, "frames": track.frames}
    params |= {"stride": stride, "track": TRACK_VERSION, "side": POSE_MAX_SIDE, "disagree": DISAGREE}
    key = _cache.make_key("fusedlazy", _cache.content_hash(path), params)
    hit = _cache.memory_get(key)
    if hit is None:
        got = _cache.disk_get(cache_dir, key)
        hit = got[0]["landmarks"].astype(np.float32) if got is not None else None
    if hit is None:
        direct, mirrored = _readings(path, track, stride)
        n = min(len(direct), track.frames)
        hit = track.landmarks.copy()
        hit[:n] = fuse_readings([track.landmarks[:n], direct[:n], mirrored[:n]])
        _cache.memory_put(key, hit)
        _cache.disk_put(cache_dir, key, {"landmarks": hit}, {"frames": track.frames})
    return track, replace(track, landmarks=hit)


def disagree(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two (33, 4) readings of one frame differ by more than DISAGREE torso lengths (labels
    read whichever way fits), or one of them found nobody."""
    if not (L.is_pose(a) and L.is_pose(b)):
        return L.is_pose(a) or L.is_pose(b)
    joints = list(L.BODY_JOINTS)
    direct = np.linalg.norm(a[joints, :2] - b[joints, :2], axis=1).mean()
    swapped = np.linalg.norm(a[joints, :2] - b[MIRROR][joints, :2], axis=1).mean()
    return bool(min(direct, swapped) / L.body_scale(a) > DISAGREE)


def _readings(path: Path, track: MotionTrack, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """The frame-alone reading of every sample, and the mirrored one where it is needed (NaN elsewhere)."""
    import av

    direct: list[np.ndarray] = []
    mirrored: list[np.ndarray] = []
    frames = track.frames * stride
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for n, frame in enumerate(container.decode(stream)):
            if n >= frames:
                break
            if n % stride:
                continue
            rot = _rotation(frame)
            cw, ch = int(frame.width), int(frame.height)
            k = max(1.0, max(cw, ch) / POSE_MAX_SIDE)
            rgb = frame.to_ndarray(width=max(2, round(cw / k)), height=max(2, round(ch / k)), format="rgb24")
            if rot:
                rgb = np.rot90(rgb, rot)
            alone = read_pose(rgb)
            alone = L.empty() if alone is None else _scaled(alone, k)
            tracked = track.landmarks[len(direct)] if len(direct) < track.frames else L.empty()
            other = L.empty()
            if disagree(tracked, alone):
                flipped = read_pose(rgb, mirrored=True)
                other = L.empty() if flipped is None else _scaled(flipped, k)
            direct.append(alone)
            mirrored.append(other)
    if not direct:
        empty = np.full((0, 33, 4), np.nan, np.float32)
        return empty, empty
    return np.stack(direct), np.stack(mirrored)


def _scaled(lm: np.ndarray, k: float) -> np.ndarray:
    lm[:, :3] *= k
    return lm
