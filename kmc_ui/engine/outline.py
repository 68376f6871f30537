"""The body's outline where an arm hid it, carried straight across from where it shows.

An arm hanging beside the body, or a hand lying on the hip, hides the body's side. The body
layer is filled in under the arm (kmc_ui/engine/rig.py), but how far out? The grown torso hull
guesses, and where the guess is wider than the body a patch of fill sticks out once the arm moves
(a skin-coloured wedge beside the shorts); where it is narrower, the backdrop shows in a notch.
Here, across the torso's axis, each row's outermost body pixel is looked at on each side: where
the backdrop lies just beyond it, the outline shows; where an arm does, it is hidden. A run of
hidden rows between two rows where the outline shows takes the straight line between them, no
nearer the middle than the body's own pixels on that row: what of the arm lies inside is body
(filled in), what lies outside is not. Only below the armpits: at the shoulder the arm joins the
body and no row above shows where the body's side runs (the hull's guess stays there).

The line widens no faster than SLOPE from either end. A body's side is steep; where the two rows
lie far apart across (a waist above a forearm, a skirt's flare below it), the side runs down from
the narrower one and the outline steps out at the other, as a skirt's waistband does. The straight
line across them was a wedge of fill sticking out past the half-figure's waist once her arm rose.

An arm that hangs against the body from the armpit down (the man's, his hands over his shorts'
sides) leaves no row above that shows the side, only rows below. There the side is carried up from
the first row that shows it, along its own direction over the rows below (at most SLOPE a row), for
UP torso lengths and not above the armpits, and it only trims: what of the hull's guess lies past
it is not body (a rounded bulge beside his shorts), nothing is added inside it (the torso's side
under a hanging upper arm is rig.torso_sides' to judge).
"""

from __future__ import annotations

import numpy as np

ARMPIT = 0.3  # torso lengths below the shoulders' line where the outline may be carried across
SPAN = 0.8  # the longest hidden run (torso lengths) carried across
BEYOND = 2.0  # px past a row's outermost body pixel looked at: backdrop there shows the outline
SLOPE = 0.5  # px across per row: the most a carried outline widens from the row above or below
UP = 0.5  # torso lengths a side shown only below a hidden run is carried up into it


def hidden_outline(
    mask: np.ndarray, arms: np.ndarray, behind: np.ndarray, pts: dict[str, np.ndarray], torso: float
) -> np.ndarray:
    """`behind` (the arm pixels the body is filled in under) with, on the rows where an arm hid
    the body's side between two rows that show it, the arm pixels inside the straight outline
    added and those outside it left out. mask: the character; arms: the arms' opaque pixels."""
    out = behind.copy()
    top = 0.5 * (pts["11"] + pts["12"])
    bottom = 0.5 * (pts["23"] + pts["24"])
    down = bottom - top
    if float(np.linalg.norm(down)) < 1.0:
        return out
    down /= np.linalg.norm(down)
    across = np.array([-down[1], down[0]])
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return out
    p = np.stack([xs, ys], axis=1).astype(np.float64) - top
    u, v = p @ across, np.round(p @ down).astype(np.int64)
    is_arm = arms[ys, xs]
    body = ~is_arm
    v0 = int(v.min())
    rows = int(v.max()) - v0 + 1
    h, w = mask.shape
    first = round(ARMPIT * torso)
    sides: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for side in (1.0, -1.0):
        su = side * u
        # each row's outermost body pixel on this side
        edge = np.full(rows, -np.inf)
        np.maximum.at(edge, v[body] - v0, su[body])
        has_arm = np.zeros(rows, bool)
        has_arm[v[is_arm & (su > 0)] - v0] = True
        known = np.isfinite(edge)
        # does the backdrop lie just past it (the outline shows) or an arm (hidden)?
        q = top + (side * (edge[known] + BEYOND))[:, None] * across + (np.flatnonzero(known) + v0)[:, None] * down
        qx, qy = np.round(q[:, 0]).astype(int), np.round(q[:, 1]).astype(int)
        inside = (qx >= 0) & (qx < w) & (qy >= 0) & (qy < h)
        beyond_arm = np.zeros(len(q), bool)
        beyond_arm[inside] = arms[qy[inside], qx[inside]]
        shows = np.zeros(rows, bool)
        shows[np.flatnonzero(known)[~beyond_arm]] = True
        sides[side] = (su, edge, has_arm, shows)
    allowed = np.arange(rows) + v0 >= first
    for side, (su, edge, has_arm, shows) in sides.items():
        _, other, _, other_shows = sides[-side]
        mirrored = np.where(other_shows & allowed, other, np.nan)  # the other side's outline, across the axis
        carried = _carried(edge, shows, has_arm, allowed, SPAN * torso, UP * torso, mirrored)
        if carried is None:
            continue
        line, upward = carried
        # on the carried rows: arm pixels outside the line are not body, those inside are (on the
        # rows carried up from below, only what the hull already gave the body: the side is trimmed,
        # never widened, under an upper arm that hides it down from the armpit)
        r = v - v0
        on = np.isfinite(line[r]) & is_arm & (su > 0)
        # (within a millionth of a pixel: a side fitted straight reads 49 as 48.99999999999)
        inner = su <= np.maximum(line[r], np.where(np.isfinite(edge[r]), edge[r], -np.inf)) + 1e-6
        add = on & inner & ~upward[r]
        out[ys[add], xs[add]] = True
        out[ys[on & ~inner], xs[on & ~inner]] = False
    return out


def _carried(
    edge: np.ndarray,
    shows: np.ndarray,
    has_arm: np.ndarray,
    allowed: np.ndarray,
    span: float,
    up: float = 0.0,
    mirrored: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(per row, the outline across each run of rows with an arm where it does not show: straight
    between two rows where it does, or across the last `up` rows of a run with no such row above
    it, carried up from the row below along the side's own direction there, or, on a run that
    reaches the last row (the picture cuts the body off under the arm), the other side's outline
    `mirrored` across the body's axis where that shows (NaN elsewhere); the rows that only trim:
    carried up or mirrored), None when there is no such run."""
    line = np.full(len(edge), np.nan)
    upward = np.zeros(len(edge), bool)
    hidden = has_arm & ~shows
    i, n, found = 0, len(edge), False
    while i < n:
        if not hidden[i]:
            i += 1
            continue
        j = i
        while j < n and hidden[j]:
            j += 1
        a, b = i - 1, j  # the rows that bound the run
        if a >= 0 and b < n and shows[a] and shows[b] and allowed[a] and b - a <= span:
            rows = np.arange(i, j)
            t = (rows - a) / (b - a)
            straight = edge[a] + t * (edge[b] - edge[a])
            line[i:j] = np.minimum(straight, np.minimum(edge[a] + SLOPE * (rows - a), edge[b] + SLOPE * (b - rows)))
            found = True
        elif b < n and shows[b] and allowed[b] and up >= 1.0:
            # up along the side's own direction below (its fit over as many rows as it shows
            # for, up to `up`), widening or narrowing by SLOPE a row at most
            shown = shows[b : b + int(up)]
            below = b + (len(shown) if shown.all() else int(np.argmin(shown)))
            rows = np.arange(b, below)
            slope = float(np.polyfit(rows, edge[b:below], 1)[0]) if below - b >= 3 else 0.0
            top = max(i, b - int(up), int(np.argmax(allowed)))  # below the armpits only
            line[top:j] = edge[b] - np.clip(slope, -SLOPE, SLOPE) * (np.arange(top, j) - b)
            upward[top:j] = True
            found = True
        elif b >= n and mirrored is not None and np.isfinite(mirrored[i:j]).any():
            # no row below shows the side, nor can: an arm hanging against a waist-up body down
            # to the picture's bottom edge. The other side shows it: mirrored, from the first row
            # where it does down to the edge (straight across the rows where that side is hidden
            # too, held on its last below it)
            rows = np.arange(i, j)
            seen = np.isfinite(mirrored[i:j])
            rows = rows[rows >= rows[seen][0]]
            line[rows] = np.interp(rows, np.arange(i, j)[seen], mirrored[i:j][seen])
            upward[rows] = True
            found = True
        i = j
    return (line, upward) if found else None
