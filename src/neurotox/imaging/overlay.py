"""Field overlays: nuclei outlines, cell bodies and skeleton coloured by owning cell."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage.segmentation import find_boundaries

from neurotox.imaging.field import FieldLabels

_UNATTACHED = np.array([255, 255, 0], np.uint8)
_NUCLEUS = np.array([80, 160, 255], np.uint8)
_BODY = np.array([255, 255, 255], np.uint8)


def _grey(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    lo, hi = np.percentile(img, [1, 99.8])
    scaled = np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1) * 200
    return np.repeat(scaled.astype(np.uint8)[..., None], 3, axis=2)


def _palette(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    pal = rng.integers(60, 256, size=(n + 1, 3)).astype(np.uint8)
    pal[:, 0] = np.maximum(pal[:, 0], 150)
    return pal


def overlay_rgb(image: np.ndarray, labels: FieldLabels) -> np.ndarray:
    """RGB overlay (row, column, 3) of a field's segmentation.

    Nuclei outlines are blue, cell-body outlines white, skeleton pixels coloured
    by owning cell (one colour per cell), unattached skeleton yellow.
    """
    rgb = _grey(image)
    rgb[find_boundaries(labels.bodies, mode="inner")] = _BODY
    rgb[find_boundaries(labels.nuclei, mode="inner")] = _NUCLEUS
    owner = labels.skeleton_owner
    pal = _palette(int(owner.max()) if owner.size else 0)
    attached = owner > 0
    rgb[attached] = pal[owner[attached]]
    rgb[owner < 0] = _UNATTACHED
    return rgb


def overlay_png(image: np.ndarray, labels: FieldLabels) -> bytes:
    """PNG bytes of :func:`overlay_rgb`."""
    buf = io.BytesIO()
    Image.fromarray(overlay_rgb(image, labels)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()
