"""pytest fixtures for the loopback fakes. In a test module: `pytest_plugins = ["tests.fakes.fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette

from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.fal import FakeFal
from tests.fakes.kling import FakeKling
from tests.fakes.kling import Scenario as KlingScenario
from tests.fakes.kling2 import FakeKling2
from tests.fakes.providers import KITS, NAMES, Kit
from tests.fakes.replicate import FakeReplicate
from tests.fakes.server import ServerThread
from tests.media_factory import make_image, make_video


@pytest.fixture(scope="session")
def fake_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fake-media")


@pytest.fixture(scope="session")
def result_video(fake_media_dir: Path) -> Path:
    """What the fake providers hand back: a real small H.264 + AAC file, made once."""
    return make_video(fake_media_dir / "provider-result.mp4", 320, 240, seconds=1.0, fps=12)


@pytest.fixture(scope="session")
def reference_video(fake_media_dir: Path) -> Path:
    """A valid motion reference: 3.5 s, 640x360, H.264 + AAC."""
    return make_video(fake_media_dir / "motion.mp4", 640, 360, seconds=3.5, fps=12)


@pytest.fixture(scope="session")
def short_video(fake_media_dir: Path) -> Path:
    """Too short for the provider (2 s)."""
    return make_video(fake_media_dir / "short.mp4", 640, 360, seconds=2.0, fps=12, audio=False)


@pytest.fixture(scope="session")
def character_image(fake_media_dir: Path) -> Path:
    return make_image(fake_media_dir / "character.png", 480, 854, fmt="PNG")


@pytest.fixture(scope="session")
def kling_server(result_video: Path) -> Iterator[FakeKling]:
    fake = FakeKling(result_file=result_video).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def kling2_server(result_video: Path) -> Iterator[FakeKling2]:
    fake = FakeKling2(result_file=result_video).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fal_server(result_video: Path) -> Iterator[FakeFal]:
    fake = FakeFal(result_file=result_video).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def replicate_server(result_video: Path) -> Iterator[FakeReplicate]:
    fake = FakeReplicate(result_file=result_video).start()
    yield fake
    fake.stop()


@pytest.fixture(params=NAMES)
def kit(request: pytest.FixtureRequest) -> Iterator[Kit]:
    """Each hosted provider in turn (kling, kling2, fal, replicate): its fake reset, no faults."""
    fake = request.getfixturevalue(f"{request.param}_server")
    fake.reset()
    yield KITS[request.param](fake)
    fake.reset()


@pytest.fixture
def kit_clock(kit: Kit) -> FakeClock:
    """A fake clock shared by run_job and the kit's fake provider timeline."""
    clock = FakeClock()
    kit.fake.clock = clock.now
    return clock


@pytest.fixture
def quick_kling(kling_server: FakeKling) -> Iterator[FakeKling]:
    """The fake Kling API, fresh, finishing each task in well under a second of real time."""
    kling_server.reset()
    kling_server.scenario = KlingScenario(submitted_s=0.1, processing_s=0.2)
    yield kling_server
    kling_server.reset()


@pytest.fixture
def fake_kling(kling_server: FakeKling) -> Iterator[FakeKling]:
    """The fake Kling API with no tasks, no faults and the default scenario."""
    kling_server.reset()
    yield kling_server
    kling_server.reset()


@pytest.fixture
def fake_clock(fake_kling: FakeKling) -> FakeClock:
    """A fake clock that also drives the fake provider's task timeline."""
    clock = FakeClock()
    fake_kling.clock = clock.now
    return clock


@dataclass
class MediaServer:
    host: MediaHost
    server: ServerThread
    url: str


@pytest.fixture(scope="session")
def media_server_session(fake_media_dir: Path) -> Iterator[MediaServer]:
    app = Starlette()
    server = ServerThread(app)
    host = MediaHost(server.url, [fake_media_dir], allow_private=True)
    add_media_routes(app, host)
    server.start()
    yield MediaServer(host, server, server.url)
    server.stop()


@pytest.fixture
def media_server(media_server_session: MediaServer, tmp_path: Path, fake_media_dir: Path) -> Iterator[MediaServer]:
    """The app's media hosting on a real loopback server (as it would sit on Gradio's app).

    Serves files under the test's tmp_path and the session's generated media; nothing is
    registered at the start of a test.
    """
    host = media_server_session.host
    host.clear()
    host.allow_dirs = [tmp_path.resolve(), fake_media_dir.resolve()]
    yield media_server_session
    host.clear()


@pytest.fixture
def kling_settings(fake_kling: FakeKling, media_server: MediaServer, tmp_path: Path) -> Settings:
    return kling_app_settings(fake_kling, media_server.url, tmp_path / "data")


def kling_app_settings(fake: FakeKling, public_base_url: str, data_dir: Path) -> Settings:
    """Settings for the app on Kling's official API played by `fake`, serving its media from
    `public_base_url` (loopback, so private URLs are allowed)."""
    return Settings(
        backend="kling",
        kling_access_key=fake.access_key,
        kling_secret_key=fake.secret_key,
        kling_api_base=fake.base_url,
        public_base_url=public_base_url,
        allow_private_urls=True,
        data_dir=data_dir,
    )
