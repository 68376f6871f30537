"""Motion agreement: does a result (from any backend) follow its reference video's motion?

    agreement_report(reference_video, output_video, character_image=None) -> AgreementReport

1. Pose on the reference and on the output, about 6 samples a second each (12 cost twice the time
   and calibrate the same: tests/test_agreement_calibration.py), both videos read at once on two
   threads (kmc_ui/engine/agreement_read.py), every sample read up to three ways and fused
   (kmc_ui/engine/motion.fuse_readings): mediapipe's tracking pass, the frame on its own where the
   tracking pass is doubtful (and along any run where they disagree), and, where those two
   disagree, the frame mirrored as the tie-breaker (a misreading one of them latches onto is
   outvoted). The figure from the tracking pass alone is kept as `pck_single_pass`. The reference
   can be read ahead, when the run is submitted (read_reference_ahead): the report then reads
   only the result.
2. The reference is retargeted to the character's proportions (kmc_ui/pose/retarget), taken from
   the character picture when given, else from the output itself (its median-sized pose).
3. Time alignment: the output may be shorter, or start later or earlier than the reference. Each
   shift (one output sample apart) gets the normalised cross-correlation of the two clips' pose
   signals (root-relative, torso-normalised elbow, wrist, knee and ankle tracks, as left+right
   sums and differences so a left/right mix-up does not matter); among the shifts within
   CORRELATION_BAND of the best correlation (and overlapping at least half the shorter clip) the
   one where the result scores best wins, small shifts on ties. When no shift correlates at
   WEAK_CORRELATION the result is compared as it starts and the summary warns.
4. The score (kmc_ui/engine/agreement_score.py): per limb, 100 * (1 - the result's error / the
   error of a pose held still), 0 = no motion, 100 = the reference's own motion; frames that
   cannot be compared (not aligned, no person, the limb invisible) score 0; the headline is the
   limbs' mean weighted by how much the reference moves each. The result is retargeted to the
   same proportions as the reference for it, so the reference against itself scores 100.
5. Per output frame: PCK@0.1 (share of the 13 body joints the reference shows that lie
   within 0.1 torso of the retargeted target, both skeletons root-centred and measured in their
   clip's median torso; a frame the detector labelled left/right the wrong way round is scored
   with the labels swapped, and counted; a frame the alignment could not place counts 0), and
   which limbs were lost: the reference shows the limb and the output has no pose, or its
   wrist / ankle is invisible to the detector (visibility < 0.3), or lies more than half a torso
   from where it should be. A frame "follows" when PCK >= FOLLOW_PCK and no limb is lost in it.
6. A plot of per-frame agreement over time (PNG drawn with OpenCV: no matplotlib needed).
7. Appearance beside the motion (kmc_ui/engine/appearance.py): hands missing where the reference
   shows them, limbs that change colour from the character picture, smeared or torn limbs; each
   with the result frames and times where it happens (`appearance`).

Never raises for bad media: the report carries `error` instead. Serialisable for history.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.engine.agreement_read import read_ahead, read_both
from kmc_ui.engine.agreement_score import LIMB_JOINTS, ScoreTally
from kmc_ui.engine.common import EngineError, says
from kmc_ui.engine.motion import MIRROR, MotionTrack
from kmc_ui.engine.smoothing import fill_gaps
from kmc_ui.messages import Msg
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
OUTPUT_SAMPLES_PER_S = 6.0
MAX_OFFSET_S = 5.0
LIMBS: dict[str, tuple[int, int]] = {
    "left arm": (L.L_ELBOW, L.L_WRIST),
    "right arm": (L.R_ELBOW, L.R_WRIST),
    "left leg": (L.L_KNEE, L.L_ANKLE),
    "right leg": (L.R_KNEE, L.R_ANKLE),
}
LIMB_KEYS = dict(zip(LIMBS, LIMB_JOINTS, strict=True))  # "left arm" -> "left_arm"
SIGNAL_PAIRS = ((13, 14), (15, 16), (25, 26), (27, 28))  # elbows, wrists, knees, ankles
CORRELATION_BAND = 0.3  # shifts this close to the best correlation are told apart by the score
WEAK_CORRELATION = 0.5  # below this the time alignment is reported as weak
FLAG_GAP = 30.0  # a limb this many points below the best limb is named as not following
# so is a limb under FLAG_FLOOR: nearer a pose held still (0) than the reference's motion (100).
# The gap alone missed the anime figure's left arm, which the eye sees stay out where the dancer's
# comes down, once its best limb scored 72 and that arm 44.
FLAG_FLOOR = 50.0
# 2: fused readings (tracking + frame + mirrored frame), pck_single_pass
# 3: `score` (0 = a frozen pose, 100 = the reference's motion), `limbs`, unaligned frames as failures
REPORT_VERSION = 3
# MIRROR (kmc_ui/engine/motion): mediapipe's left/right pairs swapped. The detector sometimes labels
# a stylised figure seen from the front as seen from the back (measured on the sample anime
# character: about a quarter of the frames); a frame is scored with the labelling that fits the
# target best and the swap counted.
__all__ = ["MIRROR", "AgreementReport", "agreement_report", "draw_plot", "read_reference_ahead"]


@dataclass
class AgreementReport:
    reference: str
    output: str
    # 0 = no motion (the reference's first pose held), 100 = the reference's own motion; None: a
    # report from before version 3. The limbs' weighted mean (agreement_score.py).
    score: float | None = None
    limbs: dict[str, float | None] = field(default_factory=dict)  # "left_arm" -> 0..100 (None: not shown)
    limb_weights: dict[str, float] = field(default_factory=dict)  # share of the score, by the limb's motion
    pck: float = 0.0  # mean PCK@0.1 over output frames (no pose or not aligned: 0)
    pck_single_pass: float = 0.0  # the same with mediapipe's tracking pass alone on both videos
    following: float = 0.0  # share of output frames with PCK >= FOLLOW_PCK and no limb lost
    offset_s: float = 0.0  # output time t shows reference time t + offset_s
    correlation: float = 0.0  # of the chosen alignment (1 = identical motion signals)
    aligned_frames: int = 0
    unaligned_frames: int = 0  # output samples the alignment puts outside the reference (failures)
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
    # appearance beside the motion (kmc_ui/engine/appearance.py): AppearanceFinding.to_dict() each, with the
    # result frames (sample indices, times) where it happens; `appearance_note`: why it was not looked at
    appearance: list[dict[str, Any]] = field(default_factory=list)
    appearance_checked: bool = False
    appearance_note: str = ""

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
        d["score"] = None if self.score is None else round(self.score, 1)
        d["limbs"] = {k: None if v is None else round(v, 1) for k, v in self.limbs.items()}
        d["limb_weights"] = {k: round(v, 3) for k, v in self.limb_weights.items()}
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgreementReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def summary(self) -> str:
        """A few plain sentences for the UI (markdown): the score first; no two numbers disagree
        (a frame that follows has no limb lost, frames are counted over the whole result). The
        English of summary_msgs()."""
        return " ".join(m.en() for m in self.summary_msgs())

    def summary_msgs(self) -> list[Msg]:
        """The summary as messages (kmc_ui/catalogue/report.py), one per sentence, for any language."""
        if self.error:
            return [Msg("report.failed", {"t_err": self.error})]
        if self.score is None:
            return self._summary_v2()
        parts = self._score_sentences() + self._alignment_sentences() + self._frame_sentences()
        return parts + self._appearance_sentences()

    def _appearance_sentences(self) -> list[Msg]:
        from kmc_ui.engine.appearance import AppearanceFinding

        if self.appearance_note:
            return [Msg("report.appearance_not_checked", {"t_note": self.appearance_note})]
        if not self.appearance_checked:
            return []
        if not self.appearance:
            return [Msg("report.appearance_ok")]
        head = Msg("report.appearance_problems", {"n": len(self.appearance)})
        return [head] + [AppearanceFinding.from_dict(a).msg() for a in self.appearance]

    def _score_sentences(self) -> list[Msg]:
        parts = [Msg("report.score", {"s": f"{self.score or 0:.0f}"})]
        if self.limbs:
            values = {name: self.limbs.get(key) for name, key in LIMB_KEYS.items()}
            shown = ["–" if v is None else f"{v:.0f}" for v in values.values()]
            parts.append(Msg("report.per_limb", dict(zip("abcd", shown, strict=True))))
            if any(v is None for v in values.values()):
                parts.append(Msg("report.dash"))
            best = max((v for v in values.values() if v is not None), default=0.0)
            for name, v in values.items():
                if v is not None and (v < best - FLAG_GAP or v < FLAG_FLOOR):
                    parts.append(Msg("report.limb_not_following", {"w_limb": name, "n": f"{v:.0f}"}))
        return parts

    def _alignment_sentences(self) -> list[Msg]:
        parts = []
        if self.correlation < WEAK_CORRELATION:
            said = {"c": f"{self.correlation:.2f}", "w": f"{WEAK_CORRELATION:.2f}"}
            parts.append(Msg("report.weak_alignment", said))
        if abs(self.offset_s) >= 0.05:
            parts.append(Msg("report.shifted", {"o": f"{self.offset_s:+.2f}"}))
        return parts

    def _lost_limbs(self) -> list[tuple[str, int]]:
        worst = sorted(self.limb_lost.items(), key=lambda kv: -kv[1])
        return [(name, n) for name, n in worst if n]

    def _frame_sentences(self) -> list[Msg]:
        m = self.output_frames or len(self.per_frame)
        follow = {"f": self.following, "fp": self.follow_pck, "thr": self.threshold}
        if self.lost_frames:
            first = self.lost_times[0] if self.lost_times else 0.0
            lost = {"n": self.lost_frames, "m": m, "limbs": self._lost_limbs(), "t": f"{first:.1f}"}
            parts = [Msg("report.following_lost", follow | lost)]
        else:
            parts = [Msg("report.following", follow)]
        if self.unaligned_frames:
            parts.append(Msg("report.unaligned", {"u": self.unaligned_frames, "m": m}))
        if self.no_pose_frames:
            parts.append(Msg("report.no_person", {"n": self.no_pose_frames}))
        return parts

    def _summary_v2(self) -> list[Msg]:
        """The summary of a report from before version 3 (no score), as it was written then."""
        head = {"pck": self.pck, "thr": self.threshold, "g": f"{self.threshold:g}", "f": self.following}
        parts = [Msg("report.v2_head", head | {"fp": self.follow_pck})]
        if self.version >= 2:
            parts.append(Msg("report.v2_fused", {"p": self.pck_single_pass}))
        if abs(self.offset_s) >= 0.05:
            parts.append(Msg("report.shifted", {"o": f"{self.offset_s:+.2f}"}))
        if self.lost_frames:
            lost = {"n": self.lost_frames, "m": self.aligned_frames, "limbs": self._lost_limbs()}
            parts.append(Msg("report.v2_lost", lost | {"t": f"{self.lost_times[0]:.1f}"}))
        else:
            parts.append(Msg("report.v2_none_lost"))
        if self.no_pose_frames:
            parts.append(Msg("report.no_person", {"n": self.no_pose_frames}))
        return parts


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
        (ref, ref_fused), (out, out_fused) = read_both(
            Path(reference_video), Path(output_video), cache_dir, ref_stride, out_stride
        )
        character = _character(character_image, out)
        single = AgreementReport(report.reference, report.output)
        _measure(single, ref, out, character, max_offset_s)
        ref, out = ref_fused, out_fused
        _measure(report, ref, out, character, max_offset_s)
        report.pck_single_pass = single.pck
        _appearance(report, ref, out, Path(reference_video), Path(output_video), character_image, cache_dir)
        if plot_path is not None:
            draw_plot(report, Path(plot_path))
    except EngineError as exc:
        report.error = exc.said()
    except Exception as exc:  # a report must never break the page
        report.error = f"{type(exc).__name__}: {exc}"
    report.elapsed = time.perf_counter() - started
    return report


def read_reference_ahead(reference_video: str | Path, cache_dir: Path | None = None) -> Future | None:
    """Start reading the reference's side of its report now, on threads of their own: call it when a
    run is submitted (the reference is the file sent), with the cache_dir the report will get. Its
    pose, then its side of the appearance checks (appearance.reference_looks: its hands and limb
    regions on its own samples): neither depends on the result, so the report then reads only the
    result (it finds the reference cached by content, or waits for this reading to end). Never
    raises: a reference that cannot be read gives None (the report says why later). The Future ends
    when both are read; its result is the pose's (tracking pass, fused reading)."""
    try:
        from kmc_ui.engine import appearance

        path = Path(reference_video)
        return appearance.read_reference_ahead(path, read_ahead(path, cache_dir, _stride(path)), cache_dir)
    except Exception:
        return None


def _appearance(
    report: AgreementReport,
    ref: MotionTrack,
    out: MotionTrack,
    reference_video: Path,
    output_video: Path,
    character_image: str | Path | None,
    cache_dir: Path | None = None,
) -> None:
    """The appearance findings (kmc_ui/engine/appearance.py) into the report; a failure there is
    noted and never costs the motion report. The reference's side comes from cache_dir when it was
    read ahead (read_reference_ahead)."""
    from kmc_ui.engine.appearance import appearance_findings

    try:
        found = appearance_findings(
            output_video,
            out.times,
            out.landmarks,
            reference_video,
            ref.times,
            ref.landmarks,
            report.offset_s,
            character_image,
            cache_dir=cache_dir,
        )
    except Exception as exc:
        report.appearance_note = f"{type(exc).__name__}: {exc}"[:200]
        return
    report.appearance = [f.to_dict() for f in found]
    report.appearance_checked = True


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
        raise EngineError(says("no_person_result"))
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


def _candidates(ref_t: np.ndarray, out_t: np.ndarray, max_offset: float) -> tuple[np.ndarray, float]:
    """The offsets (s) tried, one output sample apart, and that step."""
    step = float(np.median(np.diff(out_t))) if len(out_t) > 1 else 1 / 24
    lo = -min(max_offset, float(out_t[-1]) if len(out_t) else 0.0)
    hi = min(max_offset, float(ref_t[-1]) if len(ref_t) else 0.0)
    return (np.arange(lo, hi + step / 2, step) if hi >= lo else np.zeros(1)), step


def _correlation(sig_ref: np.ndarray, ref_t: np.ndarray, sig_out: np.ndarray, out_t: np.ndarray, off: float) -> float:
    """Normalised cross-correlation of the two clips' pose signals (_signal) at one offset; 0 when
    they overlap on fewer than half the samples of the shorter clip."""
    step = float(np.median(np.diff(out_t))) if len(out_t) > 1 else 1 / 24
    idx = _nearest(ref_t, out_t + off)
    inside = (out_t + off >= -step / 2) & (out_t + off <= float(ref_t[-1]) + step / 2)
    ref_rows = sig_ref[idx]
    ok = inside & np.isfinite(sig_out[:, 0]) & np.isfinite(ref_rows[:, 0])
    if ok.sum() < max(3, int(0.5 * min(len(out_t), len(ref_t)))):
        return 0.0
    x = sig_out[ok] - sig_out[ok].mean(axis=0)
    y = ref_rows[ok] - ref_rows[ok].mean(axis=0)
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 1e-9 else 0.0


def _best_offset(
    tally: ScoreTally,
    ref: tuple[np.ndarray, np.ndarray],
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
    max_offset: float,
) -> tuple[float, float]:
    """(offset s, correlation there). `ref`: (centred skeletons, times); `out`: (centred, retargeted
    centred, times). Among the shifts whose motion signals correlate within CORRELATION_BAND of
    the best (left/right-symmetric signals, so a detector's left/right mix-up does not matter), the
    one at which the result scores best (frames it leaves outside the reference count as failures);
    small offsets win ties. Correlation alone can prefer a neighbouring sample when one limb does
    not move; the score alone would pair a clip played backwards with the reference around its
    turning point (a strongly negative correlation). When no shift reaches WEAK_CORRELATION the
    offset is 0."""
    (ref_c, ref_t), (out_c, out_r, out_t) = ref, out
    candidates, step = _candidates(ref_t, out_t, max_offset)
    sig_ref, sig_out = _signal(ref_c), _signal(out_c)
    corr = np.array([_correlation(sig_ref, ref_t, sig_out, out_t, float(off)) for off in candidates])
    if corr.max() < WEAK_CORRELATION:
        # no evidence for any shift: the result is compared as it starts (a shift chosen by the
        # score could pick a stretch of the reference where a still result happens to fit)
        return 0.0, _correlation(sig_ref, ref_t, sig_out, out_t, 0.0)
    found = np.isfinite(out_r[:, :, 0]).all(axis=1)
    min_overlap = max(3, int(0.5 * min(len(out_t), len(ref_t))))
    best, best_value = int(np.argmin(np.abs(candidates))), -np.inf
    for k in np.flatnonzero(corr >= corr.max() - CORRELATION_BAND):
        off = float(candidates[k])
        idx = _nearest(ref_t, out_t + off)
        inside = (out_t + off >= -step / 2) & (out_t + off <= float(ref_t[-1]) + step / 2)
        if inside.sum() < min_overlap:
            continue  # a short stretch of any motion can match the reference somewhere
        value = tally.quick_score(out_r, idx, inside & found) - 0.2 * abs(off)
        if value > best_value:
            best, best_value = int(k), value
    return float(candidates[best]), float(corr[best])


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
        raise EngineError(says("no_person_reference"))
    report.output_frames = out.frames
    report.times = [float(t) for t in out.times]
    if not out.found.any():
        _nobody_in_result(report, out)
        return
    ref_filled, _ = fill_gaps(ref.landmarks)
    tgt_c = _centred(retarget(ref_filled, character))  # (T,33,2) in the character's proportions
    out_c = _centred(out.landmarks)
    out_r = _centred(retarget(out.landmarks, character))  # the result in the same proportions (score)
    ref_vis = np.where(ref.found[:, None], ref.landmarks[:, :, 3], 1.0)  # (T,33)
    shows = np.stack([ref_vis[:, d] >= MIN_VISIBILITY for _, d in LIMB_JOINTS.values()], axis=1)
    tally = ScoreTally(tgt_c, shows, int(np.flatnonzero(ref.found)[0]))
    offset, corr = _best_offset(tally, (_centred(ref_filled), ref.times), (out_c, out_r, out.times), max_offset)
    report.offset_s, report.correlation = offset, corr
    idx = _nearest(ref.times, out.times + offset)
    step = float(np.median(np.diff(ref.times))) if ref.frames > 1 else 1 / 24
    aligned = (out.times + offset >= -step) & (out.times + offset <= ref.times[-1] + step)
    # the target in the output's units: both are torso-normalised, root-centred; the character's
    # torso and the output's torso are one length, so scale 1 (foreshortening kept by retarget)
    frames: list[_Frame | None] = []
    for i in range(out.frames):
        if not aligned[i]:
            tally.failure()
            frames.append(None)
            continue
        j = int(idx[i])
        frame = _compare(out_c[i] if out.found[i] else None, out.landmarks[i, :, 3], tgt_c[j], ref_vis[j])
        scored = None if frame.pose is None else out_r[i][MIRROR] if frame.swapped else out_r[i]
        tally.frame(j, scored, {LIMB_KEYS[name] for name in frame.invisible})
        frames.append(frame)
    _fill(report, frames)
    report.score, report.limbs, report.limb_weights = tally.scores()


@dataclass
class _Frame:
    pck: float
    lost: list[str]  # limbs lost (LIMBS names): invisible or far off target
    invisible: list[str]  # limbs the result does not show (a failure for the score)
    pose: np.ndarray | None  # the pose compared (relabelled when mirrored), None: nobody found
    swapped: bool = False


def _compare(pose: np.ndarray | None, vis: np.ndarray, tgt: np.ndarray, ref_vis: np.ndarray) -> _Frame:
    """One aligned result frame against its reference target: PCK, lost limbs, the pose used."""
    shown_limbs = [name for name, (_, d) in LIMBS.items() if ref_vis[d] >= MIN_VISIBILITY]
    if pose is None:
        return _Frame(0.0, shown_limbs, shown_limbs, None)
    joints = list(L.BODY_JOINTS)
    shown = [j for j in joints if ref_vis[j] >= MIN_VISIBILITY] or joints
    dist = np.linalg.norm(pose[shown] - tgt[shown], axis=1)
    dist_m = np.linalg.norm(pose[MIRROR][shown] - tgt[shown], axis=1)
    swapped = bool(dist_m.mean() < dist.mean())
    if swapped:
        pose, vis, dist = pose[MIRROR], vis[MIRROR], dist_m
    invisible = [name for name in shown_limbs if vis[LIMBS[name][1]] < LOST_VISIBILITY]
    lost = [name for name in shown_limbs if name in invisible or _off_target(pose, tgt, LIMBS[name][1])]
    return _Frame(float(np.mean(dist <= PCK_THRESHOLD)), lost, invisible, pose, swapped)


def _off_target(pose: np.ndarray, tgt: np.ndarray, joint: int) -> bool:
    return float(np.linalg.norm(pose[joint] - tgt[joint])) > LOST_DISTANCE


def _fill(report: AgreementReport, frames: list[_Frame | None]) -> None:
    """The frame counts of the report. Frames the alignment could not place count as failures:
    PCK 0, not following (per_frame keeps None for them, so the plot shows where they are)."""
    lost_counts = dict.fromkeys(LIMBS, 0)
    for f in frames:
        for name in f.lost if f else []:
            lost_counts[name] += 1
    placed = [(t, f) for t, f in zip(report.times, frames, strict=True) if f is not None]
    total = max(1, len(frames))
    report.per_frame = [None if f is None else f.pck for f in frames]
    report.aligned_frames = len(placed)
    report.unaligned_frames = len(frames) - len(placed)
    report.no_pose_frames = sum(f.pose is None for _, f in placed)
    report.swapped_frames = sum(f.swapped for _, f in placed)
    report.pck = sum(f.pck for _, f in placed) / total
    report.following = sum(f.pck >= FOLLOW_PCK and not f.lost for _, f in placed) / total
    report.limb_lost = lost_counts
    report.lost_times = [t for t, f in placed if f.lost]
    report.lost_frames = len(report.lost_times)


def _nobody_in_result(report: AgreementReport, out: MotionTrack) -> None:
    """Nobody anywhere in the result: every frame a failure."""
    report.per_frame = [0.0] * out.frames
    report.no_pose_frames = out.frames
    report.aligned_frames = out.frames
    report.lost_frames = out.frames
    report.limb_lost = {name: out.frames for name in LIMBS}
    report.lost_times = list(report.times)
    report.score = 0.0
    report.limbs = dict.fromkeys(LIMB_JOINTS, 0.0)
    report.limb_weights = dict.fromkeys(LIMB_JOINTS, 0.25)


def draw_plot(report: AgreementReport, path: Path, width: int = 600, height: int = 330) -> Path:
    """Per-frame agreement over time as a PNG: the curve, the 'follows' line, lost limbs in red.
    Drawn small with large lettering, so it stays readable where a phone shows it at half size; the
    report's words say the rest (the page labels it "Agreement per frame")."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 80, 14, 44, 44
    pw, ph = width - left - right, height - top - bottom
    t_max = max(report.times[-1] if report.times else 1.0, 1e-3)
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.75, 2

    def x_of(t: float) -> int:
        return left + round(pw * t / t_max)

    def y_of(v: float) -> int:
        return top + round(ph * (1.0 - v))

    def say(text: str, at: tuple[int, int], colour: tuple[int, int, int]) -> None:
        cv2.putText(img, text, at, font, scale, colour, thick, cv2.LINE_AA)

    grey, dark, blue, red = (200, 200, 200), (60, 60, 60), (180, 90, 20), (40, 40, 220)
    for v in (0.0, 0.5, 1.0):
        cv2.line(img, (left, y_of(v)), (left + pw, y_of(v)), (235, 235, 235), 1)
        say(f"{v:.0%}", (4, y_of(v) + 8), dark)
    step = max(1, math.ceil(t_max / 4))
    for k in range(0, int(t_max) + 1, step):
        cv2.line(img, (x_of(k), top + ph), (x_of(k), top + ph + 6), dark, 2)
        say(f"{k}s", (x_of(k) - 12, top + ph + 30), dark)
    lost = set(round(t, 3) for t in report.lost_times)
    for t, v in zip(report.times, report.per_frame, strict=False):
        if v is None:
            cv2.line(img, (x_of(t), top), (x_of(t), top + ph), (245, 245, 245), 2)
        elif round(t, 3) in lost:
            cv2.line(img, (x_of(t), top + ph - 14), (x_of(t), top + ph), red, 3)
    y_follow = y_of(report.follow_pck)
    for x in range(left, left + pw, 12):
        cv2.line(img, (x, y_follow), (min(x + 6, left + pw), y_follow), grey, 2)
    pts = [(x_of(t), y_of(v)) for t, v in zip(report.times, report.per_frame, strict=False) if v is not None]
    if len(pts) > 1:
        cv2.polylines(img, [np.array(pts, np.int32)], False, blue, 3, cv2.LINE_AA)
    elif pts:
        cv2.circle(img, pts[0], 4, blue, -1)
    cv2.rectangle(img, (left, top), (left + pw, top + ph), dark, 1)
    if report.error:
        say("not measured", (left, 30), red)
    else:
        say("" if report.score is None else f"{report.score:.0f}/100", (left, 30), blue)
        (w, _h), _ = cv2.getTextSize("red: limb lost", font, scale, thick)
        say("red: limb lost", (left + pw - w, 30), red)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise EngineError(says("plot_unwritable", f=path.name))
    report.plot_path = str(path)
    return path
