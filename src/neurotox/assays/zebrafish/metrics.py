"""Per-larva locomotion metrics on a larva × bin matrix (pure NumPy, no I/O).

The matrix ``D`` holds distance per bin (mm), one row per larva, NaN where the
export has no value. ``starts``/``ends`` give each bin's time window in seconds.
A light schedule is a sequence of consecutive phases (name, light/dark,
duration) starting at ``t0``; a bin belongs to the phase containing its centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PhaseWindow:
    """One phase of the light schedule in absolute time (s)."""

    name: str
    light: bool
    start: float
    end: float


def phase_windows(phases: list[tuple[str, bool, float]], t0: float = 0.0) -> list[PhaseWindow]:
    """Absolute windows of consecutive phases ``(name, light, duration_s)`` from ``t0``."""
    out, t = [], t0
    for name, light, dur in phases:
        out.append(PhaseWindow(name, light, t, t + dur))
        t += dur
    return out


def bin_masks(starts: np.ndarray, ends: np.ndarray,
              windows: list[PhaseWindow]) -> dict[str, np.ndarray]:
    """Boolean mask over bins for each phase (bin centre inside the phase)."""
    centre = (np.asarray(starts, float) + np.asarray(ends, float)) / 2
    return {w.name: (centre >= w.start) & (centre < w.end) for w in windows}


def cycles(windows: list[PhaseWindow]) -> list[tuple[PhaseWindow, PhaseWindow]]:
    """Light phases paired with the dark phase that immediately follows them."""
    return [(a, b) for a, b in zip(windows, windows[1:], strict=False) if a.light and not b.light]


def transitions(windows: list[PhaseWindow], *, to_dark: bool
                ) -> list[tuple[PhaseWindow, PhaseWindow]]:
    """Adjacent phase pairs where light switches off (``to_dark``) or on."""
    return [(a, b) for a, b in zip(windows, windows[1:], strict=False)
            if a.light == to_dark and b.light != to_dark]


def phase_sum(D: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sum per larva over the bins of ``mask`` (NaN if any bin there is missing)."""
    return D[:, mask].sum(axis=1) if mask.any() else np.full(len(D), np.nan)


def trapezoid_auc(D: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Trapezoidal area under distance-per-bin over the bins of ``mask`` (unit mm*bin).

    Notes
    -----
    The x axis is the bin index (spacing 1), so the area of a phase of ``n``
    bins is the sum of its values minus half of the first and last bins.

    """
    if mask.sum() < 2:
        return np.full(len(D), np.nan)
    return np.trapezoid(D[:, mask], axis=1)


def window_sum(D: np.ndarray, starts: np.ndarray, ends: np.ndarray, a: float,
               b: float) -> np.ndarray:
    """Distance per larva in the time window [a, b) from whole bins inside it."""
    centre = (starts + ends) / 2
    mask = (centre >= a) & (centre < b)
    return phase_sum(D, mask)


def slope_per_min(D: np.ndarray, times_s: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Least-squares slope of distance per bin against time (min), per larva."""
    if mask.sum() < 2:
        return np.full(len(D), np.nan)
    x = times_s[mask] / 60.0
    y = D[:, mask]
    xc = x - x.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)


def epr_windows(activity: np.ndarray, seconds: np.ndarray,
                windows: dict[str, tuple[float, float]]) -> dict[str, np.ndarray]:
    """Mean per-second EPR activity per larva within each (first, last) second window."""
    out = {}
    for name, (a, b) in windows.items():
        mask = (seconds >= a) & (seconds <= b)
        out[name] = activity[:, mask].mean(axis=1) if mask.any() else np.full(len(activity),
                                                                              np.nan)
    return out
