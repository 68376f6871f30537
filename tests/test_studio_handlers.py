"""The Studio tab's handlers (kmc_ui/ui/studio_tab.py), called directly: a real Studio on a temp
data folder with the offline backend, real media, and a fake request of one page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
import pytest

from kmc_ui.backends.local import LocalBackend
from kmc_ui.identity import COOKIE
from kmc_ui.providers import KEY_ENV_NAMES
from kmc_ui.settings import Settings
from kmc_ui.studio import Studio
from kmc_ui.ui.batch_tab import BatchHandlers
from kmc_ui.ui.studio_tab import BODY_OUTPUTS, INPUT_NAMES, REFRESH_OUTPUTS, StudioHandlers, run_id_of
from tests.figures import make_character, make_dance

SKIP = gr.skip()
OUTPUT = {name: i for i, name in enumerate(("image", "video", "prompt", "panel", "cost", "trim", "generate", "sent"))}


class FakeRequest:
    """What the handlers read of a gr.Request: the page (session hash) and the headers."""

    def __init__(self, session: str = "page-1", cookie: str = "", lang: str = "en") -> None:
        self.session_hash = session
        self.headers = {"cookie": cookie, "accept-language": lang}
        self.client = None


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("handlers") / "data")
    studio = Studio(settings, {"local": LocalBackend(settings)})
    yield studio
    studio.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("handler-media")
    return {
        "image": str(make_character(root / "character.png", 360, 640)),
        "video": str(make_dance(root / "dance.mp4", 360, 640, seconds=3.5, fps=12, audio=False)),
        "long": str(make_dance(root / "long.mp4", 360, 640, seconds=12.0, fps=8, audio=False)),
    }


@pytest.fixture
def page(studio: Studio) -> FakeRequest:
    """A page with its own signed visitor cookie (as kmc's middleware gives every browser)."""
    _visitor, cookie = studio.identity.issue()
    return FakeRequest(cookie=f"{COOKIE}={cookie}")


def values(image: str | None = None, video: str | None = None, orientation: str = "video", trim: float = 0) -> list:
    """The Studio tab's inputs (INPUT_NAMES) as the page sends them."""
    return [image, video, "", orientation, "std", True, "v2.6", "local", trim]


def generate_args(image: str | None, video: str | None, request: Any) -> list[Any]:
    """/generate's (and its validator's) arguments, by position: inputs, url, keys, tail, request."""
    return [*values(image, video), "", *("" for _ in KEY_ENV_NAMES), "", False, None, request]


def test_refresh_shows_the_limit_findings_and_keeps_generate_open(
    studio: Studio, files: dict[str, str], page: FakeRequest
) -> None:
    h = StudioHandlers(studio)
    out = h.refresh(page, *values(files["image"], files["video"]))
    assert len(out) == REFRESH_OUTPUTS
    assert out[OUTPUT["generate"]]["interactive"] is True
    assert out[OUTPUT["sent"]]["visible"] is False  # nothing will change
    assert out[OUTPUT["trim"]]["visible"] is False
    assert out[OUTPUT["cost"]].startswith("**Cost estimate**")
    empty = h.refresh(page, *values())
    assert empty[OUTPUT["sent"]]["visible"] is False and empty[OUTPUT["generate"]]["interactive"] is True


def test_an_over_long_clip_in_orientation_image_shows_the_trim_window(
    studio: Studio, files: dict[str, str], page: FakeRequest
) -> None:
    out = StudioHandlers(studio).refresh(page, *values(files["image"], files["long"], "image"))
    slider = out[OUTPUT["trim"]]
    assert slider["visible"] is True and slider["maximum"] == 2.0  # 12 s clip, 10 s at most
    assert out[OUTPUT["sent"]]["visible"] is True  # preparing trims it
    assert out[OUTPUT["generate"]]["interactive"] is True  # Generate prepares it by itself
    assert "12" in out[OUTPUT["video"]]  # the too-long finding under the video


def test_the_body_check_answers_for_the_latest_inputs(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    h = StudioHandlers(studio)
    h.refresh(page, *values(files["image"], files["video"]))
    out = h.body(page, *values(files["image"], files["video"]))
    assert len(out) == BODY_OUTPUTS and all(x != SKIP for x in out[:REFRESH_OUTPUTS])
    assert "kmc-pending" not in out[OUTPUT["panel"]]  # the body check is done
    assert studio.body_cached(studio_inputs(files["image"], files["video"])) is not None
    again = h.refresh(page, *values(files["image"], files["video"]))  # later refreshes use the cached body check
    assert again[OUTPUT["panel"]] == out[OUTPUT["panel"]]


def test_a_stale_body_check_answer_is_dropped(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    """refresh(A), refresh(B), body(A): skipped (A is no longer on the page); body(B): answered."""
    h = StudioHandlers(studio)
    a = values(files["image"], files["long"], "image")
    b = values(files["image"], files["video"])
    h.refresh(page, *a)
    h.refresh(page, *b)
    assert h.body(page, *a) == tuple(SKIP for _ in range(BODY_OUTPUTS))
    answered = h.body(page, *b)
    assert all(x != SKIP for x in answered[:REFRESH_OUTPUTS])
    # another page's inputs are its own: page 2 still shows A
    other = FakeRequest(session="page-2", cookie=page.headers["cookie"])
    h.refresh(other, *a)
    assert all(x != SKIP for x in h.body(other, *a)[:REFRESH_OUTPUTS])
    # the slider moved by the body check's suggestion is not a change of inputs
    assert h.body(page, *values(files["image"], files["video"], trim=1.0))[OUTPUT["panel"]] != SKIP


def test_a_body_check_finishing_after_a_newer_refresh_is_dropped(
    studio: Studio, files: dict[str, str], page: FakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = StudioHandlers(studio)
    a = values(files["image"], files["video"], "image")
    b = values(files["image"], files["video"], "video")
    h.refresh(page, *a)
    checked = studio.body_check

    def slow_check(inputs: Any, **kwargs: Any) -> Any:  # the visitor changes an input meanwhile
        h.refresh(page, *b)
        return checked(inputs, **kwargs)

    monkeypatch.setattr(studio, "body_check", slow_check)
    assert h.body(page, *a) == tuple(SKIP for _ in range(BODY_OUTPUTS))


def test_check_api_answers_without_server_paths(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    answer = StudioHandlers(studio).api_check(*values(files["image"], files["video"])[:-1], page)
    assert answer["blocking"] is False and answer["video"]["name"] == "dance.mp4"
    assert "path" not in answer["video"] and "path" not in answer["image"]


def test_validate_generate_names_the_missing_input(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    h = StudioHandlers(studio)
    answer = h.validate_generate(*generate_args(None, files["video"], page))
    assert answer[0]["is_valid"] is False and "image" in answer[0]["message"].lower()
    assert all(a["is_valid"] for a in answer[1:])
    assert len(answer) == len(generate_args(None, None, page)) - 1  # one per input, none for the request


def test_prepare_without_inputs_and_stop_with_nothing_running(studio: Studio, page: FakeRequest) -> None:
    h = StudioHandlers(studio)
    assert h.do_prepare(page, *values())[2] == "Upload the inputs first."
    assert h.stopped(page) == SKIP  # nothing runs: the page keeps what it shows
    assert h.do_report("no-such-run", page)[1] == ""  # not this visitor's run: as if there were none
    assert run_id_of({"run_id": "abc"}) == "abc" and run_id_of(3) == ""


def test_prepare_trims_an_over_long_clip(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    image, video, said, key = StudioHandlers(studio).do_prepare(page, *values(files["image"], files["long"], "image"))
    assert image and video and key
    assert "⛔" not in said


def test_generate_then_report_on_the_offline_engine(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    h = StudioHandlers(studio)
    args = generate_args(files["image"], files["video"], page)
    assert all(a["is_valid"] for a in h.validate_generate(*args))
    steps = list(h.do_generate(*args, None))  # (no Hugging Face profile)
    status, player, download, record, pending = steps[-1]
    assert record["status"] == "succeeded" and download and player != SKIP and pending, status
    shown, summary, _plot, _record = h.do_report(record, page)
    assert summary and shown != SKIP
    stranger = FakeRequest(session="page-9")  # another visitor: the run is not theirs
    assert h.do_report(record, stranger)[1] == ""


def studio_inputs(image: str, video: str) -> Any:
    from kmc_ui.ui.studio_tab import inputs_of

    return inputs_of(*values(image, video))


def test_input_names_match_the_values() -> None:
    assert len(INPUT_NAMES) == len(values())


def test_handlers_are_read_by_gradio_as_before(studio: Studio) -> None:
    """Gradio injects gr.Request by annotation: the bound methods must show it (functools.partial hides it)."""
    import inspect

    from gradio import utils

    h = StudioHandlers(studio)
    assert utils.get_type_hints(h.refresh).get("request") is gr.Request
    names = list(inspect.signature(h.do_generate).parameters)
    assert names[:10] == [*INPUT_NAMES, "url"] and names[-2:] == ["request", "profile"]
    assert inspect.isgeneratorfunction(h.do_generate) and inspect.isgeneratorfunction(h.follow_run)
    assert list(inspect.signature(h.api_check).parameters)[:8] == list(INPUT_NAMES[:8])
    assert list(inspect.signature(h.do_report).parameters) == ["run", "request"]


def test_batch_handlers_plan_and_stop(studio: Studio, files: dict[str, str], page: FakeRequest) -> None:
    """The Batch tab's handlers (kmc_ui/ui/batch_tab.py) are called the same way."""
    h = BatchHandlers(studio)
    settings = ["", "image", "std", True, "v2.6", "local"]
    planned = h.on_plan(page, [files["image"]], [files["video"], files["long"]], *settings)
    assert planned.count("will run") == 2 and "free" in planned  # the 12 s clip is trimmed, not skipped
    assert h.on_plan(page, [], [files["video"]], *settings).startswith("<p>⛔")
    assert h.stopped(page) == SKIP
