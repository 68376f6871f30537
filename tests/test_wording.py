"""Wording a first visitor stumbled on (issue 15), in English and Chinese: the small-image error and
its fix name the same limit, Prepare never calls a file it cannot send "sent as it is", a cancelled
task is not said to "not run" after it ran, and each of these has its Chinese."""

from __future__ import annotations

import re
from pathlib import Path

from kmc_ui.checks.rules import check_image
from kmc_ui.jobs import stopped_text
from kmc_ui.limits import LIMITS
from kmc_ui.media.probe import probe_image
from kmc_ui.ui import render
from kmc_ui.ui.runtime_text import translate
from tests.media_factory import make_image

CJK = re.compile("[\u4e00-\u9fff]")


def test_the_small_image_error_and_its_fix_name_the_same_limit(tmp_path: Path) -> None:
    small = make_image(tmp_path / "small.png", 200, 200)
    (finding,) = [f for f in check_image(probe_image(small)) if f.code == "image_too_small"]
    limit = f"{LIMITS.image_min_side} px"
    assert limit in finding.message and limit in finding.fix, finding.text()
    zh = translate(finding.fix, "zh")
    assert CJK.search(zh) and str(LIMITS.image_min_side) in zh and "Use" not in zh


def test_prepare_does_not_call_a_blocked_file_sent_as_it_is() -> None:
    blocked = render.actions_md("Video", [], "MP4, 0.1 s", "en", blocked=True)
    assert "sent as it is" not in blocked and "cannot be sent until" in blocked
    zh = render.actions_md("视频", [], "MP4，0.1 秒", "zh", blocked=True)
    assert "原样发送" not in zh and CJK.search(zh) and "cannot" not in zh
    fine = render.actions_md("Video", [], "x", "en")
    assert fine == "**Video**: no changes needed: the file is sent as it is.  \n*Sent:* x"
    said = translate("Not sent until this is fixed: Motion video: the file is empty (0 bytes).", "zh")
    assert said.startswith("修复以下问题之前不会发送")


def test_a_cancelled_task_is_said_to_stop_not_to_never_run() -> None:
    said = stopped_text({"status": "canceled", "task_id": "local-1"}, "Offline engine (CPU, preview quality)")
    assert "will not run" not in said and "stops there" in said
    zh = translate(said, "zh")
    assert CJK.search(zh) and "stops" not in zh
