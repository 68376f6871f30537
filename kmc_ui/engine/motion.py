"""The motion: the reference video's pose on every frame, cached by content.

kmc_ui/pose's `analyse_video` samples a few frames a second for the pre-flight checks (and
skips non-reference frames); the engine needs a pose for every output frame, so this is one
full decode (PyAV, threaded, frames scaled down by swscale in the decoder thread) feeding
mediapipe's tracking landmarker (VIDEO mode, the graph kmc_ui/pose/model.py builds offline).
Each clip gets its own landmarker graph (see fresh_landmarker). Where the head is large enough
(a talking head), the face's mouth and eyes are read too, on every frame (expression.FaceReader).
The result is cached with
kmc_ui/pose/cache (content hash + parameters), in memory and on
disk, so a second render or the motion-agreement report reads it back at once.
"""

from __future__ import annotations

import queue
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kmc_ui.engine.common import EngineCancelled, EngineError, says
from kmc_ui.engine.expression import FaceReader
from kmc_ui.pose import cache as _cache
from kmc_ui.pose import landmarks as L
from kmc_ui.pose import model as _model

# 2: duration = frames decoded / fps (a stride no longer rounds it up); 3: mouth, eyes; 4: the mouth's width
TRACK_VERSION = 4
FUSED_VERSION = 1
# MotionTrack's face readings, as its cache entry holds them
FACE_ARRAYS = ("face_times", "mouth", "eyes", "mouth_width")
POSE_MAX_SIDE = 640  # frames handed to mediapipe (its models work at 224-256 px)
# mediapipe's left/right landmark pairs swapped: the labelling of a figure seen from behind (or
# mirrored)
MIRROR = np.arange(33)
for _a, _b in ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (21, 22)):
    MIRROR[_a], MIRROR[_b] = _b, _a
for _a, _b in ((23, 24), (25, 26), (27, 28), (29, 30), (31, 32)):
    MIRROR[_a], MIRROR[_b] = _b, _a


@dataclass(frozen=True)
class MotionTrack:
    """Pose on every frame of a video, in the video's displayed pixels (rotation applied)."""

    path: str
    width: int
    height: int
    fps: float
    rate: str  # exact frame rate as "num/den" (for the encoder)
    times: np.ndarray  # (T,) seconds from the first frame
    landmarks: np.ndarray  # (T, 33, 4); NaN rows: nobody found
    duration: float  # seconds covered (frames decoded / fps: T * stride / fps at most)
    has_audio: bool
    # the mouth's opening, the eyes' gap and the mouth's width (kmc_ui/engine/expression.py) where
    # the head is large enough to read them, else nan, at face_times (every frame once a large head
    # is seen, the stride or not); None: not read (the agreement report's tracking pass)
    face_times: np.ndarray | None = None
    mouth: np.ndarray | None = None
    eyes: np.ndarray | None = None
    mouth_width: np.ndarray | None = None

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def found(self) -> np.ndarray:
        return np.isfinite(self.landmarks[:, :, 0]).all(axis=1)

    def face_at(self, values: np.ndarray | None, times: np.ndarray) -> np.ndarray:
        """A face reading (self.mouth, self.eyes or self.mouth_width) at `times` (s): linear between
        the frames it was read on, nan more than 1.5 frames from one (or where none was read)."""
        if values is None or self.face_times is None or not np.isfinite(values).any():
            return np.full(len(times), np.nan)
        read = np.isfinite(values)
        at = self.face_times[read]
        near = np.abs(at[:, None] - times[None, :]).min(axis=0) <= 1.5 / self.fps
        return np.where(near, np.interp(times, at, values[read]), np.nan)


def cached_track(path: Path, arrays: dict[str, np.ndarray], meta: dict, landmarks: str = "landmarks") -> MotionTrack:
    """A MotionTrack from a pose-cache entry (its arrays and meta), landmarks from `arrays[landmarks]`."""
    faces: list[np.ndarray | None] = [None] * len(FACE_ARRAYS)  # an entry without the face's readings
    if all(k in arrays for k in FACE_ARRAYS):
        faces = [arrays[k].astype(np.float64 if k == "face_times" else np.float32) for k in FACE_ARRAYS]
    return MotionTrack(
        str(path),
        int(meta["w"]),
        int(meta["h"]),
        float(meta["fps"]),
        str(meta["rate"]),
        arrays["times"],
        arrays[landmarks].astype(np.float32),
        float(meta["duration"]),
        bool(meta["audio"]),
        *faces,
    )


def _from_disk(cache_dir: Path | None, key: str, path: Path) -> MotionTrack | None:
    got = _cache.disk_get(cache_dir, key)
    return None if got is None else cached_track(path, *got)


def _rotation(frame: Any) -> int:
    return round(float(getattr(frame, "rotation", 0) or 0) / 90.0) % 4


_SCALERS = threading.local()


def _scaler() -> Any:
    """This thread's swscale context, kept from frame to frame: `frame.to_ndarray(width=...)` made
    one for every frame (3.6 ms a 1080p frame, against 1.7 ms; the same pixels)."""
    scaler = getattr(_SCALERS, "reformatter", None)
    if scaler is None:
        from av.video.reformatter import VideoReformatter

        scaler = _SCALERS.reformatter = VideoReformatter()
    return scaler


def pose_frame(frame: Any, max_side: int = POSE_MAX_SIDE) -> tuple[np.ndarray, float, tuple[int, int]]:
    """A decoded frame as every pose reading takes it: RGB with the rotation applied, scaled by
    swscale so its longer side is at most max_side (contiguous: rows may come padded); the scale
    (display pixels per frame pixel) and the displayed size (width, height)."""
    rot = _rotation(frame)
    cw, ch = int(frame.width), int(frame.height)
    k = max(1.0, max(cw, ch) / max_side)
    scaler = _scaler()
    rgb = scaler.reformat(frame, width=max(2, round(cw / k)), height=max(2, round(ch / k)), format="rgb24").to_ndarray()
    rgb = np.ascontiguousarray(np.rot90(rgb, rot) if rot else rgb)
    return rgb, k, ((ch, cw) if rot % 2 else (cw, ch))


def track_frame(landmarker: Any, rgb: np.ndarray, k: float, ts_ms: int) -> np.ndarray:
    """The tracking landmarker's reading (VIDEO mode, at ts_ms) of a pose_frame: (33, 4) in display
    pixels (x, y, z scaled by k), or an empty row when nobody is found."""
    import mediapipe as mp

    result = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ts_ms)
    if not result.pose_landmarks:
        return L.empty()
    h, w = rgb.shape[:2]
    person = result.pose_landmarks[0]
    return np.array([[p.x * w * k, p.y * h * k, p.z * w * k, p.visibility or 0.0] for p in person], np.float32)


def track_motion(
    path: str | Path,
    max_seconds: float | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    stride: int = 1,
) -> MotionTrack:
    """Pose on every frame (or every `stride`-th frame) up to max_seconds. Raises EngineError
    for unreadable videos, EngineCancelled when `cancel` is set (checked every frame).

    One reading of a clip with the same parameters at a time: a caller that finds one under way (a
    run's motion read ahead while its visitor looks at the checks: pipeline.read_motion_ahead) is
    told its progress, then takes its track from the cache; should that reading fail or be
    stopped, the caller reads the clip itself."""
    try:
        key = ("track", _cache.content_hash(Path(path)), str(cache_dir), max_seconds, max(1, int(stride)))
    except OSError:
        return _track_motion(path, max_seconds, cache_dir, progress, cancel, stride)  # it says why
    flight, mine = _cache.board(key)
    if not mine:
        while not flight.done.wait(0.1):
            if cancel is not None and cancel.is_set():
                raise EngineCancelled(says("stopped_reading"))
            if progress is not None and flight.at[1]:
                progress(*flight.at)
        return track_motion(path, max_seconds, cache_dir, progress, cancel, stride)

    def told(i: int, n: int) -> None:
        flight.at = (i, n)
        if progress is not None:
            progress(i, n)

    try:
        track = _track_motion(path, max_seconds, cache_dir, told, cancel, stride)
    except BaseException as exc:
        _cache.land(key, flight, error=exc)
        raise
    _cache.land(key, flight, result=track)
    return track


def _track_motion(
    path: str | Path,
    max_seconds: float | None,
    cache_dir: Path | None,
    progress: Callable[[int, int], None] | None,
    cancel: threading.Event | None,
    stride: int,
) -> MotionTrack:
    stride = max(1, int(stride))
    import av

    path = Path(path)
    try:
        digest = _cache.content_hash(path)
    except OSError as exc:
        raise EngineError(says("video_unreadable", w_why=exc.strerror or str(exc))) from None
    import mediapipe

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        raise EngineError(says("video_unopenable", why=_reason(exc))) from None
    with container:
        if not container.streams.video:
            raise EngineError(says("no_video_stream"))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or 25
        fps = float(rate)
        rate_text = f"{rate.numerator}/{rate.denominator}" if hasattr(rate, "numerator") else f"{fps:.3f}"
        has_audio = bool(container.streams.audio)
        duration = 0.0
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        limit = duration if duration > 0 else float("inf")
        if max_seconds is not None:
            limit = min(limit, max_seconds)
        max_frames = int(np.floor(limit * fps + 1e-6)) if np.isfinite(limit) else 10**9
        # keyed by the frames actually wanted, so a 12 s clip read with a 30 s cap (the engine) and
        # with none (the agreement report) shares one entry
        params = {"v": TRACK_VERSION, "mp": mediapipe.__version__, "frames": max_frames, "side": POSE_MAX_SIDE}
        key = _cache.make_key("track", digest, {**params, "stride": stride})
        hit = _cache.memory_get(key) or _from_disk(cache_dir, key, path)
        if hit is not None:
            _cache.memory_put(key, hit)
            if progress is not None:
                progress(hit.frames, hit.frames)
            return hit if hit.path == str(path) else replace(hit, path=str(path))
        expected = max_frames if max_frames < 10**9 else max(1, round(duration * fps))
        times, lms, faces, size = _run(
            container, stream, fps, max_frames, expected, progress, cancel, cache_dir, stride
        )
        covered = min(size[2], len(times) * stride) if times else 0
    if not times:
        raise EngineError(says("no_frame"))
    track = MotionTrack(
        str(path),
        size[0],
        size[1],
        fps,
        rate_text,
        np.asarray(times, np.float64),
        np.stack(lms).astype(np.float32),
        covered / fps,
        has_audio,
        *(np.asarray([f[i] for f in faces], np.float32 if i else np.float64) for i in range(len(FACE_ARRAYS))),
    )
    _cache.memory_put(key, track)
    meta = {
        "w": track.width,
        "h": track.height,
        "fps": fps,
        "rate": rate_text,
        "duration": track.duration,
        "audio": has_audio,
    }
    arrays = {"times": track.times, "landmarks": track.landmarks}
    arrays |= {k: getattr(track, k) for k in FACE_ARRAYS}
    _cache.disk_put(cache_dir, key, arrays, meta)
    return track


def _run(
    container: Any,
    stream: Any,
    fps: float,
    max_frames: int,
    expected: int,
    progress: Callable[[int, int], None] | None,
    cancel: threading.Event | None,
    cache_dir: Path | None,
    stride: int = 1,
) -> tuple[list[float], list[np.ndarray], list[tuple[float, float, float]], tuple[int, int, int]]:
    q: queue.Queue[tuple[float, Any, float, bool] | BaseException | None] = queue.Queue(maxsize=8)
    stop = threading.Event()
    size: list[int] = [0, 0, 0]  # shown width, height, and frames decoded (read or skipped by the stride)

    def produce() -> None:
        """Every frame, in order: those the stride reads scaled (pose_frame), the others as
        decoded, scaled by the reader only if it reads their face (below)."""
        try:
            n = 0
            t0: float | None = None
            for frame in container.decode(stream):
                if stop.is_set() or n >= max_frames:
                    break
                raw_t = frame.time if frame.time is not None else n / fps
                t0 = raw_t if t0 is None else t0
                if n % stride == 0:
                    rgb, k, shown = pose_frame(frame)
                    if n == 0:
                        size[0], size[1] = shown
                    q.put((max(0.0, raw_t - t0), rgb, k, True))
                else:
                    q.put((max(0.0, raw_t - t0), frame, 0.0, False))
                n += 1
            size[2] = n
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
            return
        q.put(None)

    producer = threading.Thread(target=produce, name="kmc-engine-decode", daemon=True)
    producer.start()
    landmarker = fresh_landmarker(cache_dir)
    reader = FaceReader()
    ts_base = 0
    last_ts = -1
    times: list[float] = []
    lms: list[np.ndarray] = []
    faces: list[tuple[float, ...]] = []  # (time, mouth opening, eyes' gap, mouth width)
    lm = L.empty()
    # once a head large enough for its face to be read is seen, the frames the stride skips are
    # read too, for the face alone (a blink lasts 3-4 frames: every other one would miss it). Told
    # here, in the frames' order: told to the frame reader (a thread 8 frames ahead), which frames
    # it had skipped by then depended on the threads' timing, and a talking head's result with it
    faces_wanted = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise EngineCancelled(says("stopped_reading"))
            item = q.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                if times:  # a broken tail: keep what was read
                    break
                raise EngineError(says("video_undecodable", why=_reason(item)))
            t, rgb, k, posed = item
            if posed:
                last_ts = max(last_ts + 1, ts_base + round(t * 1000))
                lm = track_frame(landmarker, rgb, k, last_ts)
                times.append(t)
                lms.append(lm)
                faces_wanted = faces_wanted or reader.readable(lm, k)
            elif faces_wanted:
                rgb, k, _ = pose_frame(rgb)  # a skipped frame, as decoded
            else:
                continue
            faces.append((t, *reader.read(rgb, lm, k)))  # a skipped frame: the head where it was
            if posed and progress is not None:
                progress(len(times), max(1, -(-expected // stride)))
    finally:
        landmarker.close()
        reader.close()
        stop.set()
        while producer.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                producer.join(0.05)
    size[2] = size[2] or len(times) * stride  # a broken tail: what was read
    return times, lms, faces, (size[0], size[1], size[2])


def fresh_landmarker(cache_dir: Path | None) -> Any:
    """A new tracking landmarker (VIDEO mode, one person) for one clip.

    Not the per-thread graph kmc_ui/pose/model.py keeps for the pre-flight checks: its temporal
    filters carry over between clips (measured: after a clip whose left wrist was hidden, the
    next clip started with that wrist's visibility at 0.22, rising over 0.7 s), which is harmless
    for sampled checks but wrong for per-frame motion. A graph costs ~0.1 s to create."""
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=_model.bundle_bytes(cache_dir)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
        min_pose_detection_confidence=0.5,
        min_pose_presence_confidence=0.5,
        min_tracking_confidence=0.5,
    )
    return vision.PoseLandmarker.create_from_options(options)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split("; last error log")[0][:160]


# ---------------------------------------------------------------- three readings of each frame


def fuse_readings(readings: list[np.ndarray]) -> np.ndarray:
    """(T, 33, 4): the per-landmark median of several readings (each (T, 33, 4), NaN rows where
    nobody was found) of the same frames. Per frame, each reading is first relabelled left/right
    as the reading that agrees best with the others (the medoid) labels it, so one misreading
    cannot decide the labels. With three readings one misreading is outvoted; with two the mean
    is taken; a frame only one reading found keeps that reading. The result is labelled as the
    first reading labels it."""
    stack = np.stack([np.asarray(r, np.float64) for r in readings])  # (R, T, 33, 4)
    n_read, frames = stack.shape[:2]
    joints = list(L.BODY_JOINTS)
    found = np.isfinite(stack[:, :, :, 0]).all(axis=2)  # (R, T)
    # pairwise distance (best labelling) between readings, per frame; inf where one is missing
    apart = np.full((n_read, n_read, frames), np.inf)
    for a in range(n_read):
        for b in range(n_read):
            apart[a, b] = _label_free_distance(stack[a], stack[b], joints)
    apart = np.where(np.isfinite(apart), apart, 1e9)
    medoid = np.argmin(apart.sum(axis=1), axis=0)  # (T,)
    ref = stack[medoid, np.arange(frames)]  # (T, 33, 4)
    aligned = stack.copy()
    for r in range(n_read):
        direct = np.linalg.norm(stack[r][:, joints, :2] - ref[:, joints, :2], axis=2).mean(axis=1)
        swapped = np.linalg.norm(stack[r][:, MIRROR][:, joints, :2] - ref[:, joints, :2], axis=2).mean(axis=1)
        flip = swapped < direct
        aligned[r][flip] = stack[r][flip][:, MIRROR]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames stay NaN
        fused = np.nanmedian(aligned, axis=0)
    fused[~found.any(axis=0)] = np.nan
    # labelled as the first reading that found someone labels it (the tracking pass: steady in time)
    first = stack[np.argmax(found, axis=0), np.arange(frames)]
    direct = np.linalg.norm(fused[:, joints, :2] - first[:, joints, :2], axis=2).mean(axis=1)
    swapped = np.linalg.norm(fused[:, MIRROR][:, joints, :2] - first[:, joints, :2], axis=2).mean(axis=1)
    flip = swapped < direct
    fused[flip] = fused[flip][:, MIRROR]
    return fused.astype(np.float32)


def _label_free_distance(a: np.ndarray, b: np.ndarray, joints: list[int]) -> np.ndarray:
    """(T,) mean joint distance between two readings, with b labelled as fits a best (NaN: missing)."""
    direct = np.linalg.norm(a[:, joints, :2] - b[:, joints, :2], axis=2).mean(axis=1)
    swapped = np.linalg.norm(a[:, joints, :2] - b[:, MIRROR][:, joints, :2], axis=2).mean(axis=1)
    return np.fmin(direct, swapped)


def read_pose(rgb: np.ndarray, mirrored: bool = False) -> np.ndarray | None:
    """(33, 4) landmarks in the RGB frame's pixels, or None: one IMAGE-mode reading (no tracking
    state) of the frame as given, or of its mirror image mapped back (x mirrored, labels swapped)."""
    import mediapipe as mp

    h, w = rgb.shape[:2]
    data = np.ascontiguousarray(rgb[:, ::-1] if mirrored else rgb)
    result = _model.single_image_landmarker().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=data))
    if not result.pose_landmarks:
        return None
    lm = np.array([[p.x * w, p.y * h, p.z * w, p.visibility or 0.0] for p in result.pose_landmarks[0]], np.float32)
    if mirrored:
        lm[:, 0] = w - lm[:, 0]
        lm = lm[MIRROR]
    return lm


def frame_readings(path: Path, frames: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two per-frame readings of the first `frames` decoded frames taken every `stride`: the pose
    found in the frame, and in its mirror image mapped back (x mirrored, labels swapped). The
    frames are scaled as the tracking pass scales them. Each (N, 33, 4), NaN where nobody was found."""
    import av

    direct: list[np.ndarray] = []
    mirrored: list[np.ndarray] = []
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for n, frame in enumerate(container.decode(stream)):
            if n >= frames:
                break
            if n % stride:
                continue
            rgb, k, _ = pose_frame(frame)
            for flip, out in ((False, direct), (True, mirrored)):
                lm = read_pose(rgb, mirrored=flip)
                if lm is None:
                    lm = L.empty()
                else:
                    lm[:, :3] *= k
                out.append(lm)
    return np.stack(direct), np.stack(mirrored)


def fused_track(
    path: str | Path,
    cache_dir: Path | None = None,
    stride: int = 1,
    max_seconds: float | None = None,
) -> MotionTrack:
    """The pose of every `stride`-th frame read three ways and fused (fuse_readings): the tracking
    pass (track_motion, same stride), the frame on its own, and the
    frame mirrored. The tracking pass can latch onto a misreading for a run of frames (measured
    on the sample anime character: the figure read as seen from the side, limbs collapsed onto
    the body, for up to 8 frames in a row); per-frame readings do not carry it over. Cached."""
    path = Path(path)
    track = track_motion(path, max_seconds, cache_dir, stride=stride)
    import mediapipe

    params = {"v": FUSED_VERSION, "mp": mediapipe.__version__, "frames": track.frames, "stride": stride}
    params["track"] = TRACK_VERSION
    key = _cache.make_key("fused", _cache.content_hash(path), {**params, "side": POSE_MAX_SIDE})
    hit = _cache.memory_get(key)
    if hit is None:
        got = _cache.disk_get(cache_dir, key)
        hit = got[0]["landmarks"].astype(np.float32) if got is not None else None
    if hit is None:
        direct, mirrored = frame_readings(path, track.frames * stride, stride)
        n = min(len(direct), track.frames)
        hit = track.landmarks.copy()
        hit[:n] = fuse_readings([track.landmarks[:n], direct[:n], mirrored[:n]])
        _cache.memory_put(key, hit)
        _cache.disk_put(cache_dir, key, {"landmarks": hit}, {"frames": track.frames})
    return replace(track, landmarks=hit)
