"""The character picture for the body checks and previews, decoded with bounded memory.

`load_rgb(path)` gives RGB pixels at most `max_side` on the long side (EXIF orientation
applied, first frame only) and the size as displayed. A huge picture is never held at full
resolution more than once, and never converted at full size:

- JPEG decodes reduced in the DCT domain (Pillow's draft: 1/2, 1/4 or 1/8);
- HEIF decodes once in libheif's buffer, read as an array and shrunk from it (Pillow's own
  opener would copy every pixel into a second buffer);
- a big colour PNG decodes once through OpenCV (IMREAD_REDUCED_COLOR_*: 3 bytes a pixel, where
  Pillow holds 4) and is shrunk from that buffer;
- everything else (grey or palette PNG, GIF, TIFF, WebP...) decodes once in its own mode and is
  shrunk strip by strip, each strip converted to RGB on its own, then the big buffer is released.

A picture over DECODE_MAX_PIXELS, or whose decode would hold more than DECODE_MAX_BYTES, is
refused with PictureTooLarge (a sentence for the findings) before any pixel is decoded.
The last few results are kept in memory: the skeleton preview reuses the analysis's decode.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from kmc_ui.limits import LIMITS
from kmc_ui.media.image_convert import EXIF_TRANSPOSE
from kmc_ui.messages import Msg, Said

MAX_SIDE = 1280  # the models work at 224/256 px; larger pictures only cost decode time
DECODE_MAX_PIXELS = LIMITS.image_max_pixels  # the same cap as the image_too_many_pixels check
DECODE_MAX_BYTES = 800 * 1024 * 1024  # pixel buffers one decode may hold at once
STRIP_ROWS = 64  # output rows made from one strip of the big picture
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "LA": 2, "PA": 2}
_DOUBLE_BUFFERED = ("WEBP", "AVIF")  # decoded by their library, then copied into Pillow's buffer
_CACHE: OrderedDict[tuple[str, int, int, int], tuple[np.ndarray, int, int]] = OrderedDict()
_CACHE_ENTRIES = 4
_LOCK = threading.Lock()


class PictureTooLarge(ValueError):
    """The picture is refused before decoding; str() is a sentence for the findings."""


def load_rgb(path: str | Path, max_side: int = MAX_SIDE) -> tuple[np.ndarray, int, int]:
    """(RGB array at most max_side a side, read-only; displayed width; displayed height).

    Raises PictureTooLarge, or Pillow's / OSError's exceptions for a file that cannot be decoded.
    """
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns, max_side)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    rgb, width, height = _decode(p, max_side)
    rgb.flags.writeable = False
    with _LOCK:
        _CACHE[key] = (rgb, width, height)
        while len(_CACHE) > _CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return rgb, width, height


def _decode(path: Path, max_side: int) -> tuple[np.ndarray, int, int]:
    from kmc_ui.media.probe import open_image_header

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bomb-sized headers are measured below, corrupt EXIF is ignored
        with open_image_header(path) as im:
            w, h = im.size
            try:
                orientation = int(Image.Image.getexif(im).get(0x0112, 1) or 1)
            except Exception:
                orientation = 1
            fmt = str(im.format or "")
            _refuse_huge(im, fmt)
            if fmt == "HEIF":  # libheif turns the picture upright itself: its size is the displayed one
                rgb, w, h = _heif_rgb(path, max_side)
                orientation = 1
            elif fmt == "PNG" and im.mode in ("RGB", "RGBA") and max(w, h) >= 2 * max_side:
                rgb = _opencv_rgb(path, max(w, h), max_side)
            else:
                rgb = _pillow_rgb(im, fmt, max_side)
    if orientation in EXIF_TRANSPOSE:
        rgb = np.asarray(Image.fromarray(rgb).transpose(EXIF_TRANSPOSE[orientation]))
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return np.ascontiguousarray(rgb), w, h


def _refuse_huge(im: Image.Image, fmt: str) -> None:
    w, h = im.size
    pixels = w * h
    if pixels > DECODE_MAX_PIXELS:
        said = {"size": f"{w}x{h}", "mp": f"{pixels / 1e6:.0f}", "cap": f"{DECODE_MAX_PIXELS / 1e6:.0f}"}
        raise PictureTooLarge(Said(Msg("analysis.too_many_pixels", said)))
    if fmt in ("JPEG", "MPO"):
        pixels = math.ceil(w / 8) * math.ceil(h / 8)  # decoded at 1/8 when that big
    per_pixel = _BYTES_PER_PIXEL.get(im.mode, 4) * (2 if fmt in _DOUBLE_BUFFERED else 1)
    if fmt == "HEIF":
        per_pixel = 3 if "A" not in im.mode else 4
    if pixels * per_pixel > DECODE_MAX_BYTES:
        said = {"fmt": fmt or "picture", "size": f"{w}x{h}", "mp": f"{w * h / 1e6:.0f}"}
        raise PictureTooLarge(Said(Msg("analysis.too_much_memory", said | {"m": DECODE_MAX_BYTES // (1024 * 1024)})))


def _pillow_rgb(im: Image.Image, fmt: str, max_side: int) -> np.ndarray:
    w, h = im.size
    if fmt in ("JPEG", "MPO") and max(w, h) > 2 * max_side:
        f = max_side / max(w, h)
        im.draft("RGB", (math.ceil(w * f), math.ceil(h * f)))  # DCT-domain downscale
    im.load()  # the one full decode (in the file's own mode, or reduced by the draft above)
    w, h = im.size
    k = max(w, h) // max_side
    if k >= 2:  # shrink by a whole factor strip by strip, then release the big buffer
        small = Image.new("RGB", (math.ceil(w / k), math.ceil(h / k)))
        rows = STRIP_ROWS * k
        for y in range(0, h, rows):
            strip = im.crop((0, y, w, min(h, y + rows))).convert("RGB")
            small.paste(strip.reduce(k), (0, y // k))
        im.close()
        im = small
    else:
        im = im.convert("RGB")
    w, h = im.size
    if max(w, h) > max_side:
        f = max_side / max(w, h)
        im = im.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BILINEAR)
    return np.asarray(im)


def _opencv_rgb(path: Path, long_side: int, max_side: int) -> np.ndarray:
    """OpenCV reads colour PNGs at 3 bytes a pixel (alpha and 16-bit depth dropped while decoding)."""
    reduce = max(r for r in (1, 2, 4, 8) if long_side / r >= max_side)
    flag = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}.get(
        reduce, cv2.IMREAD_REDUCED_COLOR_8
    )
    bgr = cv2.imread(str(path), flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise OSError("OpenCV could not decode the PNG")
    h, w = bgr.shape[:2]
    if max(w, h) > max_side:
        f = max_side / max(w, h)
        bgr = cv2.resize(bgr, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _heif_rgb(path: Path, max_side: int) -> tuple[np.ndarray, int, int]:
    """HEIF/AVIF-in-HEIF through pillow-heif directly: one decode, shrunk from libheif's buffer."""
    import pillow_heif

    heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
    pixels = np.asarray(heif)  # a view of the decoded buffer (H, W, C)
    h, w = pixels.shape[:2]
    f = min(1.0, max_side / max(w, h))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if f < 1.0 else pixels.copy()
    del pixels, heif
    rgb = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB) if small.ndim == 2 else np.ascontiguousarray(small[:, :, :3])
    return rgb, w, h


def fit(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A writable copy at most max_side a side, and the scale applied (1.0 when unchanged)."""
    h, w = rgb.shape[:2]
    f = min(1.0, max_side / max(w, h))
    if f >= 1.0:
        return rgb.copy(), 1.0
    size = (max(2, round(w * f)), max(2, round(h * f)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), f


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
