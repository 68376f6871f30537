"""Drawn people for the example assets and the tests: a figure mediapipe's pose model detects
(head with eyes, nose and mouth, a shirt, arms, trousers, shoes), posed by joint angles,
framed like a camera would (full body, or closer so only the upper body shows) and encoded
as H.264 MP4 with ffmpeg. Nothing is downloaded; everything is drawn here.

Angles are in radians from "hanging straight down"; positive lifts a limb away from the body.
"left" is the figure's left (the picture's right: the figure faces the camera).

Pose keys: lsh rsh (shoulder), lel rel (elbow), lhip rhip (thigh), lkn rkn (knee), dx dy
(body offset in head units), lthigh rthigh (thigh foreshortening: 1 = in the picture's plane,
less = the knee lifted towards the camera).

Used by scripts/make_assets.py (assets/) and tests/figures.py (test media).
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kmc_ui.media.ffmpeg import ffmpeg_exe

Colour = tuple[int, int, int]
PoseFn = Callable[[float], dict[str, float]]


@dataclass(frozen=True)
class Look:
    skin: Colour = (225, 185, 150)
    shirt: Colour = (200, 40, 40)
    trousers: Colour = (40, 50, 110)
    hair: Colour = (60, 40, 20)
    background: Colour = (200, 215, 235)
    floor: Colour = (120, 140, 110)
    size: float = 1.0  # figure height as a share of the default (a tenth of the picture per head unit)
    arm_length: float = 1.0
    # proportions and style (1.0 / 0 = the plain figure the tests were measured on)
    head: float = 1.0  # head size
    legs: float = 1.0  # leg length
    shoulders: float = 1.0  # shoulder width
    shoes: Colour = (30, 30, 30)
    outline: float = 0.0  # cartoon outline around the figure, in head units (0 = none)
    outline_colour: Colour = (25, 20, 35)


DANCER = Look()
CHARACTER = Look(
    skin=(240, 200, 170),
    shirt=(40, 150, 70),
    trousers=(90, 60, 40),
    hair=(200, 160, 60),
    background=(235, 225, 200),
    floor=(170, 150, 120),
    size=1.0,
    arm_length=1.05,
)
STANDING = {"lsh": 0.35, "rsh": 0.35, "lel": 0.1, "rel": 0.1}  # the character pictures' pose


def V(x: float, y: float) -> np.ndarray:
    """A 2D offset (numpy, so `point + V(dx, dy)` adds instead of concatenating)."""
    return np.array([x, y], dtype=np.float64)


def _backdrop(width: int, height: int, look: Look) -> np.ndarray:
    img = np.empty((height, width, 3), np.uint8)
    shade = 1.0 - 0.3 * np.linspace(0, 1, height)[:, None, None]
    img[:] = (np.array(look.background, np.float32)[None, None] * shade).astype(np.uint8)
    cv2.rectangle(img, (0, int(height * 0.86)), (width, height), look.floor, -1)
    return img


def draw_figure(width: int, height: int, pose: dict[str, float], look: Look = DANCER) -> np.ndarray:
    """An RGB picture of the figure in `pose` (keys: see the module docstring)."""
    img = _backdrop(width, height, look)
    s = height / 10.0 * look.size  # one head unit
    cx = width / 2 + pose.get("dx", 0.0) * s
    hip_y = height * 0.52 + pose.get("dy", 0.0) * s
    neck = np.array([cx, hip_y - 2.6 * s])
    hips = np.array([cx, hip_y])
    l_sh, r_sh = neck + V(0.9 * s * look.shoulders, 0.15 * s), neck + V(-0.9 * s * look.shoulders, 0.15 * s)
    l_hip, r_hip = hips + V(0.55 * s, 0), hips + V(-0.55 * s, 0)

    def limb(p: np.ndarray, angle: float, length: float) -> np.ndarray:
        return p + length * np.array([math.sin(angle), math.cos(angle)])

    upper, fore = 1.25 * s * look.arm_length, 1.15 * s * look.arm_length
    l_el = limb(l_sh, pose.get("lsh", 0.3), upper)
    l_wr = limb(l_el, pose.get("lsh", 0.3) + pose.get("lel", 0.0), fore)
    r_el = limb(r_sh, -pose.get("rsh", 0.3), upper)
    r_wr = limb(r_el, -pose.get("rsh", 0.3) - pose.get("rel", 0.0), fore)
    thigh, shin = 1.7 * s * look.legs, 1.6 * s * look.legs
    l_kn = limb(l_hip, pose.get("lhip", 0.08), thigh * pose.get("lthigh", 1.0))
    l_an = limb(l_kn, pose.get("lhip", 0.08) + pose.get("lkn", 0.0), shin)
    r_kn = limb(r_hip, -pose.get("rhip", 0.08), thigh * pose.get("rthigh", 1.0))
    r_an = limb(r_kn, -pose.get("rhip", 0.08) - pose.get("rkn", 0.0), shin)

    def P(p: np.ndarray) -> tuple[int, int]:
        return round(float(p[0])), round(float(p[1]))

    aa = cv2.LINE_AA
    for a, b, w in ((l_hip, l_kn, 0.55), (l_kn, l_an, 0.45), (r_hip, r_kn, 0.55), (r_kn, r_an, 0.45)):
        cv2.line(img, P(a), P(b), look.trousers, max(2, int(w * s)), aa)
    for ankle, side in ((l_an, 1), (r_an, -1)):
        cv2.ellipse(
            img,
            P(ankle + V(side * 0.25 * s, 0.12 * s)),
            (int(0.38 * s), int(0.16 * s)),
            0,
            0,
            360,
            look.shoes,
            -1,
            aa,
        )
    torso = np.array(
        [
            l_sh + V(0.1 * s, -0.1 * s),
            r_sh + V(-0.1 * s, -0.1 * s),
            r_hip + V(-0.15 * s, 0.1 * s),
            l_hip + V(0.15 * s, 0.1 * s),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(img, torso, look.shirt, aa)
    cv2.line(img, P(neck), P(neck - V(0, 0.5 * s)), look.skin, max(2, int(0.35 * s)), aa)
    hs = s * look.head  # head unit
    head = neck - V(0, (0.5 + 0.5 * look.head) * s)
    cv2.ellipse(img, P(head), (int(0.42 * hs), int(0.55 * hs)), 0, 0, 360, look.skin, -1, aa)
    cv2.ellipse(img, P(head - V(0, 0.2 * hs)), (int(0.46 * hs), int(0.42 * hs)), 0, 180, 360, look.hair, -1, aa)
    for ex in (-0.16, 0.16):
        eye = head + V(ex * hs, -0.02 * hs)
        cv2.ellipse(img, P(eye), (int(0.07 * hs), int(0.045 * hs)), 0, 0, 360, (255, 255, 255), -1, aa)
        cv2.circle(img, P(eye), max(1, int(0.035 * hs)), (40, 30, 20), -1, aa)
    cv2.line(img, P(head), P(head + V(0, 0.15 * hs)), (190, 140, 110), max(1, int(0.04 * hs)), aa)
    cv2.ellipse(
        img,
        P(head + V(0, 0.3 * hs)),
        (int(0.12 * hs), int(0.05 * hs)),
        0,
        0,
        180,
        (160, 60, 60),
        max(1, int(0.04 * hs)),
        aa,
    )
    for a, b, colour, w in ((l_sh, l_el, look.shirt, 0.36), (l_el, l_wr, look.skin, 0.3)):
        cv2.line(img, P(a), P(b), colour, max(2, int(w * s)), aa)
    for a, b, colour, w in ((r_sh, r_el, look.shirt, 0.36), (r_el, r_wr, look.skin, 0.3)):
        cv2.line(img, P(a), P(b), colour, max(2, int(w * s)), aa)
    for wr, el in ((l_wr, l_el), (r_wr, r_el)):
        d = (wr - el) / max(float(np.linalg.norm(wr - el)), 1e-6)
        angle = math.degrees(math.atan2(d[1], d[0]))
        cv2.ellipse(img, P(wr + d * 0.2 * s), (int(0.2 * s), int(0.14 * s)), angle, 0, 360, look.skin, -1, aa)
    if look.outline > 0:
        figure = np.any(img != _backdrop(width, height, look), axis=2).astype(np.uint8)
        k = max(3, 2 * round(look.outline * s) + 1)
        ring = (cv2.dilate(figure, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0) & (figure == 0)
        img[ring] = look.outline_colour
    return img


def draw_view(
    width: int, height: int, pose: dict[str, float], look: Look = DANCER, zoom: float = 1.0, top: float = 0.0
) -> np.ndarray:
    """The figure as a camera `zoom` times closer: drawn on a canvas `zoom` times larger and cut
    to width x height, centred across, starting `top` (a share of the canvas height) down.
    zoom 1 is draw_figure itself; about 1.6 with top 0.03 shows the head down to the hips."""
    if zoom <= 1.0:
        return draw_figure(width, height, pose, look)
    cw, ch = round(width * zoom), round(height * zoom)
    canvas = draw_figure(cw, ch, pose, look)
    x0 = (cw - width) // 2
    y0 = min(ch - height, max(0, round(top * ch)))
    return np.ascontiguousarray(canvas[y0 : y0 + height, x0 : x0 + width])


def dance_pose(t: float) -> dict[str, float]:
    """A simple two-second dance: arms swing up and down out of phase, elbows bend, the hips
    sway and one knee lifts now and then."""
    w = 2 * math.pi / 2.0
    return {
        "lsh": 0.35 + 1.1 * (0.5 + 0.5 * math.sin(w * t)),
        "rsh": 0.35 + 1.1 * (0.5 + 0.5 * math.sin(w * t + math.pi)),
        "lel": 0.9 * (0.5 + 0.5 * math.sin(w * t + 1.0)),
        "rel": 0.9 * (0.5 + 0.5 * math.sin(w * t + 2.5)),
        "lhip": 0.08 + 0.15 * max(0.0, math.sin(w * t / 2)),
        "rhip": 0.08 + 0.15 * max(0.0, -math.sin(w * t / 2)),
        "lkn": -0.3 * max(0.0, math.sin(w * t / 2)),
        "rkn": 0.3 * max(0.0, -math.sin(w * t / 2)),
        "dx": 0.3 * math.sin(w * t / 2),
    }


def save_picture(path: Path, rgb: np.ndarray) -> Path:
    """An RGB array as PNG (or JPEG by the suffix), parent folders made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 9] if path.suffix.lower() == ".png" else [cv2.IMWRITE_JPEG_QUALITY, 92]
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise RuntimeError(f"could not write {path}")
    return path


def encode_frames(
    path: Path,
    frames: Iterable[np.ndarray],
    width: int,
    height: int,
    fps: int,
    seconds: float,
    *,
    audio: str | None = None,
    preset: str = "medium",
    crf: int | None = None,
    faststart: bool = True,
    bitexact: bool = False,
) -> Path:
    """RGB frames -> H.264 yuv420p MP4. `audio` is an ffmpeg lavfi source (e.g.
    "sine=frequency=440:sample_rate=48000"), encoded as AAC and cut to the video's length.
    `bitexact` leaves the muxer's version strings out (the same input gives the same bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    cmd += ["-framerate", str(fps), "-i", "pipe:0"]
    if audio:
        cmd += ["-f", "lavfi", "-i", audio]
    cmd += ["-t", f"{seconds}", "-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p"]
    if crf is not None:
        cmd += ["-crf", str(crf)]
    if audio:
        cmd += ["-c:a", "aac", "-shortest"]
    if faststart:
        cmd += ["-movflags", "+faststart"]
    if bitexact:
        cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    cmd += [str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed: {err.decode(errors='replace')[-300:]}")
    return path


def pose_frames(
    pose: PoseFn,
    width: int,
    height: int,
    seconds: float,
    fps: int,
    look: Look = DANCER,
    zoom: float = 1.0,
    top: float = 0.0,
) -> Iterable[np.ndarray]:
    """The frames of `pose` over time (drawn one at a time, as they are encoded)."""
    for i in range(round(seconds * fps)):
        yield draw_view(width, height, pose(i / fps), look, zoom, top)
