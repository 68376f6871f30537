"""The body check with only a picture uploaded (no video yet): the character's skeleton preview and
the picture's own body findings show at once, through the Studio tab's handlers (StudioHandlers.body)
on a real Studio. Nothing is mocked: a drawn figure (tests/figures.py) and, when ../shared/media is
there, a real photo with its hands painted into its pockets (tests/test_body_hidden_hands.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmc_ui.backends.local import LocalBackend
from kmc_ui.identity import COOKIE
from kmc_ui.settings import Settings
from kmc_ui.studio import Studio
from kmc_ui.ui.studio_tab import BODY_OUTPUTS, REFRESH_OUTPUTS, StudioHandlers, inputs_of
from tests.figures import make_character, make_dance
from tests.test_studio_handlers import FakeRequest, values

IMAGE_FINDINGS, PANEL = 0, 3
CHARACTER, MOTION = REFRESH_OUTPUTS, REFRESH_OUTPUTS + 1


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("picture-only") / "data")
    studio = Studio(settings, {"local": LocalBackend(settings)})
    yield studio
    studio.close()


@pytest.fixture
def page(studio: Studio) -> FakeRequest:
    _visitor, cookie = studio.identity.issue()
    return FakeRequest(session="picture-page", cookie=f"{COOKIE}={cookie}")


def body(studio: Studio, page: FakeRequest, image: str | None, video: str | None = None) -> tuple:
    h = StudioHandlers(studio)
    h.refresh(page, *values(image, video))
    out = h.body(page, *values(image, video))
    assert len(out) == BODY_OUTPUTS
    return out


def drawn_on(preview: str, picture: Path) -> float:
    """The share of the preview's pixels that differ from the picture (scaled to the preview's size):
    the skeleton drawn on it."""
    shown = np.asarray(Image.open(preview).convert("RGB"), dtype=np.int16)
    base = Image.open(picture).convert("RGB").resize((shown.shape[1], shown.shape[0]))
    return float((np.abs(shown - np.asarray(base, dtype=np.int16)).max(axis=2) > 60).mean())


def test_the_characters_skeleton_shows_with_the_picture_alone(
    studio: Studio, page: FakeRequest, tmp_path: Path
) -> None:
    picture = make_character(tmp_path / "character.png", 360, 640)
    out = body(studio, page, str(picture))
    assert out[CHARACTER] and Path(out[CHARACTER]).is_file()  # before any video
    assert out[MOTION] is None  # the motion's preview needs a video
    assert 0.002 < drawn_on(out[CHARACTER], picture) < 0.2  # lines on the picture, not another picture
    assert "kmc-pending" not in out[PANEL]
    report = studio.body_cached(inputs_of(*values(str(picture), None)))
    assert report is not None and report.character_preview and report.motion_preview is None

    # the video added: the same character preview, and the motion's beside it
    clip = make_dance(tmp_path / "dance.mp4", 360, 640, seconds=2.0, fps=8, audio=False)
    both = body(studio, page, str(picture), str(clip))
    assert both[CHARACTER] and both[MOTION]
    assert drawn_on(both[CHARACTER], picture) == pytest.approx(drawn_on(out[CHARACTER], picture), abs=1e-3)


def test_the_pictures_own_findings_show_before_a_video(studio: Studio, page: FakeRequest, shared_media: Path) -> None:
    from tests.test_body_hidden_hands import LEFT_HAND_BOX, MAN, RIGHT_HAND_BOX, WRIST_ROW, paint_into_pocket

    man = np.asarray(Image.open(shared_media / MAN).convert("RGB"))
    pockets = paint_into_pocket(paint_into_pocket(man, RIGHT_HAND_BOX, WRIST_ROW), LEFT_HAND_BOX, WRIST_ROW)
    picture = Path(studio.settings.data_dir) / "man_hands_in_pockets.png"
    Image.fromarray(pockets).save(picture)

    out = body(studio, page, str(picture))
    assert out[CHARACTER] and out[MOTION] is None
    assert drawn_on(out[CHARACTER], picture) > 0.002
    findings = out[IMAGE_FINDINGS]
    assert "pose_image_hidden_limbs" in findings and "does not show both hands" in findings, findings
    assert 'data-level="hint"' in findings  # a hint, not a warning: no video to compare it with yet

    plain = body(studio, page, str(shared_media / MAN))  # his hands shown: a skeleton, no finding
    assert plain[CHARACTER] and "pose_image_hidden_limbs" not in plain[IMAGE_FINDINGS]
