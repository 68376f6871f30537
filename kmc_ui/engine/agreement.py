"""Motion agreement: does a result (from any backend) follow its reference video's motion?

    agreement_report(reference_video, output_video, character_image=None) -> AgreementReport

1. Pose on the reference and on the output, about 12 samples a second each, every sample read
   three ways and fused (kmc_ui/engine/motion.fused_track): mediapipe's tracking pass, the
   frame on its own, and the frame mirrored, the per-landmark median of the three (a misreading
   one of them latches onto is outvoted). The same for both videos. The figure from the tracking
   pass alone is kept as `pck_single_pass`.
2. The reference is retargeted to the character's proportions (kmc_ui/pose/retarget), taken from
   the character picture when given, else from the output itself (its median-sized pose).
3. Time alignment: the output may be shorter, or start later or earlier than the reference. The
   offset is the one with the highest normalised cross-correlation between the two clips' pose
   signals (root-relative, torso-normalised elbow, wrist, knee and ankle tracks, as left+right
   sums and differences so a left/right mix-up does not matter), searched in steps of one
   output sample; small offsets win ties.
4. Per aligned output frame: PCK@0.1 (share of the 13 body joints the reference shows that lie
   within 0.1 torso of the retargeted target, both skeletons root-centred and measured in their
   clip's median torso; a frame the detector labelled left/right the wrong way round is scored
   with the labels swapped, and counted), and which limbs were lost: the reference shows the
   limb and the output has no pose, or its wrist / ankle is invisible to the detector
   (visibility < 0.3), or lies more than half a torso from where it should be.
5. A plot of per-frame agreement over time (PNG drawn with OpenCV: no matplotlib needed).

Never raises for bad media: the report carries `error` instead. Serialisable for history.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.engine.common import EngineError
from kmc_ui.engine.motion import MIRROR, MotionTrack, fused_track, track_motion
from kmc_ui.engine.smoothing import fill_gaps
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.retarget import retarget

PCK_THRESHOLD = 0.1  # share of the torso length
FOLLOW_PCK = 0.75  # a frame "follows" when at least this share of its joints is within tolerance
LOST_DISTANCE = 0.5  # a wrist/ankle this many torso lengths off its target is lost
MIN_VISIBILITY = 0.5  # the reference "shows" a joint at or above this visibility
# the result has "lost" a wrist/ankle below this visibility. Lower than MIN_VISIBILITY: mediapipe's
# tracking mode starts every clip with visibilities ramping up from ~0.45 over the first half
# second (measured), while a painted-out arm reads 0.05-0.17 throughout.
LOST_VISIBILITY = 0.3
OUTPUT_SAMPLES_PER_S = 12.0
MAX_OFFSET_S = 5.0
LIMBS: dict[str, tuple[int, int]] = {
    "left arm": (L.L_ELBOW, L.L_WRIST),
    "right arm": (L.R_ELBOW, L.R_WRIST),
    "left leg": (L.L_KNEE, L.L_ANKLE),
    "right leg": (L.R_KNEE, L.R_ANKLE),
}
SIGNAL_PAIRS = ((13, 14), (15, 16), (25, 26), (27, 28))  # elbows, wrists, knees, ankles
REPORT_VERSION = 2  # 2: fused readings (tracking + frame + mirrored frame), pck_single_pass
# MIRROR (kmc_ui/engine/motion): mediapipe's left/right pairs swapped. The detector sometimes labels
# a stylised figure seen from the front as seen from the back (measured on the sample anime
# character: about a quarter of the frames); a frame is scored with the labelling that fits the
# target best and the swap counted.
__all__ = ["MIRROR", "AgreementReport", "agreement_report", "draw_plot"]


@dataclass
class AgreementReport:
    reference: str
    output: str
    pck: float = 0.0  # mean PCK@0.1 over aligned frames (frames without an output pose count as 0)
    pck_single_pass: float = 0.0  # the same with mediapipe's tracking pass alone on both videos
    following: float = 0.0  # share of aligned frames with PCK >= FOLLOW_PCK
    offset_s: float = 0.0  # output time t shows reference time t + offset_s
    correlation: float = 0.0  # of the chosen alignment (1 = identical motion signals)
    aligned_frames: int = 0
    output_frames: int = 0  # output samples looked at
    no_pose_frames: int = 0  # aligned output samples where nobody was found
    swapped_frames: int = 0  # samples the detector labelled left/right the other way round
    lost_frames: int = 0  # aligned output samples with at least one limb lost
    limb_lost: dict[str, int] = field(default_factory=dict)  # limb -> samples where it was lost
    lost_times: list[float] = field(default_factory=list)  # output times (s) with a limb lost
    times: list[float] = field(default_factory=list)  # output sample times (s)
    per_frame: list[float | None] = field(default_factory=list)  # PCK per output sample (None: not aligned)
    plot_path: str = ""
    threshold: float = PCK_THRESHOLD
    follow_pck: float = FOLLOW_PCK
    elapsed: float = 0.0
    error: str = ""
    version: int = REPORT_VERSION

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pck"] = round(self.pck, 4)
        d["pck_single_pass"] = round(self.pck_single_pass, 4)
        d["following"] = round(self.following, 4)
        d["correlation"] = round(self.correlation, 4)
        d["offset_s"] = round(self.offset_s, 3)
        d["times"] = [round(t, 3) for t in self.times]
        d["per_frame"] = [None if v is None else round(v, 3) for v in self.per_frame]
        d["lost_times"] = [round(t, 3) for t in self.lost_times]
        d["elapsed"] = round(self.elapsed, 3)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgreementReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def summary(self) -> str:
        """A few plain sentences for the UI (markdown)."""
        if self.error:
            return f"Motion agreement could not be measured: {self.error}"
        parts = [
            f"**Motion agreement: {self.pck:.0%}** of body joints within {self.threshold:.0%} of a torso "
            f"of the reference's pose (PCK@{self.threshold:g}); {self.following:.0%} of frames follow the "
            f"motion (at least {self.follow_pck:.0%} of joints in place)."
        ]
        if self.version >= 2:
            parts.append(
                f"Each frame's pose is the median of three readings (tracking, the frame alone, the frame "
                f"mirrored); with the tracking reading alone: {self.pck_single_pass:.0%}."
            )
        if abs(self.offset_s) >= 0.05:
            parts.append(f"The result is shifted by {self.offset_s:+.2f} s against the reference.")
        if self.lost_frames:
            worst = sorted(self.limb_lost.items(), key=lambda kv: -kv[1])
            limbs = ", ".join(f"{name} in {n}" for name, n in worst if n)
            parts.append(
                f"Limbs lost in {self.lost_frames} of {self.aligned_frames} frames ({limbs}); "
                f"first at {self.lost_times[0]:.1f} s."
            )
        else:
            parts.append("No limb was lost.")
        if self.no_pose_frames:
            parts.append(f"No person found in {self.no_pose_frames} frames of the result.")
        return " ".join(parts)


def agreement_report(
    reference_video: str | Path,
    output_video: str | Path,
    character_image: str | Path | None = None,
    *,
    plot_path: str | Path | None = None,
    cache_dir: Path | None = None,
    max_offset_s: float = MAX_OFFSET_S,
) -> AgreementReport:
    """Compare the output's motion with the reference's. See the module docstring."""
    started = time.perf_counter()
    report = AgreementReport(str(reference_video), str(output_video))
    try:
        ref_stride, out_stride = _stride(Path(reference_video)), _stride(Path(output_video))
        ref = track_motion(Path(reference_video), cache_dir=cache_dir, stride=ref_stride)
        out = track_motion(Path(output_video), cache_dir=cache_dir, stride=out_stride)
        character = _character(character_image, out)
        single = AgreementReport(report.reference, report.output)
        _measure(single, ref, out, character, max_offset_s)
        ref = fused_track(Path(reference_video), cache_dir=cache_dir, stride=ref_stride)
        out = fused_track(Path(output_video), cache_dir=cache_dir, stride=out_stride)
        _measure(report, ref, out, character, max_offset_s)
        report.pck_single_pass = single.pck
        if plot_path is not None:
            draw_plot(report, Path(plot_path))
    except EngineError as exc:
        report.error = str(exc)
    except Exception as exc:  # a report must never break the page
        report.error = f"{type(exc).__name__}: {exc}"
    report.elapsed = time.perf_counter() - started
    return report


def _stride(path: Path) -> int:
    """Every how many frames a sample is read: about OUTPUT_SAMPLES_PER_S a second."""
    fps = _fps(path)
    return max(1, round(fps / OUTPUT_SAMPLES_PER_S)) if fps > 0 else 1


def _fps(path: Path) -> float:
    try:
        import av

        with av.open(str(path)) as c:
            s = c.streams.video[0]
            return float(s.average_rate or s.guessed_rate or 0)
    except Exception:
        return 0.0


def _character(character_image: str | Path | None, out: MotionTrack) -> np.ndarray:
    """The character's rest skeleton: from the picture when given, else the output's median pose."""
    if character_image is not None:
        from kmc_ui.pose.detect import detect_image

        pose = detect_image(Path(character_image))
        if pose is not None:
            return pose.landmarks
    found = np.flatnonzero(out.found)
    if len(found) == 0:
        raise EngineError("no person was found anywhere in the result")
    sizes = np.array([L.torso_length(out.landmarks[i]) for i in found])
    return out.landmarks[found[np.argsort(sizes)[len(sizes) // 2]]]


def _centred(lm: np.ndarray) -> np.ndarray:
    """(T,33,2) root-centred coordinates in units of the clip's median torso length (one scale
    for the whole clip, so a torso foreshortened by a bow does not inflate the frame)."""
    xy = lm[..., :2].astype(np.float64)
    root = (xy[..., L.L_HIP, :] + xy[..., L.R_HIP, :]) / 2
    neck = (xy[..., L.L_SHOULDER, :] + xy[..., L.R_SHOULDER, :]) / 2
    torso = np.linalg.norm(neck - root, axis=-1)
    scale = float(np.nanmedian(torso)) if np.isfinite(torso).any() else 1.0
    return (xy - root[..., None, :]) / max(scale, 1e-6)


def _best_offset(
    ref_c: np.ndarray, ref_t: np.ndarray, out_c: np.ndarray, out_t: np.ndarray, max_offset: float
) -> tuple[float, float]:
    """Offset (s) maximising the normalised cross-correlation of the pose signals."""
    out_ok = np.isfinite(out_c[:, 0, 0])
    sig_out = _signal(out_c)
    sig_ref = _signal(ref_c)
    step = float(np.median(np.diff(out_t))) if len(out_t) > 1 else 1 / 24
    span_ref = float(ref_t[-1]) if len(ref_t) else 0.0
    lo = -min(max_offset, float(out_t[-1]) if len(out_t) else 0.0)
    hi = min(max_offset, span_ref)
    candidates = np.arange(lo, hi + step / 2, step) if hi >= lo else np.zeros(1)
    min_overlap = max(3, int(0.5 * min(len(out_t), len(ref_t))))
    best, best_score, best_corr = 0.0, -np.inf, 0.0
    for off in candidates:
        idx = _nearest(ref_t, out_t + off)
        inside = (out_t + off >= -step / 2) & (out_t + off <= span_ref + step / 2)
        ref_rows = sig_ref[idx]
        ok = inside & out_ok & np.isfinite(ref_rows[:, 0])
        if ok.sum() < min_overlap:
            continue
        a = sig_out[ok] - sig_out[ok].mean(axis=0)
        b = ref_rows[ok] - ref_rows[ok].mean(axis=0)
        denom = np.sqrt((a * a).sum() * (b * b).sum())
        corr = float((a * b).sum() / denom) if denom > 1e-9 else 0.0
        score = corr - 0.002 * abs(off)  # equal matches: the smaller shift wins
        if score > best_score:
            best, best_score, best_corr = float(off), score, corr
    return best, best_corr


def _signal(c: np.ndarray) -> np.ndarray:
    """(T, F) pose signal that does not change when left and right labels are swapped: for each
    pair of joints, the sum of their positions and the absolute difference."""
    feats = []
    for a, b in SIGNAL_PAIRS:
        feats.append(c[:, a] + c[:, b])
        feats.append(np.abs(c[:, a] - c[:, b]))
    return np.concatenate(feats, axis=1)


def _nearest(times: np.ndarray, query: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(times, query), 1, max(1, len(times) - 1))
    left = np.clip(idx - 1, 0, len(times) - 1)
    right = np.clip(idx, 0, len(times) - 1)
    return np.where(np.abs(times[left] - query) <= np.abs(times[right] - query), left, right)


def _measure(
    report: AgreementReport, ref: MotionTrack, out: MotionTrack, character: np.ndarray, max_offset: float
) -> None:
    if not ref.found.any():
        raise EngineError("no person was found in the reference video")
    report.output_frames = out.frames
    report.times = [float(t) for t in out.times]
    if not out.found.any():
        report.per_frame = [0.0] * out.frames
        report.no_pose_frames = out.frames
        report.aligned_frames = out.frames
        report.lost_frames = out.frames
        report.limb_lost = {name: out.frames for name in LIMBS}
        report.lost_times = list(report.times)
        return
    ref_filled, _ = fill_gaps(ref.landmarks)
    targets = retarget(ref_filled, character)  # (T,33,4) in the character's proportions
    tgt_c = _centred(targets)
    out_c = _centred(out.landmarks)
    offset, corr = _best_offset(_centred(ref_filled), ref.times, out_c, out.times, max_offset)
    report.offset_s, report.correlation = offset, corr
    idx = _nearest(ref.times, out.times + offset)
    step = float(np.median(np.diff(ref.times))) if ref.frames > 1 else 1 / 24
    aligned = (out.times + offset >= -step) & (out.times + offset <= ref.times[-1] + step)
    # the target in the output's units: both are torso-normalised, root-centred; the character's
    # torso and the output's torso are one length, so scale 1 (foreshortening kept by retarget)
    per_frame: list[float | None] = []
    lost_counts = dict.fromkeys(LIMBS, 0)
    lost_times: list[float] = []
    joints = list(L.BODY_JOINTS)
    for i in range(out.frames):
        if not aligned[i]:
            per_frame.append(None)
            continue
        j = idx[i]
        tgt = tgt_c[j]
        ref_vis = ref.landmarks[j, :, 3] if ref.found[j] else np.ones(33)
        if not out.found[i]:
            per_frame.append(0.0)
            report.no_pose_frames += 1
            lost = [name for name, (_, d) in LIMBS.items() if ref_vis[d] >= MIN_VISIBILITY]
        else:
            shown = [j for j in joints if ref_vis[j] >= MIN_VISIBILITY] or joints
            pose, vis = out_c[i], out.landmarks[i, :, 3]
            dist = np.linalg.norm(pose[shown] - tgt[shown], axis=1)
            dist_m = np.linalg.norm(pose[MIRROR][shown] - tgt[shown], axis=1)
            if dist_m.mean() < dist.mean():
                pose, vis, dist = pose[MIRROR], vis[MIRROR], dist_m
                report.swapped_frames += 1
            per_frame.append(float(np.mean(dist <= PCK_THRESHOLD)))
            lost = []
            for name, (_, d) in LIMBS.items():
                if ref_vis[d] < MIN_VISIBILITY:
                    continue  # the reference does not show this limb either
                off_target = float(np.linalg.norm(pose[d] - tgt[d]))
                if vis[d] < LOST_VISIBILITY or off_target > LOST_DISTANCE:
                    lost.append(name)
        for name in lost:
            lost_counts[name] += 1
        if lost:
            lost_times.append(float(out.times[i]))
    values = [v for v in per_frame if v is not None]
    report.per_frame = per_frame
    report.aligned_frames = len(values)
    report.pck = float(np.mean(values)) if values else 0.0
    report.following = float(np.mean([v >= FOLLOW_PCK for v in values])) if values else 0.0
    report.limb_lost = lost_counts
    report.lost_times = lost_times
    report.lost_frames = len(lost_times)


def draw_plot(report: AgreementReport, path: Path, width: int = 960, height: int = 280) -> Path:
    """Per-frame agreement over time as a PNG: the curve, the 'follows' line, lost limbs in red."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 52, 16, 34, 40
    pw, ph = width - left - right, height - top - bottom
    t_max = max(report.times[-1] if report.times else 1.0, 1e-3)

    def x_of(t: float) -> int:
        return left + round(pw * t / t_max)

    def y_of(v: float) -> int:
        return top + round(ph * (1.0 - v))

    grey, dark, blue, red = (200, 200, 200), (60, 60, 60), (180, 90, 20), (40, 40, 220)
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        cv2.line(img, (left, y_of(v)), (left + pw, y_of(v)), (235, 235, 235), 1)
        cv2.putText(img, f"{v:.2f}", (6, y_of(v) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, dark, 1, cv2.LINE_AA)
    for k in range(0, int(t_max) + 1, max(1, int(t_max // 10) or 1)):
        cv2.line(img, (x_of(k), top + ph), (x_of(k), top + ph + 4), dark, 1)
        cv2.putText(img, f"{k}s", (x_of(k) - 8, top + ph + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, dark, 1, cv2.LINE_AA)
    lost = set(round(t, 3) for t in report.lost_times)
    for t, v in zip(report.times, report.per_frame, strict=False):
        if v is None:
            cv2.line(img, (x_of(t), top), (x_of(t), top + ph), (245, 245, 245), 1)
        elif round(t, 3) in lost:
            cv2.line(img, (x_of(t), top + ph - 10), (x_of(t), top + ph), red, 2)
    y_follow = y_of(report.follow_pck)
    for x in range(left, left + pw, 10):
        cv2.line(img, (x, y_follow), (min(x + 5, left + pw), y_follow), grey, 1)
    pts = [(x_of(t), y_of(v)) for t, v in zip(report.times, report.per_frame, strict=False) if v is not None]
    if len(pts) > 1:
        cv2.polylines(img, [np.array(pts, np.int32)], False, blue, 2, cv2.LINE_AA)
    elif pts:
        cv2.circle(img, pts[0], 3, blue, -1)
    cv2.rectangle(img, (left, top), (left + pw, top + ph), dark, 1)
    title = (
        f"Motion agreement per frame (PCK@{report.threshold:g}): {report.pck:.0%} overall, "
        f"{report.following:.0%} of frames follow; red: a limb lost"
    )
    if report.error:
        title = f"Motion agreement not measured: {report.error}"[:110]
    cv2.putText(img, title, (left, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, dark, 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise EngineError(f"the plot could not be written to {path.name}")
    report.plot_path = str(path)
    return path
