"""Reading the pose of the two videos of a motion-agreement report, quickly.

`read_both(reference, output, ...)` gives each video's tracking pass and its fused reading, the two
videos read at the same time on two threads (mediapipe releases the GIL while it works: on two
cores the report takes the time of the longer video, not of both).

The fused reading (kmc_ui/engine/motion.fuse_readings) is made of three readings of each sample:
the tracking pass, the frame on its own and the frame mirrored. The tracking pass reads every sample;
the frame alone is read on every other sample, and on the samples either side of one where it
disagrees with the tracking pass (by more than DISAGREE torso lengths on the body joints, labels
read either way, or one of them found nobody) or where the tracking pass found nobody; the mirrored
reading, the tie-breaker of the median, only where those two disagree. Where they agree the fused
pose is their mean, as fuse_readings does with two readings; a sample read once keeps the tracking
pass's reading (a misreading the tracker latches onto lasts several samples, so it is caught where
the frame alone is read, and its neighbours are read too). All readings of a video come from one decode
(the tracking pass of kmc_ui/engine/motion.track_motion, the same frames and scaling, and the
frame-alone readings of motion.read_pose, made as each frame comes). Cached by content.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from kmc_ui.engine.common import EngineError
from kmc_ui.engine.motion import (
    FUSED_VERSION,
    MIRROR,
    POSE_MAX_SIDE,
    TRACK_VERSION,
    MotionTrack,
    _fresh_landmarker,
    _reason,
    _rotation,
    fuse_readings,
    read_pose,
)
from kmc_ui.pose import cache as _cache
from kmc_ui.pose import landmarks as L

DISAGREE = 0.15  # torso lengths (mean over the body joints): two readings this far apart call for a third
LAZY_VERSION = 3  # 2: one decode for the three readings; 3: every other sample read alone
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
    """(tracking pass, fused reading) of every `stride`-th frame (module docstring), from one decode
    of the video: each sampled frame goes to the tracking landmarker and is read on its own (and
    mirrored where needed) straight away. Cached by content."""
    import mediapipe

    try:
        digest = _cache.content_hash(path)
    except OSError as exc:
        raise EngineError(f"The motion video cannot be read ({exc.strerror or exc}).") from None
    params = {"v": FUSED_VERSION, "lazy": LAZY_VERSION, "mp": mediapipe.__version__, "stride": stride}
    params |= {"track": TRACK_VERSION, "side": POSE_MAX_SIDE, "disagree": DISAGREE}
    key = _cache.make_key("agreeread", digest, params)
    hit = _cache.memory_get(key)
    if hit is None:
        got = _cache.disk_get(cache_dir, key)
        if got is not None:
            arrays, meta = got
            track = MotionTrack(
                str(path),
                int(meta["w"]),
                int(meta["h"]),
                float(meta["fps"]),
                str(meta["rate"]),
                arrays["times"],
                arrays["track"].astype(np.float32),
                float(meta["duration"]),
                bool(meta["audio"]),
            )
            hit = (track, replace(track, landmarks=arrays["fused"].astype(np.float32)))
    if hit is None:
        hit = _one_pass(path, cache_dir, stride)
        track, fused = hit
        meta = {"w": track.width, "h": track.height, "fps": track.fps, "rate": track.rate}
        meta |= {"duration": track.duration, "audio": track.has_audio}
        arrays = {"times": track.times, "track": track.landmarks, "fused": fused.landmarks}
        _cache.disk_put(cache_dir, key, arrays, meta)
    _cache.memory_put(key, hit)
    track, fused = hit
    if track.path != str(path):
        track, fused = replace(track, path=str(path)), replace(fused, path=str(path))
    return track, fused


def _one_pass(path: Path, cache_dir: Path | None, stride: int) -> tuple[MotionTrack, MotionTrack]:
    import av
    import mediapipe as mp

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        raise EngineError(f"The motion video cannot be opened ({_reason(exc)}).") from None
    times: list[float] = []
    tracked: list[np.ndarray] = []
    direct: list[np.ndarray] = []
    mirrored: list[np.ndarray] = []
    size = (0, 0)
    with container:
        if not container.streams.video:
            raise EngineError("The motion video has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or 25
        fps = float(rate)
        rate_text = f"{rate.numerator}/{rate.denominator}" if hasattr(rate, "numerator") else f"{fps:.3f}"
        has_audio = bool(container.streams.audio)
        landmarker = _fresh_landmarker(cache_dir)
        last_ts = -1
        t0: float | None = None
        flagged: list[bool] = []  # per sample: its frame read alone disagreed with the tracking pass
        previous: tuple[np.ndarray, float] | None = None
        try:
            for n, frame in enumerate(container.decode(stream)):
                if n % stride:
                    continue
                rot = _rotation(frame)
                cw, ch = int(frame.width), int(frame.height)
                if not times:
                    size = (ch, cw) if rot % 2 else (cw, ch)
                k = max(1.0, max(cw, ch) / POSE_MAX_SIDE)
                rgb = frame.to_ndarray(width=max(2, round(cw / k)), height=max(2, round(ch / k)), format="rgb24")
                rgb = np.ascontiguousarray(np.rot90(rgb, rot) if rot else rgb)  # rows may come padded
                raw_t = frame.time if frame.time is not None else n / fps
                t0 = raw_t if t0 is None else t0
                t = max(0.0, raw_t - t0)
                last_ts = max(last_ts + 1, round(t * 1000))
                result = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), last_ts)
                lm = L.empty()
                if result.pose_landmarks:
                    h, w = rgb.shape[:2]
                    pts = result.pose_landmarks[0]
                    lm = np.array(
                        [[p.x * w * k, p.y * h * k, p.z * w * k, p.visibility or 0.0] for p in pts], np.float32
                    )
                times.append(t)
                tracked.append(lm)
                direct.append(L.empty())
                mirrored.append(L.empty())
                # every other sample is read alone; a disagreement there has the samples around it read too
                doubt = len(times) > 1 and bool(flagged and flagged[-1])
                if len(times) % 2 == 1 or doubt or not L.is_pose(lm):
                    flagged.append(_second_opinion(rgb, k, len(times) - 1, tracked, direct, mirrored))
                    if flagged[-1] and previous is not None and not L.is_pose(direct[-2]):
                        _second_opinion(*previous, len(times) - 2, tracked, direct, mirrored)
                else:
                    flagged.append(False)
                previous = (rgb, k)
        except Exception as exc:
            if not times:  # a broken tail keeps what was read, as the tracking pass does
                raise EngineError(f"The motion video cannot be decoded ({_reason(exc)}).") from None
        finally:
            landmarker.close()
    if not times:
        raise EngineError("No frame of the motion video could be decoded.")
    track_lms = np.stack(tracked).astype(np.float32)
    track = MotionTrack(
        str(path),
        size[0],
        size[1],
        fps,
        rate_text,
        np.asarray(times, np.float64),
        track_lms,
        len(times) * stride / fps,
        has_audio,
    )
    fused = fuse_readings([track_lms, np.stack(direct), np.stack(mirrored)])
    return track, replace(track, landmarks=fused)


def disagree(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two (33, 4) readings of one frame differ by more than DISAGREE torso lengths (labels
    read whichever way fits), or one of them found nobody."""
    if not (L.is_pose(a) and L.is_pose(b)):
        return L.is_pose(a) or L.is_pose(b)
    joints = list(L.BODY_JOINTS)
    direct = np.linalg.norm(a[joints, :2] - b[joints, :2], axis=1).mean()
    swapped = np.linalg.norm(a[joints, :2] - b[MIRROR][joints, :2], axis=1).mean()
    return bool(min(direct, swapped) / L.body_scale(a) > DISAGREE)


def _second_opinion(
    rgb: np.ndarray, k: float, i: int, tracked: list[np.ndarray], direct: list[np.ndarray], mirrored: list[np.ndarray]
) -> bool:
    """Sample i read alone (and mirrored where that disagrees with the tracking pass); True: they disagreed."""
    alone = read_pose(rgb)
    direct[i] = L.empty() if alone is None else _scaled(alone, k)
    if not disagree(tracked[i], direct[i]):
        return False
    flipped = read_pose(rgb, mirrored=True)
    mirrored[i] = L.empty() if flipped is None else _scaled(flipped, k)
    return True


def _scaled(lm: np.ndarray, k: float) -> np.ndarray:
    lm[:, :3] *= k
    return lm
