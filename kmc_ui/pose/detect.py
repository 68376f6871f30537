"""Body pose of the character image and the motion video: the stable API other modules use.

- `detect_image(src) -> Pose | None`: the largest person in a picture.
- `analyse_image(src) -> ImageAnalysis`: every person found, plus a face-only fallback.
- `analyse_video(path) -> VideoAnalysis`: poses on frames sampled at `sample_fps`, people
  counts on a few frames, a change score for every frame looked at (cuts) and the
  background's motion between samples (camera movement).

Landmarks are always in ORIGINAL pixel coordinates (the picture as displayed, EXIF applied;
the video as displayed, rotation applied). Results are cached by file content hash and
parameters, in memory and under `cache_dir` (default: settings.data_dir / "cache").
Nothing here raises for bad input: an analysis carries `error` instead.
Thread-safe: mediapipe graphs are per thread (see model.py).

Video decoding is one sequential PyAV pass (threaded decoder, non-reference frames skipped
for H.264/HEVC): a cut can sit between any two frames, so every reference frame is looked
at; seeking to each sample would decode the same GOPs again and still miss cuts between
samples. Thumbnails and the pose frames are cut straight from the decoded YUV planes
(strided views, one OpenCV colour conversion), never through swscale at full size.

Bounds (a public app: one visitor's file must not hold the worker or the memory): only the
window preparation would send is decoded (`start`, `max_seconds`: a seek to its start, and
decoding stops at its end); a `deadline` stops the pass and keeps what was analysed, with
`cut_short` saying why; the picture is decoded reduced (picture.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.limits import POSE
from kmc_ui.messages import Msg, Said
from kmc_ui.pose import cache as _cache
from kmc_ui.pose import hands as _hands
from kmc_ui.pose import landmarks as L
from kmc_ui.pose import model as _model
from kmc_ui.pose import picture as _picture

ANALYSIS_VERSION = 3  # bump whenever what is measured changes (invalidates the caches)
IMAGE_VERSION = 2  # the same for pictures only (2: the hand detector's verdicts, ImageAnalysis.hands)
CHECK_BUDGET_S = 15.0  # seconds of work one body check may take; then it stops and reports what it has
MIN_VISIBILITY = POSE.min_visibility
IMAGE_PADS = (0.25, 0.5)  # replicate-border padding tried in turn (figures touching the edge)
TILE = 0.6  # tile side as a share of the picture (2x2 tiles overlap by 20%)
IMAGE_MAX_SIDE = _picture.MAX_SIDE  # the models work at 224/256 px; larger pictures only cost decode time
THUMB_SHORT_SIDE = 160  # grey thumbnails for cut scores and background motion
_INTER_CODECS = {"h264", "hevc"}  # codecs where skipping non-reference frames is safe
# Decoder threads: at ordinary bit rates one core decodes while the other runs pose; above
# THREADED_DECODE_BPS decoding dominates (CABAC at 16 Mbps costs ~4x the pose work), so the
# decoder gets every core (0 = FFmpeg's automatic count).
DECODE_THREADS = 1
THREADED_DECODE_BPS = 6_000_000
# People counting and the background's motion run on this helper thread while the calling thread
# runs pose on the next samples (mediapipe and OpenCV release the GIL): three threads (decode, pose,
# helper) keep both cores busy. One thread for every analysis: its mediapipe graph is built once.
_HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-pose-helper")


@dataclass(frozen=True)
class Pose:
    """One person: 33 landmarks (x_px, y_px, z, visibility) in the frame's pixel coordinates."""

    landmarks: np.ndarray
    width: int
    height: int

    def seen(self, min_visibility: float = MIN_VISIBILITY) -> np.ndarray:
        return L.seen(self.landmarks, self.width, self.height, min_visibility)

    @property
    def xy(self) -> np.ndarray:
        return self.landmarks[:, :2]

    def box(
        self, pad: float = POSE.subject_box_pad, min_visibility: float = MIN_VISIBILITY
    ) -> tuple[float, float, float, float]:
        return L.subject_box(self.landmarks, self.seen(min_visibility), self.width, self.height, pad)


@dataclass(frozen=True)
class ImageAnalysis:
    path: str
    width: int = 0
    height: int = 0
    people: tuple[Pose, ...] = ()  # largest first
    face_box: tuple[float, float, float, float] | None = None  # when no body was found but a face was
    face_score: float = 0.0
    elapsed: float = 0.0
    error: str = ""
    # the hand detector's verdict on the largest person's (left, right) hand: hands.FOUND,
    # hands.MISSING or hands.UNJUDGED (not looked for: outside the picture, too small, no body)
    hands: tuple[int, int] = (_hands.UNJUDGED, _hands.UNJUDGED)

    @property
    def pose(self) -> Pose | None:
        return self.people[0] if self.people else None


@dataclass(frozen=True)
class VideoSampling:
    """How a video is sampled (part of the cache key)."""

    # Pose frames a second, taken in pairs: a frame and the next one looked at, so joint speed
    # is measured over one frame step (a lone sample every 1/3 s aliases fast moves away).
    # 3 a second keeps a 30 s 1080p clip near the 2 s budget on 2 cores.
    sample_fps: float = 3.0
    people_every_s: float = 2.0  # people are counted on one sample every this many seconds ...
    max_people_frames: int = 10  # ... but on at most this many (multi-person detection costs ~20 ms)
    pose_max_side: int = 960  # long side of the frames given to pose (the model crops to 256 px)


@dataclass(frozen=True)
class VideoAnalysis:
    path: str
    width: int = 0  # as displayed
    height: int = 0
    fps: float = 0.0
    duration: float = 0.0
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (K,) pose sample times, s
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((0, 33, 4)))  # (K,33,4), NaN: nobody
    people_times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,)
    people_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # (P,)
    frame_times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) every frame looked at
    frame_diff: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) mean abs grey change, 0..1
    hist_diff: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) colour histogram change, 0..1
    bg_motion: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # (K,3) dx, dy (frame fractions), log zoom
    frames_total: int = 0
    elapsed: float = 0.0
    error: str = ""  # nothing could be analysed
    decode_error: str = ""  # analysed up to a broken frame
    start: float = 0.0  # the window analysed (s, the source's time): what preparation would send
    end: float = 0.0  # its end; 0: the end of the clip
    cut_short: str = ""  # why the analysis stopped before the window's end (the time limit)

    @property
    def poses(self) -> list[Pose | None]:
        return [self.pose(k) for k in range(len(self.times))]

    def pose(self, k: int) -> Pose | None:
        lm = self.landmarks[k]
        return Pose(lm, self.width, self.height) if L.is_pose(lm) else None

    @property
    def frames_looked_at(self) -> int:
        return len(self.frame_times)

    @property
    def analysed_until(self) -> float:
        """Where the analysis ended (s): the window's end, or the last frame looked at when cut short."""
        if self.cut_short:
            return float(self.frame_times[-1]) if len(self.frame_times) else self.start
        return self.end or self.duration


# ---------------------------------------------------------------- cache plumbing


def default_cache_dir() -> Path | None:
    try:
        from kmc_ui.settings import load_settings

        return load_settings().data_dir / "cache"
    except Exception:
        return None


def _resolve_cache_dir(cache_dir: Path | str | None) -> Path | None:
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def _version_params() -> dict[str, Any]:
    import mediapipe

    return {"v": ANALYSIS_VERSION, "mp": mediapipe.__version__, "vis": MIN_VISIBILITY}


def warm_up(cache_dir: Path | str | None = None) -> float:
    """Build the model bundle and this thread's graphs now (seconds taken).

    Graphs are per thread: call it on the thread that will run the checks (e.g. the single
    worker of the UI's check executor) so the first real check does not pay ~0.3-1 s.
    """
    started = time.perf_counter()
    cdir = _resolve_cache_dir(cache_dir)
    detect_people(np.zeros((64, 64, 3), dtype=np.uint8), 0.0, cdir)
    _HELPER.submit(detect_people, np.zeros((64, 64, 3), dtype=np.uint8), 0.0, cdir).result()
    _model.video_landmarker(cdir)
    _find_face(np.zeros((64, 64, 3), dtype=np.uint8))
    _model.hand_detector().process(np.zeros((64, 64, 3), dtype=np.uint8))
    return time.perf_counter() - started


# ---------------------------------------------------------------- images


def detect_image(src: str | Path | np.ndarray, cache_dir: Path | str | None = None) -> Pose | None:
    """The largest person in a picture (path or RGB array), or None."""
    return analyse_image(src, cache_dir=cache_dir).pose


def analyse_image(
    src: str | Path | np.ndarray, cache_dir: Path | str | None = None, use_cache: bool = True
) -> ImageAnalysis:
    started = time.perf_counter()
    if isinstance(src, np.ndarray):
        return _analyse_rgb(src, "<array>", src.shape[1], src.shape[0], started, None)
    path = Path(src)
    try:
        file_hash = _cache.content_hash(path)
    except OSError as exc:
        return ImageAnalysis(str(path), error=_why("cannot_read", w_why=exc.strerror or str(exc)))
    cdir = _resolve_cache_dir(cache_dir)
    params = {**_version_params(), "img": IMAGE_VERSION, "pads": IMAGE_PADS, "max": IMAGE_MAX_SIDE}
    key = _cache.make_key("img", file_hash, params)
    if use_cache:
        hit = _cache.memory_get(key) or _image_from_disk(cdir, key, str(path))
        if hit is not None:
            _cache.memory_put(key, hit)
            return _retarget_path(hit, str(path))
    try:
        rgb, width, height = _picture.load_rgb(path, IMAGE_MAX_SIDE)
    except _picture.PictureTooLarge as exc:
        return ImageAnalysis(str(path), error=exc.args[0] if exc.args else str(exc))  # its Said
    except Exception as exc:
        return ImageAnalysis(str(path), error=_why("picture_undecodable", exc=type(exc).__name__))
    result = _analyse_rgb(rgb, str(path), width, height, started, cdir)
    if not result.error:
        _cache.memory_put(key, result)
        _image_to_disk(cdir, key, result)
    return result


def _retarget_path(a: ImageAnalysis, path: str) -> ImageAnalysis:
    return a if a.path == path else dataclasses.replace(a, path=path)


def _analyse_rgb(
    rgb: np.ndarray, path: str, width: int, height: int, started: float, cache_dir: Path | None
) -> ImageAnalysis:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        return ImageAnalysis(path, width, height, error=_why("not_rgb"))
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    sx, sy = width / rgb.shape[1], height / rgb.shape[0]
    people: list[np.ndarray] = []
    try:
        for pad in IMAGE_PADS:
            people = detect_people(rgb, pad, cache_dir)
            if people:
                break
        face_box, face_score = None, 0.0
        if not people:  # a close-up: the body detector misses big faces, the face detector does not
            face_box, face_score = _find_face(rgb)
        if not people and (
            face_box is None or face_box[3] - face_box[1] < POSE.face_close_up_min_height * rgb.shape[0]
        ):
            people = _detect_in_tiles(rgb, cache_dir)  # a small figure: look again in overlapping quarters
            if people:
                face_box, face_score = None, 0.0
    except Exception as exc:  # a broken model/runtime must not break the page
        said = _why("detection_failed", exc=f"{type(exc).__name__}: {exc}")
        return ImageAnalysis(path, width, height, error=said)
    poses = []
    for lm in people:
        lm = lm.copy()
        lm[:, 0] *= sx
        lm[:, 1] *= sy
        lm[:, 2] *= sx
        poses.append(Pose(lm, width, height))
    poses = _largest_first(poses)
    hands = (_hands.UNJUDGED, _hands.UNJUDGED)
    if poses:  # the largest person's hands, looked for in the decoded (reduced) picture
        lm = poses[0].landmarks.copy()
        lm[:, 0] /= sx
        lm[:, 1] /= sy
        with contextlib.suppress(Exception):  # extra evidence: without it the checks use the pose's alone
            hands = _hands.find_hands(rgb, lm)
    if face_box is not None:
        face_box = (face_box[0] * sx, face_box[1] * sy, face_box[2] * sx, face_box[3] * sy)
    elapsed = time.perf_counter() - started
    return ImageAnalysis(path, width, height, tuple(poses), face_box, face_score, elapsed, hands=hands)


def detect_people(rgb: np.ndarray, pad: float = 0.25, cache_dir: Path | str | None = None) -> list[np.ndarray]:
    """Every person in an RGB array: (33,4) arrays in the array's pixel coordinates.

    The picture is padded (replicate border) first: mediapipe often misses a figure that
    touches the picture's edges.
    """
    import mediapipe as mp

    h, w = rgb.shape[:2]
    ph, pw = round(h * pad), round(w * pad)
    padded = cv2.copyMakeBorder(rgb, ph, ph, pw, pw, cv2.BORDER_REPLICATE) if pad > 0 else rgb
    hp, wp = padded.shape[:2]
    result = _model.image_landmarker(cache_dir).detect(
        mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(padded))
    )
    out = []
    for person in result.pose_landmarks:
        lm = np.array([[p.x, p.y, p.z, p.visibility or 0.0] for p in person], dtype=np.float32)
        lm[:, 0] = lm[:, 0] * wp - pw
        lm[:, 1] = lm[:, 1] * hp - ph
        lm[:, 2] = lm[:, 2] * wp
        out.append(lm)
    return _dedupe(out, w, h)


def _detect_in_tiles(rgb: np.ndarray, cache_dir: Path | None) -> list[np.ndarray]:
    """Detection on a 2x2 grid of overlapping tiles (each 60% of the picture a side).

    The detector sees the whole picture at 224 px: a person under ~1/5 of the picture's
    height is then a few dozen pixels tall and missed. Only run when nothing else was found,
    and only the largest person is kept (see below): this path finds one small figure.
    """
    h, w = rgb.shape[:2]
    th, tw = round(h * TILE), round(w * TILE)
    found: list[np.ndarray] = []
    for y0 in (0, h - th):
        for x0 in (0, w - tw):
            for lm in detect_people(np.ascontiguousarray(rgb[y0 : y0 + th, x0 : x0 + tw]), 0.1, cache_dir):
                lm[:, 0] += x0
                lm[:, 1] += y0
                found.append(lm)
    # A tile that holds only part of a person sometimes "finds" a whole one in it (legs taken
    # for a body): keep only the largest pose of this fallback.
    found = _dedupe(found, w, h)
    return sorted(found, key=lambda lm: -_area(_core_box(lm, w, h)))[:1]


def _dedupe(people: list[np.ndarray], w: int, h: int) -> list[np.ndarray]:
    """Drop a pose that mostly lies inside a larger one (one person found twice)."""
    boxes = [_core_box(lm, w, h) for lm in people]
    order = sorted(range(len(people)), key=lambda i: -_area(boxes[i]))
    kept: list[int] = []
    for i in order:
        if all(_overlap(boxes[i], boxes[j]) < 0.3 for j in kept):
            kept.append(i)
    return [people[i] for i in sorted(kept)]


def _core_box(lm: np.ndarray, w: int, h: int) -> tuple[float, float, float, float]:
    """Box of the shoulders and hips (the part two detections of one person agree on)."""
    pts = lm[[L.L_SHOULDER, L.R_SHOULDER, L.L_HIP, L.R_HIP, L.NOSE], :2]
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min(_area(a), _area(b))
    return ix * iy / small if small > 0 else 0.0


def _area(b: tuple[float, float, float, float]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _largest_first(poses: list[Pose]) -> list[Pose]:
    return sorted(poses, key=lambda p: -L.box_area_fraction(p.box(), p.width, p.height))


def _find_face(rgb: np.ndarray) -> tuple[tuple[float, float, float, float] | None, float]:
    """The best face when no body is found (close-ups confuse the body detector)."""
    h, w = rgb.shape[:2]
    for selection in (0, 1):
        result = _model.face_detector(selection).process(rgb)
        if result.detections:
            best = max(result.detections, key=lambda d: d.score[0])
            bb = best.location_data.relative_bounding_box
            x0, y0 = max(0.0, bb.xmin * w), max(0.0, bb.ymin * h)
            x1, y1 = min(float(w), (bb.xmin + bb.width) * w), min(float(h), (bb.ymin + bb.height) * h)
            return (x0, y0, x1, y1), float(best.score[0])
    return None, 0.0


def _image_to_disk(cache_dir: Path | None, key: str, a: ImageAnalysis) -> None:
    lms = np.stack([p.landmarks for p in a.people]) if a.people else np.zeros((0, 33, 4), np.float32)
    meta = {
        "w": a.width,
        "h": a.height,
        "face": a.face_box,
        "face_score": a.face_score,
        "elapsed": a.elapsed,
        "hands": list(a.hands),
    }
    _cache.disk_put(cache_dir, key, {"people": lms}, meta)


def _image_from_disk(cache_dir: Path | None, key: str, path: str) -> ImageAnalysis | None:
    got = _cache.disk_get(cache_dir, key)
    if got is None:
        return None
    arrays, meta = got
    w, h = int(meta["w"]), int(meta["h"])
    people = tuple(Pose(lm.astype(np.float32), w, h) for lm in arrays["people"])
    face = tuple(meta["face"]) if meta.get("face") else None
    hands = tuple(int(v) for v in meta.get("hands", (_hands.UNJUDGED, _hands.UNJUDGED)))
    return ImageAnalysis(
        path,
        w,
        h,
        people,
        face,  # type: ignore[arg-type]
        float(meta.get("face_score", 0.0)),
        float(meta["elapsed"]),
        hands=(hands[0], hands[1]),
    )


# ---------------------------------------------------------------- videos


def analyse_video(
    path: str | Path,
    sampling: VideoSampling | None = None,
    cache_dir: Path | str | None = None,
    use_cache: bool = True,
    sample_fps: float | None = None,
    cancel: threading.Event | None = None,
    *,
    start: float = 0.0,
    max_seconds: float | None = None,
    deadline: float | None = None,
) -> VideoAnalysis:
    """Pose, people, cut scores and background motion of a motion video (never raises).

    `start`, `max_seconds`: look only at the window preparation would send (see video_window);
    None: the whole clip. `cancel`: set it from another thread to stop early (the result then
    carries error "cancelled" and is not cached). `deadline` (a time.monotonic() value): stop
    there and return what was analysed, `cut_short` saying why (kept in memory, not on disk).
    """
    sampling = sampling or VideoSampling()
    if sample_fps is not None:
        sampling = VideoSampling(
            sample_fps, sampling.people_every_s, sampling.max_people_frames, sampling.pose_max_side
        )
    path = Path(path)
    try:
        file_hash = _cache.content_hash(path)
    except OSError as exc:
        return VideoAnalysis(str(path), error=_why("cannot_read", w_why=exc.strerror or str(exc)))
    cdir = _resolve_cache_dir(cache_dir)
    window = video_window(path, start, max_seconds)
    key = _cache.make_key("vid", file_hash, {**_version_params(), **sampling.__dict__, "window": window})
    if use_cache:
        hit = _cache.memory_get(key) or _video_from_disk(cdir, key)
        if hit is not None:
            _cache.memory_put(key, hit)
            return hit if hit.path == str(path) else _replace_path(hit, str(path))
    result = _VideoPass(path, sampling, cdir, cancel, window, deadline).run()
    if not result.error:
        _cache.memory_put(key, result)
        if not result.cut_short:  # a pass cut short by a busy machine is not kept for good
            _video_to_disk(cdir, key, result)
    return result


def video_window(path: str | Path, start: float, max_seconds: float | None) -> tuple[float, float | None]:
    """(start, length or None for "to the end") of what preparation sends (media/video_plan.py):
    a clip longer than max_seconds is trimmed to max_seconds from `start`, moved back so the
    window fits; a shorter clip is sent whole. The length comes from the header (no decoding)."""
    if max_seconds is None:
        return round(max(0.0, start), 3), None
    from kmc_ui.media.probe import probe_video

    duration = probe_video(path).duration
    if duration and round(duration, 2) <= max_seconds:
        return 0.0, None
    if duration:
        start = min(start, duration - max_seconds)
    return round(max(0.0, start), 3), float(max_seconds)


_VIDEO_ARRAYS = ("times", "landmarks", "people_times", "people_counts", "frame_times", "frame_diff", "hist_diff")
_VIDEO_ARRAYS += ("bg_motion",)
_VIDEO_META = ("width", "height", "fps", "duration", "frames_total", "elapsed", "decode_error", "start", "end")
_VIDEO_META += ("cut_short",)


def _replace_path(a: VideoAnalysis, path: str) -> VideoAnalysis:
    values = {k: getattr(a, k) for k in (*_VIDEO_ARRAYS, *_VIDEO_META, "error")}
    return VideoAnalysis(path, **values)


def _video_to_disk(cache_dir: Path | None, key: str, a: VideoAnalysis) -> None:
    meta = {k: getattr(a, k) for k in _VIDEO_META}
    meta["path"] = a.path
    _cache.disk_put(cache_dir, key, {k: getattr(a, k) for k in _VIDEO_ARRAYS}, meta)


def _video_from_disk(cache_dir: Path | None, key: str) -> VideoAnalysis | None:
    got = _cache.disk_get(cache_dir, key)
    if got is None:
        return None
    arrays, meta = got
    if any(k not in arrays for k in _VIDEO_ARRAYS):
        return None
    return VideoAnalysis(str(meta.get("path", "")), **{k: meta[k] for k in _VIDEO_META}, **arrays)


@dataclass
class _Item:
    t: float
    thumb: np.ndarray  # uint8 grey, display orientation
    hist: np.ndarray  # float32 normalised colour histogram
    rgb: np.ndarray | None = None  # pose frame (display orientation), only on samples
    scale: float = 1.0  # display px per pose-frame px
    count_people: bool = False


class _DecodeError(Exception):
    pass


class _NothingDecoded(Exception):
    """No frame came out with non-reference frames skipped: retry without skipping."""


class _VideoPass:
    """One decode pass (producer thread) feeding pose detection (calling thread)."""

    def __init__(
        self,
        path: Path,
        sampling: VideoSampling,
        cache_dir: Path | None,
        cancel: threading.Event | None = None,
        window: tuple[float, float | None] = (0.0, None),
        deadline: float | None = None,
    ) -> None:
        self.path = path
        self.cancel = cancel or threading.Event()
        self.start, length = window
        self.end = self.start + length if length is not None else math.inf
        self.deadline = deadline if deadline is not None else math.inf
        self.s = sampling
        self.cache_dir = cache_dir
        self.q: queue.Queue[_Item | BaseException | None] = queue.Queue(maxsize=16)
        self.stop = threading.Event()
        self.info: dict[str, Any] = {}

    def run(self) -> VideoAnalysis:
        started = time.perf_counter()
        try:
            container = _open(self.path)
        except Exception as exc:
            return VideoAnalysis(str(self.path), error=_why("video_unopenable", exc=_av_reason(exc)))
        if not container.streams.video:
            container.close()
            return VideoAnalysis(str(self.path), error=_why("no_video_stream"))
        producer = threading.Thread(target=self._produce, args=(container,), name="kmc-pose-decode", daemon=True)
        producer.start()
        try:
            return self._consume(started)
        except Exception as exc:  # a model or conversion failure must not reach the page
            said = _why("video_failed", exc=f"{type(exc).__name__}: {exc}")
            return VideoAnalysis(str(self.path), error=said)
        finally:
            self.stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                try:
                    self.q.get_nowait()
                except queue.Empty:
                    producer.join(0.05)

    # -- producer: decode, thumbnails, histograms, pose frames
    def _produce(self, container: Any) -> None:
        try:
            try:
                with container:
                    self._decode(container, skip_nonref=True)
            except _NothingDecoded:  # a stream whose every frame is flagged non-reference: look at all
                with _open(self.path) as again:
                    self._decode(again, skip_nonref=False)
        except BaseException as exc:
            self.q.put(exc)
            return
        self.q.put(None)

    def _decode(self, container: Any, skip_nonref: bool) -> None:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        codec = stream.codec_context.name
        if skip_nonref and codec in _INTER_CODECS:
            stream.codec_context.skip_frame = "NONREF"
            # Deblocking is ~15% of H.264 decode time; pose and thumbnails do not need it.
            stream.codec_context.options = {"skip_loop_filter": "all"}
        bit_rate = int(stream.bit_rate or container.bit_rate or 0)
        stream.codec_context.thread_count = 0 if bit_rate > THREADED_DECODE_BPS else DECODE_THREADS
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        self.info.update(fps=fps, duration=duration, frames_total=int(stream.frames or round(duration * fps)))
        step = 2.0 / self.s.sample_fps  # samples come in pairs (a frame and the next one looked at)
        partner = False
        span = min(self.end, duration or math.inf) - self.start
        people_step = max(self.s.people_every_s, span / max(1, self.s.max_people_frames) if span < math.inf else 0.0)
        next_sample, next_people = self.start, self.start
        t0 = self._seek(container, stream)
        index = 0
        conv: _Converter | None = None
        try:
            for frame in container.decode(stream):
                if self.stop.is_set() or self.cancel.is_set():
                    return
                if time.monotonic() > self.deadline:
                    self.info["cut_short"] = True
                    return
                if conv is None:
                    conv = _Converter(frame, self.s.pose_max_side)
                    self.info.update(width=conv.width, height=conv.height)
                raw_t = frame.time if frame.time is not None else index / fps
                if t0 is None:
                    t0 = raw_t
                t = max(0.0, raw_t - t0)
                index += 1
                if t < self.start - 1e-3:  # decoded on the way from the keyframe before the window
                    continue
                if t >= self.end - 1e-6:  # the window is done: nothing after it is decoded
                    break
                thumb, hist = conv.thumb(frame)
                item = _Item(t, thumb, hist)
                if partner:  # the frame right after a sample: joint speed over one frame step
                    item.rgb, item.scale = conv.pose_frame(frame)
                    partner = False
                elif t + 0.5 / fps >= next_sample:
                    item.rgb, item.scale = conv.pose_frame(frame)
                    partner = True
                    while next_sample <= t + 0.5 / fps:
                        next_sample += step
                    if t + 0.5 / fps >= next_people:
                        item.count_people = True
                        while next_people <= t + 0.5 / fps:
                            next_people += people_step
                self.q.put(item)
        except Exception as exc:
            if index == 0 and skip_nonref:
                raise _NothingDecoded from exc
            if index == 0:
                raise
            self.info["decode_error"] = f"decoding stopped at {index} frames ({_av_reason(exc)})"
        if index == 0:
            if skip_nonref:
                raise _NothingDecoded
            raise _DecodeError("no frame could be decoded")

    def _seek(self, container: Any, stream: Any) -> float | None:
        """Jump to the keyframe at or before the window's start. Returns the time origin (the
        container's start, as video_plan's keyframe search counts), or None: the first frame."""
        if self.start <= 0:
            return None
        base = (container.start_time or 0) / 1_000_000
        # Without an index to seek with, decoding starts at the beginning; frames before the window are skipped.
        with contextlib.suppress(Exception):
            container.seek(round((self.start + base) / stream.time_base), stream=stream, backward=True, any_frame=False)
        return base

    # -- consumer: pose, people, then the per-frame scores
    def _consume(self, started: float) -> VideoAnalysis:
        import mediapipe as mp

        landmarker, ts_base = _model.video_landmarker(self.cache_dir)
        last_ts = ts_base
        frame_times: list[float] = []
        frame_diff: list[float] = []
        hist_diff: list[float] = []
        sample_times: list[float] = []
        sample_lms: list[np.ndarray] = []
        sample_thumbs: list[np.ndarray] = []
        people_times: list[float] = []
        people_counts: list[Future[list[np.ndarray]]] = []
        bg_pairs: list[Future[tuple[float, float, float]]] = []  # background motion from sample k-1 to k
        prev: _Item | None = None
        while True:
            item = self.q.get()
            if self.cancel.is_set():
                _model.note_video_timestamp(last_ts)
                return VideoAnalysis(str(self.path), error=_why("cancelled"))
            if item is None:
                break
            if time.monotonic() > self.deadline:
                self.info["cut_short"] = True
                self.stop.set()
                break
            if isinstance(item, BaseException):
                _model.note_video_timestamp(last_ts)
                reason = str(item) if isinstance(item, _DecodeError) else _av_reason(item)
                return VideoAnalysis(str(self.path), error=_why("video_undecodable", exc=reason))
            frame_times.append(item.t)
            if prev is None:
                frame_diff.append(0.0)
                hist_diff.append(0.0)
            elif item.thumb.shape != prev.thumb.shape:  # the picture size changed: as good as a cut
                frame_diff.append(1.0)
                hist_diff.append(1.0)
            else:
                frame_diff.append(float(cv2.absdiff(item.thumb, prev.thumb).mean()) / 255.0)
                hist_diff.append(0.5 * float(np.abs(item.hist - prev.hist).sum()))
            prev = item
            if item.rgb is None:
                continue
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=item.rgb)
            last_ts = max(last_ts + 1, ts_base + round(item.t * 1000))
            result = landmarker.detect_for_video(image, last_ts)
            lm = L.empty()
            if result.pose_landmarks:
                lm = _to_display(result.pose_landmarks[0], item.rgb.shape, item.scale)
            if sample_lms:
                size = (int(self.info.get("width", 0)), int(self.info.get("height", 0)))
                pair = (sample_thumbs[-1], item.thumb, sample_lms[-1], lm)
                bg_pairs.append(_HELPER.submit(background_pair, *pair, *size))
            sample_times.append(item.t)
            sample_lms.append(lm)
            sample_thumbs.append(item.thumb)
            if item.count_people:
                people_times.append(item.t)
                people_counts.append(_HELPER.submit(detect_people, item.rgb, 0.1, self.cache_dir))
        _model.note_video_timestamp(last_ts)
        width, height = int(self.info.get("width", 0)), int(self.info.get("height", 0))
        lms = np.stack(sample_lms) if sample_lms else np.zeros((0, 33, 4), np.float32)
        bg = np.full((len(sample_lms), 3), np.nan, dtype=np.float32)
        if len(bg):
            bg[0] = 0.0
            bg[1:] = [f.result() for f in bg_pairs]
        duration = float(self.info.get("duration") or 0.0) or (frame_times[-1] if frame_times else 0.0)
        return VideoAnalysis(
            str(self.path),
            width=width,
            height=height,
            fps=float(self.info.get("fps", 0.0)),
            duration=duration,
            times=np.asarray(sample_times, dtype=np.float64),
            landmarks=lms.astype(np.float32),
            people_times=np.asarray(people_times, dtype=np.float64),
            people_counts=np.asarray([len(f.result()) for f in people_counts], dtype=np.int32),
            frame_times=np.asarray(frame_times, dtype=np.float64),
            frame_diff=np.asarray(frame_diff, dtype=np.float32),
            hist_diff=np.asarray(hist_diff, dtype=np.float32),
            bg_motion=bg,
            frames_total=int(self.info.get("frames_total", 0)),
            elapsed=time.perf_counter() - started,
            decode_error=str(self.info.get("decode_error", "")),
            start=self.start,
            end=self.end if self.end < math.inf else 0.0,
            cut_short=(
                f"the time limit of one check ran out after {time.perf_counter() - started:.1f} s of work"
                if self.info.get("cut_short")
                else ""
            ),
        )


def _open(path: Path) -> Any:
    """av.open limited like the probe: real video containers, local files only (no concat lists)."""
    import av

    from kmc_ui.media.probe import AV_OPEN_OPTIONS

    return av.open(str(path), metadata_errors="ignore", options=dict(AV_OPEN_OPTIONS))


def _to_display(person: Any, shape: tuple[int, ...], scale: float) -> np.ndarray:
    h, w = shape[:2]
    lm = np.array([[p.x, p.y, p.z, p.visibility or 0.0] for p in person], dtype=np.float32)
    lm[:, 0] *= w * scale
    lm[:, 1] *= h * scale
    lm[:, 2] *= w * scale
    return lm


def _av_reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split("; last error log")[0][:160]


class _Converter:
    """Turns decoded frames into a grey thumbnail + colour histogram, and an RGB pose frame.

    8-bit 4:2:0 frames (yuv420p / yuvj420p: nearly every camera and encoder) are read
    straight from their planes; anything else goes through swscale at the small size.
    """

    def __init__(self, frame: Any, pose_max_side: int) -> None:
        self.rot = round(float(getattr(frame, "rotation", 0) or 0) / 90.0) % 4  # counter-clockwise quarter turns
        self.cw, self.ch = int(frame.width), int(frame.height)  # coded size
        self.width, self.height = (self.ch, self.cw) if self.rot % 2 else (self.cw, self.ch)
        self.fast = frame.format.name in ("yuv420p", "yuvj420p")
        self.k = max(1, math.ceil(max(self.cw, self.ch) / pose_max_side))
        self.ts = max(1, min(self.cw, self.ch) // THUMB_SHORT_SIDE)
        self.tw, self.th = max(8, self.cw // self.ts), max(8, self.ch // self.ts)

    def _planes(self, frame: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = []
        for i, plane in enumerate(frame.planes[:3]):
            w = self.cw if i == 0 else (self.cw + 1) // 2
            h = self.ch if i == 0 else (self.ch + 1) // 2
            arr = np.frombuffer(plane, dtype=np.uint8, count=plane.line_size * h).reshape(h, plane.line_size)
            out.append(arr[:, :w])
        return out[0], out[1], out[2]

    def _rotate(self, a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.rot90(a, self.rot)) if self.rot else a

    def thumb(self, frame: Any) -> tuple[np.ndarray, np.ndarray]:
        if self.fast:
            y, u, v = self._planes(frame)
            # Bilinear straight from the plane reads only the rows it needs (a strided copy or
            # area averaging of a 1080p plane costs 4x more: memory bound); a 3x3 blur then
            # takes the aliasing out.
            grey = cv2.GaussianBlur(cv2.resize(y, (self.tw, self.th), interpolation=cv2.INTER_LINEAR), (3, 3), 0)
            half = (max(4, self.tw // 2), max(4, self.th // 2))
            uu = cv2.resize(u, half, interpolation=cv2.INTER_LINEAR)
            vv = cv2.resize(v, half, interpolation=cv2.INTER_LINEAR)
        else:
            yuv = frame.reformat(width=self.tw, height=self.th, format="yuv444p").to_ndarray()
            grey, uu, vv = yuv[0], yuv[1], yuv[2]
        g = cv2.calcHist([grey], [0], None, [32], [0, 256]).ravel()
        c = cv2.calcHist([uu, vv], [0, 1], None, [16, 16], [0, 256, 0, 256]).ravel()
        hist = np.concatenate([g / max(1.0, g.sum()), c / max(1.0, c.sum())]).astype(np.float32) / 2.0
        return self._rotate(grey), hist

    def pose_frame(self, frame: Any) -> tuple[np.ndarray, float]:
        k = self.k
        if self.fast:
            y, u, v = self._planes(frame)
            ys = y[::k, ::k]
            hh, ww = ys.shape[0] // 2 * 2, ys.shape[1] // 2 * 2
            us, vs = u[::k, ::k][: hh // 2, : ww // 2], v[::k, ::k][: hh // 2, : ww // 2]
            if us.shape != (hh // 2, ww // 2):  # odd coded sizes: fall back below
                rgb = frame.reformat(width=self.cw // k, height=self.ch // k, format="rgb24").to_ndarray()
            else:
                i420 = np.concatenate([ys[:hh, :ww].ravel(), us.ravel(), vs.ravel()]).reshape(hh * 3 // 2, ww)
                rgb = cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)
        else:
            rgb = frame.reformat(width=self.cw // k, height=self.ch // k, format="rgb24").to_ndarray()
        return np.ascontiguousarray(self._rotate(rgb)), float(k)


def body_mask(mask: np.ndarray, lm: np.ndarray, sx: float, sy: float) -> None:
    """Blank out (0) a person's silhouette, roughly: thick bones, the torso and the head.

    A box around a dancer with open arms covers most of a portrait frame; the skeleton's
    outline leaves the background between the limbs to measure the camera on.
    """
    pts = np.stack([lm[:, 0] * sx, lm[:, 1] * sy], axis=1)
    scale = L.body_scale(lm) * (sx + sy) / 2.0
    thick = max(3, round(0.3 * scale))
    for a, b in L.CONNECTIONS:
        cv2.line(mask, _pt(pts[a]), _pt(pts[b]), 0, thick)
    torso = np.array([pts[i] for i in (L.L_SHOULDER, L.R_SHOULDER, L.R_HIP, L.L_HIP)], dtype=np.int32)
    cv2.fillConvexPoly(mask, torso, 0)
    cv2.circle(mask, _pt(pts[L.NOSE]), max(3, round(0.45 * scale)), 0, -1)
    # a skirt or coat widens the hips: a wedge from the hips down to the knees
    legs = np.array([pts[i] for i in (L.L_HIP, L.R_HIP, L.R_KNEE, L.L_KNEE)], dtype=np.int32)
    cv2.fillConvexPoly(mask, cv2.convexHull(legs), 0)


def _pt(p: np.ndarray) -> tuple[int, int]:
    x, y = float(np.clip(p[0], -1e5, 1e5)), float(np.clip(p[1], -1e5, 1e5))
    return round(x), round(y)


def background_motion(thumbs: list[np.ndarray], lms: np.ndarray, width: int, height: int) -> np.ndarray:
    """Camera motion between consecutive samples, measured on the background only.

    Corners outside the person's box (both samples, grown by 20%) are tracked with
    pyramidal Lucas-Kanade and a similarity transform is fitted with RANSAC. Returns (K, 3):
    dx, dy as fractions of the frame's width/height, and log zoom; NaN where the background
    has too little texture to say (row 0 is always 0: nothing before it).
    """
    out = np.full((len(thumbs), 3), np.nan, dtype=np.float32)
    if not thumbs:
        return out
    out[0] = 0.0
    for k in range(1, len(thumbs)):
        out[k] = background_pair(thumbs[k - 1], thumbs[k], lms[k - 1], lms[k], width, height)
    return out


def background_pair(
    a: np.ndarray, b: np.ndarray, lm_a: np.ndarray, lm_b: np.ndarray, width: int, height: int
) -> tuple[float, float, float]:
    """background_motion between two samples' grey thumbnails (NaN: cannot say)."""
    nan = (math.nan, math.nan, math.nan)
    if a.shape != b.shape:
        return nan
    th, tw = a.shape[:2]
    sx, sy = tw / max(1, width), th / max(1, height)
    mask = np.full(a.shape, 255, dtype=np.uint8)
    for lm in (lm_a, lm_b):
        if L.is_pose(lm):
            body_mask(mask, lm, sx, sy)
    pts = cv2.goodFeaturesToTrack(a, maxCorners=150, qualityLevel=0.01, minDistance=4, mask=mask)
    if pts is None or len(pts) < 8:
        return nan
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(21, 21), maxLevel=3)
    back, status_b, _ = cv2.calcOpticalFlowPyrLK(b, a, nxt, None, winSize=(21, 21), maxLevel=3)
    good = (status.ravel() == 1) & (status_b.ravel() == 1) & (np.linalg.norm(back - pts, axis=2).ravel() < 1.0)
    if good.sum() < 8:
        return nan
    m, inliers = cv2.estimateAffinePartial2D(pts[good], nxt[good], method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if m is None or inliers is None or inliers.sum() < 6:
        return nan
    zoom = float(np.hypot(m[0, 0], m[1, 0]))
    cx, cy = tw / 2.0, th / 2.0  # the frame centre's displacement (not the origin's)
    dx = m[0, 0] * cx + m[0, 1] * cy + m[0, 2] - cx
    dy = m[1, 0] * cx + m[1, 1] * cy + m[1, 2] - cy
    return float(dx / tw), float(dy / th), math.log(max(zoom, 1e-6))


def _why(code: str, **params: object) -> str:
    """Why an analysis could not be made, as a Said text (kmc_ui/catalogue/analysis.py)."""
    return Said(Msg(f"analysis.{code}", params))
