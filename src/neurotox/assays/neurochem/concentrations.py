"""Concentrations of wells and samples from a calibrated standard curve.

:func:`well_values` turns every well's signal into a concentration (× dilution)
with its status; :func:`sample_values` summarises replicate wells into one
censored value per sample and dilution (below the LLOQ left-censored at it,
above the ULOQ right-censored at it); :func:`choose_dilution` picks one
dilution per sample.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from neurotox.assays.neurochem.params import ImmunoassayParameters
from neurotox.assays.neurochem.quantify import Calibration
from neurotox.io.neurochem.base import SATURATED
from neurotox.stats.curves import ABOVE, BELOW, NO_SIGNAL, OK, Curve


def well_values(wells: pd.DataFrame, curve: Curve) -> pd.DataFrame:
    """Every well's back-calculated concentration × dilution and its status.

    Returns
    -------
    pandas.DataFrame
        The wells with ``concentration`` (NaN where not computable) and ``status``
        (``ok``, ``below_curve``, ``above_curve``, ``no_signal``).

    """
    y = wells["signal"].to_numpy(float)
    with np.errstate(all="ignore"):
        conc = curve.inverse(y) * wells["dilution"].to_numpy(float)
    return wells.assign(concentration=conc, status=curve.status(y))


SAMPLE_COLUMNS = ("plate", "analyte", "sample", "dilution", "wells", "n", "mean_signal", "cv",
                  "concentration", "value", "censoring", "status", "reason", "flags")


def sample_values(wells: pd.DataFrame, cal: Calibration,
                  params: ImmunoassayParameters) -> pd.DataFrame:
    """One value per sample and dilution: mean signal → concentration, censored at the limits.

    Notes
    -----
    Replicate wells are summarised by their mean signal (as Bio-Plex Manager
    does), back-calculated once; vendor outliers (``---``) and missing signals
    are left out. Below the LLOQ (or beyond the zero-concentration asymptote)
    the value is left-censored at LLOQ × dilution, or at LOD × dilution when the
    LOD lies above the LLOQ (:attr:`Calibration.reporting_limit`: a value below
    the LOD is not told from a blank, status ``below LOD``); above the ULOQ it is
    right-censored at ULOQ × dilution (or excluded, ``above_uloq``). Without a
    quantifiable range every value is excluded.

    A replicate read beyond the reader's range (:data:`SATURATED`, Gen5's
    ``OVRFLW``) has no number, but its signal is above anything the reader
    measures: the sample is censored at the high-signal end of the range (above
    the ULOQ on a rising curve, below the reporting limit on a falling one, as in
    a competitive assay) and flagged with how many of its wells were saturated.
    It is never dropped as missing, which would bias the group low.

    """
    smp = wells[wells["type"] == "sample"]
    if smp.empty:
        return pd.DataFrame(columns=list(SAMPLE_COLUMNS))
    ok = ~smp["vendor_excluded"] & np.isfinite(smp["signal"])
    use = smp.assign(sig=smp["signal"].where(ok), flag=smp["vendor_flag"].where(
        smp["vendor_flag"] != ""), saturated=smp["vendor_flag"].isin(SATURATED) & ~ok)
    g = use.groupby(["sample", "dilution"], sort=False)
    out = g.agg(wells=("well", ",".join), n=("sig", "count"), mean_signal=("sig", "mean"),
                sd=("sig", "std"), flags=("flag", _flags), saturated=("saturated", "sum"),
                n_wells=("well", "size")).reset_index()
    sat = out["saturated"] > 0
    out.loc[sat, "flags"] = (out.loc[sat, "flags"] + ", " + [
        f"{k} of {n} well(s) saturated" for k, n in
        zip(out.loc[sat, "saturated"], out.loc[sat, "n_wells"], strict=True)]).str.strip(", ")
    mean = out["mean_signal"].to_numpy(float)
    with np.errstate(all="ignore"):
        x = cal.curve.inverse(mean)
    out["concentration"] = x * out["dilution"]
    _censor(out, x, cal.curve.status(mean), cal, params)
    high_cv, cv_text = _replicate_cv(out, params.cv_limit)
    out.loc[high_cv, "flags"] = (out.loc[high_cv, "flags"] + ", " +
                                 cv_text[high_cv]).str.strip(", ")
    if params.exclude_high_cv_samples:
        hit = high_cv & (out["reason"] == "")
        out.loc[hit, "reason"] = "replicate CV above " + f"{params.cv_limit:g}%"
    return out.assign(plate=cal.plate, analyte=cal.analyte)[list(SAMPLE_COLUMNS)]


#: Wells of one sample and dilution from which a replicate CV above the limit is taken
#: for a dilution series read without its dilutions (3 replicates are the rule).
SERIES_WELLS = 4


def series_warnings(samples: pd.DataFrame, limit: float) -> list[str]:
    """Warnings for samples whose many 'replicates' look like a dilution series.

    A sample with :data:`SERIES_WELLS` or more wells at one dilution and a
    replicate CV above ``limit`` is what a dilution series read without its
    dilution factors gives (12 wells of 4 two-fold dilutions: CV about 70 %):
    their mean is no concentration of the sample. Flagging it only in
    ``neurochem_samples`` would let the run pass ``--warnings-as-errors``.
    """
    hit = samples[(samples["n"] >= SERIES_WELLS) & (samples["cv"] > limit)]
    if hit.empty:
        return []
    plate, analyte = hit["plate"].iloc[0], hit["analyte"].iloc[0]
    shown = "; ".join(f"{r['sample']!r} ({r['n']} wells {_short(r['wells'])} at 1:"
                      f"{r['dilution']:g}, CV {r['cv']:.0f}%)" for _, r in hit.head(5).iterrows())
    more = f" and {len(hit) - 5} more" if len(hit) > 5 else ""
    return [f"warning: plate {plate}, {analyte}: {len(hit)} sample(s) with {SERIES_WELLS} or "
            f"more wells at one dilution and a replicate CV above {limit:g}%: {shown}{more}: "
            "the signature of a dilution series read without its dilution factors, their mean "
            "is no concentration of the sample; give the dilutions (a dilution grid or column, "
            "the plate map or the sample sheet) or check the layout"]


def replicate_cv_note(samples: pd.DataFrame, params: ImmunoassayParameters) -> list[str]:
    """One note per plate and analyte counting the samples flagged for replicate CV.

    A **warning** when they are more than ``high_cv_share`` of the quantified samples
    with replicate wells (a plate-wide pipetting or washing problem), else a note;
    the first five are named with their CV. Samples censored at the curve's limits
    are named but do not count in that share: near or below the LLOQ the signal is
    mostly noise and a high replicate CV is expected. The flag itself is in
    ``neurochem_samples``.
    """
    flagged = samples["flags"].str.contains("replicate CV", regex=False)
    if not flagged.any():
        return []
    quantified = samples["censoring"].eq("none") if "censoring" in samples else flagged | True
    hit = samples[flagged]
    n_rep = int(((samples["n"] > 1) & quantified).sum())
    n_hit = int((flagged & quantified).sum())
    shown = "; ".join(f"{r['sample']!r} (1:{r['dilution']:g}, " + (
        f"CV {r['cv']:.0f}%)" if np.isfinite(r["cv"]) else "CV undefined, mean signal 0)")
        for _, r in hit.head(5).iterrows())
    more = f" and {len(hit) - 5} more" if len(hit) > 5 else ""
    kept = "excluded" if params.exclude_high_cv_samples else "flagged and kept"
    share = n_hit / n_rep if n_rep else 0.0
    warn = "warning: " if share > params.high_cv_share else ""
    censored = len(hit) - n_hit
    outside = (f"; {censored} more, censored at the curve's limits, are not counted in the "
               "share" if censored else "")
    return [f"{warn}plate {hit['plate'].iloc[0]}, {hit['analyte'].iloc[0]}: {n_hit} of "
            f"{n_rep} quantified samples with replicate wells ({share:.0%}) have a replicate "
            f"CV above {params.cv_limit:g}%{outside} ({kept}; high_cv_share "
            f"{params.high_cv_share:.0%}): {shown}{more}"]


def _short(wells: str) -> str:
    parts = wells.split(",")
    return ",".join(parts) if len(parts) <= 4 else f"{parts[0]}…{parts[-1]}"


def _replicate_cv(out: pd.DataFrame, limit: float) -> tuple[pd.Series, pd.Series]:
    """Set ``cv``; return which samples exceed ``limit`` and the flag text.

    Replicates whose mean signal is exactly 0 (background-subtracted signals
    such as xPONENT's Net MFI of +0.5 and -0.5) have no CV: ``cv`` stays empty,
    and they count as above the limit when the replicates differ (the limit of
    the CV as the mean approaches 0), not when they are equal.
    """
    mean, sd, n = out["mean_signal"], out["sd"], out["n"]
    zero = (n > 1) & (mean == 0)
    with np.errstate(all="ignore"):
        out["cv"] = np.where((n > 1) & ~zero, 100 * sd / mean.abs(), np.nan)
    spread = zero & (sd > 0)
    high = (out["cv"] > limit) | spread
    text = pd.Series("", index=out.index, dtype=object)
    finite = high & ~spread
    text[finite] = ["replicate CV " + f"{v:.0f}%" for v in out.loc[finite, "cv"]]
    text[spread] = ["replicate CV undefined (mean signal 0, SD " + f"{v:.3g})"
                    for v in sd[spread]]
    return high, text


def _flags(values: pd.Series) -> str:
    return ", ".join(f"vendor {f}" for f in sorted(set(values.dropna())))


def _censor(out: pd.DataFrame, x: np.ndarray, status: np.ndarray, cal: Calibration,
            params: ImmunoassayParameters) -> None:
    """Fill ``value``, ``censoring``, ``status`` and ``reason`` (vectorised)."""
    n = len(out)
    dil = out["dilution"].to_numpy(float)
    saturated = (out["saturated"] > 0).to_numpy()
    no_signal = (out["n"] == 0).to_numpy() & ~saturated
    floor = cal.reporting_limit
    with np.errstate(invalid="ignore"):
        below_lloq = (status == BELOW) | ((status == OK) & (x < cal.lloq * (1 - 1e-12)))
        below = below_lloq | ((status == OK) & (x < floor * (1 - 1e-12)))
        above = (status == ABOVE) | ((status == OK) & (x > cal.uloq * (1 + 1e-12)))
    if cal.rising:  # a saturated read is the highest signal: the top of the range
        above |= saturated
        below_lloq &= ~saturated
    else:
        below_lloq |= saturated
        above &= ~saturated
    below = below_lloq | (below & ~saturated)
    value = np.where(below, floor * dil, np.where(above, cal.uloq * dil, x * dil))
    censoring = np.where(below, "left", np.where(above, "right", "none")).astype(object)
    state = np.where(below_lloq, "below LLOQ", np.where(
        below, "below LOD", np.where(above, "above ULOQ", "quantified")))
    reason = np.full(n, "", dtype=object)
    if params.above_uloq == "exclude":
        reason[above] = "above the ULOQ (dilute and re-assay)"
    if not math.isfinite(cal.lloq):
        reason[:] = "no quantifiable range (standard curve failed)"
    reason[no_signal] = "no signal (every replicate missing or an outlier)"
    state = np.where(no_signal, NO_SIGNAL, state)
    drop = reason != ""
    value[drop] = np.nan
    censoring[drop] = "none"
    out["value"], out["censoring"], out["status"], out["reason"] = value, censoring, state, reason


def choose_dilution(rows: pd.DataFrame, ratio: float) -> tuple[pd.Series, str]:
    """The value to report for a sample measured at several dilutions, and a hook note.

    The lowest dilution that is quantified is reported; when the back-calculated
    concentration rises by more than ``ratio`` with dilution (a hook/prozone
    effect), the highest quantified dilution is reported and the sample flagged.
    Without a quantified dilution: the lowest left-censored bound, else the
    highest right-censored bound.
    """
    rows = rows.sort_values("dilution")
    ok = rows[(rows["censoring"] == "none") & (rows["reason"] == "") &
              np.isfinite(rows["value"])]
    if len(ok) >= 2 and ok["value"].iloc[-1] > ratio * ok["value"].iloc[0]:
        return ok.iloc[-1], (f"possible hook effect: {ok['value'].iloc[0]:.4g} at 1:"
                             f"{ok['dilution'].iloc[0]:g} but {ok['value'].iloc[-1]:.4g} at 1:"
                             f"{ok['dilution'].iloc[-1]:g}; the highest dilution reported")
    if len(ok):
        return ok.iloc[0], ""
    left = rows[rows["censoring"] == "left"]
    if len(left):
        return left.iloc[0], ""
    right = rows[rows["censoring"] == "right"]
    if len(right):
        return right.iloc[-1], ""
    return rows.iloc[0], ""


def pool_same_dilution(rows: pd.DataFrame, cv_limit: float) -> tuple[pd.DataFrame, list[str]]:
    """One row per dilution: quantified runs of a sample at one dilution averaged.

    A sample re-assayed on another plate at the same dilution is a replicate
    across plates, not a dilution series: its quantified values are averaged
    (their ``where`` joined) so that :func:`choose_dilution` compares dilutions
    only. Returns the rows and, per pooled dilution, a note — a ``warning:`` when
    the runs' CV exceeds ``cv_limit`` (%).
    """
    value = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    ok = (rows["censoring"] == "none") & (rows["reason"] == "") & np.isfinite(value)
    repeated = rows[ok].duplicated("dilution", keep=False)
    if not repeated.any():
        return rows, []
    keep, notes = [rows[~ok], rows[ok][~repeated]], []
    for dil, part in rows[ok][repeated].groupby("dilution", sort=True):
        values = part["value"].astype(float)
        mean = float(values.mean())
        cv = 100 * float(values.std(ddof=1)) / abs(mean) if mean else math.inf
        runs = ", ".join(f"{v:.4g}" for v in values)
        text = (f"measured on {len(part)} plates at 1:{dil:g} ({runs}; CV {cv:.0f} %); "
                f"their mean {mean:.4g} reported")
        notes.append(f"warning: {text}, the runs disagree (CV above cv_limit "
                     f"{cv_limit:g} %)" if cv > cv_limit else text)
        row = part.iloc[0].copy()
        row["value"], row["where"] = mean, " + ".join(part["where"].astype(str))
        keep.append(row.to_frame().T)
    return pd.concat(keep, ignore_index=True).astype(rows.dtypes.to_dict()), notes
