"""Appearance checks in the motion-agreement report (kmc_ui/engine/appearance.py): a hand turned
into clothing is flagged on that hand with its frames, a smeared limb is flagged with its frames,
an untouched control is not flagged. Real footage (../shared/media/, read-only; skipped when absent),
altered here with OpenCV and encoded with ffmpeg; the real report (mediapipe pose and hands)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from kmc_ui.assets_draw import encode_frames, save_picture
from kmc_ui.engine import AgreementReport, agreement_report
from kmc_ui.engine.appearance import BANDS, HANDS, AppearanceFinding
from kmc_ui.engine.motion import read_pose
from kmc_ui.pose import landmarks as L

ROOT = Path(__file__).resolve().parents[1]
FPS, SECONDS, WIDTH = 12, 3.0, 540
START = 3.7  # the stretch of the sample dance where the hand detector finds both hands
ALTERED = (1.0, 2.5)  # seconds of the result that are altered


def read_clip(path: Path, start: float, seconds: float, width: int) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        height = round(stream.height * width / stream.width / 2) * 2
        next_t = start
        for frame in c.decode(stream):
            if float(frame.time or 0.0) + 1e-3 >= next_t:
                frames.append(frame.to_ndarray(format="rgb24", width=width, height=height))
                next_t += 1 / FPS
                if len(frames) >= round(seconds * FPS):
                    break
    return frames


def write(path: Path, frames: list[np.ndarray]) -> Path:
    h, w = frames[0].shape[:2]
    return encode_frames(path, iter(frames), w, h, FPS, SECONDS, preset="ultrafast", faststart=False)


def altered(i: int) -> bool:
    return ALTERED[0] <= i / FPS < ALTERED[1]


def clothing_hand(rgb: np.ndarray, lm: np.ndarray, hand: str) -> np.ndarray:
    """The hand painted over, a hand's size, with a patch of the clothes (the skirt, below the hips)."""
    out = rgb.copy()
    torso = L.body_scale(lm)
    centre = lm[list(HANDS[hand]), :2].mean(axis=0)
    r = round(0.16 * torso)
    skirt = ((lm[L.L_HIP, :2] + lm[L.R_HIP, :2]) / 2 + [0, 0.35 * torso]).round().astype(int)
    patch = rgb[skirt[1] - r : skirt[1] + r, skirt[0] - r : skirt[0] + r]
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.circle(mask, (round(centre[0]), round(centre[1])), r, 1, -1)
    ys, xs = np.nonzero(mask)
    py = np.clip(ys - round(centre[1]) + r, 0, patch.shape[0] - 1)
    px = np.clip(xs - round(centre[0]) + r, 0, patch.shape[1] - 1)
    out[ys, xs] = patch[py, px]
    return out


def smeared(rgb: np.ndarray, lm: np.ndarray, limb: str) -> np.ndarray:
    """A motion-blurred strip along the limb: a 41 px streak across the bone, over a band twice its width."""
    a, b = BANDS[limb]
    torso = L.body_scale(lm)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.line(
        mask, tuple(np.round(lm[a, :2]).astype(int)), tuple(np.round(lm[b, :2]).astype(int)), 1, round(0.4 * torso)
    )
    bone = lm[b, :2] - lm[a, :2]
    across = np.array([-bone[1], bone[0]]) / max(1e-6, float(np.linalg.norm(bone)))
    kernel = np.zeros((41, 41), np.float32)
    cv2.line(kernel, tuple(np.round(20 - 20 * across).astype(int)), tuple(np.round(20 + 20 * across).astype(int)), 1, 1)
    blurred = cv2.filter2D(rgb, -1, kernel / kernel.sum())
    out = rgb.copy()
    out[mask.astype(bool)] = blurred[mask.astype(bool)]
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> dict[str, Path]:
    source = shared_media / "dance_fullbody_12s.mp4"
    if not source.is_file():
        pytest.skip(f"{source.name} not found")
    d = tmp_path_factory.mktemp("appearance")
    frames = read_clip(source, START, SECONDS, WIDTH)
    poses = [read_pose(f) for f in frames]
    assert all(p is not None for p in poses)
    hand = [
        clothing_hand(f, p, "right hand") if altered(i) else f
        for i, (f, p) in enumerate(zip(frames, poses, strict=True))
    ]
    smear = [
        smeared(f, p, "left forearm") if altered(i) else f for i, (f, p) in enumerate(zip(frames, poses, strict=True))
    ]
    control = [cv2.convertScaleAbs(f, alpha=1.0, beta=4) for f in frames]  # the same, a touch brighter
    return {
        "reference": write(d / "reference.mp4", frames),
        "control": write(d / "control.mp4", control),
        "hand": write(d / "hand.mp4", hand),
        "smear": write(d / "smear.mp4", smear),
        "picture": save_picture(d / "character.png", frames[0]),
    }


@pytest.fixture(scope="module")
def reports(clips: dict[str, Path]) -> dict[str, AgreementReport]:
    ref = clips["reference"]
    return {
        name: agreement_report(ref, clips[name], character_image=clips["picture"])
        for name in ("control", "hand", "smear")
    }


def in_altered(times: list[float]) -> bool:
    return all(ALTERED[0] - 0.15 <= t <= ALTERED[1] + 0.15 for t in times)


def test_an_untouched_control_has_no_appearance_finding(reports: dict[str, AgreementReport]) -> None:
    report = reports["control"]
    assert report.ok and report.appearance_checked, report.appearance_note
    assert report.appearance == [], report.appearance
    assert "Appearance: hands, limb colours and sharpness hold up" in report.summary()


def test_a_hand_made_of_clothing_is_flagged_on_that_hand_with_its_frames(reports: dict[str, AgreementReport]) -> None:
    report = reports["hand"]
    assert report.ok and report.appearance_checked, report.appearance_note
    on_hand = [a for a in report.appearance if a["limb"] == "right hand"]
    assert {a["code"] for a in on_hand} & {"hand_missing", "limb_colour"}, report.appearance
    for a in on_hand:
        assert a["times"] and in_altered(a["times"]), a
        assert len(a["frames"]) == len(a["times"])
    assert not [a for a in report.appearance if a["limb"] == "left hand"], report.appearance
    assert "The right hand" in report.summary()


def test_a_smeared_limb_is_flagged_with_its_frames(reports: dict[str, AgreementReport]) -> None:
    report = reports["smear"]
    smears = [a for a in report.appearance if a["code"] == "limb_smear"]
    assert [a["limb"] for a in smears] == ["left forearm"], report.appearance
    assert in_altered(smears[0]["times"]), smears
    assert "left forearm looks smeared or torn" in report.summary()


def test_the_json_carries_the_appearance_findings(reports: dict[str, AgreementReport]) -> None:
    data = json.loads(reports["hand"].to_json())
    assert data["appearance_checked"] is True
    first = data["appearance"][0]
    assert {"code", "limb", "frames", "times", "value"} <= set(first)
    back = AgreementReport.from_dict(data)
    assert back.appearance == reports["hand"].appearance


def test_cli_report_takes_the_picture_and_prints_the_appearance(clips: dict[str, Path], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_", "REPLICATE_", "KMC_"))}
    args = ["report", clips["reference"], clips["hand"], "--json", "--image", clips["picture"]]
    done = subprocess.run(
        [sys.executable, "-m", "kmc_ui", *map(str, args)],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT), "KMC_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    assert data["appearance_checked"] and any(a["limb"] == "right hand" for a in data["appearance"]), data
    assert "Appearance checks found" in data["summary"]
    missing = subprocess.run(
        [sys.executable, "-m", "kmc_ui", *map(str, args[:-1]), tmp_path / "nope.png"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT), "KMC_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "character picture" in missing.stderr


def test_the_appearance_sentences_have_chinese() -> None:
    from tests.test_runtime_text import assert_chinese

    found = [
        AppearanceFinding("hand_missing", "right hand", [12, 16], [1.0, 1.33], 0.5, 4),
        AppearanceFinding("limb_colour", "left forearm", [1, 2, 3, 4, 5], [0.5, 1.0, 1.5, 2.0, 2.5], 41.2, 9),
        AppearanceFinding("limb_smear", "right shin", [4, 5], [2.0, 2.5], 0.44, 9),
    ]
    report = AgreementReport(
        "r.mp4",
        "o.mp4",
        score=80.0,
        limbs=dict.fromkeys(("left_arm", "right_arm", "left_leg", "right_leg"), 80.0),
        correlation=0.9,
        following=0.8,
        output_frames=20,
        aligned_frames=20,
        appearance=[f.to_dict() for f in found],
        appearance_checked=True,
    )
    clean = AgreementReport(
        "r.mp4", "o.mp4", score=80.0, correlation=0.9, output_frames=20, aligned_frames=20, appearance_checked=True
    )
    summary = report.summary()
    assert "Appearance checks found 3 problems." in summary
    assert "The right hand is missing in 2 of 4 frames where the reference shows it (1.0 s, 1.3 s)." in summary
    assert "(sharpness 44% of its usual, at 2.0 s, 2.5 s)" in summary
    assert assert_chinese([summary, clean.summary()]) == 2
