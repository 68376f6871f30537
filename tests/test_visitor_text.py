"""No internal error text reaches a visitor, in English or Chinese: no errno texts, no server or
temporary paths, no exception class names, no tracebacks.

Hostile inputs (a text file renamed .mp4, an MP4 cut short, a zero-byte PNG, a text file named .png,
a folder named like a picture) go through the Studio's checks and preparation as the page renders
them, and through the launched app's raw Gradio queue (the /check API and the page's own checks
event), as a stranger would send them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kmc_ui.settings import Settings
from kmc_ui.ui.scrub import leaks, visitor_text
from tests.browser import free_port
from tests.figures import make_character, make_dance
from tests.raw_queue import call, config, upload

CLASS_NAME = re.compile(r"\b\w+(?:Error|Exception)\b")


def hostile(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    video = make_dance(folder / "dance.mp4", seconds=3.1)
    data = video.read_bytes()
    (folder / "notes.mp4").write_text("a text file renamed .mp4\n" * 40)
    (folder / "cut short.mp4").write_bytes(data[: len(data) // 3])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("not a picture")
    (folder / "folder.png").mkdir(exist_ok=True)
    return {
        "image": make_character(folder / "character.png"),
        "video": video,
        "text_as_video": folder / "notes.mp4",
        "cut_video": folder / "cut short.mp4",
        "empty_image": folder / "empty.png",
        "text_as_image": folder / "notes.png",
        "folder_image": folder / "folder.png",
    }


def assert_clean(text: str, *paths: str) -> None:
    found = leaks(text, *paths)
    assert not found, f"{found} in: {text[:600]}"
    assert not CLASS_NAME.search(text), text[:600]
    assert "Error:" not in text.replace("⛔ Error:", ""), text[:600]


def test_visitor_text_removes_errno_paths_and_class_names() -> None:
    said = visitor_text(
        "Body checks of the motion video were skipped: the video cannot be opened ([Errno 1094995529] "
        "Invalid data found when processing input: '/tmp/gradio/0a1b2c/notes.mp4')."
    )
    assert said == "Body checks of the motion video were skipped: the video cannot be opened."
    assert visitor_text("[Errno 2] No such file or directory: '/tmp/gradio/x/clip.mp4'") == (
        "No such file or directory: 'clip.mp4'"
    )
    assert visitor_text("身体检查无法运行（UnidentifiedImageError）。") == "身体检查无法运行。"
    assert visitor_text("ValueError: bad frame in /work/main/data/runs/a/b/result.mp4") == "bad frame in result.mp4"
    kept = "Open https://example.com/a/b/c.mp4 (a 16/9 clip, 1/2 s). Error: too long. Fix: trim it."
    assert visitor_text(kept) == kept


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_inputs_through_the_studio_checks_say_nothing_internal(tmp_path: Path, lang: str) -> None:
    from kmc_ui.server import make_backends
    from kmc_ui.studio import Inputs, Studio
    from kmc_ui.ui import render

    files = hostile(tmp_path / "in")
    settings = Settings(data_dir=tmp_path / "data")
    studio = Studio(settings, make_backends(settings, None))
    pairs = [
        (files["image"], files["text_as_video"]),
        (files["image"], files["cut_video"]),
        (files["empty_image"], files["video"]),
        (files["text_as_image"], files["video"]),
        (files["folder_image"], files["video"]),
        (files["image"], tmp_path / "in" / "gone.mp4"),
    ]
    for image, video in pairs:
        inputs = Inputs(image=str(image), video=str(video), backend="local")
        report = studio.check(inputs)
        body = studio.body_check(inputs, previews=False)
        prepared = studio.prepare(inputs)
        findings = report.findings + body.findings + prepared.findings
        assert any(f.level == "error" for f in findings), (image, video)
        shown = [
            render.findings_html(findings, lang=lang),
            render.summary_html(findings, lang=lang),
            render.image_facts(report.image, lang),
            render.video_facts(report.video, lang),
            render.image_facts(prepared.image, lang),
            render.video_facts(prepared.video, lang),
        ]
        for text in shown:
            assert_clean(text, str(tmp_path), str(settings.data_dir))
        names = {Path(image).name, Path(video).name}
        # which input is wrong is said; the file is named by its base name at most
        assert any(w in shown[0] for w in ("Motion video", "Character image", "动作视频", "角色图片")), shown[0]
        assert names  # (base names may appear; full paths may not, checked above)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from kmc_ui.server import launch

    data = tmp_path_factory.mktemp("visitor") / "data"
    demo = launch(Settings(data_dir=data), block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield demo.local_url.rstrip("/"), data
    demo.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_hostile_uploads_through_the_raw_queue_say_nothing_internal(
    app: tuple[str, Path], tmp_path: Path, lang: str
) -> None:
    url, data = app
    files = hostile(tmp_path / "in")
    pairs = [
        ("image", "text_as_video"),
        ("image", "cut_video"),
        ("empty_image", "video"),
        ("text_as_image", "video"),
    ]
    with httpx.Client(base_url=url, timeout=120, headers={"Accept-Language": lang}) as client:
        cfg = config(client)
        check = next(d for d in cfg.dependencies if d.get("api_name") == "check")
        body = next(d for d in cfg.dependencies if d.get("api_name") == "body")
        for image_key, video_key in pairs:
            image, video = upload(client, files[image_key]), upload(client, files[video_key])
            temp_dir = str(Path(video["path"]).parent.parent)  # Gradio's temporary copies live there
            answers = [
                call(client, check, [image, video, "", "video", "std", True, "v2.6", "local"]),
                call(client, body, [image, video, "", "video", "std", True, "v2.6", "local", 0]),
            ]
            for answer in answers:
                assert answer.success, answer.text()[:800]
                outputs = answer.outputs
                shown = json.dumps(
                    [o for o in outputs if not (isinstance(o, dict) and "path" in o)], ensure_ascii=False
                )
                assert_clean(shown, temp_dir, str(data), str(tmp_path))
            report = answers[0].outputs[0]
            assert report["blocking"] is True
            messages = " ".join(f["message"] for f in report["findings"])
            if lang.startswith("zh"):
                assert re.search("[\u4e00-\u9fff]", messages)
