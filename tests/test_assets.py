"""assets/: the example characters, the Motion Library and the pre-rendered examples.

Every clip and result is probed as the app would (codec, pixel format, size, duration,
+faststart); the measured framing and people in library.json are checked against a fresh
pose analysis; the loader's paths are absolute; and scripts/make_assets.py is run (--quick)
into a temporary folder to prove the assets can be made again, byte for byte.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from kmc_ui.checks.pose import image_facts, video_facts
from kmc_ui.engine.agreement import AgreementReport
from kmc_ui.examples import (
    ASSETS_DIR,
    AssetsMissing,
    Example,
    Motion,
    load_characters,
    load_examples,
    load_library,
)
from kmc_ui.media.probe import probe_image, probe_video
from kmc_ui.pose import analyse_image, analyse_video

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_assets.py"
MAX_TOTAL_BYTES = 6_000_000
CLIP_SIZES = {(360, 640), (540, 960)}


def library_json() -> dict:
    return json.loads((ASSETS_DIR / "motions" / "library.json").read_text(encoding="utf-8"))


def top_level_boxes(path: Path) -> list[bytes]:
    """The MP4's top-level box types in file order."""
    kinds, size, pos = [], path.stat().st_size, 0
    with path.open("rb") as fh:
        while pos < size:
            fh.seek(pos)
            head = fh.read(16)
            if len(head) < 8:
                break
            n, kind = struct.unpack(">I4s", head[:8])
            if n == 1:
                n = struct.unpack(">Q", head[8:16])[0]
            elif n == 0:
                n = size - pos
            kinds.append(kind)
            pos += max(n, 8)
    return kinds


def assert_web_mp4(path: Path, width: int | None = None, height: int | None = None) -> None:
    info = probe_video(path, decode=True)
    assert info.ok, f"{path.name}: {info.error}"
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p"), path.name
    assert info.width % 2 == 0 and info.height % 2 == 0, path.name
    assert info.decodable, path.name
    if width is not None:
        assert (info.width, info.height) == (width, height), path.name
    boxes = top_level_boxes(path)
    assert b"moov" in boxes and b"mdat" in boxes, boxes
    assert boxes.index(b"moov") < boxes.index(b"mdat"), f"{path.name} is not +faststart: {boxes}"
    if info.has_audio:
        assert info.audio_codec == "aac", path.name


@pytest.fixture(scope="module")
def library() -> list[Motion]:
    return load_library()


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return load_examples()


# ---------------------------------------------------------------- the Motion Library


def test_library_has_the_promised_clips(library: list[Motion]) -> None:
    assert 5 <= len(library) <= 6
    assert len({m.id for m in library}) == len(library)
    assert {m.framing for m in library} >= {"full_body", "three_quarter"}
    for m in library:
        assert 3.0 <= m.duration <= 6.0, m.id
        assert m.fps == pytest.approx(24.0, abs=0.01), m.id
        assert (m.width, m.height) in CLIP_SIZES, m.id
        assert m.people == 1, m.id
        assert m.speed in ("slow", "moderate", "fast"), m.id
        assert set(m.orientations) <= {"video", "image"} and m.recommended_orientation in m.orientations, m.id
        assert m.orientation_why and m.shows and m.title, m.id


def test_every_clip_probes_as_its_metadata_says(library: list[Motion]) -> None:
    sizes = {m["id"]: m["bytes"] for m in library_json()["motions"]}
    for m in library:
        assert_web_mp4(m.path, m.width, m.height)
        info = probe_video(m.path)
        assert info.duration == pytest.approx(m.duration, abs=0.05), m.id
        assert info.fps == pytest.approx(m.fps, abs=0.01), m.id
        assert info.has_audio == m.has_audio, m.id
        assert info.size_bytes == sizes[m.id], m.id  # the very file the metadata was measured on


@pytest.mark.parametrize("clip", ["wave", "dance"])
def test_measured_framing_and_people_match_a_fresh_analysis(library: list[Motion], clip: str, tmp_path: Path) -> None:
    motion = next(m for m in library if m.id == clip)
    v = analyse_video(motion.path, cache_dir=tmp_path, use_cache=False)
    assert not v.error, v.error
    facts = video_facts(v)
    assert facts.framing == motion.framing
    assert facts.max_people == motion.people
    assert float(facts.found.mean()) == pytest.approx(motion.measured["person_found"], abs=0.05)


def test_character_framings_are_measured(tmp_path: Path) -> None:
    characters = {c.id: c for c in load_characters()}
    assert {"full_body", "upper_body", "stylized"} <= set(characters)
    assert characters["full_body"].framing == "full_body"
    assert characters["upper_body"].framing == "three_quarter"  # knees up
    for c in characters.values():
        info = probe_image(c.path)
        assert info.ok and (info.width, info.height) == (c.width, c.height), c.id
        assert c.people == 1, c.id
    upper = characters["upper_body"]
    facts = image_facts(analyse_image(upper.path, cache_dir=tmp_path, use_cache=False))
    assert (facts.framing, facts.people) == (upper.framing, upper.people)


# ---------------------------------------------------------------- pre-rendered examples


def test_every_example_has_a_probed_result_and_its_report(examples: list[Example]) -> None:
    assert len(examples) >= 3
    assert {e.character.id for e in examples} >= {"full_body", "upper_body", "stylized"}
    for e in examples:
        assert e.orientation in ("video", "image") and e.tier in ("std", "pro"), e.id
        assert_web_mp4(e.result)
        info = probe_video(e.result)
        assert info.duration == pytest.approx(e.motion.duration, abs=1 / e.motion.fps + 0.05), e.id
        assert info.has_audio == (e.keep_sound and e.motion.has_audio), e.id
        assert info.size_bytes < 400_000, e.id  # small: the page loads it at once
        report = e.report()
        assert isinstance(report, AgreementReport) and report.ok, e.id
        assert report.pck == pytest.approx(e.pck, abs=1e-3) and report.following == pytest.approx(e.following, 1e-3)
        assert Path(report.reference) == e.motion.path and Path(report.output) == e.result, e.id
        assert Path(report.plot_path) == e.plot, e.id
        assert report.aligned_frames > 0 and report.per_frame, e.id
        plot = cv2.imread(str(e.plot))
        assert plot is not None and plot.shape[0] > 100 and plot.shape[1] > 300, e.id
        assert e.summary.startswith("**Motion agreement"), e.id


def test_examples_follow_their_motion(examples: list[Example]) -> None:
    """The shipped results are good enough to show: the engine's output follows the motion."""
    for e in examples:
        assert e.pck >= 0.8, (e.id, e.pck)


def test_the_loader_returns_absolute_paths_inside_assets(examples: list[Example], library: list[Motion]) -> None:
    paths = [m.path for m in library] + [c.path for c in load_characters()]
    for e in examples:
        paths += [e.result, e.report_path, e.plot, e.character.path, e.motion.path]
        assert e.motion in library
    for p in paths:
        assert p.is_absolute() and p.is_file(), p
        assert p.is_relative_to(ASSETS_DIR), p


def test_missing_assets_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing, match="make_assets"):
        load_library(tmp_path / "nowhere")
    (tmp_path / "motions").mkdir()
    with pytest.raises(AssetsMissing, match=r"library\.json is missing"):
        load_library(tmp_path)
    data = library_json()
    (tmp_path / "motions" / "library.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AssetsMissing, match=r"dance\.mp4 is missing"):  # the clips themselves are not there
        load_library(tmp_path)


def test_assets_stay_small() -> None:
    total = sum(p.stat().st_size for p in ASSETS_DIR.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"assets/ is {total / 1e6:.2f} MB"


# ---------------------------------------------------------------- the script makes them again


@pytest.mark.slow
def test_make_assets_regenerates_the_assets(tmp_path: Path) -> None:
    out = tmp_path / "assets"
    out.mkdir()
    (out / "keep.txt").write_text("not the script's", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "wrote" in proc.stdout
    assert (out / "keep.txt").read_text(encoding="utf-8") == "not the script's"  # only its own folders
    motions = load_library(out)
    assert [m.id for m in motions] == ["dance", "wave"]
    for m in motions:
        assert_web_mp4(m.path, m.width, m.height)
        assert probe_video(m.path).duration == pytest.approx(3.0, abs=0.05)
    assert {m.framing for m in motions} == {"full_body", "three_quarter"}
    [example] = load_examples(out)
    assert_web_mp4(example.result)
    assert example.report().ok and example.plot.is_file()
    assert example.result.is_relative_to(out.resolve())
    # deterministic: the characters come out byte for byte as shipped
    for c in load_characters(out):
        assert c.path.read_bytes() == (ASSETS_DIR / "characters" / c.path.name).read_bytes(), c.id
