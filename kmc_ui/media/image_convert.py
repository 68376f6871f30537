"""Image side of the preparation step: what a character image needs, and the Pillow work to do it.

Decoding is bounded: huge JPEGs are decoded at 1/2, 1/4 or 1/8 size by the decoder itself
(Pillow's draft), other formats over the pixel budget are refused with a clear message, and a
picture is held at full size once at most (downscaled before any mode conversion). Only the
first frame of an animation is decoded (the frame count comes from the probe, capped); EXIF
orientation is applied; colour modes become 8-bit RGB, RGBA or L; the result is PNG (JPEG for
JPEG sources, or when PNG would be over the limit).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, JpegImagePlugin

from kmc_ui.limits import LIMITS, InputLimits
from kmc_ui.media.prepare_common import PreparationError, failed, mb
from kmc_ui.media.probe import ImageInfo
from kmc_ui.messages import Msg

CONFORMING_IMAGE_MODES = ("RGB", "RGBA", "L")
DECODE_MAX_PIXELS = LIMITS.image_convert_max_pixels  # in-memory budget for one decoded picture
JPEG_QUALITY = 90
JPEG_FORMATS = ("JPEG", "MPO")  # MPO: camera JPEGs with extra pictures appended
LOSSY_FORMATS = (*JPEG_FORMATS, "HEIF", "AVIF", "WEBP")
EXT_FORMAT = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
EXIF_TRANSPOSE = {  # the same mapping as PIL.ImageOps.exif_transpose
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ImageNeeds:
    convert: bool  # a format other than JPEG/PNG, or animated
    rename: bool  # JPEG/PNG content under the wrong extension
    rotate: bool  # EXIF orientation other than 1
    mode: bool  # colour mode other than 8-bit RGB / RGBA / L
    too_large: bool  # a side over the limit
    too_heavy: bool  # file over the size limit

    @property
    def decode(self) -> bool:
        return self.convert or self.rotate or self.mode or self.too_large or self.too_heavy

    @property
    def any(self) -> bool:
        return self.decode or self.rename


def image_needs(info: ImageInfo, limits: InputLimits) -> ImageNeeds:
    fmt = info.format.upper()
    ok_format = fmt in limits.image_formats
    return ImageNeeds(
        convert=not ok_format or info.frames > 1,
        rename=ok_format and EXT_FORMAT.get(info.extension) != fmt,
        rotate=info.exif_orientation not in (0, 1),
        mode=info.mode not in CONFORMING_IMAGE_MODES or getattr(info, "bit_depth", 8) > 8,
        too_large=max(info.width, info.height) > limits.image_max_side,
        too_heavy=info.size_bytes > limits.image_max_bytes,
    )


def plan_steps(info: ImageInfo, needs: ImageNeeds, limits: InputLimits) -> list[str]:
    """The planned changes in words (before doing them)."""
    steps: list[str] = []
    fmt = info.format.upper()
    if needs.convert:
        first = f"take the first of {info.frames} pictures, " if info.frames > 1 else ""
        if fmt in JPEG_FORMATS:
            steps.append(f"{first}save it as a plain JPEG")
        else:
            steps.append(f"{first}convert {fmt} to PNG (JPEG if PNG would be over {mb(limits.image_max_bytes)})")
    elif needs.rename and not needs.decode:
        steps.append(f"send it as {ext_for(fmt)} (the content is {fmt}, the name says '{info.extension or '-'}')")
    if needs.rotate:
        steps.append(f"apply EXIF orientation {info.exif_orientation} (send the picture upright)")
    if needs.mode:
        steps.append(f"convert the {info.mode} colour mode to 8-bit")
    if needs.too_large:
        steps.append(f"downscale {info.width}x{info.height} so each side is at most {limits.image_max_side} px")
    if needs.too_heavy:
        steps.append(f"re-encode as JPEG quality {JPEG_QUALITY}, downscaling until under {mb(limits.image_max_bytes)}")
    return steps


def ext_for(fmt: str) -> str:
    return ".jpg" if fmt in JPEG_FORMATS else ".png"


def convert_image(info: ImageInfo, limits: InputLimits) -> tuple[bytes, str, list[Msg]]:
    """Decode, fix and encode: (file bytes, extension, actions as messages)."""
    im, icc, jpeg_tables, actions = _decode(info, limits)
    fmt = info.format.upper()
    extra = {"icc_profile": icc} if icc else {}
    limit = limits.image_max_bytes
    # First choice: the source's own family (JPEG stays JPEG; everything else becomes PNG).
    if fmt in JPEG_FORMATS:
        data, ext = _encode_jpeg(im, jpeg_tables or {"quality": 95}, extra), ".jpg"
    elif fmt in LOSSY_FORMATS and im.width * im.height * len(im.getbands()) * 0.5 > limit:
        data, ext = b"", ".png"  # a photo this big will not fit as PNG: go straight to JPEG
    else:
        data, ext = _encode_png(im, extra, compress_level=9 if info.size_bytes > limit else 6), ".png"
    if data and len(data) <= limit:
        if info.size_bytes > limit:  # e.g. a PNG heavy with metadata: re-saving alone was enough
            sizes = {"a": mb(info.size_bytes), "b": mb(len(data)), "l": mb(limit)}
            actions.append(Msg("prepare.image_resaved", {"fmt": ext.lstrip(".").upper(), **sizes}))
        return data, ext, actions

    # Over the limit: JPEG quality 90, then downscale until it fits.
    if data:
        saved = Msg("prepare.image_jpeg_over", {"q": JPEG_QUALITY, "fmt": ext.lstrip(".").upper(), "s": mb(len(data))})
    else:
        saved = Msg("prepare.image_jpeg_far", {"q": JPEG_QUALITY})
    if "A" in im.getbands() or im.mode == "P":
        im = _flatten(im)
        actions.append(Msg("prepare.image_flattened"))
    base = im
    data = _encode_jpeg(im, {"quality": JPEG_QUALITY}, extra)
    for _ in range(8):
        if len(data) <= limit:
            break
        factor = min(0.9, math.sqrt(limit * 0.95 / len(data))) * (im.width / base.width)
        size = (max(1, round(base.width * factor)), max(1, round(base.height * factor)))
        if min(size) < limits.image_min_side:
            break
        im = base.resize(size, Image.Resampling.LANCZOS)
        data = _encode_jpeg(im, {"quality": JPEG_QUALITY}, extra)
    if len(data) > limit:
        said = Msg("prepare.image_cannot_shrink", {"l": mb(limit), "m": limits.image_min_side})
        raise PreparationError(failed(said, "crop"))
    actions = [_to_jpeg(a) for a in actions]
    actions.append(Msg(saved.code, {**saved.params, "l": mb(limit)}))
    if im is not base:
        sizes = {"a": f"{base.width}x{base.height}", "b": f"{im.width}x{im.height}", "l": mb(limit)}
        actions.append(Msg("prepare.image_downscaled_fit", sizes))
    return data, ".jpg", actions


def _to_jpeg(m: Msg) -> Msg:
    """ "converted X to PNG" becomes "to JPEG" once the picture had to be a JPEG after all."""
    if m.code == "prepare.image_converted" and m.params.get("b") == "PNG":
        return Msg(m.code, {**m.params, "b": "JPEG"})
    return m


def _decode(info: ImageInfo, limits: InputLimits) -> tuple[Image.Image, bytes | None, dict[str, object], list[Msg]]:
    """The upright 8-bit picture, its ICC profile, the source's JPEG tables, and the actions so far."""
    actions: list[Msg] = []
    fmt = info.format.upper()
    tables: dict[str, object] = {}
    try:
        with open(info.path, "rb") as fh, _open_unchecked(fh) as im:
            if info.frames > 1:
                im.seek(0)
                if fmt == "MPO":
                    actions.append(Msg("prepare.image_first_mpo", {"n": info.frames}))
                else:
                    actions.append(Msg("prepare.image_first_animated", {"n": info.frames, "fmt": fmt}))
            if fmt not in limits.image_formats:
                to = "JPEG" if fmt in JPEG_FORMATS else "PNG"  # PNG may still become JPEG later
                actions.append(Msg("prepare.image_converted", {"a": fmt, "b": to}))
            stored = im.size
            target = _decode_target(stored, limits)
            if target != stored:
                if isinstance(im, JpegImagePlugin.JpegImageFile):
                    im.draft(im.mode, _draft_size(stored, target))
                elif stored[0] * stored[1] > DECODE_MAX_PIXELS:
                    size, most = f"{info.width}x{info.height}", DECODE_MAX_PIXELS // 1_000_000
                    said = Msg("prepare.image_too_many_pixels", {"size": size, "m": most})
                    raise PreparationError(failed(said, "downscale"))
            if fmt in JPEG_FORMATS and im.mode in ("RGB", "L"):
                sampling = JpegImagePlugin.get_sampling(im)
                tables = {"qtables": im.quantization, **({"subsampling": sampling} if sampling >= 0 else {})}
            icc = im.info.get("icc_profile")
            im.load()
            if im.width > target[0] or im.height > target[1]:  # reduce() by whole factors first, then Lanczos
                im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
            if im.size != stored:
                w, h = (im.height, im.width) if info.exif_orientation in (5, 6, 7, 8) else im.size
                actions.append(Msg("prepare.downscaled", {"a": f"{info.width}x{info.height}", "b": f"{w}x{h}"}))
            if info.exif_orientation in EXIF_TRANSPOSE:
                im = im.transpose(EXIF_TRANSPOSE[info.exif_orientation])
                actions.append(Msg("prepare.image_exif", {"o": info.exif_orientation}))
            im, mode_action = _to_8bit(im)
            depth = getattr(info, "bit_depth", 8)
            if not mode_action and depth > 8:  # Pillow already holds the top 8 bits of each channel
                mode_action = Msg("prepare.image_deep", {"bits": depth, "mode": info.mode})
            if mode_action:
                actions.append(mode_action)
                if info.mode == "CMYK":
                    icc = None  # a CMYK profile does not describe the RGB pixels
            return im, icc, tables, actions
    except PreparationError:
        raise
    except MemoryError:
        said = Msg("prepare.image_too_large", {"size": f"{info.width}x{info.height}"})
        raise PreparationError(failed(said, "downscale")) from None
    except Exception as exc:  # Pillow raises many types for damaged files
        said = Msg("prepare.image_undecodable", {"why": _failure(exc)})
        raise PreparationError(failed(said, "export_image")) from None


def verify_decodes(info: ImageInfo) -> None:
    """Decode a JPEG/PNG that is sent without conversion, so a file cut short is caught here and not
    by the provider (the checks read headers only). JPEGs decode at 1/8 scale (every scan is still
    read); pictures over the pixel budget get Pillow's chunk walk (CRCs, no pixels) instead."""
    try:
        with open(info.path, "rb") as fh, _open_unchecked(fh) as im:
            if isinstance(im, JpegImagePlugin.JpegImageFile):
                im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
            elif im.width * im.height > DECODE_MAX_PIXELS:
                im.verify()
                return
            im.load()
    except Exception as exc:  # Pillow raises many types for damaged files
        said = Msg("prepare.image_undecodable", {"why": _failure(exc)})
        raise PreparationError(failed(said, "export_image")) from None


def _open_unchecked(fh: BinaryIO) -> Image.Image:
    """Image.open without the decompression-bomb refusal (sizes are checked before decoding)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(fh)
        except Image.DecompressionBombError:
            Image.init()
            fh.seek(0)
            prefix = fh.read(16)
            for fmt in Image.ID:
                factory, accept = Image.OPEN[fmt]
                if accept and not accept(prefix):
                    continue
                fh.seek(0)
                try:
                    return factory(fh, getattr(fh, "name", ""))
                except Exception:
                    continue
            raise


def _decode_target(stored: tuple[int, int], limits: InputLimits) -> tuple[int, int]:
    """The largest size within the side limit and the in-memory pixel budget."""
    w, h = stored
    f = min(1.0, limits.image_max_side / max(w, h), math.sqrt(DECODE_MAX_PIXELS / (w * h)))
    return (w, h) if f >= 1.0 else (max(1, int(w * f)), max(1, int(h * f)))


def _draft_size(stored: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The size for the JPEG decoder to reduce to (1/2, 1/4 or 1/8): the largest that is not under
    the target, unless decoding that would pass the pixel budget; then the next smaller one."""
    ratio = max(stored[0] / target[0], 1.0)
    shrink = 2 ** math.floor(math.log2(ratio))
    if stored[0] * stored[1] / shrink**2 > DECODE_MAX_PIXELS:
        shrink *= 2
    shrink = min(8, shrink)
    return math.ceil(stored[0] / shrink), math.ceil(stored[1] / shrink)


def _to_8bit(im: Image.Image) -> tuple[Image.Image, Msg | None]:
    mode = im.mode
    if mode in CONFORMING_IMAGE_MODES:
        return im, None
    if mode == "CMYK":
        return im.convert("RGB"), Msg("prepare.image_cmyk")
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im)
        if mode.startswith("I;16"):
            out = (arr.astype(np.uint32) // 257).astype(np.uint8)
        elif mode == "F":
            scale = 255.0 if float(np.nanmax(arr)) <= 1.0 else 1.0
            out = np.clip(np.nan_to_num(arr) * scale, 0, 255).astype(np.uint8)
        else:
            top = int(arr.max()) if arr.size else 0
            div = 1 if top <= 255 else 257 if top <= 65535 else math.ceil(top / 255)
            out = np.clip(arr // div, 0, 255).astype(np.uint8)
        code = "prepare.image_grey16" if mode.startswith("I;16") else "prepare.image_grey32" if mode == "I" else ""
        return Image.fromarray(out), Msg(code or "prepare.image_grey_float")
    if mode in ("P", "PA"):
        alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if alpha else "RGB"), Msg(
            "prepare.image_palette", {"mode": "RGBA" if alpha else "RGB"}
        )
    if mode in ("LA", "La"):
        return im.convert("RGBA"), Msg("prepare.image_grey_alpha")
    if mode == "RGBa":
        return im.convert("RGBA"), Msg("prepare.image_premultiplied")
    if mode == "1":
        return im.convert("L"), Msg("prepare.image_1bit")
    return im.convert("RGB"), Msg("prepare.image_mode", {"mode": mode})


def _flatten(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    bg = Image.new("RGB", rgba.size, (255, 255, 255))
    bg.paste(rgba, mask=rgba.getchannel("A"))
    return bg


def _encode_jpeg(im: Image.Image, params: dict[str, object], extra: dict[str, object]) -> bytes:
    if im.mode not in ("RGB", "L"):
        im = _flatten(im) if "A" in im.getbands() else im.convert("RGB")
    buf = io.BytesIO()
    try:
        im.save(buf, "JPEG", optimize=True, **params, **extra)
    except (ValueError, OSError):  # e.g. source tables that do not fit this picture: plain quality
        buf = io.BytesIO()
        im.save(buf, "JPEG", optimize=True, quality=95, **extra)
    return buf.getvalue()


def _encode_png(im: Image.Image, extra: dict[str, object], compress_level: int = 6) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=compress_level, **extra)
    return buf.getvalue()


def _failure(exc: Exception) -> Msg:
    if "truncated" in str(exc).lower():
        return Msg("prepare.image_truncated")
    if isinstance(exc, Image.UnidentifiedImageError):
        return Msg("prepare.image_unknown")
    # Pillow raises OSError, SyntaxError, ValueError, IndexError, struct.error, zlib.error ... for damaged
    # data: the type name tells the user nothing.
    return Msg("prepare.image_damaged")
