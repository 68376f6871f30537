"""Structured messages (kmc_ui/messages.py, kmc_ui/catalogue): a code and parameters, rendered per language.

- Every code has an English and a Chinese template, and each template's slots are the parameters
  its producers pass (checked on every finding the rule, body-check and identity-lock cases of
  tests/test_runtime_text.py produce).
- A finding renders in Chinese from its code and parameters; its English stays what it was.
- to_dict (the API's JSON) carries code and parameters; a nested Msg; an unknown code, a missing
  Chinese template or a missing parameter never raise; a parameter is never read as a template;
  the UI escapes what it puts into HTML.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kmc_ui.catalogue import EN, ZH
from kmc_ui.catalogue import findings as findings_catalogue
from kmc_ui.checks import pose
from kmc_ui.checks.pose import findings_from, superseded_finding
from kmc_ui.checks.rules import check_image, check_prompt, check_video
from kmc_ui.elements import check_pictures
from kmc_ui.findings import Finding
from kmc_ui.media.probe import FRAME_COUNT_CAP
from kmc_ui.messages import FORMATTERS, Msg, render, slots
from kmc_ui.pose import landmarks as L
from kmc_ui.ui import render as ui_render
from kmc_ui.ui.runtime_text import finding_said, say
from tests.test_pose import hidden_hand_case, img_analysis, standing, still, vid_analysis
from tests.test_runtime_text import _image, _video, pose_findings_all, rule_findings


def more_findings() -> list[Finding]:
    """The variants the cases of tests/test_runtime_text.py do not reach."""
    out = check_image(_image(format="GIF", extension=".gif", frames=FRAME_COUNT_CAP))
    out += check_image(_image(format="WEBP", extension=".webp", width=8000, height=7000))
    out += check_video(_video(container="", extension=".mp4"))
    out += [superseded_finding()]
    out += findings_from(None, replace(vid_analysis(still(20)), cut_short="cancelled"))
    image, video = hidden_hand_case(0.9, 1.0)
    out += findings_from(image, None)  # no motion yet: the soft hint
    raised = video.landmarks.copy()
    raised[::4, L.L_WRIST, 1] = raised[::4, L.SHOULDERS[0], 1] - 50  # above the shoulder in a quarter
    out += findings_from(image, replace(video, landmarks=raised))
    turning = [standing() for _ in range(20)]
    for lm in turning[10:]:
        lm[:, 0] = 2 * 500 - lm[:, 0]  # seen from the back
    bg = np.zeros((20, 3), dtype=np.float32)
    bg[1:, 0] = 0.5 / 19
    out += findings_from(img_analysis(standing()), vid_analysis(turning, bg_motion=bg), "image")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pose, "analyse_image", lambda *a, **k: 1 / 0)
        out += pose.pose_findings("x.png", None)
    return out


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    tmp = tmp_path_factory.mktemp("messages")
    out = rule_findings(tmp) + pose_findings_all() + more_findings()
    out += check_pictures(["/nonexistent/x.png", "a.png", "b.png", "c.png"], "v2", "fal")
    return out


def _messages(m: Msg) -> list[Msg]:
    """m and every Msg nested in its parameters."""
    out = [m]
    for value in m.params.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, Msg):
                out += _messages(v)
    return out


def test_every_code_has_english_and_chinese_with_the_same_slots() -> None:
    assert len(EN) >= 150
    assert set(EN) == set(ZH)
    for code, en in EN.items():
        zh = ZH[code]
        assert zh and (not zh.isascii() or code.endswith(".sentences")), code
        assert slots(zh) <= slots(en), code  # Chinese may leave out a slot (an English plural), never add one
        for m in re.finditer(r"\{\w+:(\w+)\}", en + zh):
            assert m.group(1) in FORMATTERS, (code, m.group(1))


def test_each_template_uses_exactly_the_parameters_its_producers_pass(produced: list[Finding]) -> None:
    seen: set[str] = set()
    for f in produced:
        assert f.msg is not None, f.code
        assert (f.fix_msg is not None) == bool(f.fix), f.code
        for top in (f.msg, f.fix_msg):
            for m in _messages(top) if top else []:
                assert m.code in EN, m.code
                assert slots(EN[m.code]) == set(m.params), (m.code, sorted(m.params))
                seen.add(m.code)
        assert render(f.msg, "en") == f.message
        assert render(f.text_msg(), "en") == f.text()  # what a Prepare refusal or a batch skip quotes
        assert render(f.fix_msg, "en") == f.fix if f.fix_msg else f.fix == ""
        for text in (render(f.msg, "zh"), render(f.fix_msg, "zh")):
            assert "{" not in text and "}" not in text, text
    # every finding code of the catalogue is produced by some case (an unused template is dead text)
    quoting = ("element.", "finding.")  # the identity lock's (below), the quoting texts' (their own test)
    unused = sorted(c for c in findings_catalogue.EN if c not in seen and not c.startswith(quoting))
    assert not unused, unused


def test_a_finding_renders_in_chinese_from_its_code_and_parameters() -> None:
    [f] = [f for f in check_video(_video(duration=12.0), "image") if f.code == "video_too_long"]
    assert f.msg == Msg("video.too_long", {"d": "12", "o": "image", "m": "10"})
    assert f.message == "Motion video lasts 12 s; with orientation 'image' the limit is 10 s."
    assert render(f.msg, "zh") == "动作视频时长 12 秒；朝向为“image”时上限为 10 秒。"
    assert render(f.fix_msg, "zh") == "请截取到 10 秒（在下方选择截取范围），或将朝向切换为“video”（最长 30 秒）。"
    assert finding_said(f, "en") == (f.message, f.fix)
    # structured lists and counts: the Chinese needs no English parsed back
    cut = Msg("pose.video_cut", {"n": 6, "at": [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]})
    assert render(cut, "en") == (
        "The motion video has 6 cuts (at 2.0 s, 4.0 s, 6.0 s, 8.0 s and 2 more); it should be one continuous take."
    )
    assert (
        render(cut, "zh")
        == "动作视频有 6 处镜头切换（位于 2.0 秒、4.0 秒、6.0 秒、8.0 秒，另外还有 2 处）；应为一个连续镜头。"
    )
    one = Msg("pose.video_cut", {"n": 1, "at": [3.5]})
    assert render(one, "en") == "The motion video has 1 cut (at 3.5 s); it should be one continuous take."


def test_texts_quoting_findings_render_from_their_codes() -> None:
    errors = [f for f in check_video(_video(duration=12.0, extension=".mkv"), "image") if f.level == "error"]
    quoted = Msg("finding.not_sent", {"parts": [f.text_msg() for f in errors]})
    assert render(quoted, "en") == "Not sent until this is fixed: " + " ".join(f.text() for f in errors)
    assert render(quoted, "zh") == (
        "修复以下问题之前不会发送：动作视频的扩展名为“.mkv”；官方 API 只接受 .mp4、.mov 文件。"
        "修复：将以 .mp4 发送（内容不变，只改扩展名）。（应用可以替你完成：见“将要发送的内容”）。"
        "动作视频时长 12 秒；朝向为“image”时上限为 10 秒。修复：请截取到 10 秒（在下方选择截取范围），"
        "或将朝向切换为“video”（最长 30 秒）。（应用可以替你完成：见“将要发送的内容”）"
    )


def test_to_dict_carries_the_code_and_parameters() -> None:
    [f] = check_prompt("x" * 2600)
    data = f.to_dict()
    assert data["code"] == "prompt_too_long"
    assert data["message"] == f.message and data["fix"] == f.fix
    assert data["message_code"] == "prompt.too_long" and data["params"] == {"n": 2600, "l": 2500}
    assert data["fix_code"] == "prompt.too_long.fix" and data["fix_params"] == {"n": 100}
    json.dumps(data)  # JSON-ready
    again = Msg.from_dict({"code": data["message_code"], "params": data["params"]})
    assert again == f.msg and render(again, "zh") == "提示词有 2600 个字符；上限为 2500。"


def test_a_nested_message_renders_in_each_language() -> None:
    msg = Msg("pose.camera_motion_zoom", {"t_pan": Msg("pose.camera_pan_left", {"p": 0.25}), "z": 0.3})
    assert render(msg, "en") == (
        "The camera moves in the motion video: the background travels 25% of the frame (panning left) and the "
        "view zooms by 30%."
    )
    assert render(msg, "zh") == "动作视频中镜头在移动：背景移动了画面的 25%（向左平移），并且画面缩放了 30%。"
    data = json.loads(json.dumps(msg.to_dict()))
    assert data["params"]["t_pan"] == {"code": "pose.camera_pan_left", "params": {"p": 0.25}}
    assert Msg.from_dict(data) == msg


def test_unknown_code_missing_template_or_parameter_never_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert render(Msg("no.such.code", {"n": 3}), "zh") == "no.such.code (n=3)"
    assert render(Msg("no.such.code"), "en") == "no.such.code"
    assert Msg.from_dict("just a text") is None and Msg.from_dict({"code": None}) is None
    monkeypatch.delitem(ZH, "prompt.too_long")  # a code without its Chinese: the English
    assert render(Msg("prompt.too_long", {"n": 9, "l": 5}), "zh") == "Prompt has 9 characters; the limit is 5."
    # a parameter left out stays a visible slot rather than an exception
    assert (
        render(Msg("image.too_large", {"size": "1x1"}), "en")
        == "Character image is 1x1 px; each side must be at most {max:int} px."
    )
    # a formatter given the wrong kind of value: the English, then the code, never an exception
    assert render(Msg("pose.video_cut", {"n": 2, "at": object()}), "zh").startswith("pose.video_cut")
    assert say(None, "", "zh") == "" and say(Msg("no.such.code"), "x", "zh") == "no.such.code"


def test_parameters_are_never_read_as_templates(tmp_path: Path) -> None:
    msg = Msg("image.extension_mismatch", {"w_ext": "{fmt}.{x}", "fmt": "{w_ext}"})
    assert render(msg, "en") == "The file is named '{fmt}.{x}' but holds a {w_ext} image."
    assert render(msg, "zh") == "文件扩展名为“{fmt}.{x}”，但内容是 {w_ext} 图片。"
    f = check_image(_image(extension=".{x}"))
    [mismatch] = [x for x in f if x.code == "image_extension_mismatch"]
    assert mismatch.message == "The file is named '.{x}' but holds a PNG image."
    assert ".{x}" in render(mismatch.msg, "zh")
    unsupported = check_pictures(["a.png", "b.png"], "{model}", "{backend}<b>")[0]
    assert unsupported.message == (
        "An identity lock works only with Kling 3.0 on the Kling official API 2.0 (chosen: {model} on '{backend}<b>')."
    )


def test_the_page_escapes_what_it_renders() -> None:
    f = check_pictures(["a.png"], "<script>alert(1)</script>", "x")[0]
    for lang in ("en", "zh"):
        page = ui_render.findings_html([f], lang=lang)
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "身份锁定仅适用于" in ui_render.findings_html([f], lang="zh")
    assert "An identity lock works only" in ui_render.findings_html([f], lang="en")


# ---------------------------------------------------------------- backend errors (kmc_ui/backends)


def test_a_backend_error_carries_its_message_and_renders_it_in_chinese() -> None:
    from kmc_ui.backends import fal, kling, replicate
    from kmc_ui.backends.errors import http_error

    err = http_error(401, "Invalid authentication credentials", fal.REFUSALS)
    assert err.message == "fal refused the key (HTTP 401): Invalid authentication credentials"
    assert err.fix == fal.KEY_FIX
    assert err.msg == Msg("http.401", {"w_who": "fal", "reason": "Invalid authentication credentials", "w_cred": "key"})
    assert render(err.user_msg(), "en") == err.user_text()
    assert render(err.user_msg(), "zh") == (
        "fal 拒绝了密钥（HTTP 401）：Invalid authentication credentials 处理办法：请检查 FAL_KEY：在 "
        "fal.ai/dashboard/keys 创建密钥，并在 .env 中设置 FAL_KEY（或粘贴到密钥框）。"
    )
    quiet = http_error(503, "", replicate.REFUSALS)
    assert (
        quiet.user_text() == "Replicate had a server error (HTTP 503) What to do: Retried automatically with backoff."
    )
    assert render(quiet.user_msg(), "zh") == "Replicate 服务器出错（HTTP 503）。处理办法：会以退避方式自动重试。"
    backend = kling.KlingLegacyBackend.__new__(kling.KlingLegacyBackend)
    backend._redact = lambda text: text  # type: ignore[method-assign]
    response = __import__("httpx").Response(429, json={"code": 1302, "message": "too many"})
    with pytest.raises(Exception) as caught:
        backend._parse(response, kling.TransientError)
    exc = caught.value
    assert exc.user_text() == (  # type: ignore[attr-defined]
        "Kling API: rate limit: too many (code 1302) What to do: Too many requests: retried automatically with backoff."
    )
    assert render(exc.user_msg(), "zh") == (  # type: ignore[attr-defined]
        "可灵 API：请求频率超限：too many（错误码 1302）。处理办法：请求过多：会以退避方式自动重试。"
    )


def test_a_backend_error_with_a_task_id_and_a_nested_reason() -> None:
    from kmc_ui.backends.base import BackendError, DownloadError
    from kmc_ui.elements import ElementError, _not_created

    err = DownloadError(Msg("backend.download_incomplete", {"a": 10, "b": 20}), task_id="t-{1}")
    assert err.user_text() == (
        "The download was incomplete (10 of 20 bytes) Task id t-{1} is kept in History: it can be resumed later."
    )
    assert render(err.user_msg(), "zh") == "下载不完整（10/20 字节）。任务 ID t-{1} 已保存在历史记录中：之后可以继续。"
    inner = BackendError(Msg("kling.picture_unreadable", {"f": "me.png"}), fix=Msg("kling.picture_unreadable.fix"))
    outer = ElementError(_not_created(inner), fix=inner.fix_msg)
    assert outer.message == "The identity Element could not be created: The picture me.png cannot be read"
    assert render(outer.user_msg(), "zh") == "无法创建身份元素：无法读取图片 me.png 处理办法：请重新添加角色的图片。"
    plain = BackendError("A provider's own sentence.", fix="")  # no message of its own: the English, translated
    assert render(plain.user_msg(), "en") == "A provider's own sentence."


# ---------------------------------------------------------------- progress steps (kmc_ui/jobs.py, studio, worker)


def test_a_progress_step_is_stored_with_its_code_and_renders_in_chinese_after_a_restart() -> None:
    from kmc_ui.jobs import Progress, stopped_msg, stopped_text
    from kmc_ui.storage import DISK_FULL, DISK_FULL_RESULT
    from kmc_ui.worker import progress_json, progress_of

    retry = Msg(
        "progress.retry",
        {
            "w_what": "Submit",
            "t_reason": Msg("backend.timeout", {"w_who": "fal", "exc": "ReadTimeout"}),
            "n": 1,
            "m": 3,
            "d": "2.0",
        },
    )
    step = Progress(
        "queued",
        Msg("progress.queued_at", {"w_label": "The Kling API", "n": 2}),
        4.0,
        "task-1",
        "run-1",
        events=[render(retry, "en")],
        event_msgs=[retry],
    )
    assert step.text == "Queued at The Kling API (position 2)…"
    assert step.events == ["Submit: fal did not answer in time (ReadTimeout); retry 1/3 in 2.0 s"]
    stored = json.loads(progress_json(step))  # what the worker writes to the database
    assert stored["msg"] == {"code": "progress.queued_at", "params": {"w_label": "The Kling API", "n": 2}}
    back = progress_of(json.dumps(stored))  # another process, after a restart
    assert back is not None and back == step and back.msg == step.msg and back.event_msgs == [retry]
    page = ui_render.progress_md(back, "zh")
    assert "正在可灵 API 排队（第 2 位）…" in page
    assert "重试：提交：fal 没有及时响应（ReadTimeout）；2.0 秒后进行第 1/3 次重试" in page
    assert ui_render.progress_md(back, "en").startswith("⏳ **Queued**: Queued at The Kling API (position 2)…")
    old = progress_of(json.dumps({"stage": "failed", "text": "Some old words.", "error": "x"}))  # stored before codes
    assert old is not None and old.msg is None and "Some old words." in ui_render.progress_md(old, "zh")
    # the English of each stays the constant it replaced
    assert render(Msg("progress.disk_full"), "en") == DISK_FULL
    assert render(Msg("progress.disk_full_result", {"task": "t-9"}), "en") == DISK_FULL_RESULT.format(task_id="t-9")
    record = {"status": "canceled", "task_id": "local-1"}
    assert stopped_text(record, "Offline engine (CPU, preview quality)") == render(
        stopped_msg(record, "Offline engine (CPU, preview quality)"), "en"
    )
    assert render(stopped_msg(record, "Offline engine (CPU, preview quality)"), "zh") == (
        "离线引擎（CPU，预览质量）已取消任务 local-1：任务就此停止，不会有结果。"
    )


def test_a_failed_run_shows_the_backend_error_in_chinese() -> None:
    from kmc_ui.backends.errors import http_error
    from kmc_ui.backends.replicate import REFUSALS
    from kmc_ui.jobs import Progress

    exc = http_error(402, "You have insufficient credit to run this model.", REFUSALS)
    exc.task_id = "p-1"
    step = Progress("failed", exc.user_msg(), error=exc.user_text())  # type: ignore[arg-type]
    assert step.text == exc.user_text()
    page = ui_render.progress_md(step, "zh")
    assert "Replicate 拒绝了请求：余额不足（HTTP 402）：You have insufficient credit to run this model." in page
    assert "处理办法：请在 replicate.com/account/billing 充值" in page and "任务 ID p-1 已保存在历史记录中" in page


def test_a_running_run_in_history_has_its_live_step_as_a_message(tmp_path: Path) -> None:
    from kmc_ui.settings import Settings
    from kmc_ui.studio import WAITING_FOR_WORKER, Studio

    studio = Studio(Settings(data_dir=tmp_path), {})
    record = {"run_id": "20260101-000000-abcdef", "status": "submitted"}
    step = studio.live_step(record)
    assert step is not None and step.msg == Msg("progress.waiting_for_worker")
    assert studio.live_text(record) == WAITING_FOR_WORKER
    assert say(step.msg, step.text, "zh") == "正在等待空闲的工作进程…"
    assert (
        studio.live_step(record | {"status": "succeeded"}) is None
        and studio.live_text(record | {"status": "failed"}) == ""
    )


# ---------------------------------------------------------------- preparation (kmc_ui/media, "What will be sent")


def test_every_preparation_message_renders_in_both_languages() -> None:
    from kmc_ui.catalogue import prepare as prepare_catalogue
    from tests.test_runtime_text import english_left

    sample: dict[str, Any] = {"a": "2.50", "b": "7.50", "c": "MOV", "l": "100.0 MB", "s": "3.00"}
    sample |= {"t_why": Msg("prepare.problem_audio_lost"), "what": Msg("prepare.problem_audio_lost")}
    sample |= {"fix": Msg("prepare.fix_rgb"), "parts": [Msg("prepare.problem_audio_lost")], "w_what": "Motion video"}
    for code, (en, _) in prepare_catalogue.PAIRS.items():
        m = Msg(code, {name: sample.get(name, "7") for name in slots(en)})
        zh = render(m, "zh")
        assert "{" not in render(m, "en") and "{" not in zh, code
        assert not english_left(zh), (code, zh)


def test_a_plan_says_its_actions_as_messages() -> None:
    from kmc_ui.limits import LIMITS
    from kmc_ui.media.video_plan import build_plan

    info = _video(
        codec="hevc", variable_fps=True, fps=29.5, duration=40.0, rotation=90, audio_codec="opus", extension=".mkv"
    )
    plan = build_plan(info, "video", 2.0, True, LIMITS, force_reason=Msg("prepare.copy_too_long", {"s": "30.00"}))
    assert plan.actions and len(plan.action_msgs) == len(plan.actions)
    for m, text in zip(plan.action_msgs, plan.actions, strict=True):
        assert m.code in EN and slots(EN[m.code]) == set(m.params), m.code
        assert render(m, "en") == text
    assert plan.actions[0] == "trimmed to 2.00-32.00 s (re-encoded)"
    assert render(plan.action_msgs[0], "zh") == "截取到 2.00-32.00 秒（已重新编码）"
    assert ui_render.actions_md("视频", plan.actions, "x", "zh", msgs=plan.action_msgs).startswith(
        "**视频**：截取到 2.00-32.00 秒（已重新编码）；将 HEVC 转码为 H.264；将帧率固定为"
    )
    assert "重新编码，因为直接复制流无法在 30.00 秒内结束" in ui_render.actions_md(
        "v", plan.actions, "x", "zh", msgs=plan.action_msgs
    )


def test_a_prepared_image_keeps_its_messages_through_the_cache(tmp_path: Path) -> None:
    from PIL import Image

    from kmc_ui.media.prepare import prepare_image
    from kmc_ui.media.probe import probe_image

    src = tmp_path / "me.jpg"  # a PNG under a JPEG name
    Image.new("RGB", (400, 600), (200, 120, 80)).save(src, format="PNG")
    first = prepare_image(probe_image(src), tmp_path / "out")
    again = prepare_image(probe_image(src), tmp_path / "out")
    assert again.cached and again.actions == first.actions and again.action_msgs == first.action_msgs
    assert [render(m, "en") for m in first.action_msgs] == first.actions
    assert first.actions == ["sent as .png: the content is PNG but the name said '.jpg' (not re-encoded)"]
    assert render(first.action_msgs[0], "zh") == "以 .png 发送：内容是 PNG，但文件名写的是“.jpg”（未重新编码）"


# ---------------------------------------------------------------- cost estimates (kmc_ui/cost.py)


def test_an_estimate_is_a_message_with_its_english_unchanged() -> None:
    from kmc_ui.catalogue import cost as cost_catalogue
    from kmc_ui.cost import BILLING_NOTE, BILLING_NOTE_MSG, estimate
    from kmc_ui.limits import PRICES

    seen = {BILLING_NOTE_MSG.code}
    assert render(BILLING_NOTE_MSG, "en") == BILLING_NOTE
    assert render(BILLING_NOTE_MSG, "zh").startswith("按输出时长计费")
    for provider in [*PRICES, "local", "nobody"]:
        for model in {m for row in PRICES.values() for m in row}:
            for tier in ("std", "pro"):
                est = estimate(provider, model, tier, 4.5)
                m = est.msg()
                assert slots(EN[m.code]) == set(m.params), m.code
                assert render(m, "en") == est.text()
                zh = render(m, "zh")
                assert "{" not in zh and ("Standard" not in zh and "Pro 1080p" not in zh), zh
                seen.add(m.code)
    assert seen == set(cost_catalogue.EN)  # every code of the cost catalogue is produced
    offline = estimate("local", "v2.6", "std", 3.0)
    assert offline.text() == "Offline engine: free (3.0 s, runs on this machine)."
    assert render(offline.msg(), "zh") == "离线引擎：免费（3.0 秒，在本机运行）。"


def test_said_is_its_english_and_keeps_its_message() -> None:
    """A Said text is a str (its English) that carries its message: equal to the English, pickled
    whole, a plain str again once changed, and rendered (not read back) for a Chinese page."""
    import pickle

    from kmc_ui.messages import Said
    from kmc_ui.ui.runtime_text import translate

    text = Said(Msg("hosting.private", {"h": "10.0.0.2"}))
    assert text == render(text.msg, "en") and text.startswith("KMC_PUBLIC_BASE_URL points at a private address")
    assert repr(text) == repr(str(text)) and json.dumps(text) == json.dumps(str(text))
    again = pickle.loads(pickle.dumps(text))
    assert isinstance(again, Said) and again == text and again.msg == text.msg
    assert type(text + ".") is str and type(str(text)) is str
    assert translate(text, "zh") == (
        "KMC_PUBLIC_BASE_URL 指向服务商无法访问的私有地址（10.0.0.2）；"
        "请使用公开网址（仅在测试和局域网演示时设置 KMC_ALLOW_PRIVATE_URLS=1）"
    )
    assert translate(text, "en") == text


def test_what_each_backend_needs_and_how_the_video_gets_there_in_chinese(tmp_path: Path) -> None:
    """ready()'s reasons and the Transport texts of every backend, with no keys, with bad ones, and
    with this app's public URL unset, private or set: Said texts, rendered whole in Chinese."""
    from kmc_ui.backends.registry import build_backends
    from kmc_ui.media.hosting import MediaHost
    from kmc_ui.settings import Settings
    from kmc_ui.ui.runtime_text import translate
    from tests.test_runtime_text import assert_rendered_chinese

    texts = []
    for hosted in ("", "http://192.168.1.5:7860", "https://kmc.example.org"):
        for keys in (
            {},
            {
                "fal_key": "a b",
                "kling_api_key": "k" * 5000,
                "replicate_api_token": "r",
                "kling_access_key": "a",
                "kling_secret_key": "s",
            },
        ):
            settings = Settings(data_dir=tmp_path, public_base_url=hosted, **keys)
            host = MediaHost(hosted, [tmp_path]) if hosted else None
            for backend in build_backends(settings, host).values():
                _ok, why = backend.ready()
                texts += [
                    why,
                    backend.video_transport("").text,
                    backend.video_transport("https://a.example/b.mp4").text,
                ]
    texts = [t for t in dict.fromkeys(texts) if t]
    assert all(hasattr(t, "msg") for t in texts), [t for t in texts if not hasattr(t, "msg")]
    assert len(texts) >= 14
    zh = [translate(t, "zh") for t in texts]
    fal = "请设置 FAL_KEY（在 fal.ai/dashboard/keys 获取）："
    assert fal + "可设为环境变量（在 Hugging Face Space 上为 Space secrets）、写入 .env，或填入密钥框。" in zh
    assert assert_rendered_chinese(
        zh, verbatim=["KMC_PUBLIC_BASE_URL", "KMC_ALLOW_PRIVATE_URLS", "Hugging Face Space", "Space secrets"]
    ) == len(zh)


def test_the_offline_engines_texts_are_messages_through_storage() -> None:
    """The engine says its steps, notes and reasons as Said texts (kmc_ui/catalogue/engine.py): an
    EngineError's text, a step quoted in a progress message, stored as JSON by the worker and read
    back, renders in Chinese from its message."""
    from kmc_ui.engine.common import EngineError, says
    from kmc_ui.jobs import Progress
    from kmc_ui.ui.runtime_text import translate

    err = EngineError(says("person_share", p="12"))
    assert str(err).startswith("A person was found in only 12% of the motion video's frames.")
    assert (
        translate(err.said(), "zh") == "只在 12% 的动作视频帧中找到了人物。请使用一个人在大部分时间里完整可见的片段。"
    )
    step = Progress(
        "running", Msg("progress.generating_pct_detail", {"p": "40%", "t_detail": says("rendering", i=3, n=96)})
    )
    assert step.text == "Generating 40% (Rendering frame 3 of 96)…"
    stored = json.loads(json.dumps(step.msg.to_dict()))  # as kmc_ui.worker keeps it
    assert stored["params"]["t_detail"] == {"code": "engine.rendering", "params": {"i": 3, "n": 96}}
    back = Msg.from_dict(stored)
    assert back is not None and render(back, "en") == step.text
    assert render(back, "zh") == "正在生成 40%（正在渲染第 3/96 帧）…"


def test_why_a_body_check_was_skipped_is_a_message(tmp_path: Path) -> None:
    """An analysis that could not be made says why as a Said text (kmc_ui/catalogue/analysis.py), and
    the finding that quotes it renders whole in Chinese."""
    from kmc_ui.pose.detect import analyse_image, analyse_video
    from kmc_ui.ui.runtime_text import finding_said, translate
    from kmc_ui.ui.scrub import visitor_text
    from tests.test_runtime_text import assert_rendered_chinese

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    not_video = tmp_path / "text.mp4"
    not_video.write_text("not a video at all " * 40)
    reasons = [
        analyse_image(tmp_path / "gone.png", cache_dir=tmp_path / "cache").error,
        analyse_image(broken, cache_dir=tmp_path / "cache").error,
        analyse_image(np.zeros((4, 4, 3), np.uint8)).error,
        analyse_video(not_video, cache_dir=tmp_path / "cache").error,
    ]
    assert all(hasattr(r, "msg") and render(r.msg, "en") == r for r in reasons), reasons  # type: ignore[attr-defined]
    assert reasons[2] == "the picture is not an RGB image of at least 8x8 px"
    zh = [translate(r, "zh") for r in reasons]
    assert zh[2] == "该图片不是至少 8x8 像素的 RGB 图片"
    skipped = findings_from(analyse_image(broken, cache_dir=tmp_path / "cache"), None)
    assert [f.code for f in skipped] == ["pose_check_skipped"]
    stored = Msg.from_dict(json.loads(json.dumps(skipped[0].msg.to_dict())))  # as the API and a run keep it
    said = [finding_said(skipped[0], "zh")[0], render(stored, "zh")]  # (the page's is scrubbed of exception names)
    assert said[0] == "已跳过角色图片的身体检查：图片无法解码。" == visitor_text(said[1])
    assert assert_rendered_chinese(zh + said, verbatim=["UnidentifiedImageError", "SyntaxError", "OSError"]) == 6


def drawn_inputs(tmp_path: Path, seconds: float, **options: str) -> Any:
    """The studio's inputs for the drawn character and a drawn dance of `seconds`, in the image
    orientation, with `options` (backend, model)."""
    from kmc_ui.studio import Inputs
    from tests.figures import make_character, make_dance

    image = make_character(tmp_path / "character.png")
    video = make_dance(tmp_path / "dance.mp4", seconds=seconds)
    return Inputs(image=str(image), video=str(video), orientation="image", **options)


def test_a_pasted_url_that_preparing_made_stale_is_said_in_both_languages(tmp_path: Path) -> None:
    """A pasted video URL, a clip that preparing has to trim, and a provider that reads the video only
    from a URL this app cannot give: the run fails before anything is sent, saying why from its
    message (the actions taken and the transport's reason, nested)."""
    from kmc_ui.backends.registry import build_backends
    from kmc_ui.settings import Settings
    from kmc_ui.studio import Studio
    from tests.test_runtime_text import assert_rendered_chinese

    settings = Settings(data_dir=tmp_path / "data", kling_api_key="k" * 32)
    studio = Studio(settings, build_backends(settings, None))
    try:
        inputs = drawn_inputs(tmp_path, 12.0, backend="kling2", model="v3")
        steps = list(studio.generate(inputs, "owner", video_url="https://example.com/clip.mp4"))
    finally:
        studio.close()
    last = steps[-1]
    assert last.stage == "failed" and last.msg is not None and last.msg.code == "progress.url_not_sent", last
    assert last.text.startswith("The video had to be changed before sending (trimmed to 0.00-")
    assert "so the URL you gave is not what would be sent. Kling reads the video only from a public URL" in last.text
    zh = render(last.msg, "zh")
    assert zh.startswith("发送前必须修改视频（截取到 0.00-") and "可灵只能从公开链接读取视频" in zh
    assert assert_rendered_chinese([zh], verbatim=["KMC_PUBLIC_BASE_URL", "Hugging Face Space"]) == 1


@pytest.mark.slow
def test_an_offline_result_is_ready_with_the_engines_notes_in_each_language(tmp_path: Path) -> None:
    """An offline run ends with what the engine says of its result (the prompt unused, an arm held,
    a cut side faded): in its last step, as a message a page renders in Chinese (from the worker's
    stored step too, after the run, and from its record alone), and in its record, which History and
    the API show; the page says them under the result. They were dropped: every offline run ended
    with "The result is ready." alone."""
    from kmc_ui.backends.registry import build_backends
    from kmc_ui.history import public_view
    from kmc_ui.settings import Settings
    from kmc_ui.studio import Studio
    from kmc_ui.ui.studio_tab import described_run

    settings = Settings(data_dir=tmp_path / "data")
    studio = Studio(settings, build_backends(settings, None))
    try:
        steps = list(studio.generate(drawn_inputs(tmp_path, 3.1, backend="local"), "owner"))
        last = steps[-1]
        assert last.stage == "done" and last.msg is not None and last.msg.code == "progress.ready_notes", last
        assert last.text.startswith("The result is ready. ") and "the prompt is not used" in last.text
        zh = render(last.msg, "zh")
        assert zh.startswith("结果已就绪。") and "不使用提示词" in zh, zh
        record = studio.history.get("owner", last.run_id)
        assert record is not None and "the prompt is not used" in record["notes"]
        assert public_view(record)["notes"] == record["notes"]  # type: ignore[index]
        again = list(studio.watch("owner", last.run_id))  # a page opened after the run: its worker's step
        assert len(again) == 1 and again[0].msg is not None and "不使用提示词" in render(again[0].msg, "zh")
        kept = studio._ended(record, None, "")  # the record alone (its worker's step gone): its message
        assert kept.stage == "done" and kept.text == "The result is ready. " + record["notes"]
        assert kept.msg is not None and "不使用提示词" in render(kept.msg, "zh")
        # the page: a short status (in the sticky bar, the notes covered half a phone's screen), the
        # notes under the result, in the page's language
        for lang, ready, note in (
            ("en", "The result is ready.", "the prompt is not used"),
            ("zh", "结果已就绪。", "不使用提示词"),
        ):
            status = ui_render.progress_md(last, lang)
            assert ready in status and note not in status, status
            assert note in ui_render.run_notes(record, lang) and note in described_run(record, 3.0, lang)
    finally:
        studio.close()
