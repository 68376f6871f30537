"""Real media made on demand for tests: images with PIL, videos with ffmpeg (lavfi sources)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw


def ffmpeg_exe() -> str:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_image(
    path: Path, width: int = 720, height: int = 1280, fmt: str | None = None, mode: str = "RGB", **save: object
) -> Path:
    """A figure-like picture (head, body, limbs on a plain background)."""
    im = Image.new("RGB", (width, height), (200, 210, 225))
    d = ImageDraw.Draw(im)
    cx, s = width / 2, min(width, height)
    d.ellipse([cx - s * 0.08, height * 0.1, cx + s * 0.08, height * 0.1 + s * 0.16], fill=(230, 190, 160))
    d.rectangle([cx - s * 0.12, height * 0.1 + s * 0.18, cx + s * 0.12, height * 0.62], fill=(40, 80, 160))
    d.rectangle([cx - s * 0.1, height * 0.62, cx - s * 0.02, height * 0.95], fill=(30, 30, 40))
    d.rectangle([cx + s * 0.02, height * 0.62, cx + s * 0.1, height * 0.95], fill=(30, 30, 40))
    if mode != "RGB":
        im = im.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format=fmt, **save)
    return path


def make_video(
    path: Path,
    width: int = 640,
    height: int = 360,
    seconds: float = 3.0,
    fps: float = 24,
    codec: str = "libx264",
    audio: bool = True,
    extra: list[str] | None = None,
    source: str = "testsrc2",
) -> Path:
    """A real encoded video from ffmpeg's test sources; audio is a sine tone in AAC (or Opus for webm)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}=size={width}x{height}:rate={fps}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    cmd += ["-t", f"{seconds}", "-c:v", codec]
    if codec == "libx264":
        cmd += ["-pix_fmt", "yuv420p", "-preset", "ultrafast"]
    if audio:
        cmd += ["-c:a", "libopus" if path.suffix == ".webm" else "aac", "-shortest"]
    cmd += [*(extra or []), str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


# ---------------------------------------------------------------- hostile inputs (tests/test_hostile.py, bench)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def figure_rows(width: int, height: int) -> list[tuple[int, bytes]]:
    """A standing figure on a plain background as runs of identical RGB rows: (row count, row)."""
    bg, skin, shirt, legs = (200, 210, 225), (230, 190, 160), (40, 80, 160), (30, 30, 40)
    cx = width // 2

    def row(*spans: tuple[float, float, tuple[int, int, int]]) -> bytes:
        line = bytearray(bytes(bg) * width)
        for x0, x1, colour in spans:
            a, b = max(0, round(cx + x0 * width)), min(width, round(cx + x1 * width))
            line[3 * a : 3 * b] = bytes(colour) * (b - a)
        return bytes(line)

    plan = [
        (0.10, row()),
        (0.08, row((-0.04, 0.04, skin))),  # head
        (0.40, row((-0.06, 0.06, shirt), (-0.11, -0.075, skin), (0.075, 0.11, skin))),  # body and arms
        (0.34, row((-0.05, -0.01, legs), (0.01, 0.05, legs))),  # legs
    ]
    out, used = [], 0
    for share, line in plan:
        n = round(share * height)
        out.append((n, line))
        used += n
    out.append((height - used, row()))
    return out


def make_big_png(path: Path, width: int = 13300, height: int = 13300) -> Path:
    """A real RGB PNG of width x height px (a figure on a plain background), written row by row in
    constant memory: 13300x13300 (177 megapixels, 530 MB of pixels) is about 0.7 MB on disk."""
    import struct
    import zlib

    packer = zlib.compressobj(6)
    parts = []
    for count, line in figure_rows(width, height):
        filtered = b"\x00" + line
        parts += [packer.compress(filtered) for _ in range(count)]
    idat = b"".join(parts) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", ihdr)]
    chunks += [_png_chunk(b"IDAT", idat[i : i + (1 << 20)]) for i in range(0, len(idat), 1 << 20)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _png_chunk(b"IEND", b""))
    return path


def make_declared_png(path: Path, width: int = 60000, height: int = 60000) -> Path:
    """A PNG whose header declares width x height but carries one tiny IDAT (a lying header)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    body = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def make_declared_jpeg(path: Path, width: int = 60000, height: int = 60000) -> Path:
    """A small real JPEG whose frame header (SOF0) is patched to declare width x height."""
    import io
    import struct

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 210, 225)).save(buf, "JPEG", quality=80)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


def make_many_frame_gif(path: Path, frames: int = 10_000, size: int = 16) -> Path:
    """An animated GIF of `frames` tiny frames (about 50 bytes each), 100 frames a second."""
    pictures = [Image.new("P", (size, size), k % 200) for k in range(frames)]
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=10, loop=0, optimize=False)
    return path


def make_long_clip(path: Path, seconds: float = 600, width: int = 360, height: int = 640, fps: int = 24) -> Path:
    """A long, small, low-bit-rate H.264 clip: a 20 s test pattern encoded once, then repeated by
    stream copy (10 minutes in about 2 s)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    piece = path.with_name(path.stem + "_piece.mp4")
    span = min(20.0, seconds)
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]
    cmd += ["-t", f"{span}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "40", "-g", f"{fps * 2}"]
    subprocess.run([*cmd, "-pix_fmt", "yuv420p", "-an", str(piece)], check=True, capture_output=True)
    loops = max(0, round(seconds / span) - 1)
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", str(loops), "-i", str(piece), "-c", "copy"]
    subprocess.run([*cmd, "-movflags", "+faststart", str(path)], check=True, capture_output=True)
    piece.unlink()
    return path


def make_big_heic(path: Path, width: int = 11000, height: int = 11000) -> Path:
    """A plain-colour HEIC of width x height px (needs pillow-heif); a large JPEG when it cannot be written."""
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        Image.new("RGB", (width, height), (200, 210, 225)).save(path, format="HEIF", quality=10)
    except Exception:
        path = path.with_suffix(".jpg")
        Image.new("RGB", (width, height), (200, 210, 225)).save(path, format="JPEG", quality=50)
    return path


HOSTILE_DIR = Path(os.environ.get("KMC_HOSTILE_DIR") or Path(os.environ.get("TMPDIR", "/tmp")) / "kmc-hostile")
# name -> (builder, the input it attacks); the GIF is also given as the motion video
HOSTILE = {
    "hostile_13300x13300.png": (make_big_png, "image"),
    "hostile_11000x11000.heic": (make_big_heic, "image"),
    "hostile_declared_60000.png": (make_declared_png, "image"),
    "hostile_declared_60000.jpg": (make_declared_jpeg, "image"),
    "hostile_10000_frames.gif": (make_many_frame_gif, "image"),
    "hostile_10_minutes.mp4": (make_long_clip, "video"),
}


def hostile_files(folder: Path = HOSTILE_DIR) -> dict[str, Path]:
    """Every hostile input, made once into `folder` (kept between runs: the HEIC takes ~15 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (build, _) in HOSTILE.items():
        made = [p for p in (folder / name, folder / f"{name}.jpg") if p.is_file() and p.stat().st_size > 0]
        if not made:
            tmp = build(folder / f".tmp-{name}")
            made = [folder / (name if tmp.name.endswith(name) else f"{name}{tmp.suffix}")]  # the JPEG fallback
            os.replace(tmp, made[0])
        out[name] = made[0]
    return out
