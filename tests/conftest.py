"""Shared fixtures: generated media cached once per test session, and the shared sample media."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.media_factory import make_image, make_video

# ../shared/media beside the repository (CI clones the repo with shared/ next to it).
SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


class MediaCache:
    """Makes each named file once per session: `media.video("clip.mp4", seconds=3)`.

    Asking for the same name with other arguments is a test bug and raises.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[str, tuple[str, dict[str, Any]]] = {}

    def _remember(self, name: str, kind: str, kwargs: dict[str, Any]) -> Path | None:
        known = self._made.get(name)
        if known is not None:
            if known != (kind, kwargs):
                raise ValueError(f"{name} was already made with other arguments: {known}")
            return self.root / name
        self._made[name] = (kind, kwargs)
        return None

    def image(self, name: str, width: int = 720, height: int = 1280, **kwargs: Any) -> Path:
        args = {"width": width, "height": height, **kwargs}
        return self._remember(name, "image", args) or make_image(self.root / name, **args)

    def video(self, name: str, **kwargs: Any) -> Path:
        return self._remember(name, "video", kwargs) or make_video(self.root / name, **kwargs)

    def file(self, name: str, data: bytes) -> Path:
        """Arbitrary bytes (fake headers, truncations, junk)."""
        path = self._remember(name, "file", {"data": data})
        if path is None:
            path = self.root / name
            path.write_bytes(data)
        return path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaCache:
    return MediaCache(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"shared sample media not found at {SHARED_MEDIA}")
    return SHARED_MEDIA


@pytest.fixture(autouse=True)
def _end_workers() -> Any:
    """The in-process run workers (kmc_ui/worker.py) a test started stop with it, so their threads do
    not pile up over the session (those of a module's app stay); a run they leave unfinished is
    what a killed app leaves."""
    from kmc_ui.worker import Workers

    before = Workers.started()
    yield
    Workers.close_all(keep=before)


@pytest.fixture(autouse=True)
def _no_picture_read_before() -> None:
    """Each test reads its pictures afresh: the offline engine keeps the pictures it read in memory
    (pipeline.read_picture), and a test must not find one another test read."""
    pipeline = sys.modules.get("kmc_ui.engine.pipeline")
    if pipeline is not None:
        pipeline.forget_pictures()


@pytest.fixture(scope="module")
def drawn_rig(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The offline engine's rig of the drawn character (tests/figures.py), 360x640 working pixels,
    and a plain grey plate: (rig, plate)."""
    from dataclasses import replace

    import numpy as np

    from kmc_ui.engine.pipeline import _rig, load_picture, picture_hands
    from kmc_ui.engine.segment import cut_out
    from tests.figures import make_character

    path = make_character(tmp_path_factory.mktemp("rig") / "character.png", 360, 640)
    cut = cut_out(load_picture(path))
    assert cut is not None
    cut = replace(cut, hands=picture_hands(cut))
    rig, _ = _rig(cut, 1.0)
    return rig, np.full((640, 360, 3), 200, np.uint8)
