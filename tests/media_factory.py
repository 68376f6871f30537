"""Real media made on demand for tests: images with PIL, videos with ffmpeg (lavfi sources)."""

from __future__ import annotations

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
