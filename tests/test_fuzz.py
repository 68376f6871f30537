"""Structure-aware fuzzing of probing, checks and planning: never an unhandled exception, never a hang.

tests/test_bad_input.py already throws plain random bytes and blind truncations/bit flips at the
probes. This layer goes where blind bytes rarely reach: it starts from real files of the corpus
(tests/corpus/make_corpus.py) and mutates their *structure*:

- MP4/MOV (H.264, 10-bit H.264, HEVC, ProRes, faststart or moov-at-end, rotated): box sizes set to
  0/1/7/huge/off-by-some, header fields (timescales, counts, tkhd matrix, avcC/hvcC bytes)
  overwritten, boxes dropped, duplicated or cut at a boundary;
- PNG: IHDR fields (size, bit depth, colour type, interlace) rewritten with a valid CRC so the
  parser believes them, chunk lengths corrupted, text/EXIF/APNG chunks inserted, chunks dropped;
- JPEG: SOF sizes and component counts, segment lengths, EXIF blocks inserted, cut after a marker;
- a real signature (ftyp, PNG, JPEG, GIF, RIFF/WEBP, EBML, ISO HEIF/AVIF brands) followed by junk;
- truncations and byte flips of the containers test_bad_input does not cover (MOV, MKV, live WebM, HEIC, AVIF).

Each example goes through probe_image, probe_video (header-only and decode=True), check_all,
check_video, plan_image and plan_video (which may only raise PreparationError), and prepare_image
for small readable pictures. Example counts are bounded and each example has a deadline.
"""

from __future__ import annotations

import math
import os
import re
import struct
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmc_ui.checks.rules import check_all, check_video
from kmc_ui.findings import Finding
from kmc_ui.media.prepare import PreparationError, plan_image, plan_video, prepare_image
from kmc_ui.media.probe import ImageInfo, VideoInfo, probe_image, probe_video
from tests.corpus.make_corpus import DEFAULT_DIR, build_corpus, companions, mp4_boxes

# Pillow warns (and carries on) about the damaged metadata these tests make on purpose.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
    pytest.mark.filterwarnings("ignore:Invalid APNG:UserWarning"),
]
GUARD_S = 5.0  # one example end to end (2 probes, a decode, checks, plans): real figures are milliseconds
EXAMPLES = int(os.environ.get("KMC_FUZZ_EXAMPLES", "150"))  # per test; raise it for a longer campaign
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=GUARD_S),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MP4_SEEDS = [
    "_companion_360x640.mp4",  # faststart H.264 + AAC
    "vid_moov_at_end.mp4",
    "vid_rotate90.mp4",  # tkhd display matrix
    "vid_h264_10bit.mp4",  # avcC High 10: chroma format and bit depth after the parameter sets
    "vid_hevc.mp4",
    "vid_prores.mov",
]
OTHER_SEEDS = [
    "vid_prores.mov",
    "vid_h264.mkv",
    "vid_vp9_alpha.webm",
    "vid_webcam_live.webm",  # no duration in the header: the packet-timestamp scan
    "img_photo.heic",
    "img_photo.avif",
]
PNG_SEEDS = ["_companion_720x1280.png", "img_adam7.png", "img_16bit_rgb.png"]
JPEG_SEEDS = ["img_progressive.jpg", "img_exif_rotated.jpg", "img_cmyk.jpg"]
INTERESTING_32 = [0, 1, 2, 7, 8, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
MAGICS = {
    ".mp4": [b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", b"\x00\x00\x00\x08moov", b"\x00\x00\x00\x01mdat"],
    ".png": [b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"],
    ".jpg": [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd8\xff\xc0\x00\x11\x08"],
    ".gif": [b"GIF89a", b"GIF87a"],
    ".webp": [b"RIFF\xff\xff\xff\x7fWEBPVP8X", b"RIFF\x00\x00\x00\x00WEBPVP8 "],
    ".webm": [b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01", b"\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00"],
    ".heic": [b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"],
    ".avif": [b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"],
}


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes = field(repr=False)
    suffix: str = ""


@dataclass(frozen=True)
class Mutant:
    """A mutated file; its repr (what Hypothesis prints for a failing example) lists the steps, not the bytes."""

    seed: str
    steps: tuple[str, ...]
    data: bytes = field(repr=False)


@pytest.fixture(scope="module")
def seeds() -> dict[str, Seed]:
    cases = {c.name: c for c in build_corpus(DEFAULT_DIR)}
    paths = {p.name: p for p in companions(DEFAULT_DIR)}
    paths |= {name: c.path for name, c in cases.items() if not c.skip}
    wanted = {*MP4_SEEDS, *OTHER_SEEDS, *PNG_SEEDS, *JPEG_SEEDS}
    return {n: Seed(n, paths[n].read_bytes(), paths[n].suffix) for n in wanted if n in paths}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def pick(seeds: dict[str, Seed], names: list[str], index: int) -> Seed:
    available = [seeds[n] for n in names if n in seeds]
    if not available:
        pytest.skip(f"none of {names} could be made here")
    return available[index % len(available)]


# ----------------------------------------------------------------------------- the property


def well_formed(f: Finding) -> bool:
    return f.level in ("error", "warning", "hint") and f.input in ("image", "video", "pair") and bool(f.message)


# A message naming one of these is a bug in our code surfacing as a finding, not a verdict on the file.
CODE_BUGS = re.compile(
    r"\((AttributeError|TypeError|KeyError|IndexError|NameError|UnboundLocalError|ZeroDivisionError|"
    r"AssertionError|RecursionError|error)\)"
)


def sane_video(info: VideoInfo) -> None:
    for value in (info.duration, info.fps, info.aspect):
        assert math.isfinite(value) and value >= 0, info
    assert info.width >= 0 and info.height >= 0 and info.frames >= 0 and info.size_bytes >= 0
    assert info.rotation in (0, 90, 180, 270)
    assert not CODE_BUGS.search(info.error), info.error


def sane_image(info: ImageInfo) -> None:
    assert info.width >= 0 and info.height >= 0 and info.frames >= 1 and math.isfinite(info.aspect)
    assert not CODE_BUGS.search(info.error), info.error


def exercise(path: Path, data: bytes, out_dir: Path) -> None:
    path.write_bytes(data)
    start = time.perf_counter()
    image, video, decoded = probe_image(path), probe_video(path), probe_video(path, decode=True)
    sane_image(image)
    sane_video(video)
    sane_video(decoded)
    findings = check_all(image, video, prompt="soft light", orientation="image", tier="pro", keep_sound=True)
    findings += check_video(decoded, "video", keep_sound=False)
    assert all(well_formed(f) for f in findings), findings
    seen = {(f.level, f.input) for f in findings}
    if image.error:
        assert ("error", "image") in seen
    if video.error or decoded.error or not decoded.decodable:
        assert ("error", "video") in seen
    for plan, info in ((plan_image, image), (plan_video, video)):
        if info.ok:
            try:
                plan(info)  # type: ignore[operator]
            except PreparationError as exc:
                assert str(exc).strip()
    if image.ok and image.width * image.height <= 20_000_000:
        try:
            prepare_image(image, out_dir)
        except PreparationError as exc:
            assert str(exc).startswith("Character image") and not CODE_BUGS.search(str(exc)), exc
    assert time.perf_counter() - start < GUARD_S


# ----------------------------------------------------------------------------- MP4 / MOV boxes


@st.composite
def mp4_mutants(draw: st.DrawFn, seed: Seed) -> Mutant:
    data = bytearray(seed.data)
    boxes = mp4_boxes(seed.data)
    steps = []
    for _ in range(draw(st.integers(0, 4))):  # header fields first: the offsets are still valid
        path, pos, size = draw(st.sampled_from(boxes))
        offset = 8 + draw(st.integers(0, max(0, min(size - 8, 96) - 1)))
        width = draw(st.sampled_from([1, 2, 4]))
        value = draw(st.sampled_from(INTERESTING_32) | st.integers(0, 2**32 - 1)) & ((1 << (8 * width)) - 1)
        data[pos + offset : pos + offset + width] = value.to_bytes(width, "big")
        steps.append(f"{_box(path)}+{offset}: {width} bytes = {value:#x}")
    path, pos, size = draw(st.sampled_from(boxes))
    op = draw(st.sampled_from(["size", "drop", "dup", "cut", "none"]))
    if op == "size":
        new = draw(st.sampled_from([0, 1, 7, 8, 9, size - 1, size + 1, size * 2, 2**31, 2**32 - 1]))
        data[pos : pos + 4] = struct.pack(">I", max(0, min(new, 2**32 - 1)))
        steps.append(f"{_box(path)} size {size} -> {new}")
    elif op == "drop":
        del data[pos : pos + size]
        steps.append(f"{_box(path)} dropped")
    elif op == "dup":
        data[pos:pos] = data[pos : pos + size]
        steps.append(f"{_box(path)} duplicated")
    elif op == "cut":
        keep = draw(st.integers(0, min(size, 64)))
        data = data[: pos + keep]
        steps.append(f"cut {keep} bytes into {_box(path)}")
    return Mutant(seed.name, tuple(steps), bytes(data))


def _box(path: tuple[bytes, ...]) -> str:
    return "/".join(p.decode("latin-1") for p in path)


@FUZZ
@given(which=st.integers(0, 100), data=st.data())
def test_mp4_box_mutations(seeds: dict[str, Seed], workdir: Path, which: int, data: st.DataObject) -> None:
    seed = pick(seeds, MP4_SEEDS, which)
    exercise(workdir / f"mp4{seed.suffix}", data.draw(mp4_mutants(seed)).data, workdir / "out")


# ----------------------------------------------------------------------------- PNG chunks


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@st.composite
def png_mutants(draw: st.DrawFn, seed: Seed) -> Mutant:
    chunks = png_chunks(seed.data)
    steps = []
    if draw(st.booleans()):  # a believable IHDR (valid CRC) that lies about the picture
        kind, body = chunks[0]
        w, h, depth, color, comp, filt, interlace = struct.unpack(">IIBBBBB", body[:13])
        w = draw(st.sampled_from([w, 0, 1, 299, 65536, 2**31 - 1]) | st.integers(0, 2**32 - 1))
        h = draw(st.sampled_from([h, 0, 1, 5000, 2**31 - 1]) | st.integers(0, 2**32 - 1))
        depth = draw(st.sampled_from([depth, 1, 2, 4, 8, 16, 0, 3, 255]))
        color = draw(st.sampled_from([color, 0, 2, 3, 4, 6, 1, 7]))
        interlace = draw(st.sampled_from([interlace, 0, 1, 2]))
        chunks[0] = (kind, struct.pack(">IIBBBBB", w, h, depth, color, comp, filt, interlace))
        steps.append(f"IHDR {w}x{h} depth {depth} colour {color} interlace {interlace}")
    extra = st.tuples(
        st.sampled_from([b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"acTL", b"fcTL", b"PLTE", b"tRNS", b"gAMA"]),
        st.binary(max_size=64),
    )
    for kind, body in draw(st.lists(extra, max_size=3)):
        at = draw(st.integers(1, len(chunks)))
        chunks.insert(at, (kind, body))
        steps.append(f"insert {kind.decode()} {body!r} at chunk {at}")
    if len(chunks) > 2 and draw(st.booleans()):
        at = draw(st.integers(1, len(chunks) - 1))
        steps.append(f"drop chunk {at} ({chunks[at][0].decode('latin-1')})")
        del chunks[at]
    out = bytearray(seed.data[:8] + b"".join(chunk(k, b) for k, b in chunks))
    if draw(st.booleans()):  # a length field that lies (its CRC no longer matches)
        pos, value = draw(st.integers(0, max(0, len(out) - 12))), draw(st.sampled_from(INTERESTING_32))
        out[pos : pos + 4] = struct.pack(">I", value)
        steps.append(f"4 bytes at {pos} = {value:#x}")
    if draw(st.booleans()):
        keep = draw(st.integers(8, len(out)))
        out = out[:keep]
        steps.append(f"cut at {keep}")
    return Mutant(seed.name, tuple(steps), bytes(out))


@FUZZ
@given(which=st.integers(0, 100), data=st.data())
def test_png_chunk_mutations(seeds: dict[str, Seed], workdir: Path, which: int, data: st.DataObject) -> None:
    seed = pick(seeds, PNG_SEEDS, which)
    exercise(workdir / "chunks.png", data.draw(png_mutants(seed)).data, workdir / "out")


# ----------------------------------------------------------------------------- JPEG segments


def jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each marker segment up to the start of scan."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        out.append((pos, length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


@st.composite
def jpeg_mutants(draw: st.DrawFn, seed: Seed) -> Mutant:
    data = bytearray(seed.data)
    segments = jpeg_segments(seed.data)
    steps = []
    sof = [pos for pos, _ in segments if data[pos + 1] in (0xC0, 0xC1, 0xC2)]
    if sof and draw(st.booleans()):  # SOF: precision, height, width, components
        pos = sof[0]
        data[pos + 4] = draw(st.sampled_from([8, 12, 16, 0]))
        data[pos + 5 : pos + 7] = struct.pack(">H", draw(st.integers(0, 65535)))
        data[pos + 7 : pos + 9] = struct.pack(">H", draw(st.integers(0, 65535)))
        data[pos + 9] = draw(st.sampled_from([1, 3, 4, 0, 255]))
        steps.append(
            f"SOF precision {data[pos + 4]} size {data[pos + 7 : pos + 9].hex()}x{data[pos + 5 : pos + 7].hex()} "
            f"components {data[pos + 9]}"
        )
    if segments and draw(st.booleans()):  # a segment length that lies
        pos, _ = draw(st.sampled_from(segments))
        value = draw(st.sampled_from([0, 1, 2, 3, 0xFFFF]) | st.integers(0, 0xFFFF))
        data[pos + 2 : pos + 4] = struct.pack(">H", value)
        steps.append(f"segment at {pos} (marker {data[pos + 1]:#x}) length = {value}")
    if draw(st.booleans()):  # an EXIF block of junk (orientation parsing, IFD offsets)
        body = b"Exif\x00\x00" + draw(st.sampled_from([b"MM\x00*", b"II*\x00"])) + draw(st.binary(max_size=80))
        data[2:2] = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
        steps.append(f"APP1 {body!r}")
    if draw(st.booleans()):
        keep = draw(st.integers(2, len(data)))
        data = data[:keep]
        steps.append(f"cut at {keep}")
    return Mutant(seed.name, tuple(steps), bytes(data))


@FUZZ
@given(which=st.integers(0, 100), data=st.data())
def test_jpeg_segment_mutations(seeds: dict[str, Seed], workdir: Path, which: int, data: st.DataObject) -> None:
    seed = pick(seeds, JPEG_SEEDS, which)
    exercise(workdir / "segments.jpg", data.draw(jpeg_mutants(seed)).data, workdir / "out")


# ----------------------------------------------------------------------------- signatures, other containers


@FUZZ
@given(ext=st.sampled_from(sorted(MAGICS)), data=st.data(), junk=st.binary(max_size=2048))
def test_real_signature_then_junk(workdir: Path, ext: str, data: st.DataObject, junk: bytes) -> None:
    magic = data.draw(st.sampled_from(MAGICS[ext]))
    exercise(workdir / f"magic{ext}", magic + junk, workdir / "out")


@FUZZ
@given(
    which=st.integers(0, 100),
    fraction=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=8),
)
def test_truncated_and_flipped_other_containers(
    seeds: dict[str, Seed], workdir: Path, which: int, fraction: float, flips: list[tuple[int, int]]
) -> None:
    seed = pick(seeds, OTHER_SEEDS, which)
    data = bytearray(seed.data[: int(len(seed.data) * fraction)])
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    exercise(workdir / f"other{seed.suffix}", bytes(data), workdir / "out")
