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
#: Outline of somata taken for non-neuronal cells (and dim somata): grey, no cell's colour.
_NON_NEURONAL = np.array([150, 150, 150], np.uint8)


def _grey(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    lo, hi = np.percentile(img, [1, 99.8])
    scaled = np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1) * 200
    return np.repeat(scaled.astype(np.uint8)[..., None], 3, axis=2)


#: Hue bands (degrees) kept for cell colours: none near yellow (unattached
#: skeleton, 60°) or the nuclear outline blue (213°), so no cell reads as either.
_CELL_HUES = np.concatenate([np.arange(0, 36, 12), np.arange(108, 180, 12),
                             np.arange(252, 360, 12)])


def _palette(n: int) -> np.ndarray:
    """Colour per cell label 1..n (row 0 unused): distinct hues, shuffled so neighbours differ."""
    from matplotlib.colors import hsv_to_rgb

    hues = np.random.default_rng(0).permutation(_CELL_HUES)
    hsv = np.ones((n + 1, 3))
    hsv[:, 0] = hues[np.arange(n + 1) % hues.size] / 360
    hsv[:, 2] = np.where((np.arange(n + 1) // hues.size) % 2, 0.7, 1.0)
    return (hsv_to_rgb(hsv) * 255).round().astype(np.uint8)


def overlay_rgb(image: np.ndarray, labels: FieldLabels) -> np.ndarray:
    """RGB overlay (row, column, 3) of a field's segmentation.

    Nuclei outlines are blue, cell-body outlines white, outlines of somata taken
    for non-neuronal cells grey, skeleton pixels coloured by owning cell (one
    colour per cell; no cell is yellow or blue), unattached skeleton yellow.
    """
    rgb = _grey(image)
    rgb[find_boundaries(labels.non_neuronal, mode="inner")] = _NON_NEURONAL
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


_PLATES = {96: (8, 12), 384: (16, 24)}


def plate_heatmap_png(values: dict[str, float], *, cell: int = 28, title: str = "") -> bytes:
    """PNG of a plate map: one square per well coloured by value (viridis), grey if missing.

    Parameters
    ----------
    values
        Well name (``A01``) → value; NaN or absent wells are grey.
    cell
        Square size in pixels.
    title
        Line above the map (what is shown: plate, timepoint, metric and unit).

    Notes
    -----
    Rows are lettered, columns numbered; the colour scale runs from the
    minimum to the maximum finite value, drawn as a bar at the right with both
    ends labelled, and a grey key says "no value".

    """
    from matplotlib import colormaps, font_manager
    from PIL import ImageDraw, ImageFont

    rows_n, cols_n = _PLATES[96 if all(ord(w[0]) - 64 <= 8 and int(w[1:]) <= 12
                                       for w in values) else 384]
    finite = np.array([v for v in values.values() if np.isfinite(v)], dtype=float)
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    # matplotlib's own DejaVu Sans: it has µ and %, which PIL's default font lacks
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), 11)
    top, left, bar = 40, 22, 90
    width = max(left + cols_n * cell + bar, int(font.getlength(title)) + 12)
    img = Image.new("RGB", (width, top + rows_n * cell + 26), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), title, fill="black", font=font)
    cmap = colormaps["viridis"]
    for c in range(cols_n):
        draw.text((left + c * cell + cell // 2, top - 4), str(c + 1), fill="black", font=font,
                  anchor="mb")
    for r in range(rows_n):
        draw.text((4, top + r * cell + cell // 3), chr(65 + r), fill="black", font=font)
        for c in range(cols_n):
            v = values.get(f"{chr(65 + r)}{c + 1:02d}", np.nan)
            if np.isfinite(v):
                rgba = cmap((v - lo) / (hi - lo) if hi > lo else 0.5)
                colour = tuple(int(255 * x) for x in rgba[:3])
            else:
                colour = (200, 200, 200)
            x0, y0 = left + c * cell, top + r * cell
            draw.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=colour)
    # colour bar: maximum at the top, minimum at the bottom
    x0, y0, y1 = left + cols_n * cell + 8, top, top + rows_n * cell - 2
    for y in range(y0, y1 + 1):
        rgba = cmap(1 - (y - y0) / max(y1 - y0, 1))
        draw.line([(x0, y), (x0 + 12, y)], fill=tuple(int(255 * x) for x in rgba[:3]))
    draw.text((x0 + 16, y0), f"{hi:.4g}", fill="black", font=font)
    draw.text((x0 + 16, y1), f"{lo:.4g}", fill="black", font=font, anchor="ld")
    key_y = top + rows_n * cell + 6
    draw.rectangle([left, key_y, left + 12, key_y + 12], fill=(200, 200, 200))
    draw.text((left + 18, key_y), "no value", fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
