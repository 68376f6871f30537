"""An arm's soft rim without the body's colour.

An arm's layer (kmc_ui/engine/rig.py) is its region grown by a pixel and feathered outwards a few
more, so its edge is soft once it moves. Where the arm lay against the body, those feathered pixels
are the body's: the man's hands, hanging against his navy shorts, carried a dark halo of them once
they rose over the wall. The feather's pixels on the character whose colour is more than RIM_FAR from
the arm's nearest own pixel (its region less its edge) are left out of the arm's layer, but for the
one right beside its edge, kept at RIM_EDGE at most (the outline not stair-stepped). The body's layer
under them shows what is there (its own pixels, or its fill where the arm hid the body), and the arm
ends at its own edge. The rim over the backdrop (the backdrop's colour already out of it) and a rim near the arm's
colour stay soft. On the man, the opacity his arms' soft pixels carry in colours unlike the arm fell
from 1,434 to 866 (his hands' dark halo gone); the half-figure's line-drawn hands keep their
outlines (drawn inside their region).

What the arm keeps of such a rim (the pixel its region is grown by, opaque, and the half one past
it) has a second colour too, the arm's nearest own colour (`own_rim`'s second texture, Layer.rim):
an arm piece drawn away from where it lay takes that one (kmc_ui/engine/pieces.py). In the
picture's colour they were a dark line along the woman's raised upper arm (her hair and her side's
shadow beside it) and blue specks along her hand (her shorts under it); in the arm's colour
everywhere, the still showed a line of skin down her top's and her shorts' edges. Their opacity
is as before, so the body's layer (cut where the arms are opaque) does not change.

The arm's own outermost pixel beside the body has the same second colour where it is far from the
arm two pixels in: that pixel mixes the body's colour in too (a drawn picture's outline between the
half-figure's white sleeve and her black skirt), and her sleeve and cuff, raised over the sky,
carried it as a dashed dark line along their edge. The pixels a pixel or more inside the edge, and the
outline beside the backdrop, keep the picture's colours.
"""

from __future__ import annotations

import cv2
import numpy as np

RIM_FAR = 40.0  # RGB distance from the arm's own colour beyond which a feathered pixel is not the arm's
RIM_EDGE = 0.5  # the most opacity such a pixel keeps right beside the arm's edge


def own_rim(
    bgr: np.ndarray, grown: np.ndarray, region: np.ndarray, opacity: np.ndarray, character: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(`opacity`, an arm layer's, without its feathered pixels past `grown` (its region grown by a
    pixel) that lie on the `character` and are far in colour (bgr) from the arm's nearest own pixel;
    `bgr` with what the arm keeps of such pixels in that own colour: the arm's colours once it has
    moved away from them)."""
    rows, cols = np.nonzero((opacity > 0.0) | region)
    if not len(rows):
        return opacity, bgr
    # worked out in the box of what the arm covers, a pixel round it (the erosion and dilations)
    h, w = region.shape
    box = (slice(max(0, rows.min() - 2), min(h, rows.max() + 3)), slice(max(0, cols.min() - 2), min(w, cols.max() + 3)))
    got = _own_rim(bgr[box], grown[box], region[box], opacity[box], character[box])
    if got is None:
        return opacity, bgr
    out, colour = opacity.copy(), bgr.copy()
    out[box], colour[box] = got
    return out, colour


def _own_rim(
    bgr: np.ndarray, grown: np.ndarray, region: np.ndarray, opacity: np.ndarray, character: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """own_rim in a box of the picture holding all the arm covers; None: nothing changes."""
    inner = cv2.erode(region.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    rim = (opacity > 0.0) & ~region & character
    if not inner.any() or not rim.any():
        return None
    own, _ = nearest_colour(inner, bgr)
    far = rim & (np.linalg.norm(bgr - own, axis=-1) > RIM_FAR)
    # the pixel just past its edge stays half (the arm's outline not stair-stepped), the rest goes
    edge = cv2.dilate(grown.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    out = opacity.copy()
    beyond = far & ~grown
    out[beyond & edge] = np.minimum(out[beyond & edge], RIM_EDGE)
    out[beyond & ~edge] = 0.0
    colour = bgr.copy()
    kept = far & (out > 0.0)
    colour[kept] = own[kept]
    # the arm's own outermost pixel, where the body lay beside it, mixes the body's colour in too: in
    # the second colour it takes the colour of the arm two pixels in (a dashed dark line ran
    # along the half-figure's raised sleeve and cuff, her skirt's edge). Beside the backdrop it
    # stays: the backdrop's colour is out of it already, and a drawn figure's outline is its own.
    core = cv2.erode(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if core.any():
        beside_body = cv2.dilate((character & ~grown).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        deep, _ = nearest_colour(core, bgr)
        outline = region & ~inner & beside_body & (np.linalg.norm(bgr - deep, axis=-1) > RIM_FAR)
        colour[outline] = deep[outline]
    return out, colour


def nearest_colour(sure: np.ndarray, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the colour of the nearest `sure` pixel and its distance: a thin limb's own colour,
    where a mean over a wide window would mix in the torso beside it (and matte the limb half
    see-through)."""
    dist, labels = cv2.distanceTransformWithLabels(
        (~sure).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    lut = np.zeros((int(labels.max()) + 1, img.shape[-1]), np.float32)
    lut[labels[sure]] = img[sure]
    return lut[labels], dist
