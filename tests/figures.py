"""Synthetic people for engine tests and benchmarks: a drawn figure mediapipe's pose model
detects (head with eyes, nose and mouth, a shirt, arms, trousers, shoes), posed by joint
angles, and a dancing clip of it encoded with ffmpeg. Nothing is downloaded.

Angles are in radians from "hanging straight down"; positive lifts a limb away from the body.
"left" is the figure's left (the picture's right: the figure faces the camera).
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tests.media_factory import ffmpeg_exe


@dataclass(frozen=True)
class Look:
    skin: tuple[int, int, int] = (225, 185, 150)
    shirt: tuple[int, int, int] = (200, 40, 40)
    trousers: tuple[int, int, int] = (40, 50, 110)
    hair: tuple[int, int, int] = (60, 40, 20)
    background: tuple[int, int, int] = (200, 215, 235)
    floor: tuple[int, int, int] = (120, 140, 110)
    size: float = 1.0  # figure height as a share of the default (a tenth of the picture per head unit)
    arm_length: float = 1.0


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


def V(x: float, y: float) -> np.ndarray:
    """A 2D offset (numpy, so `point + V(dx, dy)` adds instead of concatenating)."""
    return np.array([x, y], dtype=np.float64)


def draw_figure(width: int, height: int, pose: dict[str, float], look: Look = DANCER) -> np.ndarray:
    """An RGB picture of the figure in `pose` (keys: lsh rsh lel rel lhip rhip lkn rkn dx dy)."""
    img = np.empty((height, width, 3), np.uint8)
    shade = 1.0 - 0.3 * np.linspace(0, 1, height)[:, None, None]
    img[:] = (np.array(look.background, np.float32)[None, None] * shade).astype(np.uint8)
    cv2.rectangle(img, (0, int(height * 0.86)), (width, height), look.floor, -1)
    s = height / 10.0 * look.size  # one head unit
    cx = width / 2 + pose.get("dx", 0.0) * s
    hip_y = height * 0.52 + pose.get("dy", 0.0) * s
    neck = np.array([cx, hip_y - 2.6 * s])
    hips = np.array([cx, hip_y])
    l_sh, r_sh = neck + V(0.9 * s, 0.15 * s), neck + V(-0.9 * s, 0.15 * s)
    l_hip, r_hip = hips + V(0.55 * s, 0), hips + V(-0.55 * s, 0)

    def limb(p: np.ndarray, angle: float, length: float) -> np.ndarray:
        return p + length * np.array([math.sin(angle), math.cos(angle)])

    upper, fore = 1.25 * s * look.arm_length, 1.15 * s * look.arm_length
    l_el = limb(l_sh, pose.get("lsh", 0.3), upper)
    l_wr = limb(l_el, pose.get("lsh", 0.3) + pose.get("lel", 0.0), fore)
    r_el = limb(r_sh, -pose.get("rsh", 0.3), upper)
    r_wr = limb(r_el, -pose.get("rsh", 0.3) - pose.get("rel", 0.0), fore)
    thigh, shin = 1.7 * s, 1.6 * s
    l_kn = limb(l_hip, pose.get("lhip", 0.08), thigh)
    l_an = limb(l_kn, pose.get("lhip", 0.08) + pose.get("lkn", 0.0), shin)
    r_kn = limb(r_hip, -pose.get("rhip", 0.08), thigh)
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
            (30, 30, 30),
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
    head = neck - V(0, 1.0 * s)
    cv2.ellipse(img, P(head), (int(0.42 * s), int(0.55 * s)), 0, 0, 360, look.skin, -1, aa)
    cv2.ellipse(img, P(head - V(0, 0.2 * s)), (int(0.46 * s), int(0.42 * s)), 0, 180, 360, look.hair, -1, aa)
    for ex in (-0.16, 0.16):
        eye = head + V(ex * s, -0.02 * s)
        cv2.ellipse(img, P(eye), (int(0.07 * s), int(0.045 * s)), 0, 0, 360, (255, 255, 255), -1, aa)
        cv2.circle(img, P(eye), max(1, int(0.035 * s)), (40, 30, 20), -1, aa)
    cv2.line(img, P(head), P(head + V(0, 0.15 * s)), (190, 140, 110), max(1, int(0.04 * s)), aa)
    cv2.ellipse(
        img,
        P(head + V(0, 0.3 * s)),
        (int(0.12 * s), int(0.05 * s)),
        0,
        0,
        180,
        (160, 60, 60),
        max(1, int(0.04 * s)),
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
    return img


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


def make_character(path: Path, width: int = 360, height: int = 640, look: Look = CHARACTER) -> Path:
    """A still character picture (standing, arms a little away from the body)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = draw_figure(width, height, {"lsh": 0.35, "rsh": 0.35, "lel": 0.1, "rel": 0.1}, look)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


def make_dance(
    path: Path,
    width: int = 360,
    height: int = 640,
    seconds: float = 2.0,
    fps: int = 24,
    audio: bool = True,
    look: Look = DANCER,
) -> Path:
    """The dance as an H.264 MP4 (a 440 Hz AAC tone when audio=True)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    cmd += ["-framerate", str(fps), "-i", "pipe:0"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    cmd += ["-t", f"{seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        cmd += ["-c:a", "aac", "-shortest"]
    cmd += [str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(round(seconds * fps)):
        proc.stdin.write(draw_figure(width, height, dance_pose(i / fps), look).tobytes())
    proc.stdin.close()
    err = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed: {err.decode(errors='replace')[-300:]}")
    return path
