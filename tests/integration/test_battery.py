"""Battery end to end: simulated TG 424 study and real-layout fixtures through the stats engine."""

import json
from pathlib import Path

import pandas as pd
import pytest

from neurotox import stats
from neurotox.pipeline import collect_endpoints
from neurotox.simulate.battery import DERIVED, PLANTED
from neurotox.simulate.battery import write_study as simulate_424
from neurotox.study import StatisticsPlan, load_study

DATA = Path(__file__).resolve().parents[1] / "unit" / "battery" / "data"
RANK_TESTS = {"Dunn", "Steel", "Kruskal-Wallis", "Mann-Whitney", "Wilcoxon"}


def flagged(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["flag"].fillna("").astype(str).str.len() > 0]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    truth = simulate_424(folder, 20260101)
    study = load_study(folder / "study.yaml")
    table = collect_endpoints(study).table
    return study, table, stats.analyse(table, study.spec.statistics, study.spec.groups), truth


def test_simulated_study_has_every_data_type(sim):
    _, table, _, _ = sim
    from neurotox.endpoints import registry
    types = {registry()[e].data_type.value for e in table["endpoint"].unique()}
    assert {"continuous", "incidence", "ordinal", "count"} <= types
    assert any(registry()[e].repeated_measures for e in table["endpoint"].unique())
    assert set(table["category"]) == {"neurobehavioral", "structural"}


@pytest.mark.parametrize("endpoint", sorted(PLANTED))
def test_planted_high_dose_effects_are_flagged(sim, endpoint):
    _, _, analysis, _ = sim
    timepoints, _ = PLANTED[endpoint]
    hits = flagged(analysis.results)
    hits = hits[(hits["endpoint"] == endpoint) & (hits["group"] == "G4")
                & hits["timepoint"].isin(timepoints)]
    assert len(hits) >= 1, f"{endpoint} not flagged at the high dose"


def test_false_flags_are_few(sim):
    _, _, analysis, _ = sim
    r = analysis.results[~analysis.results["is_control"].astype(bool)]
    effect = {**PLANTED, **DERIVED}
    planted = pd.Series([e in effect and tp in effect[e][0] and g == "G4"
                         for e, tp, g in zip(r["endpoint"], r["timepoint"], r["group"],
                                             strict=True)], index=r.index)
    null = r[~planted & r["p_value"].notna()]
    false = flagged(null)
    # 5% expected per comparison; allow up to 8% in this one realisation
    assert len(false) <= 0.08 * len(null), false[["endpoint", "sex", "timepoint", "group"]]


def test_analysis_paths_follow_data_types(sim):
    _, _, analysis, _ = sim
    r = analysis.results[~analysis.results["is_control"].astype(bool)]
    tests = r.groupby("data_type")["test"].agg(lambda s: set(s.dropna()) - {""})
    assert tests["incidence"] <= {"Fisher exact"}
    assert tests["ordinal"] <= RANK_TESTS
    d = analysis.decisions
    rm = d[d["timepoint"] == "ALL"]
    assert set(rm["endpoint"]) == {"motor_activity_counts", "startle_amplitude_block"}
    assert set(rm["path"]) == {"repeated_measures"}


def _fixture_study(tmp_path, assay, protocol, src, subjects):
    subjects.to_csv(tmp_path / "subjects.csv", index=False)
    (tmp_path / src.name).write_bytes(src.read_bytes())
    groups = [{"id": "G1", "label": "Control", "dose": 0, "dose_unit": "mg/kg/day",
               "control": True}, {"id": "G2", "label": "High", "dose": 100,
                                  "dose_unit": "mg/kg/day"}]
    import yaml
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({
        "study_id": "FX-1", "title": "fixture", "test_item": "X", "groups": groups,
        "subjects": "subjects.csv", "assays": [{"assay": assay, "protocol": protocol,
                                                 "input": src.name}],
        "statistics": {"pool_sexes": True}}))
    study = load_study(tmp_path / "study.yaml")
    table = collect_endpoints(study).table
    plan = StatisticsPlan(pool_sexes=True)
    return table, stats.analyse(table, plan, study.spec.groups)


SUBJECTS = pd.DataFrame({"subject": ["A1", "A2", "B1", "B2"], "group": ["G1", "G1", "G2", "G2"],
                         "sex": ["M", "F", "M", "F"]})


def test_fob_fixture_analysed_by_type(tmp_path):
    table, analysis = _fixture_study(tmp_path, "fob", "fob-standard", DATA / "fob_mixed.csv",
                                     SUBJECTS)
    r = analysis.results.set_index(["endpoint", "group"])
    assert r.loc[("fob_tremors", "G2"), "test"] == "Fisher exact"
    assert r.loc[("fob_tremors", "G2"), "n_affected"] == 2
    assert r.loc[("fob_tremors", "G1"), "n_examined"] == 2
    assert r.loc[("fob_palpebral_closure", "G2"), "data_type"] == "ordinal"
    assert r.loc[("grip_strength_forelimb", "G1"), "mean"] == pytest.approx((1100 + 925) / 2)
    assert r.loc[("grip_strength_forelimb", "G2"), "data_type"] == "continuous"


def test_motor_activity_fixture_repeated_measures(tmp_path):
    table, analysis = _fixture_study(tmp_path, "motor_activity", "motor-activity-standard",
                                     DATA / "motor_activity_6x10.csv", SUBJECTS)
    d = analysis.decisions
    rm = d[(d["endpoint"] == "motor_activity_counts") & (d["timepoint"] == "ALL")]
    assert len(rm) == 1 and rm["path"].iloc[0] == "repeated_measures"
    r = analysis.results.set_index(["endpoint", "timepoint", "group"])
    assert r.loc[("motor_activity_total", "week4", "G1"), "mean"] == (1218 + 1415) / 2
    assert r.loc[("motor_activity_counts", "week4_bin06", "G2"), "mean"] == (48 + 57) / 2


def test_neuropathology_fixture_incidence_and_severity(tmp_path):
    table, analysis = _fixture_study(tmp_path, "neuropathology", "neuropathology-standard",
                                     DATA / "neuropath_findings.csv", SUBJECTS)
    r = analysis.results.set_index(["endpoint", "group"])
    inc = r.loc[("np_sciatic_nerve_axonal_degeneration", "G2")]
    assert (inc["test"], inc["n_affected"], inc["n_examined"]) == ("Fisher exact", 2, 2)
    sev = r.loc[("np_sciatic_nerve_axonal_degeneration_severity", "G2")]
    assert sev["data_type"] == "ordinal" and sev["median"] == 2.5


@pytest.mark.slow
def test_report_lists_deviations_in_report_and_manifest(tmp_path, invoke):
    folder = tmp_path / "study"
    folder.mkdir()
    simulate_424(folder, 11)
    fob = pd.read_csv(folder / "fob.csv")
    fob[~fob["subject"].isin(["G3F01", "G3F02", "G3F03"])].to_csv(folder / "fob.csv", index=False)
    res = invoke("report", folder / "study.yaml", "-o", tmp_path / "rep")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    expected = ("NTX-SIM-424: OECD TG 424 functional observational battery (neurobehavioral): "
                "fewer than 10 animals per sex per group (group/sex n: G3/F 7)")
    assert expected in manifest["deviations"]
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "fewer than 10 animals per sex per group" in html


# ----------------------------------------------- simulated TG 426 (litter as the unit)

@pytest.fixture(scope="module")
def dnt(tmp_path_factory):
    from neurotox.simulate.dnt import write_study as simulate_426

    folder = tmp_path_factory.mktemp("dnt")
    truth = simulate_426(folder, 20260101)
    study = load_study(folder / "study.yaml")
    collected = collect_endpoints(study)
    analysis = stats.analyse(collected.table, study.spec.statistics, study.spec.groups)
    return study, collected, analysis, truth


def test_dnt_simulation_design(dnt):
    from neurotox.simulate.dnt import PLANTED

    study, collected, _, truth = dnt
    subjects = study.subjects
    assert subjects.groupby("group")["litter"].nunique().tolist() == [20] * 4
    pups = subjects.groupby(["litter", "sex"]).size()
    assert set(pups) == {2, 3}  # several pups of each sex per litter
    assert study.spec.statistics.litter_unit == "means"
    assert {p["endpoint"] for p in truth["planted"]} == set(PLANTED)
    assert truth["experimental_unit"] == "litter"
    t = collected.table
    assert set(t.loc[t["endpoint"] == "motor_activity_total", "timepoint"]) == {
        "PND13", "PND17", "PND21", "PND60"}
    assert set(t.loc[t["endpoint"] == "startle_amplitude_mean", "timepoint"]) == {
        "PND22", "PND60"}
    assert set(t.loc[t["endpoint"] == "brain_weight", "timepoint"]) == {"PND22", "PND70"}
    assert set(t["category"]) == {"neurodevelopmental", "neurobehavioral", "structural"}


def test_dnt_analysis_is_by_litter(dnt):
    _, collected, analysis, _ = dnt
    t = collected.table
    pups = t[(t["endpoint"] == "startle_amplitude_mean") & (t["timepoint"] == "PND22")
             & (t["group"] == "G1") & (t["sex"] == "M")]
    assert len(pups) == 40 and pups["batch"].nunique() == 20  # 2 pups x 20 litters
    r = analysis.results.set_index(["endpoint", "sex", "timepoint", "group"])
    row = r.loc[("startle_amplitude_mean", "M", "PND22", "G1")]
    assert row["n"] == 20
    litter_means = pups.groupby("batch")["value"].mean()
    assert row["mean"] == pytest.approx(litter_means.mean())
    assert row["sd"] == pytest.approx(litter_means.std(ddof=1))
    assert row["sd"] != pytest.approx(pups["value"].std(ddof=1), rel=1e-3)  # not pooled pups
    assert r.loc[("dev_vaginal_opening_age", "F", "NA", "G4"), "n"] == 20
    assert r.loc[("motor_activity_total", "F", "PND13", "G2"), "n"] == 20


def test_dnt_planted_effects_are_flagged(dnt):
    from neurotox.simulate.dnt import PLANTED

    _, _, analysis, _ = dnt
    hits = flagged(analysis.results)
    hits = hits[hits["group"] == "G4"]
    for endpoint, (timepoints, _) in PLANTED.items():
        for tp in timepoints:
            sel = hits[(hits["endpoint"] == endpoint) & (hits["timepoint"] == tp)]
            assert len(sel) >= 1, f"{endpoint} {tp} not flagged at the high dose"
    bw = analysis.results[(analysis.results["endpoint"] == "brain_weight")
                          & (analysis.results["group"] == "G4")]
    assert set(bw["test"]) == {"ANCOVA (covariate: terminal body weight)"}
    assert (bw["flag"] == "**").all()  # both sexes, PND 22 and 70
    ma = analysis.results[(analysis.results["endpoint"] == "motor_activity_total")
                          & (analysis.results["group"] == "G4")].set_index(["sex", "timepoint"])
    assert ma["percent_of_control"].loc[[("M", "PND21"), ("F", "PND21")]].between(130, 190).all()


def test_dnt_report_flags_planted_effects_with_ancova_footnote(dnt):
    import re

    from neurotox.guidelines import check_study
    from neurotox.report import build_report
    from neurotox.report.labels import session_label
    from neurotox.report.tables import dose_text, label_of
    from neurotox.simulate.dnt import PLANTED as PLANTED_426

    study, collected, analysis, _ = dnt
    deviations = check_study(study, collected.table, collected.notes)
    assert deviations == []
    report = build_report(study.spec, collected.table, analysis.results, analysis.decisions,
                          software={"neurotox": "test"}, deviations=deviations, figures=False,
                          bmd=False)
    findings = [t for t in report.tables if t.kind == "findings"]
    rows = {r.labels[0]: (t, r) for t in findings for r in t.rows}
    high = dose_text(next(g for g in study.spec.groups if g.id == "G4"))
    for endpoint, (timepoints, _) in PLANTED_426.items():
        table, row = rows[label_of(endpoint)]
        g4 = [c for c, col in zip(row.cells, table.columns, strict=True)
              if col == high and c.text]  # the sexes that have the endpoint
        assert g4 and all(c.flag for c in g4), (endpoint, [c.text for c in g4])
        for cell in g4:  # every planted timepoint named, or counted among the flagged ones
            counted = re.search(r"\((\d+) of \d+ timepoints\)", cell.text)
            named = [session_label(tp) for tp in timepoints if tp != "NA"]
            assert (counted and int(counted.group(1)) >= len(named)) or \
                all(n in cell.text for n in named), (endpoint, cell.text)
    brain = [t for t in report.tables if t.kind != "listing"
             and any("ANCOVA (covariate: terminal body weight)" in f for f in t.footnotes)]
    assert brain, "no table footnote names the ANCOVA"
    ancova_notes = [f for t in brain for f in t.footnotes if "ANCOVA (covariate" in f]
    assert all("trend test on unadjusted values" in f and "Williams" in f
               for f in ancova_notes), ancova_notes
    assert all(any(c.endswith("ANCOVA-adjusted mean") for c in t.columns) for t in brain)
    methods = [m for m in report.methods if "analysis of covariance" in m]
    assert len(methods) == 1 and "ANCOVA (covariate: terminal body weight) vs control" in \
        methods[0] and "Brain weight" in methods[0], report.methods


def test_tg426_report_says_litters_are_the_unit(dnt):
    """Golden rule of TG 426: n is litters; tables and methods say so and count both."""
    from neurotox.report import build_report

    study, collected, analysis, _ = dnt
    report = build_report(study.spec, collected.table, analysis.results, analysis.decisions,
                          software={"neurotox": "test"}, figures=False, bmd=False,
                          details=collected.details)
    summaries = [t for t in report.tables if t.kind == "summary"]
    assert summaries
    for t in summaries:
        assert t.header["Unit of analysis"] == "litter (litter means), OECD TG 426"
        assert "litter means (n = number of litters" in t.footnotes[0], t.footnotes[0]
    brain_m = next(t for t in summaries if t.title.startswith("Summary: Brain weight — ")
                   and t.header["Sex"] == "Males" and "PND 22" in t.columns)
    table = collected.table
    rows = table[(table["endpoint"] == "brain_weight") & (table["sex"] == "M")
                 & ~table["excluded"]]
    pups, litters = rows["subject"].nunique(), rows["batch"].nunique()
    assert f"{pups} pups from {litters} litters" in brain_m.footnotes[0]
    res = analysis.results
    pnd22 = rows[rows["timepoint"] == "PND22"]
    res22 = res[(res["endpoint"] == "brain_weight") & (res["sex"] == "M")
                & (res["timepoint"] == "PND22")].set_index("group")["n"]
    # n in the cells is the number of litters of each group, not the number of pups
    assert res22.to_dict() == pnd22.groupby("group")["batch"].nunique().to_dict()
    assert table["subject"].nunique() > table["batch"].nunique()  # pups outnumber litters
    # landmark litter means are litters: the pups are those of the file (2 per sex and
    # litter), 400 pups with data in the study's files, not rows of litter means
    folder = study.path.parent
    marks = pd.read_csv(folder / "landmarks.csv")
    assert marks.groupby("landmark")["subject"].nunique().to_dict() == {
        "preputial_separation": 160, "vaginal_opening": 160}
    for title in ("Summary: Preputial separation", "Summary: Vaginal opening"):
        lm = next(t for t in summaries if t.title.startswith(title))
        assert "(n = number of litters; 160 pups from 80 litters)" in lm.footnotes[0]
    files = ("landmarks", "brain_weights", "motor_activity", "startle",
             "neuropathology_findings")
    with_data = set().union(*(set(pd.read_csv(folder / f"{f}.csv")["subject"]) for f in files))
    assert len(with_data) == 400
    design = report.methods[0]
    assert "number of litters (400 pups from 80 litters)." in design
    dev = next(t for t in report.tables if t.key == "listing-developmental")
    assert ("Litter means are listed, one row per litter and sex (320 pups from 80 litters); "
            "statistics used litter means (n = number of litters).") in dev.footnotes
    assert "Sexes were analysed separately." in design
    listing = next(t for t in report.tables if t.key == "listing-brain-weight")
    assert any("statistics used litter means (n = number of litters)" in f
               for f in listing.footnotes)


def test_dnt_false_flags_are_few(dnt):
    from neurotox.simulate.dnt import DERIVED as DERIVED_426
    from neurotox.simulate.dnt import PLANTED as PLANTED_426

    _, _, analysis, _ = dnt
    r = analysis.results[~analysis.results["is_control"].astype(bool)]
    effect = {**PLANTED_426, **DERIVED_426}
    planted = pd.Series([e in effect and tp in effect[e][0] and g == "G4"
                         for e, tp, g in zip(r["endpoint"], r["timepoint"], r["group"],
                                             strict=True)], index=r.index)
    null = r[~planted & r["p_value"].notna()]
    false = flagged(null)
    # 5% expected per comparison; allow up to 8% in this one realisation
    assert len(false) <= 0.08 * len(null), false[["endpoint", "sex", "timepoint", "group"]]
