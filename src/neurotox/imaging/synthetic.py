"""Synthetic two-channel neurite fields with known truth.

A field holds cells (nucleus + soma) with straight and curved neurites of known
length, some of them branched, some dim; pairs of touching nuclei; bright
debris in both channels; uneven illumination and an additive background
gradient; shot and read noise. Truth is measured on the drawn centre lines:
neurite length counts from the soma edge to the tip, inside the image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi

#: Physical sizes of the synthetic cells (µm).
NUCLEUS_RADIUS_UM = 5.0
SOMA_RADIUS_UM = 8.0
NEURITE_WIDTH_UM = 1.2


@dataclass
class SyntheticField:
    """One synthetic field and its truth.

    Attributes
    ----------
    nuclei, neurites
        ``uint16`` channel images (row, column).
    pixel_size
        µm per pixel.
    truth
        ``nuclei_count``, ``total_neurite_length_um`` and ``cells`` (list of
        per-cell dicts: ``row``, ``col``, ``neurite_length_um``, ``n_neurites``).

    """

    nuclei: np.ndarray
    neurites: np.ndarray
    pixel_size: float
    truth: dict = field(default_factory=dict)


@dataclass
class _Cell:
    row: float
    col: float
    length: float = 0.0
    n_neurites: int = 0


def _place_cells(rng: np.random.Generator, shape: tuple[int, int], n: int, touching: int,
                 px: float) -> list[_Cell]:
    """Cell centres at least two somata apart, plus ``touching`` pairs of touching nuclei."""
    margin = (SOMA_RADIUS_UM + 6) / px
    min_sep = 2 * SOMA_RADIUS_UM / px + 30 / px
    cells: list[_Cell] = []
    for _ in range(4000):
        if len(cells) >= n - touching:
            break
        r, c = rng.uniform(margin, shape[0] - margin), rng.uniform(margin, shape[1] - margin)
        if all(np.hypot(r - q.row, c - q.col) > min_sep for q in cells):
            cells.append(_Cell(r, c))
    for q in list(cells[:touching]):
        ang = rng.uniform(0, 2 * np.pi)
        d = 1.9 * NUCLEUS_RADIUS_UM / px
        cells.append(_Cell(q.row + d * np.sin(ang), q.col + d * np.cos(ang)))
    return cells


def _grow(rng: np.random.Generator, start: np.ndarray, angle: float, length_px: float,
          curvature: float, blocked, shape: tuple[int, int], step: float) -> np.ndarray:
    """Centre-line samples of one neurite, stopped at the border or near another soma."""
    n = int(length_px / step)
    pts = [start]
    pos, theta = start.astype(float), angle
    for _ in range(n):
        theta += curvature * step
        pos = pos + step * np.array([np.sin(theta), np.cos(theta)])
        if not (3 <= pos[0] < shape[0] - 3 and 3 <= pos[1] < shape[1] - 3) or blocked(pos):
            break
        pts.append(pos)
    return np.array(pts)


def _neurites_of(rng: np.random.Generator, cell: _Cell, cells: list[_Cell],
                 shape: tuple[int, int], px: float, scale: float,
                 dim_fraction: float = 0.3) -> list[tuple[np.ndarray, bool]]:
    """Paths (and dim flag) of one cell's neurites; updates the cell's truth."""
    soma = SOMA_RADIUS_UM / px
    keep_out = (SOMA_RADIUS_UM + 4) / px

    def blocked(pos: np.ndarray) -> bool:
        return any(np.hypot(pos[0] - q.row, pos[1] - q.col) < keep_out
                   for q in cells if q is not cell)

    paths = []
    for _ in range(int(rng.integers(1, 4))):
        angle = rng.uniform(0, 2 * np.pi)
        start = np.array([cell.row + soma * np.sin(angle), cell.col + soma * np.cos(angle)])
        length = scale * rng.uniform(25, 110) / px
        curv = 0.0 if rng.random() < 0.4 else rng.uniform(-1, 1) / (40 / px)
        if length < 2:
            continue
        dim = rng.random() < dim_fraction
        path = _grow(rng, start, angle, length, curv, blocked, shape, 0.25)
        if len(path) < 4:
            continue
        paths.append((path, dim))
        if rng.random() < 0.3 and len(path) > 80:
            at = path[len(path) // 2]
            branch = _grow(rng, at, angle + rng.choice([-1, 1]) * rng.uniform(0.5, 1.0),
                           scale * rng.uniform(15, 40) / px, 0.0, blocked, shape, 0.25)
            if len(branch) > 4:
                paths.append((branch[1:], dim))
    for path, _ in paths:
        cell.length += (len(path) - 1) * 0.25 * px
    cell.n_neurites = len(paths)
    return paths


def _splat(acc: np.ndarray, pts: np.ndarray, weight: float) -> None:
    """Add ``weight`` per sample to ``acc`` with bilinear weights."""
    r0, c0 = np.floor(pts[:, 0]).astype(int), np.floor(pts[:, 1]).astype(int)
    fr, fc = pts[:, 0] - r0, pts[:, 1] - c0
    for dr, dc, w in ((0, 0, (1 - fr) * (1 - fc)), (1, 0, fr * (1 - fc)),
                      (0, 1, (1 - fr) * fc), (1, 1, fr * fc)):
        np.add.at(acc, (r0 + dr, c0 + dc), weight * w)


def _disc(shape: tuple[int, int], r: float, c: float, ry: float, rx: float,
          angle: float = 0.0) -> np.ndarray:
    """Anti-aliased filled ellipse (0..1)."""
    rows, cols = np.ogrid[:shape[0], :shape[1]]
    dr, dc = rows - r, cols - c
    u = dr * np.cos(angle) + dc * np.sin(angle)
    v = -dr * np.sin(angle) + dc * np.cos(angle)
    d = np.sqrt((u / ry) ** 2 + (v / rx) ** 2)
    return np.clip((1 - d) * min(ry, rx) + 0.5, 0, 1)


def _illumination(shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Multiplicative vignetting (0.7..1) and an additive gradient (0..1)."""
    rows, cols = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    cr, cc = shape[0] * rng.uniform(0.3, 0.7), shape[1] * rng.uniform(0.3, 0.7)
    rad2 = ((rows - cr) ** 2 + (cols - cc) ** 2) / (max(shape) ** 2)
    vignette = 1.0 - 0.6 * rad2
    angle = rng.uniform(0, 2 * np.pi)
    grad = (rows * np.sin(angle) + cols * np.cos(angle)) / max(shape)
    return np.clip(vignette, 0.7, 1.0), grad - grad.min()


def _camera(signal: np.ndarray, rng: np.random.Generator, *, offset: float,
            read_noise: float) -> np.ndarray:
    noisy = signal + offset + rng.normal(0, 1, signal.shape) * np.sqrt(
        np.maximum(signal + offset, 0) + read_noise ** 2)
    return np.clip(noisy, 0, 65535).astype(np.uint16)


def synthetic_field(seed: int, *, shape: tuple[int, int] = (512, 512), pixel_size: float = 0.65,
                    n_cells: int = 12, touching_pairs: int = 2, neurite_scale: float = 1.0,
                    n_debris: int = 6, dim_fraction: float = 0.3, dim_amplitude: float = 220.0,
                    gradient: float = 300.0) -> SyntheticField:
    """Render a two-channel field with known neurite lengths and nuclei.

    Parameters
    ----------
    seed
        Random seed (same seed, same field).
    shape
        Image shape (rows, columns).
    pixel_size
        µm per pixel.
    n_cells
        Number of cells (nuclei), including the touching pairs.
    touching_pairs
        Pairs of cells whose nuclei touch.
    neurite_scale
        Multiplies every neurite length (0: no neurites), to mimic inhibition.
    n_debris
        Bright debris particles (in both channels).
    dim_fraction
        Probability that a neurite (with its branch) is dim.
    dim_amplitude
        Peak grey value of a dim neurite above background (bright ones: 700);
        the pixel noise sigma at the background is about 25.
    gradient
        Amplitude (grey values across the field) of the additive background
        gradient of the neurite channel (half of it in the nuclear channel), on
        top of the 30 % vignetting.

    Returns
    -------
    SyntheticField
        Images and truth.

    """
    rng = np.random.default_rng(seed)
    px = pixel_size
    cells = _place_cells(rng, shape, n_cells, touching_pairs, px) if n_cells else []
    soma_img = np.zeros(shape, np.float32)
    nuc_img = np.zeros(shape, np.float32)
    for cell in cells:
        soma_img += rng.uniform(900, 1400) * _disc(shape, cell.row, cell.col,
                                                   SOMA_RADIUS_UM / px, SOMA_RADIUS_UM / px)
        ry, rx = (NUCLEUS_RADIUS_UM / px) * rng.uniform(0.85, 1.15, 2)
        nuc_img += rng.uniform(1500, 2500) * _disc(shape, cell.row, cell.col, ry, rx,
                                                   rng.uniform(0, np.pi))
    np.minimum(soma_img, 1600, out=soma_img)
    acc_bright = np.zeros((shape[0] + 2, shape[1] + 2), np.float32)
    acc_dim = np.zeros_like(acc_bright)
    sigma = NEURITE_WIDTH_UM / px / 2.355
    for cell in cells:
        for path, dim in _neurites_of(rng, cell, cells, shape, px, neurite_scale,
                                      dim_fraction):
            _splat(acc_dim if dim else acc_bright, path, 0.25)
    peak = np.sqrt(2 * np.pi) * sigma
    neur = ndi.gaussian_filter(np.minimum(acc_bright[:-2, :-2], 1.5), sigma) * 700 * peak
    neur += ndi.gaussian_filter(np.minimum(acc_dim[:-2, :-2], 1.5), sigma) * dim_amplitude \
        * peak
    debris = np.zeros(shape, np.float32)
    for _ in range(n_debris):
        r, c = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        debris += 3000 * _disc(shape, r, c, *(rng.uniform(0.8, 1.6, 2) / px))
    vignette, grad = _illumination(shape, rng)
    neurite_ch = _camera(vignette * (ndi.gaussian_filter(soma_img, 1.0) + neur + debris)
                         + gradient * grad, rng, offset=400, read_noise=12)
    nuclei_ch = _camera(vignette * (ndi.gaussian_filter(nuc_img, 1.0) + debris)
                        + gradient / 2 * grad,
                        rng, offset=200, read_noise=10)
    truth = {
        "nuclei_count": len(cells),
        "total_neurite_length_um": float(sum(c.length for c in cells)),
        "cells": [{"row": c.row, "col": c.col, "neurite_length_um": c.length,
                   "n_neurites": c.n_neurites} for c in cells],
    }
    return SyntheticField(nuclei_ch, neurite_ch, pixel_size, truth)
