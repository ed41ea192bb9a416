"""Pixel size (µm) from the calibration image files carry: MetaMorph, OME, ImageJ, TIFF tags.

Every calibration is a length per pixel in some unit; the unit is converted to
µm through one table (:data:`LENGTH_UNITS_UM`) whichever format names it, so
an ImageJ ``unit=nm`` reads like an OME ``PhysicalSizeXUnit="nm"``. A file
that holds a calibration in a unit that is no length neurotox knows says so
(:func:`calibration_problem`), rather than passing for uncalibrated.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import tifffile

#: Plausible pixel sizes (µm); metadata outside is ignored as a default dpi.
PIXEL_SIZE_RANGE = (0.02, 50.0)

_MICRO = ("\u00b5", "\u03bc", "u")          # micro sign, Greek mu, ASCII u
#: Length units as microscope software and hand-edited ImageJ descriptions spell them
#: (lower case, spaces collapsed) → µm.
LENGTH_UNITS_UM: dict[str, float] = {
    **{f"{m}m": 1.0 for m in _MICRO},
    **dict.fromkeys(("micron", "microns", "micrometer", "micrometers", "micrometre",
                     "micrometres", "\\u00b5m", "\\u03bcm"), 1.0),
    **dict.fromkeys(("nm", "nanometer", "nanometers", "nanometre", "nanometres"), 1e-3),
    **dict.fromkeys(("pm", "picometer", "picometers", "picometre", "picometres"), 1e-6),
    **dict.fromkeys(("\u00e5", "\u212b", "angstrom", "angstroms", "\u00e5ngstr\u00f6m"), 1e-4),
    **dict.fromkeys(("mm", "millimeter", "millimeters", "millimetre", "millimetres"), 1e3),
    **dict.fromkeys(("cm", "centimeter", "centimeters", "centimetre", "centimetres"), 1e4),
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), 1e6),
    **dict.fromkeys(("in", "inch", "inches", '"'), 25400.0),
    "thou": 25.4, "mil": 25.4, "ft": 304800.0,
}
#: Print resolutions (dots per inch) image editors and office software stamp into the TIFF
#: resolution tags (72 and 96 screen, 150-1200 print, ...): a page setting, not a
#: microscope calibration (600 dpi would read as 42.3 µm per pixel).
PRINT_DPI = (72, 96, 100, 120, 144, 150, 180, 200, 240, 250, 300, 350, 360, 400, 480, 500,
             600, 720, 800, 1000, 1200, 1440, 2000, 2400, 2880, 3000, 3600, 4000, 4800)
#: Units saying that the image is not calibrated (ImageJ's default ``pixel``).
_UNCALIBRATED = {"", "pixel", "pixels", "px"}
#: The units a message offers as understood.
_SHOWN = "nm, µm (um, micron), mm, cm, m, inch"


def length_um(unit: str) -> float | None:
    """µm per ``unit`` (``"nm"`` → 0.001), None when ``unit`` is no known length."""
    return LENGTH_UNITS_UM.get(" ".join(str(unit).split()).lower())


def pixel_size_um(path: str | Path) -> float | None:
    """Pixel size (µm) from file metadata, or None when the file does not say.

    Looks at MetaMorph/MetaSeries spatial calibration, OME ``PhysicalSizeX``,
    ImageJ calibration (unit and resolution) and the TIFF resolution tags with
    an explicit inch/cm unit. Values outside :data:`PIXEL_SIZE_RANGE` (such as a
    default 72 dpi) are ignored; so is a calibration in an unknown unit
    (:func:`calibration_problem` names it).
    """
    value = _read(path)[0]
    if value is None or not PIXEL_SIZE_RANGE[0] <= value <= PIXEL_SIZE_RANGE[1]:
        return None
    return float(value)


def calibration_problem(path: str | Path) -> str | None:
    """Why the calibration the file holds gives no pixel size, or None.

    ``"its ImageJ calibration is in 'furlong', not a length unit neurotox
    converts (nm, µm ...)"`` when a unit is there but unknown. None when the file
    holds no calibration, a usable one, or one outside :data:`PIXEL_SIZE_RANGE`
    (a default 72 dpi: the caller says such values are ignored).
    """
    return _read(path)[1]


def _read(path: str | Path) -> tuple[float | None, str | None, float | None]:
    """(pixel size, calibration problem, pixel aspect) of a file: one read per file version."""
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        return None, None, None
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:                     # read_plane names the missing file
        return None, None, None
    return _read_tiff(str(path), stamp)


@functools.lru_cache(maxsize=256)
def _read_tiff(path: str, mtime_ns: int) -> tuple[float | None, str | None, float | None]:
    size, problem, aspect = None, None, None
    try:        # damaged metadata: no calibration (read_plane names the damage)
        with tifffile.TiffFile(path) as tif:
            size, problem = _metadata_pixel_size(tif)
            aspect = _aspect(tif)
    except Exception:  # noqa: BLE001
        pass
    return size, problem, aspect


def _unknown(what: str, unit: str) -> tuple[None, str]:
    return None, (f"its {what} calibration is in {unit!r}, not a length unit neurotox "
                  f"converts ({_SHOWN})")


def _metadata_pixel_size(tif: tifffile.TiffFile) -> tuple[float | None, str | None]:
    if tif.is_metaseries:
        info = tif.metaseries_metadata.get("PlaneInfo", {})
        if info.get("spatial-calibration-state") and "spatial-calibration-x" in info:
            return float(info["spatial-calibration-x"]), None
    if tif.is_ome and tif.ome_metadata:
        pixels = re.search(r"<(?:\w+:)?Pixels\b[^>]*>", tif.ome_metadata)
        unit = re.search(r'PhysicalSizeXUnit="([^"]*)"', pixels.group(0) if pixels else "")
        name = unit.group(1) if unit else "µm"              # OME default: µm
        if length_um(name) is None and "PhysicalSizeX=" in (pixels.group(0) if pixels else ""):
            return _unknown("OME", name)
        size = _ome_size(tif.ome_metadata, "X")
        if size is not None:
            return size, None
    return _resolution_pixel_size(tif)


def _ome_size(ome: str, axis: str) -> float | None:
    """OME ``PhysicalSize<axis>`` of the first image in µm (None: absent or unknown unit)."""
    pixels = re.search(r"<(?:\w+:)?Pixels\b[^>]*>", ome)
    tag = pixels.group(0) if pixels else ""
    m = re.search(rf'PhysicalSize{axis}="([0-9.eE+\-]+)"', tag)
    unit = re.search(rf'PhysicalSize{axis}Unit="([^"]*)"', tag)
    factor = length_um(unit.group(1) if unit else "µm")  # OME default: µm
    return None if m is None or factor is None else float(m.group(1)) * factor


def _resolution_pixel_size(tif: tifffile.TiffFile) -> tuple[float | None, str | None]:
    """ImageJ calibration (unit + resolution), else the TIFF resolution tags (inch, cm)."""
    tags = tif.pages.first.tags
    if "XResolution" not in tags:
        return None, None
    num, den = tags["XResolution"].value
    per_unit = num / den if den else 0.0
    if per_unit <= 0:
        return None, None
    unit = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else 2
    ij_unit = str((tif.imagej_metadata or {}).get("unit", "")).strip()
    if ij_unit.lower() not in _UNCALIBRATED:
        factor = length_um(ij_unit)
        return _unknown("ImageJ", ij_unit) if factor is None else _not_print(factor / per_unit,
                                                                              factor)
    if int(unit) in (2, 3):
        return _not_print((25400.0 if int(unit) == 2 else 10000.0) / per_unit, 25400.0)
    return None, None


def _not_print(size: float, unit_um: float) -> tuple[float | None, str | None]:
    """``(size, None)``, or no size and why when it is a print resolution (:data:`PRINT_DPI`).

    Only resolutions per inch or centimetre are print settings; an ImageJ
    calibration in µm or nm is a measurement whatever its value.
    """
    if unit_um not in (25400.0, 10000.0):
        return size, None
    dpi = 25400.0 / size
    if any(abs(dpi - d) <= 0.005 * d for d in PRINT_DPI):
        return None, (f"its resolution {dpi:.0f} dpi ({size:.4g} µm per pixel) is a print "
                      "setting, not a microscope calibration")
    return size, None


def pixel_aspect(path: str | Path) -> float | None:
    """The pixel height over its width from the file's calibration, None when square or unknown.

    Lengths are measured with one pixel size (the width): a field calibrated
    with taller pixels reads lengths along its columns short.
    """
    return _read(path)[2]


def _aspect(tif: tifffile.TiffFile) -> float | None:
    if tif.is_ome and tif.ome_metadata:
        x, y = (_ome_size(tif.ome_metadata, axis) for axis in "XY")
    else:
        tags = tif.pages.first.tags
        if "XResolution" not in tags or "YResolution" not in tags:
            return None
        (xn, xd), (yn, yd) = tags["XResolution"].value, tags["YResolution"].value
        x, y = (xd / xn if xn else None), (yd / yn if yn else None)
    if not x or not y or abs(y / x - 1) <= 0.01:
        return None
    return y / x
