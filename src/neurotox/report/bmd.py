"""Benchmark doses for in-vivo endpoints with a significant dose-related trend.

For each continuous endpoint × sex measured once (a single timepoint) whose
trend test is flagged at the highest dose, :func:`trend_bmds` fits the EPA
benchmark-dose models of :func:`neurotox.stats.benchmark_dose` to the group
summaries (n, mean, SD of the results, BMR = 1 SD); :func:`bmd_table` lists
the recommended model with BMD, BMDL and BMDU, and the dose-response figures
mark BMD and BMDL.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from collections.abc import Iterator

import pandas as pd

from neurotox.report.model import Cell, Row, Table
from neurotox.report.potency import is_concentration
from neurotox.report.tables import label_of, study_header
from neurotox.stats import BmdResult, benchmark_dose
from neurotox.study import StudySpec
from neurotox.vocab import Sex

log = logging.getLogger(__name__)

BmdKey = tuple[str, str, str, str]  # assay, endpoint, sex, timepoint


@contextlib.contextmanager
def _quiet_native_stdout() -> Iterator[None]:
    """Send what native code writes to standard output to /dev/null for the duration.

    pybmds' compiled optimiser prints, to stdout, one line per model about an
    optimisation algorithm it cannot use; the outcome of every fit is kept in the
    model table instead. Standard error is left alone.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to protect (closed descriptor)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _candidates(results: pd.DataFrame) -> list[tuple[BmdKey, pd.DataFrame]]:
    res = results[(results["data_type"] == "continuous") & (results["timepoint"] != "ALL")]
    n_tp = res.groupby(["assay", "endpoint"])["timepoint"].nunique()
    out = []
    for key, rows in res.groupby(["assay", "endpoint", "sex", "timepoint"], sort=True):
        if n_tp[(key[0], key[1])] != 1 or is_concentration(rows):
            continue
        top = rows.loc[rows["dose"].idxmax()]
        if isinstance(top["trend_flag"], str) and top["trend_flag"]:
            out.append((key, rows.sort_values("dose")))
    return out


def trend_bmds(results: pd.DataFrame) -> dict[BmdKey, BmdResult]:
    """BMD analyses of the single-timepoint continuous endpoints with a flagged trend."""
    out: dict[BmdKey, BmdResult] = {}
    for key, rows in _candidates(results):
        ok = rows["n"].astype(float) > 0
        rows = rows[ok & rows["sd"].astype(float).notna()]
        if len(rows) < 3:
            continue
        with _quiet_native_stdout():
            out[key] = benchmark_dose(rows["dose"].tolist(), rows["n"].tolist(),
                                      kind="continuous", mean=rows["mean"].tolist(),
                                      sd=rows["sd"].tolist())
    return out


def _g(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.3g}"


def bmd_table(bmds: dict[BmdKey, BmdResult], spec: StudySpec, number: int) -> Table:
    """Recommended benchmark-dose model per endpoint × sex: BMD, BMDL, BMDU."""
    unit = spec.groups[0].dose_unit
    rows = []
    for (assay, endpoint, sex, tp), r in bmds.items():
        where = Sex(sex).label if sex in {s.value for s in Sex} else sex
        where += "" if tp == "NA" else f", {tp}"
        pairs = [(r.model or "none viable", math.nan), (_g(r.bmd), r.bmd), (_g(r.bmdl), r.bmdl),
                 (_g(r.bmdu), r.bmdu), (r.reason, math.nan)]
        rows.append(Row((label_of(endpoint), assay.replace("_", " "), where),
                        tuple(Cell(t, {"value": v}) for t, v in pairs)))
    bmr = next(iter(bmds.values())).bmr if bmds else 1.0
    return Table(
        number=number, title="Benchmark doses of endpoints with a dose-related trend",
        kind="bmd", key="bmd", header={**study_header(spec), "Unit": unit},
        row_header=("Endpoint", "Assay", "Sex/timepoint"),
        columns=("Model", f"BMD ({unit})", f"BMDL ({unit})", f"BMDU ({unit})", "Selection"),
        rows=rows, number_fields=("value",),
        footnotes=[f"BMR = {bmr:g} SD of the control mean; models fitted with the US EPA "
                   "pybmds to group n, mean and SD; recommendation as in the EPA Benchmark "
                   "Dose Technical Guidance (2012)."])
