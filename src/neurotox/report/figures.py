"""Report figures (matplotlib, Agg backend only; no pyplot global state).

Plot helpers take ``ax=None`` and return ``(fig, ax)``. They draw what the
results say (means, SEM, flags) plus the individual values of the
EndpointTable; they compute no statistics. :func:`render` turns a figure into
PNG and SVG bytes without timestamps, so that reports are byte-reproducible.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from neurotox.report.model import ARROWS, Figure, natural_key, slug
from neurotox.report.potency import is_concentration
from neurotox.report.tables import SUMMARY_TYPES, blocks, label_of
from neurotox.stats import BmdResult
from neurotox.stats.hill import HillFit
from neurotox.study import StudySpec
from neurotox.vocab import Sex

_RC = {"svg.hashsalt": "neurotox", "svg.fonttype": "path", "font.size": 9,
       "axes.spines.top": False, "axes.spines.right": False}


def _new_axes(ax: Axes | None, size: tuple[float, float] = (5.0, 3.4)) -> tuple[MplFigure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = MplFigure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _group_order(results: pd.DataFrame, spec: StudySpec) -> list[str]:
    present = set(results["group"])
    return [g.id for g in spec.groups if g.id in present]


def group_means_plot(results: pd.DataFrame, values: pd.DataFrame, spec: StudySpec, *,
                     ax: Axes | None = None, ylabel: str = "") -> tuple[MplFigure, Axes]:
    """Group means ± SEM with the individual values, flags above significant groups.

    Parameters
    ----------
    results
        Results rows of one endpoint × sex × timepoint (one row per group).
    values
        EndpointTable rows of the same endpoint × sex × timepoint (excluded
        values are drawn as open grey circles).
    spec
        Study, for group order and labels.
    ax
        Axes to draw on; a new figure when None.
    ylabel
        Y-axis label.

    """
    fig, ax = _new_axes(ax)
    order = _group_order(results, spec)
    by_group = results.set_index("group")
    for x, gid in enumerate(order):
        r = by_group.loc[gid]
        ax.bar(x, r["mean"], width=0.6, color="#c6dbef", edgecolor="#08519c", zorder=1)
        ax.errorbar(x, r["mean"], yerr=r["sem"], color="#08519c", capsize=4, zorder=3)
        _points(ax, x, values[values["group"] == gid])
        if r["flag"]:
            top = max(float(r["mean"]) + float(np.nan_to_num(r["sem"])),
                      float(values.loc[values["group"] == gid, "value"].max())
                      if (values["group"] == gid).any() else float(r["mean"]))
            ax.annotate(f"{r['flag']}{ARROWS.get(r['direction'], '')}", (x, top),
                        ha="center", va="bottom", xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(order)), [_group_tick(spec, g) for g in order])
    ax.set_ylabel(ylabel)
    return fig, ax


def _group_tick(spec: StudySpec, gid: str) -> str:
    g = next(x for x in spec.groups if x.id == gid)
    return f"{g.id}\n{g.dose:g} {g.dose_unit}"


def _points(ax: Axes, x: float, rows: pd.DataFrame) -> None:
    kept = rows[~rows["excluded"]]["value"].to_numpy(dtype=float)
    dropped = rows[rows["excluded"]]["value"].to_numpy(dtype=float)
    for vals, style in ((kept, {"color": "black", "s": 10}),
                        (dropped, {"facecolors": "none", "edgecolors": "grey", "s": 14})):
        vals = vals[np.isfinite(vals)]
        if len(vals):
            offsets = np.linspace(-0.18, 0.18, len(vals)) if len(vals) > 1 else np.zeros(1)
            ax.scatter(x + offsets, vals, zorder=2, linewidths=0.8, **style)


def time_course_plot(results: pd.DataFrame, spec: StudySpec, *, ax: Axes | None = None,
                     ylabel: str = "") -> tuple[MplFigure, Axes]:
    """Group mean ± SEM over timepoints (repeated measures), one line per group.

    Means with censored values are marked with their count and side (``2>``: two
    values above the limit, entered at the limit).

    Parameters
    ----------
    results
        Results rows of one endpoint × sex, all timepoints (``ALL`` rows ignored).
    spec
        Study, for group order and labels.
    ax
        Axes to draw on; a new figure when None.
    ylabel
        Y-axis label.

    """
    fig, ax = _new_axes(ax, (6.0, 3.6))
    res = results[results["timepoint"] != "ALL"]
    tps = sorted(res["timepoint"].unique(), key=natural_key)
    pos = {t: i for i, t in enumerate(tps)}
    for gid in _group_order(res, spec):
        g = res[res["group"] == gid].sort_values("timepoint", key=lambda s: s.map(pos))
        x = g["timepoint"].map(pos).to_numpy(dtype=float)
        ax.errorbar(x, g["mean"], yerr=g["sem"], marker="o", ms=3, capsize=2, lw=1,
                    label=_group_tick(spec, gid).replace("\n", " "))
        for xi, (_, r) in zip(x, g.iterrows(), strict=True):
            if r["flag"]:
                ax.annotate(str(r["flag"]), (xi, r["mean"]), ha="center", va="bottom",
                            xytext=(0, 4), textcoords="offset points", fontsize=7)
            if r.get("n_censored", 0) > 0:  # "2>": two values censored above the limit
                sign = {"left": "<", "right": ">"}.get(str(r["censoring"]), "<>")
                ax.annotate(f"{int(r['n_censored'])}{sign}", (xi, r["mean"]), ha="left",
                            va="top", xytext=(3, -3), textcoords="offset points", fontsize=6,
                            color="0.3")
    step = max(1, len(tps) // 12)
    ax.set_xticks(range(0, len(tps), step), tps[::step], rotation=45, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, frameon=False)
    return fig, ax


def dose_response_plot(results: pd.DataFrame, values: pd.DataFrame, *,
                       curve: Callable[[np.ndarray], np.ndarray] | None = None,
                       markers: Sequence[tuple[str, float]] = (), ax: Axes | None = None,
                       xlabel: str = "Concentration", ylabel: str = "",
                       ) -> tuple[MplFigure, Axes]:
    """Concentration-response: individual values, group means ± SEM, optional fitted curve.

    Parameters
    ----------
    results
        Results rows of one endpoint × sex × timepoint.
    values
        EndpointTable rows of the same subset (empty: means only, as for incidence).
    curve
        Fitted response as a function of concentration (from the statistics), if any.
    markers
        ``(label, dose)`` of potency estimates (EC50, BMD, BMDL) to mark.
    ax
        Axes to draw on; a new figure when None.
    xlabel, ylabel
        Axis labels. Zero concentrations are drawn one decade below the lowest
        non-zero one, on a log axis.

    """
    fig, ax = _new_axes(ax)
    doses = results["dose"].to_numpy(dtype=float)
    positive = doses[doses > 0]
    zero_at = positive.min() / 10 if len(positive) else 1.0
    marked = [d for _, d in markers if math.isfinite(d) and d > 0]
    if marked and min(marked) < zero_at * 2:  # keep the controls left of every marker
        zero_at = min(marked) / 3

    def xpos(d: np.ndarray) -> np.ndarray:
        return np.where(d > 0, d, zero_at)

    if not values.empty:  # individual values (none for incidence)
        kept = values[~values["excluded"]]
        ax.scatter(xpos(kept["dose"].to_numpy(dtype=float)), kept["value"], s=8,
                   color="grey", zorder=1)
    order = np.argsort(doses)
    ax.errorbar(xpos(doses[order]), results["mean"].to_numpy(dtype=float)[order],
                yerr=results["sem"].to_numpy(dtype=float)[order], fmt="o", color="#08519c",
                capsize=3, zorder=3)
    if curve is not None and len(positive):
        grid = np.geomspace(zero_at, positive.max() * 1.5, 200)
        ax.plot(grid, curve(grid), color="#d94801", lw=1.2, zorder=2)
    for k, (label, dose) in enumerate(m for m in markers if math.isfinite(m[1]) and m[1] > 0):
        ax.axvline(dose, color="#d94801", ls="--" if k == 0 else ":", lw=0.8)
        ax.annotate(f"{label} = {dose:.3g}", (dose, ax.get_ylim()[1]), ha="left", va="top",
                    fontsize=7, xytext=(2, -3 - 10 * k), textcoords="offset points")
    if len(positive):
        _log_dose_axis(ax, zero_at, positive)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def _log_dose_axis(ax: Axes, zero_at: float, positive: np.ndarray) -> None:
    """Log dose axis whose first tick, where the controls are drawn, reads 0."""
    ax.set_xscale("log")
    lo, hi = np.floor(np.log10(positive.min())), np.ceil(np.log10(positive.max() * 1.5))
    decades = [10.0 ** e for e in np.arange(lo, hi + 1) if 10.0 ** e > zero_at * 2]
    decades = [d for d in decades if d <= positive.max() * 1.5]
    ax.set_xticks([zero_at, *decades], ["0", *(f"{d:g}" for d in decades)])
    ax.minorticks_off()


def render(fig: MplFigure) -> tuple[bytes, bytes]:
    """PNG and SVG bytes of a figure, without dates or software stamps."""
    png, svg = io.BytesIO(), io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


# ------------------------------------------------------------------ assembly

def _sex_label(sex: str) -> str:
    return Sex(sex).label if sex in {s.value for s in Sex} else sex


def _subset(table: pd.DataFrame, assay: str, endpoint: str, sex: str,
            timepoint: str | None = None) -> pd.DataFrame:
    m = (table["assay"] == assay) & (table["endpoint"] == endpoint)
    if sex != "NA":
        m &= table["sex"] == sex
    if timepoint is not None:
        m &= table["timepoint"] == timepoint
    return table[m]


def build_figures(results: pd.DataFrame, decisions: pd.DataFrame, table: pd.DataFrame,
                  spec: StudySpec, fits: dict | None = None,
                  bmds: dict | None = None) -> list[Figure]:
    """One figure per summary endpoint × sex (× timepoint for single-timepoint endpoints).

    Endpoints with several timepoints get a time-course plot; others a group-means
    plot, plus a concentration-response plot when doses are concentrations (with the
    Hill curve of ``fits``, from :func:`neurotox.report.potency.concentration_fits`),
    and a dose-response plot with BMD and BMDL marked for the endpoints in ``bmds``
    (from :func:`neurotox.report.bmd.trend_bmds`).
    """
    out: list[Figure] = []
    for block in blocks(results, decisions, SUMMARY_TYPES):
        for endpoint in block.endpoints:
            rows = block.results[block.results["endpoint"] == endpoint]
            unit = str(rows["unit"].iloc[0])
            ylabel = f"{label_of(endpoint)} ({unit})"
            title = f"{label_of(endpoint)} — {_sex_label(block.sex)}"
            base = f"{slug(block.assay)}-{slug(endpoint)}-{slug(block.sex)}"
            if block.by == "timepoint":
                fig, _ = time_course_plot(rows, spec, ylabel=ylabel)
                cens = ("; n> / n<: values censored above / below the limit, counted at it"
                        if rows.get("n_censored", pd.Series(dtype=float)).fillna(0).gt(0).any()
                        else "")
                out.append(_figure(fig, f"Time course of {title} (mean ± SEM{cens})",
                                   f"time-course-{base}", block.category))
                continue
            tp = str(rows["timepoint"].iloc[0])
            suffix = "" if tp == "NA" else f" — {tp}"
            values = _subset(table, block.assay, endpoint, block.sex, tp)
            fig, _ = group_means_plot(rows, values, spec, ylabel=ylabel)
            out.append(_figure(fig, f"{title}{suffix}: group means ± SEM and individual "
                               "values", f"groups-{base}", block.category))
            bmd = (bmds or {}).get((block.assay, endpoint, block.sex, tp))
            if bmd is not None:
                out.append(_bmd_figure(rows, values, bmd, f"{title}{suffix}", ylabel,
                                       f"bmd-{base}", block.category))
            if is_concentration(rows):
                fit = (fits or {}).get((block.assay, endpoint, block.sex, tp))
                out.append(_concentration_figure(rows, values, fit, f"{title}{suffix}", ylabel,
                                                 f"dose-response-{base}", block.category))
    out += _incidence_bmd_figures(results, bmds or {})
    for i, f in enumerate(out, start=1):
        f.number = i
    return out


def _concentration_figure(rows: pd.DataFrame, values: pd.DataFrame, fit: HillFit | None,
                          title: str, ylabel: str, key: str, category: str) -> Figure:
    if fit is None:
        fit = HillFit(math.nan, math.nan, math.nan, math.nan, (math.nan, math.nan),
                      flags=("not_fitted",))
    curve = fit.predict if fit.converged else None
    markers = [("EC50", fit.ec50)] if fit.converged else []
    unit = rows["dose_unit"].iloc[0]
    fig, _ = dose_response_plot(rows, values, curve=curve, markers=markers, ylabel=ylabel,
                                xlabel=f"Concentration ({unit})")
    how = (f"fitted four-parameter Hill curve, EC50 = {fit.ec50:.3g} {unit}"
           if fit.converged else "no Hill fit (" + ", ".join(fit.flags) + ")")
    return _figure(fig, f"{title}: concentration-response, {how}", key, category)


def _bmd_figure(rows: pd.DataFrame, values: pd.DataFrame, bmd: BmdResult, title: str,
                ylabel: str, key: str, category: str) -> Figure:
    unit = rows["dose_unit"].iloc[0]
    curve = None
    if len(bmd.curve):
        x, y = bmd.curve["dose"].to_numpy(float), bmd.curve["response"].to_numpy(float)

        def curve(g: np.ndarray) -> np.ndarray:
            return np.interp(g, x, y, left=np.nan, right=np.nan)

    if bmd.kind == "dichotomous":  # proportion affected per group, no individual 0/1 values
        rows = rows.assign(mean=rows["n_affected"].astype(float)
                           / rows["n_examined"].astype(float), sem=0.0)
        values = values.iloc[:0]
    fig, _ = dose_response_plot(rows, values, curve=curve,
                                markers=[("BMD", bmd.bmd), ("BMDL", bmd.bmdl)],
                                ylabel=ylabel, xlabel=f"Dose ({unit})")
    how = (f"{bmd.model} model, BMD = {bmd.bmd:.3g}, BMDL = {bmd.bmdl:.3g} {unit}"
           if bmd.model else "no viable benchmark-dose model")
    return _figure(fig, f"{title}: dose-response, {how}", key, category)


def _incidence_bmd_figures(results: pd.DataFrame, bmds: dict) -> list[Figure]:
    out = []
    for (assay, endpoint, sex, tp), bmd in sorted(bmds.items()):
        if bmd.kind != "dichotomous":
            continue
        rows = _subset(results, assay, endpoint, sex, tp)
        suffix = "" if tp == "NA" else f" — {tp}"
        title = f"{label_of(endpoint)} — {_sex_label(sex)}{suffix}"
        base = f"{slug(assay)}-{slug(endpoint)}-{slug(sex)}"
        out.append(_bmd_figure(rows, rows.iloc[:0], bmd, title, "Proportion affected",
                               f"bmd-{base}", str(rows["category"].iloc[0])))
    return out


def _figure(fig: MplFigure, title: str, key: str, category: str) -> Figure:
    png, svg = render(fig)
    return Figure(number=0, title=title, key=key, png=png, svg=svg, category=category)
