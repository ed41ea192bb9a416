"""Nerve conduction velocities and amplitudes; intraepidermal nerve fibre density.

Motor NCV (sciatic/tibial) = distance between the two stimulation sites (mm) /
(proximal − distal CMAP onset latency, ms), in m/s. Sensory and caudal NCV =
distance (mm) / onset latency (ms). NCV falls with limb temperature; with a
temperature correction in the protocol each velocity is corrected linearly to
the reference temperature: ``v + per_degree × (reference − recorded)``.

IENFD = fibres crossing the dermal-epidermal junction / length of epidermis (mm)
per section, averaged per animal (Lauria et al. 2010, EFNS/PNS guideline).

References
----------
.. [1] Lauria G et al. (2010). European Federation of Neurological Societies/
   Peripheral Nerve Society guideline on the use of skin biopsy in the diagnosis of
   small fiber neuropathy. Eur J Neurol 17:903-912.

"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.errors import InputError
from neurotox.io.battery import header_of, where
from neurotox.io.cipn import AMPLITUDE_UNITS, fail_first

#: Test → (velocity endpoint, amplitude endpoint).
NCV_ENDPOINTS = {"ncv_motor": ("motor_ncv", "cmap_amplitude"),
                 "ncv_sensory": ("sensory_ncv", "snap_amplitude"),
                 "ncv_caudal": ("caudal_ncv", "caudal_amplitude")}


#: Plausible recording temperature (limb or tail, °C) of a nerve conduction study: a
#: temperature outside is a typo (350 for 35.0) or a wrong unit (°F), not a recording.
RECORDING_TEMPERATURE_C = (20.0, 42.0)


#: Conduction velocities a rodent nerve can have (m/s); outside, a unit slip (latencies in
#: s in a ``_ms`` column give thousands of m/s), not a recording.
PLAUSIBLE_NCV_M_S = (5.0, 150.0)


def _plausible(d: pd.DataFrame, test: str) -> None:
    """Refuse the first velocity outside :data:`PLAUSIBLE_NCV_M_S`, naming the likely slip."""
    lo, hi = PLAUSIBLE_NCV_M_S
    v = d["velocity"].to_numpy(float)
    bad = np.flatnonzero(~((v >= lo) & (v <= hi)))
    if not len(bad):
        return
    i = int(bad[0])
    col = "proximal_latency_ms" if test == "ncv_motor" else "latency_ms"
    slip = ("latencies in s, not ms? (or the distance in µm)" if v[i] > hi else
            "the distance in cm, not mm? (or latencies in µs)")
    factor, head, _ = d.attrs.get("scales", {}).get(col, (1.0, "", "ms"))
    if factor != 1.0 and lo <= v[i] * factor <= hi:   # the header's unit is the slip
        slip = (f"latencies in ms under the header {head!r} (converted × {factor:g})? "
                f"Read as ms they give {_sig(v[i] * factor)} m/s")
    lat = "proximal − distal latency" if test == "ncv_motor" else "latency"
    ms = d["latency_difference_ms" if test == "ncv_motor" else col].iloc[i]
    raise InputError(f"{test}: conduction velocity {_sig(v[i])} m/s (distance "
                     f"{d['distance_mm'].iloc[i]:g} mm, {lat} {ms:g} ms) is outside the "
                     f"rodent range {lo:g}-{hi:g} m/s: {slip}",
                     path=d.attrs.get("path"), where=where(d, i, header_of(d, col)))


def _sig(v: float) -> str:
    """``v`` to 3 significant digits, without an exponent below 1e6 (0.0381, 40000)."""
    return f"{float(f'{v:.3g}'):g}"


#: Amplitudes a rodent recording can have, in each test's unit (CMAP in mV, SNAP and caudal
#: nerve action potential in µV): the normal values below, widened to leave room for
#: young and small animals, mice, neuropathy (lower) and needle recordings (higher).
#: Rat caudal sensory NAP 29 ± 6 µV at 8 weeks to 85 ± 13 µV at 15 weeks (surface clips,
#: Wistar; Acta Cir Bras 2010;25:144, PMID 20305879); rat sciatic CMAP 5.98 ± 2.14 mV in
#: controls, 2.91 ± 1.37 mV at 12 weeks of diabetes (gastrocnemius; Tian, Cheng et al.,
#: MUNE in diabetic rats). Mouse normal values were not found in the sources searched;
#: mouse tail SNAPs fall with paclitaxel (Leandri et al. 2012, J Neurosci Methods
#: 209:403). Outside the range: a warning (a severe neuropathy, a recording fault); more
#: than 10× outside, or inside once read in the other unit (÷ or × 1000): a unit slip,
#: an error (a caudal NAP of 44.5 µV under a header in mV is 44 500 µV).
PLAUSIBLE_AMPLITUDE = {"ncv_motor": (0.5, 60.0), "ncv_sensory": (5.0, 300.0),
                       "ncv_caudal": (5.0, 300.0)}
#: What each test's amplitude is, as messages name it.
_POTENTIAL = {"ncv_motor": "a CMAP", "ncv_sensory": "a SNAP",
              "ncv_caudal": "a caudal nerve action potential"}
#: How far outside :data:`PLAUSIBLE_AMPLITUDE` a value is a unit slip, not a recording.
_SLIP_FACTOR = 10.0


def amplitude_check(d: pd.DataFrame, test: str) -> str:
    """Refuse an amplitude far outside :data:`PLAUSIBLE_AMPLITUDE`; a warning for the others.

    Returns
    -------
    str
        A ``warning: …`` note naming the rows moderately outside the range ("" if none).

    Raises
    ------
    InputError
        The first amplitude more than 10× outside the range, naming the row, the
        column and the likely unit (µV written under a header in mV, or mV in µV).

    """
    if "amplitude" not in d.columns:
        return ""
    lo, hi = PLAUSIBLE_AMPLITUDE[test]
    unit = AMPLITUDE_UNITS[test][0]
    a = d["amplitude"].to_numpy(float)
    other = _other_reading(d, test, a)
    with np.errstate(invalid="ignore"):
        out = np.isfinite(a) & ~((a >= lo) & (a <= hi))
        far = out & ((a < lo / _SLIP_FACTOR) | (a > hi * _SLIP_FACTOR)
                     | ((other >= lo) & (other <= hi)))
        out &= ~far
    head = header_of(d, "amplitude")
    span = f"the rodent range {lo:g}-{hi:g} {unit} of {_POTENTIAL[test]}"
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise InputError(f"{test}: amplitude {a[i]:g} {unit}{_as_written(d, test, a[i])} is "
                         f"outside {span}: {_amplitude_slip(d, test, a[i])}",
                         path=d.attrs.get("path"), where=where(d, i, head))
    if not out.any():
        return ""
    rows = [f"row {int(d['row'].iloc[i])}: {a[i]:g} {unit}" for i in np.flatnonzero(out)]
    more = f" … ({len(rows)} in all)" if len(rows) > 5 else ""
    return (f"warning: {test}: amplitude outside {span} ({'; '.join(rows[:5])}{more}), "
            f"column {head!r}; kept as recorded: check the recordings and the unit")


def _written_unit(d: pd.DataFrame, test: str) -> str:
    """The unit the amplitude cells are written in: the header's, else the test's."""
    unit = d.attrs.get("header_units", {}).get("amplitude", ("", ""))[0]
    return {"mv": "mV", "µv": "µV", "uv": "µV"}.get(unit, AMPLITUDE_UNITS[test][0])


def _factor(written: str, test: str) -> float:
    """Factor from ``written`` (mV or µV) to the test's unit."""
    return (1e3 if written == "mV" else 1.0) / AMPLITUDE_UNITS[test][1]


def _as_written(d: pd.DataFrame, test: str, value: float) -> str:
    """`` (written 44.5 mV)`` when the cell was converted, else ``""``."""
    written = _written_unit(d, test)
    factor = _factor(written, test)
    return "" if factor == 1.0 else f" (written {value / factor:g} {written})"


def _other_reading(d: pd.DataFrame, test: str, values: np.ndarray) -> np.ndarray:
    """The amplitudes as they would be had the cells been written in the other unit."""
    written = _written_unit(d, test)
    other = "µV" if written == "mV" else "mV"
    return values / _factor(written, test) * _factor(other, test)


def _amplitude_slip(d: pd.DataFrame, test: str, value: float) -> str:
    """The likely unit of an amplitude far out of range, when the other unit fits."""
    lo, hi = PLAUSIBLE_AMPLITUDE[test]
    written = _written_unit(d, test)
    other = "µV" if written == "mV" else "mV"
    fixed = float(_other_reading(d, test, np.array([value]))[0])
    said = "as the header says" if d.attrs.get("header_units", {}).get("amplitude") else (
        "as read without a unit in the header")
    if lo / _SLIP_FACTOR <= fixed <= hi * _SLIP_FACTOR:
        return (f"the {test} cells look like {other}, not {written} {said} "
                f"({fixed:g} {AMPLITUDE_UNITS[test][0]})")
    return f"not an amplitude in {written}; check the cells and the header's unit"


def _positive(df: pd.DataFrame, column: str, what: str) -> None:
    fail_first(df, ~(df[column].to_numpy(float) > 0), column,
               f"{what} must be a positive number")


def velocities(df: pd.DataFrame, test: str, correction: dict[str, float] | None) -> pd.DataFrame:
    """Conduction velocity (m/s) of every row of one NCV test, temperature-corrected on request.

    Returns
    -------
    pandas.DataFrame
        The rows with ``velocity`` (and ``latency_difference_ms`` for motor NCV).

    Raises
    ------
    InputError
        A distance or latency that is not positive, a proximal latency not above the
        distal one, a recording temperature outside :data:`RECORDING_TEMPERATURE_C`,
        a missing temperature when the protocol corrects for it, or a corrected
        velocity <= 0.

    """
    d = df.copy()
    _positive(d, "distance_mm", "distance")
    if test == "ncv_motor":
        _positive(d, "distal_latency_ms", "distal latency")
        diff = d["proximal_latency_ms"] - d["distal_latency_ms"]
        fail_first(d, ~(diff.to_numpy(float) > 0), "proximal_latency_ms",
                   "proximal latency must exceed the distal latency")
        d["latency_difference_ms"] = diff
        d["velocity"] = d["distance_mm"] / diff
    else:
        _positive(d, "latency_ms", "onset latency")
        d["velocity"] = d["distance_mm"] / d["latency_ms"]
    _plausible(d, test)
    if "temperature_c" in d.columns:
        lo, hi = RECORDING_TEMPERATURE_C
        t = d["temperature_c"].to_numpy(float)
        with np.errstate(invalid="ignore"):
            fail_first(d, np.isfinite(t) & ~((t >= lo) & (t <= hi)), "temperature_c",
                       f"recording temperature must be within {lo:g}-{hi:g} °C")
    if correction:
        if "temperature_c" not in d.columns or d["temperature_c"].isna().any():
            i = 0 if "temperature_c" not in d.columns else int(
                np.flatnonzero(d["temperature_c"].isna().to_numpy())[0])
            raise InputError("the protocol corrects NCV for temperature: a recorded "
                             "temperature (column 'temperature_c') is needed",
                             path=d.attrs.get("path"), where=where(d, i, "temperature_c"))
        d["velocity"] += correction["per_degree"] * (correction["reference_c"]
                                                     - d["temperature_c"])
        fail_first(d, ~(d["velocity"].to_numpy(float) > 0), "temperature_c",
                   f"the velocity corrected to {correction['reference_c']:g} °C is not "
                   "positive; check the recorded temperature, distance and latencies")
    return d


def fibre_density(df: pd.DataFrame) -> pd.DataFrame:
    """IENFD per animal × timepoint: mean over sections of fibres / length (fibres/mm).

    Returns
    -------
    pandas.DataFrame
        ``subject, timepoint, value, n_sections, rows``.

    """
    _positive(df, "length_mm", "epidermis length")
    f = df["fibres"].to_numpy(float)
    fail_first(df, ~((f >= 0) & (f == np.round(f))), "fibres",
               "fibre count must be a whole number >= 0")
    d = df.assign(_density=df["fibres"] / df["length_mm"])
    g = d.groupby(["subject", "timepoint"], sort=False)
    out = g.agg(value=("_density", "mean"), n_sections=("_density", "size"),
                first=("row", "min"), last=("row", "max"))
    out["rows"] = "rows " + out["first"].astype(str) + "-" + out["last"].astype(str)
    return out.drop(columns=["first", "last"]).reset_index()
