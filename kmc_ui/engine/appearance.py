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
- **limb_colour**: a limb region (upper arm, forearm, hand, thigh, shin: a thick band along the
  bone, or a disc at the hand) whose colour differs from the same region in the character picture
  (median colour in CIE Lab, delta E above COLOUR_DELTA_E): a hand turned into sleeve or glove, a
  leg that takes the background's colour. Without a picture the region is compared with its own
  median over the result, so only passing changes show.
- **limb_smear**: a limb region much less sharp than usual for that limb in the result (mean
  absolute Laplacian, at one scale, on a band twice the limb's width so its outline counts, under
  SMEAR_RATIO x its USUAL_QUANTILE percentile over the result) while the limb moves slowly
  (a fast limb's natural motion blur is not a smear): a torn, smudged or streaked limb.

A finding names the limb and the result frames (sample indices of the report and times in
seconds) where it happens; a region is only looked at where the pose sees both of its joints.
Findings need MIN_FRAMES frames. Never raises for bad media: the caller catches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.pose import landmarks as L

SAMPLES_PER_S = 3.0  # result frames looked at a second
FRAME_MAX_SIDE = 1280  # hands need pixels: a 1080p frame is looked at in full
MIN_VISIBILITY = 0.5  # both joints of a region at least this visible, or it is not looked at
COLOUR_DELTA_E = 30.0  # CIE Lab (L 0-100) distance of the median colours: beyond it a region changed colour
# a limb less sharp than this share of its usual sharpness is smeared (tests/test_appearance.py: a streak
# across the forearm 0.44; natural variation of slow limbs in the sample dance 0.67 and up)
SMEAR_RATIO = 0.55
TORSO_PX = 160.0  # sharpness is measured with the torso this many pixels long
SHARPNESS_WIDEN = 2.0  # the band sharpness is measured on, in usual widths
USUAL_QUANTILE = 90  # a limb's usual sharpness: this percentile of it over the slow frames of the result
SLOW_LIMB = 2.0  # torso lengths a second: only a limb slower than this can be called smeared
MIN_FRAMES = 2  # a finding needs this many frames
MIN_SHARE = 0.1  # ... and this share of the frames where the region could be looked at
HAND_MIN_SHARE = 0.2  # a hand missing in this share of the frames where both could be judged

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
    in one sequential decode; and the scale (display pixels per frame pixel)."""
    import av

    out: list[np.ndarray | None] = [None] * len(times)
    scale = 1.0
    if not times:
        return out, scale
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        half = 0.5 / fps
        k, t0 = 0, None
        for n, frame in enumerate(container.decode(stream)):
            raw = frame.time if frame.time is not None else n / fps
            t0 = raw if t0 is None else t0
            t = raw - t0
            if t + half < times[k]:
                continue
            rot = round(float(getattr(frame, "rotation", 0) or 0) / 90.0) % 4
            cw, ch = int(frame.width), int(frame.height)
            scale = max(1.0, max(cw, ch) / max_side)
            rgb = frame.to_ndarray(width=max(2, round(cw / scale)), height=max(2, round(ch / scale)), format="rgb24")
            rgb = np.ascontiguousarray(np.rot90(rgb, rot)) if rot else rgb
            while k < len(times) and t + half >= times[k]:
                out[k] = rgb
                k += 1
            if k >= len(times):
                break
    return out, scale


# ---------------------------------------------------------------- regions


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab as float (L 0-100, a/b about -128..127) of an RGB uint8 image."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    return lab


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


def _sharpness(grey: np.ndarray, mask: np.ndarray) -> float:
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    sel = lap[inner] if inner.sum() >= 8 else lap[mask]
    return float(sel.mean()) if sel.size else 0.0


def region_stats(rgb: np.ndarray, lm: np.ndarray, scale: float = 1.0) -> dict[str, tuple[np.ndarray, float]]:
    """Per region the pose sees: (median Lab colour inside the limb, sharpness at a torso of TORSO_PX
    pixels over a band twice as wide: a limb's outline is where a smear shows most)."""
    masks = region_masks(lm, rgb.shape, scale)
    if not masks:
        return {}
    wide = region_masks(lm, rgb.shape, scale, widen=SHARPNESS_WIDEN)
    lab = _lab(rgb)
    # sharpness is measured at one scale for every frame: the frame resized so the torso is TORSO_PX
    torso = L.body_scale(lm) / scale
    f = TORSO_PX / max(torso, 1.0)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    out = {}
    for name, m in masks.items():
        w = wide.get(name, m).astype(np.uint8)
        ms = cv2.resize(w, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        out[name] = (np.median(lab[m], axis=0), _sharpness(small, ms.astype(bool)))
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
    frames, scale = read_frames(result_video, [float(result_times[i]) for i in picks])
    picture = _picture_stats(character_image)
    stats: dict[int, dict[str, tuple[np.ndarray, float]]] = {}
    hands_found: dict[int, tuple[int, int]] = {}
    for i, rgb in zip(picks, frames, strict=True):
        if rgb is None:
            continue
        lm = result_lms[i]
        stats[i] = region_stats(rgb, lm, scale)
        small = lm.copy()
        small[:, :3] /= scale
        hands_found[i] = H.find_hands(rgb, small)
    findings = _hand_findings(
        hands_found, result_times, result_lms, reference_video, reference_times, reference_lms, offset_s
    )
    findings += _colour_findings(stats, result_times, picture)
    findings += _smear_findings(stats, result_times, result_lms)
    return findings


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
    times: np.ndarray,
    lms: np.ndarray,
    reference_video: str | Path,
    ref_times: np.ndarray,
    ref_lms: np.ndarray,
    offset_s: float,
) -> list[AppearanceFinding]:
    """hand_missing: the result shows no hand where the reference (at the aligned time) shows one."""
    from kmc_ui.pose import hands as H

    if not len(ref_times):
        return []
    judged: dict[int, list[int]] = {0: [], 1: []}  # side -> result samples where both could be judged
    doubt: list[tuple[int, int, int]] = []  # (result sample, side, reference sample) the result misses
    for i, verdicts in found.items():
        t = times[i] + offset_s
        if t < ref_times[0] - 0.1 or t > ref_times[-1] + 0.1:
            continue
        j = int(np.argmin(np.abs(ref_times - t)))
        if not L.is_pose(ref_lms[j]):
            continue
        for side, verdict in enumerate(verdicts):
            wrist = (L.L_WRIST, L.R_WRIST)[side]
            if verdict == H.UNJUDGED or ref_lms[j, wrist, 3] < MIN_VISIBILITY:
                continue
            if verdict == H.FOUND:
                judged[side].append(i)
            else:
                doubt.append((i, side, j))
    missing: dict[int, list[int]] = {0: [], 1: []}
    if doubt:
        wanted = sorted({j for _, _, j in doubt})
        ref_frames, ref_scale = read_frames(reference_video, [float(ref_times[j]) for j in wanted])
        ref_verdicts: dict[int, tuple[int, int]] = {}
        for j, rgb in zip(wanted, ref_frames, strict=True):
            if rgb is not None:
                small = ref_lms[j].copy()
                small[:, :3] /= ref_scale
                ref_verdicts[j] = H.find_hands(rgb, small)
        for i, side, j in doubt:
            if ref_verdicts.get(j, (H.UNJUDGED, H.UNJUDGED))[side] == H.FOUND:
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
    for name in [*BANDS, *HANDS]:
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
    stats: dict[int, dict[str, tuple[np.ndarray, float]]], times: np.ndarray, lms: np.ndarray
) -> list[AppearanceFinding]:
    out = []
    for name in [*BANDS, *HANDS]:
        joints = BANDS.get(name) or HANDS[name]
        sharp = {i: s[name][1] for i, s in stats.items() if name in s}
        slow = [v for i, v in sharp.items() if _limb_speed(times, lms, i, joints) < SLOW_LIMB]
        if len(slow) < 3:
            continue
        usual = float(np.percentile(slow, USUAL_QUANTILE))
        if usual <= 1e-6:
            continue
        low = [
            i for i, v in sharp.items() if v < SMEAR_RATIO * usual and _limb_speed(times, lms, i, joints) < SLOW_LIMB
        ]
        hits = _runs(sorted(sharp), set(low))
        if _enough(hits, len(sharp)):
            ratio = float(np.median([sharp[i] for i in hits])) / usual
            out.append(_finding("limb_smear", name, hits, times, ratio, len(sharp)))
    return out
