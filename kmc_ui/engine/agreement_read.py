"""Reading the pose of the two videos of a motion-agreement report, quickly.

`read_both(reference, output, ...)` gives each video's tracking pass and its fused reading, the two
videos read at the same time on two threads (mediapipe releases the GIL while it works: on two
cores the report takes the time of the longer video, not of both). `read_ahead(reference, ...)`
starts the reference's reading before the report is asked for (when the run is submitted: it does
not depend on the result); the report then finds it cached, or waits for it, and reads only the
result. A reading of the same content is never run twice at once.

The fused reading (kmc_ui/engine/motion.fuse_readings) is made of up to three readings of each
sample: the tracking pass, the frame on its own and the frame mirrored. The tracking pass reads
every sample. The frame alone is read where the tracking pass is doubtful (_doubtful: every
PROBE_EVERY-th sample, nobody found, a limb joint jumping from where its neighbours put it or its
visibility changing sharply), and where that disagrees with the tracking pass (by more than
DISAGREE torso lengths on the body joints, labels read either way, or one of them found nobody)
its neighbours too, forwards and backwards for as long as they disagree: a misreading the tracker
latches onto lasts several samples and is read whole once any sample of it is, and a run of
PROBE_EVERY samples or more always has one probed. The mirrored reading, the tie-breaker of the
median, only where the tracking pass and the frame alone disagree. Where they agree the fused pose
is their mean, as fuse_readings does with two readings; a sample read once keeps the tracking
pass's reading. Measured (2026-12-02): on the sample dance and its 720p re-encode and an engine
result of the stylized character no sample's frame alone disagreed; on an engine result of
`character_anime_fullbody.jpg` the tracking pass misread a run of 3 samples of 24, and this scheme
(27 frame-alone readings) fused within 0.1 torso of reading every sample three ways on every sample,
as reading every other sample (28) did. A latched misreading moves smoothly: the jump test alone
did not see it (limb jumps 0.03-0.05 torso there), the probes did.

Each video is decoded once for all its readings, on three threads: decoding (a producer; frames
scaled by swscale as motion.pose_frame scales them), the tracking pass (motion.track_frame) and the
second opinions (a thread of _SECOND, fed one sample behind the tracking pass). Cached by content.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kmc_ui.engine.common import EngineError, says
from kmc_ui.engine.motion import (
    FUSED_VERSION,
    MIRROR,
    POSE_MAX_SIDE,
    TRACK_VERSION,
    MotionTrack,
    _reason,
    cached_track,
    fresh_landmarker,
    fuse_readings,
    pose_frame,
    read_pose,
    track_frame,
)
from kmc_ui.pose import cache as _cache
from kmc_ui.pose import landmarks as L
from kmc_ui.priority import yield_cores

DISAGREE = 0.15  # torso lengths (mean over the body joints): two readings this far apart call for a third
PROBE_EVERY = 3  # every this many samples the frame is read alone whatever the tracking pass says
WINDOW = 8  # samples kept to read backwards along a run of misreadings
JUMP = 0.3  # torso lengths: a limb joint this far from its neighbours' midpoint has the frame read alone
VISIBILITY_JUMP = 0.3  # ... and so has a limb joint whose visibility changes this much from a neighbour's
# 2: one decode for the three readings; 3: every other sample read alone; 4: read alone where the
# tracking pass is doubtful (_doubtful)
LAZY_VERSION = 4
_LIMB_JOINTS = [L.L_ELBOW, L.R_ELBOW, L.L_WRIST, L.R_WRIST, L.L_KNEE, L.R_KNEE, L.L_ANKLE, L.R_ANKLE]
# kept threads: each keeps its own mediapipe graphs (per thread), built once. _READERS: the tracking
# passes of the two videos of a report; _SECOND: the second opinions (of those and of a read_ahead)
_READERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kmc-report-read", initializer=yield_cores)
_SECOND = ThreadPoolExecutor(max_workers=3, thread_name_prefix="kmc-report-alone", initializer=yield_cores)
_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-report-ahead", initializer=yield_cores)  # read_ahead


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
    of the video. Cached by content; a reading of the same content already under way (read_ahead,
    or the other thread of a report comparing a video with itself) is waited for, not repeated."""
    import mediapipe

    try:
        digest = _cache.content_hash(path)
    except OSError as exc:
        raise EngineError(says("video_unreadable", w_why=exc.strerror or str(exc))) from None
    params = {"v": FUSED_VERSION, "lazy": LAZY_VERSION, "mp": mediapipe.__version__, "stride": stride}
    params |= {"track": TRACK_VERSION, "side": POSE_MAX_SIDE, "disagree": DISAGREE}
    params |= {"probe": PROBE_EVERY, "jump": JUMP, "vjump": VISIBILITY_JUMP, "window": WINDOW}
    key = _cache.make_key("agreeread", digest, params)
    hit = _cached(key, path, cache_dir)
    if hit is None:
        flight, mine = _cache.board(key)
        if not mine:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            hit = flight.result
        else:
            try:
                hit = _one_pass(path, cache_dir, stride)
                track, fused = hit
                meta = {"w": track.width, "h": track.height, "fps": track.fps, "rate": track.rate}
                meta |= {"duration": track.duration, "audio": track.has_audio}
                arrays = {"times": track.times, "track": track.landmarks, "fused": fused.landmarks}
                _cache.disk_put(cache_dir, key, arrays, meta)
            except BaseException as exc:
                _cache.land(key, flight, error=exc)
                raise
            _cache.land(key, flight, result=hit)
    _cache.memory_put(key, hit)
    track, fused = hit
    if track.path != str(path):
        track, fused = replace(track, path=str(path)), replace(fused, path=str(path))
    return track, fused


def read_ahead(path: Path, cache_dir: Path | None, stride: int) -> Future:
    """read_one on a thread of its own, for a video known before the report is asked for (the
    reference, while the result renders): the report then finds it cached, or waits for it."""
    return _AHEAD.submit(read_one, path, cache_dir, stride)


def _cached(key: str, path: Path, cache_dir: Path | None) -> tuple[MotionTrack, MotionTrack] | None:
    hit = _cache.memory_get(key)
    if hit is not None:
        return hit
    got = _cache.disk_get(cache_dir, key)
    if got is None:
        return None
    arrays, meta = got
    track = cached_track(path, arrays, meta, "track")
    return track, replace(track, landmarks=arrays["fused"].astype(np.float32))


def _one_pass(path: Path, cache_dir: Path | None, stride: int) -> tuple[MotionTrack, MotionTrack]:
    """One decode feeding three threads: decoding (a producer, scaled frames), the tracking pass
    (this thread) and the second opinions (a thread of _SECOND, fed in order one sample behind
    the tracking pass, so a sample's jump test sees both neighbours)."""
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        raise EngineError(says("video_unopenable", why=_reason(exc))) from None
    with container:
        if not container.streams.video:
            raise EngineError(says("no_video_stream"))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        # deblocking is kept: skipping it (pose/detect.py does) saved ~15% of decoding but moved the
        # tracking pass's reading of the first frame of a 360x640 engine result by 0.35 torso
        rate = stream.average_rate or stream.guessed_rate or 25
        fps = float(rate)
        rate_text = f"{rate.numerator}/{rate.denominator}" if hasattr(rate, "numerator") else f"{fps:.3f}"
        has_audio = bool(container.streams.audio)
        frames: queue.Queue[tuple[float, np.ndarray, float, tuple[int, int]] | BaseException | None]
        frames = queue.Queue(maxsize=8)
        stop = threading.Event()
        producer = threading.Thread(
            target=_decode, args=(container, stream, stride, fps, frames, stop), name="kmc-report-decode", daemon=True
        )
        producer.start()
        seconds = _Seconds()
        opinions = _SECOND.submit(seconds.run)
        try:
            times, tracked, size = _track(frames, seconds, cache_dir)
        finally:
            seconds.feed(None)
            stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                try:
                    frames.get_nowait()
                except queue.Empty:
                    producer.join(0.05)
        direct, mirrored = opinions.result()
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


def _decode(container: Any, stream: Any, stride: int, fps: float, out: queue.Queue, stop: threading.Event) -> None:
    """Producer: every `stride`-th frame as (time from the first frame, pose_frame rgb, scale, size)."""
    try:
        t0: float | None = None
        for n, frame in enumerate(container.decode(stream)):
            if stop.is_set():
                return
            if n % stride:
                continue
            rgb, k, size = pose_frame(frame)
            raw_t = frame.time if frame.time is not None else n / fps
            t0 = raw_t if t0 is None else t0
            out.put((max(0.0, raw_t - t0), rgb, k, size))
    except BaseException as exc:  # handed to the tracking pass
        out.put(exc)
        return
    out.put(None)


def _track(
    frames: queue.Queue, seconds: _Seconds, cache_dir: Path | None
) -> tuple[list[float], list[np.ndarray], tuple[int, int]]:
    """The tracking pass over the decoded samples; each sample is handed to the second opinions
    once the next one is tracked (its jump test needs both neighbours)."""
    landmarker = fresh_landmarker(cache_dir)
    times: list[float] = []
    tracked: list[np.ndarray] = []
    size = (0, 0)
    last_ts = -1
    held: tuple[np.ndarray, float] | None = None  # the last sample's frame, not yet handed on
    try:
        while True:
            item = frames.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                if times:  # a broken tail keeps what was read, as the tracking pass does
                    break
                raise EngineError(says("video_undecodable", why=_reason(item)))
            t, rgb, k, shown = item
            if not times:
                size = shown
            last_ts = max(last_ts + 1, round(t * 1000))
            tracked.append(track_frame(landmarker, rgb, k, last_ts))
            times.append(t)
            if held is not None:
                i = len(times) - 2
                seconds.feed((i, *held, tracked[i], _doubtful(tracked, i)))
            held = (rgb, k)
    finally:
        landmarker.close()
    if not times:
        raise EngineError(says("no_frame"))
    if held is not None:
        i = len(times) - 1
        seconds.feed((i, *held, tracked[i], _doubtful(tracked, i)))
    return times, tracked, size


def _doubtful(tracked: list[np.ndarray], i: int) -> bool:
    """Whether sample i of the tracking pass calls for a reading of the frame alone: every
    PROBE_EVERY-th sample (a misreading the tracker latches onto for a run of samples is met
    there), nobody found, or a limb joint that jumps more than JUMP torso lengths from where its
    neighbours put it (where a latched misreading starts or ends), or whose visibility changes by
    more than VISIBILITY_JUMP from a neighbour's."""
    lm = tracked[i]
    if i % PROBE_EVERY == 0 or not L.is_pose(lm):
        return True
    near = [tracked[j] for j in (i - 1, i + 1) if 0 <= j < len(tracked)]
    if not all(L.is_pose(n) for n in near):
        return True
    scale = L.body_scale(lm)
    middle = np.mean([n[_LIMB_JOINTS, :2] for n in near], axis=0)
    if float(np.linalg.norm(lm[_LIMB_JOINTS, :2] - middle, axis=1).max()) / scale > JUMP:
        return True
    return any(float(np.abs(lm[_LIMB_JOINTS, 3] - n[_LIMB_JOINTS, 3]).max()) > VISIBILITY_JUMP for n in near)


class _Seconds:
    """The second opinions of one video, on a thread of _SECOND, in sample order: the frame alone
    where the tracking pass is doubtful (_doubtful); where it disagrees with the tracking pass, its
    neighbours too, forwards and backwards (up to WINDOW samples back) for as long as they
    disagree, so a run of misread samples is read whole once one of them is; the mirrored frame
    only where the frame alone and the tracking pass disagree."""

    def __init__(self) -> None:
        self.q: queue.Queue[tuple[int, np.ndarray, float, np.ndarray, bool] | None] = queue.Queue()
        self.tracked: list[np.ndarray] = []
        self.direct: list[np.ndarray] = []
        self.mirrored: list[np.ndarray] = []
        self.read: set[int] = set()  # samples whose frame was read alone
        self.window: deque[tuple[int, np.ndarray, float]] = deque(maxlen=WINDOW)

    def feed(self, item: tuple[int, np.ndarray, float, np.ndarray, bool] | None) -> None:
        self.q.put(item)

    def _read(self, i: int, rgb: np.ndarray, k: float) -> bool:
        self.read.add(i)
        return _second_opinion(rgb, k, i, self.tracked, self.direct, self.mirrored)

    def run(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        flagged = False  # the previous sample's frame alone disagreed with the tracking pass
        while (item := self.q.get()) is not None:
            i, rgb, k, lm, doubtful = item
            self.tracked.append(lm)
            self.direct.append(L.empty())
            self.mirrored.append(L.empty())
            flagged = (doubtful or flagged) and self._read(i, rgb, k)
            if flagged:
                for j, rgb_j, k_j in reversed(self.window):  # back along the run while it disagrees
                    if j in self.read or not self._read(j, rgb_j, k_j):
                        break
            self.window.append((i, rgb, k))
        return self.direct, self.mirrored


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
