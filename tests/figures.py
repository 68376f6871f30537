"""Synthetic people for engine tests and benchmarks: the drawn figure of kmc_ui/assets_draw.py
(which mediapipe's pose model detects), a still character picture and a dancing clip of it
encoded with ffmpeg. Nothing is downloaded.

Angles are in radians from "hanging straight down"; positive lifts a limb away from the body.
"left" is the figure's left (the picture's right: the figure faces the camera).
"""

from __future__ import annotations

from pathlib import Path

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

__all__ = ["CHARACTER", "DANCER", "Look", "V", "dance_pose", "draw_figure", "make_character", "make_dance"]


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
