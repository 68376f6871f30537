"""The face's expression: the reference's mouth and eyes read on its frames, and the picture's
drawn to match (kmc_ui/engine/mouth.py opens the mouth, kmc_ui/engine/eyes.py closes the eyes).

FaceReader reads, on each frame whose head is large enough, mediapipe's face mesh (in the wheel,
tracking mode: a clip's frames in order) on a crop around the head the pose found. Expression
redraws the patches of the body's texture around the picture's mouth and eyes each frame, only
when what it is asked changes.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from kmc_ui.engine.eyes import DrawnEye, Eye, eye_gap, picture_eyes
from kmc_ui.engine.mouth import Mouth, mouth_width, openness, picture_mouth
from kmc_ui.pose import landmarks as L

READ_FROM = 60  # px between the ears in the pose's frame: a smaller head's face is not read
READ_CROP = 1.1  # the crop read: this many ear spans either side of the nose
READ_SIDE = 192  # px the crop is scaled to
STEP = 0.25  # px the mouth's opening changes by before its patch is drawn again
CLOSE_STEP = 0.05  # the eyes' closing, likewise
WIDTH_STEP = 0.01  # the mouth's width (its share of the picture's), likewise


class FaceReader:
    """Reads the mouth's opening, the eyes' gap and the mouth's width on a clip's frames in order;
    the face mesh is made on the first head large enough to read."""

    def __init__(self) -> None:
        self._mesh: Any = None

    @staticmethod
    def span(lm: np.ndarray, k: float) -> float:
        """The ears' distance of the pose `lm` (33, 4; display px) in the pose's frame (display px / k)."""
        ears = lm[[L.L_EAR, L.R_EAR], :2] / k
        return float(np.linalg.norm(ears[0] - ears[1]))

    def readable(self, lm: np.ndarray, k: float) -> bool:
        """Whether the pose's head is large enough for its face to be read."""
        span = self.span(lm, k)
        return bool(np.isfinite(span) and span >= READ_FROM and np.isfinite(lm[L.NOSE, :2]).all())

    def read(self, rgb: np.ndarray, lm: np.ndarray, k: float) -> tuple[float, float, float]:
        """(mouth.openness, eyes.eye_gap, mouth.mouth_width) of the face of the pose `lm` (33, 4;
        display px) on `rgb` (the pose's frame: display px / k); nan when the head is too small or
        no face is found."""
        nothing = (float("nan"), float("nan"), float("nan"))
        if not self.readable(lm, k):
            return nothing
        half = round(READ_CROP * self.span(lm, k))
        cx, cy = (round(float(v)) for v in lm[L.NOSE, :2] / k)
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = cx - half, cy - half, cx + half, cy + half
        if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            return nothing
        crop = rgb[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
        # a head by the frame's edge: the crop padded, so the face keeps its shape and place
        crop = cv2.copyMakeBorder(crop, max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w), cv2.BORDER_CONSTANT)
        if self._mesh is None:
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False, max_num_faces=1, min_detection_confidence=0.5, min_tracking_confidence=0.5
            )
        small = np.ascontiguousarray(cv2.resize(crop, (READ_SIDE, READ_SIDE), interpolation=cv2.INTER_AREA))
        found = self._mesh.process(small).multi_face_landmarks
        if not found:
            return nothing
        face = np.array([[p.x, p.y] for p in found[0].landmark], np.float64)
        return openness(face), eye_gap(face), mouth_width(face)

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None


class Expression:
    """The picture's mouth and eyes on one renderer's body texture (premultiplied BGRA uint8, which
    it redraws in place): `face`, the picture's face mesh (468 points, texture px); `opacity`: the
    texture's alpha as the renderer keeps it apart (uint8), redrawn with it."""

    def __init__(self, face: np.ndarray | None, texture: np.ndarray, opacity: np.ndarray | None = None) -> None:
        self.texture = texture
        self.opacity = opacity
        self.mouth: Mouth | None = picture_mouth(face, texture)
        self.eyes: list[Eye | DrawnEye] = picture_eyes(face, texture)
        self._still = {box: texture[box[1] : box[3], box[0] : box[2]].copy() for box in self.boxes()}
        self._asked = (0.0, 0.0, 1.0)

    def boxes(self) -> list[tuple[int, int, int, int]]:
        return ([self.mouth.box] if self.mouth is not None else []) + [eye.box for eye in self.eyes]

    def draw(self, opening: float, closing: float, widening: float = 1.0) -> None:
        """The mouth opened as far as `opening` (mouth.clip_opening) asks and as wide as `widening`
        (mouth.clip_width), the eyes closed as far as `closing` (eyes.clip_closing)."""
        gap = 0.0 if self.mouth is None else self.mouth.gap(opening)
        closing = closing if self.eyes else 0.0
        last_gap, last_closing, last_widening = self._asked
        opened = abs(gap - last_gap) >= STEP or (gap == 0.0) != (last_gap == 0.0)
        widened = abs(widening - last_widening) >= WIDTH_STEP or (widening == 1.0) != (last_widening == 1.0)
        if opened or widened:
            if self.mouth is not None:
                self._put(self.mouth.box, self.mouth.draw(self._still[self.mouth.box], gap, widening))
            last_gap, last_widening = gap, widening
        if abs(closing - last_closing) >= CLOSE_STEP or (closing == 0.0) != (last_closing == 0.0):
            for eye in self.eyes:
                self._put(eye.box, eye.draw(self._still[eye.box], closing))
            last_closing = closing
        self._asked = (last_gap, last_closing, last_widening)

    def _put(self, box: tuple[int, int, int, int], patch: np.ndarray) -> None:
        x0, y0, x1, y1 = box
        self.texture[y0:y1, x0:x1] = patch
        if self.opacity is not None:
            self.opacity[y0:y1, x0:x1] = patch[..., 3]
