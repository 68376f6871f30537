"""The bad-input corpus: awkward, broken and hostile files, each with the findings it must get.

    python tests/corpus/make_corpus.py [OUT_DIR] [--force]

Importable: `build_corpus(out_dir) -> list[Case]` makes every file (cached: a file is made again
only when its recipe changed) and returns the table. Each Case names its file, the input it is
meant for (image or video), and the EXACT set of (level, input, code) findings that
`Studio.check` must give when it is paired with a clean companion (`companions(out_dir)`): the
companion's own input stays clean, so every finding belongs to the case. `prepare` says what
`Studio.prepare` must do with it:

- "as_is":      nothing to fix, the file itself is sent (no re-encode, no copy);
- "fixed":      the preparation step fixes it; the prepared file re-checks without errors (and, when
                `prepare_text` is set, one of the preparation's actions contains it);
- "refused":    an error preparation cannot fix: a PreparationError whose text contains `prepare_text`;
- "unreadable": the probe (or, for `decode_expect`, the decode of the first keyframe) fails: nothing is
                prepared and the error finding stays.

A case whose encoder or Pillow plugin is missing here is returned with `skip` set to the reason.

The hostile inputs of the security review (tests/media_factory.py HOSTILE: a 13300x13300 PNG, an
11000x11000 HEIC, PNG and JPEG headers declaring 60000x60000, a 10,000-frame GIF, a 10-minute clip)
are cases too, named `img_<hostile name>` / `vid_<hostile name>`. They are not made here:
`hostile_files()` makes them once per machine into $TMPDIR/kmc-hostile (shared with
tests/test_hostile.py; the HEIC alone takes 15-35 s) and the corpus links (or copies) them. That
cache goes by file name only: delete the folder after changing a hostile generator.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image

from kmc_ui.media import probe as _probe  # noqa: F401  (registers the HEIF opener/saver when installed)
from kmc_ui.media.ffmpeg import ffmpeg_exe
from tests.media_factory import hostile_files, make_image

RECIPE_VERSION = 1  # bump to remake every file (a file is also remade when its builder's code changes)
MANIFEST = ".corpus.json"
DEFAULT_DIR = Path(os.environ.get("KMC_CORPUS_DIR") or Path(os.environ.get("TMPDIR", "/tmp")) / "kmc-corpus")
COMPANION_IMAGE = "_companion_720x1280.png"  # clean portrait character image (aspect 0.5625)
COMPANION_VIDEO = "_companion_360x640.mp4"  # clean portrait H.264 + AAC, 4 s (aspect 0.5625)

Key = tuple[str, str, str]  # (level, input, code)
Prepare = Literal["as_is", "fixed", "refused", "unreadable"]


@dataclass(frozen=True)
class Case:
    name: str  # file name in the corpus folder
    input: Literal["image", "video"]
    expect: frozenset[Key]  # exact findings of Studio.check on this input (and "pair"), companion clean
    about: str  # what is awkward about it, in words
    texts: tuple[str, ...] = ()  # substrings the case's finding messages must contain
    fix_texts: tuple[str, ...] = ()  # substrings the case's findings' fix texts must contain
    prepare: Prepare = "as_is"
    prepare_text: str = ""  # substring of the PreparationError text ("refused") or of an action ("fixed")
    orientation: str = "video"
    decode_expect: frozenset[Key] | None = None  # probe_video(decode=True) findings when they differ
    needs: tuple[str, ...] = ()  # "enc:<ffmpeg encoder>" or "pil:<Pillow save format>"
    path: Path = Path()
    skip: str = ""  # non-empty: not made here, and why

    @property
    def id(self) -> str:
        return self.name


@dataclass(frozen=True)
class _Recipe:
    case: Case
    build: Callable[[Path], None]


# ----------------------------------------------------------------------------- helpers


def _ff(*args: str) -> None:
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def _lavfi_video(path: Path, size: str, seconds: float, fps: float = 24, *, audio: bool = True, v: list[str]) -> None:
    """A test-pattern clip: `v` holds the video codec options (and any muxer options)."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", f"{seconds}", *v]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    _ff(*args, str(path))


_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _h264(path: Path, size: str = "360x640", seconds: float = 3.5, fps: float = 24, audio: bool = True) -> None:
    _lavfi_video(path, size, seconds, fps, audio=audio, v=[*_X264, "-movflags", "+faststart"])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_bytes(width: int = 720, height: int = 1280) -> bytes:
    buf = io.BytesIO()
    tmp = Image.new("RGB", (width, height), (200, 210, 225))
    tmp.save(buf, "PNG")
    return buf.getvalue()


def _with_chunk_after_ihdr(png: bytes, chunk: bytes) -> bytes:
    ihdr_end = 8 + 8 + 13 + 4  # signature + IHDR (length, type, 13 bytes, CRC)
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def _zip_of(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"}


def mp4_boxes(data: bytes, start: int = 0, end: int | None = None, path: tuple[bytes, ...] = ()) -> list[tuple]:
    """Every box as (path, offset, size), descending into the index's container boxes."""
    end = len(data) if end is None else end
    out: list[tuple] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8:
            break
        out.append(((*path, kind), pos, size))
        if kind in _CONTAINER_BOXES:
            out += mp4_boxes(data, pos + 8, min(pos + size, end), (*path, kind))
        pos += size
    return out


def _video_box(data: bytes, *path: bytes) -> int:
    """Offset of a box inside the video track (the first trak whose handler is 'vide')."""
    boxes = mp4_boxes(data)
    traks = [pos for p, pos, _ in boxes if p == (b"moov", b"trak")]
    for trak in traks:
        hdlr = next(pos for p, pos, _ in boxes if p == (b"moov", b"trak", b"mdia", b"hdlr") and pos > trak)
        if data[hdlr + 16 : hdlr + 20] == b"vide":
            return next(pos for p, pos, _ in boxes if p == (b"moov", b"trak", *path) and pos > trak)
    raise ValueError("no video track")


def _patched_mp4(src: Path, dest: Path, patch: Callable[[bytearray], None]) -> None:
    data = bytearray(src.read_bytes())
    patch(data)
    dest.write_bytes(bytes(data))


@lru_cache(maxsize=1)
def _encoders() -> frozenset[str]:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False)
    names = set()
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


def missing_need(needs: tuple[str, ...]) -> str:
    """Why a case cannot be made here ("" when it can)."""
    Image.init()
    for need in needs:
        kind, _, name = need.partition(":")
        if kind == "enc" and name not in _encoders():
            return f"this ffmpeg has no {name} encoder"
        if kind == "pil" and name not in Image.SAVE:
            plugin = "pillow-heif" if name == "HEIF" else f"Pillow's {name} plugin"
            return f"cannot write {name} here ({plugin} is not installed)"
    return ""


# ----------------------------------------------------------------------------- builders: images


def _b_companion_image(p: Path) -> None:
    make_image(p, 720, 1280)


def _b_companion_video(p: Path) -> None:
    _h264(p, "360x640", 4.0)


def _b_empty(p: Path) -> None:
    p.write_bytes(b"")


def _b_png_cut_in_header(p: Path) -> None:
    p.write_bytes(_png_bytes()[:20])  # the signature and half of the IHDR chunk


def _b_png_cut_in_pixels(p: Path) -> None:
    make_image(p, 720, 1280)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _b_zip_png(p: Path) -> None:
    p.write_bytes(_zip_of("character.png", _png_bytes()))


def _b_mp4_as_jpg(p: Path) -> None:
    _h264(p.with_suffix(".tmp.mp4"), "360x640", 3.5)
    p.with_suffix(".tmp.mp4").replace(p)


def _b_png_as_jpg(p: Path) -> None:
    make_image(p, 720, 1280, fmt="PNG")


def _b_cmyk_jpg(p: Path) -> None:
    make_image(p, 720, 1280, mode="CMYK")


def _b_png16(p: Path) -> None:
    _ff("-f", "lavfi", "-i", "testsrc2=size=720x1280", "-frames:v", "1", "-pix_fmt", "rgb48be", "-f", "image2", str(p))


def _b_bomb(p: Path) -> None:
    """A real, valid 1-bit 20000x20000 PNG (400 megapixels), about 50 KB on disk."""
    width = height = 20000
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def _b_heic(p: Path) -> None:
    make_image(p, 720, 1280, fmt="HEIF", quality=80)


def _b_avif(p: Path) -> None:
    make_image(p, 720, 1280, fmt="AVIF", quality=60, speed=10)


def _animated(p: Path, fmt: str) -> None:
    frames = []
    for k in range(3):
        im = Image.new("RGB", (720, 1280), (200, 210, 225))
        im.paste((40, 80, 160), (300 + 20 * k, 300, 420 + 20 * k, 900))
        frames.append(im)
    extra = {"lossless": False, "quality": 50, "method": 0} if fmt == "WEBP" else {}
    frames[0].save(p, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **extra)


def _b_anim_webp(p: Path) -> None:
    _animated(p, "WEBP")


def _b_anim_gif(p: Path) -> None:
    _animated(p, "GIF")


def _b_bmp(p: Path) -> None:
    make_image(p, 720, 1280, fmt="BMP")


def _b_tiff(p: Path) -> None:
    make_image(p, 720, 1280, fmt="TIFF")


def _b_interlaced_png(p: Path) -> None:
    """Adam7-interlaced PNG: FFmpeg's PNG encoder interlaces with +ildct (Pillow cannot write it)."""
    _ff("-f", "lavfi", "-i", "testsrc2=size=720x1280", "-frames:v", "1", "-flags", "+ildct", "-f", "image2", str(p))
    if p.read_bytes()[28] != 1:  # IHDR interlace method byte
        raise RuntimeError("ffmpeg did not write an interlaced PNG")


def _b_progressive_jpg(p: Path) -> None:
    make_image(p, 720, 1280, fmt="JPEG", progressive=True, quality=90)


def _b_png_text_20mb(p: Path) -> None:
    """A 720x1280 PNG carrying 20 MB of plain tEXt metadata before its pixels."""
    chunk = _png_chunk(b"tEXt", b"Comment\0" + b"lorem ipsum " * (20 * 1024 * 1024 // 12))
    p.write_bytes(_with_chunk_after_ihdr(_png_bytes(), chunk))


def _b_png_ztxt_bomb(p: Path) -> None:
    """A 720x1280 PNG whose zTXt chunk is 20 KB on disk and inflates to 20 MB of text."""
    text = zlib.compress(b"A" * (20 * 1024 * 1024), 9)
    chunk = _png_chunk(b"zTXt", b"Comment\0\0" + text)
    p.write_bytes(_with_chunk_after_ihdr(_png_bytes(), chunk))


def _b_8k(p: Path) -> None:
    make_image(p, 7680, 4320, fmt="JPEG", quality=85)


def _b_1x5000(p: Path) -> None:
    Image.new("RGB", (1, 5000), (40, 80, 160)).save(p, "PNG")


def _b_exif6(p: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    make_image(p, 1280, 720, fmt="JPEG", exif=exif.tobytes())


def _b_320x640(p: Path) -> None:
    make_image(p, 320, 640)


def _b_200x400(p: Path) -> None:
    make_image(p, 200, 400)


def _b_1500x500(p: Path) -> None:
    make_image(p, 1500, 500)


def _b_text_as_png(p: Path) -> None:
    p.write_bytes(b"This is a note, not a picture.\n" * 40)


# ----------------------------------------------------------------------------- builders: videos


def _b_text_mp4(p: Path) -> None:
    p.write_bytes(b"this is not a video, it is a text file renamed .mp4\n" * 40)


def _b_zip_mp4(p: Path) -> None:
    p.write_bytes(_zip_of("clip.txt", b"not a clip " * 400))


def _b_png_as_mp4(p: Path) -> None:
    p.write_bytes(_png_bytes())


def _base(p: Path, name: str, faststart: bool = True) -> Path:
    src = p.with_name(name)
    v = [*_X264, *(["-movflags", "+faststart"] if faststart else [])]
    _lavfi_video(src, "360x640", 3.5, 24, audio=True, v=v)
    return src


def _b_trunc_faststart(p: Path) -> None:
    src = _base(p, ".tmp_fast_" + p.name)
    data = src.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.6)])
    src.unlink()


def _b_trunc_moov_end(p: Path) -> None:
    src = _base(p, ".tmp_moovend_" + p.name, faststart=False)
    data = src.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.6)])
    src.unlink()


def _b_moov_end(p: Path) -> None:
    _lavfi_video(p, "360x640", 3.5, 24, audio=True, v=list(_X264))  # mp4 muxer default: moov after mdat
    data = p.read_bytes()
    kinds = [box[0][-1] for box in mp4_boxes(data) if len(box[0]) == 1]
    if kinds.index(b"moov") < kinds.index(b"mdat"):
        raise RuntimeError(f"expected moov after mdat, got {kinds}")


def _b_corrupt_mid(p: Path) -> None:
    """64 KB zeroed in the middle of mdat: the index and the first keyframe are intact."""
    src = _base(p, ".tmp_mid_" + p.name)
    data = bytearray(src.read_bytes())
    mdat = next((pos, size) for path, pos, size in mp4_boxes(bytes(data)) if path == (b"mdat",))
    middle = mdat[0] + mdat[1] // 2
    data[middle : middle + 65536] = bytes(65536)
    p.write_bytes(bytes(data))
    src.unlink()


def _b_zeroed_mdat(p: Path) -> None:
    """A perfect index over picture data zeroed from the start of mdat: nothing decodes."""
    src = _base(p, ".tmp_zero_" + p.name)
    data = bytearray(src.read_bytes())
    mdat = next(pos for path, pos, _ in mp4_boxes(bytes(data)) if path == (b"mdat",))
    data[mdat + 16 :] = bytes(len(data) - mdat - 16)
    p.write_bytes(bytes(data))
    src.unlink()


def _b_audio_only(p: Path) -> None:
    _ff("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4", "-c:a", "aac", str(p))


def _b_video_only(p: Path) -> None:
    _h264(p, audio=False)


def _b_one_frame(p: Path) -> None:
    _lavfi_video(p, "360x640", 1, 24, audio=False, v=[*_X264, "-frames:v", "1"])


def _b_vfr(p: Path) -> None:
    """2 s at 30 fps joined to 2 s at 10 fps, kept variable (as a phone records in low light)."""
    args = []
    for rate in (30, 10):
        args += ["-f", "lavfi", "-t", "2", "-i", f"testsrc2=size=360x640:rate={rate}"]
    args += ["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0", "-fps_mode", "vfr", *_X264, str(p)]
    _ff(*args)


def _b_hevc(p: Path) -> None:
    v = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none", "-pix_fmt", "yuv420p"]
    _lavfi_video(p, "360x640", 3.5, 24, audio=True, v=[*v, "-tag:v", "hvc1"])


def _b_vp9_alpha(p: Path) -> None:
    args = ["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=24,format=yuva420p,geq=lum='lum(X,Y)':a='160'"]
    args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3.5"]
    args += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-pix_fmt", "yuva420p"]
    _ff(*args, "-c:a", "libopus", "-shortest", str(p))
    ffprobe = shutil.which("ffprobe")
    if ffprobe:  # the alpha plane travels as a side stream that PyAV's VP9 decoder does not report
        out = subprocess.run([ffprobe, "-v", "error", "-show_streams", str(p)], capture_output=True, text=True)
        if "alpha_mode=1" not in out.stdout:
            raise RuntimeError("the VP9 stream carries no alpha")


def _b_av1(p: Path) -> None:
    v = ["-c:v", "libsvtav1", "-preset", "12", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    _lavfi_video(p, "360x640", 3.5, 24, audio=True, v=v)


def _b_unknown_codec(p: Path) -> None:
    """A good H.264 MP4 whose sample entry says 'zzzz': a picture track in a codec FFmpeg does not know."""
    src = _base(p, ".tmp_fourcc_" + p.name)

    def patch(d: bytearray) -> None:
        stsd = _video_box(bytes(d), b"mdia", b"minf", b"stbl", b"stsd")
        at = bytes(d).index(b"avc1", stsd)
        d[at : at + 4] = b"zzzz"

    _patched_mp4(src, p, patch)
    src.unlink()


def _b_live_webm(p: Path) -> None:
    """What a browser's MediaRecorder writes: VP8 + Opus WebM with no duration and no cues (live mode)."""
    args = ["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000"]
    args += ["-t", "4", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]
    _ff(*args, "-c:a", "libopus", "-shortest", "-f", "webm", "-live", "1", str(p))


def _b_prores(p: Path) -> None:
    _lavfi_video(p, "360x640", 3.5, 24, audio=True, v=["-c:v", "prores_ks", "-profile:v", "0"])


def _rotated(p: Path, degrees: int, size: str) -> None:
    src = p.with_name(f".tmp_rot_{p.name}")
    _h264(src, size, 3.5)
    _ff("-i", str(src), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(p))
    src.unlink()


def _b_rot90(p: Path) -> None:
    _rotated(p, 90, "640x360")


def _b_rot180(p: Path) -> None:
    _rotated(p, 180, "360x640")


def _b_rot270(p: Path) -> None:
    _rotated(p, 270, "640x360")


def _b_60fps(p: Path) -> None:
    _h264(p, fps=60)


def _b_12fps(p: Path) -> None:
    _h264(p, fps=12)


def _b_2_9s(p: Path) -> None:
    _h264(p, seconds=2.9, fps=30)  # 87 frames: exactly 2.9 s


def _b_30_1s(p: Path) -> None:
    _h264(p, seconds=30.1, fps=30)  # 903 frames: exactly 30.1 s


def _b_12s(p: Path) -> None:
    _h264(p, seconds=12)


def _b_raw_h264(p: Path) -> None:
    """An H.264 elementary stream: no container, so no timing at all (FFmpeg would guess 25 fps)."""
    _lavfi_video(p, "360x640", 3.5, 24, audio=False, v=[*_X264, "-bsf:v", "h264_mp4toannexb", "-f", "h264"])


def _b_stts_zero(p: Path) -> None:
    """Every sample's duration patched to 0 in the video track's stts: the index says 0 fps."""
    src = _base(p, ".tmp_stts_" + p.name)

    def patch(d: bytearray) -> None:
        stts = _video_box(bytes(d), b"mdia", b"minf", b"stbl", b"stts")
        for k in range(struct.unpack(">I", d[stts + 12 : stts + 16])[0]):
            entry = stts + 16 + 8 * k
            d[entry + 4 : entry + 8] = bytes(4)

    _patched_mp4(src, p, patch)
    src.unlink()


def _b_mdhd_timescale_zero(p: Path) -> None:
    """The video track's mdhd timescale patched to 0 (FFmpeg falls back to 1 tick a second)."""
    src = _base(p, ".tmp_mdhd_" + p.name)

    def patch(d: bytearray) -> None:
        mdhd = _video_box(bytes(d), b"mdia", b"mdhd")
        if d[mdhd + 8] != 0:
            raise RuntimeError("expected a version 0 mdhd")
        d[mdhd + 20 : mdhd + 24] = bytes(4)  # size, type, version/flags, creation, modification, TIMESCALE

    _patched_mp4(src, p, patch)
    src.unlink()


def _b_stts_count_huge(p: Path) -> None:
    """The video stts entry count patched to 0x40000000: FFmpeg refuses the allocation (ENOMEM)."""
    src = _base(p, ".tmp_sttsn_" + p.name)

    def patch(d: bytearray) -> None:
        stts = _video_box(bytes(d), b"mdia", b"minf", b"stbl", b"stts")
        d[stts + 12 : stts + 16] = struct.pack(">I", 0x40000000)

    _patched_mp4(src, p, patch)
    src.unlink()


def _b_over_100mb(p: Path) -> None:
    """A valid 3.5 s faststart MP4 followed by a 'free' box that brings it to 101 MB (sparse on disk)."""
    src = _base(p, ".tmp_big_" + p.name)
    data = src.read_bytes()
    target = 101 * 1024 * 1024
    free = target - len(data)
    with open(p, "wb") as fh:
        fh.write(data)
        fh.write(struct.pack(">I4s", free, b"free"))
        fh.truncate(target)
    src.unlink()


def _b_small_video(p: Path) -> None:
    _h264(p, "320x568", 3.5)


def _b_4k_plus(p: Path) -> None:
    _lavfi_video(p, "2176x3868", 3.0, 15, audio=True, v=[*_X264, "-movflags", "+faststart"])


def _b_10bit(p: Path) -> None:
    v = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-movflags", "+faststart"]
    _lavfi_video(p, "360x640", 3.5, 24, audio=True, v=v)


def _b_mkv(p: Path) -> None:
    _lavfi_video(p, "360x640", 3.5, 24, audio=True, v=list(_X264))


def _b_gif_video(p: Path) -> None:
    _ff("-f", "lavfi", "-i", "testsrc2=size=360x640:rate=10", "-t", "3.5", str(p))


# ----------------------------------------------------------------------------- builders: hostile inputs

_HOSTILE_LOCK = threading.Lock()  # the corpus is made by two workers: only one runs hostile_files()


def _hostile(p: Path, name: str) -> None:
    """A hostile input of tests/media_factory.py, made once per machine by hostile_files(), linked here."""
    with _HOSTILE_LOCK:
        src = hostile_files()[name]
    if src.name != name:  # make_big_heic wrote its JPEG fallback (no pillow-heif): that case is skipped
        raise RuntimeError(f"{name}: the hostile generator made {src.name} instead")
    try:
        os.link(src, p)  # same file system: no copy of the 35 MB clip
    except OSError:
        shutil.copyfile(src, p)


def _b_hostile_big_png(p: Path) -> None:
    _hostile(p, "hostile_13300x13300.png")


def _b_hostile_big_heic(p: Path) -> None:
    _hostile(p, "hostile_11000x11000.heic")


def _b_hostile_declared_png(p: Path) -> None:
    _hostile(p, "hostile_declared_60000.png")


def _b_hostile_declared_jpeg(p: Path) -> None:
    _hostile(p, "hostile_declared_60000.jpg")


def _b_hostile_gif(p: Path) -> None:
    _hostile(p, "hostile_10000_frames.gif")


def _b_hostile_long_clip(p: Path) -> None:
    _hostile(p, "hostile_10_minutes.mp4")


# ----------------------------------------------------------------------------- the table

_UNREADABLE_IMAGE = "not an image we can read"
_NOT_VIDEO = "not a video we can read"
_NOT_FORMAT = "not in a video format we accept"


_LEVELS = {"E": "error", "W": "warning", "H": "hint"}


def _keys(spec: str) -> frozenset[Key]:
    """ "E:image_format W:pair_aspect_mismatch" -> {("error", "image", "image_format"), ...}."""
    out = set()
    for item in spec.split():
        level, _, code = item.partition(":")
        out.add((_LEVELS[level], code.split("_")[0], code))
    return frozenset(out)


# (builder, file name, expected findings, what is awkward, what Studio.prepare does, options).
# The input is the name's prefix: img_ -> image, vid_ -> video. Options: texts (substrings of the
# messages), fix_texts (substrings of their fixes), prepare_text (substring of the PreparationError, or
# of an action when "fixed"), orientation, needs.
_MISMATCH = "W:pair_aspect_mismatch"
# fmt: off
_TABLE: list[tuple[Callable[[Path], None], str, str, str, Prepare, dict]] = [
    # ------------------------------------------------------------------------------------ images
    (_b_empty, "img_zero_bytes.png", "E:image_empty", "0 bytes", "unreadable", {"texts": ("empty (0 bytes)",)}),
    (_b_png_cut_in_header, "img_cut_in_header.png", "E:image_unreadable", "PNG cut inside its IHDR header",
     "unreadable", {"texts": ("cut short or damaged",)}),
    (_b_png_cut_in_pixels, "img_cut_in_pixels.png", "", "PNG cut half-way through its pixels (header intact)",
     "refused", {"prepare_text": "could not be decoded (the file is truncated)"}),
    (_b_zip_png, "img_zip.png", "E:image_unreadable", "a zip archive named .png", "unreadable",
     {"texts": (_UNREADABLE_IMAGE,)}),
    (_b_text_as_png, "img_text.png", "E:image_unreadable", "a text file named .png", "unreadable",
     {"texts": (_UNREADABLE_IMAGE,)}),
    (_b_mp4_as_jpg, "img_video.jpg", "E:image_unreadable", "an MP4 named .jpg", "unreadable",
     {"texts": (_UNREADABLE_IMAGE,)}),
    (_b_png_as_jpg, "img_png_named.jpg", "H:image_extension_mismatch", "PNG content named .jpg", "fixed",
     {"texts": ("'.jpg'", "PNG")}),
    (_b_cmyk_jpg, "img_cmyk.jpg", "W:image_color_mode", "CMYK JPEG", "fixed", {"texts": ("CMYK", "8-bit RGB")}),
    (_b_png16, "img_16bit_rgb.png", "W:image_color_mode", "16-bit RGB PNG", "fixed", {"texts": ("16-bit RGB",)}),
    (_b_bomb, "img_bomb_20000.png", f"E:image_too_many_pixels {_MISMATCH}",
     "20000x20000 decompression bomb (a valid 1-bit PNG of about 50 KB)", "refused",
     {"texts": ("20000x20000", "179 megapixels"), "prepare_text": "179 megapixels"}),
    (_b_heic, "img_photo.heic", "E:image_format", "HEIC (iPhone photo format)", "fixed",
     {"texts": ("HEIF file",), "needs": ("pil:HEIF",)}),
    (_b_avif, "img_photo.avif", "E:image_format", "AVIF", "fixed", {"texts": ("AVIF file",), "needs": ("pil:AVIF",)}),
    (_b_anim_webp, "img_animated.webp", "E:image_format W:image_animated", "animated WebP, 3 frames", "fixed",
     {"texts": ("WEBP file", "3 frames"), "needs": ("pil:WEBP",)}),
    (_b_anim_gif, "img_animated.gif", "E:image_format W:image_animated", "animated GIF, 3 frames", "fixed",
     {"texts": ("GIF file", "3 frames")}),
    (_b_bmp, "img_bitmap.bmp", "E:image_format", "BMP", "fixed", {"texts": ("BMP file",)}),
    (_b_tiff, "img_scan.tiff", "E:image_format", "TIFF", "fixed", {"texts": ("TIFF file",)}),
    (_b_interlaced_png, "img_adam7.png", "", "Adam7-interlaced PNG", "as_is", {"needs": ("enc:png",)}),
    (_b_progressive_jpg, "img_progressive.jpg", "", "progressive JPEG", "as_is", {}),
    (_b_png_text_20mb, "img_text_chunk_20mb.png", "E:image_file_size", "PNG with 20 MB of tEXt metadata", "fixed",
     {"texts": ("20.0 MB", "10.0 MB")}),
    (_b_png_ztxt_bomb, "img_ztxt_bomb.png", "E:image_unreadable", "PNG whose 25 KB zTXt chunk inflates to 20 MB",
     "unreadable", {"texts": ("text (metadata) chunk", "without its metadata")}),
    (_b_8k, "img_8k_7680x4320.jpg", _MISMATCH, "8K landscape picture (7680x4320) beside a portrait video", "as_is",
     {"texts": ("7680x4320",)}),
    (_b_1x5000, "img_1x5000.png", f"E:image_too_small E:image_aspect {_MISMATCH}", "a 1x5000 sliver", "refused",
     {"texts": ("1x5000", "at least 300 px"), "prepare_text": "at least 300 px"}),
    (_b_exif6, "img_exif_rotated.jpg", "H:image_exif_rotated", "EXIF orientation 6 (stored 1280x720, shown 720x1280)",
     "fixed", {"texts": ("orientation 6", "720x1280")}),
    (_b_320x640, "img_320x640.png", "W:image_small_side", "short side 320 px (300..339: some providers refuse)",
     "as_is", {"texts": ("320 px",)}),
    (_b_200x400, "img_200x400.png", "E:image_too_small", "200x400, under 300 px", "refused",
     {"texts": ("200x400", "at least 300 px"), "prepare_text": "at least 300 px"}),
    (_b_1500x500, "img_1500x500.png", f"E:image_aspect H:image_low_resolution {_MISMATCH}", "aspect 3:1", "refused",
     {"texts": ("aspect ratio is 3", "2.5"), "prepare_text": "aspect ratio"}),
    # ------------------------------------------------------------------------------------ videos
    (_b_empty, "vid_zero_bytes.mp4", "E:video_empty", "0 bytes", "unreadable", {"texts": ("empty (0 bytes)",)}),
    (_b_text_mp4, "vid_text.mp4", "E:video_unreadable", "a text file named .mp4", "unreadable",
     {"texts": (_NOT_VIDEO,)}),
    (_b_zip_mp4, "vid_zip.mp4", "E:video_unreadable", "a zip archive named .mp4", "unreadable",
     {"texts": (_NOT_VIDEO,)}),
    (_b_png_as_mp4, "vid_png.mp4", "E:video_unreadable", "a PNG named .mp4", "unreadable", {"texts": (_NOT_FORMAT,)}),
    (_b_trunc_faststart, "vid_truncated_faststart.mp4", "E:video_truncated", "faststart MP4 cut at 60% (header intact)",
     "refused", {"texts": ("cut short", "3.5 s"), "prepare_text": "cut short"}),
    (_b_trunc_moov_end, "vid_truncated_moov_end.mp4", "E:video_unreadable", "moov-at-end MP4 cut at 60% (no index)",
     "unreadable", {"texts": ("moov", "cut short")}),
    (_b_moov_end, "vid_moov_at_end.mp4", "", "complete MP4 with moov after mdat (no faststart)", "as_is", {}),
    (_b_corrupt_mid, "vid_corrupt_mid.mp4", "",
     "64 KB zeroed mid-mdat: index and first keyframe intact (header probing cannot see it)", "as_is", {}),
    (_b_zeroed_mdat, "vid_zeroed_mdat.mp4", "", "picture data zeroed: the header check passes, decoding fails",
     "unreadable", {"decode_expect": _keys("E:video_undecodable")}),
    (_b_audio_only, "vid_audio_only.mp4", "E:video_no_stream", "AAC audio only", "unreadable",
     {"texts": ("no picture track (AAC audio only)",)}),
    (_b_video_only, "vid_video_only.mp4", "H:video_no_audio", "no audio while 'keep original sound' is on", "as_is",
     {"texts": ("no audio track",)}),
    (_b_one_frame, "vid_one_frame.mp4", "E:video_too_short H:video_no_audio", "a single frame", "refused",
     {"texts": ("(1 frame)", "at least 3 s"), "prepare_text": "at least 3 s"}),
    (_b_vfr, "vid_vfr.mp4", "W:video_variable_fps H:video_no_audio", "variable frame rate (30 then 10 fps)", "fixed",
     {"texts": ("variable frame rate",)}),
    (_b_hevc, "vid_hevc.mp4", "W:video_codec", "HEVC (H.265) in MP4", "fixed",
     {"texts": ("HEVC",), "needs": ("enc:libx265",)}),
    (_b_vp9_alpha, "vid_vp9_alpha.webm", "E:video_container W:video_codec", "VP9 with alpha (yuva420p) in WebM",
     "fixed", {"texts": ("WebM/Matroska", "VP9"), "needs": ("enc:libvpx-vp9", "enc:libopus")}),
    (_b_av1, "vid_av1.mp4", "W:video_codec", "AV1 in MP4 (PyAV decodes it with libdav1d)", "fixed",
     {"texts": ("encoded as AV1;",), "needs": ("enc:libsvtav1",)}),
    (_b_unknown_codec, "vid_unknown_codec.mp4", "E:video_undecodable", "sample entry 'zzzz': a codec unknown to FFmpeg",
     "refused", {"texts": ("codec this app cannot decode",), "prepare_text": "codec this app cannot decode"}),
    (_b_heic, "vid_photo.heic", "E:video_unreadable", "a HEIC photo given as the motion video", "unreadable",
     {"texts": ("HEIF/AVIF picture",), "needs": ("pil:HEIF",)}),
    (_b_live_webm, "vid_webcam_live.webm", "E:video_container W:video_codec",
     "MediaRecorder-style WebM: no duration in the header (measured from packet times: 4 s)", "fixed",
     {"texts": ("WebM/Matroska", "VP8"), "needs": ("enc:libvpx", "enc:libopus")}),
    (_b_prores, "vid_prores.mov", "W:video_codec", "ProRes 422 Proxy in MOV (10-bit 4:2:2)", "fixed",
     {"texts": ("PRORES",), "needs": ("enc:prores_ks",)}),
    (_b_rot90, "vid_rotate90.mp4", "H:video_rotated", "90° display rotation (640x360 stored)", "as_is",
     {"texts": ("90°", "360x640")}),
    (_b_rot180, "vid_rotate180.mp4", "H:video_rotated", "180° display rotation (upside down)", "as_is",
     {"texts": ("180°", "360x640")}),
    (_b_rot270, "vid_rotate270.mp4", "H:video_rotated", "270° display rotation (640x360 stored)", "as_is",
     {"texts": ("270°", "360x640")}),
    (_b_60fps, "vid_60fps.mp4", "", "60 fps (the top of the normal range: no hint)", "as_is", {}),
    (_b_12fps, "vid_12fps.mp4", "H:video_low_fps", "12 fps", "as_is", {"texts": ("12 fps", "under 15")}),
    (_b_2_9s, "vid_2_9s.mp4", "E:video_too_short", "2.9 s, under 3 s", "refused",
     {"texts": ("2.9 s", "at least 3 s"), "prepare_text": "at least 3 s"}),
    (_b_30_1s, "vid_30_1s.mp4", "E:video_too_long", "30.1 s, over 30 s", "fixed", {"texts": ("30.1 s", "30 s")}),
    (_b_12s, "vid_12s_image_mode.mp4", "E:video_too_long", "12 s with orientation 'image' (10 s limit)", "fixed",
     {"texts": ("12 s", "10 s"), "orientation": "image"}),
    (_b_raw_h264, "vid_raw.h264", "E:video_unreadable", "raw H.264 elementary stream: no container, no timing",
     "unreadable", {"texts": (_NOT_FORMAT,)}),
    (_b_stts_zero, "vid_stts_zero_fps.mp4", "E:video_frame_rate", "every stts sample duration patched to 0: 0 fps",
     "refused", {"texts": ("gives 0 fps",), "prepare_text": "frame timing is broken"}),
    (_b_mdhd_timescale_zero, "vid_mdhd_timescale_zero.mp4", "E:video_frame_rate", "video mdhd timescale patched to 0",
     "refused", {"texts": ("gives 0.002 fps",), "prepare_text": "frame timing is broken"}),
    (_b_stts_count_huge, "vid_stts_count_huge.mp4", "E:video_unreadable", "stts claims 2^30 entries (FFmpeg: ENOMEM)",
     "unreadable", {"texts": ("index is damaged (it declares impossible sizes)",)}),
    (_b_over_100mb, "vid_101mb.mp4", "E:video_file_size", "valid 3.5 s MP4 padded to 101 MB by a free box", "fixed",
     {"texts": ("101.0 MB", "100.0 MB")}),
    (_b_small_video, "vid_320x568.mp4", "E:video_too_small", "320x568, under 340 px", "refused",
     {"texts": ("320x568", "at least 340 px"), "prepare_text": "at least 340 px"}),
    (_b_4k_plus, "vid_2176x3868.mp4", "E:video_too_large", "2176x3868, over 3850 px", "fixed",
     {"texts": ("2176x3868", "at most 3850 px")}),
    (_b_10bit, "vid_h264_10bit.mp4", "W:video_pixel_format", "H.264 High 10 (yuv420p10le)", "fixed",
     {"texts": ("yuv420p10le",)}),
    (_b_mkv, "vid_h264.mkv", "E:video_container", "H.264 in Matroska", "fixed", {"texts": ("WebM/Matroska",)}),
    (_b_gif_video, "vid_clip.gif", "E:video_container W:video_codec H:video_low_fps H:video_no_audio",
     "a 10 fps GIF as the motion video", "fixed", {"texts": ("GIF",)}),
    # ------------------------------------------------- hostile inputs (security review; tests/media_factory.py)
    (_b_hostile_big_png, "img_hostile_13300x13300.png", _MISMATCH,
     "13300x13300 RGB PNG, 0.7 MB on disk: 177 megapixels, just under the 179 cap (530 MB of pixels)", "as_is",
     {"texts": ("13300x13300",)}),
    (_b_hostile_big_heic, "img_hostile_11000x11000.heic", f"E:image_format {_MISMATCH}",
     "11000x11000 HEIC (121 megapixels): over the 50 megapixels preparation converts", "refused",
     {"texts": ("HEIF file of 11000x11000 px", "converts pictures of at most 50 megapixels"),
      "fix_texts": ("Downscale it to at most 50 megapixels",),
      "prepare_text": "this app converts pictures of at most 50 megapixels",
      "needs": ("pil:HEIF",)}),
    (_b_hostile_declared_png, "img_hostile_declared_60000.png", f"E:image_too_many_pixels {_MISMATCH}",
     "83-byte PNG whose IHDR declares 60000x60000 (3600 megapixels)", "refused",
     {"texts": ("60000x60000 px (3600 megapixels)", "at most 179 megapixels"), "fix_texts": ("Downscale it",),
      "prepare_text": "3600 megapixels"}),
    (_b_hostile_declared_jpeg, "img_hostile_declared_60000.jpg", f"E:image_too_many_pixels {_MISMATCH}",
     "64x64 JPEG whose SOF0 declares 60000x60000 (3600 megapixels)", "refused",
     {"texts": ("60000x60000 px (3600 megapixels)", "at most 179 megapixels"), "fix_texts": ("Downscale it",),
      "prepare_text": "3600 megapixels"}),
    (_b_hostile_gif, "img_hostile_10000_frames.gif",
     f"E:image_format E:image_too_small W:image_animated {_MISMATCH}",
     "16x16 GIF of 10,000 frames (frames counted to the 1000 cap)", "refused",
     {"texts": ("GIF file", "16x16 px", "animated (at least 1000 frames)"), "fix_texts": ("Convert it to PNG or JPEG",),
      "prepare_text": "at least 300 px"}),
    (_b_hostile_gif, "vid_hostile_10000_frames.gif",
     f"E:video_container E:video_too_small E:video_too_long W:video_codec H:video_high_fps H:video_no_audio "
     f"{_MISMATCH}", "the 10,000-frame GIF as the motion video (100 s at 100 fps, 16x16)", "refused",
     {"texts": ("GIF file", "16x16 px", "100 s", "100 fps"), "fix_texts": ("Convert it to an H.264 MP4",),
      "prepare_text": "at least 340 px"}),
    (_b_hostile_long_clip, "vid_hostile_10_minutes.mp4", "E:video_too_long H:video_no_audio",
     "10-minute 360x640 H.264 clip (35 MB, no audio)", "fixed",
     {"texts": ("lasts 600 s", "the limit is 30 s"), "fix_texts": ("Trim it to 30 s",),
      # at most 30 s from the start; the body check sees a cut in the test pattern near 14 s, and the
      # clip sent ends before it (Studio.trim_end)
      "prepare_text": "trimmed to 0.00-1"}),
]
# fmt: on


def _recipes() -> list[_Recipe]:
    out = []
    for build, name, spec, about, prepare, options in _TABLE:
        kind = "image" if name.startswith("img_") else "video"
        out.append(_Recipe(Case(name, kind, _keys(spec), about, prepare=prepare, **options), build))  # type: ignore[arg-type]
    return out


def companions(out_dir: Path | str = DEFAULT_DIR) -> tuple[Path, Path]:
    """(clean image, clean video) made in out_dir; paired with each other they give no finding."""
    out = Path(out_dir)
    return out / COMPANION_IMAGE, out / COMPANION_VIDEO


def _recipe_key(build: Callable[[Path], None]) -> str:
    """Changes when the builder's code, or the code of any helper of this module it calls, changes."""
    module = sys.modules[__name__]
    seen: dict[str, str] = {}
    todo = [build]
    while todo:
        fn = todo.pop()
        if fn.__name__ in seen:
            continue
        seen[fn.__name__] = inspect.getsource(fn)
        for name in _global_names(fn.__code__):  # follow this module's own functions
            other = getattr(module, name, None)
            if inspect.isfunction(other) and other.__module__ == __name__:
                todo.append(other)
    blob = f"{RECIPE_VERSION}|" + "|".join(seen[k] for k in sorted(seen))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _global_names(code: object) -> set[str]:
    """Names a code object (and the functions nested in it) looks up."""
    names = set(code.co_names)  # type: ignore[attr-defined]
    for const in code.co_consts:  # type: ignore[attr-defined]
        if inspect.iscode(const):
            names |= _global_names(const)
    return names


def _make(path: Path, build: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".part-{os.getpid()}-{path.name}")  # keeps the extension: ffmpeg and Pillow read it
    try:
        build(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def corpus_table(out_dir: Path | str = DEFAULT_DIR) -> list[Case]:
    """The cases with their paths in out_dir, without making anything (`skip` set where a codec is missing)."""
    out = Path(out_dir)
    cases = []
    for recipe in _recipes():
        case = replace(recipe.case, path=out / recipe.case.name)
        cases.append(replace(case, skip=missing_need(case.needs)))
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise ValueError("two corpus cases share a file name")
    return cases


def build_corpus(
    out_dir: Path | str = DEFAULT_DIR, force: bool = False, workers: int = 2, made: list[str] | None = None
) -> list[Case]:
    """Make every corpus file (and the two companions) in out_dir; return the cases.

    Cached: a manifest remembers each file's recipe key, so only new or changed recipes run
    (their names are appended to `made`). Files are written under a temporary name and renamed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    try:
        manifest: dict[str, str] = {} if force else json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    builders = {r.case.name: r.build for r in _recipes()}
    builders[COMPANION_IMAGE] = _b_companion_image
    builders[COMPANION_VIDEO] = _b_companion_video
    cases = corpus_table(out)
    wanted = [COMPANION_IMAGE, COMPANION_VIDEO, *(c.name for c in cases if not c.skip)]
    jobs = []
    for name in wanted:
        key = _recipe_key(builders[name])
        if manifest.get(name) != key or not (out / name).exists():
            jobs.append((name, key))
    if jobs:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(lambda job: _make(out / job[0], builders[job[0]]), jobs))
        manifest.update(dict(jobs))
        tmp = manifest_path.with_name(f".{MANIFEST}.{os.getpid()}")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        tmp.replace(manifest_path)
        if made is not None:
            made.extend(name for name, _ in jobs)
    return cases


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", nargs="?", default=str(DEFAULT_DIR))
    p.add_argument("--force", action="store_true", help="make every file again")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    made: list[str] = []
    cases = build_corpus(args.out_dir, force=args.force, made=made)
    took = time.perf_counter() - t0
    for c in cases:
        size = c.path.stat().st_size if not c.skip and c.path.exists() else 0
        codes = ", ".join(sorted(code for _, _, code in c.expect)) or "(no finding)"
        status = f"SKIP: {c.skip}" if c.skip else f"{size:>11,} B"
        print(f"{c.name:32} {c.input:5} {status:>16}  {codes}")
    ready = sum(1 for c in cases if not c.skip)
    print(
        f"{ready} cases ready, {len(cases) - ready} skipped; {len(made)} files made (the rest cached) in {took:.1f} s"
    )
    print(f"folder: {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
