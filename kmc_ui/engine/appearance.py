"""Appearance beside the motion: does the result keep the character's hands, colours and texture?

    appearance_findings(result_video, result_track, reference_video, reference_track, offset_s,
                        character_image=None) -> list[AppearanceFinding]

Looked at on about SAMPLES_PER_S frames a second of the result (decoded at most FRAME_MAX_SIDE a
side), around the result's own skeleton (the motion-agreement report's fused pose track):

- **hand_missing**: the reference shows a hand at the aligned time, the result does not. A hand
  counts as shown when mediapipe's hand detector (palm detection + hand landmarks, the models inside
  the wheel, kmc_ui/pose/hands.py; nothing is downloaded) finds one on a crop around the pose's hand;
  the result is looked at first, and only where it shows no hand is the reference's frame at the
  aligned time looked at too (a hand the reference does not show either is not counted).
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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.pose import landmarks as L

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
_SIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-appearance")  # the reference's frames
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
        when = _times_text(self.times)
        if self.code == "hand_missing":
            return (
                f"The {self.limb} is missing in {len(self.frames)} of {self.checked} frames where the reference shows "
                f"it ({when})."
            )
        if self.code == "limb_colour":
            return (
                f"The {self.limb} changes colour from the character's in {len(self.frames)} of {self.checked} frames "
                f"(median colour difference {self.value:.0f}, at {when})."
            )
        return (
            f"The {self.limb} looks smeared or torn in {len(self.frames)} of {self.checked} frames (sharpness "
            f"{self.value:.0%} of its usual, at {when})."
        )


def _times_text(times: list[float], limit: int = 4) -> str:
    shown = ", ".join(f"{t:.1f} s" for t in times[:limit])
    return shown + (f" and {len(times) - limit} more" if len(times) > limit else "")


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
    """Per region the pose sees: (median Lab colour inside the limb, sharpness at a torso of TORSO_PX
    pixels over a band twice as wide: a limb's outline is where a smear shows most). Only the box
    around the body is looked at."""
    if not L.is_pose(lm):
        return {}
    torso = L.body_scale(lm) / scale
    pts = lm[:, :2] / scale
    h, w = rgb.shape[:2]
    x0, y0 = np.floor(np.nanmin(pts, axis=0) - torso).astype(int)
    x1, y1 = np.ceil(np.nanmax(pts, axis=0) + torso).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return {}
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    local = lm.copy()
    local[:, 0] -= x0 * scale
    local[:, 1] -= y0 * scale
    masks = region_masks(local, crop.shape, scale)
    if not masks:
        return {}
    wide = region_masks(local, crop.shape, scale, widen=SHARPNESS_WIDEN)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)  # 8-bit: L * 255 / 100, a + 128, b + 128
    # sharpness is measured at one scale for every frame: the crop resized so the torso is TORSO_PX
    f = TORSO_PX / max(torso, 1.0)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    lap = np.abs(cv2.Laplacian(small, cv2.CV_32F, ksize=3))
    out = {}
    for name, m in masks.items():
        band = wide.get(name, m).astype(np.uint8)
        band = cv2.resize(band, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
        sel = lap[band]
        colour = np.median(lab[m], axis=0).astype(np.float32)
        colour = np.array([colour[0] * 100.0 / 255.0, colour[1] - 128.0, colour[2] - 128.0], np.float32)
        out[name] = (colour, float(sel.mean()) if sel.size else 0.0)
    return out


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
) -> list[AppearanceFinding]:
    """The appearance findings (module docstring). `*_lms`: (T, 33, 4) display pixels, NaN rows:
    nobody; result time t shows reference time t + offset_s."""
    from kmc_ui.pose import hands as H

    picks = [i for i in _sample_indices(result_times) if L.is_pose(result_lms[i])]
    # the reference at the aligned times (its limbs' sharpness, its hands where the result shows none),
    # read on a second thread while this one reads the result
    aligned = _aligned(picks, result_times, reference_times, reference_lms, offset_s)
    side = _SIDE.submit(_reference_side, reference_video, reference_times, reference_lms, sorted(set(aligned.values())))
    frames, scale = read_frames(result_video, [float(result_times[i]) for i in picks])
    stats: dict[int, dict[str, tuple[np.ndarray, float]]] = {}
    hands_found: dict[int, tuple[int, int]] = {}
    for i, rgb in zip(picks, frames, strict=True):
        if rgb is not None:
            stats[i] = region_stats(rgb, result_lms[i], scale)
            j = aligned.get(i)
            if j is not None:  # only the hands the reference shows there are looked for
                shows = tuple(bool(reference_lms[j, w, 3] >= MIN_VISIBILITY) for w in (L.L_WRIST, L.R_WRIST))
                hands_found[i] = H.find_hands(rgb, _scaled(result_lms[i], scale), HAND_SCALES, shows, HAND_MODELS)
    ref_rgb, ref_scale, ref_stats = side.result()

    def ref_hands(j: int) -> tuple[int, int]:
        rgb = ref_rgb.get(j)
        if rgb is None:
            return (H.UNJUDGED, H.UNJUDGED)
        return H.find_hands(rgb, _scaled(reference_lms[j], ref_scale), complexity=HAND_MODELS)

    findings = _hand_findings(hands_found, aligned, result_times, reference_lms, ref_hands)
    findings += _colour_findings(stats, result_times, _picture_stats(character_image))
    findings += _smear_findings(stats, aligned, ref_stats, result_times, result_lms)
    return findings


def _reference_side(
    reference_video: str | Path, ref_times: np.ndarray, ref_lms: np.ndarray, wanted: list[int]
) -> tuple[dict[int, np.ndarray | None], float, dict[int, dict[str, tuple[np.ndarray, float]]]]:
    """The reference's frames at the samples `wanted`, their scale and their regions' statistics."""
    frames, scale = read_frames(reference_video, [float(ref_times[j]) for j in wanted])
    rgb = dict(zip(wanted, frames, strict=True))
    return rgb, scale, {j: region_stats(f, ref_lms[j], scale) for j, f in rgb.items() if f is not None}


def _scaled(lm: np.ndarray, scale: float) -> np.ndarray:
    out = lm.copy()
    out[:, :3] /= scale
    return out


def _aligned(
    picks: list[int], times: np.ndarray, ref_times: np.ndarray, ref_lms: np.ndarray, offset_s: float
) -> dict[int, int]:
    """Result sample -> the reference sample shown at its aligned time (where the reference has a pose)."""
    out: dict[int, int] = {}
    if not len(ref_times):
        return out
    for i in picks:
        t = times[i] + offset_s
        if ref_times[0] - 0.1 <= t <= ref_times[-1] + 0.1:
            j = int(np.argmin(np.abs(ref_times - t)))
            if L.is_pose(ref_lms[j]):
                out[i] = j
    return out


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
    ref_lms: np.ndarray,
    ref_hands: Callable[[int], tuple[int, int]],
) -> list[AppearanceFinding]:
    """hand_missing: the result shows no hand where the reference (at the aligned time) shows one."""
    from kmc_ui.pose import hands as H

    judged: dict[int, list[int]] = {0: [], 1: []}  # side -> result samples where both could be judged
    missing: dict[int, list[int]] = {0: [], 1: []}
    verdicts: dict[int, tuple[int, int]] = {}  # the reference's, looked at only where the result shows none
    for i, result in found.items():
        j = aligned.get(i)
        if j is None:
            continue
        for side, verdict in enumerate(result):
            if verdict == H.UNJUDGED or ref_lms[j, (L.L_WRIST, L.R_WRIST)[side], 3] < MIN_VISIBILITY:
                continue
            if verdict == H.FOUND:
                judged[side].append(i)
                continue
            if j not in verdicts:
                verdicts[j] = ref_hands(j)
            if verdicts[j][side] == H.FOUND:  # the reference shows that hand: the result lost it
                judged[side].append(i)
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
