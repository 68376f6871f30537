"""Temporal smoothing of keypoint tracks: gap filling and the One Euro filter.

The One Euro filter (Casiez, Roussel, Vogel, CHI 2012) is a low-pass filter whose cut-off
rises with speed: still poses lose their jitter, fast moves keep their timing. Here it runs
over whole (T, J, 2) tracks at once, vectorised over the joints, in units the caller picks
(the engine passes coordinates divided by the body's torso length, so the parameters do
not depend on the picture's size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuro:
    """Parameters: min_cutoff (Hz) sets smoothing at rest, beta how fast the cut-off rises with
    speed (per unit/s), d_cutoff (Hz) the smoothing of the speed estimate itself."""

    min_cutoff: float = 1.5
    beta: float = 0.3
    d_cutoff: float = 1.0

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def filter(self, values: np.ndarray, times: np.ndarray) -> np.ndarray:
        """values (T, ...) sampled at times (T,) seconds -> filtered copy (same shape).

        NaN entries are passed through as NaN and do not disturb the state (fill gaps first
        for a continuous track).
        """
        values = np.asarray(values, dtype=np.float64)
        out = np.full_like(values, np.nan)
        if len(values) == 0:
            return out
        x_prev: np.ndarray | None = None
        dx_prev = np.zeros(values.shape[1:])
        t_prev = 0.0
        for i in range(len(values)):
            x = values[i]
            if x_prev is None:
                x_prev = x.copy()
                out[i] = x
                t_prev = float(times[i])
                continue
            dt = max(float(times[i]) - t_prev, 1e-4)
            t_prev = float(times[i])
            ok = np.isfinite(x)
            base = np.where(np.isfinite(x_prev), x_prev, x)
            dx = np.where(ok, (x - base) / dt, 0.0)
            a_d = self._alpha(self.d_cutoff, dt)
            dx_hat = a_d * dx + (1 - a_d) * dx_prev
            cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
            a = self._alpha(cutoff, dt)
            x_hat = a * x + (1 - a) * base
            x_prev = np.where(ok, x_hat, x_prev)
            dx_prev = np.where(ok, dx_hat, dx_prev)
            out[i] = np.where(ok, x_hat, np.nan)
        return out


def smooth_offline(values: np.ndarray, times: np.ndarray, f: OneEuro, pad_s: float = 0.5) -> np.ndarray:
    """Zero-lag smoothing of a whole recorded track: the One Euro filter run forward, then
    backward over its own output. A causal filter delays fast moves by a frame or two (measured
    on the sample dance: the result trailed the reference by 1/12 s); the backward pass undoes
    the delay, as filtfilt does for linear filters. Both ends are padded with an odd reflection
    of `pad_s` seconds (as filtfilt does) so the first and last frames are not pulled off.
    Needs the whole track, which the engine has."""
    values = np.asarray(values, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    n = len(values)
    if n < 3:
        return values.copy()
    dt = float(np.median(np.diff(times))) or 1.0 / 24
    pad = int(min(n - 1, max(1, round(pad_s / dt))))
    head = 2 * values[0] - values[pad:0:-1]
    tail = 2 * values[-1] - values[-2 : -pad - 2 : -1]
    ext = np.concatenate([head, values, tail])
    ext_t = times[0] + dt * np.arange(-pad, n + pad)
    forward = f.filter(ext, ext_t)
    back = f.filter(forward[::-1], ext_t[-1] - ext_t[::-1])[::-1]
    return back[pad : pad + n].copy()


def fill_gaps(track: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, ...) track with whole NaN rows -> (filled copy, (T,) bool: row was measured).

    Gaps inside are linearly interpolated between their neighbours; leading and trailing
    gaps take the nearest measured row. A track with no measured row is returned unchanged.
    """
    track = np.asarray(track, dtype=np.float64)
    flat = track.reshape(len(track), -1)
    measured = np.isfinite(flat).all(axis=1)
    if not measured.any() or measured.all():
        return track.copy(), measured
    idx = np.arange(len(track))
    good = idx[measured]
    filled = np.empty_like(flat)
    for c in range(flat.shape[1]):
        filled[:, c] = np.interp(idx, good, flat[good, c])
    return filled.reshape(track.shape), measured


def filled_in_time(values: np.ndarray | None, times: np.ndarray, share: float) -> np.ndarray | None:
    """`values` (sampled at `times`, nan where not read) with the gaps filled linearly in time; None
    when fewer than `share` of them were read (or there are none, or not one per time)."""
    if values is None or len(values) != len(times) or not len(values):
        return None
    read = np.isfinite(values)
    if read.mean() < share:
        return None
    return np.interp(times, times[read], values[read])


def jitter(track: np.ndarray) -> float:
    """Root mean square of the second difference (frame-to-frame acceleration) of a track."""
    track = np.asarray(track, dtype=np.float64)
    if len(track) < 3:
        return 0.0
    acc = track[2:] - 2 * track[1:-1] + track[:-2]
    acc = acc[np.isfinite(acc)]
    return float(np.sqrt(np.mean(acc**2))) if acc.size else 0.0
