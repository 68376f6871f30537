"""Chinese run-time text (kmc_ui/ui/runtime_text.py, catalogue kmc_ui/ui/zh_catalogue.py).

Completeness is measured on what the app really produces, never on a hand-made list:
- findings: the real checks over the bad-input corpus (tests/corpus/make_corpus.py), over
  boundary facts for every branch of kmc_ui/checks/rules.py, and over the synthetic pose
  analyses of tests/test_pose.py; and every finding code written in kmc_ui/checks/*.py must be
  among the codes produced here;
- progress: run_job against the four loopback fakes (tests/fakes/) through happy paths,
  transient and final faults, failed tasks and refused downloads, plus Studio's own texts;
- the motion-agreement summary for every sentence it can write.
In Chinese no message, fix or progress text may keep a run of three English words outside
quoted values, file names and the provider's own words. English stays byte-for-byte.
"""

from __future__ import annotations

import ast
import random
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import numpy as np
import pytest

from kmc_ui.backends.base import Backend, JobRequest
from kmc_ui.checks.pose import findings_from
from kmc_ui.checks.rules import check_image, check_pair, check_prompt, check_video
from kmc_ui.engine.agreement import AgreementReport
from kmc_ui.findings import Finding
from kmc_ui.history import History
from kmc_ui.jobs import Progress, RetryPolicy, run_job
from kmc_ui.limits import LIMITS, POSE
from kmc_ui.media.probe import ImageInfo, VideoInfo, probe_image, probe_video
from kmc_ui.messages import Msg, Said
from kmc_ui.messages import render as render_msg
from kmc_ui.pose import landmarks as L
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from kmc_ui.ui import render
from kmc_ui.ui.runtime_text import accept_language, entries, finding_said, known, lang_of, say, translate
from tests.corpus.make_corpus import DEFAULT_DIR, build_corpus, companions
from tests.fakes import FakeClock, Fault
from tests.fakes import fal as fal_fake
from tests.fakes import kling as kling_fake
from tests.fakes import replicate as replicate_fake
from tests.fakes.providers import MODERATION_MSG, Kit
from tests.test_pose import (
    W,
    centred,
    clip_case,
    cut_video,
    hidden_hand_case,
    img_analysis,
    moving_wrists,
    pan_video,
    rotated,
    standing,
    still,
    vid_analysis,
)

pytest_plugins = ["tests.fakes.fixtures"]

REPO = Path(__file__).resolve().parents[1]
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*){2,}")
QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”\n]*”|`[^`\n]*`")
FILE_NAME = re.compile(r"[\w.-]+\.(?:png|jpe?g|webp|gif|mp4|mov|webm|mkv|avi|heic|avif)\b", re.IGNORECASE)
PRODUCT_NAMES = ("Hugging Face Space",)


def english_left(zh: str, verbatim: Iterable[str] = ()) -> list[str]:
    """Runs of 3+ English words left in a Chinese text, outside quoted values, file names, product
    names and `verbatim` (the provider's own words, carried over on purpose)."""
    for text in sorted(verbatim, key=len, reverse=True):
        if text:
            zh = zh.replace(text, " ")
    for name in PRODUCT_NAMES:
        zh = zh.replace(name, " ")
    zh = FILE_NAME.sub(" ", QUOTED.sub(" ", zh))
    return ENGLISH_RUN.findall(zh)


def assert_rendered_chinese(zh_texts: Iterable[str], verbatim: Iterable[str] = ()) -> int:
    """Texts a page rendered in Chinese from their messages: no English run left in any; returns how
    many were looked at."""
    texts = [t for t in zh_texts if t and t.strip()]
    problems = [f"{t!r}: {english_left(t, verbatim)}" for t in texts if english_left(t, verbatim)]
    assert not problems, "English left:\n" + "\n".join(problems)
    return len(texts)


def assert_chinese(texts: Iterable[str], verbatim: Iterable[str] = ()) -> int:
    """Every text has a Chinese rendering (no English run left, unless it is all the provider's own
    words); returns how many texts were looked at."""
    verbatim = list(verbatim)
    problems, n = [], 0
    for text in dict.fromkeys(t for t in texts if t and t.strip()):
        n += 1
        zh = translate(text, "zh")
        left = english_left(zh, verbatim)
        if left or (zh == text and english_left(text, verbatim)):
            problems.append(f"{text!r}\n    -> {zh!r}\n    left: {left}")
    assert not problems, "untranslated:\n" + "\n".join(problems)
    return n


def finding_texts(findings: Iterable[Finding]) -> list[str]:
    """The English texts other texts quote through the sentence catalogue: an error finding's
    (a Prepare error, a batch item's skip reason, "Not sent until this is fixed: ...")."""
    out = []
    for f in findings:
        if f.level == "error":
            out += [f.message, f.fix, f.text()]
    return out


def assert_findings_chinese(findings: Iterable[Finding], verbatim: Iterable[str] = ()) -> int:
    """Every finding renders in Chinese from its code and parameters (no English run left), and the
    English of an error finding still reads through the sentence catalogue; returns how many texts."""
    verbatim = list(verbatim)
    problems, n = [], 0
    for f in findings:
        assert f.msg is not None and (f.fix_msg is not None or not f.fix), f.code
        assert (render_msg(f.msg, "en"), render_msg(f.fix_msg, "en") if f.fix_msg else "") == (f.message, f.fix)
        for en, zh in zip((f.message, f.fix), finding_said(f, "zh"), strict=True):
            if not en:
                continue
            n += 1
            left = english_left(zh, verbatim)
            if left or zh == en:
                problems.append(f"{f.code}: {en!r}\n    -> {zh!r}\n    left: {left}")
    assert not problems, "untranslated:\n" + "\n".join(problems)
    return n + assert_chinese(finding_texts(findings), verbatim)


# ---------------------------------------------------------------- the reader's language


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh", "zh"),
        ("zh-TW", "zh"),
        ("zh-Hans-CN", "zh"),
        ("ZH-hk;q=0.5", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("en-US,zh-CN;q=0.9", "en"),
        ("fr-FR,zh;q=0.8,en;q=0.5", "zh"),  # French is not offered: the next preference wins
        ("fr-FR,en;q=0.8,zh;q=0.5", "en"),
        ("en;q=0.4,zh;q=0.6", "zh"),  # q-values, not order
        ("zh;q=0,en", "en"),  # q=0: not acceptable
        ("zh;q=abc", "en"),
        ("de-DE", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_accept_language(header: str | None, lang: str) -> None:
    assert accept_language(header) == lang


def test_lang_of_reads_a_gradio_request() -> None:
    assert lang_of(None) == "en"
    assert lang_of(gr.Request(headers={"accept-language": "zh-CN,zh;q=0.9"})) == "zh"
    assert lang_of(gr.Request(headers={"accept-language": "en-GB"})) == "en"
    assert lang_of(gr.Request()) == "en"
    from starlette.requests import Request

    scope = {"type": "http", "headers": [(b"accept-language", b"zh-TW,en;q=0.5")], "method": "GET", "path": "/"}
    assert lang_of(gr.Request(request=Request(scope))) == "zh"


# ---------------------------------------------------------------- the engine itself


def test_english_is_returned_unchanged_and_unknown_text_falls_back() -> None:
    text = "Motion video lasts 12 s; with orientation 'image' the limit is 10 s."
    assert translate(text, "en") is text
    assert translate("", "zh") == ""
    assert translate("Something the catalogue has never seen.", "zh") == "Something the catalogue has never seen."
    # one known sentence and one unknown: the known one is translated, nothing is dropped
    mixed = translate("Done. A brand new sentence from a provider.", "zh")
    assert mixed == "完成。A brand new sentence from a provider."


def test_values_file_names_and_provider_words_are_kept() -> None:
    zh = translate("Character image is 100x100 px; each side must be at least 300 px.", "zh")
    assert zh == "角色图片为 100x100 像素；每边至少需要 300 像素。"
    zh = translate("The image my-photo.webp cannot be read", "zh")
    assert zh == "无法读取图片 my-photo.webp"
    zh = translate("Kling API: invalid request parameters: image_url is not reachable", "zh")
    assert zh == "可灵 API：请求参数无效：image_url is not reachable"
    zh = translate("Kling API: provider under maintenance (code 5001) What to do: Retried automatically.", "zh")
    assert zh == "可灵 API：服务商维护中（错误码 5001）。处理办法：会自动重试。"
    zh = render_msg(Msg("pose.motion_clipping", {"where": ["left", "top"], "p": 0.2, "q": 0.06}), "zh")
    assert zh == "在 20% 的片段中，动作超出了角色图片的左边缘和上边缘（最多超出图片的 6%）：手或脚可能会被截断。"
    # a provider reason spanning sentences is not swallowed by a slot: the advice after it is translated
    zh = translate("Image too small. What to do: Fix the input named in the message.", "zh")
    assert zh == "Image too small. 处理办法：请修复消息中提到的输入。"


def test_catalogue_entries_compile_and_use_their_slots() -> None:
    compiled = entries()
    assert len(compiled) >= 300  # (fewer as texts become messages: kmc_ui/catalogue)
    assert len({e.en for e in compiled}) == len(compiled), "an English template is listed twice"
    for e in compiled:
        assert not e.zh.isascii(), e.en


# ---------------------------------------------------------------- findings: rules


def _image(**kw: Any) -> ImageInfo:
    base = ImageInfo(
        path="character.png",
        size_bytes=400_000,
        extension=".png",
        format="PNG",
        width=720,
        height=1280,
        stored_width=720,
        stored_height=1280,
        mode="RGB",
    )
    return replace(base, **kw)


def _video(**kw: Any) -> VideoInfo:
    base = VideoInfo(
        path="motion.mp4",
        size_bytes=2_000_000,
        extension=".mp4",
        container="mov,mp4,m4a,3gp,3g2,mj2",
        has_video=True,
        codec="h264",
        pix_fmt="yuv420p",
        width=720,
        height=1280,
        coded_width=720,
        coded_height=1280,
        fps=24.0,
        duration=5.0,
        frames=120,
        has_audio=True,
        audio_codec="aac",
    )
    return replace(base, **kw)


def rule_findings(tmp_path: Path) -> list[Finding]:
    """Every branch of kmc_ui/checks/rules.py, on boundary facts (and real unreadable paths)."""
    lim = LIMITS
    side = int((lim.image_max_pixels / 0.9) ** 0.5)
    images = [
        probe_image(tmp_path / "gone.png"),
        probe_image(tmp_path),
        _image(format="WEBP", extension=".webp"),
        _image(format="PSD", extension=".psd"),
        _image(format="", extension=""),
        _image(extension=".jpg"),
        _image(extension=""),
        _image(format="GIF", extension=".gif", frames=12),
        _image(exif_orientation=6, stored_width=1280, stored_height=720),
        _image(mode="CMYK"),
        _image(mode="I;16", bit_depth=16),
        _image(bit_depth=16),
        _image(size_bytes=lim.image_max_bytes + 1),
        _image(size_bytes=lim.image_max_bytes * 2),
        _image(width=lim.image_max_side + 100, height=lim.image_max_side + 50),
        _image(width=side - 1, height=side - 1),
        _image(width=200, height=400),
        _image(width=lim.image_min_side + 2, height=900),
        _image(width=lim.image_warn_below_side + 10, height=1200),
        _image(width=900, height=1600),
        _image(width=3000, height=900),
    ]
    out: list[Finding] = []
    for info in images:
        out += check_image(info)
        out += check_image(info, tier="pro")
    videos = [
        probe_video(tmp_path / "gone.mp4"),
        probe_video(tmp_path),
        _video(has_video=False, audio_codec="aac"),
        _video(has_video=False, has_audio=False, audio_codec=""),
        _video(decodable=False, codec=""),
        _video(decodable=False, codec="hevc"),
        _video(expected_bytes=3_000_000),
        _video(container="matroska,webm", extension=".webm", codec="vp9", pix_fmt="yuv420p"),
        _video(container="avi", extension=".avi"),
        _video(container="weird", extension=".xyz"),
        _video(extension=".mkv"),
        _video(extension=""),
        _video(codec="", pix_fmt=""),
        _video(pix_fmt="yuv444p"),
        _video(size_bytes=lim.video_max_bytes + 1),
        _video(width=200, height=300),
        _video(width=4000, height=2000),
        _video(rotation=90, coded_width=1280, coded_height=720),
        _video(duration=0.04, frames=1),
        _video(duration=2.0, frames=5),
        _video(duration=2.0, frames=48),
        _video(duration=12.0),
        _video(duration=40.0),
        _video(fps=0.5),
        _video(variable_fps=True, fps=29.7),
        _video(fps=10.0),
        _video(fps=120.0),
        _video(has_audio=False, audio_codec=""),
        _video(width=360, height=640),
    ]
    for info in videos:
        for orientation in ("video", "image"):
            out += check_video(info, orientation)
        out += check_video(info, keep_sound=False, tier="pro")
    out += check_prompt("x" * (lim.prompt_max_chars + 25))
    out += check_prompt("she dances and jumps, then spins while waving")
    out += check_prompt("a woman who runs")
    out += check_pair(_image(), _video(width=1280, height=720))
    out += check_pair(_image(width=1000, height=1000), _video(width=1280, height=720))
    out += check_pair(_image(width=1280, height=720), _video(width=1000, height=1000))
    return out


def test_every_rule_finding_has_chinese(tmp_path: Path) -> None:
    findings = rule_findings(tmp_path)
    assert len({f.code for f in findings}) >= 35
    assert assert_findings_chinese(findings, verbatim=["dances", "jumps", "runs", "spins", "waving"]) >= 150


@pytest.fixture(scope="module")
def corpus_findings(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    cases = [c for c in build_corpus(DEFAULT_DIR) if not c.skip]
    image, video = companions(DEFAULT_DIR)
    studio = Studio(Settings(data_dir=tmp_path_factory.mktemp("zh-corpus")), {})
    out: list[Finding] = []
    for case in cases:
        for orientation in ("video", "image"):
            inputs = Inputs(
                image=str(case.path if case.input == "image" else image),
                video=str(case.path if case.input == "video" else video),
                orientation=orientation,
            )
            out += studio.check(inputs).findings
    assert len(cases) >= 40
    return out


def test_every_corpus_finding_has_chinese(corpus_findings: list[Finding]) -> None:
    assert len({f.code for f in corpus_findings}) >= 25
    assert assert_findings_chinese(corpus_findings) >= 60


# ---------------------------------------------------------------- findings: body checks


def pose_findings_all() -> list[Finding]:
    """Every pose finding and wording, from the synthetic analyses of tests/test_pose.py."""
    from kmc_ui.pose.detect import ImageAnalysis, VideoAnalysis

    out: list[Finding] = []

    def run(image: Any, video: Any, orientation: str = "video") -> None:
        out.extend(findings_from(image, video, orientation))

    run(img_analysis(None), None)  # nobody in the picture
    hidden = standing()
    hidden[list(L.HEAD), 3] = 0.2
    run(img_analysis(hidden), None)
    shoulder = standing()
    shoulder[L.SHOULDERS[0], 3] = 0.2
    run(img_analysis(shoulder), None)
    both = standing()
    both[[*L.HEAD, L.SHOULDERS[0]], 3] = 0.2
    run(img_analysis(both), None)
    run(img_analysis(standing(cx=2000, top=1000, h=300), 4000, 4000), None)  # small in the picture
    run(img_analysis(centred(rotated(standing(h=600), 150))), None)  # upside down
    run(img_analysis(centred(rotated(standing(h=600), 90))), None)  # lying
    run(None, vid_analysis([L.empty()] * 10))  # nobody in the video
    run(None, vid_analysis([L.empty() if 40 <= i < 80 else standing() for i in range(100)]))
    small = centred(standing(cx=2000, top=1000, h=300), 2000, 2000)
    run(None, vid_analysis([small] * 10, w=4000, h=4000))
    run(None, vid_analysis([centred(rotated(standing(h=500), 150)) for _ in range(40)]))
    run(None, vid_analysis([centred(rotated(standing(h=500), 90)) for _ in range(40)]))
    run(None, vid_analysis(moving_wrists(POSE.fast_speed * 2, 10)))
    counts = np.array([2] * 60 + [1] * 40, dtype=np.int32)
    run(None, vid_analysis(still(), people_counts=counts, people_times=np.arange(100, dtype=np.float64)))
    run(None, cut_video(0.4, 0.02))
    fd = np.full(400, 0.01, dtype=np.float32)
    fd[[50, 100, 150, 200, 250, 300]] = 0.4
    run(None, vid_analysis(still(), frame_times=np.arange(400) / 25.0, frame_diff=fd, hist_diff=fd.copy()))
    for total, axis in ((0.5, 0), (-0.5, 0), (0.5, 1), (0.9, 2)):
        run(None, pan_video(total, axis))
        run(img_analysis(standing()), pan_video(total, axis), "image")
    zoom_and_pan = pan_video(0.5)
    bg = zoom_and_pan.bg_motion.copy()
    bg[1:, 2] = 0.9 / 19
    run(None, replace(zoom_and_pan, bg_motion=bg))
    turning = [standing() for _ in range(20)]
    for lm in turning[10:]:
        lm[:, 0] = 2 * 500 - lm[:, 0]  # mirrored: seen from the back
    run(img_analysis(standing()), vid_analysis(turning), "image")
    upper = standing()
    upper[list(range(23, 33)), 3] = 0.1  # legs out of the picture: upper-body framing
    run(img_analysis(upper), vid_analysis(still()))
    run(img_analysis(standing()), vid_analysis([upper.copy() for _ in range(20)]))
    run(*hidden_hand_case(0.9, 1.0))
    char = standing()
    char[[L.L_WRIST, L.R_WRIST, 17, 18, 19, 20, 21, 22], 3] = 0.1
    lms = []
    for i in range(100):
        lm = standing()
        scale = L.body_scale(lm)
        lm[[L.L_WRIST, L.R_WRIST], 0] += scale * (i % 2)
        lms.append(lm)
    run(img_analysis(char), vid_analysis(lms, np.arange(100) * 0.5))
    run(*clip_case(POSE.clip_margin * 3, shifted=10))
    image, video = clip_case(POSE.clip_margin * 3, shifted=10)
    shifted = video.landmarks.copy()
    shifted[10:, :, 1] -= 900  # also up: past the top edge
    run(image, replace(video, landmarks=shifted))
    undecodable = Said(Msg("analysis.picture_undecodable", {"exc": "UnidentifiedImageError"}))
    run(ImageAnalysis("broken.png", error=undecodable), None)
    run(None, VideoAnalysis("broken.mp4", error=Said(Msg("analysis.no_video_stream"))))
    from kmc_ui.checks.pose import pose_findings

    out.extend(pose_findings(Path("/nonexistent/dir"), None, cache_dir=Path("/proc/forbidden")))
    assert W == 1000
    return out


def test_every_pose_finding_has_chinese() -> None:
    findings = pose_findings_all()
    codes = {f.code for f in findings}
    assert assert_findings_chinese(findings) >= 40
    assert len(codes) >= 14, sorted(codes)


def finding_codes_in_source() -> set[str]:
    """Every finding code string literal in kmc_ui/checks/*.py (the first argument after the level
    and input of a Finding / add call, or a code chosen by a conditional expression)."""
    codes: set[str] = set()
    pattern = re.compile(r"^(?:image|video|prompt|pair|pose)_[a-z0-9_]+$")
    for path in sorted((REPO / "kmc_ui" / "checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value):
                codes.add(node.value)
    return codes


def test_every_finding_code_in_the_source_is_produced_and_translated(
    tmp_path: Path, corpus_findings: list[Finding]
) -> None:
    in_source = finding_codes_in_source()
    assert len(in_source) >= 45
    produced = rule_findings(tmp_path) + corpus_findings + pose_findings_all()
    by_code: dict[str, list[Finding]] = {}
    for f in produced:
        by_code.setdefault(f.code, []).append(f)
    missing = sorted(in_source - set(by_code))
    assert not missing, f"finding codes no test case produces (add a case): {missing}"
    for code in in_source:  # and each renders from its message codes (an error's English is also known)
        assert all(f.msg is not None for f in by_code[code]), code
        errors = [f for f in by_code[code] if f.level == "error"]
        assert all(known(f.message) and (not f.fix or known(f.fix)) for f in errors), code


# ---------------------------------------------------------------- progress through the fakes

# The provider's own words, carried over verbatim in a Chinese text (the fakes answer with these).
PROVIDER_WORDS = (
    MODERATION_MSG,
    "Failure to pass the risk control system",
    "signature invalid",
    "Rate limit exceeded",
    "Internal Server Error",
    "Service Unavailable",
    "Gateway Timeout",
    "Invalid authentication credentials",
    "You did not pass a valid authentication token",
    "Request was throttled. Expected available in 1 second.",
    "You have insufficient credit to run this model.",
    "Go to https://replicate.com/account/billing#billing to purchase credit.",
    "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.",
    "Access denied",
    "You do not have permission to run this model.",
    "video_url is not valid",
    "Failed to download the file",
    "The content could not be processed because it contained material flagged by a content checker.",
    fal_fake.Scenario().failure_msg,
    replicate_fake.Scenario().failure_msg,
    kling_fake.Scenario().failure_msg,
    *kling_fake.AUTH_MESSAGES.values(),
)

SCENARIOS: dict[str, dict[str, Any]] = {
    "happy": {"scenario": {"submitted_s": 6, "processing_s": 70, "queue_position": 3}},
    "failed-task": {"scenario": {"outcome": "failed", "failure_msg": MODERATION_MSG, "submitted_s": 2}},
    "rate-limit": {"faults": [("create", "rate_limit", 2)]},
    "server-error-poll": {"faults": [("poll", "server_error", 2)]},
    "maintenance-gives-up": {"faults": [("create", "maintenance", None)], "retry": RetryPolicy(attempts=3)},
    "no-units": {"faults": [("create", "no_units", None)]},
    "no-access": {"faults": [("create", "no_access", None)]},
    "invalid": {"faults": [("create", "invalid", None)]},
    "content": {"faults": [("create", "content", None)]},
    "auth-poll": {"faults": [("poll", "auth", 4)]},
    "reset-poll": {"wire": [("poll", Fault.reset(), 2)]},
    "malformed-poll": {"wire": [("poll", Fault.malformed(), 1), ("poll", Fault.malformed(502, b"<html>"), 1)]},
    "refused-link": {"wire": [("result", Fault.http(403), None)]},
    "cut-short": {"wire": [("result", Fault.truncate(0.5), None)]},
    "lost-answer": {"wire": [("create", Fault.reset(after=True), 1)]},
}


def _steps(kit: Kit, backend: Backend, job: JobRequest, history: History, how: dict[str, Any]) -> list[Progress]:
    clock = FakeClock()
    kit.fake.clock = clock.now
    if "scenario" in how:
        kit.scenario(**how["scenario"])
    for point, kind, times in how.get("faults", []):
        fault = kit.faults[kind]
        if fault is not None:
            kit.fake.inject(point, fault, times=times)
    for point, fault, times in how.get("wire", []):
        kit.fake.inject(point, fault, times=times)
    retry = how.get("retry", RetryPolicy())
    return list(run_job(backend, job, history, "zh", clock=clock.clock(), rng=random.Random(5), retry=retry))


@pytest.fixture
def progress_texts(
    kit: Kit, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> Iterator[tuple[str, list[str], set[str]]]:
    settings = kit.settings(media_server.url, tmp_path / "data")
    client = httpx.Client(timeout=httpx.Timeout(10.0, read=2.0), follow_redirects=True)  # see test_backend_contract
    backend = kit.backend(settings, media_server.host, client)
    history = History(tmp_path / "data")
    texts: list[str] = []
    stages: set[str] = set()
    for n, (name, how) in enumerate(SCENARIOS.items()):
        kit.fake.reset()
        job = JobRequest(character_image, reference_video, run_id=f"zh{n}-{int(time.time() * 1000)}")
        history.create("zh", {"run_id": job.run_id})
        steps = _steps(kit, backend, job, history, how)
        assert steps and steps[-1].finished, name
        for p in steps:
            stages.add(p.stage)
            texts += [p.text, p.error, *p.events]
        texts.append(str((history.get("zh", job.run_id) or {}).get("error") or ""))
    client.close()
    yield kit.name, texts, stages


def test_every_progress_text_has_chinese(progress_texts: tuple[str, list[str], set[str]]) -> None:
    name, texts, stages = progress_texts
    assert {"submitting", "queued", "running", "retrying", "downloading", "done", "failed"} <= stages, name
    assert assert_chinese(texts, PROVIDER_WORDS) >= 20
    for stage in stages:
        assert render.stage_word(stage, "zh") != stage


def test_progress_box_in_chinese_and_in_english() -> None:
    p = Progress(
        "retrying",
        "Status check: The Kling API answered HTTP 500; retry 2/5 in 2.1 s",
        elapsed=12.4,
        task_id="task-1",
        queue_position=4,
        events=["Submit: Kling API: rate limit; retry 1/5 in 1.1 s"],
    )
    assert render.progress_md(p) == (
        "🔁 **Retrying**: Status check: The Kling API answered HTTP 500; retry 2/5 in 2.1 s  \n"
        "Elapsed: 12 s  \nQueue position: 4  \nTask id: `task-1`  \n"
        "Retries: Submit: Kling API: rate limit; retry 1/5 in 1.1 s"
    )
    assert render.progress_md(p, "zh") == (
        "🔁 **重试中**：状态查询：可灵 API 返回 HTTP 500；2.1 秒后进行第 2/5 次重试  \n"
        "已用时间：12 秒  \n排队位置：4  \n任务 ID：`task-1`  \n"
        "重试：提交：可灵 API：请求频率超限；1.1 秒后进行第 1/5 次重试"
    )


def test_studio_texts_have_chinese(
    tmp_path: Path, character_image: Path, short_video: Path, reference_video: Path
) -> None:
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    local = Studio(Settings(data_dir=tmp_path / "data2"), {"local": _ReadyBackend()})
    texts: list[str] = []
    texts += [p.text for p in studio.generate(Inputs(image=str(character_image), backend="nope"), "o")]
    texts += [p.text for p in local.generate(Inputs(video=str(short_video)), "o")]
    texts += [p.text for p in local.generate(Inputs(image=str(character_image)), "o")]
    texts += [p.text for p in local.generate(Inputs(image=str(character_image), video=str(short_video)), "o")]
    too_long = Inputs(image=str(character_image), video=str(reference_video), prompt="x" * 2600)
    texts += [p.text for p in local.generate(too_long, "o")]
    texts += [p.text for p in studio.resume("o", "0123456789abcdef0123")]
    studio.history.create("o", {"run_id": "r1", "provider": "gone"})
    texts += [p.text for p in studio.resume("o", "r1")]
    studio.history.create("o", {"run_id": "r2", "provider": "gone", "task_id": "t2"})
    texts += [p.text for p in studio.resume("o", "r2")]
    studio.history.create("o", {"run_id": "r3", "provider": "gone", "task_id": "t3", "status": "canceled"})
    texts += [p.text for p in studio.resume("o", "r3")]
    assert any(t.startswith("Fix these first: ") for t in texts)
    assert assert_chinese(texts) >= 7


class _ReadyBackend:
    name = "local"
    label = "Offline engine (CPU, preview quality)"
    needs_video_url = False

    def ready(self) -> tuple[bool, str]:
        return True, ""


# ---------------------------------------------------------------- the motion-agreement report


def test_every_agreement_summary_sentence_has_chinese() -> None:
    reports = [
        AgreementReport("r.mp4", "o.mp4", pck=0.8512, following=0.9, offset_s=0.0, aligned_frames=40),
        AgreementReport(
            "r.mp4",
            "o.mp4",
            pck=0.4,
            following=0.35,
            offset_s=-0.36,
            aligned_frames=40,
            lost_frames=7,
            limb_lost={"left arm": 5, "right arm": 0, "left leg": 2, "right leg": 1},
            lost_times=[1.25, 2.0],
            no_pose_frames=3,
        ),
        AgreementReport("r.mp4", "o.mp4", error="no person was found in the reference video"),
        AgreementReport("r.mp4", "o.mp4", error="no person was found anywhere in the result"),
    ]
    assert assert_rendered_chinese(render.report_summary(r, "zh") for r in reports) == 4
    zh = render.report_summary(reports[1], "zh")
    assert "左臂 5 帧，左腿 2 帧，右腿 1 帧" in zh and "-0.36 秒" in zh and "**动作一致度：40%**" in zh
    assert render.report_summary(reports[2], "zh") == "无法测量动作一致度：参考视频中没有找到人物"


def test_a_kept_report_renders_from_its_messages_or_its_fields() -> None:
    """A run keeps its report as a dict (Studio.report): its English `summary` and `summary_msgs`.
    The page renders the messages; a report kept before them is rendered from its own fields when
    those give its summary word for word; any other text stays its English (translated if it can)."""
    report = AgreementReport(
        "r.mp4",
        "o.mp4",
        score=61.0,
        limbs={"left_arm": 47.0, "right_arm": 80.0, "left_leg": None, "right_leg": 35.0},
        correlation=-0.36,
        offset_s=1.5,
        output_frames=36,
        aligned_frames=36,
        following=0.4,
        lost_frames=3,
        limb_lost={"left arm": 3},
        lost_times=[2.25],
        appearance_checked=True,
    )
    en = report.summary()
    kept = report.to_dict() | {"summary": en, "summary_msgs": [m.to_dict() for m in report.summary_msgs()]}
    older = report.to_dict() | {"summary": en}
    assert render.report_summary(kept) == render.report_summary(older) == render.report_summary(report) == en
    zh = render.report_summary(kept, "zh")
    assert zh == render.report_summary(older, "zh") == render.report_summary(report, "zh")
    assert "左臂没有跟上参考视频的动作（47/100）。" in zh and "右腿没有跟上" in zh and "左腿 –" in zh
    assert "相关系数为 -0.36" in zh and "+1.50 秒" in zh and "36 帧中有 3 帧丢失了肢体（左臂 3 帧）" in zh
    assert assert_rendered_chinese([zh]) == 1
    other = older | {"summary": "A summary some other code wrote."}
    assert render.report_summary(other, "zh") == "A summary some other code wrote."
    assert render.report_summary({"summary": ""}, "zh") == render.report_summary(None, "zh") == ""


# ---------------------------------------------------------------- render helpers


def test_findings_html_in_english_is_unchanged_and_chinese_is_complete(tmp_path: Path) -> None:
    f = Finding(
        "error",
        "video",
        "video_too_long",
        "Motion video lasts 12 s; with orientation 'image' the limit is 10 s.",
        "Trim it to 10 s (pick the window below).",
        auto_fix=True,
    )
    assert render.findings_html([f]) == (
        '<ul class="kmc-findings"><li class="kmc-error" data-code="video_too_long" data-level="error">⛔ '
        "<b>Error</b>: Motion video lasts 12 s; with orientation &#x27;image&#x27; the limit is 10 s."
        '<span class="kmc-fix">Fix: Trim it to 10 s (pick the window below).</span>'
        '<span class="kmc-fix kmc-auto">The app can do this for you: see "What will be sent".</span></li></ul>'
    )
    zh = render.findings_html([f], lang="zh")
    assert 'data-code="video_too_long"' in zh and "<b>错误</b>：动作视频时长 12 秒" in zh
    assert "修复：请截取到 10 秒" in zh and "将要发送的内容" in zh
    assert render.summary_html([f, f]).startswith("<p><b>Findings</b>: 2 errors.</p>")
    assert render.summary_html([f], "zh").startswith("<p><b>检查结果</b>：1 个错误。</p>")
    assert render.findings_html([], "page.image_ok", "zh") == '<div class="kmc-ok">✅ 图片符合所有限制。</div>'
    assert render.findings_html([], "page.image_ok") == '<div class="kmc-ok">✅ Image fits every limit.</div>'
    assert render.findings_html([], "") == ""
    assert (
        render.actions_md("Video", [], "x") == "**Video**: no changes needed: the file is sent as it is.  \n*Sent:* x"
    )
    said = [Msg("prepare.trimmed_encoded", {"a": "0.00", "b": "10.00"}), Msg("prepare.audio_aac", {"c": "OPUS"})]
    zh = render.actions_md("视频", ["trimmed to 0.00-10.00 s (re-encoded)", "audio OPUS -> AAC"], "x", "zh", msgs=said)
    assert zh == "**视频**：截取到 0.00-10.00 秒（已重新编码）；音频 OPUS -> AAC。  \n*发送：* x"
    info = probe_image(tmp_path / "gone.png")
    assert render.image_facts(info) == "Image: the file does not exist (it may have been moved or deleted)"
    assert render.image_facts(info, "zh") == "图片：文件不存在（可能已被移动或删除）"
    assert render.video_facts(_video(), "zh") == "H264 720x1280 像素，24 fps，5.00 秒，1.91 MB，音频 aac"


# ---------------------------------------------------------------- Batch and History texts


def test_batch_texts_have_chinese(
    tmp_path: Path, character_image: Path, reference_video: Path, short_video: Path
) -> None:
    """Batch says everything as messages: refusals, labels, skip reasons, totals, the tally and each
    item's step render in Chinese from their codes, and their English is what the CLI and API show."""
    from kmc_ui.backends.registry import build_backends
    from kmc_ui.batch import BatchError, BatchProgress, ItemProgress, plan_batch, run_batch
    from kmc_ui.ui.batch_tab import plan_html, table_value

    settings = Settings(data_dir=tmp_path / "data")
    studio = Studio(settings, build_backends(settings, None))
    said: list[tuple[Msg | None, str]] = []
    for images, videos in (([], [str(reference_video)]), ([str(character_image)] * 2, [str(reference_video)] * 2)):
        with pytest.raises(BatchError) as err:
            plan_batch(studio, images, videos, Inputs(backend="kling"))
        said.append((err.value.msg, str(err.value)))
    shorts = plan_batch(studio, [str(character_image)], [str(short_video), str(reference_video)], Inputs())
    with pytest.raises(BatchError) as err:
        list(run_batch(studio, shorts, "zh", video_url="https://example.com/clip.mp4"))
    said.append((err.value.msg, str(err.value)))
    other = tmp_path / "copy.png"
    other.write_bytes(character_image.read_bytes())
    plan = plan_batch(studio, [str(character_image), str(other)], [str(reference_video)], Inputs(backend="kling"))
    local = plan_batch(studio, [str(character_image)], [str(reference_video)], Inputs(backend="local"))
    said += [(p.total_msg(), p.total_text()) for p in (plan, shorts, local)]
    said += [(i.label_msg, i.label) for i in plan.items + shorts.items]
    said += [(i.skip_msg, i.skip_reason) for i in plan.items + shorts.items if i.skip_reason]
    progress = list(run_batch(studio, plan, "zh"))  # Kling has no keys here: every item fails with why
    last = progress[-1]
    said.append((last.text_msg(), last.text()))
    fake = BatchProgress(
        [
            ItemProgress(1, "Character 1: a.png", "done", "The result is ready."),
            ItemProgress(2, "Character 2: b.png", "waiting", "Waiting for a free slot…", msg=Msg("batch.waiting")),
            ItemProgress(3, "Character 3: c.png", "running", "Generating 40%…"),
        ],
        3.0,
        1,
        2,
        2,
    )
    said.append((fake.text_msg(), fake.text()))
    assert all(m is not None and render_msg(m, "en") == en for m, en in said), said
    zh = [render_msg(m, "zh") for m, _ in said]
    assert assert_rendered_chinese(zh) >= 12
    assert "与第 1 项是同一个文件：会为相同的结果付两次费用。修复：请删除其中一个。" in zh
    assert "完成 1 个，运行中 1 个，等待中 1 个（共 3 个；最多同时运行 2 个）" in zh
    # each row: a skip reason from its message, a failed item's backend reason still by sentence
    assert assert_rendered_chinese(say(*i.said(), "zh") for i in last.items) == 2
    html_zh = plan_html(plan, "zh")
    assert "✅ 将会运行" in html_zh and "⛔ 已跳过" in html_zh and english_left(html_zh.replace("<", " <")) == []
    assert "角色 2：copy.png" in html_zh
    table = table_value(fake, "zh")
    assert (
        table["headers"][2] == "阶段" and table["data"][1][2] == "等待中" and table["data"][1][3] == "正在等待空闲名额…"
    )
    assert table_value(fake) == [
        [1, "Character 1: a.png", "done", "The result is ready.", ""],
        [2, "Character 2: b.png", "waiting", "Waiting for a free slot…", ""],
        [3, "Character 3: c.png", "running", "Generating 40%…", ""],
    ]


def test_history_statuses_have_chinese() -> None:
    from kmc_ui.ui.runtime_text import word

    statuses = [
        "submitting",
        "submitted",
        "queued",
        "running",
        "downloading",
        "succeeded",
        "failed",
        "canceled",
        "stopped",
        "stopped_waiting",
        "download_failed",
        "submit_failed",
        "submit_uncertain",
    ]
    for status in statuses:
        assert word(status, "zh") != status and word(status, "en") == status


# ---------------------------------------------------------------- the offline engine's own words

ENGINE_CALLS = {"report", "EngineError", "EngineCancelled"}


def _sample(node: ast.expr) -> str | None:
    """A string argument as the code writes it (a literal or an f-string), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return ast.unparse(node)
    return None


def test_every_offline_engine_progress_text_and_error_has_chinese() -> None:
    """The offline engine's progress lines ("Rendering frame 12 of 96"), notes and errors reach the
    progress box through the local backend as messages (kmc_ui/catalogue/engine.py): no step or
    error in the engine's code is a bare English string, and every engine message renders whole in
    Chinese."""
    from kmc_ui.catalogue import engine as engine_catalogue
    from kmc_ui.messages import slots

    bare = []
    for path in sorted((REPO / "kmc_ui" / "engine").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            said = node.args[2:] if name == "report" else node.args[:1]  # report(phase, done, text)
            if name in ENGINE_CALLS and any(_sample(arg) for arg in said):
                bare.append(f"{path.name}:{node.lineno}")
    assert not bare, bare
    samples = {"i": 3, "n": 96, "d": "9.5", "o": "image", "p": "12", "exc": "ValueError", "l": "video, image"}
    samples["f"] = "a.png"
    samples |= {"w_why": "No such file or directory", "why": "invalid data", "parts": [Msg("engine.no_sound")]}
    samples["w_arm"] = "left arm"  # the arm a picture cuts off (engine.arm_held)
    zh = [
        render_msg(Msg(code, {k: samples[k] for k in slots(en)}), "zh")
        for code, en in engine_catalogue.EN.items()
    ]
    assert len(zh) >= 25
    assert assert_rendered_chinese(zh, verbatim=["ValueError", "invalid data", "ffmpeg"]) == len(zh)
