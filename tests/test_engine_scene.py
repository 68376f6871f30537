"""The background behind the character on a scene (inpaint.scene_fill): filled by PatchMatch with
its patches drawn from about the same height, not smeared row by row, and measured as such
(inpaint.smeared, the `exposed` figure); a lone standing structure beside the hole (a tower) not
continued into it (inpaint.lone_uprights).

Real code paths: the PyPatchMatch library on a drawn scene of textured bands (PIL-free numpy
drawing) and on the real half-figure and night-street photos in ../shared/media (skipped with a
reason when absent), cut out by mediapipe's bundled models; the engine run end to end on the
half-figure with the real dance.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine import EngineJob, inpaint, run_engine
from kmc_ui.engine.inpaint import (
    background_plate,
    lone_uprights,
    plate_hole,
    scene_fill,
    smear_prone,
    smeared,
    with_fill,
)
from kmc_ui.engine.pipeline import Placement, continued_scene, load_picture, plate_for
from kmc_ui.engine.segment import cut_out

H, W = 480, 360
BANDS = {"sky": (0, 200), "wall": (200, 300), "hedge": (300, 420), "path": (420, 480)}


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """(BGR picture, the figure's mask): a red figure standing in front of a sky, a brick wall, a
    hedge and a gravel path, each band with a texture of its own."""
    rng = np.random.default_rng(3)
    img = np.zeros((H, W, 3), np.float32)
    y0, y1 = BANDS["sky"]
    img[y0:y1] = np.linspace((235, 190, 120), (250, 220, 180), y1 - y0)[:, None, :]  # BGR, a blue sky
    y0, y1 = BANDS["wall"]
    wall = np.full((y1 - y0, W, 3), (150, 160, 170), np.float32)
    wall[::20] = (80, 80, 90)  # mortar between the courses
    for row in range(0, y1 - y0, 20):
        shift = 20 if (row // 20) % 2 else 0
        wall[row : row + 20, shift::40] = (80, 80, 90)
    img[y0:y1] = wall
    y0, y1 = BANDS["hedge"]
    leaves = cv2.GaussianBlur(rng.normal(0, 40, (y1 - y0, W)).astype(np.float32), (0, 0), 1.2)
    img[y0:y1] = np.dstack([40 + leaves * 0.3, 130 + leaves, 50 + leaves * 0.4])
    y0, y1 = BANDS["path"]
    img[y0:y1] = np.float32([150, 190, 215]) + rng.normal(0, 18, (y1 - y0, W, 1)).astype(np.float32)
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, (180, 90), (28, 34), 0, 0, 360, 1, -1)  # head
    cv2.rectangle(mask, (140, 120), (220, 300), 1, -1)  # body
    cv2.rectangle(mask, (145, 300), (175, 470), 1, -1)  # legs
    cv2.rectangle(mask, (185, 300), (215, 470), 1, -1)
    img[mask > 0] = (40, 40, 220)
    return np.clip(img, 0, 255).astype(np.uint8), mask > 0


def scene_plate(bgr: np.ndarray, mask: np.ndarray, prob: np.ndarray | None = None) -> np.ndarray | None:
    """The picture with PatchMatch's fill in the character's place, as the engine draws it."""
    fill = scene_fill(bgr, mask, prob)
    return None if fill is None else with_fill(bgr, plate_hole(mask, prob), fill)


def test_a_scene_is_filled_band_by_band_without_a_smear() -> None:
    bgr, mask = _scene()
    hole = plate_hole(mask)
    scene = scene_plate(bgr, mask)
    assert scene is not None  # the wall, the hedge and the path have texture: PatchMatch fills it
    rows = background_plate(bgr, mask)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)  # not the blended rim
    for name, (y0, y1) in BANDS.items():
        band = np.zeros_like(hole)
        band[y0 + 6 : y1 - 6] = True  # the band's own rows, not where two meet
        own = bgr[band & ~hole].reshape(-1, 3).astype(np.float32).mean(axis=0)
        got = scene[band & inner].reshape(-1, 3).astype(np.float32)
        assert np.abs(got.mean(axis=0) - own).max() < 25, (name, got.mean(axis=0), own)
        # nothing of the red figure is left in its place
        assert ((got[:, 2] - got[:, :2].max(axis=1)) > 60).mean() < 0.01, name
    prone = smear_prone(bgr, hole)
    assert prone.sum() > 0.3 * hole.sum()
    # the row fill loses the texture where the figure stood; PatchMatch keeps it
    assert smeared(bgr, hole, rows).sum() > 0.8 * prone.sum()
    assert smeared(bgr, hole, scene).sum() < 0.1 * prone.sum()


def test_a_plain_backdrop_keeps_the_row_fill() -> None:
    """On a smoothly shaded wall the row fill cannot be told from the wall, and PatchMatch copies
    whatever lies beside the figure (a cast shadow became a dark silhouette): no scene plate."""
    _, mask = _scene()
    shade = np.linspace(90, 230, H, dtype=np.float32)[:, None, None] * np.ones((1, W, 3), np.float32)
    plain = shade.astype(np.uint8)
    plain[mask] = (40, 40, 220)
    assert scene_plate(plain, mask) is None
    assert not smeared(plain, plate_hole(mask), background_plate(plain, mask)).any()


def test_the_half_figures_scene_is_not_smeared(shared_media: Path) -> None:
    """The anime half-figure stands before a hedge, a stone wall and clouds. The row fill smeared
    a quarter of the hole (25 %, the hedge and the wall); PatchMatch's fill keeps their texture and
    the hedge's rows stay green."""
    cut = cut_out(load_picture(shared_media / "character_anime_upperbody.png"))
    assert cut is not None
    bgr = cv2.cvtColor(cut.rgb, cv2.COLOR_RGB2BGR)
    mask = cut.alpha >= 0.5
    hole = plate_hole(mask, cut.prob)
    scene = scene_plate(bgr, mask, cut.prob)
    assert scene is not None
    rows = background_plate(bgr, mask, cut.prob)
    assert smeared(bgr, hole, rows).sum() > 0.15 * hole.sum()
    assert smeared(bgr, hole, scene).sum() < 0.02 * hole.sum()
    hedge = np.zeros_like(hole)
    hedge[480:540] = True  # the hedge's rows, left and right of the figure
    assert (bgr[hedge & ~hole][:, 1] > bgr[hedge & ~hole][:, 2] + 20).mean() > 0.8  # green beside the hole
    inside = scene[hedge & hole].astype(np.int32)
    assert (inside[:, 1] > inside[:, 2] + 20).mean() > 0.6  # and green where she stood


def test_the_half_figure_dancing_shows_no_smear(shared_media: Path, tmp_path: Path) -> None:
    """End to end with the real dance: the share of the frame showing a smeared fill (`exposed`)
    was 0.074 on average (at most 0.093) with the row fill; with the scene filled it stays under
    0.01 in every frame."""
    picture, clip = shared_media / "character_anime_upperbody.png", shared_media / "dance_fullbody_12s.mp4"
    result = run_engine(EngineJob(picture, clip, "video", "std", False), tmp_path / "out.mp4")
    assert result.frames > 250
    assert float(np.max(result.exposed)) < 0.01, float(np.max(result.exposed))
    assert result.timings["scene"] > 0.0


def test_a_lone_upright_is_held_back_and_a_fence_is_not() -> None:
    """Beside the figure's place (x 80-179) a pole stands alone on its rows (x 200-205, rows
    200-259), pickets stand every 12 px across rows 100-159, and the ground meets the sky along
    row 180. PatchMatch may copy the fence (its pickets repeat along the row: that is the scene)
    and the horizon, but not the pole: continued along its rows, a tower beside the hole became
    a row of towers (the night street's)."""
    h, w = 320, 240
    bgr = np.zeros((h, w, 3), np.uint8)
    bgr[:180] = (200, 150, 90)  # sky
    bgr[180:] = (60, 90, 70)  # ground
    for x in range(0, w, 12):
        bgr[100:160, x : x + 5] = (230, 230, 230)  # pickets
    bgr[200:260, 200:206] = (60, 200, 240)  # a pole, gold
    hole = np.zeros((h, w), bool)
    hole[40:300, 80:180] = True
    lone = lone_uprights(bgr, hole)
    assert lone[200:260, 196:210].all()  # the pole and the 4 px around it
    assert not lone[110:150].any()  # the fence
    assert not lone[170:190, :196].any() and not lone[170:190, 210:].any()  # the horizon
    assert not lone[hole].any()


def test_the_night_streets_tower_is_not_repeated(shared_media: Path) -> None:
    """The anime full body stands on a night street, her glowing skirt over the Eiffel tower's
    left foot (the tower stands at x 566-635). PatchMatch continued the tower into the hole
    along its rows: 1,815 of its gold pixels in the hole left of x 520 on rows 760-999, five
    towers side by side. With the tower's uprights held back (lone_uprights) there are none
    there, the rows' dark buildings instead."""
    cut = cut_out(load_picture(shared_media / "character_anime_fullbody.jpg"))
    assert cut is not None
    bgr = cv2.cvtColor(cut.rgb, cv2.COLOR_RGB2BGR)
    mask = cut.alpha >= 0.5
    scene = scene_plate(bgr, mask, cut.prob)
    assert scene is not None
    hole = plate_hole(mask, cut.prob)
    zone = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # not the blended rim
    zone[:760], zone[1000:], zone[:, 520:] = False, False, False
    hsv = cv2.cvtColor(scene, cv2.COLOR_BGR2HSV)
    gold = (hsv[..., 0] >= 10) & (hsv[..., 0] <= 30) & (hsv[..., 1] > 80) & (hsv[..., 2] > 120)
    assert zone.sum() > 80_000
    assert int((gold & zone).sum()) < 200, int((gold & zone).sum())


def test_a_large_photo_is_judged_and_filled_on_a_smaller_copy() -> None:
    """A large photo (a phone's are 4000 px) is filled too: its texture is judged on a copy of
    SCENE_SIDE px, the fill is PATCH_SIDE px and fits the picture at its own size."""
    from kmc_ui.engine.inpaint import PATCH_SIDE

    bgr, mask = _scene()
    big = cv2.resize(bgr, (W * 4, H * 4), interpolation=cv2.INTER_NEAREST)  # 1440 x 1920
    big_mask = cv2.resize(mask.astype(np.uint8), (W * 4, H * 4), interpolation=cv2.INTER_NEAREST) > 0
    fill = scene_fill(big, big_mask)
    assert fill is not None and max(fill.shape[:2]) == PATCH_SIDE
    hole = plate_hole(big_mask)
    plate = with_fill(big, hole, fill)
    assert plate.shape == big.shape
    assert not ((plate[..., 2].astype(int) - plate[..., :2].max(axis=2)) > 100)[hole].any()  # no red figure


def test_without_the_library_a_scene_keeps_the_row_fill(monkeypatch) -> None:
    """Where PyPatchMatch has no wheel (Intel macOS: requirements.txt leaves it out there), the
    engine still runs: the scene keeps the row fill."""
    from kmc_ui.engine import inpaint

    bgr, mask = _scene()
    assert scene_fill(bgr, mask) is not None
    monkeypatch.setattr(inpaint, "patch_match", None)
    assert scene_fill(bgr, mask) is None


def _studio(h: int = 400, w: int = 300) -> np.ndarray:
    """A studio backdrop (BGR uint8): a pale wall, its floor's shadow darker and darker to the
    bottom edge (230 -> 80 over the last 40 %, bending down), with a fine grain."""
    t = np.clip((np.arange(h) / (h - 1) - 0.6) / 0.4, 0.0, 1.0)
    shade = 230.0 - 150.0 * t**2
    grain = np.random.default_rng(5).normal(0.0, 6.0, (h, w, 1))
    return np.clip(shade[:, None, None] + grain + np.zeros((1, 1, 3)), 0, 255).astype(np.uint8)


def test_what_the_picture_does_not_cover_continues_its_edge() -> None:
    """The picture placed in a taller, wider frame (video orientation: 100 px of frame below it,
    60 above, 24 to its left). Mirrored whole, the floor's shadow grew light again below the
    picture's edge (a ledge under the figure: 83 at the edge, 208 a hundred pixels below). Now its
    shading runs on as it is at the edge, and its grain is mirrored (no flat band, no streaks)."""
    picture = _studio()
    p = Placement(width=340, height=560, k=1.0, offset=np.array([24.0, 60.0]), work_scale=1.0)
    plate = plate_for("video", picture, p).astype(np.float32)
    assert plate.shape == (560, 340, 3)
    # the picture itself is placed as it is
    assert np.abs(plate[60:460, 24:324] - picture).max() <= 1
    rows = plate[:, 24:324, 1].mean(axis=1)
    edge = rows[455:460].mean()
    assert edge < 90, edge
    below = rows[460:]
    assert np.abs(below - edge).max() < 6, (edge, below.min(), below.max())  # mirrored: up to 208
    above = rows[:60]
    assert np.abs(above - rows[60:65].mean()).max() < 4
    # the grain goes on: across each row and from row to row as in the picture, not flattened or
    # drawn out into columns (replicated)
    grain = np.diff(picture[:, :, 1].astype(np.float32), axis=0).std()
    assert np.diff(plate[470:, 24:324, 1], axis=0).std() > 0.6 * grain
    assert plate[470:, 24:324, 1].std(axis=1).mean() > 3.0
    # beside it, the wall's rows run on as they are at the picture's left edge, grain mirrored
    left = plate[60:460, :24, 1].mean(axis=1)
    assert np.abs(left - plate[60:460, 24:27, 1].mean(axis=1)).max() < 10
    assert np.diff(plate[60:300, :24, 1], axis=1).std() > 0.6 * grain
    # a mask is mirrored as it is
    mask = np.zeros(picture.shape[:2], bool)
    mask[380:, 100:200] = True
    placed = plate_for("video", mask, p)
    assert placed.dtype == bool and placed[460:478, 130:220].all()
    assert not placed[482:].any() and not placed[460:, :110].any()


def test_a_floor_shadow_is_filled_as_dark_as_the_floor_beside_it(shared_media: Path) -> None:
    """The man's photo: a studio floor's shadow darkens to the picture's bottom edge, where he
    stands. His place was filled row by row, then smoothed up and down, which lightened the fill
    where the shadow bends: up to 20 levels paler than the floor on either side at the bottom
    rows, a block under his feet that showed once they moved and ran on below the picture as a
    column. Now it is smoothed about each row's own shade: the fill lies between the floor on its
    left and right."""
    picture = shared_media / "person_man_fullbody.png"
    cut = cut_out(load_picture(picture))
    assert cut is not None
    bgr = cv2.cvtColor(cut.rgb, cv2.COLOR_RGB2BGR)
    mask = cut.alpha >= 0.5
    plate = background_plate(bgr, mask, cut.prob).astype(np.float32).mean(axis=2)
    hole = plate_hole(mask, cut.prob)
    h = hole.shape[0]
    checked = 0
    for y in range(h - 40, h):
        xs = np.flatnonzero(hole[y])
        if len(xs) == 0 or xs[0] < 20 or xs[-1] > hole.shape[1] - 20:
            continue
        left, right = plate[y, xs[0] - 15 : xs[0] - 5].mean(), plate[y, xs[-1] + 5 : xs[-1] + 15].mean()
        fill = plate[y, hole[y]].mean()
        assert min(left, right) - 2 <= fill <= max(left, right) + 2, (y, left, fill, right)
        checked += 1
    assert checked >= 30


def test_a_portrait_picture_in_a_landscape_frame_shows_no_mirrored_silhouette() -> None:
    """A portrait picture in a landscape frame (a 16:9 clip): 300 px of frame either side of it.
    Mirrored whole, the filled-in place where the character stood (here a soft tan band 100-160 px
    in from the picture's left edge, on a pale wall: a fill has no sharp edge) came back beside the
    picture as a ghost of the figure on either side. Now beside the picture the wall's shade at its
    edge runs on (only the picture's fine detail is mirrored)."""
    picture = _studio().astype(np.float32)
    band = np.zeros(picture.shape[:2], np.float32)
    band[:320, 100:160] = 1.0
    band = cv2.GaussianBlur(band, (0, 0), 6.0)[..., None]
    tan = np.array([120.0, 160.0, 200.0], np.float32)  # BGR
    picture = np.clip(picture * (1 - band) + tan * band, 0, 255).astype(np.uint8)
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    plate = plate_for("video", picture, p).astype(np.float32)
    wall = plate[:300, 300:303].mean(axis=(0, 1))
    beside = plate[:300, :300].mean(axis=0)  # each column of the frame left of the picture, its mean colour
    assert np.abs(beside - wall).max() < 8, np.abs(beside - wall).max(axis=1).argmax()


def test_beside_a_scene_its_broadest_shade_runs_on_and_its_detail_fades() -> None:
    """A scene (its figure's place filled by PatchMatch, textured: no smooth ghost to hide) with a
    cloud 80 px tall at its left edge, in a landscape frame: with its shade run on as a studio
    backdrop's, the cloud was drawn out into a white streak across the whole 300 px beside the
    picture (249 in red, the sky 90). Beside a scene only the broadest shade runs on, and its
    mirrored detail fades out: the cloud goes on a little past the edge, fading (stop 48 to 52
    mirrored it whole beside the edge: 249-255 there), and further out the sky's shade is left."""
    sky = np.zeros((400, 300, 3), np.float32) + np.array([200.0, 150.0, 90.0], np.float32)  # blue (BGR)
    cloud = np.zeros((400, 300), np.float32)
    cv2.circle(cloud, (10, 150), 40, 1.0, -1)
    cloud = cv2.GaussianBlur(cloud, (0, 0), 8.0)[..., None]
    picture = np.clip(sky * (1 - cloud) + 250.0 * cloud, 0, 255).astype(np.uint8)
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    streaked = plate_for("video", picture, p).astype(np.float32)
    scene = plate_for("video", picture, p, scene=True).astype(np.float32)
    assert streaked[150, :100, 2].min() > 240  # the cloud's white run out to the frame's edge
    assert scene[100:200, :100, 2].max() < 130  # the sky's shade (113; stop 48's shade run on: 196)
    assert scene[150, 299, 2] > 240  # the cloud goes on past the edge (243)...
    assert scene[150, 270, 2] < 200  # ...fading (171 at 30 px; mirrored whole: 255)
    assert np.array_equal(scene[:, 300:600], streaked[:, 300:600])  # the picture itself as it was


def _night_street() -> np.ndarray:
    """A drawn night street (BGR uint8, 300x400): a sky lighter to the horizon, a lit street, a
    grain, a gold tower 50-70 px in from its left edge and a black cat 40 px in from its right."""
    rng = np.random.default_rng(1)
    picture = np.zeros((400, 300, 3), np.float32)
    picture[:260] = np.array([120.0, 60.0, 40.0]) + np.linspace(0, 40, 260)[:, None, None]  # BGR
    picture[260:] = np.array([90.0, 110.0, 140.0])
    picture += rng.normal(0, 4, picture.shape)
    picture[120:260, 50:70] = (40.0, 90.0, 170.0)  # the tower
    cv2.circle(picture, (260, 330), 12, (20.0, 20.0, 20.0), -1)  # the cat
    return np.clip(picture, 0, 255).astype(np.uint8)


def test_a_scene_in_a_landscape_frame_repeats_no_tower_and_no_cat() -> None:
    """A night street (a sky lighter to the horizon, a lit street, a grain), a gold tower 50-70 px
    in from its left edge and a black cat 40 px in from its right, placed in a landscape frame
    with 300 px either side. Mirrored beside the edge, the tower stood again left of the picture
    (+15 in red over the sky beside it) and the cat again right of it (72 levels darker than the
    street beside it), and further repeats came where the frame was wider still: on the real night
    street, three towers and three cats across the frame. Now the scene's detail fades out within a
    few dozen pixels of the picture, and what the frame shows beyond is its shade."""
    picture = _night_street()
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    plate = plate_for("video", picture, p, scene=True).astype(np.float32)
    assert np.array_equal(plate[:, 300:600], picture)  # the picture itself as it is
    # where the tower's mirror stood (frame x 230-250) against the sky beside it: -2.5
    tower = plate[140:240, 230:250, 2].mean() - plate[140:240, 195:215, 2].mean()
    assert abs(tower) < 5, tower
    # where the cat's mirror lay (frame x 632-644) against the street beside it: -0.6
    cat = plate[325:335, 632:644].mean() - plate[325:335, 700:712].mean()
    assert abs(cat) < 5, cat
    # no seam at the picture's edges: its last column and the frame's next differ as two of the
    # picture's own neighbouring columns do
    inside = np.abs(np.diff(plate[:, 300:600], axis=1)).mean()
    for a, b in ((299, 300), (599, 600)):
        assert np.abs(plate[:, a] - plate[:, b]).mean() < 1.5 * inside
    # a mask (where the figure's place was filled: the `exposed` measure) goes as far as the
    # detail is half there (e^-d/12 >= 0.5: 8 px), no longer mirrored 99 px out
    mask = np.zeros((400, 300), bool)
    mask[:, :100] = True
    mirrored, fading = plate_for("video", mask, p), plate_for("video", mask, p, scene=True)
    assert mirrored[:, 201:400].all() and not mirrored[:, :201].any()
    assert fading[:, 292:400].all() and not fading[:, :292].any()


def _detail(a: np.ndarray) -> float:
    """The mean size of `a`'s detail: how far its pixels are from their blur over 2 px."""
    a = a.astype(np.float32)
    return float(np.abs(a - cv2.GaussianBlur(a, (0, 0), 2.0)).mean())


LANDSCAPE = Placement(width=W + 600, height=H, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)


def test_a_scene_continued_past_its_edges_keeps_each_bands_colour_and_texture() -> None:
    """The scene of bands (the figure's place filled by PatchMatch) in a landscape frame, 300 px
    of frame either side. plate_for beside it runs its broadest shade on: a haze of its colours,
    each band's colour off by up to 82 levels (the hedge 66 in red, the path 82) and with no detail
    left (0.2 against the hedge's 2.8). The render's plate continues the scene there (PatchMatch,
    patches from the same rows): each band beside the picture within 3 levels of its colour (0.2-1.6
    measured) and with over a third of its detail (the wall 4.5 of 7.6, the hedge 2.5 of 2.8, the
    path's grain 4.3 of 11.8: drawn at 256 px and scaled up); the picture itself as it was."""
    img, mask = _scene()
    picture = scene_plate(img, mask)
    assert picture is not None
    haze = plate_for("video", picture, LANDSCAPE, scene=True)
    continued = continued_scene(haze, picture, LANDSCAPE)
    assert np.array_equal(continued[:, 300 : 300 + W], haze[:, 300 : 300 + W])
    for name, (y0, y1) in BANDS.items():
        own = picture[y0:y1].astype(np.float32)
        for plate in (haze, continued):
            beside = np.concatenate([plate[y0:y1, 50:250], plate[y0:y1, W + 350 : W + 550]], axis=1)
            off = np.abs(beside.astype(np.float32).mean(axis=(0, 1)) - own.mean(axis=(0, 1))).max()
            if plate is haze and name != "sky":
                assert off > 20 and _detail(beside) < 0.1 * _detail(own), (name, off)  # the haze
            elif plate is continued:
                assert off < 3, (name, off)
                if name != "sky":
                    assert _detail(beside) > 0.33 * _detail(own), (name, _detail(beside), _detail(own))


def test_a_scene_continued_repeats_no_tower_and_no_cat() -> None:
    """The night street of gold tower and black cat (test_a_scene_in_a_landscape_frame_repeats_no_
    tower_and_no_cat) continued past its edges: the tower, a lone upright, is never copied (no
    column of the sky beside the picture 30 levels redder than the rest: the tower is 100 over
    it), and the cat is not either (no pixel darker than 60 beside the picture; 441 in it)."""
    picture = _night_street()
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    plate = continued_scene(plate_for("video", picture, p, scene=True), picture, p).astype(np.float32)
    for sky in (plate[140:240, :300, 2].mean(axis=0), plate[140:240, 600:, 2].mean(axis=0)):
        assert (sky > np.median(sky) + 30).sum() == 0
    dark = plate[260:].max(axis=-1) < 60
    assert dark[:, 300:600].sum() > 400 and dark[:, :300].sum() + dark[:, 600:].sum() == 0


def test_a_scene_continued_takes_the_shade_at_its_edge() -> None:
    """A blue sky with a light cloud at the picture's left edge (250 in red there, the sky 90).
    PatchMatch continued the sky beside it from the sky's blue (131 in red just past the edge): a
    step down the frame at the picture's edge (the half-figure's cloud, cut off by a line). Its
    shade there is now the edge's, fading out further away (233 just past the edge)."""
    rng = np.random.default_rng(2)
    sky = np.zeros((400, 300, 3), np.float32) + np.array([200.0, 150.0, 90.0], np.float32)  # BGR
    cloud = np.zeros((400, 300), np.float32)
    cv2.circle(cloud, (0, 200), 70, 1.0, -1)
    cloud = cv2.GaussianBlur(cloud, (0, 0), 15.0)[..., None]
    picture = np.clip(sky * (1 - cloud) + 250.0 * cloud + rng.normal(0, 3, sky.shape), 0, 255).astype(np.uint8)
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    plate = continued_scene(plate_for("video", picture, p, scene=True), picture, p).astype(np.float32)
    edge = picture[170:230, :3, 2].mean()
    assert abs(plate[170:230, 290:300, 2].mean() - edge) < 25, (plate[170:230, 290:300, 2].mean(), edge)
    assert plate[20:60, :300, 2].mean() < 120  # the sky beside the sky: blue


def test_a_cloud_cut_by_the_pictures_edge_goes_on_past_it() -> None:
    """A textured cloud (puffs of light and shade 4 px across) cut off by the picture's right
    edge, in a landscape frame. The continuation met the picture in a line down the frame: across
    the edge, the cloud's rows stepped by 5.3 levels on average against 2.4 between the picture's
    own last two columns. The picture is now mirrored past its edge, giving way to the continuation
    over SEAM of its longer side: across the edge as within the picture (2.4 both), the cloud going
    on (212 in the frame's first 20 columns past the edge, the sky 192 further out)."""
    rng = np.random.default_rng(3)
    sky = np.zeros((400, 300, 3), np.float32) + np.array([200.0, 150.0, 90.0], np.float32)  # BGR
    cloud = np.zeros((400, 300), np.float32)
    cv2.circle(cloud, (300, 200), 80, 1.0, -1)
    cloud = cv2.GaussianBlur(cloud, (0, 0), 6.0)[..., None]
    puffs = cv2.GaussianBlur(rng.normal(0, 1, (400, 300)).astype(np.float32), (0, 0), 4.0)
    puffs = (puffs / puffs.std() * 18.0)[..., None]
    picture = np.clip(sky * (1 - cloud) + (225.0 + puffs) * cloud + rng.normal(0, 2, sky.shape), 0, 255)
    picture = picture.astype(np.uint8)
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    plate = continued_scene(plate_for("video", picture, p, scene=True), picture, p).astype(np.float32)
    rows = slice(150, 250)
    across = np.abs(plate[rows, 600] - plate[rows, 599]).mean()
    inside = np.abs(plate[rows, 599] - plate[rows, 598]).mean()
    assert across < 1.3 * inside, (across, inside)
    assert plate[rows, 600:620].mean() > 205 and abs(plate[20:60, 700:].mean() - sky.mean()) < 10


def test_a_tower_near_the_pictures_edge_is_not_mirrored_beside_it() -> None:
    """The night street with its tower 25-35 px in from the picture's right edge. The picture's
    mirror past its edge fading as e^(-d / SEAM) showed the tower again beside it, 12 levels redder
    than the sky (the real night street's tower, 50 px in from her picture's edge: a ghost); fading
    as e^-(d / SEAM)^2 it is gone within twice SEAM (1.3 levels)."""
    picture = _night_street().astype(np.float32)
    picture[120:260, 50:70] = picture[120:260, 20:40]  # no tower at the left
    picture[120:260, 265:275] = (40.0, 90.0, 170.0)  # the tower, near the right edge
    picture = picture.astype(np.uint8)
    p = Placement(width=900, height=400, k=1.0, offset=np.array([300.0, 0.0]), work_scale=1.0)
    plate = continued_scene(plate_for("video", picture, p, scene=True), picture, p).astype(np.float32)
    sky = plate[140:240, 600:, 2].mean(axis=0)
    assert (sky[:60] - np.median(sky)).max() < 5, (sky[:60] - np.median(sky)).max()


def test_a_frame_within_the_scene_keeps_its_plate(monkeypatch) -> None:
    """A frame that reaches past the picture by less than BEYOND_MIN of its longer side (here 4 px
    above it, 1 %), or a platform without PatchMatch: plate_for's plate as it is, no PatchMatch."""
    picture, _ = _scene()
    p = Placement(width=W - 40, height=H - 40, k=1.0, offset=np.array([-20.0, 4.0]), work_scale=1.0)
    plate = plate_for("video", picture, p, scene=True)
    assert continued_scene(plate, picture, p) is plate
    haze = plate_for("video", picture, LANDSCAPE, scene=True)
    monkeypatch.setattr(inpaint, "patch_match", None)
    assert continued_scene(haze, picture, LANDSCAPE) is haze


def test_a_small_scene_in_a_large_frame_is_continued_on_a_bounded_canvas() -> None:
    """A 90x120 scene at its own scale in a 1280x720 frame (the frame 14 times its width): the
    canvas PatchMatch fills is held to BEYOND_CANVAS on its longer side (at the picture's own
    scale it would be 1280 px wide, 9 times the work), and the frame is still covered, the
    picture's pixels as they were."""
    img, mask = _scene()
    small = cv2.resize(scene_plate(img, mask), (90, 120), interpolation=cv2.INTER_AREA)
    p = Placement(width=1280, height=720, k=1.0, offset=np.array([595.0, 300.0]), work_scale=1.0)
    got = inpaint.scene_beyond(small, (-595.0, -300.0, 685.0, 420.0))
    assert got is not None
    canvas = got[0]
    # (its three parts, left of the picture, the picture and right of it, each rounded)
    assert max(canvas.shape[:2]) <= inpaint.BEYOND_CANVAS + 2 and canvas.shape[1] > 0.9 * inpaint.BEYOND_CANVAS
    plate = continued_scene(plate_for("video", small, p, scene=True), small, p)
    assert plate.shape == (720, 1280, 3)
    assert np.array_equal(plate[300:420, 595:685], small)
    assert plate[:100].std(axis=(0, 1)).max() < 40  # the sky's rows above: sky, not the hedge's green
    assert abs(float(plate[:100, :, 0].mean()) - float(small[:20, :, 0].mean())) < 15


def test_the_half_figure_in_a_landscape_clip_stands_in_her_scene(shared_media: Path, tmp_path: Path) -> None:
    """End to end: the real dance padded to a landscape frame (1280x720), the half-figure before
    her hedge, wall and sky. Beside her picture (about 370 px of frame either side, made larger
    as a half figure is: pipeline.HALF_HEADROOM) the frame shows her scene continued: as much
    detail as in the picture's own columns within a factor of 3 (plate_for's haze had a tenth), the
    sky's rows blue there and the hedge's green."""
    import subprocess

    clip = tmp_path / "landscape.mp4"
    pad = "scale=-2:720,pad=1280:720:(ow-iw)/2:0:color=white"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / "dance_fullbody_12s.mp4"), "-t", "2"]
    subprocess.run([*cmd, "-vf", pad, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-an", str(clip)], check=True)
    frames: dict[int, np.ndarray] = {}
    keep = lambda i, frame, stats: frames.setdefault(i, frame.copy()) if i == 0 else None  # noqa: E731
    picture = shared_media / "character_anime_upperbody.png"
    result = run_engine(EngineJob(picture, clip, "video", "std", False), tmp_path / "out.mp4", on_frame=keep)
    assert (result.width, result.height) == (1280, 720)
    frame = frames[0]
    sides = np.concatenate([frame[:, :300], frame[:, -300:]], axis=1)
    middle = frame[:, 300:-300]
    assert _detail(sides) > _detail(middle) / 3, (_detail(sides), _detail(middle))
    b, g, r = np.moveaxis(sides.astype(np.int32), -1, 0)
    assert ((b > r + 40)[:300]).mean() > 0.9  # the sky's rows, blue
    assert ((g > r + 20) & (g > b + 10))[555:625].mean() > 0.8  # the hedge's, green (0.91 measured)
