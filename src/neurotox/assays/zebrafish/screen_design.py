"""Screen design (chemical, concentration, vehicle, experimental group) and EPA group rules.

Group rules (US EPA larval light/dark screens)
---------------------------------------------
1. A chemical × concentration group within an experimental group is excluded when
   fewer than ``viability_min`` (EPA: 75 %) of its larvae are usable.
2. A whole experimental group (every larva on it) is excluded when fewer than
   ``viability_min_control`` (EPA: 85 %) of its vehicle larvae are usable.

"Usable" means no larva-level exclusion (removed by the lab, dead or malformed,
tracking). Both rules are listed in the ``group_rules`` table whether or not they
exclude anything, so the group sizes can be checked against the authors'.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from neurotox.errors import InputError, quoted

#: Group label of every vehicle larva in the EndpointTable (its experimental group is in
#: the ``larvae`` table and ``batch`` holds the plate).
VEHICLE_GROUP = "vehicle"
DESIGN_COLUMNS = ["plate", "well", "subject", "chemical", "chemicals", "concentration",
                  "vehicle", "experimental_group", "group", "dose", "dose_unit"]


def _text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip()


def screen_design(info: pd.DataFrame, params, notes: list[str]) -> pd.DataFrame:
    """One row per larva (plate, well) with the screen design (see :data:`DESIGN_COLUMNS`).

    Parameters
    ----------
    info
        ``plate``, ``well``, ``concentration`` and ``chemical``; optional ``vehicle``,
        ``chemicals`` (shared vehicle wells) and ``experimental_group``.
    params
        :class:`~neurotox.assays.zebrafish.screen_params.ScreenParameters`.
    notes
        Run notes (wells without chemical and concentration are noted, not analysed).

    """
    d = info.drop_duplicates(["plate", "well"]).reset_index(drop=True).copy()
    d["chemical"] = _text(d["chemical"])
    d["concentration"] = pd.to_numeric(d["concentration"], errors="coerce")
    named_vehicle = d["chemical"].isin(params.vehicle_names)
    given = d["vehicle"].fillna(False).astype(bool) if "vehicle" in d.columns else False
    d["vehicle"] = given | named_vehicle | d["concentration"].eq(0)
    d.loc[d["vehicle"], "concentration"] = 0.0
    blank = (~d["vehicle"]) & (d["chemical"].eq("") | d["concentration"].isna())
    if blank.any():
        notes.append(f"{int(blank.sum())} well(s) without chemical or concentration not "
                     "analysed")
        d = d[~blank].reset_index(drop=True)
    d["chemicals"] = _text(d["chemicals"]) if "chemicals" in d.columns else d["chemical"]
    d["experimental_group"] = _experimental_group(d, params, notes)
    d["subject"] = d["plate"].astype(str) + "-" + d["well"].astype(str)
    d["group"] = np.where(d["vehicle"], VEHICLE_GROUP,
                          [group_id(c, x) for c, x in zip(d["chemical"], d["concentration"],
                                                          strict=True)])
    d["dose"] = d["concentration"].astype(float)
    d["dose_unit"] = params.concentration_unit
    return d[DESIGN_COLUMNS]


def group_id(chemical: str, concentration: float) -> str:
    """Group ID of a chemical x concentration, valid in a study file: ``Pirimiphos-methyl_0.3``."""
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "-", chemical).strip("-") or "chemical"
    return f"{stem}_{concentration:g}"


def _experimental_group(d: pd.DataFrame, params, notes: list[str]) -> pd.Series:
    has = "experimental_group" in d.columns and _text(d["experimental_group"]).ne("").all()
    if params.experimental_group == "egid" and not has:
        raise InputError("experimental_group 'egid' but the inputs carry no experimental-group "
                         "ID for every larva (column 'egid')")
    if params.experimental_group == "egid" or (params.experimental_group == "auto" and has):
        notes.append("experimental groups: the file's experimental-group IDs (egid)")
        return _text(d["experimental_group"])
    notes.append("experimental groups: plates (each chemical is compared with the vehicle "
                 "wells of its own plates)")
    return d["plate"].astype(str)


def select_chemicals(design: pd.DataFrame, chemicals: tuple[str, ...]) -> pd.DataFrame:
    """Larvae of the chosen chemicals and the vehicles of their experimental groups."""
    if not chemicals:
        return design
    known = set(design.loc[~design["vehicle"], "chemical"])
    missing = [c for c in chemicals if c not in known]
    if missing:
        raise InputError(f"chemical(s) {quoted(missing)} not in the screen; found "
                         f"{quoted(sorted(known)[:30])}", where="parameter 'chemicals'")
    treated = ~design["vehicle"] & design["chemical"].isin(chemicals)
    groups = set(design.loc[treated, "experimental_group"])
    keep = treated | (design["vehicle"] & design["experimental_group"].isin(groups))
    return design[keep].reset_index(drop=True)


def group_rules(design: pd.DataFrame, usable: pd.Series,
                params) -> tuple[pd.Series, pd.DataFrame]:
    """Apply the two group rules.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        Group-rule exclusion reason per larva ('' = none) and the rules table: one row
        per experimental-group vehicle and per chemical × concentration × experimental
        group, with n, n usable, fraction, the threshold and whether it excluded.

    """
    d = design.assign(usable=np.asarray(usable, dtype=bool))
    need_v = params.viability_min_control if params.viability_min_control is not None \
        else params.viability_min
    reason = pd.Series("", index=d.index, dtype=object)
    rows = []
    veh = d[d["vehicle"]].groupby("experimental_group")["usable"].agg(["size", "sum"])
    for eg, r in veh.iterrows():
        frac = r["sum"] / r["size"]
        out = bool(frac < need_v)
        text = (f"experimental group {eg}: vehicle {int(r['sum'])}/{int(r['size'])} usable "
                f"({frac:.0%}), below {need_v:.0%}")
        if out:
            reason[d["experimental_group"] == eg] = text
        rows.append(_rule_row("experimental group vehicle", "", 0.0, eg, r, frac, need_v, out))
    trt = d[~d["vehicle"]].groupby(["chemical", "concentration", "experimental_group"])
    for (chem, conc, eg), g in trt:
        r = {"size": len(g), "sum": int(g["usable"].sum())}
        frac = r["sum"] / r["size"]
        out = bool(frac < params.viability_min)
        if out:
            text = (f"{chem} {conc:g} in experimental group {eg}: {r['sum']}/{r['size']} "
                    f"usable ({frac:.0%}), below {params.viability_min:.0%}")
            idx = g.index[reason[g.index] == ""]
            reason[idx] = text
        rows.append(_rule_row("treatment group", chem, conc, eg, r, frac,
                              params.viability_min, out))
    return reason, pd.DataFrame(rows, columns=RULE_COLUMNS)


RULE_COLUMNS = ["rule", "chemical", "concentration", "experimental_group", "n_larvae",
                "n_usable", "fraction_usable", "required", "excluded"]


def _rule_row(rule, chem, conc, eg, r, frac, need, out) -> dict:
    return {"rule": rule, "chemical": chem, "concentration": conc, "experimental_group": eg,
            "n_larvae": int(r["size"]), "n_usable": int(r["sum"]), "fraction_usable": frac,
            "required": need, "excluded": out}


def controls_of(design: pd.DataFrame, chemical: str) -> dict[float, set[str]]:
    """Experimental groups of each concentration of ``chemical``."""
    t = design[~design["vehicle"] & (design["chemical"] == chemical)]
    return {float(c): set(g["experimental_group"]) for c, g in t.groupby("concentration")}
