"""The Blocks app launched on localhost and driven with gradio_client, as an outside script would.

The official Kling backend runs against the loopback fake; the app serves the prepared video
to the fake through its own media route (KMC_PUBLIC_BASE_URL = the app's own URL).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import ValidationError

from kmc_ui.media.probe import probe_video
from kmc_ui.settings import Settings
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling
from tests.runstore import stored_records

pytest_plugins = ["tests.fakes.fixtures"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app(kling_server: FakeKling, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Settings]]:
    from kmc_ui.server import launch

    port = free_port()
    settings = kling_app_settings(kling_server, f"http://127.0.0.1:{port}", tmp_path_factory.mktemp("ui") / "data")
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    client = Client(demo.local_url, verbose=False)
    yield client, settings
    client.close()
    demo.close()


GEN = {"prompt": "", "backend": "kling", "api_name": "/generate"}  # the rest keep defaults


def test_api_lists_only_public_endpoints(app: tuple[Client, Settings]) -> None:
    client, _ = app
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names == {"/check", "/generate", "/report"}


def test_check_reports_findings_and_cost(
    app: tuple[Client, Settings], character_image: Path, reference_video: Path, short_video: Path
) -> None:
    client, _ = app
    ok = client.predict(
        handle_file(str(character_image)),
        handle_file(str(reference_video)),
        "",
        "video",
        "pro",
        True,
        "v3",
        "kling",
        api_name="/check",
    )
    assert ok["blocking"] is False
    assert ok["estimate"]["usd"] == pytest.approx(4 * 0.168)  # 3.5 s is billed as 4 s (whole seconds)
    assert ok["estimate"]["units"] == pytest.approx(4 * 1.2)
    bad = client.predict(
        handle_file(str(character_image)),
        handle_file(str(short_video)),
        "",
        "video",
        "std",
        True,
        "v2.6",
        "kling",
        api_name="/check",
    )
    codes = {(f["level"], f["input"], f["code"]) for f in bad["findings"]}
    assert ("error", "video", "video_too_short") in codes
    assert ("hint", "video", "video_no_audio") in codes
    assert bad["blocking"] is True


def test_generate_valid_pair_through_to_a_result(
    app: tuple[Client, Settings], kling_server: FakeKling, character_image: Path, reference_video: Path
) -> None:
    client, settings = app
    kling_server.reset()
    status, player, download, record, pending = client.predict(
        image=handle_file(str(character_image)), video=handle_file(str(reference_video)), **GEN
    )
    assert "Measuring" in pending  # the report follows in its own event (/report), not holding a slot
    assert "Done" in status, status
    info = probe_video(download)
    assert info.ok and info.codec == "h264"
    # The side-by-side player gets both files, served from this run's folder.
    assert player["ref"].startswith("/gradio_api/file=") and player["out"].startswith("/gradio_api/file=")
    assert record["status"] == "succeeded" and record["task_id"] and record["provider"] == "kling"
    # Every result gets a motion-agreement report (the fake's test pattern has nobody in it: measured as such).
    player2, report_md, _plot, record = client.predict(record, api_name="/report")
    assert set(record["report"]) >= {"pck", "offset_s", "lost_frames", "per_frame", "summary"}
    assert report_md == record["report"]["summary"] and report_md
    assert player2["out"] == player["out"]
    # The record shows file names, never the owner or a server path; the player's links name no run.
    assert "owner" not in record and "inputs" not in record and "output" not in record
    assert record["files"]["output"] == "output.mp4" and "plot_path" not in record["report"]
    assert "/runs/" not in str(player) and record["run_id"] not in str(player)
    (stored,) = [r for r in stored_records(settings.data_dir) if r["run_id"] == record["run_id"]]
    ref = probe_video(stored["inputs"]["video"])
    assert ref.ok and ref.duration == pytest.approx(3.5, abs=0.1)
    # The fake fetched our prepared video from the app's own media route, and got a valid JWT.
    creates = [r for r in kling_server.requests if r.method == "POST"]
    assert len(creates) == 1
    body = creates[0].json
    assert body["video_url"].startswith(settings.public_base_url + "/kmc-media/")
    assert body["keep_original_sound"] == "yes" and body["mode"] == "std" and body["model_name"] == "kling-v2-6"
    assert not body["image_url"].startswith("data:")
    # The run is in the store with the task id, in the History of the visitor id in this client's signed cookie.
    owner = client.cookies["kmc_visitor"].split(".")[1]
    assert stored["owner"] == owner and stored["task_id"]


def test_invalid_input_is_rejected_on_the_right_input(
    app: tuple[Client, Settings], character_image: Path, short_video: Path
) -> None:
    client, _ = app
    with pytest.raises(ValidationError) as err:
        client.predict(image=handle_file(str(character_image)), video=handle_file(str(short_video)), **GEN)
    text = str(err.value)
    assert "- video: Motion video lasts 2 s" in text  # drawn on the video input
    assert "at least 3 s" in text and "2" in text


def test_missing_image_is_rejected(app: tuple[Client, Settings], reference_video: Path) -> None:
    client, _ = app
    with pytest.raises(ValidationError, match="Add a character image"):
        client.predict(image=None, video=handle_file(str(reference_video)), **GEN)


def test_api_parameters_are_unchanged_by_the_language_wiring(app: tuple[Client, Settings]) -> None:
    """Handlers take gr.Request for the reader's language; it is never an API parameter."""
    client, _ = app
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = {name: [p["parameter_name"] for p in info["parameters"]] for name, info in named.items()}
    assert params == {
        "/check": ["image", "video", "prompt", "orientation", "tier", "keep_sound", "model", "backend"],
        "/generate": [
            "image",
            "video",
            "prompt",
            "orientation",
            "tier",
            "keep_sound",
            "model",
            "backend",
            "trim",
            "kling_access_key",
            "kling_secret_key",
            "kling_api_key",
            "fal_key",
            "replicate_api_token",
            "watermark_on",  # added last, with a default: scripts that leave it out still work
        ],
        "/report": ["run"],
    }
    (watermark,) = [p for p in named["/generate"]["parameters"] if p["parameter_name"] == "watermark_on"]
    assert watermark["parameter_has_default"] and watermark["parameter_default"] is False


def test_check_and_validation_answer_in_chinese_only_when_asked(
    app: tuple[Client, Settings], character_image: Path, short_video: Path
) -> None:
    client, _ = app
    args = (handle_file(str(character_image)), handle_file(str(short_video)), "", "video", "std", True, "v2.6", "kling")
    english = client.predict(*args, api_name="/check")
    zh_client = Client(client.src, headers={"Accept-Language": "zh-CN,zh;q=0.9"}, verbose=False)
    try:
        chinese = zh_client.predict(*args, api_name="/check")
        with pytest.raises(ValidationError) as err:
            zh_client.predict(image=handle_file(str(character_image)), video=handle_file(str(short_video)), **GEN)
    finally:
        zh_client.close()
    assert [f["code"] for f in chinese["findings"]] == [f["code"] for f in english["findings"]]
    short = next(f for f in english["findings"] if f["code"] == "video_too_short")
    assert short["message"] == "Motion video lasts 2 s; it must be at least 3 s."  # English by default
    short_zh = next(f for f in chinese["findings"] if f["code"] == "video_too_short")
    assert short_zh["message"] == "动作视频时长 2 秒；至少需要 3 秒。"
    assert short_zh["fix"] == "请使用更长的片段（至少 3 秒的连续动作）。"
    assert "- video: 动作视频时长 2 秒" in str(err.value)
