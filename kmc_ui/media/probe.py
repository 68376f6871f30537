"""Header-only probes: facts about a file without decoding its pixels (videos: one keyframe).

Images: Pillow reads the header (size, format, mode, EXIF orientation, frame count) and
never the pixels, so a 20000x20000 "decompression bomb" is measured without being decoded.
Videos: PyAV opens the container header (for MP4/MOV without FFmpeg's stream analysis, so
a 100 MB file opens as fast as a 1 MB one) and decodes only the first keyframe (the display
rotation and the true pixel format live there in PyAV 18). A probe never raises for a bad
file: it returns `error` set instead.

Uploaded files are untrusted: the video demuxers are limited to real video containers and
to local file access (no playlists, no concat lists that would read other files or URLs).
"""

from __future__ import annotations

import math
import os
import stat
import struct
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
from PIL import Image

from kmc_ui.messages import Msg

try:  # HEIC/HEIF support (optional wheel); AVIF is built into Pillow >= 11.2.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - optional, not in requirements.txt
    pass

EXIF_ORIENTATION_TAG = 0x0112
ROTATING_EXIF = {5, 6, 7, 8}  # EXIF orientations that swap width and height

# Demuxers a motion video may use (names as FFmpeg's format whitelist matches them). Anything
# else (concat lists, HLS/DASH playlists, image sequences, raw streams) is refused unread.
VIDEO_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,asf,mpeg,ogg,gif"
AV_OPEN_OPTIONS = {"format_whitelist": VIDEO_DEMUXERS, "protocol_whitelist": "file"}  # for every av.open of an upload
_AV_OPTIONS = AV_OPEN_OPTIONS
_MOOV_MISSING = Msg("probe.moov_missing")
_HEIF_PICTURE = Msg("probe.heif_picture")
_FIRST_FRAME_MAX_PACKETS = 256  # give up looking for a decodable first frame after this many
_SCAN_BUDGET_S = 0.3  # at most this long reading packet timestamps when the header gives no duration
# Pictures of an animation counted at most: a GIF's frames are counted by walking its blocks
# (nothing is decoded), and a 10,000-frame GIF stops here. `ImageInfo.frames` is then a lower bound.
FRAME_COUNT_CAP = 1000


@dataclass(frozen=True)
class ImageInfo:
    path: str
    size_bytes: int
    extension: str
    format: str = ""  # Pillow's name for the content: JPEG, PNG, WEBP, GIF, AVIF, HEIF, ...
    width: int = 0  # as displayed (EXIF orientation applied)
    height: int = 0
    stored_width: int = 0
    stored_height: int = 0
    exif_orientation: int = 1
    mode: str = ""
    bit_depth: int = 8  # bits per channel where the header says (PNG); 8 otherwise
    frames: int = 1
    error: str = ""  # non-empty when the file cannot be read as an image
    missing: bool = False  # the path does not exist (or is not a file)
    error_msg: Msg | None = field(default=None, compare=False)  # `error` as a message (kmc_ui/catalogue/probe.py)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.height else 0.0

    def to_dict(self) -> dict[str, object]:
        return _facts(self)


@dataclass(frozen=True)
class VideoInfo:
    path: str
    size_bytes: int
    extension: str
    container: str = ""  # PyAV format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    has_video: bool = False
    codec: str = ""
    pix_fmt: str = ""
    width: int = 0  # as displayed (rotation applied)
    height: int = 0
    coded_width: int = 0
    coded_height: int = 0
    rotation: int = 0  # degrees, normalised to 0/90/180/270
    fps: float = 0.0
    variable_fps: bool = False
    duration: float = 0.0  # seconds
    frames: int = 0  # from the header, 0 when unknown
    bit_rate: int = 0
    has_audio: bool = False
    audio_codec: str = ""
    decodable: bool = True  # the first video frame decodes
    # Where the last packet listed in the container's index ends (0 without an index). A file
    # shorter than this was cut short after its header: the end of the clip is missing.
    expected_bytes: int = 0
    error: str = ""
    missing: bool = False  # the path does not exist (or is not a file)
    error_msg: Msg | None = field(default=None, compare=False)  # `error` as a message (kmc_ui/catalogue/probe.py)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.height else 0.0

    @property
    def is_mp4_family(self) -> bool:
        return "mp4" in self.container or "mov" in self.container

    def to_dict(self) -> dict[str, object]:
        return _facts(self)


# What the visitor reads when a decoder fails for a reason we have no sentence for: what is wrong
# (never the exception's class or its text, which can quote a server path).
_IMAGE_DAMAGED = Msg("probe.image_damaged")
_VIDEO_DAMAGED = Msg("probe.video_damaged")


def _facts(info: ImageInfo | VideoInfo) -> dict[str, object]:
    d = asdict(info)
    d.pop("error_msg")  # `error` says it in English
    return d


def _failed(why: Msg) -> dict[str, Any]:
    """The fields of an info that could not be read: `error` (English) and `error_msg`."""
    return {"error": why.en(), "error_msg": why}


def _stat(path: Path) -> tuple[int, Msg | None, bool]:
    """(size, why it cannot be read, missing) for a path that should be a regular file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return 0, Msg("probe.missing"), True
    except OSError as exc:
        return 0, Msg("probe.cannot_read", {"w_why": exc.strerror or "it cannot be opened"}), True
    if not stat.S_ISREG(st.st_mode):
        return 0, Msg("probe.not_regular"), True
    if st.st_size == 0:
        return 0, Msg("probe.empty"), False
    return st.st_size, None, False


def probe_image(path: str | Path) -> ImageInfo:
    path = Path(path)
    base = {"path": str(path), "extension": path.suffix.lower()}
    size, error, missing = _stat(path)
    if error is not None:
        return ImageInfo(size_bytes=size, missing=missing, **_failed(error), **base)
    try:
        # Pillow warns about bomb-sized headers and corrupt EXIF: both are handled here, not logged.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_image_header(path) as im:
                return _image_facts(im, size, base)
    except Exception as exc:  # Pillow raises many types for bad files
        return ImageInfo(size_bytes=size, **_failed(_image_error(exc)), **base)


def _image_facts(im: Image.Image, size: int, base: dict[str, str]) -> ImageInfo:
    stored_w, stored_h = im.size
    try:
        # The base-class method reads the EXIF already parsed from the header. PNG's own
        # getexif() decodes every pixel looking for a late eXIf chunk: never call it here.
        orientation = int(Image.Image.getexif(im).get(EXIF_ORIENTATION_TAG, 1) or 1)
    except Exception:  # a broken EXIF block is not a broken image
        orientation = 1
    if not 1 <= orientation <= 8:  # out-of-range values are ignored by every viewer
        orientation = 1
    w, h = (stored_h, stored_w) if orientation in ROTATING_EXIF else (stored_w, stored_h)
    frames = frame_count(im)
    return ImageInfo(
        size_bytes=size,
        format=str(im.format or ""),
        width=w,
        height=h,
        stored_width=stored_w,
        stored_height=stored_h,
        exif_orientation=orientation,
        mode=str(im.mode),
        bit_depth=_bit_depth(im),
        frames=frames,
        **base,
    )


def frame_count(im: Image.Image, cap: int = FRAME_COUNT_CAP) -> int:
    """Pictures in the file, at most `cap`, without decoding any.

    Pillow's `n_frames` reads the frame table from the header for APNG, WebP, HEIF, AVIF and MPO;
    for GIF it walks every frame's blocks, so a GIF is walked here instead, stopping at `cap`.
    """
    try:
        if im.format == "GIF":
            return _gif_frames(im.fp, cap) if im.fp is not None else 1
        return max(1, min(cap, int(getattr(im, "n_frames", 1) or 1)))
    except Exception:  # a damaged later frame: the first one is still a picture
        return 1


def _gif_frames(fh: BinaryIO, cap: int) -> int:
    """Image descriptors in a GIF (header, colour tables and data sub-blocks are skipped, not decoded)."""
    where = fh.tell()
    try:
        fh.seek(0)
        head = fh.read(13)
        pos = 13 + (3 << ((head[10] & 7) + 1) if len(head) == 13 and head[10] & 0x80 else 0)
        frames = 0
        while frames < cap:
            fh.seek(pos)
            kind = fh.read(1)
            if kind == b"\x2c":  # image descriptor (+ local colour table), LZW code size, data
                desc = fh.read(9)
                if len(desc) < 9:
                    break
                frames += 1
                pos += 10 + (3 << ((desc[8] & 7) + 1) if desc[8] & 0x80 else 0) + 1
            elif kind == b"\x21":  # extension: label, then data sub-blocks
                pos += 2
            else:  # trailer, or damage: stop counting
                break
            pos = _skip_sub_blocks(fh, pos)
        return max(1, frames)
    finally:
        fh.seek(where)


def _skip_sub_blocks(fh: BinaryIO, pos: int) -> int:
    while True:
        fh.seek(pos)
        size = fh.read(1)
        if not size or size == b"\x00":
            return pos + 1
        pos += 1 + size[0]


def open_image_header(path: Path | str) -> Image.Image:
    """Image.open, but a decompression-bomb-sized header still gives its size.

    Image.open refuses images over 2x MAX_IMAGE_PIXELS before returning them; we only need
    the header here (the pixels are never decoded), so retry with the plugin directly.
    """
    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        Image.init()
        with open(path, "rb") as fh:
            prefix = fh.read(16)
        for fmt in Image.ID:
            factory, accept = Image.OPEN[fmt]
            if accept and not accept(prefix):
                continue
            try:
                # A path (not an open file) makes Pillow own the handle: `with im` closes it.
                return factory(str(path))  # type: ignore[call-arg]
            except Exception:
                continue
        raise


def _bit_depth(im: Image.Image) -> int:
    """Bits per channel. Pillow reads 16-bit RGB PNGs as 8-bit "RGB", so ask the header."""
    if im.mode.startswith("I;16"):
        return 16
    if im.format == "PNG":
        rawmode = im.tile[0][3] if im.tile and len(im.tile[0]) > 3 else ""
        raw = rawmode[0] if isinstance(rawmode, tuple) else rawmode
        if isinstance(raw, str) and raw.endswith(";16B"):
            return 16
    return 8


def _image_error(exc: Exception) -> Msg:
    if isinstance(exc, Image.UnidentifiedImageError):
        return Msg("probe.image_unknown")
    if isinstance(exc, ValueError) and ("MAX_TEXT_CHUNK" in str(exc) or "text chunks" in str(exc)):
        # Pillow refuses PNG text chunks that inflate past 1 MB (64 MB in all): a text bomb.
        return Msg("probe.png_text_bomb")
    if "truncated" in str(exc).lower():  # Pillow: "Truncated File Read", "APNG contains truncated ... chunk"
        return Msg("probe.image_cut_short")
    return _IMAGE_DAMAGED


def probe_video(path: str | Path, decode: bool = False) -> VideoInfo:
    """Header-only facts. An H.264 MP4/MOV is described from its index alone (no frame decoded,
    so the time does not grow with the file). `decode=True` also decodes the first keyframe to
    prove the picture data is readable (done once on the file that will be sent). A WebM/MKV whose
    header gives no duration (a browser's MediaRecorder recording) is measured from its packets'
    timestamps (read, not decoded, within _SCAN_BUDGET_S)."""
    path = Path(path)
    base = {"path": str(path), "extension": path.suffix.lower()}
    size, error, missing = _stat(path)
    if error is not None:
        return VideoInfo(size_bytes=size, missing=missing, **_failed(error), **base)
    iso = _is_iso_bmff(path)
    try:
        container = _open_video(path, fast=iso)
    except Exception as exc:
        return VideoInfo(size_bytes=size, **_failed(_video_error(exc, path)), **base)
    with container:
        try:
            info = _video_facts(container, size, base, decode)
        except Exception:  # a header PyAV can open but not describe
            return VideoInfo(size_bytes=size, **_failed(_VIDEO_DAMAGED), **base)
    if iso and _mp4_without_index(path):  # FFmpeg also opens an index cut part-way (and HEIF pictures)
        why = _HEIF_PICTURE if _heif_brand(path) else _MOOV_MISSING
        return VideoInfo(size_bytes=size, **_failed(why), **base)
    return info


def _open_video(path: Path, fast: bool) -> av.container.InputContainer:
    """Open the container. MP4/MOV describe every stream in their index (moov), so `fast` skips
    FFmpeg's stream analysis, which decodes about 7 frames and grows with the bit rate.
    Formats without such an index (or an MP4 the fast path could not fully describe) get it.
    """
    if fast:
        options = {**_AV_OPTIONS, "probesize": "32", "analyzeduration": "0"}
        container = av.open(str(path), metadata_errors="ignore", options=options)
        contexts = [s.codec_context for s in container.streams.video]  # None: a codec FFmpeg does not know
        if all(cc is not None and cc.width and cc.height for cc in contexts):
            return container
        container.close()
    return av.open(str(path), metadata_errors="ignore", options=dict(_AV_OPTIONS))


def _is_iso_bmff(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp"


def _video_facts(
    container: av.container.InputContainer, size: int, base: dict[str, str], decode: bool = False
) -> VideoInfo:
    fmt = container.format.name if container.format else ""
    vstreams = list(container.streams.video)
    astreams = list(container.streams.audio)
    duration = _seconds(container.duration / av.time_base) if container.duration else 0.0
    facts: dict[str, object] = {
        "container": fmt,
        "has_audio": bool(astreams),
        "audio_codec": _codec_name(astreams[0].codec_context) if astreams else "",
        "bit_rate": int(container.bit_rate or 0),
        "expected_bytes": _indexed_end(container),
    }
    if not vstreams:
        return VideoInfo(size_bytes=size, duration=duration, **facts, **base)  # type: ignore[arg-type]
    vs = vstreams[0]
    cc = vs.codec_context
    if cc is None:  # a codec FFmpeg does not know (e.g. H.266/VVC): the track exists but cannot be decoded
        unknown: dict[str, object] = {"has_video": True, "decodable": False, "duration": duration}
        return VideoInfo(size_bytes=size, **unknown, **facts, **base)  # type: ignore[arg-type]
    coded_w, coded_h = int(cc.width or 0), int(cc.height or 0)
    header_pix_fmt = str(cc.pix_fmt or "") or _avcc_pix_fmt(cc.extradata if cc.name == "h264" else None)
    header_rotation = _mp4_rotation(Path(container.name)) if "mp4" in fmt and header_pix_fmt else None
    if header_rotation is not None and not decode:  # MP4/MOV: everything comes from the index, no frame is decoded
        rotation, pix_fmt, decodable = header_rotation, header_pix_fmt, True
    else:
        frame = _first_frame(container, vs)
        rotation = round(float(frame.rotation) / 90.0) % 4 * 90 if frame is not None else 0
        pix_fmt = frame.format.name if frame is not None else str(cc.pix_fmt or "")
        decodable = frame is not None
    w, h = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    if vs.duration and vs.time_base:
        duration = _seconds(float(vs.duration * vs.time_base)) or duration
    if not duration and "mp4" not in fmt:  # no duration in the header (a browser's MediaRecorder WebM)
        duration = _duration_from_packets(container, vs)
    avg = _rate(vs.average_rate)
    base_rate = _rate(vs.base_rate) or _rate(vs.guessed_rate)
    fps = avg or base_rate
    variable = bool(avg and base_rate and abs(avg - base_rate) / base_rate > 0.02)
    return VideoInfo(
        size_bytes=size,
        has_video=True,
        codec=_codec_name(cc),
        pix_fmt=pix_fmt,
        width=w,
        height=h,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation,
        fps=round(fps, 3),
        variable_fps=variable,
        duration=round(duration, 3),
        frames=int(vs.frames or 0),
        decodable=decodable,
        **facts,  # type: ignore[arg-type]
        **base,
    )


def _codec_name(cc: av.CodecContext | None) -> str:
    """The format's name ("av1"), not the decoder's ("libdav1d"); "" for a codec FFmpeg does not know."""
    if cc is None:
        return ""
    try:
        return str(cc.codec.canonical_name or cc.name or "")
    except Exception:
        return str(cc.name or "")


def _duration_from_packets(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, budget_s: float = _SCAN_BUDGET_S
) -> float:
    """The stream's length from its packets' timestamps, for files whose header has no duration.

    Reads packets without decoding them (a 128 MB WebM/MKV in about 60 ms), within a time budget.
    """
    if not stream.time_base:
        return 0.0
    first, end = stream.start_time, None
    deadline = time.perf_counter() + budget_s
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                first = packet.pts if first is None else min(first, packet.pts)
                tail = packet.pts + max(int(packet.duration or 0), 0)
                end = tail if end is None else max(end, tail)
            if time.perf_counter() > deadline:
                break
    except Exception:  # damaged data after the header: keep what was read
        pass
    if first is None or end is None:
        return 0.0
    return _seconds(round(float((end - first) * stream.time_base), 3))


def _seconds(value: float) -> float:
    """A duration from the index, or 0 when a damaged index makes it negative or infinite."""
    return value if math.isfinite(value) and value >= 0 else 0.0


def _rate(value: Fraction | None) -> float:
    try:
        rate = float(value) if value else 0.0
    except (ZeroDivisionError, TypeError, ValueError):
        return 0.0
    return rate if math.isfinite(rate) and 0 < rate < 1000 else 0.0


def _mp4_rotation(path: Path) -> int | None:
    """Display rotation (0/90/180/270, as FFmpeg reports it) from the video track's tkhd matrix.

    Reads box headers only: top-level boxes are skipped by their sizes to reach `moov`
    (wherever it is), and only `moov` (the index, small) is read. None when not found.
    """
    try:
        with open(path, "rb") as fh:
            moov = _find_box(fh, b"moov", os.fstat(fh.fileno()).st_size)
            if moov is None or moov[1] > 64 * 1024 * 1024:
                return None
            fh.seek(moov[0])
            data = fh.read(moov[1])
    except OSError:
        return None
    for trak in _boxes(data, b"trak"):
        mdia = next(_boxes(trak, b"mdia"), b"")
        hdlr = next(_boxes(mdia, b"hdlr"), b"")
        if hdlr[8:12] != b"vide":
            continue
        tkhd = next(_boxes(trak, b"tkhd"), b"")
        offset = 52 if tkhd[:1] == b"\x01" else 40  # after version/flags, times, ids, layer, volume
        if len(tkhd) < offset + 36:
            return None
        a, b, _u, c, d = struct.unpack(">iiiii", tkhd[offset : offset + 20])
        if (a, b, c, d) == (0, 0, 0, 0):
            return None
        degrees = -math.degrees(math.atan2(b / 65536.0, a / 65536.0))  # FFmpeg reports the inverse
        return round(degrees / 90.0) % 4 * 90
    return None


_AVCC_CHROMA = {1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}


def _avcc_pix_fmt(avcc: bytes | None) -> str:
    """Pixel format from an H.264 avcC record (ISO 14496-15), or "" when it does not say.

    Baseline/Main/Extended profiles are always 8-bit 4:2:0; High profiles carry chroma format
    and bit depth after the parameter sets.
    """
    if not avcc or len(avcc) < 7 or avcc[0] != 1:
        return ""
    profile = avcc[1]
    if profile in (66, 77, 88):
        return "yuv420p"
    try:
        pos = 5
        sps_count = avcc[pos] & 0x1F
        pos += 1
        for _ in range(sps_count):
            pos += 2 + int.from_bytes(avcc[pos : pos + 2], "big")
        pps_count = avcc[pos]
        pos += 1
        for _ in range(pps_count):
            pos += 2 + int.from_bytes(avcc[pos : pos + 2], "big")
        chroma, depth = avcc[pos] & 0x03, (avcc[pos + 1] & 0x07) + 8
    except IndexError:
        return ""
    name = _AVCC_CHROMA.get(chroma, "")
    if not name or depth not in (8, 10):
        return ""
    return name if depth == 8 else name + "10le"


def _find_box(fh: BinaryIO, kind: bytes, file_size: int) -> tuple[int, int] | None:
    """(payload offset, payload size) of the first top-level box of `kind`."""
    pos = 0
    while pos + 8 <= file_size:
        fh.seek(pos)
        head = fh.read(16)
        size, box = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1 and len(head) >= 16:
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            return None
        if box == kind:
            return pos + header, min(size, file_size - pos) - header
        pos += size
    return None


def _boxes(data: bytes, kind: bytes) -> Iterator[bytes]:
    """Payloads of the child boxes of `kind` in an in-memory box payload."""
    pos = 0
    while pos + 8 <= len(data):
        size, box = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= len(data):
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            return
        if box == kind:
            yield data[pos + header : pos + size]
        pos += size


def _first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> av.VideoFrame | None:
    """The first picture, or None when it cannot be decoded.

    PyAV 18 exposes the display matrix (rotation) only on decoded frames, and the true pixel
    format comes from the decoder, so exactly one frame is decoded: the first keyframe is fed
    to a single-threaded decoder, which is then flushed (no waiting for reordered frames).
    Nothing else of the file is read. Packets before the first keyframe are skipped.
    """
    try:
        stream.codec_context.thread_count = 1  # one frame: thread start-up would cost more than it saves
        for count, packet in enumerate(container.demux(stream)):
            if count >= _FIRST_FRAME_MAX_PACKETS:
                return None
            if packet.size == 0:  # end of the stream without a keyframe
                return None
            if not packet.is_keyframe:
                continue
            frames = list(stream.codec_context.decode(packet)) + list(stream.codec_context.decode(None))
            return frames[0] if frames else None
    except Exception:
        return None
    return None


def _indexed_end(container: av.container.InputContainer) -> int:
    """Byte offset where the last packet the index lists ends (0 when there is no index).

    A complete file is at least this long. A "faststart" MP4 cut short keeps a perfect
    header, so this is the only header-level sign that its end is missing.
    """
    end = 0
    for st in container.streams:
        try:
            entries = st.index_entries
        except Exception:
            continue
        for entry in entries[-16:] if entries else ():  # the last packets lie near the end
            if entry.pos >= 0:
                end = max(end, int(entry.pos) + max(int(entry.size), 0))
    return end


def _video_error(exc: Exception, path: Path) -> Msg:
    if _heif_brand(path):
        return _HEIF_PICTURE
    if _mp4_without_index(path):
        return _MOOV_MISSING
    if isinstance(exc, MemoryError):  # FFmpeg refused an allocation the index asked for
        return Msg("probe.index_damaged")
    if isinstance(exc, av.error.PatchWelcomeError):
        return Msg("probe.ffmpeg_variant")
    text = str(exc).lower()
    if isinstance(exc, av.error.ArgumentError) or "invalid argument" in text:
        return Msg("probe.not_accepted_format")
    if "invalid data" in text:
        return Msg("probe.invalid_data")
    if "end of file" in text:
        return Msg("probe.ends_early")
    return _VIDEO_DAMAGED


_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}


def _heif_brand(path: Path) -> bool:
    """An ISO-BMFF file whose major brand says HEIF/AVIF: a (still or animated) picture, not a video."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _mp4_without_index(path: Path, max_boxes: int = 64) -> bool:
    """An ISO-BMFF file (starts with an `ftyp` box) whose `moov` box is absent or cut off.

    Walks the top-level box headers only (8 or 16 bytes each, seeking over the payloads).
    """
    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, 2)
            pos, first = 0, True
            for _ in range(max_boxes):
                fh.seek(pos)
                head = fh.read(8)
                if len(head) < 8:
                    return not first
                box_size, box_type = int.from_bytes(head[:4], "big"), head[4:8]
                if first and box_type != b"ftyp":
                    return False
                first = False
                if box_size == 1:
                    big = fh.read(8)
                    if len(big) < 8:
                        return True
                    box_size = int.from_bytes(big, "big")
                elif box_size == 0:  # the box runs to the end of the file
                    box_size = end - pos
                if box_size < 8:
                    return True  # corrupt box header
                if box_type == b"moov":
                    return pos + box_size > end  # an index cut off part-way is as bad as none
                pos += box_size
                if pos >= end:
                    return True
    except OSError:
        return False
    return False
