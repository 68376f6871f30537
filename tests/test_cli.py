"""`python -m kmc_ui check`: findings, JSON shape and exit codes, as outside scripts use it."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.media_factory import make_image, make_video

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.fakes.fixtures"]


def run_cli(*args: str, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_", "REPLICATE_", "KMC_"))}
    env = base | {"KMC_DATA_DIR": str(tmp_path / "data")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "kmc_ui", *args],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    return (
        make_image(d / "char.png", 720, 1280),
        make_video(d / "ok.mp4", 360, 640, seconds=4),
        make_video(d / "long.mp4", 360, 640, seconds=12, fps=12),
    )


def test_check_ok_exits_zero_with_json(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    image, video, _ = pair
    res = run_cli("check", str(image), str(video), "--json", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["blocking"] is False
    for f in data["findings"]:
        assert set(f) >= {"level", "input", "code", "message"}
        assert f["level"] != "error"


def test_check_error_exits_one_and_names_the_input(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    image, _, long_video = pair
    res = run_cli("check", str(image), str(long_video), "--orientation", "image", "--json", tmp_path=tmp_path)
    assert res.returncode == 1
    codes = {(f["level"], f["input"], f["code"]) for f in json.loads(res.stdout)["findings"]}
    assert ("error", "video", "video_too_long") in codes
    text = run_cli("check", str(image), str(long_video), "--orientation", "image", tmp_path=tmp_path)
    assert text.returncode == 1 and "video_too_long" in text.stdout and "12 s" in text.stdout


def test_check_video_orientation_allows_twelve_seconds(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    image, _, long_video = pair
    res = run_cli("check", str(image), str(long_video), "--orientation", "video", "--json", tmp_path=tmp_path)
    assert res.returncode == 0
    assert "video_too_long" not in res.stdout


def test_check_refuses_private_urls_with_a_clear_message(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    image, _, _ = pair
    res = run_cli("check", str(image), "http://127.0.0.1:9/clip.mp4", tmp_path=tmp_path)
    assert res.returncode == 2
    assert "private or local address" in res.stderr and "Traceback" not in res.stderr


def test_missing_file_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    res = run_cli("check", str(tmp_path / "nope.png"), str(tmp_path / "nope.mp4"), "--json", tmp_path=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    findings = json.loads(res.stdout)["findings"]
    assert {f["code"] for f in findings if f["level"] == "error"} == {"image_missing", "video_missing"}
    # the body checks cannot run on missing files: they say so as a hint, never an error
    assert {f["code"] for f in findings if f["level"] != "error"} <= {"pose_check_skipped"}


@pytest.mark.slow
def test_generate_writes_the_result_and_its_record(tmp_path: Path) -> None:
    """`generate` on the offline engine: progress on stderr, the result at --out, the run record as JSON."""
    from tests.figures import make_character, make_dance

    image = make_character(tmp_path / "character.png")
    video = make_dance(tmp_path / "dance.mp4", seconds=3.1)
    out = tmp_path / "out" / "result.mp4"
    res = run_cli(
        "generate", str(image), str(video), "--out", str(out), "--backend", "local", "--json", tmp_path=tmp_path
    )
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)
    assert record["status"] == "succeeded" and record["provider"] == "local" and record["task_id"]
    assert "Rendering frame" in res.stderr and "Traceback" not in res.stderr
    # stderr is a pipe here, not a terminal: each step once, on a line of its own (no carriage
    # returns redrawing one line, no line repeated while nothing changed)
    lines = [line.split("]", 1)[1] for line in res.stderr.splitlines() if line.startswith("[")]
    assert "\r" not in res.stderr and len(lines) > 3
    assert all(a != b for a, b in itertools.pairwise(lines)), lines
    # the engine's notes said at the end and kept with the run (they were dropped on success)
    assert lines[-1].split()[:1] == ["done"] and "The result is ready. " in lines[-1], lines[-1]
    assert "the prompt is not used" in lines[-1] and "the prompt is not used" in record["notes"]
    from kmc_ui.media.probe import probe_video

    info = probe_video(out)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p" and info.duration == pytest.approx(3.1, abs=0.15)


def test_generate_failure_exits_one_with_the_reason(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    image, _, _ = pair
    short = make_video(tmp_path / "short.mp4", 360, 640, seconds=2)
    res = run_cli(
        "generate", str(image), str(short), "--out", str(tmp_path / "x.mp4"), "--backend", "local", tmp_path=tmp_path
    )
    assert res.returncode == 1
    assert "at least 3 s" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_generate_sends_a_public_video_url_as_it_is(tmp_path: Path, quick_kling: Any, media_server: Any) -> None:
    """`generate IMG https://.../clip.mp4 --backend kling` with no KMC_PUBLIC_BASE_URL: the clip needs no
    change, so Kling gets the URL the user gave; a clip that must change says why a public URL of the
    prepared file is needed, before anything is sent or recorded."""
    from tests.figures import make_character

    image = make_character(tmp_path / "character.png")
    clip = make_video(tmp_path / "clip.mp4", 720, 1280, seconds=4)
    url = media_server.host.register(clip)  # a public URL of the clip (the loopback media server)
    env = {
        "KLING_ACCESS_KEY": quick_kling.access_key,
        "KLING_SECRET_KEY": quick_kling.secret_key,
        "KLING_API_BASE": quick_kling.base_url,
        "KMC_ALLOW_PRIVATE_URLS": "1",
    }
    out = tmp_path / "result.mp4"
    res = run_cli(
        "generate", str(image), url, "--out", str(out), "--backend", "kling", "--json", tmp_path=tmp_path, env=env
    )
    assert res.returncode == 0, res.stderr
    (task,) = quick_kling.tasks.values()
    assert task.body["video_url"] == url and out.is_file()
    long_clip = make_video(tmp_path / "long.mp4", 720, 1280, seconds=12, fps=12)  # trimmed to 10 s for `image`
    long_url = media_server.host.register(long_clip)
    args = ("generate", str(image), long_url, "--out", str(tmp_path / "x.mp4"), "--backend", "kling")
    res = run_cli(*args, "--orientation", "image", tmp_path=tmp_path, env=env)
    assert res.returncode == 1 and "so the URL you gave is not what would be sent" in res.stderr, res.stderr
    assert "KMC_PUBLIC_BASE_URL" in res.stderr and len(quick_kling.tasks) == 1


def test_identity_lock_and_watermark_from_the_command_line(
    tmp_path: Path, kling2_server: Any, media_server: Any
) -> None:
    """`--angle` adds pictures for Kling 3.0's identity lock (checked first: a too-small one stops the run
    with its name and exit 1), `--watermark` keeps a watermarked copy beside the result."""
    from tests.fakes.kling import Scenario
    from tests.figures import make_character

    kling2_server.reset()
    kling2_server.scenario = Scenario(submitted_s=0.1, processing_s=0.2)
    image = make_character(tmp_path / "character.png")
    side = make_image(tmp_path / "side.jpg", 500, 800, fmt="JPEG")
    small = make_image(tmp_path / "small.jpg", 200, 400, fmt="JPEG")
    clip = make_video(tmp_path / "clip.mp4", 720, 1280, seconds=4)
    url = media_server.host.register(clip)
    env = {"KLING_API_KEY": kling2_server.api_key, "KLING_API_BASE": kling2_server.base_url}
    env |= {"KMC_ALLOW_PRIVATE_URLS": "1"}
    lock = ("--model", "v3", "--backend", "kling2", "--orientation", "image")
    checked = run_cli(
        "check", str(image), str(clip), *lock, "--angle", str(small), "--no-pose", "--json", tmp_path=tmp_path
    )
    codes = {f["code"]: f for f in json.loads(checked.stdout)["findings"]}
    assert checked.returncode == 1 and "Extra character picture 1" in codes["element_too_small"]["message"]
    assert codes["element_orientation"]["level"] == "warning"
    out = tmp_path / "result.mp4"
    args = ("generate", str(image), url, "--out", str(out), *lock, "--angle", str(side), "--watermark", "--json")
    res = run_cli(*args, tmp_path=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    create = kling2_server.requests_at("create")[-1].json
    assert any(c["type"] == "element" for c in create["contents"]) and create["options"]["watermark_info"]["enabled"]
    assert create["settings"]["character_orientation"] == "video" and out.is_file()
    assert kling2_server.element_creates == 1
    kling2_server.reset()
