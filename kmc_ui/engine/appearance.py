"""Appearance beside the motion: does the result keep the character's hands, colours and texture?

    appearance_findings(result_video, result_track, reference_video, reference_track, offset_s,
                        character_image=None, *, cache_dir=None) -> list[AppearanceFinding]

Looked at on about SAMPLES_PER_S frames a second (decoded at most FRAME_MAX_SIDE a side), around each
video's own skeleton (the motion-agreement report's fused pose tracks). The reference's side
(reference_looks: on its own samples about SAMPLES_PER_S a second, its hands and its limb regions'
statistics) does not depend on the result: it is read ahead when the run is submitted
(read_reference_ahead, called by agreement.read_reference_ahead after the reference's pose) and
cached by content, so the report after the result reads only the result's frames shown at those
reference samples once aligned (and beyond the reference, about SAMPLES_PER_S a second of its own).

- **hand_missing**: the reference shows a hand at the aligned time, the result does not. A hand
  counts as shown when mediapipe's hand detector (palm detection + hand landmarks, the lite models
  inside the wheel, kmc_ui/pose/hands.py; nothing is downloaded) finds one on a crop around the
  pose's hand; the reference is looked at where its pose shows that wrist, the result only where the
  reference's hand was found and the result's wrist is inside the frame (frames where either
  cannot be judged do not count).
- **limb_colour**: a limb region (upper arm, forearm, thigh, shin: a thick band along the middle
  of the bone) whose colour differs from the same region in the character picture (median colour
  in CIE Lab, delta E above COLOUR_DELTA_E): a sleeve that turns into skin, a leg that takes the
  background's colour. Without a picture the region is compared with its own median over the
  result, so only passing changes show. Hands are judged by the hand detector above: a disc at a
  hand is mostly background whenever the pose is a little off (a* swings by 45 on the untouched
  sample dance).
- **limb_smear**: a limb (not a hand) much less sharp than the reference's same limb at the aligned
  time (mean absolute Laplacian, both at one scale, on a band twice the limb's width so its outline
  counts), relative to how the two usually compare over the result (the USUAL_QUANTILE percentile
  of that ratio), in a run of at least MIN_FRAMES samples while the limb moves slowly (a fast
  limb's motion blur is not a smear): a torn, smudged or streaked limb. Measured against the
  reference rather than the limb's own sharpness over the result, because a limb's sharpness swings
  with the pose (against the shirt or the sky: 0.35-1 of its best in the sample dance).

A finding names the limb and the result frames (sample indices of the report and times in
seconds) where it happens; a region is only looked at where the pose sees both of its joints.
Findings need MIN_FRAMES frames. Never raises for bad media: the caller catches.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.messages import Msg
from kmc_ui.pose import cache as _cache
from kmc_ui.pose import landmarks as L
from kmc_ui.priority import yield_cores

SAMPLES_PER_S = 2.0  # result frames looked at a second
FRAME_MAX_SIDE = 1280  # hands need pixels: a 1080p frame is looked at in full
MIN_VISIBILITY = 0.5  # both joints of a region at least this visible, or it is not looked at
COLOUR_DELTA_E = 30.0  # CIE Lab (L 0-100) distance of the median colours: beyond it a region changed colour
# a limb this much less sharp than usual (against the reference) is smeared: tests/test_appearance.py's streak
# across the forearm 0.43-0.48; an untouched re-encode of the sample dance 0.8 and up
SMEAR_RATIO = 0.6
TORSO_PX = 160.0  # sharpness is measured with the torso this many pixels long
SHARPNESS_WIDEN = 2.0  # the band sharpness is measured on, in usual widths
USUAL_QUANTILE = 75  # how the result's limb usually compares with the reference's: this percentile of the ratio
SLOW_LIMB = 2.0  # torso lengths a second: only a limb slower than this can be called smeared
MIN_FRAMES = 2  # a finding needs this many frames
MIN_SHARE = 0.1  # ... and this share of the frames where the region could be looked at
HAND_MIN_SHARE = 0.2  # a hand missing in this share of the frames where both could be judged
_SIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-appearance", initializer=yield_cores)  # cold
_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-appearance-ahead", initializer=yield_cores)
_AHEAD_PENDING: dict[str, Future] = {}  # resolved reference path -> its reading ahead under way
_AHEAD_LOCK = threading.Lock()
LOOKS_VERSION = 1  # the reference's side (ReferenceLooks) as cached
HAND_MODELS = 0  # the lite hand models: half the time of the full ones, both videos judged alike
HAND_SCALES = (1.5,)  # the result's hands: one crop, 3 forearm lengths a side (hands.py tries two)

# region name -> (joint a, joint b); a hand is a disc at the mean of the wrist and finger points
BANDS: dict[str, tuple[int, int]] = {
    "left upper arm": (L.L_SHOULDER, L.L_ELBOW),
    "left forearm": (L.L_ELBOW, L.L_WRIST),
    "right upper arm": (L.R_SHOULDER, L.R_ELBOW),
    "right forearm": (L.R_ELBOW, L.R_WRIST),
    "left thigh": (L.L_HIP, L.L_KNEE),
    "left shin": (L.L_KNEE, L.L_ANKLE),
    "right thigh": (L.R_HIP, L.R_KNEE),
    "right shin": (L.R_KNEE, L.R_ANKLE),
}
HANDS: dict[str, tuple[int, ...]] = {"left hand": (15, 17, 19, 21), "right hand": (16, 18, 20, 22)}
HAND_WRIST = {"left hand": L.L_WRIST, "right hand": L.R_WRIST}
HAND_ELBOW = {"left hand": L.L_ELBOW, "right hand": L.R_ELBOW}
BAND_WIDTH = 0.16  # torso lengths (arms); legs get 1.3x
HAND_RADIUS = 0.12  # torso lengths


@dataclass
class AppearanceFinding:
    code: str  # hand_missing / limb_colour / limb_smear
    limb: str  # "left hand", "right forearm", ...
    frames: list[int] = field(default_factory=list)  # indices of the report's result samples
    times: list[float] = field(default_factory=list)  # result times (s)
    value: float = 0.0  # hand_missing: share of judged frames; limb_colour: median delta E; limb_smear: sharpness ratio
    checked: int = 0  # frames where the region could be judged

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["times"] = [round(t, 2) for t in self.times]
        d["value"] = round(self.value, 3)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppearanceFinding:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def sentence(self) -> str:
        return self.msg().en()

    def msg(self) -> Msg:
        """What was found, as a message (kmc_ui/catalogue/report.py)."""
        said: dict[str, Any] = {"w_limb": self.limb, "n": len(self.frames), "m": self.checked, "t": list(self.times)}
        if self.code == "hand_missing":
            return Msg("appearance.hand_missing", said)
        if self.code == "limb_colour":
            return Msg("appearance.limb_colour", said | {"v": f"{self.value:.0f}"})
        return Msg("appearance.limb_smear", said | {"p": self.value})


# ---------------------------------------------------------------- frames


def read_frames(
    path: str | Path, times: list[float], max_side: int = FRAME_MAX_SIDE
) -> tuple[list[np.ndarray | None], float]:
    """RGB frames nearest to `times` (sorted, seconds from the first frame), at most max_side a side,
    in one sequential decode; and the scale (display pixels per frame pixel). H.264 and HEVC
    non-reference frames are not decoded (about half the work): a time gets the nearest reference
    frame, one or two frames away at most."""
    import av

    out: list[np.ndarray | None] = [None] * len(times)
    scale = 1.0
    if not times:
        return out, scale
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.codec_context.name in ("h264", "hevc"):
            stream.codec_context.skip_frame = "NONREF"
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        k, t0 = 0, None
        prev: tuple[float, Any] | None = None
        converted: tuple[float, np.ndarray] | None = None  # the last frame converted, by its time

        def rgb_of(t: float, frame: Any) -> np.ndarray:
            nonlocal scale, converted
            if converted is None or converted[0] != t:
                rot = round(float(getattr(frame, "rotation", 0) or 0) / 90.0) % 4
                cw, ch = int(frame.width), int(frame.height)
                scale = max(1.0, max(cw, ch) / max_side)
                rgb = frame.to_ndarray(
                    width=max(2, round(cw / scale)), height=max(2, round(ch / scale)), format="rgb24"
                )
                converted = (t, np.ascontiguousarray(np.rot90(rgb, rot) if rot else rgb))
            return converted[1]

        for n, frame in enumerate(container.decode(stream)):
            raw = frame.time if frame.time is not None else n / fps
            t0 = raw if t0 is None else t0
            t = raw - t0
            while k < len(times) and times[k] <= t:
                nearer_prev = prev is not None and abs(prev[0] - times[k]) < abs(t - times[k])
                out[k] = rgb_of(*prev) if nearer_prev and prev is not None else rgb_of(t, frame)
                k += 1
            if k >= len(times):
                break
            prev = (t, frame)
        while k < len(times) and prev is not None:  # times past the last frame: the last frame
            out[k] = rgb_of(*prev)
            k += 1
    return out, scale


# ---------------------------------------------------------------- regions


def region_masks(
    lm: np.ndarray, shape: tuple[int, ...], scale: float = 1.0, widen: float = 1.0
) -> dict[str, np.ndarray]:
    """Boolean masks of every region whose joints the pose sees (visibility >= MIN_VISIBILITY);
    `lm` in display pixels, `scale` display pixels per pixel of `shape`; `widen` x the usual width."""
    h, w = shape[:2]
    if not L.is_pose(lm):
        return {}
    pts = lm[:, :2] / scale
    torso = L.body_scale(lm) / scale
    vis = lm[:, 3]
    masks: dict[str, np.ndarray] = {}
    for name, (a, b) in BANDS.items():
        if vis[a] < MIN_VISIBILITY or vis[b] < MIN_VISIBILITY:
            continue
        p, q = pts[a], pts[b]
        # the middle of the bone: joints overlap the torso and the next bone
        p, q = p + 0.15 * (q - p), p + 0.85 * (q - p)
        width = widen * BAND_WIDTH * torso * (1.3 if "thigh" in name or "shin" in name else 1.0)
        m = np.zeros((h, w), np.uint8)
        cv2.line(m, _pt(p), _pt(q), 1, max(2, round(width)))
        if m.sum() >= 12:
            masks[name] = m.astype(bool)
    for name, joints in HANDS.items():
        if vis[HAND_WRIST[name]] < MIN_VISIBILITY or vis[HAND_ELBOW[name]] < MIN_VISIBILITY:
            continue
        c = pts[list(joints)].mean(axis=0)
        m = np.zeros((h, w), np.uint8)
        cv2.circle(m, _pt(c), max(2, round(widen * HAND_RADIUS * torso)), 1, -1)
        if m.sum() >= 12:
            masks[name] = m.astype(bool)
    return masks


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(np.clip(p[0], -1e5, 1e5))), round(float(np.clip(p[1], -1e5, 1e5)))


def region_stats(rgb: np.ndarray, lm: np.ndarray, scale: float = 1.0) -> dict[str, tuple[np.ndarray, float]]:
    """Per limb region (BANDS) the pose sees: (median Lab colour inside the limb, sharpness at a torso
    of TORSO_PX pixels over a band twice as wide: a limb's outline is where a smear shows most). Only
    the box around the body is looked at, and each region only in its own box: the same figures as
    drawing region_masks over the body's box (tests/test_appearance.py checks), at a fraction of the
    work. Hands are judged by the hand detector, not here."""
    if not L.is_pose(lm):
        return {}
    torso_px = L.body_scale(lm) / scale
    pts = lm[:, :2] / scale
    h, w = rgb.shape[:2]
    x0, y0 = np.floor(np.nanmin(pts, axis=0) - torso_px).astype(int)
    x1, y1 = np.ceil(np.nanmax(pts, axis=0) + torso_px).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return {}
    crop = rgb[y0:y1, x0:x1]
    local = lm.copy()
    local[:, 0] -= x0 * scale
    local[:, 1] -= y0 * scale
    lines = _band_lines(local, scale)
    if not lines:
        return {}
    # sharpness is measured at one scale for every frame: the crop resized so the torso is TORSO_PX
    f = TORSO_PX / max(torso_px, 1.0)
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    lap = np.abs(cv2.Laplacian(small, cv2.CV_32F, ksize=3))
    ch, cw = crop.shape[:2]
    # where each pixel of `small` comes from in the crop, as cv2.resize(INTER_NEAREST) picks it
    src_x = np.minimum(np.floor(np.arange(small.shape[1]) * (1.0 / (small.shape[1] / cw))).astype(int), cw - 1)
    src_y = np.minimum(np.floor(np.arange(small.shape[0]) * (1.0 / (small.shape[0] / ch))).astype(int), ch - 1)
    out = {}
    for name, (p, q, width) in lines.items():
        narrow = _line_mask(p, q, max(2, round(width)), cw, ch)
        if narrow is None:
            continue
        (nx, ny), m = narrow
        box = np.ascontiguousarray(crop[ny : ny + m.shape[0], nx : nx + m.shape[1]])
        lab = cv2.cvtColor(box, cv2.COLOR_RGB2LAB)  # 8-bit: L * 255 / 100, a + 128, b + 128
        colour = _median_in(lab, m).astype(np.float32)
        colour = np.array([colour[0] * 100.0 / 255.0, colour[1] - 128.0, colour[2] - 128.0], np.float32)
        wide = _line_mask(p, q, max(2, round(SHARPNESS_WIDEN * width)), cw, ch) or narrow
        (bx, by), band = wide
        cols = np.flatnonzero((src_x >= bx) & (src_x < bx + band.shape[1]))
        rows = np.flatnonzero((src_y >= by) & (src_y < by + band.shape[0]))
        sel = np.empty(0, np.float32)
        if len(rows) and len(cols):  # src_x, src_y only grow: rows and cols are runs
            on = band[src_y[rows] - by][:, src_x[cols] - bx]
            sel = lap[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1][on]
        out[name] = (colour, float(sel.mean()) if sel.size else 0.0)
    return out


def _median_in(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """np.median(image[mask], axis=0) of an 8-bit 3-channel image (the same value), from histograms."""
    m = mask.view(np.uint8)
    out = np.empty(3, np.float64)
    for c in range(3):
        counts = cv2.calcHist([image], [c], m, [256], [0, 256]).ravel()
        cum = np.cumsum(counts)
        n = round(float(cum[-1]))
        lo, hi = np.searchsorted(cum, [(n - 1) // 2 + 0.5, n // 2 + 0.5])
        out[c] = (float(lo) + float(hi)) / 2.0
    return out


def _band_lines(lm: np.ndarray, scale: float) -> dict[str, tuple[tuple[int, int], tuple[int, int], float]]:
    """Per limb region the pose sees: its line (the middle of the bone, in pixels of the frame `lm`
    is over, / scale) and its usual width, as region_masks draws them."""
    pts = lm[:, :2] / scale
    torso = L.body_scale(lm) / scale
    vis = lm[:, 3]
    out = {}
    for name, (a, b) in BANDS.items():
        if vis[a] < MIN_VISIBILITY or vis[b] < MIN_VISIBILITY:
            continue
        p, q = pts[a], pts[b]
        p, q = p + 0.15 * (q - p), p + 0.85 * (q - p)
        out[name] = (_pt(p), _pt(q), BAND_WIDTH * torso * (1.3 if "thigh" in name or "shin" in name else 1.0))
    return out


def _line_mask(
    p: tuple[int, int], q: tuple[int, int], thickness: int, w: int, h: int
) -> tuple[tuple[int, int], np.ndarray] | None:
    """cv2.line(p, q, thickness) on a w x h picture, drawn only in its own box: ((x, y) of the box,
    boolean mask of the box); None when fewer than 12 pixels of it fall inside the picture."""
    reach = thickness + 2
    bx0, by0 = max(0, min(p[0], q[0]) - reach), max(0, min(p[1], q[1]) - reach)
    bx1, by1 = min(w, max(p[0], q[0]) + reach + 1), min(h, max(p[1], q[1]) + reach + 1)
    if bx1 <= bx0 or by1 <= by0:
        return None
    m = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
    cv2.line(m, (p[0] - bx0, p[1] - by0), (q[0] - bx0, q[1] - by0), 1, thickness)
    if np.count_nonzero(m) < 12:
        return None
    return (bx0, by0), m.view(bool)


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


# ---------------------------------------------------------------- the checks


def _sample_indices(times: np.ndarray, per_s: float = SAMPLES_PER_S) -> list[int]:
    """Every how-manieth result sample is looked at: about per_s a second."""
    if len(times) < 2:
        return list(range(len(times)))
    step = max(1, round(1.0 / per_s / float(np.median(np.diff(times)))))
    return list(range(0, len(times), step))


def _limb_speed(times: np.ndarray, lms: np.ndarray, i: int, joints: tuple[int, ...]) -> float:
    """Torso lengths a second the region's joints move around result sample i."""
    lo, hi = max(0, i - 1), min(len(times) - 1, i + 1)
    if hi == lo or not (L.is_pose(lms[lo]) and L.is_pose(lms[hi])):
        return 0.0
    d = np.linalg.norm(lms[hi][list(joints), :2] - lms[lo][list(joints), :2], axis=1).max()
    return float(d / L.body_scale(lms[i]) / max(1e-3, times[hi] - times[lo]))


def appearance_findings(
    result_video: str | Path,
    result_times: np.ndarray,
    result_lms: np.ndarray,
    reference_video: str | Path,
    reference_times: np.ndarray,
    reference_lms: np.ndarray,
    offset_s: float,
    character_image: str | Path | None = None,
    *,
    cache_dir: Path | None = None,
) -> list[AppearanceFinding]:
    """The appearance findings (module docstring). `*_lms`: (T, 33, 4) display pixels, NaN rows:
    nobody; result time t shows reference time t + offset_s. The reference's side (reference_looks)
    is taken from the cache (read ahead at submit, read_reference_ahead) or read on a second thread
    while this one reads the result."""
    from kmc_ui.pose import hands as H

    side = _SIDE.submit(reference_looks, reference_video, reference_times, reference_lms, cache_dir)
    picks, aligned = _looked_at(result_times, result_lms, reference_times, reference_lms, offset_s)
    frames, scale = read_frames(result_video, [float(result_times[i]) for i in picks])
    stats = {i: region_stats(f, result_lms[i], scale) for i, f in zip(picks, frames, strict=True) if f is not None}
    ref = side.result()
    hands_found: dict[int, tuple[int, int]] = {}
    for i, rgb in zip(picks, frames, strict=True):
        j = aligned.get(i)
        # only the hands the reference shows there (the hand detector finds them) are looked for
        shows = tuple(v == H.FOUND for v in ref.hands.get(j, (H.UNJUDGED, H.UNJUDGED))) if j is not None else ()
        if rgb is not None and any(shows):
            hands_found[i] = H.find_hands(rgb, _scaled(result_lms[i], scale), HAND_SCALES, shows, HAND_MODELS)
    findings = _hand_findings(hands_found, aligned, result_times, ref.hands)
    findings += _colour_findings(stats, result_times, _picture_stats(character_image))
    findings += _smear_findings(stats, aligned, ref.stats, result_times, result_lms)
    return findings


# ---------------------------------------------------------------- the reference's side


@dataclass
class ReferenceLooks:
    """The reference's side of the checks, on its own samples about SAMPLES_PER_S a second
    (reference_samples): each region's statistics (region_stats) and which hands the hand detector
    finds where the pose shows that wrist (hands.find_hands: FOUND / MISSING / UNJUDGED)."""

    samples: list[int]
    stats: dict[int, dict[str, tuple[np.ndarray, float]]]
    hands: dict[int, tuple[int, int]]


def reference_samples(ref_times: np.ndarray) -> list[int]:
    """The reference samples the checks look at: about SAMPLES_PER_S a second, whatever the result;
    the result's frames looked at are those shown at these times once aligned (_looked_at)."""
    return _sample_indices(ref_times)


def reference_looks(
    reference_video: str | Path,
    ref_times: np.ndarray,
    ref_lms: np.ndarray,
    cache_dir: Path | None = None,
    *,
    wait_ahead: bool = True,
) -> ReferenceLooks:
    """The reference's side (ReferenceLooks) for its pose reading (ref_times, ref_lms): cached by the
    video's content and that reading (memory and cache_dir/pose/); a reading ahead of the same file
    under way (read_reference_ahead) is waited for, not repeated."""
    if wait_ahead:
        with _AHEAD_LOCK:
            pending = _AHEAD_PENDING.get(_path_key(reference_video))
        if pending is not None:
            with contextlib.suppress(Exception):  # the report reads it again below, and fails with its reason
                pending.result()
    key = _looks_key(reference_video, ref_times, ref_lms)
    hit = _cache.memory_get(key)
    if hit is None:
        got = _cache.disk_get(cache_dir, key)
        hit = _looks_from_arrays(got[0]) if got is not None else None
    if hit is None:
        hit = _read_looks(reference_video, ref_times, ref_lms)
        _cache.disk_put(cache_dir, key, _looks_arrays(hit), {"version": LOOKS_VERSION})
    _cache.memory_put(key, hit)
    return hit


def read_reference_ahead(reference_video: str | Path, reading: Future, cache_dir: Path | None = None) -> Future:
    """The reference's side (reference_looks) read on a thread of its own once its pose reading
    `reading` (a Future of (tracking pass, fused reading), agreement_read.read_ahead) is done: call
    it when the run is submitted (agreement.read_reference_ahead does). The Future's result is the
    pose reading's; a report asked for meanwhile waits for it."""
    name = _path_key(reference_video)
    future = _AHEAD.submit(_ahead, reference_video, reading, cache_dir)
    with _AHEAD_LOCK:
        _AHEAD_PENDING[name] = future
    future.add_done_callback(lambda f: _forget(name, f))
    return future


def _ahead(reference_video: str | Path, reading: Future, cache_dir: Path | None) -> Any:
    track, fused = reading.result()
    with contextlib.suppress(Exception):  # the report reads it again, and says why it fails
        reference_looks(reference_video, fused.times, fused.landmarks, cache_dir, wait_ahead=False)
    return track, fused


def _forget(name: str, future: Future) -> None:
    with _AHEAD_LOCK:
        if _AHEAD_PENDING.get(name) is future:
            del _AHEAD_PENDING[name]


def _path_key(path: str | Path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def _looks_key(reference_video: str | Path, ref_times: np.ndarray, ref_lms: np.ndarray) -> str:
    import mediapipe

    from kmc_ui.pose import hands as H

    reading = hashlib.sha256(np.ascontiguousarray(ref_times, np.float64).tobytes())
    reading.update(np.ascontiguousarray(ref_lms, np.float32).tobytes())
    params = {"v": LOOKS_VERSION, "side": FRAME_MAX_SIDE, "per_s": SAMPLES_PER_S, "vis": MIN_VISIBILITY}
    params |= {"hands": HAND_MODELS, "scales": H.SCALES, "crop": H.CROP_PX, "min_half": H.MIN_HALF_PX}
    params |= {"torso": TORSO_PX, "widen": SHARPNESS_WIDEN, "band": BAND_WIDTH, "mp": mediapipe.__version__}
    params |= {"reading": reading.hexdigest()[:24]}
    return _cache.make_key("looks", _cache.content_hash(reference_video), params)


def _read_looks(reference_video: str | Path, ref_times: np.ndarray, ref_lms: np.ndarray) -> ReferenceLooks:
    from kmc_ui.pose import hands as H

    samples = [j for j in reference_samples(ref_times) if L.is_pose(ref_lms[j])]
    frames, scale = read_frames(reference_video, [float(ref_times[j]) for j in samples])
    stats: dict[int, dict[str, tuple[np.ndarray, float]]] = {}
    hands: dict[int, tuple[int, int]] = {}
    for j, rgb in zip(samples, frames, strict=True):
        if rgb is None:
            continue
        stats[j] = region_stats(rgb, ref_lms[j], scale)
        shows = (bool(ref_lms[j, L.L_WRIST, 3] >= MIN_VISIBILITY), bool(ref_lms[j, L.R_WRIST, 3] >= MIN_VISIBILITY))
        lm = _scaled(ref_lms[j], scale)
        hands[j] = H.find_hands(rgb, lm, sides=shows, complexity=HAND_MODELS) if any(shows) else (H.UNJUDGED,) * 2
    return ReferenceLooks(samples, stats, hands)


def _looks_arrays(looks: ReferenceLooks) -> dict[str, np.ndarray]:
    n, names = len(looks.samples), list(BANDS)
    colour = np.full((n, len(names), 3), np.nan, np.float32)
    sharp = np.full((n, len(names)), np.nan, np.float64)
    hands = np.full((n, 2), -1, np.int8)
    read = np.zeros(n, bool)
    for k, j in enumerate(looks.samples):
        if j not in looks.stats:
            continue
        read[k] = True
        hands[k] = looks.hands[j]
        for r, name in enumerate(names):
            if name in looks.stats[j]:
                colour[k, r], sharp[k, r] = looks.stats[j][name]
    samples = np.asarray(looks.samples, np.int64)
    return {"samples": samples, "read": read, "colour": colour, "sharp": sharp, "hands": hands}


def _looks_from_arrays(arrays: dict[str, np.ndarray]) -> ReferenceLooks | None:
    try:
        samples = [int(j) for j in arrays["samples"]]
        stats, hands = {}, {}
        for k, j in enumerate(samples):
            if not arrays["read"][k]:
                continue
            hands[j] = (int(arrays["hands"][k, 0]), int(arrays["hands"][k, 1]))
            stats[j] = {
                name: (arrays["colour"][k, r].copy(), float(arrays["sharp"][k, r]))
                for r, name in enumerate(BANDS)
                if np.isfinite(arrays["sharp"][k, r])
            }
        return ReferenceLooks(samples, stats, hands)
    except (KeyError, IndexError, ValueError):  # a foreign file is a miss
        return None


def _scaled(lm: np.ndarray, scale: float) -> np.ndarray:
    out = lm.copy()
    out[:, :3] /= scale
    return out


def _looked_at(
    times: np.ndarray, lms: np.ndarray, ref_times: np.ndarray, ref_lms: np.ndarray, offset_s: float
) -> tuple[list[int], dict[int, int]]:
    """(the result samples looked at, result sample -> the reference sample shown at its aligned time
    where the reference has a pose). Where the reference runs: the result samples nearest the
    reference's own samples (reference_samples, so the reference's side does not depend on the
    result); beyond it, about SAMPLES_PER_S of the result's a second (colour only). Only samples where
    the result has a pose."""
    if not len(times):
        return [], {}
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    picks: set[int] = set()
    aligned: dict[int, int] = {}
    for j in reference_samples(ref_times):
        t = float(ref_times[j]) - offset_s
        i = int(np.argmin(np.abs(times - t)))
        if abs(float(times[i]) - t) > 0.5 * step + 1e-6 or i in picks:
            continue
        picks.add(i)
        if L.is_pose(ref_lms[j]):
            aligned[i] = j
    if len(ref_times):
        lo, hi = float(ref_times[0]) - offset_s - 0.1, float(ref_times[-1]) - offset_s + 0.1
        picks |= {i for i in _sample_indices(times) if not lo <= times[i] <= hi}
    else:
        picks |= set(_sample_indices(times))
    looked = sorted(i for i in picks if L.is_pose(lms[i]))
    return looked, {i: aligned[i] for i in looked if i in aligned}


def _picture_stats(character_image: str | Path | None) -> dict[str, tuple[np.ndarray, float]]:
    if not character_image:
        return {}
    from kmc_ui.pose import picture as P
    from kmc_ui.pose.detect import detect_image

    pose = detect_image(Path(character_image))
    if pose is None:
        return {}
    rgb, width, _ = P.load_rgb(character_image)
    return region_stats(rgb, pose.landmarks, width / rgb.shape[1])


def _finding(code: str, limb: str, hits: list[int], times: np.ndarray, value: float, checked: int) -> AppearanceFinding:
    return AppearanceFinding(code, limb, hits, [float(times[i]) for i in hits], value, checked)


def _enough(hits: list[int], checked: int, share: float = MIN_SHARE) -> bool:
    return len(hits) >= MIN_FRAMES and len(hits) >= share * checked


def _hand_findings(
    found: dict[int, tuple[int, int]],
    aligned: dict[int, int],
    times: np.ndarray,
    ref_hands: dict[int, tuple[int, int]],
) -> list[AppearanceFinding]:
    """hand_missing: the result shows no hand where the reference (at the aligned time) shows one.
    `found`: the result's verdicts, looked for only where the reference's are FOUND."""
    from kmc_ui.pose import hands as H

    judged: dict[int, list[int]] = {0: [], 1: []}  # side -> result samples where both could be judged
    missing: dict[int, list[int]] = {0: [], 1: []}
    for i, result in found.items():
        ref = ref_hands.get(aligned.get(i, -1), (H.UNJUDGED, H.UNJUDGED))
        for side, verdict in enumerate(result):
            if verdict == H.UNJUDGED or ref[side] != H.FOUND:
                continue
            judged[side].append(i)
            if verdict == H.MISSING:  # the reference shows that hand: the result lost it
                missing[side].append(i)
    out = []
    for side, name in enumerate(HANDS):
        hits = sorted(missing[side])
        checked = len(judged[side])
        if _enough(hits, checked, HAND_MIN_SHARE):
            out.append(_finding("hand_missing", name, hits, times, len(hits) / checked, checked))
    return out


def _colour_findings(
    stats: dict[int, dict[str, tuple[np.ndarray, float]]],
    times: np.ndarray,
    picture: dict[str, tuple[np.ndarray, float]],
) -> list[AppearanceFinding]:
    out = []
    for name in BANDS:  # not hands: a disc at a hand is mostly background when the pose is a little off
        seen = {i: s[name][0] for i, s in stats.items() if name in s}
        if len(seen) < MIN_FRAMES:
            continue
        base = picture[name][0] if name in picture else np.median(np.stack(list(seen.values())), axis=0)
        dist = {i: _delta_e(c, base) for i, c in seen.items()}
        hits = sorted(i for i, d in dist.items() if d > COLOUR_DELTA_E)
        if _enough(hits, len(seen)):
            out.append(_finding("limb_colour", name, hits, times, float(np.median([dist[i] for i in hits])), len(seen)))
    return out


def _runs(order: list[int], flagged: set[int], min_run: int = MIN_FRAMES) -> list[int]:
    """The flagged samples that lie in runs of at least min_run consecutive looked-at samples."""
    out: list[int] = []
    run: list[int] = []
    for i in [*order, None]:
        if i is not None and i in flagged:
            run.append(i)
            continue
        if len(run) >= min_run:
            out += run
        run = []
    return out


def _smear_findings(
    stats: dict[int, dict[str, tuple[np.ndarray, float]]],
    aligned: dict[int, int],
    ref_stats: dict[int, dict[str, tuple[np.ndarray, float]]],
    times: np.ndarray,
    lms: np.ndarray,
) -> list[AppearanceFinding]:
    """limb_smear: a limb much less sharp than the reference's same limb at the aligned time, relative
    to how the two usually compare (the USUAL_QUANTILE percentile of that ratio over the result), where
    the limb moves slowly. Hands are left to hand_missing (their sharpness swings with the fingers)."""
    out = []
    for name, joints in BANDS.items():
        ratio = {}
        for i, s in stats.items():
            j = aligned.get(i)
            ref = ref_stats.get(j, {}).get(name) if j is not None else None
            if name in s and ref is not None and ref[1] > 1e-6:
                ratio[i] = s[name][1] / ref[1]
        if len(ratio) < 3:
            continue
        usual = float(np.percentile(list(ratio.values()), USUAL_QUANTILE))
        if usual <= 1e-6:
            continue
        low = {
            i for i, r in ratio.items() if r < SMEAR_RATIO * usual and _limb_speed(times, lms, i, joints) < SLOW_LIMB
        }
        hits = _runs(sorted(ratio), low)
        if _enough(hits, len(ratio)):
            value = float(np.median([ratio[i] for i in hits])) / usual
            out.append(_finding("limb_smear", name, hits, times, value, len(ratio)))
    return out
