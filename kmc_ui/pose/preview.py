"""Skeleton previews: the evidence shown next to the body findings.

`skeleton_preview(image, video, out_dir)` writes
- a PNG: the character image with its detected skeleton (seen joints bright, guessed ones dim);
- a small H.264 MP4 (or a PNG strip): the motion's skeleton retargeted to the character's
  proportions and drawn over the (dimmed) character image, so a user sees before paying
  how the motion sits on the body and where it leaves the picture.
The MP4 is H.264, yuv420p, even-sized, +faststart, silent (it has no sound to carry).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from kmc_ui.limits import POSE
from kmc_ui.pose import landmarks as L
from kmc_ui.pose import picture as _picture
from kmc_ui.pose.detect import ImageAnalysis, VideoAnalysis, analyse_image, analyse_video
from kmc_ui.pose.retarget import retarget

LEFT = (255, 140, 0)  # RGB: the body's left side (mediapipe's convention: orange)
RIGHT = (0, 200, 255)  # the body's right side (cyan)
CENTRE = (240, 240, 240)
PREVIEW_FPS = 10
PREVIEW_MAX_SIDE = 640
IMAGE_MAX_SIDE = 1280
STRIP_FRAMES = 6
STRIP_MAX_SIDE = 360  # each strip frame's long side


def _side(i: int) -> tuple[int, int, int]:
    name = L.NAMES[i]
    return LEFT if name.startswith("left") else RIGHT if name.startswith("right") else CENTRE


def draw_skeleton(
    rgb: np.ndarray, lm: np.ndarray, seen: np.ndarray | None = None, scale: float = 1.0, alpha_unseen: float = 0.35
) -> np.ndarray:
    """Draw a (33,4) pose (pixel coordinates of the un-scaled picture x `scale`) onto rgb, in place."""
    if not L.is_pose(lm):
        return rgb
    h, w = rgb.shape[:2]
    thick = max(2, round(max(h, w) / 220))
    pts = np.round(lm[:, :2] * scale).astype(np.int64)
    pts = np.clip(pts, -10 * max(h, w), 10 * max(h, w))
    seen = np.ones(33, dtype=bool) if seen is None else seen
    # guessed (unseen) parts first, blended in faintly; then the seen ones on top
    faint = rgb.copy()
    if _draw(faint, pts, seen, False, thick):
        cv2.addWeighted(faint, alpha_unseen, rgb, 1.0 - alpha_unseen, 0, dst=rgb)
    _draw(rgb, pts, seen, True, thick)
    return rgb


def _draw(layer: np.ndarray, pts: np.ndarray, seen: np.ndarray, show: bool, thick: int) -> bool:
    drawn = False
    for a, b in L.CONNECTIONS:
        if bool(seen[a] and seen[b]) != show:
            continue
        colour = _side(b) if _side(a) == _side(b) else CENTRE
        cv2.line(layer, (int(pts[a, 0]), int(pts[a, 1])), (int(pts[b, 0]), int(pts[b, 1])), colour, thick, cv2.LINE_AA)
        drawn = True
    for i in range(33):
        if bool(seen[i]) != show or i in (1, 3, 4, 6):  # inner/outer eye corners: clutter
            continue
        cv2.circle(layer, (int(pts[i, 0]), int(pts[i, 1])), thick + 1, _side(i), -1, cv2.LINE_AA)
        drawn = True
    return drawn


def _load_display_rgb(path: Path, max_side: int) -> tuple[np.ndarray, float]:
    """The picture as displayed (EXIF applied), at most max_side (a writable copy); and the scale
    from the displayed size. The decode is the analysis's own (picture.py keeps the last few)."""
    rgb, width, _ = _picture.load_rgb(path, IMAGE_MAX_SIDE)
    out, _ = _picture.fit(rgb, max_side)
    return out, out.shape[1] / width


def _even(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.ascontiguousarray(rgb[: h // 2 * 2, : w // 2 * 2])


def _name(kind: str, *paths: str | Path | None) -> str:
    digest = hashlib.sha256(kind.encode())
    for p in paths:
        if p:
            st = Path(p).stat()
            digest.update(f"{Path(p).resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def interpolate(times: np.ndarray, seq: np.ndarray, at: np.ndarray, max_gap: float = 0.8) -> np.ndarray:
    """Landmarks at the times `at`, linear between the two samples around each (NaN over gaps)."""
    out = np.full((len(at), 33, 4), np.nan, dtype=np.float32)
    valid = np.isfinite(seq[:, :, 0]).all(axis=1)
    t, s = np.asarray(times)[valid], seq[valid]
    if len(t) == 0:
        return out
    for n, x in enumerate(at):
        j = int(np.searchsorted(t, x))
        if j == 0:
            if t[0] - x <= max_gap / 2:
                out[n] = s[0]
        elif j == len(t):
            if x - t[-1] <= max_gap:
                out[n] = s[-1]
        elif t[j] - t[j - 1] <= max_gap:
            a = (x - t[j - 1]) / max(t[j] - t[j - 1], 1e-9)
            out[n] = s[j - 1] * (1 - a) + s[j] * a
    return out


def skeleton_preview(
    image_path: str | Path,
    video_path: str | Path | None,
    out_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    kind: str = "mp4",
    fps: int = PREVIEW_FPS,
    max_side: int = PREVIEW_MAX_SIDE,
    start: float = 0.0,
    max_seconds: float | None = None,
    deadline: float | None = None,
) -> tuple[Path, Path | None]:
    """(character PNG with its skeleton, motion preview MP4 / strip PNG or None).

    The second is None when there is no video, or no person in the image or the video.
    kind: "mp4" (small H.264 video, default) or "strip" (one PNG of STRIP_FRAMES frames).
    `start`, `max_seconds`, `deadline`: the video window and time limit, as for analyse_video
    (pass the body check's own so its cached analysis is reused); the preview covers that window.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image = analyse_image(image_path, cache_dir=cache_dir)
    if image.error:  # never decode a picture the analysis could not (it may be huge or damaged)
        raise ValueError(f"no preview: {image.error}")
    png = out / f"skeleton_{_name('img', image_path)}.png"
    _write_character_png(Path(image_path), image, png)
    if video_path is None or image.pose is None:
        return png, None
    video = analyse_video(video_path, cache_dir=cache_dir, start=start, max_seconds=max_seconds, deadline=deadline)
    if video.error or not np.isfinite(video.landmarks[:, :, 0]).all(axis=1).any():
        return png, None
    first, last = video.start, video.analysed_until
    window = f"{first:.3f}-{last:.3f}"
    target = retarget(video.landmarks, image.pose, image.pose.seen(POSE.min_visibility))
    base, f = _load_display_rgb(Path(image_path), max_side if kind != "strip" else STRIP_MAX_SIDE)
    base = _even((base.astype(np.float32) * 0.55).astype(np.uint8))
    f = base.shape[1] / image.width if image.width else f
    if kind == "strip":
        path = out / f"motion_strip_{_name('strip' + window, image_path, video_path)}.png"
        at = np.linspace(first, max(last - 1e-3, first), STRIP_FRAMES)
        frames = [_frame(base, lm, f) for lm in interpolate(video.times, target, at)]
        strip = np.concatenate([np.pad(fr, ((0, 0), (0, 4), (0, 0))) for fr in frames], axis=1)
        _atomic_png(path, strip)
        return png, path
    path = out / f"motion_skeleton_{_name('mp4' + window, image_path, video_path)}_{fps}.mp4"
    n = max(1, round((last - first) * fps))
    poses = interpolate(video.times, target, first + np.arange(n) / fps)
    write_mp4(path, (_frame(base, lm, f) for lm in poses), fps, base.shape[1], base.shape[0])
    return png, path


def _frame(base: np.ndarray, lm: np.ndarray, scale: float) -> np.ndarray:
    frame = base.copy()
    draw_skeleton(frame, lm, lm[:, 3] >= POSE.min_visibility if L.is_pose(lm) else None, scale)
    return frame


def _write_character_png(path: Path, image: ImageAnalysis, png: Path) -> None:
    rgb, f = _load_display_rgb(path, IMAGE_MAX_SIDE)
    f = rgb.shape[1] / image.width if image.width else f
    if image.pose is not None:
        draw_skeleton(rgb, image.pose.landmarks, image.pose.seen(POSE.min_visibility), f)
    elif image.face_box is not None:
        x0, y0, x1, y1 = (round(v * f) for v in image.face_box)
        cv2.rectangle(rgb, (x0, y0), (x1, y1), CENTRE, max(2, round(max(rgb.shape[:2]) / 300)))
    _atomic_png(png, rgb)


def _atomic_png(path: Path, rgb: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    os.close(fd)
    cv2.imwrite(tmp, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_mp4(path: Path, frames: Iterable[np.ndarray], fps: int, width: int, height: int) -> Path:
    """Encode RGB frames as H.264 yuv420p with +faststart (written to a temp file, then moved)."""
    import av

    if width % 2 or height % 2:
        raise ValueError(f"frame size must be even, got {width}x{height}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".mp4")
    os.close(fd)
    try:
        with av.open(tmp, "w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"crf": "26", "preset": "veryfast"}
            for rgb in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def preview_for(image: ImageAnalysis, video: VideoAnalysis) -> np.ndarray:
    """Retargeted motion landmarks (K,33,4) in the character's pixels (for callers drawing their own)."""
    if image.pose is None:
        return np.full(video.landmarks.shape, np.nan, dtype=np.float32)
    return retarget(video.landmarks, image.pose, image.pose.seen(POSE.min_visibility))
