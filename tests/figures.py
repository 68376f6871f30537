"""Synthetic people for engine tests and benchmarks: the drawn figure of kmc_ui/assets_draw.py
(which mediapipe's pose model detects), a still character picture and a dancing clip of it
encoded with ffmpeg. Nothing is downloaded.

Angles are in radians from "hanging straight down"; positive lifts a limb away from the body.
"left" is the figure's left (the picture's right: the figure faces the camera).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmc_ui.assets_draw import (
    CHARACTER,
    DANCER,
    STANDING,
    Look,
    V,
    dance_pose,
    draw_figure,
    encode_frames,
    pose_frames,
    save_picture,
)

__all__ = [
    "CHARACTER",
    "DANCER",
    "Look",
    "V",
    "dance_pose",
    "draw_figure",
    "make_character",
    "make_dance",
    "standing_skeleton",
]


def make_character(path: Path, width: int = 360, height: int = 640, look: Look = CHARACTER) -> Path:
    """A still character picture (standing, arms a little away from the body)."""
    return save_picture(path, draw_figure(width, height, STANDING, look))


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
    return encode_frames(
        path,
        pose_frames(dance_pose, width, height, seconds, fps, look),
        width,
        height,
        fps,
        seconds,
        audio="sine=frequency=440:sample_rate=48000" if audio else None,
        preset="ultrafast",
        faststart=False,
    )


def standing_skeleton(
    scale: float = 100.0, x: float = 300.0, y: float = 400.0, arm: float = 1.0, leg: float = 1.0
) -> np.ndarray:
    """A frontal standing skeleton (33, 4) with its root (mid-hips) at (x, y): torso `scale`, arms
    a little away from the body and legs apart, their lengths `arm` and `leg` times the usual."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 1.0
    neck, root = np.array([x, y - scale]), np.array([x, y])
    pts = {
        11: neck + V(0.4 * scale, 0),
        12: neck + V(-0.4 * scale, 0),
        23: root + V(0.25 * scale, 0),
        24: root + V(-0.25 * scale, 0),
        0: neck + V(0, -0.5 * scale),
    }
    for side, s in ((1, 11), (-1, 12)):
        pts[s + 2] = pts[s] + V(side * 0.2 * arm * scale, 0.5 * arm * scale)
        pts[s + 4] = pts[s + 2] + V(side * 0.1 * arm * scale, 0.45 * arm * scale)
    for side, h in ((1, 23), (-1, 24)):
        pts[h + 2] = pts[h] + V(side * 0.05 * scale, 0.9 * leg * scale)
        pts[h + 4] = pts[h + 2] + V(0, 0.85 * leg * scale)
    near = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 17: 15, 19: 15, 21: 15}
    near |= {18: 16, 20: 16, 22: 16, 29: 27, 31: 27, 30: 28, 32: 28}
    offsets = {2: (5, -5), 5: (-5, -5), 7: (12, 0), 8: (-12, 0), 1: (3, -5), 4: (-3, -5), 3: (7, -5), 6: (-7, -5)}
    offsets |= {9: (4, 6), 10: (-4, 6), 17: (4, 12), 19: (0, 14), 21: (-4, 10), 18: (-4, 12), 20: (0, 14)}
    offsets |= {22: (4, 10), 29: (-4, 6), 31: (10, 8), 30: (4, 6), 32: (-10, 8)}
    for i, parent in near.items():
        pts[i] = pts[parent] + np.array(offsets.get(i, (0, 0)), float)
    for i, p in pts.items():
        lm[i, :2] = p
    return lm
