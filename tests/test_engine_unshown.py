"""A limb the motion video does not show is held in the character's own pose (retarget.hold_unshown_limbs):
a talking head's hands are the pose model's guesses below the frame, and following them raised the
character's hand to its chin.

Real code paths: drawn landmarks for the rule; the real talking head and dance clips in
../shared/media (skipped with a reason when absent), read by mediapipe's bundled pose model, and
the real man's photo rendered by the engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmc_ui.engine import EngineJob, run_engine
from kmc_ui.engine.motion import track_motion
from kmc_ui.engine.pipeline import source_motion
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.retarget import LIMBS, hold_unshown_limbs, retarget


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
