"""Which part of the motion video to send: a suggested trim window, from the body checks' analyses.

`suggest_trim(image, video, orientation) -> TrimSuggestion | None` (start, end, reason):

- the window lies inside one shot: it ends before the first hard cut (checks/pose.detect_cuts)
  when the shot before that cut is long enough to send (LIMITS.video_min_seconds), else it is
  the first shot that is;
- it starts at the motion sample whose pose is closest to the character picture's pose
  (normalised joint positions: centred on the shoulders' midpoint, in torso lengths, over the
  body joints both show), so the first frame the provider sees already fits the picture; among
  samples within START_TOLERANCE of the best the earliest wins (the longest window), and the start
  leaves at least the shortest clip accepted before the shot ends;
- it is at most the orientation's longest clip.

Only the part of the video the body check analysed is known (from the trim start, at most the
orientation's longest clip): cuts later than that cannot be seen. Pure: analyses in, a window out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from kmc_ui.limits import LIMITS, POSE, PoseThresholds
from kmc_ui.messages import Msg
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.detect import ImageAnalysis, VideoAnalysis

START_TOLERANCE = 0.05  # torso lengths: samples this close to the best match count as matching as well
CUT_MARGIN_S = 0.1  # the window ends this long before a cut (the cut frame itself is never sent)


@dataclass(frozen=True)
class TrimSuggestion:
    start: float  # seconds of the source video
    end: float
    reason: str  # one line for Prepare
    cut: float | None = None  # the cut the window ends before, if any
    match: float | None = None  # distance (torso lengths) of the start pose from the picture's, None: not compared
    needed: bool = False  # the clip is longer than the orientation allows or has a cut: trimming matters
    shot: float = 0.0  # where the shot the window lies in starts (seconds of the source video)
    reason_msgs: tuple[Msg, ...] = field(default=(), compare=False)  # `reason` as messages, one per sentence

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def pose_distance(a: np.ndarray, a_seen: np.ndarray, b: np.ndarray, b_seen: np.ndarray) -> float | None:
    """Mean distance of the body joints both poses show, each centred on its shoulders' midpoint and
    measured in its own torso lengths; None when they share fewer than 4 such joints."""
    if not (L.is_pose(a) and L.is_pose(b)):
        return None
    joints = [j for j in L.BODY_JOINTS if a_seen[j] and b_seen[j] and j not in L.SHOULDERS]
    if len(joints) < 4 or not (a_seen[list(L.SHOULDERS)].all() and b_seen[list(L.SHOULDERS)].all()):
        return None
    pa = (a[joints, :2] - L.midpoint(a, *L.SHOULDERS)) / L.body_scale(a)
    pb = (b[joints, :2] - L.midpoint(b, *L.SHOULDERS)) / L.body_scale(b)
    return float(np.linalg.norm(pa - pb, axis=1).mean())


def _shots(video: VideoAnalysis, cuts: tuple[float, ...], end: float) -> list[tuple[float, float, float | None]]:
    """(start, end, the cut that ends it or None) for each shot of the analysed part."""
    bounds = [video.start] + [c for c in cuts if video.start < c < end]
    shots = []
    for k, a in enumerate(bounds):
        b = bounds[k + 1] if k + 1 < len(bounds) else end
        shots.append((a, b, b if k + 1 < len(bounds) else None))
    return shots


def suggest_trim(
    image: ImageAnalysis | None,
    video: VideoAnalysis | None,
    orientation: str = "video",
    th: PoseThresholds = POSE,
) -> TrimSuggestion | None:
    """The suggested window (see the module docstring); None without a usable video analysis."""
    from kmc_ui.checks.pose import detect_cuts

    if video is None or video.error or not len(video.frame_times):
        return None
    max_s = LIMITS.video_max_seconds.get(orientation, LIMITS.video_max_seconds["video"])
    min_s = LIMITS.video_min_seconds
    duration = video.duration or float(video.frame_times[-1])
    known_end = min(duration, video.analysed_until or duration)
    cuts = detect_cuts(video, th)
    shots = _shots(video, cuts, known_end)
    shot = next((s for s in shots if s[1] - s[0] >= min_s), max(shots, key=lambda s: s[1] - s[0]))
    s0, s1, cut = shot
    # the last shot runs to the clip's end (beyond the analysed part, as far as is known)
    s1 = duration if cut is None else max(s0, cut - CUT_MARGIN_S)
    start, match = s0, None
    pic = image.pose if image is not None and not image.error else None
    if pic is not None:
        pic_seen = pic.seen(th.min_visibility)
        latest = max(s0, s1 - min_s)
        scored = []
        for t, lm in zip(video.times, video.landmarks, strict=True):
            if s0 - 1e-6 <= t <= latest + 1e-6:
                d = pose_distance(pic.landmarks, pic_seen, lm, L.seen(lm, video.width, video.height, th.min_visibility))
                if d is not None:
                    scored.append((float(t), d))
        if scored:
            best = min(d for _, d in scored)
            start, match = next((t, d) for t, d in scored if d <= best + START_TOLERANCE)
    end = min(s1, start + max_s)
    needed = duration > max_s + 0.005 or bool(cuts)
    said = _reason(start, end, cut, match, s0)
    reason = " ".join(m.en() for m in said)
    return TrimSuggestion(round(start, 2), round(end, 2), reason, cut, match, needed, round(s0, 2), said)


def _reason(start: float, end: float, cut: float | None, match: float | None, shot_start: float) -> tuple[Msg, ...]:
    """Short sentences for Prepare, as messages (kmc_ui/catalogue/report.py)."""
    parts = [Msg("trim.window", {"a": f"{start:.1f}", "b": f"{end:.1f}"})]
    if cut is not None:
        parts.append(Msg("trim.ends_before_cut", {"c": f"{cut:.1f}"}))
    elif shot_start > 0:
        parts.append(Msg("trim.starts_after_cut", {"c": f"{shot_start:.1f}"}))
    if match is not None and start > shot_start + 1e-6:
        parts.append(Msg("trim.starts_closest", {"d": f"{match:.2f}"}))
    elif match is not None:
        parts.append(Msg("trim.closest_at_start", {"d": f"{match:.2f}"}))
    return tuple(parts)


def trim_for(
    image_path: str | None,
    video_path: str | None,
    orientation: str = "video",
    *,
    cache_dir: str | None = None,
    trim_start: float = 0.0,
) -> TrimSuggestion | None:
    """suggest_trim on the analyses the body check made (read back from the cache: milliseconds
    after `pose_findings` with the same arguments). Never raises: None when it cannot say."""
    from kmc_ui.checks.pose import window_seconds
    from kmc_ui.pose.detect import analyse_image, analyse_video

    if not video_path:
        return None
    try:
        image = analyse_image(image_path, cache_dir=cache_dir) if image_path else None
        video = analyse_video(
            video_path, cache_dir=cache_dir, start=trim_start, max_seconds=window_seconds(orientation)
        )
        return suggest_trim(image, video, orientation)
    except Exception:  # a suggestion is a convenience: the findings already say what matters
        return None
