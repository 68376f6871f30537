"""The report against real result/reference pairs, ranked by eye first.

The reference is three seconds of the shared real dance (6.5-9.5 s: the hand comes down from the
mouth, the arms open and the body sways, the most motion in the clip). The results are real
renders of the shared real photos by the offline engine, plus two that do not follow. They were
looked at side by side, reference | result at 20, 50 and 80 % (docs/pose/real-pairs.jpg), and
ranked by eye before these tests were written:

1. man_rigid: the man follows every move, limbs whole.
2. woman_rigid: follows every move; her arms' edges are soft.
3. woman_broken: woman_rigid with her right forearm streaked sideways and her right hand wiped
   out (the engine's arms as skinned meshes once did this to her arm, dark streaks and a lost
   hand; the engine no longer does, hence the damage is made here): the same motion, worse than
   woman_rigid by eye.
4. anime_rigid: follows, but her left arm stays out where the dancer's comes down, and her right
   leg barely moves.
5. man_other_part (driven by the dance's first seconds) and man_frozen (the first frame held):
   neither follows the reference at all.

What the report must say for the ranking to hold: the scores in that order, the man's above the
others by more than the noise between renders the eye cannot tell apart (NOISE); the woman's and
the anime character's within it of each other, the anime character's left arm far under each of
the woman's limbs (what the eye ranks them by); the two that do not follow near 0 and a
weak-alignment warning on them; woman_broken no more than a few points
from woman_rigid on motion (the motion is the same) but with an appearance finding that
woman_rigid does not get; the anime's left arm named as not following.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from kmc_ui.engine import AgreementReport, agreement_report
from kmc_ui.engine.motion import track_motion
from kmc_ui.engine.pipeline import EngineJob, run_engine
from kmc_ui.pose import landmarks as L
from tests.test_agreement_calibration import SECONDS, read_clip, write

PICTURES = {
    "man": "person_man_fullbody.png",
    "woman": "person_woman_fullbody.png",
    "anime": "character_anime_fullbody.jpg",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> dict[str, AgreementReport]:
    source = shared_media / "dance_fullbody_12s.mp4"
    if not source.is_file() or not all((shared_media / p).is_file() for p in PICTURES.values()):
        pytest.skip("the shared dance and photos are needed")
    d = tmp_path_factory.mktemp("real-pairs")
    frames = read_clip(source, 6.5, SECONDS, 360)
    h, w = frames[0].shape[:2]
    reference = write(d / "reference.mp4", frames, w, h)
    elsewhere = read_clip(source, 0.5, SECONDS, 360)
    other = write(d / "other.mp4", elsewhere, w, h)

    def render(name: str, picture: str, video: Path) -> Path:
        job = EngineJob(shared_media / PICTURES[picture], video, orientation="video")
        run_engine(job, d / f"{name}.mp4", cache_dir=d / "cache")
        return d / f"{name}.mp4"

    results = {
        "man_rigid": render("man_rigid", "man", reference),
        "woman_rigid": render("woman_rigid", "woman", reference),
        "anime_rigid": render("anime_rigid", "anime", reference),
        "man_other_part": render("man_other_part", "man", other),
    }
    results["woman_broken"] = broken_arm(results["woman_rigid"], d / "woman_broken.mp4")
    with av.open(str(results["man_rigid"])) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    results["man_frozen"] = write(d / "man_frozen.mp4", [first] * len(frames), first.shape[1], first.shape[0])
    return {
        name: agreement_report(reference, path, shared_media / PICTURES[name.split("_")[0]], cache_dir=d / "cache")
        for name, path in results.items()
    }


def broken_arm(source: Path, out: Path) -> Path:
    """`source` with its right forearm streaked sideways (a 41 px horizontal smear) and its right
    hand wiped out with the backdrop's colour, where the result's own pose puts them."""
    track = track_motion(source)
    frames: list[np.ndarray] = []
    with av.open(str(source)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            img = frame.to_ndarray(format="rgb24")
            lm = track.landmarks[min(i, track.frames - 1)]
            elbow, wrist = lm[L.R_ELBOW, :2], lm[L.R_WRIST, :2]
            if np.isfinite(elbow).all() and np.isfinite(wrist).all():
                tip = wrist + 0.8 * (wrist - elbow)  # past the fingertips
                r = max(4, round(0.3 * float(np.linalg.norm(wrist - elbow))))
                forearm, hand = np.zeros(img.shape[:2], np.uint8), np.zeros(img.shape[:2], np.uint8)
                cv2.line(forearm, _px(elbow), _px(wrist), 1, 2 * r)
                cv2.line(hand, _px(wrist), _px(tip), 1, 2 * r)
                img[forearm > 0] = cv2.blur(img, (41, 1))[forearm > 0]
                img[hand > 0] = np.median(img[:8, :8].reshape(-1, 3), axis=0)
            frames.append(img)
    return write(out, frames, frames[0].shape[1], frames[0].shape[0])


def _px(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def scores(reports: dict[str, AgreementReport]) -> dict[str, float]:
    assert all(r.ok for r in reports.values()), {n: r.error for n, r in reports.items()}
    return {name: round(r.score or 0.0, 1) for name, r in reports.items()}


# Points two renders that the eye cannot tell apart may score apart: the calibration and the pose
# model are chaotic in a few edge pixels (the anime character's render scored 56.7 and 59.8 with and
# without a 2-pixel speck apart from her left arm, the frames the same by eye; docs/engine.md)
NOISE = 4.0


def test_the_scores_rank_the_results_as_the_eye_does(reports: dict[str, AgreementReport]) -> None:
    s = scores(reports)
    assert s["man_rigid"] > max(s["woman_rigid"], s["woman_broken"]) + NOISE, s
    assert s["man_rigid"] > s["anime_rigid"] + NOISE, s
    # the woman and the anime character both follow; what puts the anime character below by eye is
    # her left arm staying out: her scores lie within the noise of each other, that arm's is far
    # under each of the woman's limbs
    assert max(s["woman_rigid"], s["woman_broken"]) > s["anime_rigid"] - NOISE, s
    woman, anime = reports["woman_rigid"].limbs, reports["anime_rigid"].limbs
    assert anime["left_arm"] is not None and all(v is not None for v in woman.values()), (woman, anime)
    assert anime["left_arm"] + 5 < min(woman.values()), (woman, anime)
    assert s["anime_rigid"] >= 40, s  # it follows, loosely: far from a frozen pose
    assert s["man_other_part"] <= 10 and s["man_frozen"] <= 10, s
    assert s["anime_rigid"] - max(s["man_other_part"], s["man_frozen"]) >= 30, s


def test_results_that_do_not_follow_get_the_weak_alignment_warning(reports: dict[str, AgreementReport]) -> None:
    for name in ("man_other_part", "man_frozen"):
        assert "time alignment is weak" in reports[name].summary(), name
    for name in ("man_rigid", "woman_rigid", "woman_broken", "anime_rigid"):
        assert "time alignment is weak" not in reports[name].summary(), name


def test_broken_arms_are_told_apart_by_appearance_not_motion(reports: dict[str, AgreementReport]) -> None:
    """Same motion, so the motion scores are close; the eye's difference is the broken arm: the
    broken result gets a finding the rigid one does not, and the rigid one none on the forearm and
    hand that were damaged. (The rigid one's right upper arm, pointing out towards the camera for
    the first half second, is drawn as a short wide piece: 0.56-0.60 of its usual sharpness against
    the reference's there, 0.6 making a smear, since its rim no longer carries her hair's dark line;
    docs/engine.md.)"""
    s = scores(reports)
    assert abs(s["woman_broken"] - s["woman_rigid"]) <= 10, s
    rigid = {(f["code"], f["limb"]) for f in reports["woman_rigid"].appearance}
    broken = {(f["code"], f["limb"]) for f in reports["woman_broken"].appearance}
    assert broken - rigid, (broken, rigid)
    assert not {limb for _, limb in rigid} & {"right forearm", "right hand"}, rigid
    assert "Appearance checks found" in reports["woman_broken"].summary()


def test_the_limb_the_eye_sees_lagging_is_named(reports: dict[str, AgreementReport]) -> None:
    anime = reports["anime_rigid"]
    assert anime.limbs["left_arm"] is not None and anime.limbs["left_arm"] < 60, anime.limbs
    assert "The left arm does not follow" in anime.summary()
    man = reports["man_rigid"]
    assert "does not follow" not in man.summary(), man.summary()
