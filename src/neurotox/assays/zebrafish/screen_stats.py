"""Per-chemical statistics of a screen: each concentration against its own vehicle.

For one chemical, the vehicle larvae are those of the experimental groups the
chemical was tested in; a concentration tested in other experimental groups than
its siblings is compared with the vehicle of its own groups only.

* morphology (incidence): per endpoint, n examined and n affected per
  concentration; Fisher's exact test vs vehicle (:func:`neurotox.stats.fisher_vs_control`)
  and the Cochran–Armitage trend over vehicle + concentrations with the
  concentrations as scores (:func:`neurotox.stats.cochran_armitage`); a dichotomous
  BMD per endpoint with bmdrc's model set and selection
  (:func:`neurotox.assays.zebrafish.bmdrc.bmdrc_bmd`) on the plate × concentration
  counts;
* locomotion (continuous): the statistical decision tree
  (:func:`neurotox.stats.tree.compare_to_control`) per endpoint × timepoint, and
  continuous BMDs (:func:`neurotox.assays.zebrafish.bmd.continuous_bmds`) for the
  protocol's ``bmd_endpoints``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from neurotox.assays.zebrafish.screen_design import group_id

INCIDENCE_COLUMNS = ["chemical", "endpoint", "label", "concentration", "group",
                     "experimental_groups", "n_examined", "n_affected", "incidence_percent",
                     "odds_ratio", "fisher_p", "trend_z", "trend_p", "flag"]
ACTIVITY_COLUMNS = ["chemical", "endpoint", "timepoint", "concentration", "group",
                    "experimental_groups", "n", "mean", "sd", "control_n", "control_mean",
                    "percent_of_control", "test", "statistic", "p_value", "trend_test",
                    "trend_p", "flag"]


@dataclass
class ChemicalTask:
    """Everything one chemical's statistics need (picklable for the scheduler)."""

    chemical: str
    design: pd.DataFrame          # the chemical's larvae and its vehicles
    rows: pd.DataFrame            # EndpointTable rows of those larvae
    params: object


@dataclass
class ChemicalResult:
    """Tables of one chemical."""

    chemical: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _label(endpoint: str) -> str:
    from neurotox.endpoints import registry

    ep = registry().get(endpoint)
    return ep.label if ep is not None and ep.label else endpoint


def _control_sets(task: ChemicalTask) -> tuple[dict[float, frozenset], frozenset]:
    d = task.design
    t = d[~d["vehicle"]]
    per = {float(c): frozenset(g["experimental_group"]) for c, g in t.groupby("concentration")}
    return per, frozenset(t["experimental_group"])


def _subjects(d: pd.DataFrame, groups: frozenset) -> set:
    return set(d.loc[d["vehicle"] & d["experimental_group"].isin(groups), "subject"])


def _flag(p: float, alpha: float = 0.05) -> str:
    return "" if not np.isfinite(p) else "**" if p < 0.01 else "*" if p < alpha else ""


def incidence_tables(task: ChemicalTask) -> pd.DataFrame:
    """Incidence per endpoint × concentration with Fisher and trend (see module)."""
    from neurotox.stats import cochran_armitage, fisher_vs_control

    rows = task.rows[(task.rows["assay"] == "zebrafish_morphology") & ~task.rows["excluded"]]
    if rows.empty:
        return pd.DataFrame(columns=INCIDENCE_COLUMNS)
    per, every = _control_sets(task)
    d = task.design
    conc_of = d.set_index("subject")["concentration"]
    out = []
    for ep, g in rows.groupby("endpoint", sort=True):
        val = g.set_index("subject")["value"]
        ctrl_all = val[val.index.isin(_subjects(d, every))]
        concs = sorted(per)
        aff = [int(ctrl_all.sum())] + [int(val[conc_of[val.index].eq(c).to_numpy()].sum())
                                       for c in concs]
        n = [len(ctrl_all)] + [int(conc_of[val.index].eq(c).sum()) for c in concs]
        trend = cochran_armitage(aff, n, [0.0, *concs], alternative="greater") \
            if n[0] and all(n) else None
        tz = trend.statistic if trend else np.nan
        tp = trend.p_value if trend else np.nan
        out.append(_inc_row(task.chemical, ep, 0.0, "vehicle", sorted(every), n[0], aff[0],
                            np.nan, np.nan, tz, tp))
        for c, a, k in zip(concs, aff[1:], n[1:], strict=True):
            ctrl = val[val.index.isin(_subjects(d, per[c]))]
            odds, p = np.nan, np.nan
            if k and len(ctrl):
                res = fisher_vs_control([int(ctrl.sum()), a], [len(ctrl), k],
                                        alternative=task.params.fisher_alternative)
                odds, p = float(res.statistic[0]), float(res.p_value[0])
            out.append(_inc_row(task.chemical, ep, c, group_id(task.chemical, c),
                                sorted(per[c]), k, a, odds, p, tz, tp))
    return pd.DataFrame(out, columns=INCIDENCE_COLUMNS)


def _inc_row(chem, ep, conc, group, egs, n, a, odds, p, tz, tp) -> dict:
    return {"chemical": chem, "endpoint": ep, "label": _label(ep), "concentration": conc,
            "group": group, "experimental_groups": ", ".join(egs), "n_examined": n,
            "n_affected": a, "incidence_percent": 100.0 * a / n if n else np.nan,
            "odds_ratio": odds, "fisher_p": p, "trend_z": tz, "trend_p": tp,
            "flag": _flag(p)}


def morphology_bmds(task: ChemicalTask, incidence: pd.DataFrame,
                    notes: list[str]) -> pd.DataFrame:
    """Dichotomous BMD per morphology endpoint (bmdrc model set and selection)."""
    from neurotox.assays.zebrafish.bmd import BMD_COLUMNS, bmd_rows
    from neurotox.assays.zebrafish.bmdrc import BMDRC_MODELS
    from neurotox.stats.bmd import bmdrc_dichotomous

    mode = task.params.morphology_bmd
    if mode == "none" or incidence.empty:
        return pd.DataFrame(columns=["chemical", *BMD_COLUMNS])
    rows = task.rows[(task.rows["assay"] == "zebrafish_morphology") & ~task.rows["excluded"]]
    per, every = _control_sets(task)
    d = task.design.set_index("subject")
    use = rows[rows["subject"].isin(_subjects(task.design, every)) |
               ~d.loc[rows["subject"], "vehicle"].to_numpy()]
    table = (use.assign(plate=use["batch"]).groupby(["endpoint", "dose", "plate"])["value"]
             .agg(num_affected="sum", num_nonna="count").reset_index())
    out = []
    for ep, t in table.groupby("endpoint", sort=True):
        inc = incidence[incidence["endpoint"] == ep]
        if mode == "affected" and not (inc["incidence_percent"].iloc[1:]
                                       > inc["incidence_percent"].iloc[0]).any():
            continue
        if t["dose"].nunique() < task.params.min_bmd_concentrations:
            notes.append(f"{task.chemical} {ep}: fewer than "
                         f"{task.params.min_bmd_concentrations} concentrations; no BMD")
            continue
        t = t.sort_values(["dose", "plate"], kind="stable")
        res = bmdrc_dichotomous(t["dose"].tolist(), t["num_nonna"].tolist(),
                                t["num_affected"].tolist(), bmr=task.params.bmr,
                                models=BMDRC_MODELS)
        out += [{"chemical": task.chemical, **r} for r in bmd_rows(ep, "NA", res)]
    return pd.DataFrame(out, columns=["chemical", *BMD_COLUMNS])


def activity_tables(task: ChemicalTask) -> pd.DataFrame:
    """Locomotion endpoints per concentration vs own vehicle (decision tree)."""
    rows = task.rows[(task.rows["assay"] != "zebrafish_morphology")
                     & task.rows["endpoint"].isin(task.params.screen_endpoints)
                     & ~task.rows["excluded"]]
    if rows.empty:
        return pd.DataFrame(columns=ACTIVITY_COLUMNS)
    per, _ = _control_sets(task)
    sets: dict[frozenset, list[float]] = {}
    for c, egs in per.items():
        sets.setdefault(egs, []).append(c)
    out = []
    for (ep, tp), g in rows.groupby(["endpoint", "timepoint"], sort=True):
        for egs, concs in sets.items():
            out += _compare(task, ep, tp, g, egs, sorted(concs))
    return pd.DataFrame(out, columns=ACTIVITY_COLUMNS)


def _compare(task, ep, tp, g, egs, concs) -> list[dict]:
    from neurotox.endpoints import registry
    from neurotox.stats.tree import compare_to_control

    d = task.design.set_index("subject")
    ctrl = g[g["subject"].isin(_subjects(task.design, egs))]["value"].to_numpy(float)
    treated = g[~d.loc[g["subject"], "vehicle"].to_numpy()]
    samples = [ctrl] + [treated.loc[treated["dose"] == c, "value"].to_numpy(float)
                        for c in concs]
    direction = registry()[ep].direction.value
    alt = {"increase": "greater", "decrease": "less"}.get(direction, "two-sided")
    res = compare_to_control(samples, alternative=alt, doses=[0.0, *concs])
    cm = float(np.mean(ctrl)) if len(ctrl) else np.nan
    out = []
    for i, (c, s) in enumerate(zip([0.0, *concs], samples, strict=True)):
        out.append({
            "chemical": task.chemical, "endpoint": ep, "timepoint": tp, "concentration": c,
            "group": "vehicle" if i == 0 else group_id(task.chemical, c),
            "experimental_groups": ", ".join(sorted(egs)), "n": len(s),
            "mean": float(np.mean(s)) if len(s) else np.nan,
            "sd": float(np.std(s, ddof=1)) if len(s) > 1 else np.nan,
            "control_n": len(ctrl), "control_mean": cm,
            "percent_of_control": 100 * np.mean(s) / cm if len(s) and cm else np.nan,
            "test": res.test[i], "statistic": res.statistic[i], "p_value": res.p_value[i],
            "trend_test": res.decision.get("trend_test", ""), "trend_p": res.trend_p[i],
            "flag": _flag(res.p_value[i])})
    return out


def activity_bmds(task: ChemicalTask, notes: list[str]) -> pd.DataFrame:
    """Continuous BMDs (BMR 1 SD) of the protocol's ``bmd_endpoints`` for this chemical."""
    from neurotox.assays.zebrafish.bmd import BMD_COLUMNS, continuous_bmds

    if not task.params.bmd_endpoints:
        return pd.DataFrame(columns=["chemical", *BMD_COLUMNS])
    _, every = _control_sets(task)
    d = task.design.set_index("subject")
    r = task.rows[task.rows["assay"] != "zebrafish_morphology"]
    keep = r["subject"].isin(_subjects(task.design, every)) | ~d.loc[r["subject"],
                                                                     "vehicle"].to_numpy()
    local: list[str] = []
    out = continuous_bmds(r[keep], task.params.bmd_endpoints, local)
    notes += [f"{task.chemical}: {n}" for n in local]
    return out.assign(chemical=task.chemical)[["chemical", *BMD_COLUMNS]]


def chemical_statistics(task: ChemicalTask) -> ChemicalResult:
    """All tables of one chemical (the scheduler's task function)."""
    res = ChemicalResult(task.chemical)
    inc = incidence_tables(task)
    res.tables["incidence"] = inc
    res.tables["morphology_bmd"] = morphology_bmds(task, inc, res.notes)
    res.tables["activity_statistics"] = activity_tables(task)
    res.tables["activity_bmd"] = activity_bmds(task, res.notes)
    return res
