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
    from kmc_ui.ui.render import report_summary
    from tests.test_runtime_text import assert_rendered_chinese

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
    assert assert_rendered_chinese(report_summary(r, "zh") for r in (report, clean)) == 2
    assert "参考视频显示右手的 4 帧中，结果有 2 帧缺少右手（1.0 秒、1.3 秒）。" in report_summary(report, "zh")


def test_the_reference_side_read_ahead_gives_the_report_read_cold(
    clips: dict[str, Path], reports: dict[str, AgreementReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference's hands and limb regions read ahead (read_reference_ahead, at submit) give the
    report the cold one gives, findings and all; the report after the result reads only the result's
    side of the appearance checks, also from the disk cache in a later process."""
    from kmc_ui.engine import appearance
    from kmc_ui.engine.agreement import read_reference_ahead
    from kmc_ui.pose import cache as pose_cache

    pose_cache.clear_memory()
    future = read_reference_ahead(clips["reference"], tmp_path / "cache")
    assert future is not None
    future.result()
    reads: list[str] = []
    original = appearance._read_looks

    def counted(video: Path, *args: object) -> appearance.ReferenceLooks:
        reads.append(Path(video).name)
        return original(video, *args)

    monkeypatch.setattr(appearance, "_read_looks", counted)
    for name in ("hand", "smear"):
        ahead = agreement_report(clips["reference"], clips[name], clips["picture"], cache_dir=tmp_path / "cache")
        assert ahead.appearance, ahead.appearance_note
        assert ahead.to_dict() | {"elapsed": 0} == reports[name].to_dict() | {"elapsed": 0}
    pose_cache.clear_memory()
    later = agreement_report(clips["reference"], clips["hand"], clips["picture"], cache_dir=tmp_path / "cache")
    assert later.to_dict() | {"elapsed": 0} == reports["hand"].to_dict() | {"elapsed": 0}
    assert reads == []  # the reference's side was never read again


def _masked_region_stats(rgb: np.ndarray, lm: np.ndarray, scale: float) -> dict[str, tuple[np.ndarray, float]]:
    """region_stats as it was first written: every mask drawn over the body's whole box."""
    from kmc_ui.engine.appearance import SHARPNESS_WIDEN, TORSO_PX, region_masks

    torso, pts = L.body_scale(lm) / scale, lm[:, :2] / scale
    x0, y0 = np.maximum(0, np.floor(np.nanmin(pts, axis=0) - torso).astype(int))
    x1, y1 = np.ceil(np.nanmax(pts, axis=0) + torso).astype(int)
    crop = np.ascontiguousarray(rgb[y0 : min(rgb.shape[0], y1), x0 : min(rgb.shape[1], x1)])
    local = lm.copy()
    local[:, 0] -= x0 * scale
    local[:, 1] -= y0 * scale
    masks = region_masks(local, crop.shape, scale)
    wide = region_masks(local, crop.shape, scale, widen=SHARPNESS_WIDEN)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)
    f = TORSO_PX / max(torso, 1.0)
    small = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    lap = np.abs(cv2.Laplacian(small, cv2.CV_32F, ksize=3))
    out = {}
    for name in BANDS:
        if name in masks:
            band = cv2.resize(wide[name].astype(np.uint8), small.shape[::-1], interpolation=cv2.INTER_NEAREST)
            c = np.median(lab[masks[name]], axis=0).astype(np.float32)
            colour = np.array([c[0] * 100.0 / 255.0, c[1] - 128.0, c[2] - 128.0], np.float32)
            out[name] = (colour, float(lap[band.astype(bool)].mean()))
    return out


def test_region_statistics_drawn_region_by_region_are_those_drawn_over_the_body() -> None:
    from kmc_ui.engine.appearance import region_stats

    rng = np.random.default_rng(7)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (960, 540, 3), np.uint8), (5, 5), 0)
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 0.9
    for joint, xy in {
        L.L_SHOULDER: (330, 300),
        L.R_SHOULDER: (210, 302),
        L.L_ELBOW: (390, 420),
        L.R_ELBOW: (150, 410),
        L.L_WRIST: (420, 300),
        L.R_WRIST: (120, 530),
        L.L_HIP: (310, 560),
        L.R_HIP: (230, 562),
        L.L_KNEE: (335, 730),
        L.R_KNEE: (205, 735),
        L.L_ANKLE: (340, 905),
        L.R_ANKLE: (190, 950),
    }.items():
        lm[joint, :2] = xy
    lm[0, :2] = (270, 200)
    checked = 0
    for scale in (1.0, 1.5):
        for shift in ((0.0, 0.0), (0.37, -0.61), (-60.2, 10.5)):
            moved = lm.copy()
            moved[:, :2] += shift
            moved[:, :3] *= scale
            got, want = region_stats(rgb, moved, scale), _masked_region_stats(rgb, moved, scale)
            assert got.keys() == want.keys() and len(got) == 8
            for name, (colour, sharpness) in want.items():
                assert (got[name][0] == colour).all() and got[name][1] == sharpness, (name, scale, shift)
                checked += 1
    assert checked == 48
