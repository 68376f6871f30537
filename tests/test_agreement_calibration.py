"""Calibration of the motion-agreement score at both ends and in between.

Results are made here: a drawn figure's motion (tests/figures.py) rendered again as it is, frozen
on its first pose, played backwards, and with its left arm held still; and the same cases cut from
the shared real footage (skipped when it is absent). 0 = a frozen pose, 100 = the reference's own
motion. Short clips at 12 frames a second keep the runtime modest.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import av
import numpy as np
import pytest

from kmc_ui.assets_draw import encode_frames
from kmc_ui.engine import AgreementReport, agreement_report
from tests.figures import draw_figure

ROOT = Path(__file__).resolve().parents[1]
W, H, FPS, SECONDS = 360, 640, 12, 3.0
Pose = Callable[[float], dict[str, float]]


def calibration_pose(t: float) -> dict[str, float]:
    """Three seconds of motion that differs from its own reverse and from its mirror image: the
    left arm sweeps up while its elbow bends, the right arm comes down (with a wobble) while its
    elbow straightens, the left knee lifts in the last second and the hips drift."""
    u = t / SECONDS
    lift = math.sin(math.pi * (t - 2.0)) if t >= 2.0 else 0.0
    return {
        "lsh": 0.3 + 1.5 * u**1.5,
        "rsh": 1.6 - 1.2 * u + 0.15 * math.sin(2 * math.pi * t / 1.1),
        "lel": 0.9 * u**2,
        "rel": 0.8 * (1.0 - u),
        "lhip": 0.08 + 0.35 * lift,
        "lkn": -0.6 * lift,
        "rhip": 0.08 + 0.1 * u,
        "dx": 0.3 * u,
    }


def frozen(pose: Pose) -> Pose:
    return lambda t: pose(0.0)


def backwards(pose: Pose) -> Pose:
    last = SECONDS - 1 / FPS
    return lambda t: pose(last - t)


def left_arm_still(pose: Pose) -> Pose:
    start = pose(0.0)
    return lambda t: pose(t) | {"lsh": start["lsh"], "lel": start["lel"]}


def render(path: Path, pose: Pose) -> Path:
    frames = (draw_figure(W, H, pose(i / FPS)) for i in range(round(SECONDS * FPS)))
    return encode_frames(path, frames, W, H, FPS, SECONDS, preset="ultrafast", faststart=False)


def write(path: Path, frames: Iterable[np.ndarray], width: int, height: int) -> Path:
    return encode_frames(path, frames, width, height, FPS, SECONDS, preset="ultrafast", faststart=False)


def read_clip(path: Path, start: float, seconds: float, width: int) -> list[np.ndarray]:
    """RGB frames of `path` from `start`, FPS a second, scaled to `width`."""
    frames: list[np.ndarray] = []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        next_t = start
        for frame in c.decode(stream):
            t = float(frame.time or 0.0)
            if t + 1e-6 < next_t:
                continue
            height = round(frame.height * width / frame.width / 2) * 2
            frames.append(frame.to_ndarray(format="rgb24", width=width, height=height))
            next_t += 1 / FPS
            if len(frames) >= round(seconds * FPS):
                break
    return frames


@pytest.fixture(scope="module")
def drawn_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("calibration")
    return {
        "reference": render(d / "reference.mp4", calibration_pose),
        "frozen": render(d / "frozen.mp4", frozen(calibration_pose)),
        "reversed": render(d / "reversed.mp4", backwards(calibration_pose)),
        "left_arm_still": render(d / "left_arm_still.mp4", left_arm_still(calibration_pose)),
    }


@pytest.fixture(scope="module")
def drawn(drawn_media: dict[str, Path]) -> dict[str, AgreementReport]:
    ref = drawn_media["reference"]
    cases = {"self": ref} | {name: path for name, path in drawn_media.items() if name != "reference"}
    return {name: agreement_report(ref, path) for name, path in cases.items()}


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> dict[str, AgreementReport]:
    source = shared_media / "dance_fullbody_12s.mp4"
    if not source.is_file():
        pytest.skip(f"{source.name} not found")
    d = tmp_path_factory.mktemp("footage")
    frames = read_clip(source, 4.0, SECONDS, 360)
    h, w = frames[0].shape[:2]
    ref = write(d / "reference.mp4", frames, w, h)
    cases = {
        "self": ref,
        "frozen": write(d / "frozen.mp4", [frames[0]] * len(frames), w, h),
        "reversed": write(d / "reversed.mp4", frames[::-1], w, h),
    }
    return {name: agreement_report(ref, path) for name, path in cases.items()}


def test_the_reference_against_itself_scores_100(drawn: dict[str, AgreementReport]) -> None:
    report = drawn["self"]
    assert report.ok, report.error
    assert report.score is not None and report.score >= 95
    assert all(v is not None and v >= 90 for v in report.limbs.values()), report.limbs
    assert "**Motion agreement: " in report.summary()


def test_a_frozen_result_scores_near_0(drawn: dict[str, AgreementReport]) -> None:
    report = drawn["frozen"]
    assert report.ok, report.error
    assert report.score is not None and report.score <= 10, report.summary()
    assert report.following <= 0.5  # frames counted over the whole result, unaligned ones as failures


def test_a_reversed_result_scores_low(drawn: dict[str, AgreementReport]) -> None:
    report = drawn["reversed"]
    assert report.ok, report.error
    assert report.score is not None and report.score <= 25, report.summary()


def test_a_limb_held_still_is_flagged_on_that_limb(drawn: dict[str, AgreementReport]) -> None:
    report = drawn["left_arm_still"]
    assert report.ok, report.error
    limbs = report.limbs
    assert limbs["left_arm"] is not None and limbs["left_arm"] <= 25, limbs
    assert limbs["right_arm"] is not None and limbs["right_arm"] >= limbs["left_arm"] + 50, limbs
    assert "The left arm does not follow the reference's motion" in report.summary()
    assert report.score is not None and drawn["frozen"].score is not None
    assert drawn["frozen"].score < report.score < drawn["self"].score


def test_the_headline_is_the_weighted_mean_of_the_limbs(drawn: dict[str, AgreementReport]) -> None:
    for name, report in drawn.items():
        weights = report.limb_weights
        assert sum(weights.values()) == pytest.approx(1.0), name
        mean = sum(weights[k] * (v or 0.0) for k, v in report.limbs.items())
        assert report.score == pytest.approx(mean, abs=1e-6), name


def test_real_footage_is_calibrated_too(footage: dict[str, AgreementReport]) -> None:
    scores = {name: r.score for name, r in footage.items()}
    assert all(r.ok for r in footage.values()), [r.error for r in footage.values()]
    assert scores["self"] is not None and scores["self"] >= 95, scores
    assert scores["frozen"] is not None and scores["frozen"] <= 10, scores
    assert scores["reversed"] is not None and scores["reversed"] <= 25, scores


# ---------------------------------------------------------------- python -m kmc_ui report


def run_report(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_", "REPLICATE_", "KMC_"))}
    return subprocess.run(
        [sys.executable, "-m", "kmc_ui", "report", *map(str, args)],
        cwd=cwd,
        env=env | {"PYTHONPATH": str(ROOT), "KMC_DATA_DIR": str(cwd / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_report_prints_the_score_and_the_limbs(
    drawn_media: dict[str, Path], drawn: dict[str, AgreementReport], tmp_path: Path
) -> None:
    done = run_report(drawn_media["reference"], drawn_media["left_arm_still"], "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    expected = drawn["left_arm_still"]
    assert expected.score is not None
    assert 0 <= data["score"] <= 100 and data["score"] == pytest.approx(expected.score, abs=0.1)
    assert set(data["limbs"]) == {"left_arm", "right_arm", "left_leg", "right_leg"}
    assert data["limbs"]["left_arm"] < data["limbs"]["right_arm"]
    for key in ("pck", "offset_s", "lost_frames", "per_frame", "limb_lost", "correlation", "summary"):
        assert key in data, key
    assert data["summary"].startswith(f"**Motion agreement: {expected.score:.0f}/100**")
    text = run_report(drawn_media["reference"], drawn_media["reference"], cwd=tmp_path)
    assert text.returncode == 0, text.stderr[-2000:]
    assert text.stdout.startswith("**Motion agreement: 100/100**"), text.stdout


def test_cli_report_refuses_unreadable_input_with_exit_2(drawn_media: dict[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    for args in ((drawn_media["reference"], junk), (tmp_path / "missing.mp4", drawn_media["reference"])):
        done = run_report(*args, "--json", cwd=tmp_path)
        assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
        assert done.stderr.startswith("error: the ") and "cannot be read" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
