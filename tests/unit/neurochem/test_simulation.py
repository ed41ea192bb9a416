"""The simulated neurochemistry study: planted group differences recovered from raw files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurotox.pipeline import analyse, censoring_text, collect_endpoints
from neurotox.report import build_report
from neurotox.report.neurochem import add_neurochem_sections
from neurotox.simulate import get_simulator
from neurotox.study import load_study


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("neurochem-sim")
    truth = get_simulator("neurochem").write(folder, 7)
    study = load_study(folder / "study.yaml")
    collected = collect_endpoints(study)
    return truth, study, collected, analyse(collected.table, study)


@pytest.fixture(scope="module")
def simulated(run):
    truth, _, collected, analysis = run
    return truth, collected, analysis.results


def _ratio(results, endpoint, group, timepoint):
    r = results[(results["endpoint"] == endpoint) & (results["timepoint"] == timepoint)]
    ctl = r[r["group"] == "G1"].set_index("sex")["median"]
    grp = r[r["group"] == group].set_index("sex")["median"]
    return (grp / ctl).mean()


def test_every_planted_effect_at_the_high_dose_is_flagged(simulated):
    truth, _, results = simulated
    for p in truth["planted"]:
        if p["group"] != "G4":
            continue
        rows = results[(results["endpoint"] == p["endpoint"]) & (results["group"] == "G4")
                       & (results["timepoint"] == p["timepoint"])]
        assert len(rows) == 2, p
        assert (rows["flag"] != "").any(), (p, rows[["sex", "p_value"]])
        direction = "up" if p["ratio"] > 1 else "down"
        assert set(rows.loc[rows["flag"] != "", "direction"]) == {direction}


def _true(truth, endpoint):
    tv = truth["true_values"]
    return {"gfap_per_protein": tv["gfap_pg_per_mg_protein"],
            "brain_che_activity": tv["che_u"]["brain_u_per_g"],
            "rbc_che_activity": tv["che_u"]["rbc_u_per_ml"]}.get(
        endpoint, tv["cytokines_pg_ml"].get(endpoint))


def test_planted_ratios_recovered(simulated):
    """Measured group/control median ratios equal those of the planted values."""
    truth, collected, results = simulated
    subjects = collected.table.drop_duplicates("subject").set_index("subject")
    for p in truth["planted"]:
        planted = _true(truth, p["endpoint"])
        by = {(g, sex): np.median([planted[s] for s in subjects.index
                                   if subjects.loc[s, "group"] == g and
                                   subjects.loc[s, "sex"] == sex])
              for g in ("G1", p["group"]) for sex in ("M", "F")}
        expected = np.mean([by[(p["group"], sex)] / by[("G1", sex)] for sex in ("M", "F")])
        measured = _ratio(results, p["endpoint"], p["group"], p["timepoint"])
        assert measured == pytest.approx(expected, rel=0.1), p
        # ... and the planted ratio itself within the sampling noise of 5 rats per group
        assert measured == pytest.approx(p["ratio"], rel=0.5), p


def test_unaffected_endpoint_is_not_flagged_at_the_high_dose(simulated):
    _, _, results = simulated
    rows = results[(results["endpoint"] == "ccl11") & (results["group"] == "G4")]
    assert (rows["flag"] == "").all()
    assert _ratio(results, "ccl11", "G4", "serum_day7") == pytest.approx(1.0, rel=0.3)


def test_low_cytokines_are_left_censored_at_lloq_times_dilution(simulated):
    _, collected, _ = simulated
    t = collected.table
    il1b = t[t["endpoint"] == "il1b"]
    assert (il1b["censoring"] == "left").mean() > 0.8
    curves = collected.details["cytokines/neurochem_curves"].set_index(["plate", "analyte"])
    for r in il1b[il1b["censoring"] == "left"].itertuples():
        plate = r.source.split(" plate ")[1].split()[0]
        assert r.value == pytest.approx(curves.loc[(plate, "IL1B"), "lloq"] * 2)


def test_values_match_the_planted_concentrations(simulated):
    truth, collected, _ = simulated
    t = collected.table
    il6 = t[(t["endpoint"] == "il6") & (t["censoring"] == "none")].set_index("subject")["value"]
    planted = truth["true_values"]["cytokines_pg_ml"]["il6"]
    rel = np.array([il6[s] / planted[s] - 1 for s in il6.index])
    assert np.median(np.abs(rel)) < 0.05
    che = t[t["endpoint"] == "brain_che_activity"].set_index("subject")["value"]
    true_che = truth["true_values"]["che_u"]["brain_u_per_g"]
    assert np.median([abs(che[s] / true_che[s] - 1) for s in che.index]) < 0.05
    json.dumps(truth)          # truth is JSON-serialisable


def test_report_names_the_censoring_policy_and_shows_censored_values(run):
    _, study, collected, analysis = run
    report = build_report(study.spec, collected.table, analysis.results, analysis.decisions,
                          software={}, figures=False, bmd=False)
    add_neurochem_sections(report, collected.details, study.spec, censoring_text(study),
                           figures=False)
    methods = " ".join(report.methods)
    assert "substitution policy 'half'" in methods and "left-censored" in methods
    qc = next(t for t in report.tables if t.key == "neurochem-qc")
    assert len(qc.rows) == 13 and all(c.text == "accepted" for r in qc.rows
                                      for c in r.cells[-1:])
    il1b = next(t for t in report.tables if t.kind == "summary" and any(
        "IL-1β" in c for c in t.columns))
    assert any("< / > limit" in f for f in il1b.footnotes)
    listing = next(t for t in report.tables if t.key == "listing-neurochem")
    cells = [c.text for r in listing.rows for c in r.cells]
    assert any(c.startswith("< ") for c in cells)
