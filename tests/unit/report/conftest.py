"""Hand-made study, EndpointTable, results and decisions following the stats contract.

The numbers are fixed by hand (not produced by neurotox.stats) so that the table
model and renderers are tested against known values.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurotox.study import StudySpec

GROUPS = [("G1", "Vehicle control", 0.0, True), ("G2", "Low", 10.0, False),
          ("G3", "High", 100.0, False)]

# grip strength (g) per group and sex, 4 animals each
GRIP = {("G1", "M"): [1010, 990, 1050, 950], ("G2", "M"): [980, 940, 1000, 960],
        ("G3", "M"): [800, 760, 840, 820], ("G1", "F"): [700, 720, 680, 700],
        ("G2", "F"): [690, 710, 705, 695], ("G3", "F"): [650, 640, 660, 670]}
# vs-control p-values (hand-set) per (group, sex) for grip strength
GRIP_P = {("G2", "M"): 0.21, ("G3", "M"): 0.004, ("G2", "F"): 0.83, ("G3", "F"): 0.03}
# motor activity counts per bin: control flat, high dose lower in bins 2-3
BINS = ["bin1", "bin2", "bin10"]
ACT_P = {("G2", "bin1"): 0.9, ("G3", "bin1"): 0.5, ("G2", "bin2"): 0.6,
         ("G3", "bin2"): 0.04, ("G2", "bin10"): 0.7, ("G3", "bin10"): 0.008}


def make_spec(pool_sexes: bool = False) -> StudySpec:
    return StudySpec.model_validate({
        "study_id": "NTX-T-001", "title": "Test study", "test_item": "Compound T",
        "glp": True, "species": "Rat", "strain": "Wistar",
        "groups": [{"id": g, "label": lab, "dose": d, "dose_unit": "mg/kg/day",
                    "control": c} for g, lab, d, c in GROUPS],
        "statistics": {"alpha": 0.05, "sided": "two", "pool_sexes": pool_sexes}})


def _row(**kw):
    base = {"study_id": "NTX-T-001", "dose_unit": "mg/kg/day", "batch": "NA",
            "excluded": False, "exclusion_reason": "", "source": "hand"}
    return {**base, **kw}


def make_table() -> pd.DataFrame:
    dose = {g: d for g, _, d, _ in GROUPS}
    rows = []
    for (g, sex), vals in GRIP.items():
        for i, v in enumerate(vals):
            subj = f"{g}{sex}{i + 1}"
            rows.append(_row(assay="fob", category="neurobehavioral",
                             endpoint="grip_strength_forelimb", unit="g", subject=subj,
                             group=g, dose=dose[g], sex=sex, timepoint="NA", value=float(v)))
            rows.append(_row(assay="fob", category="neurobehavioral", endpoint="gait_score",
                             unit="score", subject=subj, group=g, dose=dose[g], sex=sex,
                             timepoint="NA", value=float(min(i, 2) if g == "G3" else i % 2)))
            for k, b in enumerate(BINS):
                drop = 0.6 if (g == "G3" and k > 0) else 1.0
                rows.append(_row(assay="motor_activity", category="neurobehavioral",
                                 endpoint="motor_activity_counts", unit="count",
                                 subject=subj, group=g, dose=dose[g], sex=sex, timepoint=b,
                                 value=float(round((200 - 20 * k + 5 * i) * drop))))
    df = pd.DataFrame(rows)
    # one excluded value, with its reason
    m = (df["subject"] == "G2M4") & (df["endpoint"] == "grip_strength_forelimb")
    df.loc[m, ["excluded", "exclusion_reason"]] = [True, "animal moribund"]
    return df


def _flag(p: float) -> str:
    return "" if not np.isfinite(p) else "**" if p <= 0.01 else "*" if p <= 0.05 else ""


def _desc(vals: pd.Series) -> dict:
    return {"n": len(vals), "mean": vals.mean(), "sd": vals.std(ddof=1),
            "sem": vals.std(ddof=1) / np.sqrt(len(vals)), "median": vals.median(),
            "min": vals.min(), "max": vals.max()}


def _result(table, assay, endpoint, data_type, sex, tp, group, p, test, trend_test):
    vals = table[(table["endpoint"] == endpoint) & (table["group"] == group)
                 & (table["sex"] == sex) & (table["timepoint"] == tp)]
    kept = vals[~vals["excluded"]]["value"]
    ctrl = table[(table["endpoint"] == endpoint) & (table["group"] == "G1")
                 & (table["sex"] == sex) & (table["timepoint"] == tp) & ~table["excluded"]]
    d = _desc(kept)
    is_control = group == "G1"
    direction = "" if is_control or not _flag(p) else (
        "up" if d["mean"] > ctrl["value"].mean() else "down")
    return {"study_id": "NTX-T-001", "assay": assay, "category": "neurobehavioral",
            "endpoint": endpoint, "unit": vals["unit"].iloc[0], "data_type": data_type,
            "sex": sex, "timepoint": tp, "group": group, "dose": vals["dose"].iloc[0],
            "dose_unit": "mg/kg/day", "is_control": is_control, **d,
            "n_excluded": int(vals["excluded"].sum()),
            "percent_of_control": 100 * d["mean"] / ctrl["value"].mean(),
            "n_affected": np.nan, "n_examined": np.nan, "incidence_pct": np.nan,
            "test": "" if is_control else test, "statistic": np.nan if is_control else 2.5,
            "p_value": np.nan if is_control else p, "flag": "" if is_control else _flag(p),
            "direction": direction, "trend_test": trend_test, "trend_statistic": 3.1,
            "trend_p": 0.002, "trend_flag": "**"}


def _decision(assay, endpoint, data_type, sex, tp, path, pairwise, overall, trend,
              transform="none"):
    return {"study_id": "NTX-T-001", "assay": assay, "endpoint": endpoint, "sex": sex,
            "timepoint": tp, "data_type": data_type, "path": path, "transform": transform,
            "sided": "two", "alpha": 0.05, "normality_test": "Shapiro-Wilk",
            "normality_statistic": 0.95, "normality_p": 0.4,
            "homogeneity_test": "Levene", "homogeneity_statistic": 1.1, "homogeneity_p": 0.35,
            "overall_test": overall, "overall_statistic": 5.0, "overall_p": 0.01,
            "pairwise_test": pairwise, "trend_test": trend, "trend_statistic": 3.1,
            "trend_p": 0.002, "note": ""}


def make_results(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    res, dec = [], []
    for sex in ("M", "F"):
        for g, *_ in GROUPS:
            res.append(_result(table, "fob", "grip_strength_forelimb", "continuous", sex, "NA",
                               g, GRIP_P.get((g, sex), np.nan), "Dunnett", "Williams"))
            res.append(_result(table, "fob", "gait_score", "ordinal", sex, "NA", g,
                               0.02 if g == "G3" else 0.7, "Dunn", "Jonckheere-Terpstra"))
            for b in BINS:
                res.append(_result(table, "motor_activity", "motor_activity_counts",
                                   "continuous", sex, b, g, ACT_P.get((g, b), np.nan),
                                   "Dunn" if b == "bin10" else "Dunnett", "Williams"))
        dec.append(_decision("fob", "grip_strength_forelimb", "continuous", sex, "NA",
                             "parametric", "Dunnett", "one-way ANOVA", "Williams"))
        dec.append(_decision("fob", "gait_score", "ordinal", sex, "NA", "ordinal", "Dunn",
                             "Kruskal-Wallis", "Jonckheere-Terpstra"))
        for b in BINS:
            nonpar = b == "bin10"
            dec.append(_decision("motor_activity", "motor_activity_counts", "continuous", sex,
                                 b, "nonparametric" if nonpar else "parametric",
                                 "Dunn" if nonpar else "Dunnett",
                                 "Kruskal-Wallis" if nonpar else "one-way ANOVA", "Williams",
                                 "log" if not nonpar else "none"))
        dec.append(_decision("motor_activity", "motor_activity_counts", "continuous", sex,
                             "ALL", "repeated_measures", "", "linear mixed model", ""))
        # incidence endpoint: results only
        for g, _, d, c in GROUPS:
            affected = {"G1": 0, "G2": 1, "G3": 4}[g]
            p = np.nan if c else {"G2": 1.0, "G3": 0.029}[g]
            res.append({**{k: np.nan for k in ("mean", "sd", "sem", "median", "min", "max",
                                                "percent_of_control", "statistic",
                                                "trend_statistic")},
                        "study_id": "NTX-T-001", "assay": "fob", "category": "neurobehavioral",
                        "endpoint": "tremor", "unit": "incidence", "data_type": "incidence",
                        "sex": sex, "timepoint": "NA", "group": g, "dose": d,
                        "dose_unit": "mg/kg/day", "is_control": c, "n": 4, "n_excluded": 0,
                        "n_affected": affected, "n_examined": 4,
                        "incidence_pct": 25.0 * affected, "test": "" if c else "Fisher exact",
                        "p_value": p, "flag": "" if c else _flag(p),
                        "direction": "up" if _flag(p) else "",
                        "trend_test": "Cochran-Armitage", "trend_p": 0.004, "trend_flag": "**"})
        dec.append(_decision("fob", "tremor", "incidence", sex, "NA", "incidence",
                             "Fisher exact", "", "Cochran-Armitage"))
    return pd.DataFrame(res), pd.DataFrame(dec)


@pytest.fixture
def spec() -> StudySpec:
    return make_spec()


@pytest.fixture
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture
def analysis(table):
    return make_results(table)


@pytest.fixture
def results_factory():
    """make_results, for tests that edit the hand-made results."""
    return make_results


@pytest.fixture
def spec_factory():
    """make_spec, for tests that need another statistical plan."""
    return make_spec


GOLDEN = Path(__file__).resolve().parents[2] / "data" / "report"


@pytest.fixture
def check_golden():
    """Compare data with a golden JSON file; NEUROTOX_UPDATE_GOLDEN=1 rewrites it."""
    def check(name: str, data) -> None:
        path = GOLDEN / name
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        if os.environ.get("NEUROTOX_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        expected = json.loads(path.read_text(encoding="utf-8"))
        assert json.loads(text) == expected, f"differs from golden file {path}"
    return check


@pytest.fixture(scope="session")
def report_with_figures():
    """The hand-made study's report with figures (drawn once per session)."""
    from neurotox.report import build_report

    table = make_table()
    results, decisions = make_results(table)
    return build_report(make_spec(), table, results, decisions,
                        software={"neurotox": "0.1.0", "python": "3.11", "numpy": "2.0",
                                  "scipy": "1.14"})
