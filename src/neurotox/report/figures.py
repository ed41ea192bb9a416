"""Report figures, drawn as scientists draw them (matplotlib, Agg backend, no pyplot).

- Group scatter: every individual value, the group mean with ± SD (or ± SEM,
  the spread the tables state), every tested dose labelled on the axis, the
  significance marks inside the frame.
- Time course: group means ± spread per timepoint; lines join timepoints of one
  session only (bins of a test session), never different sessions or cohorts.
- Concentration- and dose-response: individual values, means ± spread, the
  Hill curve or benchmark-dose model only where the fit is reported.
- Plate heatmaps: one square per well with a colour bar in the endpoint's unit.

Colours are the Okabe–Ito palette (distinguishable with colour-vision
deficiencies); PNG at 300 dpi beside an SVG of each figure. Plot helpers take
``ax=None`` and return ``(fig, ax)``; they draw what the results say and
compute no statistics. :func:`plan_figures` lists the figures of a report as
picklable jobs and :func:`render_figures` draws them, in parallel.
"""

from __future__ import annotations

import io
import math
import re
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from neurotox.report.context import Context
from neurotox.report.labels import TimepointLabels, dose_label, unit_symbol, with_unit
from neurotox.report.model import ARROWS, Figure, fmt_sig, slug
from neurotox.report.tables import (
    SIDED,
    SUMMARY_TYPES,
    blocks,
    label_of,
    with_included_values,
)
from neurotox.study import WELL_NAME, StudySpec
from neurotox.timepoints import TimeOrder, session_and_part

#: Okabe & Ito (2008) colour-blind-safe palette, control first (black), yellow left out
#: (too light on white).
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7",
           "#999999")
PNG_DPI = 300
_RC = {"svg.hashsalt": "neurotox", "svg.fonttype": "none", "font.size": 8,
       "axes.spines.top": False, "axes.spines.right": False, "font.family": "DejaVu Sans"}
_MARGINS = {"left": 0.15, "right": 0.97, "bottom": 0.2, "top": 0.9}


def _new_axes(ax: Any = None, size: tuple[float, float] = (5.0, 3.4),
              margins: dict | None = None) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(**(margins or _MARGINS))
    return fig, fig.add_subplot()


def colour(i: int) -> str:
    """Palette colour of the i-th group (control = 0)."""
    return PALETTE[i % len(PALETTE)]


def _present_groups(results: pd.DataFrame, spec: StudySpec) -> list[tuple[int, Any]]:
    present = set(results["group"])
    return [(i, g) for i, g in enumerate(spec.groups) if g.id in present]


def _group_tick(g: Any, width: int = 0) -> str:
    """Group ID over its dose; an ID longer than ``width`` characters wrapped (0: never)."""
    name = wrap_name(g.id, width) if width else g.id
    return f"{name}\n{dose_label(g.dose, g.dose_unit)}".strip()


def wrap_name(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken after ``_``, ``-`` or spaces.

    Group IDs are often one long word (``DRUG_10mgkg_ip_daily_day1_to_day21``):
    they are broken after a separator where one lies in the line, else at ``width``.
    No-break spaces hold a dose and its unit together.
    """
    lines: list[str] = []
    line = ""
    for piece in re.findall(r"[^ _\-]*[ _\-]*", text):
        while len(line) + len(piece) > width and (line or len(piece) > width):
            if line:
                lines.append(line.rstrip())
                line = ""
            else:
                lines.append(piece[:width])
                piece = piece[width:]
        line += piece
    return "\n".join([*lines, line.rstrip()] if line.strip() else lines)


def _unbroken(text: str) -> str:
    """``text`` with no-break spaces (a dose with its unit is never wrapped apart)."""
    return text.replace(" ", "\u00a0")


def _grow_to_fit(fig: Any, ax: Any, top_in: float = 0.0) -> None:
    """Make the figure taller so that the axes' labels and ``top_in`` inches above fit.

    The axes keep their size in inches; the figure grows below (tick labels
    wrapped onto more lines) and above (``top_in``: a legend's height), never
    in width (text is wrapped to the width instead).
    """
    renderer = fig.canvas.get_renderer()
    dpi = fig.dpi
    width, height = fig.get_size_inches()
    box = ax.get_position()
    below = max(0.0, -ax.get_tightbbox(renderer).y0 / dpi + 0.04)
    above = max(0.0, top_in - (1 - box.y1) * height)
    if below <= 0 and above <= 0:
        return
    new = height + below + above
    fig.set_size_inches(width, new)
    fig.subplots_adjust(bottom=(box.y0 * height + below) / new,
                        top=(box.y1 * height + below) / new)


def error_bars(means: np.ndarray, errs: np.ndarray, floor: float | None) -> np.ndarray:
    """Lower and upper error-bar lengths (matplotlib's ``yerr``), cut at ``floor``.

    A quantity that cannot go below ``floor`` (the registry's ``minimum``: 0 for
    a threshold in g or a concentration) has no bar below it: mean 0.2 ± 0.5
    draws from 0 to 0.7. NaN spreads draw no bar.
    """
    means = np.asarray(means, float)
    errs = np.nan_to_num(np.asarray(errs, float))
    lower = errs if floor is None else np.clip(np.minimum(errs, means - floor), 0.0, None)
    return np.vstack([np.nan_to_num(lower), errs])


def bars_cut(rows: pd.DataFrame, spread: str, floor: float | None) -> bool:
    """Whether any mean − spread of ``rows`` lies below ``floor`` (its bar is cut)."""
    if floor is None or spread not in rows or not len(rows):
        return False
    low = pd.to_numeric(rows["mean"], errors="coerce") - pd.to_numeric(rows[spread],
                                                                       errors="coerce")
    return bool((low < floor).any())


def value_floor(endpoint: str) -> float | None:
    """The lowest value an endpoint can take (registry ``minimum``), or None."""
    from neurotox import endpoints as ep_registry

    reg = ep_registry.registry().get(endpoint)
    return None if reg is None or reg.minimum is None else float(reg.minimum)


def _jitter(n: int, width: float = 0.16) -> np.ndarray:
    """Deterministic horizontal offsets spreading n points symmetrically."""
    return np.linspace(-width, width, n) if n > 1 else np.zeros(max(n, 0))


def _marks_inside(ax: Any, marks: list[tuple[float, float, str]], top: float,
                  bottom: float) -> None:
    """Write significance marks above their points and keep them inside the axes frame."""
    span = (top - bottom) or abs(top) or 1.0
    for x, y, text in marks:
        ax.text(x, y + 0.03 * span, text, ha="center", va="bottom", fontsize=8)
    ax.set_ylim(bottom - 0.05 * span, top + (0.14 if marks else 0.06) * span)


def group_means_plot(results: pd.DataFrame, values: pd.DataFrame, spec: StudySpec, *,
                     ax: Any = None, ylabel: str = "", spread: str = "sd",
                     floor: float | None = None) -> tuple[Any, Any]:
    """Group scatter: individual values, mean ± SD (or SEM), significance marks.

    Parameters
    ----------
    results
        Results rows of one endpoint × sex × timepoint (one row per group).
    values
        EndpointTable rows of the same endpoint × sex × timepoint (excluded
        values are drawn as open grey circles; values censored below / above a
        limit, EndpointTable ``censoring`` left / right, as open triangles ▽ / △
        in the group's colour, at the value recorded).
    spec
        Study, for group order, doses and labels.
    ax
        Axes to draw on; a new figure when None.
    ylabel
        Y-axis label.
    spread
        ``sd`` or ``sem``: the error bar, as in the tables.
    floor
        Lowest possible value (registry ``minimum``): error bars are cut there.

    """
    own = ax is None
    fig, ax = _new_axes(ax)
    by_group = results.set_index("group")
    groups = _present_groups(results, spec)
    marks, tops, bottoms = [], [], []
    for x, (i, g) in enumerate(groups):
        r = by_group.loc[g.id]
        mine = values[values["group"] == g.id]
        kept = mine.loc[~mine["excluded"].astype(bool), "value"].to_numpy(float)
        dropped = mine.loc[mine["excluded"].astype(bool), "value"].to_numpy(float)
        side = (mine.loc[~mine["excluded"].astype(bool), "censoring"].astype(str).to_numpy()
                if "censoring" in mine else np.full(len(kept), "none"))
        ok = np.isfinite(kept)
        kept, side, dropped = kept[ok], side[ok], dropped[np.isfinite(dropped)]
        _individual_values(ax, x, kept, side, colour(i))
        if len(dropped):
            ax.scatter(x + _jitter(len(dropped)), dropped, s=16, facecolors="none",
                       edgecolors="grey", linewidths=0.8, zorder=2)
        mean, err = float(r["mean"]), float(np.nan_to_num(float(r[spread])))
        bar = error_bars(np.array([mean]), np.array([err]), floor)
        if math.isfinite(mean):
            ax.hlines(mean, x - 0.25, x + 0.25, color="black", lw=1.6, zorder=3)
            ax.errorbar(x, mean, yerr=bar, color="black", capsize=4, lw=1, zorder=3)
        shown = [v for v in (mean + err, mean - float(bar[0, 0]), *kept, *dropped)
                 if math.isfinite(v)]
        if not shown:
            continue
        tops.append(max(shown))
        bottoms.append(min(shown))
        if isinstance(r["flag"], str) and r["flag"]:
            marks.append((x, max(shown), f"{r['flag']}{ARROWS.get(r['direction'], '')}"))
    ax.set_xlim(-0.6, len(groups) - 0.4)
    if tops:
        _marks_inside(ax, marks, max(tops), min(bottoms))
    ax.set_ylabel(ylabel)
    _group_ticks(ax, [g for _, g in groups])
    if own:
        _grow_to_fit(fig, ax)
    return fig, ax


def _group_ticks(ax: Any, groups: list[Any]) -> None:
    """One tick per group (ID over dose), long IDs wrapped until the labels fit side by side.

    Fit: no two labels overlap and none crosses the figure's left or right edge.
    """
    renderer = ax.figure.canvas.get_renderer()
    right = ax.figure.bbox.width
    for width in (0, 40, 32, 26, 22, 18, 15, 12, 10, 8, 6):
        ax.set_xticks(range(len(groups)), [_group_tick(g, width) for g in groups])
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
        apart = all(a.x1 + 2 <= b.x0 for a, b in zip(boxes, boxes[1:], strict=False))
        if apart and boxes[0].x0 >= 0 and boxes[-1].x1 <= right:
            return


def _sessions(tps: list[str], times: TimeOrder | None = None) -> list[tuple[str, list[str]]]:
    """Timepoints grouped into sessions: ``week4_bin01`` belongs to session ``week4``.

    In time order: ``times`` (the results' :meth:`~neurotox.timepoints.TimeOrder.of`),
    else the labels'.
    """
    out: list[tuple[str, list[str]]] = []
    for tp in sorted(tps, key=(times or TimeOrder()).key):
        session, part = session_and_part(tp)
        session = "" if not part and re.match(r"^(bin|block)\d+$", tp, re.I) else session
        if out and out[-1][0] == session:
            out[-1][1].append(tp)
        else:
            out.append((session, [tp]))
    return out


def time_course_plot(results: pd.DataFrame, spec: StudySpec, *, ax: Any = None,
                     ylabel: str = "", spread: str = "sd",
                     labels: TimepointLabels | None = None,
                     floor: float | None = None) -> tuple[Any, Any]:
    """Group means ± spread over timepoints; lines only within a session.

    Means with censored values are marked with their count and side (``2>``: two
    values above the limit, entered at the limit; ``2<>``: two values censored,
    on both sides).

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
    spread
        ``sd`` or ``sem``.
    labels
        Timepoint labels (bin minutes); codes are shown when None.
    floor
        Lowest possible value (registry ``minimum``): error bars are cut there.

    """
    labels = labels or TimepointLabels()
    own = ax is None
    fig, ax = _new_axes(ax, (6.4, 3.6), {**_MARGINS, "bottom": 0.26, "top": 0.84})
    res = results[results["timepoint"] != "ALL"]
    assay = str(res["assay"].iloc[0]) if "assay" in res and len(res) else ""
    sessions = _sessions(list(res["timepoint"].unique()), TimeOrder.of(res))
    pos, x = {}, 0.0
    for _, tps in sessions:
        for tp in tps:
            pos[tp] = x
            x += 1
        x += 0.6  # gap between sessions
    groups = _present_groups(res, spec)
    dodge = 0.25 / max(len(groups), 1)
    marks: dict[str, list[tuple[str, str]]] = {}
    tops, bottoms = [], []
    for k, (i, g) in enumerate(groups):
        mine = res[res["group"] == g.id].set_index("timepoint")
        rows = mine.to_dict("index")  # one row per timepoint, read many times below
        off = (k - (len(groups) - 1) / 2) * dodge
        for s_idx, (_, tps) in enumerate(sessions):
            here = [t for t in tps if t in rows]
            means = np.array([rows[t]["mean"] for t in here], float)
            errs = np.nan_to_num(np.array([rows[t][spread] for t in here], float))
            bars = error_bars(means, errs, floor)
            ax.errorbar([pos[t] + off for t in here], means, yerr=bars, marker="o", ms=3,
                        capsize=2, lw=1, color=colour(i), ls="-" if len(here) > 1 else "none",
                        label=f"{g.id} {_unbroken(dose_label(g.dose, g.dose_unit))}".strip()
                        if s_idx == 0
                        else None)
            tops += list(means + errs)
            bottoms += list(means - bars[0])
            for t in here:
                flag = rows[t].get("flag")
                if isinstance(flag, str) and flag:
                    marks.setdefault(t, []).append((colour(i), flag))
                _censored_mark(ax, pos[t] + off, rows[t], colour(i))
    _time_marks(ax, pos, marks, tops, bottoms)
    _time_axis(ax, pos, sessions, labels, assay)
    ax.set_ylabel(ylabel)
    legend = _fitted_legend(fig, ax)
    if own:
        _grow_to_fit(fig, ax, legend.get_window_extent().height / fig.dpi + 0.08)
    return fig, ax


#: Characters of legend text (fontsize 7) across the widest (6.4 in) figure, handles left out.
_LEGEND_CHARS = 96


def _fitted_legend(fig: Any, ax: Any, most: int = 4) -> Any:
    """The groups' legend above the axes, within the figure's width.

    In up to ``most`` columns as written; where that is wider than the figure,
    in fewer columns with long entries wrapped (:func:`wrap_name`).
    """
    handles, texts = ax.get_legend_handles_labels()
    renderer = fig.canvas.get_renderer()
    scale = fig.get_size_inches()[0] / 6.4
    start = max(min(len(texts), most), 1)
    for ncol, wrapped in [(start, False), *((k, True) for k in range(start, 0, -1))]:
        width = max(8, int(_LEGEND_CHARS * scale / ncol) - 4)
        shown = [wrap_name(t, width) for t in texts] if wrapped else texts
        legend = fig.legend(handles, shown, loc="upper center", ncol=ncol, fontsize=7,
                            frameon=False)
        if legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width or ncol == 1:
            return legend
        legend.remove()
    return legend


def _censored_mark(ax: Any, x: float, r: Mapping[str, Any], color: str = "0.3") -> None:
    """``2>`` beside a mean with two values censored above the limit (``<``: below).

    Written in the group's colour, so that it is read with its own mean where
    the means of several groups lie close together.
    """
    n = r.get("n_censored", 0)
    if isinstance(n, (int, float)) and n > 0:
        sign = {"left": "<", "right": ">"}.get(str(r.get("censoring", "")), "<>")
        ax.annotate(f"{int(n)}{sign}", (x, r["mean"]), ha="left", va="top", xytext=(3, -3),
                    textcoords="offset points", fontsize=6, color=color)


def _time_marks(ax: Any, pos: dict[str, float], marks: dict[str, list[tuple[str, str]]],
                tops: list[float], bottoms: list[float]) -> None:
    """Significance marks above each timepoint, coloured by group, inside the frame."""
    finite = [t for t in tops if math.isfinite(t)]
    if not finite:
        return
    top, bottom = max(finite), min(b for b in bottoms if math.isfinite(b))
    span = (top - bottom) or abs(top) or 1.0
    height = max((len(v) for v in marks.values()), default=0)
    for tp, items in marks.items():
        for k, (col, flag) in enumerate(items):
            ax.text(pos[tp], top + (0.04 + 0.07 * k) * span, flag, ha="center", va="bottom",
                    fontsize=7, color=col)
    ax.set_ylim(bottom - 0.05 * span, top + (0.08 + 0.07 * height) * span)


def _time_axis(ax: Any, pos: dict[str, float], sessions: list[tuple[str, list[str]]],
               labels: TimepointLabels, assay: str) -> None:
    """Tick labels (bins within a session) and session names below them."""
    ticks = sorted(pos, key=pos.get)
    step = max(1, math.ceil(len(ticks) / 14))
    binned = any(len(tps) > 1 for _, tps in sessions)
    inner = [_bin_part(labels.label(t, assay)) if binned else labels.label(t, assay)
             for t in ticks]
    rotate = max((len(x) for x in inner), default=0) * len(ticks[::step]) > 90
    ax.set_xticks([pos[t] for t in ticks[::step]], inner[::step], fontsize=6.5,
                  rotation=45 if rotate else 0, ha="right" if rotate else "center")
    for session, tps in sessions:
        if len(tps) > 1 and session:
            mid = (pos[tps[0]] + pos[tps[-1]]) / 2
            ax.annotate(labels.label(session, assay), (mid, 0),
                        xycoords=("data", "axes fraction"), xytext=(0, -36 if rotate else -16),
                        textcoords="offset points", ha="center", va="top", fontsize=8,
                        fontweight="bold")


def _bin_part(label: str) -> str:
    """``Pre-test 0–10 min`` → ``0–10 min`` (the session is written below the axis)."""
    m = re.search(r"(\d[\d.]*–[\d.]+ min|Bin \d+|Block \d+)$", label)
    return m.group(1) if m else label


def dose_response_plot(results: pd.DataFrame, values: pd.DataFrame, *,
                       curve: tuple[Sequence[float], Sequence[float]] | None = None,
                       markers: Sequence[tuple[str, float]] = (), ax: Any = None,
                       xlabel: str = "Concentration", ylabel: str = "", spread: str = "sd",
                       note: str = "", floor: float | None = None) -> tuple[Any, Any]:
    """Concentration- or dose-response: individual values, means ± spread, optional curve.

    Parameters
    ----------
    results
        Results rows of one endpoint × sex × timepoint.
    values
        EndpointTable rows of the same subset (empty: means only, as for incidence).
    curve
        Fitted response ``(doses, responses)`` from the statistics, when reported.
    markers
        ``(label, dose)`` of potency estimates (EC50, BMD, BMDL) to mark.
    ax
        Axes to draw on; a new figure when None.
    xlabel, ylabel
        Axis labels. Zero doses are drawn one decade below the lowest non-zero
        one, on a log axis; every tested dose is labelled.
    spread
        ``sd`` or ``sem`` (error bars).
    note
        Text written inside the frame (e.g. "no concentration–response").
    floor
        Lowest possible value (registry ``minimum``): error bars are cut there.

    """
    fig, ax = _new_axes(ax)
    doses = results["dose"].to_numpy(dtype=float)
    positive = np.unique(doses[doses > 0])
    zero_at = positive.min() / 10 if len(positive) else 1.0
    marked = [d for _, d in markers if math.isfinite(d) and d > 0]
    if marked and min(marked) < zero_at * 2:  # keep the controls left of every marker
        zero_at = min(marked) / 3

    def xpos(d: np.ndarray) -> np.ndarray:
        return np.where(d > 0, d, zero_at)

    if not values.empty:
        kept = values[~values["excluded"].astype(bool)]
        ax.scatter(xpos(kept["dose"].to_numpy(dtype=float)), kept["value"], s=9,
                   color=PALETTE[7], alpha=0.8, linewidths=0, zorder=1)
    order = np.argsort(doses)
    means = results["mean"].to_numpy(dtype=float)[order]
    ax.errorbar(xpos(doses[order]), means,
                yerr=error_bars(means, results[spread].to_numpy(dtype=float)[order], floor),
                fmt="o",
                ms=4, color="black", capsize=3, zorder=3)
    if curve is not None and len(positive):
        ax.plot(xpos(np.asarray(curve[0], float)), curve[1], color=PALETTE[5], lw=1.3,
                zorder=2)
    lo, hi = ax.get_ylim()
    if lo > 0:  # responses on a ratio scale start at zero: a flat response looks flat
        lo = 0.0
    ax.set_ylim(lo, hi + (0.2 * (hi - lo) if note or markers else 0.0))
    if len(positive):
        _log_dose_axis(ax, zero_at, positive)
    for k, (label, dose) in enumerate(m for m in markers if math.isfinite(m[1]) and m[1] > 0):
        ax.axvline(dose, color=PALETTE[4], ls="--" if k == 0 else ":", lw=0.9)
        right = ax.get_xscale() == "log" and _axis_fraction(ax, dose) > 0.65
        # left of a line near the edge
        ax.text(dose, 0.97 - 0.08 * k, f" {label} = {fmt_sig(dose)} ",
                transform=ax.get_xaxis_transform(), ha="right" if right else "left", va="top",
                fontsize=7, color=PALETTE[4])
    if note:  # the short verdict in the frame, top left; the reason is in the caption
        ax.text(0.02, 0.97, note.split(" (")[0], transform=ax.transAxes, ha="left", va="top",
                fontsize=8, bbox={"facecolor": "white", "edgecolor": "#999999", "pad": 3})
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def _axis_fraction(ax: Any, dose: float) -> float:
    x0, x1 = (math.log10(v) for v in ax.get_xlim())
    return (math.log10(dose) - x0) / (x1 - x0)


def _log_dose_axis(ax: Any, zero_at: float, positive: np.ndarray) -> None:
    """Log dose axis with a tick at every tested dose; the control's reads 0."""
    ax.set_xscale("log")
    ax.set_xticks([zero_at, *positive], ["0", *(f"{d:g}" for d in positive)], fontsize=7)
    ax.minorticks_off()
    ax.set_xlim(zero_at / 2, positive.max() * 2)


def plate_heatmap(values: dict[str, float], *, ax: Any = None, unit: str = "",
                  title: str = "") -> tuple[Any, Any]:
    """Plate map: one square per well coloured by value, with a colour bar in ``unit``.

    Parameters
    ----------
    values
        Well (``A01``) → value; missing or NaN wells are grey.
    ax
        Axes to draw on; a new figure when None.
    unit
        Unit symbol of the colour bar.
    title
        Axes title.

    """
    big = any(ord(w[0]) - 64 > 8 or int(w[1:]) > 12 for w in values)
    rows_n, cols_n = (16, 24) if big else (8, 12)
    grid = np.full((rows_n, cols_n), np.nan)
    for well, v in values.items():
        grid[ord(well[0]) - 65, int(well[1:]) - 1] = v
    fig, ax = _new_axes(ax, (6.0, 3.6), {"left": 0.07, "right": 0.9, "bottom": 0.08,
                                          "top": 0.86})
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    img = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="equal")
    ax.set_xticks(range(cols_n), [str(c + 1) for c in range(cols_n)], fontsize=6)
    ax.set_yticks(range(rows_n), [chr(65 + r) for r in range(rows_n)], fontsize=6)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    bar = fig.colorbar(img, ax=ax, fraction=0.035, pad=0.02)
    bar.set_label(unit, fontsize=7)
    bar.ax.tick_params(labelsize=6)
    if title:
        ax.set_title(title, fontsize=8, pad=14)
    return fig, ax


def render(fig: Any) -> tuple[bytes, bytes]:
    """PNG (300 dpi) and SVG bytes of a figure, without dates or software stamps."""
    import matplotlib

    svg = io.BytesIO()
    with matplotlib.rc_context(_RC):
        png = _png(fig, PNG_DPI)
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png, svg.getvalue()


def _png(fig: Any, dpi: int) -> bytes:
    """The figure drawn by Agg at ``dpi``, as PNG with its resolution recorded.

    Encoded by libpng (imagecodecs) with the "sub" filter and zlib's run-length
    strategy: three times faster than the adaptive filtering of matplotlib's
    Pillow path, for files about half as large again (a report writes dozens).
    """
    import imagecodecs
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    shown = fig.dpi
    fig.set_dpi(dpi)
    try:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        data = imagecodecs.png_encode(np.asarray(canvas.buffer_rgba()), level=1,
                                      strategy=imagecodecs.PNG.STRATEGY.RLE,
                                      filter=imagecodecs.PNG.FILTER.SUB)
    finally:
        fig.set_dpi(shown)
    return _with_resolution(data, dpi)


def _with_resolution(png: bytes, dpi: int) -> bytes:
    """``png`` with a pHYs chunk (pixels per metre) after its header chunk."""
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, CRC
    return png[:end_of_header] + chunk + png[end_of_header:]


# ------------------------------------------------------------------ jobs

@dataclass
class FigureJob:
    """A figure to draw: which plot helper, with which data (picklable).

    Attributes
    ----------
    number, title, key, category
        As in :class:`~neurotox.report.model.Figure`.
    plot
        Name of the plot helper in :data:`PLOTS`, or ``module:function`` for a
        helper defined elsewhere (e.g. an assay family's report module).
    kwargs
        Its arguments (data frames, labels, spread).

    """

    number: int
    title: str
    key: str
    category: str
    plot: str
    kwargs: dict[str, Any] = field(default_factory=dict)


PLOTS: dict[str, Callable[..., tuple[Any, Any]]] = {
    "groups": group_means_plot, "time-course": time_course_plot,
    "dose-response": dose_response_plot, "heatmap": plate_heatmap,
}


def draw(job: FigureJob) -> Figure:
    """Draw and render one job (runs in a worker process)."""
    import matplotlib

    if ":" in job.plot:
        import importlib

        module, name = job.plot.split(":")
        plot = getattr(importlib.import_module(module), name)
    else:
        plot = PLOTS[job.plot]
    with matplotlib.rc_context(_RC):
        fig, _ = plot(**job.kwargs)
    png, svg = render(fig)
    return Figure(number=job.number, title=job.title, key=job.key, png=png, svg=svg,
                  category=job.category)


def render_figures(jobs: list[FigureJob], *, workers: int | None = None) -> list[Figure]:
    """Every job drawn, in number order (in ``workers`` processes)."""
    from neurotox.parallel import run_tasks

    if jobs:
        _warm_up()  # fonts and caches loaded once, inherited by the worker processes
    return sorted(run_tasks(draw, jobs, workers=workers), key=lambda f: f.number)


class FigureQueue:
    """Figures drawn in a :class:`~neurotox.parallel.TaskPool` while the caller goes on.

    :meth:`start` submits jobs as soon as they are known (before the final
    numbering); :meth:`figures` waits for the jobs of the final list, submitting
    those not started yet, and numbers the figures as that list does. A started
    job is reused for a job of the final list with the same key, plot and
    caption (a figure's drawing does not depend on its number).
    """

    def __init__(self, pool: Any):
        if not getattr(pool, "running", False):
            _warm_up()  # before the pool's processes are forked: they inherit the caches
        self.pool = pool
        self.started: dict[str, tuple[str, str, Any]] = {}

    def start(self, jobs: list[FigureJob]) -> None:
        """Submit the jobs not submitted yet (or submitted with another plot or caption)."""
        for job in jobs:
            if self.started.get(job.key, ("", "", None))[:2] != (job.plot, job.title):
                self.started[job.key] = (job.plot, job.title, self.pool.submit(draw, job))

    def pending(self, jobs: list[FigureJob]) -> list[Figure]:
        """The final list at once, as figures whose images are waited for when read.

        A renderer lays out what comes before a figure (the Word document's
        summary tables) while the pool is still drawing it.
        """
        self.start(jobs)
        return [PendingFigure(job, self.started[job.key][2]) for job in jobs]

    def figures(self, jobs: list[FigureJob]) -> list[Figure]:
        """Every job of the final list drawn, numbered and captioned as the list says."""
        self.start(jobs)
        out = []
        for job in jobs:
            fig = self.started[job.key][2].result()
            out.append(Figure(number=job.number, title=job.title, key=job.key, png=fig.png,
                              svg=fig.svg, category=job.category))
        return sorted(out, key=lambda f: f.number)


class PendingFigure(Figure):
    """A figure (number, caption, key) still being drawn: ``png`` and ``svg`` wait for it."""

    def __init__(self, job: FigureJob, future: Any):
        self.number, self.title, self.key = job.number, job.title, job.key
        self.category = job.category
        self._future = future

    @property  # type: ignore[override]
    def png(self) -> bytes:
        """The PNG, once drawn."""
        return self._future.result().png

    @property  # type: ignore[override]
    def svg(self) -> bytes:
        """The SVG, once drawn."""
        return self._future.result().svg


def _warm_up() -> None:
    """Draw a tiny figure with text once per process (fonts, glyph and text caches)."""
    global _WARM
    if _WARM:
        return
    fig, ax = _new_axes(size=(1.0, 1.0))
    ax.set_title("µ°–±")
    ax.plot([0, 1], [0, 1], "o-")
    render(fig)
    _WARM = True


_WARM = False


#: Marker of a value censored below (left) or above (right) its limit.
CENSOR_MARKERS = {"left": "v", "right": "^"}


def _individual_values(ax: Any, x: float, values: np.ndarray, side: np.ndarray,
                       color: str) -> None:
    """Included values: filled dots, censored ones as open triangles (▽ below, △ above)."""
    offsets = x + _jitter(len(values))
    plain = ~np.isin(side, list(CENSOR_MARKERS))
    ax.scatter(offsets[plain], values[plain], s=14, color=color, alpha=0.75, linewidths=0,
               zorder=2)
    for where, marker in CENSOR_MARKERS.items():
        m = side == where
        if m.any():
            ax.scatter(offsets[m], values[m], s=22, marker=marker, facecolors="none",
                       edgecolors=color, linewidths=0.9, zorder=2)


def plan_figures(ctx: Context, results: pd.DataFrame, decisions: pd.DataFrame,
                 fits: dict | None = None, bmds: dict | None = None) -> list[FigureJob]:
    """The figures of a report, numbered, as jobs for :func:`render_figures`.

    One figure per summary endpoint × sex (× timepoint for single-timepoint
    endpoints): a time course for endpoints with several timepoints, otherwise
    a group scatter, plus a concentration-response figure when doses are
    concentrations (``fits`` from :func:`neurotox.report.potency.concentration_fits`)
    and a dose-response figure with BMD and BMDL for the endpoints in ``bmds``;
    plate heatmaps of neurite-outgrowth endpoints. An endpoint × sex without a
    single included value gets no figure (its tables say why).
    """
    from neurotox.report.potency import curve_design

    out: list[FigureJob] = []
    spread = ctx.spread
    for block in blocks(with_included_values(results), decisions, SUMMARY_TYPES):
        for endpoint in block.endpoints:
            rows = block.results[block.results["endpoint"] == endpoint]
            ylabel = with_unit(label_of(endpoint), str(rows["unit"].iloc[0]))
            title = " — ".join(t for t in (label_of(endpoint), ctx.sex(block.sex)) if t)
            base = f"{slug(block.assay)}-{slug(endpoint)}-{slug(block.sex)}"
            floor = value_floor(endpoint)
            if block.by == "timepoint":
                out.append(FigureJob(0, f"Time course of {title} (mean ± "
                                     f"{ctx.spread_label}{_censored_note(rows)}"
                                     f"{cut_note(ctx, rows, floor)})"
                                     + caption_notes(ctx, rows, block.decisions),
                                     f"time-course-{base}",
                                     block.category, "time-course",
                                     {"results": rows, "spec": ctx.spec, "ylabel": ylabel,
                                      "spread": spread, "labels": ctx.timepoints,
                                      "floor": floor}))
                continue
            tp = str(rows["timepoint"].iloc[0])
            suffix = "" if tp == "NA" else f" — {ctx.tp(tp, block.assay)}"
            values = ctx.values(block.assay, endpoint, block.sex, tp)
            censored = ("; ▽ / △ value censored below / above its limit, drawn at the limit"
                        if "censoring" in values
                        and values["censoring"].isin(list(CENSOR_MARKERS)).any() else "")
            out.append(FigureJob(0, f"{title}{suffix}: individual values and group mean ± "
                                 f"{ctx.spread_label}{censored}{cut_note(ctx, rows, floor)}"
                                 + caption_notes(ctx, rows, block.decisions, values),
                                 f"groups-{base}",
                                 block.category,
                                 "groups", {"results": rows, "values": values,
                                            "spec": ctx.spec, "ylabel": ylabel,
                                            "spread": spread, "floor": floor}))
            key = (block.assay, endpoint, block.sex, tp)
            bmd = (bmds or {}).get(key)
            if bmd is not None:
                out.append(_bmd_job(ctx, rows, values, bmd, f"{title}{suffix}", ylabel,
                                    f"bmd-{base}", block.category))
            if curve_design(rows):
                out.append(_concentration_job(ctx, rows, values, (fits or {}).get(key),
                                              f"{title}{suffix}", ylabel,
                                              f"dose-response-{base}", block.category))
    out += _incidence_bmd_jobs(ctx, results, bmds or {})
    out += heatmap_jobs(ctx)
    for i, job in enumerate(out, start=1):
        job.number = i
    return out


def _censored_note(rows: pd.DataFrame) -> str:
    """What the count-and-side marks of a time course mean (``2<``, ``2>``, ``2<>``)."""
    if not rows.get("n_censored", pd.Series(dtype=float)).fillna(0).gt(0).any():
        return ""
    note = "; n> / n<: values censored above / below the limit, counted at it"
    if (rows.get("censoring", pd.Series(dtype=str)).astype(str) == "both").any():
        note += ("; n<>: n values censored, some below the lower and some above the upper "
                 "limit")
    return note


def cut_note(ctx: Context, rows: pd.DataFrame, floor: float | None) -> str:
    """``; SD bars cut at 0 (values cannot be negative)`` when a bar of ``rows`` is cut."""
    if not bars_cut(rows, ctx.spread, floor):
        return ""
    why = "values cannot be negative" if floor == 0 else "the lowest possible value"
    return f"; {ctx.spread_label} bars cut at {floor:g} ({why})"


def caption_notes(ctx: Context, rows: pd.DataFrame, decisions: pd.DataFrame,
                  values: pd.DataFrame | None = None) -> str:
    """What a reader needs to read a group figure: n, the test, the flags, the markers.

    ``rows`` are the results drawn (one endpoint × sex, one or more timepoints),
    ``decisions`` the decision rows behind them, ``values`` the individual values
    of a group scatter (for the excluded-value marker). The flags of an ANCOVA are
    those of the adjusted means, while the plot shows unadjusted ones: said so.
    """
    plan = ctx.spec.statistics
    ns = pd.to_numeric(rows.get("n", pd.Series(dtype=float)), errors="coerce").dropna()
    parts = []
    if len(ns):
        lo, hi = int(ns.min()), int(ns.max())
        parts.append(f"n = {lo} per group" if lo == hi else f"n = {lo}–{hi} per group")
    keys = ("endpoint", "timepoint", "path", "pairwise_test")
    dec = decisions[decisions["endpoint"].isin(set(rows["endpoint"]))
                    & decisions["timepoint"].isin(set(rows["timepoint"]))] \
        if len(decisions) and all(k in decisions for k in keys) else pd.DataFrame(columns=keys)
    tests = sorted({t for t in dec["pairwise_test"] if isinstance(t, str) and t})
    if tests:
        parts.append(f"{' / '.join(tests)} vs control: * p ≤ {plan.alpha:g}, ** p ≤ 0.01 "
                     f"({SIDED[plan.sided]}), ↑/↓ above/below control")
    if len(dec) and (dec["path"] == "ancova").any():
        parts.append("flags from the ANCOVA-adjusted means (see the table); the plot shows "
                     "unadjusted means")
    if values is not None and "excluded" in values and values["excluded"].astype(bool).any():
        parts.append("open grey circles: excluded values, not in n, mean or test")
    return (". " + "; ".join(parts) + ".") if parts else ""


def _concentration_job(ctx: Context, rows: pd.DataFrame, values: pd.DataFrame, potency: Any,
                       title: str, ylabel: str, key: str, category: str) -> FigureJob:
    from neurotox.report.potency import ec_text

    unit = unit_symbol(rows["dose_unit"].iloc[0])
    curve, markers = None, []
    if potency is not None and potency.shown:
        fit = potency.fit
        lo, hi = fit.tested_range
        grid = np.geomspace(lo / 10, hi, 120)
        curve = (grid, fit.predict(grid))
        ec50 = fit.ecx.get(50.0, math.nan)
        shown, flag = ec_text(ec50, fit.tested_range)
        markers = [("EC50", ec50)] if not flag else []
        how = (f"four-parameter Hill curve, EC50 = {shown} {unit}"
               + (f" ({flag})" if flag else ""))
    else:
        how = potency.verdict if potency is not None else "no concentration–response fitted"
    lead = "" if how.startswith("no ") else "concentration–response, "
    floor = value_floor(str(rows["endpoint"].iloc[0]))
    return FigureJob(0, f"{title}: {lead}{how}{cut_note(ctx, rows, floor)}", key, category,
                     "dose-response", {"results": rows, "values": values, "curve": curve,
                                       "markers": markers, "ylabel": ylabel,
                                       "xlabel": f"Concentration ({unit})",
                                       "spread": ctx.spread, "floor": floor,
                                       "note": "" if curve is not None else how})


def _bmd_job(ctx: Context, rows: pd.DataFrame, values: pd.DataFrame, bmd: Any, title: str,
             ylabel: str, key: str, category: str) -> FigureJob:
    from neurotox.report.bmd import reliability

    unit = unit_symbol(rows["dose_unit"].iloc[0])
    curve = None
    if len(bmd.curve):
        curve = (bmd.curve["dose"].to_numpy(float), bmd.curve["response"].to_numpy(float))
    if bmd.kind == "dichotomous":  # proportion affected per group, no individual 0/1 values
        rows = rows.assign(mean=rows["n_affected"].astype(float)
                           / rows["n_examined"].astype(float), sd=0.0, sem=0.0)
        values = values.iloc[:0]
    flag = reliability(bmd, [g.dose for g in ctx.spec.groups])
    how = (f"{bmd.model} model, BMD = {fmt_sig(bmd.bmd)}, BMDL = {fmt_sig(bmd.bmdl)} {unit}"
           if bmd.model else "no viable benchmark-dose model")
    how += f" ({flag})" if flag else ""
    floor = value_floor(str(rows["endpoint"].iloc[0])) if len(rows) else None
    return FigureJob(0, f"{title}: dose–response, {how}{cut_note(ctx, rows, floor)}", key,
                     category, "dose-response",
                     {"results": rows, "values": values, "curve": curve,
                      "markers": [("BMD", bmd.bmd), ("BMDL", bmd.bmdl)] if bmd.model else [],
                      "ylabel": ylabel, "xlabel": f"Dose ({unit})", "spread": ctx.spread,
                      "note": flag, "floor": floor})


def _incidence_bmd_jobs(ctx: Context, results: pd.DataFrame, bmds: dict) -> list[FigureJob]:
    out = []
    for (assay, endpoint, sex, tp), bmd in sorted(bmds.items()):
        if bmd.kind != "dichotomous":
            continue
        rows = results[(results["assay"] == assay) & (results["endpoint"] == endpoint)
                       & (results["sex"] == sex) & (results["timepoint"] == tp)]
        suffix = "" if tp == "NA" else f" — {ctx.tp(tp, assay)}"
        title = " — ".join(t for t in (label_of(endpoint), ctx.sex(sex)) if t) + suffix
        base = f"{slug(assay)}-{slug(endpoint)}-{slug(sex)}"
        out.append(_bmd_job(ctx, rows, rows.iloc[:0], bmd, title, "Proportion affected",
                            f"bmd-{base}", str(rows["category"].iloc[0])))
    return out


#: Neurite-outgrowth endpoints drawn as plate heatmaps (those with an included value).
HEATMAP_ENDPOINTS = ("neurite_length_per_cell", "nuclei_count", "cell_body_count",
                     "neurite_bearing_cells_pct", "total_neurite_length")


def heatmap_jobs(ctx: Context) -> list[FigureJob]:
    """Plate heatmaps of the neurite-outgrowth endpoints (subject = well, batch = plate)."""
    t = ctx.table
    if not len(t) or "batch" not in t:
        return []
    part = t[t["endpoint"].isin(HEATMAP_ENDPOINTS) & t["subject"].astype(str).str.match(WELL_NAME)]
    out = []
    for (plate, endpoint, tp), rows in part.groupby(["batch", "endpoint", "timepoint"],
                                                    sort=True):
        if rows["excluded"].astype(bool).all():
            continue            # not measured on this plate (an all-grey map says nothing)
        unit = unit_symbol(rows["unit"].iloc[0])
        where = f"plate {plate}" + ("" if tp == "NA" else f", {ctx.tp(tp)}")
        vals = dict(zip(rows["subject"], rows["value"].where(~rows["excluded"].astype(bool)),
                        strict=True))
        out.append(FigureJob(0, f"Plate map of {label_of(endpoint)} ({where}); grey: no value "
                             "or excluded", f"plate-{slug(plate)}-{slug(endpoint)}"
                             + ("" if tp == "NA" else f"-{slug(tp)}"),
                             str(rows["category"].iloc[0]), "heatmap",
                             {"values": vals, "unit": unit, "title": label_of(endpoint)}))
    return out


def build_figures(ctx: Context, results: pd.DataFrame, decisions: pd.DataFrame,
                  fits: dict | None = None, bmds: dict | None = None, *,
                  workers: int | None = 1) -> list[Figure]:
    """Plan and draw every figure of a report (:func:`plan_figures`, :func:`render_figures`)."""
    return render_figures(plan_figures(ctx, results, decisions, fits, bmds), workers=workers)
