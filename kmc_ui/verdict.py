"""The verdict on a set of inputs, defined once: what the page, Batch and the CLI decide from the checks.

`judge(inputs, report, body)` merges the limit check's findings with the body check's and says:

- `blocked`: an error no preparation fixes. Generate is refused, a batch item is skipped.
- `has_errors`: any error, fixable or not: the files cannot be sent as they are (Generate prepares
  them first, or refuses). This is the "blocking" of /check's answer and `kmc check`'s exit code.
- `changes`: preparing will change a file (the page shows "What will be sent").
- `trim`: where the trim start may go, and the body check's suggested start.

(After preparing, `PrepareReport.blocking` in kmc_ui/studio.py says whether the prepared files
still cannot be sent; a batch plan's `blocking` says that none of its items can run.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kmc_ui.findings import Finding, has_errors, sort_findings
from kmc_ui.limits import LIMITS
from kmc_ui.messages import Msg

if TYPE_CHECKING:
    from kmc_ui.studio import BodyReport, CheckReport, Inputs

OVER_TOLERANCE_S = 0.005  # a clip this little over the longest length is not trimmed


@dataclass(frozen=True)
class TrimWindow:
    """The trim start's range: shown (and used by preparing) when the clip is too long or has a cut."""

    over: bool = False  # the clip is longer than the orientation allows: preparing trims it
    max_start: float = 1.0  # the latest start that still leaves the longest (or, for a cut, the shortest) clip
    start: float | None = None  # the body check's suggested start (the slider's default), None: no suggestion
    reason: str = ""  # why that start (one line)
    reason_msgs: tuple[Msg, ...] = ()  # `reason` as messages (kmc_ui/catalogue/report.py)
    cut: float | None = None  # the cut after the start: preparing ends the clip before it (Studio.cut_end)
    shown: bool = False  # the trim start is offered: over, a cut, or the visitor already moved it


@dataclass(frozen=True)
class Verdict:
    report: CheckReport  # the limit check, its findings merged with the body check's (sorted)
    trim: TrimWindow

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    @property
    def blocking(self) -> list[Finding]:
        """The errors no preparation fixes."""
        return unfixable(self.findings)

    @property
    def blocked(self) -> bool:
        """An error no preparation fixes: nothing can be sent until the visitor changes an input."""
        return bool(self.blocking)

    @property
    def has_errors(self) -> bool:
        """Any error, fixable by preparing or not: the files cannot be sent as they are."""
        return has_errors(self.findings)

    @property
    def changes(self) -> bool:
        """Preparing will change a file: the clip is trimmed, or a finding is fixed by preparing."""
        return self.trim.over or self.trim.cut is not None or any(f.auto_fix for f in self.findings)


def unfixable(findings: list[Finding]) -> list[Finding]:
    """The errors the preparation step cannot fix."""
    return [f for f in findings if f.level == "error" and not f.auto_fix]


def longest_clip(orientation: str) -> float:
    """The longest motion clip the orientation accepts, in seconds."""
    return LIMITS.video_max_seconds.get(orientation, LIMITS.video_max_seconds["video"])


def trim_window(inputs: Inputs, report: CheckReport, body: BodyReport | None) -> TrimWindow:
    """Where the trim start may go; the body check's suggested start when trimming matters and the
    visitor has not chosen a start."""
    video, max_s = report.video, longest_clip(inputs.orientation)
    readable = video is not None and video.ok
    over = readable and video is not None and video.duration > max_s + OVER_TOLERANCE_S
    suggestion = body.trim if body else None
    cut = suggestion.cut if suggestion is not None and readable else None
    if over and video is not None:
        max_start = max(0.1, round(video.duration - max_s, 1))
    elif readable and video is not None and (cut is not None or inputs.trim_start):
        max_start = max(0.1, round(video.duration - LIMITS.video_min_seconds, 1))
    else:
        max_start = 1.0
    shown = over or (readable and (cut is not None or inputs.trim_start > 0))
    if suggestion is None or not suggestion.needed or inputs.trim_start:
        return TrimWindow(over, max_start, cut=cut, shown=shown)
    start = min(round(suggestion.start, 1), max_start)
    return TrimWindow(over, max_start, start, suggestion.reason, suggestion.reason_msgs, cut, shown)


def judge(inputs: Inputs, report: CheckReport, body: BodyReport | None = None) -> Verdict:
    """The verdict on `inputs` from their limit check and, once it has run, their body check."""
    merged = sort_findings(report.findings + (body.findings if body else []))
    return Verdict(replace(report, findings=merged), trim_window(inputs, report, body))
