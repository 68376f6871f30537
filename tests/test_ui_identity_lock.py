"""The identity lock and the watermark option through the served app, as an outside script and as a
stranger calling the hidden events through the raw queue."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from kmc_ui.settings import Settings
from tests import raw_queue
from tests.fakes.kling import Scenario as KlingScenario
from tests.fakes.kling2 import FakeKling2
from tests.media_factory import make_image

pytest_plugins = ["tests.fakes.fixtures"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app(kling2_server: FakeKling2, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from kmc_ui.server import launch

    kling2_server.reset()
    kling2_server.scenario = KlingScenario(submitted_s=0.1, processing_s=0.2)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        backend="kling2",
        kling_api_key=kling2_server.api_key,
        kling_api_base=kling2_server.base_url,
        public_base_url=url,
        allow_private_urls=True,
        data_dir=tmp_path_factory.mktemp("lock") / "data",
    )
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    yield demo.local_url
    demo.close()
    kling2_server.reset()


def locked_generate(
    browser: httpx.Client, picture: Path, image: Path, video: Path, **chosen: Any
) -> tuple[raw_queue.Answer, dict[str, int]]:
    """As the page does it: the picture uploaded to the identity lock, then Generate with model v3 (and
    `chosen`: elem_id -> value) in the same page. The answer and the page's elem_id -> component id."""
    page = secrets.token_hex(6)
    cfg = raw_queue.config(browser)
    ids = {c["props"].get("elem_id"): cid for cid, c in cfg.components.items()}
    picked = raw_queue.call(
        browser,
        event(cfg, ids["kmc-lock-pictures"]),
        [[raw_queue.upload(browser, picture)], "video", "v3", "kling2"],
        session=page,
    )
    assert picked.success, picked.text()
    gen, values = raw_queue.generate_values(browser, image, video, "kling2")
    where = {cfg.components[c]["props"].get("elem_id"): i for i, c in enumerate(gen["inputs"])}
    for elem_id, value in {"kmc-model": "v3", **chosen}.items():
        values[where[elem_id]] = value
    return raw_queue.call(browser, gen, values, timeout=120, session=page), ids


def test_generate_with_an_identity_lock_and_a_watermark(
    app: str, kling2_server: FakeKling2, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    """As the page does it: the pictures uploaded to the identity lock, then Generate in the same page."""
    side = make_image(tmp_path / "side.jpg", 500, 800, fmt="JPEG")
    with httpx.Client(base_url=app, timeout=120) as browser:
        answer, _ids = locked_generate(browser, side, character_image, reference_video, **{"kmc-watermark": True})
    assert answer.success, answer.text()
    status, _player, _download, record, _pending = answer.outputs
    assert "Done" in status, status
    assert record["status"] == "succeeded" and record["settings"]["orientation"] == "video"
    assert record["settings"]["watermark"] is True
    assert record["files"]["output_watermarked"] == "output_watermarked.mp4"
    (element,) = kling2_server.elements.values()
    assert record["element_id"] == str(element.element_id)
    assert "element" not in record and "/" not in str(record["files"])  # no server paths
    create = kling2_server.requests_at("create")[-1].json
    assert {"type": "element", "element_id": str(element.element_id), "id": "character"} in create["contents"]
    assert create["options"]["watermark_info"] == {"enabled": True}
    # /generate keeps the signature outside scripts know: no picture paths can be handed to it.
    client = Client(app, verbose=False)
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/generate"]["parameters"]
    assert "angles" not in {p["parameter_name"] for p in params}
    client.close()


def event(cfg: raw_queue.Config, target: int) -> dict[str, Any]:
    (dep,) = [d for d in cfg.dependencies if d["targets"] and d["targets"][0][0] == target]
    return dep


def test_a_stranger_cannot_list_or_delete_another_visitors_elements(
    app: str, kling2_server: FakeKling2, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    side = make_image(tmp_path / "side2.png", 420, 760, fmt="PNG")
    with httpx.Client(base_url=app, timeout=120) as browser:
        answer, ids = locked_generate(browser, side, character_image, reference_video)
        assert answer.success, answer.text()
        cfg = raw_queue.config(browser)
        mine = raw_queue.call(browser, event(cfg, ids["kmc-lock"]), [])
        assert len(mine.outputs[0]["choices"]) >= 1  # its own page lists it
    made = [e for e in kling2_server.elements.values() if not e.deleted]
    assert made
    with httpx.Client(base_url=app, timeout=60) as stranger:
        cfg = raw_queue.config(stranger)
        ids = {c["props"].get("elem_id"): cid for cid, c in cfg.components.items()}
        (delete,) = [d for d in cfg.dependencies if d["targets"] and d["targets"][0][0] == ids["kmc-lock-delete"]]
        for element in made:
            answer = raw_queue.call(stranger, delete, [str(element.element_id)])
            assert answer.success, answer.text()
            assert "No such identity Element among yours" in answer.outputs[0]
        (listing,) = [d for d in cfg.dependencies if d["targets"] and d["targets"][0][0] == ids["kmc-lock"]]
        answer = raw_queue.call(stranger, listing, [])
        assert answer.success and answer.outputs[0].get("choices") == []
    assert not any(e.deleted for e in made)


def test_extra_pictures_set_the_orientation_and_show_their_findings(app: str, tmp_path: Path) -> None:
    small = make_image(tmp_path / "small.jpg", 200, 400, fmt="JPEG")
    with httpx.Client(base_url=app, timeout=60) as page:
        cfg = raw_queue.config(page)
        ids = {c["props"].get("elem_id"): cid for cid, c in cfg.components.items()}
        (changed,) = [d for d in cfg.dependencies if d["targets"] and d["targets"][0][0] == ids["kmc-lock-pictures"]]
        answer: Any = raw_queue.call(page, changed, [[raw_queue.upload(page, small)], "image", "v3", "kling2"])
        assert answer.success, answer.text()
        findings, orientation, _chosen = answer.outputs
        assert "Extra character picture 1" in findings and "300 px" in findings
        assert orientation["value"] == "video"


def test_a_server_path_cannot_be_slipped_in_as_a_picture(app: str, kling2_server: FakeKling2) -> None:
    """Only files uploaded to this app are taken: a raw-queue caller naming a server path gets nothing."""
    before = kling2_server.element_creates
    with httpx.Client(base_url=app, timeout=60) as stranger:
        cfg = raw_queue.config(stranger)
        ids = {c["props"].get("elem_id"): cid for cid, c in cfg.components.items()}
        forged = {"path": "/etc/hostname", "orig_name": "x.png", "meta": {"_type": "gradio.FileData"}}
        answer = raw_queue.call(stranger, event(cfg, ids["kmc-lock-pictures"]), [[forged], "video", "v3", "kling2"])
        assert not answer.success and not answer.outputs  # Gradio refuses a file it did not receive
        assert "/etc" not in answer.text()
    assert kling2_server.element_creates == before
