"""Body checks on real photos: hands the character image hides, and its framing class.

Everything runs through the real mediapipe models shipped in the wheel (pose landmarker, hand
detector); nothing is mocked. Media: ../shared/media (skipped with a reason when absent).

- Hidden hands: the real photo of a man standing with his hands at his sides, and the same photo
  with his hands painted into his shorts' pockets here (the skin below each wrist replaced by a
  bulge of the shorts' navy). The pose model still places both wrists there with visibility
  0.9+, so only the hand detector's verdict plus where the wrists rest tells the two apart.
  Controls: the untouched man and woman (hands visible), an armoured figure whose fists the hand
  detector misses (its wrists hang clear of the body: not called hidden), and a reference that
  never shows the hands (the talking head).
- Framing: real full-body photos cropped with PIL to knees up, waist up, and head and shoulders,
  each cut placed between the landmarks the full photo shows.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from kmc_ui.checks.pose import TUCK_REACH, hand_states, image_facts, pose_findings, video_facts
from kmc_ui.findings import Finding
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.detect import analyse_image, analyse_video
from kmc_ui.pose.hands import FOUND, MISSING
from tests.test_runtime_text import assert_findings_chinese

MAN, WOMAN = "person_man_fullbody.png", "person_woman_fullbody.png"
ARMOUR, ANIME = "character_armor_fullbody.png", "character_anime_fullbody.jpg"
DANCE, TALK = "dance_fullbody_12s.mp4", "talking_head_12s.mp4"
# The man's hands in his 622x913 photo (measured by eye): a box around each, and the row below
# which the skin in it is the hand (above it: the forearm, left as it is).
RIGHT_HAND_BOX, LEFT_HAND_BOX, WRIST_ROW = (185, 420, 250, 560), (370, 420, 430, 560), 482
SHORTS_SAMPLE = (240, 520, 270, 560)  # plain navy of the shorts' right leg


def codes(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.level, f.input, f.code) for f in findings]


def paint_into_pocket(rgb: np.ndarray, box: tuple[int, int, int, int], wrist_row: int) -> np.ndarray:
    """The hand in `box` (its skin below `wrist_row`) replaced by a bulge of the shorts' colour."""
    x0, y0, x1, y1 = box
    r, g, b = (rgb[y0:y1, x0:x1, i].astype(int) for i in range(3))
    skin = (r > g + 12) & (r > 90) & (r > b + 15)
    skin[: wrist_row - y0] = False
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = skin * 255
    hull = cv2.convexHull(cv2.findNonZero(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))))
    mask[:] = 0
    cv2.fillConvexPoly(mask, hull, 255)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    sx0, sy0, sx1, sy1 = SHORTS_SAMPLE
    navy = np.median(rgb[sy0:sy1, sx0:sx1].reshape(-1, 3), axis=0)
    cloth = np.clip(navy + np.random.default_rng(0).normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    out = rgb.copy()
    out[mask > 0] = cv2.GaussianBlur(cloth, (5, 5), 0)[mask > 0]
    return out


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hands-cache")


@pytest.fixture(scope="module")
def media(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hands-media")
    man = np.asarray(Image.open(shared_media / MAN).convert("RGB"))
    assert man.shape == (913, 622, 3)  # the boxes above are this photo's
    both = paint_into_pocket(paint_into_pocket(man, RIGHT_HAND_BOX, WRIST_ROW), LEFT_HAND_BOX, WRIST_ROW)
    out = {name: shared_media / name for name in (MAN, WOMAN, ARMOUR, ANIME, DANCE, TALK)}
    out["pockets"] = root / "man_hands_in_pockets.png"
    Image.fromarray(both).save(out["pockets"])
    out["left_pocket"] = root / "man_left_hand_in_pocket.png"  # the body's left: the picture's right
    Image.fromarray(paint_into_pocket(man, LEFT_HAND_BOX, WRIST_ROW)).save(out["left_pocket"])
    return out


# ---------------------------------------------------------------- hidden hands


def test_hands_in_pockets_are_warned_against_a_dance_with_raised_arms(media: dict[str, Path], cache_dir: Path) -> None:
    image = analyse_image(media["pockets"], cache_dir=cache_dir)
    facts = image_facts(image)
    assert facts.seen[[L.L_WRIST, L.R_WRIST]].all()  # the pose model alone "sees" both wrists ...
    assert image.hands == (MISSING, MISSING)  # ... the hand detector finds no hand at either
    assert facts.hands == ("tucked", "tucked")
    findings = pose_findings(media["pockets"], media[DANCE], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "image", "pose_image_hidden_limbs")]
    message, fix = findings[0].message, findings[0].fix
    assert message.startswith("The character image does not show both hands (no hand was found at the end of")
    assert "as in pockets, behind the back or under crossed arms" in message
    assert "raising them above the shoulder in" in message and "the model will have to invent the hands" in message
    assert fix.startswith("Use a photo with both hands visible and held away from the body")


def test_one_hand_in_a_pocket_is_named(media: dict[str, Path], cache_dir: Path) -> None:
    image = analyse_image(media["left_pocket"], cache_dir=cache_dir)
    assert image.hands == (MISSING, FOUND)
    assert image_facts(image).hands == ("tucked", "shown")
    findings = pose_findings(media["left_pocket"], media[DANCE], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "image", "pose_image_hidden_limbs")]
    assert findings[0].message.startswith("The character image does not show the left hand (no hand was found")
    assert "invent the hand," in findings[0].message


@pytest.mark.parametrize("name", [MAN, WOMAN, ANIME])
def test_visible_hands_are_not_warned(media: dict[str, Path], cache_dir: Path, name: str) -> None:
    image = analyse_image(media[name], cache_dir=cache_dir)
    assert image.hands == (FOUND, FOUND)
    assert image_facts(image).hands == ("shown", "shown")
    found = pose_findings(media[name], media[DANCE], cache_dir=cache_dir)
    assert "pose_image_hidden_limbs" not in [f.code for f in found]
    assert pose_findings(media[name], None, cache_dir=cache_dir) == []


def test_fists_the_detector_misses_are_not_called_hidden_when_they_hang_clear(
    media: dict[str, Path], cache_dir: Path
) -> None:
    image = analyse_image(media[ARMOUR], cache_dir=cache_dir)
    assert image.hands == (MISSING, MISSING)  # gauntlets: no palm the detector knows
    pose = image.pose
    assert pose is not None
    reaches = [L.wrist_on_torso(pose.landmarks, w)[1] for w in L.WRISTS]
    assert min(reaches) > TUCK_REACH  # the fists hang clear of the body
    assert image_facts(image).hands == ("shown", "shown")
    found = pose_findings(media[ARMOUR], media[DANCE], cache_dir=cache_dir)
    assert "pose_image_hidden_limbs" not in [f.code for f in found]


def test_without_a_video_the_hidden_hands_are_a_hint(media: dict[str, Path], cache_dir: Path) -> None:
    findings = pose_findings(media["pockets"], None, cache_dir=cache_dir)
    assert codes(findings) == [("hint", "image", "pose_image_hidden_limbs")]
    assert findings[0].message.endswith(
        "If the motion video shows hands or raises the arms, the model will have to invent them."
    )


def test_no_warning_when_the_reference_never_shows_the_hands(media: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(media[TALK], cache_dir=cache_dir)
    assert video_facts(video).framing == "close_up"
    findings = pose_findings(media["pockets"], media[TALK], cache_dir=cache_dir)
    assert "pose_image_hidden_limbs" not in [f.code for f in findings]
    mismatch = [f for f in findings if f.code == "pose_framing_mismatch"]
    assert mismatch and "the character image is full body, the motion video close-up" in mismatch[0].message


def test_tucked_needs_the_wrist_against_the_body() -> None:
    """The geometric half of the verdict (pure: a body the size of the man's, wrists moved sideways)."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 1.0
    lm[[L.L_SHOULDER, L.R_SHOULDER, L.L_HIP, L.R_HIP], :2] = [[350, 210], [270, 210], [350, 470], [270, 470]]
    lm[[L.L_ELBOW, L.R_ELBOW], :2] = [[410, 340], [210, 340]]
    torso = L.torso_length(lm)
    seen = np.ones(33, bool)
    for reach, state in ((TUCK_REACH - 0.01, "tucked"), (TUCK_REACH + 0.01, "shown")):
        lm[L.L_WRIST, :2] = [350 + reach * torso, 440]  # depth ~0.88, beside the hip
        lm[L.R_WRIST, :2] = [270 - reach * torso, 440]
        assert L.wrist_on_torso(lm, L.L_WRIST)[1] == pytest.approx(reach, abs=0.005)
        assert hand_states(lm, seen, (MISSING, FOUND)) == (state, "shown")
    lm[L.L_WRIST, :2] = [300, 100]  # raised above the head: never tucked
    assert hand_states(lm, seen, (MISSING, MISSING))[0] == "shown"
    seen[L.L_WRIST] = False  # the pose itself does not see it: hidden or outside the picture
    assert hand_states(lm, seen, (FOUND, FOUND))[0] == "out"



@pytest.mark.parametrize(
    ("case", "left", "right"),
    [
        # arms crossed over the chest: each wrist on the other side of the torso, at mid-chest
        ("crossed arms", (290, 320), (330, 330)),
        # hands behind the back: the wrists at the small of the back, just inside the hips' outline
        ("behind the back", (340, 450), (280, 450)),
    ],
)
def test_crossed_arms_and_hands_behind_the_back_are_tucked(
    case: str, left: tuple[int, int], right: tuple[int, int]
) -> None:
    """With no hand found, a wrist resting on the torso is "tucked" wherever on it it rests; the
    same wrists with the hands found are "shown", and wrists the pose does not see are "out"
    (both warn against a reference that shows the hands)."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 1.0
    lm[[L.L_SHOULDER, L.R_SHOULDER, L.L_HIP, L.R_HIP], :2] = [[350, 210], [270, 210], [350, 470], [270, 470]]
    lm[[L.L_ELBOW, L.R_ELBOW], :2] = [[380, 340], [240, 340]]
    lm[L.L_WRIST, :2], lm[L.R_WRIST, :2] = left, right
    seen = np.ones(33, bool)
    for wrist in (L.L_WRIST, L.R_WRIST):
        assert L.wrist_on_torso(lm, wrist)[1] <= 0, case  # inside the torso's outline
    assert hand_states(lm, seen, (MISSING, MISSING)) == ("tucked", "tucked"), case
    assert hand_states(lm, seen, (FOUND, FOUND)) == ("shown", "shown"), case
    seen[[L.L_WRIST, L.R_WRIST]] = False
    assert hand_states(lm, seen, (MISSING, MISSING)) == ("out", "out"), case


# ---------------------------------------------------------------- framing


def crops(photo: Path) -> dict[str, Image.Image]:
    """The photo cut at rows between the landmarks its full view shows, by framing class."""
    im = Image.open(photo).convert("RGB")
    pose = analyse_image(np.asarray(im)).pose
    assert pose is not None

    def row(a: tuple[int, ...], b: tuple[int, ...], t: float) -> int:
        ya, yb = float(pose.landmarks[list(a), 1].mean()), float(pose.landmarks[list(b), 1].mean())
        return round(ya + t * (yb - ya))

    w = im.width
    return {
        "full_body": im,
        "three_quarter": im.crop((0, 0, w, row(L.KNEES, L.ANKLES, 0.5))),  # knees up
        "upper_body": im.crop((0, 0, w, row(L.HIPS, L.KNEES, 0.5))),  # waist up (mid-thigh)
        "close_up": im.crop((0, 0, w, row(L.SHOULDERS, L.ELBOWS, 0.4))),  # head and shoulders
    }


@pytest.mark.parametrize("name", [MAN, WOMAN])
def test_framing_classes_of_real_crops(media: dict[str, Path], cache_dir: Path, tmp_path: Path, name: str) -> None:
    dance_framing = video_facts(analyse_video(media[DANCE], cache_dir=cache_dir)).framing
    assert dance_framing == "full_body"
    for framing, im in crops(media[name]).items():
        path = tmp_path / f"{framing}.png"
        im.save(path)
        assert image_facts(analyse_image(path, cache_dir=cache_dir)).framing == framing, (name, framing, im.size)
        mismatch = [
            f for f in pose_findings(path, media[DANCE], cache_dir=cache_dir) if f.code == "pose_framing_mismatch"
        ]
        if framing == "full_body":
            assert mismatch == []
            continue
        [f] = mismatch
        assert f"the character image is {L.FRAMING_LABELS[framing]}, the motion video full body" in f.message
        assert f.fix.startswith("Use a full-body picture of the character, or a motion video framed like")
        assert "Use a upper" not in f.fix
    knees_up = tmp_path / "three_quarter.png"
    [f] = [f for f in pose_findings(knees_up, media[DANCE], cache_dir=cache_dir) if f.code == "pose_framing_mismatch"]
    assert "three-quarter (knees up)" in f.message and "the motion shows the lower legs and feet" in f.message


def test_every_new_text_has_chinese(media: dict[str, Path], cache_dir: Path, tmp_path: Path) -> None:
    found: list[Finding] = []
    for image, video in (("pockets", DANCE), ("left_pocket", DANCE), ("pockets", None), ("pockets", TALK)):
        found += pose_findings(media[image], media[video] if video else None, cache_dir=cache_dir)
    for framing, im in crops(media[MAN]).items():
        path = tmp_path / f"{framing}.png"
        im.save(path)
        found += pose_findings(path, media[DANCE], cache_dir=cache_dir)
    found += pose_findings(media[MAN], media[TALK], cache_dir=cache_dir)  # a narrower motion
    assert {f.code for f in found} >= {"pose_image_hidden_limbs", "pose_framing_mismatch"}
    assert assert_findings_chinese(found) >= 10
