"""The verdict (kmc_ui/verdict.py): blocked, changes, the trim window, merged findings; defined once."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmc_ui.checks.trim import TrimSuggestion
from kmc_ui.findings import Finding
from kmc_ui.media.probe import VideoInfo
from kmc_ui.settings import Settings
from kmc_ui.studio import BodyReport, CheckReport, Inputs, Studio
from kmc_ui.verdict import judge, longest_clip, unfixable
from tests.conftest import MediaCache

FIXABLE = Finding("error", "video", "video_too_long", "Motion video lasts 12 s.", "Trim it.", auto_fix=True)
UNFIXABLE = Finding("error", "image", "image_too_small", "Image is 100 px.", "Use a bigger one.")
WARNING = Finding("warning", "pair", "pair_framing", "The framings differ.")
HINT_FIXED = Finding("hint", "video", "video_fps", "60 fps.", "It is resampled.", auto_fix=True)


def clip(seconds: float, error: str = "") -> VideoInfo:
    return VideoInfo(path="m.mp4", size_bytes=1, extension=".mp4", has_video=True, duration=seconds, error=error)


def report(*findings: Finding, video: VideoInfo | None = None) -> CheckReport:
    return CheckReport(list(findings), None, video, None)


def test_blocked_only_by_an_error_no_preparation_fixes() -> None:
    assert not judge(Inputs(), report(FIXABLE, WARNING)).blocked
    assert judge(Inputs(), report(FIXABLE, WARNING)).has_errors  # not sendable as it is: prepared first
    verdict = judge(Inputs(), report(WARNING), BodyReport([UNFIXABLE]))
    assert verdict.blocked and verdict.has_errors and verdict.blocking == [UNFIXABLE]
    assert unfixable([FIXABLE, UNFIXABLE, WARNING]) == [UNFIXABLE]
    assert not judge(Inputs(), report(WARNING)).has_errors


def test_findings_of_both_checks_are_merged_and_sorted() -> None:
    verdict = judge(Inputs(), report(HINT_FIXED, WARNING), BodyReport([UNFIXABLE]))
    assert verdict.findings == [UNFIXABLE, WARNING, HINT_FIXED]  # errors first
    assert verdict.report.blocking  # the report handed on (/check, the CLI) carries the merged findings


def test_changes_when_a_finding_is_fixed_by_preparing_or_the_clip_is_trimmed() -> None:
    assert not judge(Inputs(), report(WARNING, video=clip(8))).changes
    assert judge(Inputs(), report(HINT_FIXED, video=clip(8))).changes  # any auto-fix, not only errors
    assert judge(Inputs(orientation="image"), report(video=clip(12))).changes  # trimmed to 10 s


@pytest.mark.parametrize(
    ("orientation", "seconds", "over", "max_start"),
    [
        ("video", 12.0, False, 1.0),
        ("image", 12.0, True, 2.0),  # 10 s at most: starts from 0 to 2 s
        ("image", 10.004, False, 1.0),  # within the tolerance
        ("image", 10.03, True, 0.1),  # the slider always has some room
        ("video", 45.26, True, 15.3),
    ],
)
def test_trim_window(orientation: str, seconds: float, over: bool, max_start: float) -> None:
    trim = judge(Inputs(orientation=orientation), report(video=clip(seconds))).trim
    assert (trim.over, trim.max_start, trim.start) == (over, max_start, None)


def test_no_trim_for_an_unreadable_clip() -> None:
    assert not judge(Inputs(orientation="image"), report(video=clip(12, error="broken"))).trim.over


def test_the_body_checks_suggested_start_is_the_default() -> None:
    body = BodyReport([], trim=TrimSuggestion(1.26, 11.26, "Starts at the closest pose.", needed=True))
    trim = judge(Inputs(orientation="image"), report(video=clip(12)), body).trim
    assert (trim.start, trim.reason) == (1.3, "Starts at the closest pose.")
    late = BodyReport([], trim=TrimSuggestion(5.0, 12.0, "Late.", needed=True))
    assert judge(Inputs(orientation="image"), report(video=clip(12)), late).trim.start == 2.0  # within the window
    chosen = judge(Inputs(orientation="image", trim_start=0.5), report(video=clip(12)), body).trim
    assert chosen.start is None  # the visitor's own start stands
    unneeded = BodyReport([], trim=TrimSuggestion(1.0, 9.0, "Fine as it is."))
    assert judge(Inputs(orientation="image"), report(video=clip(9)), unneeded).trim.start is None


def test_longest_clip_per_orientation() -> None:
    assert (longest_clip("video"), longest_clip("image"), longest_clip("?")) == (30.0, 10.0, 30.0)


def test_an_over_long_clip_in_orientation_image_through_the_studio(media: MediaCache, tmp_path: Path) -> None:
    """A real 12 s clip: too long for orientation image, fixed by preparing (a trim), so not blocked."""
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    image = media.image("verdict-character.png", 480, 854, fmt="PNG")
    video = media.video("verdict-12s.mp4", seconds=12.0, fps=8, audio=False)
    verdict = studio.verdict(Inputs(image=str(image), video=str(video), orientation="image"))
    assert "video_too_long" in {f.code for f in verdict.findings}
    assert verdict.has_errors and not verdict.blocked and verdict.changes
    assert (verdict.trim.over, verdict.trim.max_start) == (True, 2.0)
    as_video = studio.verdict(Inputs(image=str(image), video=str(video), orientation="video"))
    assert not as_video.trim.over and "video_too_long" not in {f.code for f in as_video.findings}
