"""Header-only probes: facts about a file without decoding it.

Images: Pillow reads the header (size, format, mode, EXIF orientation, frame count) and
never the pixels. Videos: PyAV opens the container header (a 100 MB file in a few ms);
no frame is decoded. A probe never raises for a bad file: it returns `error` set instead.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

try:  # HEIC/HEIF support (optional wheel); AVIF is built into Pillow >= 11.2.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements
    pass

EXIF_ORIENTATION_TAG = 0x0112
ROTATING_EXIF = {5, 6, 7, 8}  # EXIF orientations that swap width and height


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
    frames: int = 1
    error: str = ""  # non-empty when the file cannot be read as an image

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.height else 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


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
    error: str = ""

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
        return asdict(self)


def probe_image(path: str | Path) -> ImageInfo:
    path = Path(path)
    base = {"path": str(path), "extension": path.suffix.lower()}
    try:
        size = path.stat().st_size
    except OSError as exc:
        return ImageInfo(size_bytes=0, error=f"cannot read the file ({exc.strerror})", **base)
    if size == 0:
        return ImageInfo(size_bytes=0, error="the file is empty (0 bytes)", **base)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = _open_header(path)
        with im:
            stored_w, stored_h = im.size
            orientation = 1
            try:
                orientation = int(im.getexif().get(EXIF_ORIENTATION_TAG, 1) or 1)
            except Exception:  # a broken EXIF block is not a broken image
                orientation = 1
            w, h = (stored_h, stored_w) if orientation in ROTATING_EXIF else (stored_w, stored_h)
            frames = int(getattr(im, "n_frames", 1) or 1)
            return ImageInfo(
                size_bytes=size,
                format=str(im.format or ""),
                width=w,
                height=h,
                stored_width=stored_w,
                stored_height=stored_h,
                exif_orientation=orientation,
                mode=str(im.mode),
                frames=frames,
                **base,
            )
    except Exception as exc:  # Pillow raises many types for bad files
        return ImageInfo(size_bytes=size, error=_image_error_text(exc), **base)


def _open_header(path: Path) -> Image.Image:
    """Image.open, but a decompression-bomb-sized header still gives its size.

    Image.open refuses images over 2x MAX_IMAGE_PIXELS before returning them; we only need
    the header here (the pixels are never decoded), so retry with the plugin directly.
    """
    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        Image.init()
        for fmt in Image.ID:
            factory, accept = Image.OPEN[fmt]
            with open(path, "rb") as fh:
                prefix = fh.read(16)
            if accept and not accept(prefix):
                continue
            try:
                return factory(open(path, "rb"), str(path))
            except Exception:
                continue
        raise


def _image_error_text(exc: Exception) -> str:
    if isinstance(exc, Image.UnidentifiedImageError):
        return "the file is not an image we can read (unknown or corrupt content)"
    return f"the image cannot be read ({type(exc).__name__})"


def probe_video(path: str | Path) -> VideoInfo:
    path = Path(path)
    base = {"path": str(path), "extension": path.suffix.lower()}
    try:
        size = path.stat().st_size
    except OSError as exc:
        return VideoInfo(size_bytes=0, error=f"cannot read the file ({exc.strerror})", **base)
    if size == 0:
        return VideoInfo(size_bytes=0, error="the file is empty (0 bytes)", **base)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        return VideoInfo(size_bytes=size, error=_video_error_text(exc), **base)
    with container:
        fmt = container.format.name if container.format else ""
        vstreams = list(container.streams.video)
        astreams = list(container.streams.audio)
        duration = container.duration / av.time_base if container.duration else 0.0
        facts: dict[str, object] = {
            "container": fmt,
            "has_audio": bool(astreams),
            "audio_codec": astreams[0].codec_context.name if astreams else "",
            "bit_rate": int(container.bit_rate or 0),
        }
        if not vstreams:
            return VideoInfo(size_bytes=size, duration=duration, **facts, **base)  # type: ignore[arg-type]
        vs = vstreams[0]
        cc = vs.codec_context
        coded_w, coded_h = int(cc.width or 0), int(cc.height or 0)
        rotation = _first_frame_rotation(container, vs)
        decodable = rotation >= 0
        rotation = max(rotation, 0)
        w, h = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        if vs.duration and vs.time_base:
            duration = float(vs.duration * vs.time_base) or duration
        avg = _rate(vs.average_rate)
        base_rate = _rate(vs.base_rate) or _rate(vs.guessed_rate)
        fps = avg or base_rate
        variable = bool(avg and base_rate and abs(avg - base_rate) / base_rate > 0.02)
        return VideoInfo(
            size_bytes=size,
            has_video=True,
            codec=cc.name or "",
            pix_fmt=str(cc.pix_fmt or ""),
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


def _rate(value: Fraction | None) -> float:
    try:
        rate = float(value) if value else 0.0
    except (ZeroDivisionError, TypeError, ValueError):
        return 0.0
    return rate if math.isfinite(rate) and 0 < rate < 1000 else 0.0


def _first_frame_rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """Display rotation in degrees (0/90/180/270, as ffprobe reports it) from the first frame.

    PyAV 18 exposes the display matrix only on decoded frames, so one frame is decoded
    (a few ms even for 1080p); the container's packets are not otherwise read.
    Returns -1 when no frame can be decoded.
    """
    try:
        for frame in container.decode(stream):
            return round(float(frame.rotation) / 90.0) % 4 * 90
    except Exception:
        return -1
    return -1


def _video_error_text(exc: Exception) -> str:
    text = str(exc).lower()
    if "invalid data" in text:
        return "the file is not a video we can read (invalid or corrupt data)"
    if "end of file" in text:
        return "the file ends too early (truncated or still uploading)"
    return f"the video cannot be read ({type(exc).__name__})"
