"""Neurite wells joined to the plate layout (group, dose, control) and normalised to control."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.io.plates import FieldSource
from neurotox.study import check_study_doses


@dataclass
class GroupInfo:
    """Dose group of a well."""

    group: str
    dose: float
    dose_unit: str
    control: bool


#: Group names read as vehicle control in layouts with groups but no concentrations
#: (when the protocol names no ``control_group``), compared case-insensitively.
VEHICLE_NAMES = ("vehicle", "control", "ctrl", "dmso", "vc", "controle")
#: Dose unit of wells whose layout gives a group but no concentration.
NO_DOSE = "none"
#: Group of every image of a measure-only run (no layout, no ``{group}``, no study).
MEASURE_GROUP = "all"


def _group_of(row: pd.Series, groups: dict[str, GroupInfo] | None,
              params: NeuriteParameters, dosed: bool = False) -> GroupInfo | None:
    """The well's group; ``dosed``: other wells of the layout give concentrations."""
    group = str(row.get("group", "") or "")
    conc = row.get("concentration", math.nan)
    conc = float(conc) if conc is not None and not pd.isna(conc) else math.nan
    if groups is not None and group in groups:
        g = groups[group]
        dose = conc if math.isfinite(conc) else g.dose
        return GroupInfo(g.group, dose, g.dose_unit, g.control)
    if not math.isfinite(conc):
        if not group:
            return None
        control = group == params.control_group if params.control_group else \
            group.lower() in VEHICLE_NAMES
        if dosed and control:     # the vehicle of a dosed plate: concentration 0
            return GroupInfo(group, 0.0, params.dose_unit, True)
        if dosed:
            raise InputError(f"group {group!r} has no concentration while the layout gives "
                             "concentrations (only the vehicle control may leave it empty)",
                             path=row.attrs.get("path"), where=f"well {row.name}, column "
                             "'concentration'")
        return GroupInfo(group, math.nan, NO_DOSE, control)   # no dose is invented
    name = group or f"C{conc:g}"
    control = (group == params.control_group) if params.control_group else conc == 0
    return GroupInfo(name, conc, params.dose_unit, control)


def well_groups(imaged: set[str], layout: pd.DataFrame, groups: dict[str, GroupInfo] | None,
                params: NeuriteParameters) -> tuple[dict[str, GroupInfo], list[str]]:
    """Group, dose and control status of each non-blank layout well, checked.

    Checked before any image is analysed: imaged wells and layout wells match,
    every well has a group or concentration, one dose per group (with a study:
    the study's dose, :func:`neurotox.study.check_study_doses`), the control
    group exists.

    Returns
    -------
    info : dict
        Well → :class:`GroupInfo`.
    notes : list of str
        Groups split by concentration, vehicle groups pooled (a warning).

    """
    notes: list[str] = []
    lay = layout[~layout["blank"]].set_index("well")
    check_layout_wells(imaged, layout)
    blank = sorted(layout.loc[layout["blank"], "well"])
    if blank:
        notes.append(f"{len(blank)} blank well(s) in the layout, not analysed: "
                     f"{quoted(blank, limit=12)}")
    if groups is not None:   # a layout concentration is the well's dose: the study's?
        check_study_doses(layout, {k: (g.dose, g.dose_unit) for k, g in groups.items()})
    dosed = "concentration" in lay.columns and bool(lay["concentration"].notna().any())
    info = {w: _group_of(lay.loc[w], groups, params, dosed) for w in lay.index}
    bad = sorted(w for w, g in info.items() if g is None)
    if bad:
        raise InputError(f"wells {quoted(bad)} have neither a study group nor a concentration "
                         "in the layout")
    _one_dose_per_group(info, notes, study=groups is not None, path=layout.attrs.get("path"))
    names = {g.group for g in info.values() if g is not None}
    if params.control_group and groups is None and params.control_group not in names:
        hint = did_you_mean(params.control_group, sorted(names))
        raise InputError(f"control group {params.control_group!r}{hint} is not a group of "
                         f"the plate (groups: {quoted(names)})",
                         where="--control (parameter 'control_group')")
    vehicles = sorted({g.group for g in info.values() if g is not None and g.control})
    if groups is None and not params.control_group and len(vehicles) > 1:
        notes.append(_pooled_controls(vehicles, [g.group for g in info.values() if g]))
    if groups is None and not vehicles and names != {MEASURE_GROUP}:
        notes.append(_no_control(sorted(names)))
    return info, notes


def _no_control(names: list[str]) -> str:
    """The warning for a plate none of whose groups is read as the vehicle control."""
    near = [n for n in names if did_you_mean(n.lower(), VEHICLE_NAMES)
            or set(n.lower().replace("%", " ").split()) & set(VEHICLE_NAMES)]
    hint = f"; is {quoted(near)} the control?" if near else ""
    return (f"warning: no group is read as the vehicle control (groups {quoted(names)}; "
            f"read as control: concentration 0, or a group named {quoted(VEHICLE_NAMES)}"
            f"{hint}): percent of control, concentration-response and the selectivity call "
            "are not computed; name it with --control NAME (--param control_group=NAME)")


def _pooled_controls(vehicles: list[str], well_groups: list[str]) -> str:
    """The warning for several groups read as vehicle controls, naming likely typos."""
    wells = {v: well_groups.count(v) for v in vehicles}
    counts = ", ".join(f"{v!r} ({wells[v]} well(s))" for v in vehicles)
    typos = []
    for v in vehicles:         # 'DMS0' in one well beside 'DMSO' in fifteen
        hint = did_you_mean(v, [o for o in vehicles if wells[o] > wells[v]])
        if hint:
            typos.append(f"{v!r}{hint}")
    typo = f"; a typo? {', '.join(typos)}" if typos else ""
    return (f"warning: groups {counts} are all read as vehicle controls and pooled as the "
            f"reference of percent of control{typo}; name one with --control NAME "
            "(--param control_group=NAME)")


def join_layout(wells: pd.DataFrame, info: dict[str, GroupInfo]) -> pd.DataFrame:
    """The wells that are in the layout, with their group, dose, unit and control status.

    ``info`` is the layout read by :func:`well_groups`.
    """
    out = wells[wells["well"].isin(info)].copy()
    for col in ("group", "dose", "dose_unit", "control"):
        out[col] = [getattr(info[w], col) for w in out["well"]]
    return out.reset_index(drop=True)


def with_groups(table: pd.DataFrame, info: dict[str, GroupInfo]) -> pd.DataFrame:
    """A field or cell table with each row's ``group``, ``dose`` and ``dose_unit``, as wells have.

    Inserted after ``timepoint``; rows of wells outside the layout get an empty
    group and unit and a NaN dose.
    """
    table = table.drop(columns=[c for c in ("group", "dose", "dose_unit") if c in table])
    at = table.columns.get_loc("timepoint") + 1
    for k, col in enumerate(("group", "dose", "dose_unit")):
        empty = math.nan if col == "dose" else ""
        table.insert(at + k, col, [getattr(info[w], col) if w in info else empty
                                   for w in table["well"]])
    return table


def _one_dose_per_group(info: dict[str, GroupInfo | None], notes: list[str], *,
                        study: bool, path: str | None) -> None:
    """Give each concentration of a layout group its own group (statistics compare groups).

    A layout whose ``group`` names the compound and whose ``concentration``
    varies (``H`` at 3 and 10 µM) would otherwise pool the concentrations in
    one group. Without a study each concentration becomes group ``H_3``,
    ``H_10`` (noted); a study group holds one dose, so several layout
    concentrations of one study group are an error.
    """
    doses: dict[str, set[float]] = {}
    for g in info.values():
        if g is not None and math.isfinite(g.dose):
            doses.setdefault(g.group, set()).add(g.dose)
    several = {k: sorted(v) for k, v in doses.items() if len(v) > 1}
    if not several:
        return
    if study:
        name, values = next(iter(sorted(several.items())))
        raise InputError(f"study group {name!r} has wells at concentrations "
                         f"{', '.join(f'{v:g}' for v in values)}; a study group has one dose",
                         path=path, where="column 'concentration'")
    for w, g in info.items():
        if g is not None and g.group in several:
            info[w] = GroupInfo(f"{g.group}_{g.dose:g}", g.dose, g.dose_unit, g.control)
    notes.append("one group per concentration: " + "; ".join(
        f"group {k!r} at {', '.join(f'{v:g}' for v in vals)} became "
        f"{quoted(f'{k}_{v:g}' for v in vals)}" for k, vals in sorted(several.items())))


#: Well metrics given as percent of the vehicle control (``<metric>_pct``).
PERCENT_OF_CONTROL = ("neurite_length_per_cell_um", "nuclei_count", "total_neurite_length_um")


def normalise_to_control(wells: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Percent of the mean of the vehicle-control wells of the same plate and timepoint.

    Metrics that were not measured (all empty: nuclei-only fields, protocols
    without neurons in view) get an empty percent column and no note.
    """
    wells = wells.copy()
    lacking: dict[str, list[str]] = {}
    for src in PERCENT_OF_CONTROL:
        dst = src.removesuffix("_um") + "_pct"
        if wells[src].isna().all():
            wells[dst] = np.nan
            continue
        ref = wells[wells["control"]].groupby(["plate", "timepoint"])[src].mean()
        keys = list(zip(wells["plate"], wells["timepoint"], strict=True))
        denom = np.array([ref.get(k, math.nan) for k in keys], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            wells[dst] = 100.0 * wells[src].to_numpy(dtype=float) / denom
        for plate in sorted({f"{k[0]}" for k, d in zip(keys, denom, strict=True)
                             if not np.isfinite(d) or d == 0}):
            lacking.setdefault(plate, []).append(src)
    return wells, [_lacking_note(wells, plate, metrics) for plate, metrics in lacking.items()]


def _lacking_note(wells: pd.DataFrame, plate: str, metrics: list[str]) -> str:
    """The note for a plate without usable control wells; a warning when other plates have them.

    Percent of control is taken within a plate: a control group imaged on
    another plate (a folder per group read as plates) leaves the treated wells
    without it, which the user can fix.
    """
    text = (f"no usable vehicle-control wells for {', '.join(metrics)} on plate {plate!r}; "
            "percent of control not computed")
    elsewhere = sorted(set(wells.loc[wells["control"] & (wells["plate"] != plate), "plate"]))
    if not elsewhere:
        return text
    return (f"warning: {text}, although plate(s) {quoted(elsewhere, limit=6)} hold control "
            "wells: percent of control is taken within a plate (image control wells on every "
            "plate, or leave {plate} out of --pattern to read the folder as one plate)")


def layout_from_names(sources: list[FieldSource],
                      groups: dict[str, GroupInfo] | None) -> pd.DataFrame:
    """A plate layout (well, group) from the groups the file names give (``{group}``).

    Raises
    ------
    InputError
        A file name gives no group (the pattern has no ``{group}``), a group is
        not defined in the study, or one well is given two groups.

    """
    if not sources or any(s.group is None for s in sources):
        raise InputError("no plate layout: give --layout (a CSV of well, group and/or "
                         "concentration), or take the groups from the file names with "
                         "{group} in --pattern")
    by_well: dict[str, str] = {}
    for s in sources:
        if groups is not None and s.group not in groups:
            raise InputError(f"group {s.group!r}{did_you_mean(s.group, sorted(groups))} (from "
                             f"the file name) is not defined in the study (defined: "
                             f"{quoted(groups)})", path=s.first.path)
        if by_well.setdefault(s.well, s.group) != s.group:
            raise InputError(f"well {s.well} has images of groups {by_well[s.well]!r} and "
                             f"{s.group!r}; a well holds one group", path=s.first.path)
    return pd.DataFrame({"well": list(by_well), "group": list(by_well.values()),
                         "blank": False})


def check_layout_wells(imaged: set[str], layout: pd.DataFrame) -> None:
    """InputError when imaged wells are missing from the layout or layout wells lack images."""
    path = layout.attrs.get("path")
    missing_layout = sorted(imaged - set(layout["well"]))
    if missing_layout:
        raise InputError(f"wells {quoted(missing_layout)} have images but are not in the "
                         "layout (list unused wells with group 'blank')", path=path,
                         where="column 'well'")
    no_images = sorted(set(layout.loc[~layout["blank"], "well"]) - imaged)
    if no_images:
        raise InputError(f"wells {quoted(no_images)} are in the layout but have no images "
                         "(wells not imaged: write 'blank' in their group column, and the "
                         "run notes name them)", path=path, where="column 'well'")
