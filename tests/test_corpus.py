"""The bad-input corpus (tests/corpus/make_corpus.py), table-driven: every file gets exactly its findings.

For each case, paired with a clean companion for the other input:
- `Studio.check` gives exactly the expected (level, input, code) set, messages name the measured
  value, nothing is printed to stderr as a traceback, and the answer comes back well under the
  hang guard (real per-case timings: `python bench/bench_corpus.py`);
- videos probed with `decode=True` (as the file that will be sent is) agree, or give `decode_expect`;
- `Studio.prepare` sends it as-is, fixes it (the prepared file re-checks without errors), refuses it
  with a clear PreparationError text, or leaves an unreadable file blocked;
- a subset goes through the CLI (`python -m kmc_ui check ... --json`) in a fresh process.

The hostile inputs of tests/media_factory.py (HOSTILE) are cases too (`img_hostile_*`, `vid_hostile_*`),
made once per machine by `hostile_files()` and linked into the corpus.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmc_ui.checks.rules import check_image, check_video
from kmc_ui.findings import Finding
from kmc_ui.media.probe import probe_image, probe_video
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.corpus.make_corpus import DEFAULT_DIR, Case, Key, build_corpus, companions, corpus_table
from tests.media_factory import HOSTILE

REPO = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 3.0  # generous on 2 shared cores; the real figures are about 1-50 ms (bench/bench_corpus.py)
PREPARE_GUARD_S = 120.0
CASES = corpus_table(DEFAULT_DIR)
VIDEO_CASES = [c for c in CASES if c.input == "video"]
CLI_CASES = [
    "img_ztxt_bomb.png",
    "img_bomb_20000.png",
    "img_photo.heic",
    "img_progressive.jpg",
    "vid_zip.mp4",
    "vid_truncated_faststart.mp4",
    "vid_stts_zero_fps.mp4",
    "vid_audio_only.mp4",
    "vid_12s_image_mode.mp4",
    "img_hostile_declared_60000.png",
    "vid_hostile_10_minutes.mp4",
]


def keys(findings: list[Finding]) -> set[Key]:
    return {(f.level, f.input, f.code) for f in findings}


@pytest.fixture(scope="session")
def corpus() -> dict[str, Case]:
    return {c.name: c for c in build_corpus(DEFAULT_DIR)}


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    return Studio(Settings(data_dir=tmp_path_factory.mktemp("corpus-data")), {})


def ready(corpus: dict[str, Case], name: str) -> Case:
    case = corpus[name]
    if case.skip:
        pytest.skip(case.skip)
    return case


def inputs_for(case: Case) -> Inputs:
    image, video = companions(DEFAULT_DIR)
    return Inputs(
        image=str(case.path if case.input == "image" else image),
        video=str(case.path if case.input == "video" else video),
        orientation=case.orientation,
        keep_sound=True,
        backend="local",
    )


# ----------------------------------------------------------------------------- the table itself


def test_the_corpus_is_large_and_every_expected_code_exists() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.input for c in CASES} == {"image", "video"}
    rules = (REPO / "kmc_ui" / "checks" / "rules.py").read_text()
    for case in CASES:
        for level, inp, code in case.expect | (case.decode_expect or frozenset()):
            assert level in ("error", "warning", "hint") and inp in (case.input, "pair"), case.name
            assert f'"{code}"' in rules, f"{case.name}: unknown finding code {code}"
        if case.prepare == "refused":
            assert case.prepare_text, case.name


def test_every_hostile_input_is_a_case() -> None:
    """Each file of the security review's hostile set is in the table, for the input it attacks."""
    names = {c.name for c in CASES}
    for name, (_, attacks) in HOSTILE.items():
        prefix = {"image": "img", "video": "vid"}[attacks]
        assert f"{prefix}_{name}" in names, f"{name} ({attacks}) has no corpus case"


def test_the_corpus_is_cached(corpus: dict[str, Case]) -> None:
    made: list[str] = []
    start = time.perf_counter()
    build_corpus(DEFAULT_DIR, made=made)
    assert made == [] and time.perf_counter() - start < 5.0


def test_the_companions_are_clean(studio: Studio) -> None:
    image, video = companions(DEFAULT_DIR)
    assert studio.check(Inputs(image=str(image), video=str(video))).findings == []


# ----------------------------------------------------------------------------- checks


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_check_finds_exactly_the_expected(
    name: str, corpus: dict[str, Case], studio: Studio, capfd: pytest.CaptureFixture[str]
) -> None:
    case = ready(corpus, name)
    start = time.perf_counter()
    report = studio.check(inputs_for(case))
    took = time.perf_counter() - start
    assert took < HANG_GUARD_S, f"{name}: {took:.2f} s"
    assert keys(report.findings) == set(case.expect), case.about
    messages = " ".join(f.message for f in report.findings)
    for text in case.texts:
        assert text in messages, (text, messages)
    fixes = " ".join(f.fix for f in report.findings)
    for text in case.fix_texts:
        assert text in fixes, (text, fixes)
    for f in report.findings:
        assert f.message.strip() and f.fix.strip(), f
    assert report.blocking is any(level == "error" for level, _, _ in case.expect)
    info = report.image if case.input == "image" else report.video
    assert info is not None and info.path == str(case.path)
    unreadable = bool(info.error) or (case.input == "video" and not getattr(info, "has_video", True))
    assert unreadable is (case.prepare == "unreadable" and case.decode_expect is None), info
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("name", [c.name for c in VIDEO_CASES])
def test_decoding_the_first_keyframe_agrees(name: str, corpus: dict[str, Case]) -> None:
    """The file that will be sent is probed with decode=True: same findings, or `decode_expect`."""
    case = ready(corpus, name)
    start = time.perf_counter()
    info = probe_video(case.path, decode=True)
    findings = check_video(info, case.orientation, keep_sound=True)
    assert time.perf_counter() - start < HANG_GUARD_S
    expected = case.decode_expect or {k for k in case.expect if k[1] == "video"}
    assert keys(findings) == set(expected)


# ----------------------------------------------------------------------------- preparation


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_prepare(name: str, corpus: dict[str, Case], studio: Studio, capfd: pytest.CaptureFixture[str]) -> None:
    case = ready(corpus, name)
    start = time.perf_counter()
    report = studio.prepare(inputs_for(case))
    assert time.perf_counter() - start < PREPARE_GUARD_S
    source = str(case.path)
    sent = report.image_path if case.input == "image" else report.video_path
    actions = report.image_actions if case.input == "image" else report.video_actions
    errors = {k for k in keys(report.findings) if k[0] == "error"}

    if case.prepare == "as_is":
        assert (report.error, sent, actions) == ("", source, [])
        assert not report.blocking and keys(report.findings) == set(case.expect)
    elif case.prepare == "fixed":
        assert report.error == "" and sent != source and actions, (report.error, actions)
        assert any(case.prepare_text in action for action in actions), (case.prepare_text, actions)
        assert errors == set(), report.findings
        fixed = {(f.level, f.input, f.code) for f in studio.check(inputs_for(case)).findings if f.auto_fix}
        assert fixed and not fixed & keys(report.findings), "a finding the preparation fixes is still there"
        # The prepared file, probed afresh (a video fully: its first keyframe decodes), has no error.
        if case.input == "image":
            again = check_image(probe_image(sent))
        else:
            info = probe_video(sent, decode=True)
            again = check_video(info, case.orientation, keep_sound=True)
            assert info.codec == "h264" and info.pix_fmt == "yuv420p" and info.is_mp4_family
            assert info.width % 2 == 0 and info.height % 2 == 0
        assert not any(f.level == "error" for f in again), again
    elif case.prepare == "refused":
        assert case.prepare_text in report.error, report.error
        assert "Fix:" in report.error and report.blocking and sent == source
    else:  # unreadable: nothing is prepared, the error stays on its input
        assert report.error == "" and report.blocking and sent == source and actions == []
        wanted = {k for k in (case.decode_expect or case.expect) if k[0] == "error"}
        assert wanted and wanted <= errors
    assert "Traceback" not in capfd.readouterr().err


# ----------------------------------------------------------------------------- the CLI, in a fresh process


def run_cli(args: list[str], data: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_", "REPLICATE_", "KMC_"))}
    env |= {"KMC_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "kmc_ui", "check", *args],
        cwd=data.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return res, time.perf_counter() - start


def cli_args(case: Case, *extra: str) -> list[str]:
    inputs = inputs_for(case)
    assert inputs.image and inputs.video
    return [inputs.image, inputs.video, "--orientation", case.orientation, "--json", *extra]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_json(name: str, corpus: dict[str, Case], tmp_path: Path) -> None:
    case = ready(corpus, name)
    res, took = run_cli(cli_args(case, "--no-pose"), tmp_path / "data")
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == (1 if any(k[0] == "error" for k in case.expect) else 0), res.stderr
    data = json.loads(res.stdout)
    assert {(f["level"], f["input"], f["code"]) for f in data["findings"]} == set(case.expect)
    assert data["blocking"] is (res.returncode == 1)
    assert took < 60, f"{name}: {took:.1f} s"  # a fresh interpreter; the check itself is milliseconds


@pytest.mark.parametrize(
    ("image", "video"),
    [("img_cut_in_header.png", "vid_truncated_faststart.mp4"), ("img_1x5000.png", "vid_stts_zero_fps.mp4")],
)
def test_cli_with_body_checks_on_broken_pairs(
    image: str, video: str, corpus: dict[str, Case], studio: Studio, tmp_path: Path
) -> None:
    """The default CLI also runs the pose checks: on broken files they must explain, not crash."""
    img, vid = ready(corpus, image), ready(corpus, video)
    res, _ = run_cli([str(img.path), str(vid.path), "--json"], tmp_path / "data")
    assert "Traceback" not in res.stderr and res.returncode == 1, res.stderr
    found = json.loads(res.stdout)["findings"]
    limit_checks = {(f["level"], f["input"], f["code"]) for f in found if not f["code"].startswith("pose_")}
    assert limit_checks == keys(studio.check(Inputs(image=str(img.path), video=str(vid.path))).findings)
    body = [f for f in found if f["code"].startswith("pose_")]
    assert body and all(f["message"] and f["input"] in ("image", "video", "pair") for f in body)
