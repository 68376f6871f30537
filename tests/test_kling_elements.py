"""Kling's identity lock (facts addendum A1), the watermark option (A7) and the legacy lookup by our own id
(A5), end to end against the loopback fakes: real pictures, a real Studio, real workers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import pytest

from kmc_ui.backends.base import InvalidRequest, JobRequest
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.kling2 import Kling2Backend
from kmc_ui.backends.registry import build_backends
from kmc_ui.limits import ELEMENTS
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from kmc_ui.ui.runtime_text import translate
from tests.fakes.kling import FakeKling
from tests.fakes.kling import Scenario as KlingScenario
from tests.fakes.kling2 import FakeKling2
from tests.media_factory import make_image

pytest_plugins = ["tests.fakes.fixtures"]


@pytest.fixture
def kling2(kling2_server: FakeKling2) -> Any:
    kling2_server.reset()
    kling2_server.scenario = KlingScenario(submitted_s=0.1, processing_s=0.2)
    yield kling2_server
    kling2_server.reset()


@pytest.fixture
def angles(tmp_path: Path) -> list[Path]:
    """Two more pictures of the character (other angles): real JPEG and PNG files."""
    return [
        make_image(tmp_path / "side.jpg", 500, 800, fmt="JPEG"),
        make_image(tmp_path / "back.png", 420, 760, fmt="PNG"),
    ]


def studio_for(fake: FakeKling2, media_server: Any, data_dir: Path, **kw: Any) -> Studio:
    settings = Settings(
        kling_api_key=fake.api_key,
        kling_api_base=fake.base_url,
        public_base_url=media_server.url,
        allow_private_urls=True,
        data_dir=data_dir,
        **kw,
    )
    return Studio(settings, build_backends(settings, media_server.host))


def creates_3(fake: FakeKling2) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests_at("create") if r.path.endswith("kling-3.0")]


def test_the_identity_lock_makes_one_element_binds_it_and_reuses_it(
    kling2: FakeKling2,
    media_server: Any,
    tmp_path: Path,
    character_image: Path,
    reference_video: Path,
    angles: list[Path],
) -> None:
    studio = studio_for(kling2, media_server, tmp_path / "data")
    inputs = Inputs(
        image=str(character_image),
        video=str(reference_video),
        orientation="image",
        model="v3",
        backend="kling2",
        extra_pictures=tuple(str(p) for p in angles),
    )
    # Before paying: the page is told the orientation becomes `video`, and what an Element costs.
    codes = {f.code: f for f in studio.check(inputs).findings}
    assert codes["element_orientation"].level == "warning" and "'video'" in codes["element_orientation"].message
    assert "0 units" in codes["element_cost"].message
    assert not any(f.level == "error" for f in codes.values())

    last = list(studio.generate(inputs, "ann"))[-1]
    assert last.stage == "done", last.text
    assert kling2.element_creates == 1
    (element,) = kling2.elements.values()
    body = element.body
    assert body["reference_type"] == "image_refer" and len(body["element_image_list"]["refer_images"]) == 2
    assert body["tag_list"] == [{"tag_id": ELEMENTS.character_tag}]
    (create,) = creates_3(kling2)
    items = [c for c in create["contents"] if c["type"] == "element"]
    assert items == [{"type": "element", "element_id": str(element.element_id), "id": "character"}]
    assert create["settings"]["character_orientation"] == "video"  # the lock follows the video
    record = studio.history.get("ann", last.run_id)
    assert record["element"]["element_id"] == str(element.element_id)
    assert record["settings"]["orientation"] == "video"

    # The same pictures again: the Element is reused, not made (or paid) twice.
    again = list(studio.generate(inputs, "ann"))[-1]
    assert again.stage == "done", again.text
    assert kling2.element_creates == 1 and len(creates_3(kling2)) == 2
    # Another visitor's Elements are their own.
    other = list(studio.generate(inputs, "bob"))[-1]
    assert other.stage == "done" and kling2.element_creates == 2

    # Listed for its visitor only, and deleted at Kling and here.
    mine = studio.my_elements("ann")
    assert [e["element_id"] for e in mine] == [str(element.element_id)] and "owner" not in mine[0]
    refused = studio.delete_element("bob", str(element.element_id))
    assert refused == "No such identity Element among yours."
    deleted = studio.delete_element("ann", str(element.element_id))
    assert deleted == "The identity Element was deleted."
    # what Delete did, in Chinese from its message (kmc_ui/catalogue/backends.py element.*)
    assert [translate(t, "zh") for t in (refused, deleted)] == ["你的身份元素中没有这一个。", "身份元素已删除。"]
    assert element.deleted and studio.my_elements("ann") == []
    # A later run makes a new one (the old one is gone at Kling).
    assert list(studio.generate(inputs, "ann"))[-1].stage == "done"
    assert kling2.element_creates == 3


def test_extra_pictures_are_checked_against_the_element_limits_before_anything_is_sent(
    kling2: FakeKling2, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    studio = studio_for(kling2, media_server, tmp_path / "data")
    small = make_image(tmp_path / "small.jpg", 200, 400, fmt="JPEG")
    wide = make_image(tmp_path / "wide.png", 1400, 420, fmt="PNG")
    good = make_image(tmp_path / "good.jpg", 500, 800, fmt="JPEG")
    base = Inputs(image=str(character_image), video=str(reference_video), model="v3", backend="kling2")

    findings = studio.check(replace(base, extra_pictures=(str(good), str(small), str(wide)))).findings
    errors = {f.code: f.message for f in findings if f.level == "error"}
    assert "Extra character picture 2" in errors["element_too_small"]
    assert "Extra character picture 3" in errors["element_aspect"]
    assert any("Extra character picture" in m for m in errors.values())
    too_many = studio.check(replace(base, extra_pictures=(str(good),) * 4)).findings
    assert any(f.code == "element_too_many" and f.level == "error" for f in too_many)
    # 2.6 has no element type, and the legacy design documents no field for it.
    for inputs in (replace(base, model="v2.6"), replace(base, backend="kling")):
        unsupported = studio.check(replace(inputs, extra_pictures=(str(good),))).findings
        assert any(f.code == "element_unsupported" and f.level == "error" for f in unsupported)

    last = list(studio.generate(replace(base, extra_pictures=(str(small),)), "ann"))[-1]
    assert last.stage == "failed" and "Extra character picture 1" in last.text
    assert kling2.element_creates == 0 and kling2.create_count == 0


def test_an_element_kling_cannot_make_ends_the_run_before_its_create(
    kling2: FakeKling2,
    media_server: Any,
    tmp_path: Path,
    character_image: Path,
    reference_video: Path,
    angles: list[Path],
) -> None:
    kling2.element_failure = "The face in frontal_image is not clear"
    studio = studio_for(kling2, media_server, tmp_path / "data", daily_budget_usd=5.0)
    inputs = Inputs(
        image=str(character_image),
        video=str(reference_video),
        model="v3",
        backend="kling2",
        extra_pictures=(str(angles[0]),),
    )
    last = list(studio.generate(inputs, "ann"))[-1]
    assert last.stage == "failed", last.text
    assert "could not make the identity Element" in last.text and "not clear" in last.text
    assert kling2.element_creates == 1 and kling2.create_count == 0  # no motion task: nothing paid
    assert studio.history.get("ann", last.run_id)["status"] == "failed"
    assert studio.ledger.summary()["reserved_usd"] == 0  # the reservation was released


def test_the_element_api_speaks_the_documented_protocol(
    kling2: FakeKling2, media_server: Any, tmp_path: Path, angles: list[Path], character_image: Path
) -> None:
    settings = Settings(kling_api_key=kling2.api_key, kling_api_base=kling2.base_url, data_dir=tmp_path)
    backend = Kling2Backend(settings, media_server.host)
    task_id = backend.create_element(character_image, angles, "kmc test", "kmc-el-run-1")
    assert backend.element_state(task_id).status == "queued"  # asynchronous: submitted first
    kling2.clock = lambda: 1e9  # the fake's creation is over
    state = backend.element_state("kmc-el-run-1")  # by our own id as well
    assert state.status == "succeeded" and state.element_id.isdigit() and state.units == 0.0
    backend.delete_element(state.element_id)
    with pytest.raises(InvalidRequest) as gone:
        backend.delete_element(state.element_id)
    assert gone.value.code == 1201
    with pytest.raises(InvalidRequest):  # 4 other angles: the API takes 1-3
        backend.create_element(character_image, angles * 2, "kmc test")
    backend.close()


@pytest.mark.parametrize("design", ["kling", "kling2"])
def test_a_watermarked_copy_is_kept_beside_the_clean_result(
    design: str,
    quick_kling: FakeKling,
    kling2: FakeKling2,
    media_server: Any,
    tmp_path: Path,
    character_image: Path,
    reference_video: Path,
) -> None:
    fake = quick_kling if design == "kling" else kling2
    key = quick_kling.legacy_api_key if design == "kling" else kling2.api_key
    settings = Settings(
        kling_api_key=key,
        kling_api_base=fake.base_url,
        public_base_url=media_server.url,
        allow_private_urls=True,
        data_dir=tmp_path / "data",
    )
    studio = Studio(settings, build_backends(settings, media_server.host))
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend=design, watermark=True)
    last = list(studio.generate(inputs, "ann"))[-1]
    assert last.stage == "done", last.text
    body = fake.requests_at("create")[-1].json
    asked = body.get("watermark_info") if design == "kling" else body["options"].get("watermark_info")
    assert asked == {"enabled": True}
    record = studio.history.get("ann", last.run_id)
    marked = Path(record["output_watermarked"])
    assert marked.name == "output_watermarked.mp4" and marked.parent == Path(record["output"]).parent
    with av.open(str(marked)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    # Without the option: no watermark asked for, no second file.
    plain = list(studio.generate(replace(inputs, watermark=False), "ann"))[-1]
    body = fake.requests_at("create")[-1].json
    assert "watermark_info" not in body and "watermark_info" not in body.get("options", {})
    assert "output_watermarked" not in studio.history.get("ann", plain.run_id)


def test_the_legacy_design_finds_a_task_by_our_id_directly(
    quick_kling: FakeKling, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    settings = Settings(
        kling_api_key=quick_kling.legacy_api_key,
        kling_api_base=quick_kling.base_url,
        public_base_url=media_server.url,
        allow_private_urls=True,
        data_dir=tmp_path,
    )
    backend = KlingLegacyBackend(settings, media_server.host)
    task_id = backend.submit(JobRequest(character_image, reference_video, run_id="run-direct-1"))
    polls = len(quick_kling.requests_at("poll"))
    assert backend.find_task("run-direct-1") == task_id
    assert quick_kling.requests_at("poll")[polls].path.endswith("/run-direct-1")  # one direct query
    assert not quick_kling.requests_at("list")  # no list pages needed
    # Unknown: 1201 "Task not found by id/external id", then the newest list page (500 a page) is read.
    assert backend.find_task("run-never-sent") is None
    (listed,) = quick_kling.requests_at("list")
    assert listed.query["pageSize"] == "500"
    backend.close()
