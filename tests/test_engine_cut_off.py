"""An arm the character picture cuts off at its edge is held as the picture has it
(retarget.arms_off_the_picture, hold_limbs; pipeline.run_engine): a waist-up photo's forearms end at
its bottom edge, and following the dance they showed that cut end, a stump, with a smear of her hair
at the elbow.

Real code paths: drawn landmarks for the rule; the woman's photo in ../shared/media cut at 45 % of
its height with PIL (waist up: her forearms end at the edge, her hands are out of the picture),
rendered with the real dance's first 2 s by the engine, through mediapipe's bundled models and
ffmpeg. The control run turns the rule off (no arm cut off) to show what the hold keeps from the
frames.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmc_ui.engine import deform, pipeline
from kmc_ui.engine.deform import GRID, Renderer, bone_transforms
from kmc_ui.engine.pieces import RUN_SLOPE, draw_pieces, run_on, run_slope
from kmc_ui.engine.pipeline import EngineJob, _rig, cut_out, load_picture, picture_hands, run_engine
from kmc_ui.engine.rig import named_points
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.retarget import arms_off_the_picture, hold_limbs, hold_unshown_limbs
from tests.test_engine_unshown import _standing


def test_an_arm_whose_elbow_wrist_or_hand_lies_outside_the_picture_is_cut_off() -> None:
    """A figure standing with its arms hanging (wrists at y 290, hand points at 298): whole in a
    600 x 500 picture; a picture 280 px high cuts both arms off; moved left so its right hand lies
    past the left edge, only the right arm; the legs are never asked about."""
    figure = _standing(100.0, 300.0, 200.0)
    assert arms_off_the_picture(figure, 600, 500) == ()
    assert arms_off_the_picture(figure, 600, 280) == (0, 1)
    assert arms_off_the_picture(figure, 600, 380) == ()  # the ankles (y 400) below it: not an arm
    assert arms_off_the_picture(_standing(100.0, 30.0, 200.0), 600, 500) == (1,)


def test_a_held_arm_keeps_the_characters_pose_whatever_the_video_shows() -> None:
    """Both of the video's arms raised and shown: held (0,), the left takes the character's hanging
    pose at the video's scale from its shoulder on, and the right keeps the video's. Held with
    `turn`, the pose turns as the video's shoulders do."""
    character = _standing(100.0, 300.0, 200.0)
    frames = np.repeat(_standing(200.0, 200.0, 150.0)[None], 6, axis=0)
    frames[:, L.L_WRIST, :2] = (300.0, 40.0)
    frames[:, L.R_WRIST, :2] = (100.0, 40.0)
    held = hold_unshown_limbs(frames, character, 400, 400, held=(0,))
    for j in (L.L_ELBOW, L.L_WRIST, 19):
        want = frames[:, L.L_SHOULDER, :2] + (character[j, :2] - character[L.L_SHOULDER, :2]) * 2.0
        assert np.allclose(held[:, j, :2], want)
    assert np.array_equal(held[:, L.R_WRIST], frames[:, L.R_WRIST])
    assert np.array_equal(hold_unshown_limbs(frames, character, 400, 400), frames)  # shown: none held
    # turning: the video's shoulders tilted by 30 degrees turn the held arm by as much
    tilted = frames.copy()
    c, s = np.cos(np.radians(30.0)), np.sin(np.radians(30.0))
    middle = frames[:, [L.L_SHOULDER, L.R_SHOULDER], :2].mean(axis=1)
    for j in (L.L_SHOULDER, L.R_SHOULDER):
        tilted[:, j, :2] = middle + (frames[:, j, :2] - middle) @ np.array([[c, s], [-s, c]])
    turned = hold_limbs(tilted, character, (0,), turn=True)
    want = (character[L.L_WRIST, :2] - character[L.L_SHOULDER, :2]) * 2.0 @ np.array([[c, s], [-s, c]])
    assert np.allclose(turned[:, L.L_WRIST, :2] - tilted[:, L.L_SHOULDER, :2], want, atol=1e-3)
    still = hold_limbs(tilted, character, (0,))  # without: as the picture has it, whatever the shoulders do
    plain = (character[L.L_WRIST, :2] - character[L.L_SHOULDER, :2]) * 2.0
    assert np.allclose(still[:, L.L_WRIST, :2] - tilted[:, L.L_SHOULDER, :2], plain, atol=1e-3)


@pytest.fixture(scope="module")
def waist_up(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> tuple[Path, Path]:
    """(the woman's photo cut at 45 % of its height, the real dance's first 2 s)."""
    folder = tmp_path_factory.mktemp("cut_off")
    photo = Image.open(shared_media / "person_woman_fullbody.png").convert("RGB")
    picture = folder / "woman_waist_up.png"
    photo.crop((0, 0, photo.width, int(0.45 * photo.height))).save(picture)
    clip = folder / "dance_2s.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / "dance_fullbody_12s.mp4"), "-t", "2"]
    cmd += ["-vf", "scale=-2:640", "-c:v", "libx264", "-preset", "veryfast", "-an", str(clip)]
    subprocess.run(cmd, check=True)
    return picture, clip


def _arm_spread(targets: np.ndarray) -> float:
    """How far (output px, the largest over both arms' elbows and wrists) a joint strays over the
    frames from its mean place against its shoulder, in the frame of the shoulders' line (an arm
    held as the picture has it turns as the shoulders do)."""
    across = targets[:, L.L_SHOULDER, :2] - targets[:, L.R_SHOULDER, :2]
    angle = np.arctan2(across[:, 1], across[:, 0])
    back = np.stack([np.stack([np.cos(angle), np.sin(angle)], -1), np.stack([-np.sin(angle), np.cos(angle)], -1)], -2)
    spread = 0.0
    for shoulder, elbow, wrist in ((L.L_SHOULDER, L.L_ELBOW, L.L_WRIST), (L.R_SHOULDER, L.R_ELBOW, L.R_WRIST)):
        for j in (elbow, wrist):
            off = np.einsum("tij,tj->ti", back, targets[:, j, :2] - targets[:, shoulder, :2])
            spread = max(spread, float(np.linalg.norm(off - off.mean(axis=0), axis=1).max()))
    return spread


def test_a_waist_up_photo_keeps_its_arms_as_the_picture_has_them(
    waist_up: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her wrists lie below the cut picture: both arms are held as the calibrated bind pose has them
    (as the picture is drawn), turning only with her shoulders: against the shoulders' line each
    joint stays within a pixel of one place in every frame, and in the first frame each wrist lies
    where the bind pose has it, turned as the shoulders are. The result says so. With the rule
    turned off, the arms follow the dance's (raised in its first seconds): their joints stray by
    over 100 px."""
    picture, clip = waist_up
    result = run_engine(EngineJob(picture, clip), tmp_path / "held.mp4")
    assert any("cuts both arms off at its edge" in str(note) for note in result.notes), result.notes
    assert result.bind_pose is not None
    assert _arm_spread(result.targets) < 1.0, _arm_spread(result.targets)
    def angle(v: np.ndarray) -> float:
        return float(np.degrees(np.arctan2(v[1], v[0])))

    bind, drawn = result.bind_pose[:, :2], result.targets[0, :, :2]
    shoulders = angle(drawn[L.L_SHOULDER] - drawn[L.R_SHOULDER]) - angle(bind[L.L_SHOULDER] - bind[L.R_SHOULDER])
    for shoulder, wrist in ((L.L_SHOULDER, L.L_WRIST), (L.R_SHOULDER, L.R_WRIST)):
        turn = angle(drawn[wrist] - drawn[shoulder]) - angle(bind[wrist] - bind[shoulder])
        assert abs((turn - shoulders + 180) % 360 - 180) < 1.0, (turn, shoulders)

    monkeypatch.setattr(pipeline, "arms_off_the_picture", lambda *_: ())
    followed = run_engine(EngineJob(picture, clip), tmp_path / "followed.mp4")
    assert _arm_spread(followed.targets) > 100.0, _arm_spread(followed.targets)
    assert not any("arms off" in str(note) for note in followed.notes)


def test_a_slanting_forearm_cut_off_at_the_bottom_goes_on_in_its_own_direction() -> None:
    """pieces.run_on on a drawn forearm, 12 px wide, slanting 0.5 px sideways a row into the
    texture's bottom edge: the rows added under it carry on its line (each row's middle within a
    quarter pixel of it) at its width and colour; run_slope reads the slant, clamps a near-level
    one to RUN_SLOPE and gives 0 for too few rows."""
    h, w = 60, 80
    tex = np.zeros((h, w, 4), np.uint8)
    for y in range(h):
        x = 20 + y // 2
        tex[y, x - 6 : x + 6] = (40, 90, 200, 255)
    slope = run_slope(tex[..., 3])
    assert abs(slope - 0.5) < 0.05, slope
    pad = 12
    out = run_on(tex, 20, slope, pad)
    assert out.shape == (h + 20, w + 2 * pad, 4)
    assert np.array_equal(out[:h, pad:-pad], tex)  # the picture's own rows are kept as they are
    xs = np.arange(out.shape[1], dtype=np.float64)
    last = float((out[h - 1, :, 3] @ xs) / out[h - 1, :, 3].sum())
    for k in range(1, 21):
        alpha = out[h - 1 + k, :, 3].astype(np.float64)
        assert abs(alpha.sum() / 255.0 - 12.0) < 0.6
        assert abs((alpha @ xs) / alpha.sum() - (last + 0.5 * k)) < 0.25
        assert np.array_equal(out[h - 1 + k, alpha.argmax(), :3], (40, 90, 200))
    corner = np.zeros((h, w), np.uint8)
    corner[h - 3 :, 30:40] = 255  # a corner just touching the edge: 3 rows of the last 24, too few
    assert run_slope(corner) == 0.0
    corner[h - 4, 31:41] = 255  # a fourth row, a pixel further right: read, slanting back
    assert run_slope(corner) < 0.0
    steep = np.zeros((h, 400), np.uint8)
    for y in range(h):
        steep[y, 4 * y : 4 * y + 8] = 255
    assert run_slope(steep) == RUN_SLOPE


def _turned(lm: np.ndarray, degrees: float, about: int, joints: list[int]) -> None:
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    lm[joints, :2] = (lm[joints, :2] - lm[about, :2]) @ rot.T + lm[about, :2]


def test_a_held_forearm_the_pictures_bottom_edge_cuts_off_goes_on_when_it_rises(
    waist_up: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her forearms run into the cut picture's bottom edge, their wrists below it. Turned 20
    degrees either way about its shoulder (as a held arm turns when she leans), an arm's outer
    corner of that edge rises into the frame: each arm still covers the frame's bottom row, about
    as wide as at rest (it goes on past the edge, deform.RUN_ON), and the frame's measure of cut
    ends shown (FrameStats.cut_ends) is 0. Without the run-on (RUN_ON 0) an arm turned outward
    leaves that row: its cut end showed above the frame's bottom, and the measure counts it (half
    the cut-off arms or more, both turned; none at rest)."""
    picture, _ = waist_up
    cut = cut_out(load_picture(picture))
    assert cut is not None
    rig = _rig(replace(cut, hands=picture_hands(cut)), 0.6)[0]
    assert rig.cut_bottom
    plate = np.zeros((rig.height, rig.width, 3), np.uint8)
    arms = (("left_arm", L.L_SHOULDER, [13, 15, 17, 19, 21]), ("right_arm", L.R_SHOULDER, [14, 16, 18, 20, 22]))

    def bottom_row(renderer: Renderer, name: str, about: int, joints: list[int], degrees: float) -> int:
        pose = rig.landmarks.astype(np.float64).copy()
        _turned(pose, degrees, about, joints)
        transforms = bone_transforms(renderer.rest, named_points(pose), renderer.k)
        got = draw_pieces(renderer.pieces[name], transforms, (renderer.width, renderer.height), GRID)
        assert got is not None
        canvas, (_, y0) = got
        row = rig.height - 1 - y0
        return int((canvas[row, :, 3] > 128).sum()) if row < canvas.shape[0] else 0

    def cut_ends_shown(renderer: Renderer, degrees: float) -> float:
        pose = rig.landmarks.astype(np.float64).copy()
        for _, about, joints in arms:
            _turned(pose, degrees if about == L.L_SHOULDER else -degrees, about, joints)
        return renderer.render(pose)[1].cut_ends

    renderer = Renderer(rig, plate, 1.0, GRID)
    assert set(renderer.cut_ends) == {"left_arm", "right_arm"}
    for name, about, joints in arms:
        rest = bottom_row(renderer, name, about, joints, 0.0)
        assert rest >= 10, (name, rest)
        for degrees in (-20.0, 20.0):
            assert bottom_row(renderer, name, about, joints, degrees) >= 0.7 * rest, (name, degrees)
    assert [cut_ends_shown(renderer, d) for d in (0.0, -20.0, 20.0)] == [0.0, 0.0, 0.0]
    monkeypatch.setattr(deform, "RUN_ON", 0.0)
    cut_end = Renderer(rig, plate, 1.0, GRID)
    rows = [bottom_row(cut_end, name, about, joints, d) for name, about, joints in arms for d in (-20.0, 20.0)]
    assert min(rows) == 0, rows
    # the measure (FrameStats.cut_ends) sees it: at rest no cut end shows, turned either way one does
    shown = [cut_ends_shown(cut_end, d) for d in (0.0, -20.0, 20.0)]
    assert shown[0] == 0.0 and shown[1] >= 0.5 and shown[2] >= 0.5, shown


def test_a_pinned_bottom_edges_pull_is_spread_up_a_band() -> None:
    """deform.pin_band on a drawn mesh (vertices every 10 px, its bottom row at y 199 pinned, a
    band of 35 px): the pinned row takes all of its pull, the rows above less and less, none at
    the band's top or above, and a vertex 35 px or more across from every pinned one none."""
    ys, xs = np.mgrid[0:200:10, 0:100:10]
    rest = np.stack([xs.ravel(), ys.ravel() + 9], axis=1).astype(np.float64)  # rows 9 .. 199
    rest = np.vstack([rest, [[150.0, 199.0]]])  # far across: on the edge's row, not pinned
    pinned = np.flatnonzero((rest[:, 1] >= 198.5) & (rest[:, 0] < 100))
    band, nearest, weight = deform.pin_band(rest, pinned, 35.0)
    by_vertex = dict(zip(band.tolist(), weight.tolist(), strict=True))
    assert all(by_vertex[i] == 1.0 for i in pinned)
    rows = {y: [by_vertex.get(i, 0.0) for i in np.flatnonzero(rest[:, 1] == y)] for y in (199, 189, 179, 169, 159)}
    assert rows[199][0] == 1.0 and 0.5 < rows[189][0] < 1.0 and 0.0 < rows[169][0] < rows[179][0] < rows[189][0]
    assert rows[159] == [0.0] * 10
    assert len(rest) - 1 not in by_vertex
    assert np.array_equal(rest[pinned[nearest], 0], rest[band, 0])  # each takes the pull straight below it


def test_a_waist_up_body_rising_stretches_a_band_not_its_last_row(
    waist_up: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The woman cut at the waist: her body's bottom edge is pinned below the frame's bottom. Her
    pose moved 20 px up, the body's mesh stretches over a band above that edge (no triangle
    stretched upright more than 2.5 times); with the pull on the pinned row alone (PIN_BAND 0)
    its last row of triangles stretched 5 times or more (a striped shirt's stripes bent into
    chevrons there)."""
    picture, _ = waist_up
    cut = cut_out(load_picture(picture))
    assert cut is not None
    rig = _rig(replace(cut, hands=picture_hands(cut)), 0.6)[0]
    body = rig.layer("body")
    assert rig.cut_bottom and body is not None
    plate = np.zeros((rig.height, rig.width, 3), np.uint8)

    def most_stretched() -> float:
        renderer = Renderer(rig, plate, 1.0, GRID)
        pose = rig.landmarks.astype(np.float64).copy()
        pose[:, 1] -= 20.0
        verts = renderer.deform(body, bone_transforms(renderer.rest, named_points(pose), renderer.k), pose)
        assert (verts[renderer.pinned["body"], 1] >= rig.height).all()  # the edge itself out of sight
        rest_h = np.ptp(body.rest[body.triangles][:, :, 1], axis=1)
        drawn_h = np.ptp(verts[body.triangles][:, :, 1], axis=1)
        return float((drawn_h[rest_h > 2.0] / rest_h[rest_h > 2.0]).max())

    spread = most_stretched()
    assert spread < 2.5, spread
    monkeypatch.setattr(deform, "PIN_BAND", 0.0)
    assert most_stretched() > 5.0
