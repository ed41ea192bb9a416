"""Benchmark doses for in-vivo endpoints with a significant dose-related trend.

For each continuous or incidence endpoint × sex measured once (a single
timepoint) whose trend test is flagged at the highest dose, :func:`trend_bmds`
fits the EPA benchmark-dose models of :func:`neurotox.stats.benchmark_dose` to
the group summaries: continuous, n, mean and SD with BMR = 1 SD; incidence, n
examined and n affected with BMR = 10 % extra risk. :func:`bmd_table` lists the
recommended model with BMD, BMDL and BMDU, and the dose-response figures draw
the recommended model's curve and mark BMD and BMDL. The neuropathology's
any-finding summary is not modelled: it pools lesions of different tissues, and
each lesion with a trend has its own benchmark dose.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Future

import pandas as pd

from neurotox.endpoints import as_written
from neurotox.parallel import TaskPool, run_tasks
from neurotox.report.context import Context
from neurotox.report.labels import assay_label, unit_symbol
from neurotox.report.model import Cell, Row, Table, fmt, fmt_sig
from neurotox.report.pathology import ANY as ANY_FINDING
from neurotox.report.potency import is_concentration
from neurotox.report.tables import label_of, sex_and_timepoint, study_header
from neurotox.stats import BmdResult, benchmark_dose
from neurotox.study import StudySpec

#: BMD/BMDL ratio above which a BMD is flagged unreliable (EPA Benchmark Dose Technical
#: Guidance, 2012: a wide ratio signals an imprecise estimate).
MAX_BMD_BMDL_RATIO = 20.0

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
    res = results[results["data_type"].isin(("continuous", "incidence"))
                  & (results["timepoint"] != "ALL")]
    n_tp = res.groupby(["assay", "endpoint"])["timepoint"].nunique()
    out = []
    for key, rows in res.groupby(["assay", "endpoint", "sex", "timepoint"], sort=True):
        if n_tp[(key[0], key[1])] != 1 or is_concentration(rows) or key[1] == ANY_FINDING:
            continue
        top = rows.loc[rows["dose"].idxmax()]
        if isinstance(top["trend_flag"], str) and top["trend_flag"]:
            out.append((key, rows.sort_values("dose")))
    return out


def _task(key: BmdKey, rows: pd.DataFrame) -> tuple[BmdKey, list, list, dict] | None:
    if rows["data_type"].iloc[0] == "incidence":
        rows = rows[rows["n_examined"].astype(float) > 0]
        args = {"kind": "dichotomous", "incidence": rows["n_affected"].tolist()}
        n = rows["n_examined"]
    else:
        rows = rows[(rows["n"].astype(float) > 0) & rows["sd"].astype(float).notna()]
        # fitted to the n/mean/SD as results.csv writes them, so that pybmds on the written
        # table gives the same fit (its optimiser can land elsewhere for a 1e-10 change)
        args = {"kind": "continuous", "mean": as_written(rows["mean"]).tolist(),
                "sd": as_written(rows["sd"]).tolist()}
        n = rows["n"]
    if len(rows) < 3:
        return None
    return key, rows["dose"].tolist(), n.tolist(), args


def _fit(task: tuple[BmdKey, list, list, dict]) -> tuple[BmdKey, BmdResult]:
    key, doses, n, args = task
    with _quiet_native_stdout():
        return key, benchmark_dose(doses, n, **args)


def trend_bmds(results: pd.DataFrame, *, workers: int | None = 1) -> dict[BmdKey, BmdResult]:
    """BMD analyses of the single-timepoint continuous and incidence endpoints with a trend.

    Each endpoint is fitted once (about 1 s with pybmds); with ``workers`` > 1 the
    fits run in that many processes.
    """
    return dict(sorted(run_tasks(_fit, _tasks(results), workers=workers)))


def start_bmds(results: pd.DataFrame, pool: TaskPool) -> list[Future]:
    """The fits of :func:`trend_bmds`, submitted to ``pool``; collect with :func:`collect_bmds`."""
    return [pool.submit(_fit, t) for t in _tasks(results)]


def collect_bmds(started: list[Future]) -> dict[BmdKey, BmdResult]:
    """The results of :func:`start_bmds` (waiting for them), as :func:`trend_bmds` returns them."""
    return dict(sorted(f.result() for f in started))


def _tasks(results: pd.DataFrame) -> list[tuple[BmdKey, list, list, dict]]:
    return [t for t in (_task(k, rows) for k, rows in _candidates(results)) if t is not None]


def reliability(r: BmdResult, doses: list[float]) -> str:
    """Why a recommended BMD is unreliable or extrapolated (``""`` when it is neither).

    Flags, after the EPA Benchmark Dose Technical Guidance (2012): BMDL = 0 (or not
    estimated); BMD/BMDL ratio above :data:`MAX_BMD_BMDL_RATIO`; BMD above the
    highest dose; BMD more than 10-fold below the lowest non-zero dose.
    """
    if not r.model or not math.isfinite(r.bmd):
        return ""
    flags = []
    if not math.isfinite(r.bmdl) or r.bmdl <= 0:
        flags.append("unreliable: BMDL = 0")
    elif r.bmd / r.bmdl > MAX_BMD_BMDL_RATIO:
        flags.append(f"unreliable: BMD/BMDL = {fmt(r.bmd / r.bmdl, 0)} > {MAX_BMD_BMDL_RATIO:g}")
    positive = [d for d in doses if d > 0]
    if positive and r.bmd > max(positive):
        flags.append("BMD above the highest dose (extrapolated)")
    elif positive and r.bmd < min(positive) / 10:
        flags.append("BMD < 1/10 of the lowest dose (extrapolated)")
    return "; ".join(flags)


def censored_in_means(results: pd.DataFrame) -> dict[BmdKey, int]:
    """Per endpoint × sex × timepoint: censored values counted in the group means."""
    if "n_censored" not in results.columns:
        return {}
    n = pd.to_numeric(results["n_censored"], errors="coerce").fillna(0)
    sums = n.groupby([results[c] for c in ("assay", "endpoint", "sex", "timepoint")]).sum()
    return {key: int(v) for key, v in sums.items() if v > 0}


def censored_flag(n: int) -> str:
    """The BMD table's note that a fit rests partly on censored values (``""`` for none)."""
    return (f"fitted to means holding {n} censored value(s) at the value the censoring "
            "policy gives them (below a limit) or at the limit (above), not measured "
            "values") if n else ""


def _g(v: float) -> str:
    return "–" if not math.isfinite(v) else fmt_sig(v)


def bmd_table(bmds: dict[BmdKey, BmdResult], spec: StudySpec, number: int,
              ctx: Context | None = None, *,
              censored: dict[BmdKey, int] | None = None) -> Table:
    """Recommended benchmark-dose model per endpoint × sex: BMD, BMDL, BMDU, flags.

    With ``ctx`` timepoints and sexes are labelled as the other tables label them
    (the codes themselves when None). ``censored``: censored values counted in the
    fitted group means (:func:`censored_in_means`), said in the Reliability column.
    """
    censored = censored or {}
    unit = unit_symbol(spec.groups[0].dose_unit)
    doses = [g.dose for g in spec.groups]
    rows = []
    for (assay, endpoint, sex, tpc), r in bmds.items():
        where = sex_and_timepoint(sex, tpc, assay, ctx)
        flag = "; ".join(x for x in (reliability(r, doses), censored_flag(
            censored.get((assay, endpoint, sex, tpc), 0))) if x)
        pairs = [(_bmr_text(r), math.nan), (r.model or "none viable", math.nan),
                 (_g(r.bmd), r.bmd), (_g(r.bmdl), r.bmdl), (_g(r.bmdu), r.bmdu),
                 (flag, math.nan), (r.reason, math.nan)]
        rows.append(Row((label_of(endpoint), assay_label(assay), where),
                        tuple(Cell(t, {"value": v}, flag="!" if (k == 5 and t) else "")
                              for k, (t, v) in enumerate(pairs))))
    return Table(
        number=number, title="Benchmark doses of endpoints with a dose-related trend",
        kind="bmd", key="bmd", header={**study_header(spec), "Unit": unit},
        row_header=("Endpoint", "Assay", "Sex/timepoint"),
        columns=("BMR", "Model", f"BMD ({unit})", f"BMDL ({unit})", f"BMDU ({unit})",
                 "Reliability", "Selection"),
        rows=rows, number_fields=("value",),
        footnotes=["BMR: benchmark response, for continuous endpoints a change of the mean "
                   "by that many control SDs (fitted to group n, mean and SD), for "
                   "incidence endpoints the extra risk (fitted to n affected of n "
                   "examined). Models fitted and recommended with the US EPA pybmds "
                   "(its recommender, the BMDS logic: a model with BMDL = 0 is not viable; "
                   "EPA Benchmark Dose Technical Guidance 2012).",
                   "Reliability: BMDL = 0 or a BMD/BMDL ratio above "
                   f"{MAX_BMD_BMDL_RATIO:g} make the BMD unreliable; a BMD above the highest "
                   "dose or below a tenth of the lowest dose is an extrapolation (EPA 2012). "
                   "Means holding censored values (below a limit: the censoring policy's "
                   "substitute; above: the limit) are fitted as they are, and the column "
                   "says how many."])


def _bmr_text(r: BmdResult) -> str:
    return f"{r.bmr:g} SD" if r.kind == "continuous" else f"{r.bmr:.0%} extra risk"
