"""A limb the motion video does not show is held in the character's own pose (retarget.hold_unshown_limbs):
a talking head's hands are the pose model's guesses below the frame, and following them raised the
character's hand to its chin.

Real code paths: drawn landmarks for the rule; the real talking head and dance clips in
../shared/media (skipped with a reason when absent), read by mediapipe's bundled pose model, and
the real man's and anime figure's pictures rendered by the engine. A held arm raised by the head
keeps its hand there (retarget.hands_by_head).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from kmc_ui.engine import EngineJob, run_engine
from kmc_ui.engine.deform import Renderer
from kmc_ui.engine.motion import track_motion
from kmc_ui.engine.pipeline import source_motion
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.retarget import LIMBS, hands_by_head, hold_unshown_limbs, raised_arms, retarget
from tests.media_factory import ffmpeg_exe


def _standing(scale: float, x: float, y: float) -> np.ndarray:
    """(33, 4) landmarks of a figure standing with its arms hanging, torso `scale` px, visible."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 0.99
    pts = {
        L.NOSE: (0, -0.45), L.L_SHOULDER: (0.25, 0), L.R_SHOULDER: (-0.25, 0), L.L_ELBOW: (0.3, 0.45),
        L.R_ELBOW: (-0.3, 0.45), L.L_WRIST: (0.32, 0.9), L.R_WRIST: (-0.32, 0.9), L.L_HIP: (0.15, 1.0),
        L.R_HIP: (-0.15, 1.0), L.L_KNEE: (0.16, 1.5), L.R_KNEE: (-0.16, 1.5), L.L_ANKLE: (0.17, 2.0),
        L.R_ANKLE: (-0.17, 2.0),
    }  # fmt: skip
    for j, (dx, dy) in pts.items():
        lm[j, :2] = (x + dx * scale, y + dy * scale)
    ends = ((17, 15), (19, 15), (21, 15), (18, 16), (20, 16), (22, 16), (29, 27), (31, 27), (30, 28), (32, 28))
    for j, parent in ends:  # the hands' and feet's points
        lm[j, :2] = lm[parent, :2] + (0, 0.08 * scale)
    return lm


def test_a_limb_out_of_the_frame_is_held_in_the_characters_pose() -> None:
    """The video's left wrist lies below its 400 px frame (a guess, visibility 0.04) in every frame,
    raised to the chin in some: that arm takes the character's hanging pose at the video's scale,
    from its shoulder on. The right arm, shown, is left as the video has it."""
    character = _standing(100.0, 300.0, 200.0)
    frames = np.repeat(_standing(200.0, 200.0, 150.0)[None], 10, axis=0)
    frames[:, L.R_WRIST, :2] = (120.0, 60.0)  # the right hand raised, in the frame
    frames[:, [L.L_ELBOW, L.L_WRIST, 17, 19, 21], 3] = 0.04
    frames[5:, L.L_WRIST, :2] = (200.0, 70.0)  # the guess: at the chin, read as not visible
    frames[:5, L.L_WRIST, 1] = 450.0  # below the frame
    held = hold_unshown_limbs(frames, character, 400, 400)
    scale = 2.0  # the video's torso over the character's
    for j in (L.L_ELBOW, L.L_WRIST, 17):
        want = held[:, L.L_SHOULDER, :2] + (character[j, :2] - character[L.L_SHOULDER, :2]) * scale
        assert np.allclose(held[:, j, :2], want)
    assert np.array_equal(held[:, [L.R_ELBOW, L.R_WRIST], :], frames[:, [L.R_ELBOW, L.R_WRIST], :])
    # retargeted, the left arm hangs as the character's does: its wrist below its elbow in every frame
    out = retarget(held, character)
    assert (out[:, L.L_WRIST, 1] > out[:, L.L_ELBOW, 1]).all()
    assert (out[:, L.R_WRIST, 1] < out[:, L.R_SHOULDER, 1]).all()  # the right still raised


def test_the_talking_heads_limbs_are_held_and_the_dances_are_not(shared_media: Path) -> None:
    """Read by the pose model, the talking head's wrists and ankles are never shown (all four limbs
    held); the dance's are (none held)."""
    talking = track_motion(shared_media / "talking_head_12s.mp4", max_seconds=30.0)
    dance = track_motion(shared_media / "dance_fullbody_12s.mp4", max_seconds=30.0)
    character = _standing(100.0, 300.0, 200.0)
    for track, held_all in ((talking, True), (dance, False)):
        motion = source_motion(track)
        held = hold_unshown_limbs(motion, character, track.width, track.height)
        for limb in LIMBS:
            moved = not np.allclose(held[:, limb[1:], :2], motion[:, limb[1:], :2])
            assert moved == held_all, (track.path, limb)


def test_the_man_keeps_his_hands_down_with_a_talking_head(shared_media: Path, tmp_path: Path) -> None:
    """Rendered with the talking head, the man's right hand followed the guess up to his chin in
    frames 5-12, magnified, its arm's mesh stretched far past the rest (`stretch` over 0.4 in those
    8 frames, 0.12-0.24 elsewhere). Held in his own pose, no frame stretches so."""
    stretched: list[int] = []

    def frame(i: int, _frame: np.ndarray, stats: object) -> None:
        if getattr(stats, "stretch", 0.0) > 0.4:
            stretched.append(i)

    picture, clip = shared_media / "person_man_fullbody.png", shared_media / "talking_head_12s.mp4"
    result = run_engine(EngineJob(picture, clip, "video", "std", False), tmp_path / "out.mp4", on_frame=frame)
    assert result.frames > 250
    assert stretched == []


def _raised(scale: float, x: float, y: float) -> np.ndarray:
    """_standing's figure with both hands raised beside its head, elbows out and down."""
    lm = _standing(scale, x, y)
    for side, shoulder, elbow, wrist, hand in ((1, L.L_SHOULDER, L.L_ELBOW, L.L_WRIST, (17, 19, 21)),
                                               (-1, L.R_SHOULDER, L.R_ELBOW, L.R_WRIST, (18, 20, 22))):  # fmt: skip
        lm[elbow, :2] = lm[shoulder, :2] + (side * 0.35 * scale, 0.1 * scale)
        lm[wrist, :2] = lm[shoulder, :2] + (side * 0.15 * scale, -0.45 * scale)
        lm[list(hand), :2] = lm[wrist, :2] + (0, -0.1 * scale)
    for j in range(1, 11):  # the face's points: the left eye's (1-3) right of the nose, the right's (4-6) left
        lm[j, :2] = lm[L.NOSE, :2] + ((1 if j <= 3 or j in (7, 9) else -1) * 0.08 * scale, -0.05 * scale)
    return lm


def _bend(lm: np.ndarray, arm: tuple[int, ...]) -> float:
    """The elbow's side of the line from the shoulder to the wrist (the sign of their cross product)."""
    (ax, ay), (bx, by) = lm[arm[2], :2] - lm[arm[0], :2], lm[arm[1], :2] - lm[arm[0], :2]
    return float(ax * by - ay * bx)


def test_a_held_hand_raised_by_the_head_keeps_its_place_against_the_face() -> None:
    """Held against the shoulders, a raised hand went where they went, and a talking head's guessed
    shoulders drift under its face: the anime figure's hand lay over her eye. Kept by the head, the
    hand moves and turns with the nose and the eyes, and the elbow bends between the shoulder and
    the wrist with the picture's bone lengths and bend; out of reach, the hand is drawn back."""
    character = _raised(100.0, 300.0, 300.0)
    assert raised_arms(character, (0, 1)) == (0, 1)
    assert raised_arms(_standing(100.0, 300.0, 300.0), (0, 1)) == ()  # hands hanging: held by the shoulders
    assert raised_arms(character, (1,)) == (1,)  # only the arms held
    frames = np.repeat(character[None], 3, axis=0)
    frames[1, [L.L_SHOULDER, L.R_SHOULDER], 0] += 40.0  # the shoulders drift right under the face
    angle = np.radians(10.0)  # the head rolls 10 degrees about the nose
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    nose = frames[2, L.NOSE, :2].copy()
    frames[2, 1:11, :2] = nose + (frames[2, 1:11, :2] - nose) @ turn.T
    frames[2, L.NOSE, :2] += (5.0, 8.0)  # and moves
    frames[2, 1:11, :2] += (5.0, 8.0)
    out = hands_by_head(frames.copy(), character, (0, 1))
    for t, rotation in ((0, np.eye(2)), (1, np.eye(2)), (2, turn)):
        for arm in LIMBS[:2]:
            shoulder, elbow, wrist, *hand = arm
            for j in (wrist, *hand):
                want = out[t, L.NOSE, :2] + rotation @ (character[j, :2] - character[L.NOSE, :2])
                assert np.allclose(out[t, j, :2], want, atol=1e-3), (t, j)
            for a, b in ((shoulder, elbow), (elbow, wrist)):
                length = np.linalg.norm(character[a, :2] - character[b, :2])
                assert np.linalg.norm(out[t, a, :2] - out[t, b, :2]) == pytest.approx(length, rel=1e-3)
            assert _bend(out[t], arm) * _bend(character, arm) > 0  # the elbow on the picture's side
    assert np.array_equal(out[:, 23:, :], frames[:, 23:, :])  # the legs as they were
    # the eyes read swapped (a head turned away): the hands are not turned over the head
    swapped = frames.copy()
    swapped[:, [1, 2, 3, 4, 5, 6]] = frames[:, [4, 5, 6, 1, 2, 3]]
    turned = hands_by_head(swapped, character, (0, 1))
    assert np.allclose(turned[:, LIMBS[0][2:], :2], out[:, LIMBS[0][2:], :2], atol=1e-3)
    # the left shoulder drifted past where the arm reaches from it: the hand drawn back towards it
    far = frames.copy()
    far[:, L.L_SHOULDER, 0] += 150.0
    out = hands_by_head(far, character, (0,))
    reach = np.linalg.norm(character[L.L_ELBOW, :2] - character[L.L_SHOULDER, :2])
    reach += np.linalg.norm(character[L.L_WRIST, :2] - character[L.L_ELBOW, :2])
    assert (np.linalg.norm(out[:, L.L_WRIST, :2] - out[:, L.L_SHOULDER, :2], axis=1) <= reach).all()
    assert np.array_equal(out[:, LIMBS[1], :], far[:, LIMBS[1], :])  # the right arm not asked for


def test_the_anime_figures_raised_hands_stay_beside_her_face_with_a_talking_head(
    shared_media: Path, tmp_path: Path
) -> None:
    """The anime figure raises both hands beside her head; the talking head shows no arms, so both
    are held. Held against the clip's guessed shoulders, which drift under its face, her right hand
    came to 0.62-0.76 of its distance from her nose in the picture (over her eye) and her left went
    to 1.16-1.44 of it in the first 4 s. Every frame drawn now keeps both at the picture's distance."""
    clip = tmp_path / "talking_4s.mp4"
    source = shared_media / "talking_head_12s.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-t", "4", "-an", str(clip)], check=True)
    drawn: list[tuple[Renderer, np.ndarray]] = []
    lock = threading.Lock()
    render = Renderer.render

    def spy(self: Renderer, targets: np.ndarray, *args: object, **kwargs: object) -> None:
        with lock:
            drawn.append((self, np.array(targets)))
        render(self, targets, *args, **kwargs)

    picture = shared_media / "character_anime_fullbody.jpg"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Renderer, "render", spy)
        result = run_engine(EngineJob(picture, clip, "video", "std", False), tmp_path / "out.mp4")
    frames = [(r, t) for r, t in drawn if (r.width, r.height) == (result.width, result.height)]
    assert len(frames) == result.frames  # the result's own, not the calibration's drawings
    assert result.artefacts()["breaks"]["max"] == 0.0
    rig = frames[0][0].rig.landmarks
    for wrist in (L.L_WRIST, L.R_WRIST):
        want = np.linalg.norm(rig[wrist, :2] - rig[L.NOSE, :2])
        got = np.array([np.linalg.norm(t[wrist, :2] - t[L.NOSE, :2]) / r.k for r, t in frames]) / want
        assert got.min() >= 0.97 and got.max() <= 1.03, (wrist, got.min(), got.max())
