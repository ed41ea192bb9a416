"""Findings, conclusions and methods text: what the report proposes from the statistics."""


def test_proposed_loael_ignores_differences_before_dosing():
    """A significant difference at the pre-test is no treatment effect (stranger's trial:
    'Rears' at the pre-test made 10 mg/kg the proposed LOAEL of a study whose effects
    were all at 100 mg/kg)."""
    import pandas as pd

    from neurotox.report.findings import proposed_loael
    from neurotox.study import Group

    groups = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
              Group(id="G2", label="Low", dose=10, dose_unit="mg/kg/day"),
              Group(id="G4", label="High", dose=100, dose_unit="mg/kg/day")]
    rows = [("fob_rearing", "G2", "pretest", "up", "*"),
            ("fob_rearing", "G2", "pretest", "down", "*"),
            ("motor_activity_counts", "G2", "pretest_bin02", "down", "*"),
            ("fob_tremors", "G4", "week4", "up", "**")]
    results = pd.DataFrame([{"endpoint": e, "group": g, "timepoint": tp, "direction": d,
                             "flag": f, "sex": "M", "is_control": False}
                            for e, g, tp, d, f in rows])
    group, endpoints = proposed_loael(results, groups, "M")
    assert group.id == "G4" and endpoints == ["Tremors"]


def test_proposed_loael_ignores_supplementary_per_timepoint_comparisons():
    """stranger37: %MPE at 2 mg/kg differed at Day 7 and Day 21, but the group x time
    interaction had p = 0.111: those comparisons are supplementary, no LOAEL basis."""
    import pandas as pd

    from neurotox.report.findings import _supplementary, proposed_loael
    from neurotox.study import Group

    groups = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg", control=True),
              Group(id="G2", label="Low", dose=1, dose_unit="mg/kg"),
              Group(id="G3", label="High", dose=2, dose_unit="mg/kg")]
    rows = [("hargreaves_mpe", "G2", "day7", "down", "*"),
            ("hargreaves_mpe", "G3", "day21", "down", "**"),
            ("vf_threshold_updown", "G3", "day7", "down", "**")]
    results = pd.DataFrame([{"assay": "cipn", "endpoint": e, "group": g, "timepoint": tp,
                             "direction": d, "flag": f, "sex": "M", "is_control": False}
                            for e, g, tp, d, f in rows])
    decisions = pd.DataFrame({"assay": "cipn", "endpoint": ["hargreaves_mpe",
                                                            "vf_threshold_updown"],
                              "sex": "M", "timepoint": "ALL", "path": "repeated_measures",
                              "overall_p": [0.111, 0.004], "alpha": 0.05})
    supplementary = _supplementary(decisions)
    assert supplementary == {("cipn", "hargreaves_mpe", "M")}
    assert proposed_loael(results, groups, "M")[0].id == "G2"
    group, endpoints = proposed_loael(results, groups, "M", supplementary=supplementary)
    assert group.id == "G3" and endpoints == ["Von Frey 50% threshold (up-down)"]


def test_methods_do_not_list_a_trend_test_that_could_not_run():
    import pandas as pd

    from neurotox.report.methods import _trend_paragraph

    decisions = pd.DataFrame({"trend_test": ["Williams", "Cochran-Armitage (not testable)",
                                             "Cochran-Armitage (exact)", ""]})
    assert _trend_paragraph(decisions) == [
        "Dose-related trends were tested with Cochran-Armitage (exact), Williams. "
        "Williams-type tests step down from the highest dose: the p-value of a dose is "
        "step-down adjusted (the largest p of that dose and every higher dose), so its "
        "flag is the step-down's decision."]
    assert _trend_paragraph(decisions.iloc[[1]]) == []
    assert _trend_paragraph(decisions.iloc[[2]]) == [
        "Dose-related trends were tested with Cochran-Armitage (exact)."]


def test_groups_without_dose_order_get_labels_and_no_lowest_effect_dose():
    """Sham / injury / injury + drug, all at dose 0 (the von Frey SNI timeline): a dose is
    no column label and the statistics propose no LOAEL."""
    from neurotox.report.findings import doses_ordered
    from neurotox.study import Group

    def g(gid, dose, control=False):
        return Group(id=gid, label=gid, dose=dose, dose_unit="mg/kg/day", control=control)

    assert doses_ordered([g("C", 0, True), g("L", 10), g("H", 100)])
    assert not doses_ordered([g("sham", 0, True), g("SNI", 0), g("drug", 0)])
    assert not doses_ordered([g("C", 0, True), g("A", 10), g("B", 10)])


def _baseline_study(baseline_p: dict, later_p: dict, *, tp0: str = "day-1"):
    """Von Frey thresholds (g) at a pre-dose session ``tp0``, Day 7 and Day 14 (males).

    ``baseline_p`` and ``later_p`` give the vs-control p of G2/G3 at ``tp0`` and Day 7
    (Day 14 is never significant). Values: G3 lower than control everywhere.
    """
    import pandas as pd

    from .conftest import GROUPS, _decision, _result, _row

    dose = {g: d for g, _, d, _ in GROUPS}
    rows = []
    for g, *_ in GROUPS:
        for i in range(4):
            for tp in (tp0, "day7", "day14"):
                v = 10.0 + i - (3 if g == "G3" else 0)
                rows.append(_row(assay="cipn", category="neurobehavioral",
                                 endpoint="vf_threshold_updown", unit="g", subject=f"{g}M{i}",
                                 group=g, dose=dose[g], sex="M", timepoint=tp, value=v))
    table = pd.DataFrame(rows)
    p_of = {**{(g, tp0): p for g, p in baseline_p.items()},
            **{(g, "day7"): p for g, p in later_p.items()}}
    res = [_result(table, "cipn", "vf_threshold_updown", "continuous", "M", tp, g,
                   p_of.get((g, tp), 0.5) if g != "G1" else float("nan"), "Dunnett", "Williams")
           for tp in (tp0, "day7", "day14") for g, *_ in GROUPS]
    dec = [_decision("cipn", "vf_threshold_updown", "continuous", "M", tp, "parametric",
                     "Dunnett", "one-way ANOVA", "Williams") for tp in (tp0, "day7", "day14")]
    return table, pd.DataFrame(res), pd.DataFrame(dec)


def test_baseline_differences_are_shown_but_not_counted_as_findings():
    """stranger30 M1: a pre-dose (Day -1) difference was counted in the Summary of findings
    ("↓** (4 of 5 timepoints)") while the NOAEL table left it out. Rendered values."""
    import io

    from docx import Document
    from openpyxl import load_workbook

    from neurotox.report import build_report
    from neurotox.report.render import render_docx, render_html, render_xlsx

    from .conftest import make_spec

    table, results, decisions = _baseline_study({"G2": 0.02, "G3": 0.03}, {"G3": 0.004})
    report = build_report(make_spec(), table, results, decisions, software={"neurotox": "0"},
                          figures=False, bmd=False, parameters={"cipn": {"baseline": "day-1"}})
    findings = report.tables[0]
    assert findings.kind == "findings"
    low, high = findings.rows[0].cells
    assert low.text == "– [Baseline (Day −1) ↓*]" and low.flag == ""
    assert high.text == "↓** (Day 7) [Baseline (Day −1) ↓*]" and high.flag == "**"
    assert high.numbers["p_value"] == 0.004  # the dosed finding's p, not the baseline's
    note = ("[ ]: statistically significant differences in sessions before dosing (baseline, "
            "pre-test), shown but not counted as findings: they reflect the allocation of "
            "animals to groups, not the treatment.")
    assert note in findings.footnotes
    # the NOAEL table agrees: the low dose (baseline difference only) is no LOAEL
    conclusions = report.tables[1]
    assert conclusions.rows[0].cells[2].text == "100 mg/kg/day"

    html = render_html(report).decode()
    assert "↓** (Day 7) [Baseline (Day −1) ↓*]" in html
    assert "– [Baseline (Day −1) ↓*]" in html and "day-1" not in html
    docx_text = [c.text for t in Document(io.BytesIO(render_docx(report))).tables
                 for r in t.rows for c in r.cells]
    assert "↓** (Day 7) [Baseline (Day −1) ↓*]" in docx_text
    ws = load_workbook(io.BytesIO(render_xlsx(report)))["T01 findings"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Von Frey 50% threshold "
               "(up-down)")
    assert row[2:8] == ("– [Baseline (Day −1) ↓*]", 0.5, None,
                        "↓** (Day 7) [Baseline (Day −1) ↓*]", 0.004, "**↓")
    # the summary and listing tables label the session the same way
    assert [t.columns[0] for t in report.tables[2:]] == ["Baseline (Day −1)"] * 2


def test_negative_day_is_pre_dose_without_a_protocol_baseline_and_day0_when_declared():
    """Day -1 is before dosing by its number; Day 0 only when the protocol says so."""
    from neurotox.report.context import Context
    from neurotox.report.findings import findings_tables
    from neurotox.report.labels import TimepointLabels

    from .conftest import make_spec

    table, results, decisions = _baseline_study({"G3": 0.03}, {}, tp0="day-1")
    ctx = Context(make_spec(), table)
    cells = findings_tables(ctx, results, decisions, 1)[0].rows[0].cells
    assert [c.text for c in cells] == ["–", "– [Baseline (Day −1) ↓*]"]

    table, results, decisions = _baseline_study({"G3": 0.03}, {}, tp0="day0")
    cells = findings_tables(Context(make_spec(), table), results, decisions, 1)[0].rows[0].cells
    assert cells[1].text == "↓* (Day 0)"  # no baseline declared: a dosing day
    labels = TimepointLabels.from_parameters({"vf": {"baseline": "day0"}}, {"vf": "cipn"})
    cells = findings_tables(Context(make_spec(), table, labels), results, decisions,
                            1)[0].rows[0].cells
    assert cells[1].text == "– [Baseline (Day 0) ↓*]"


def _von_frey_days(p_of: dict, interaction_p: float):
    """Von Frey (males) at Day 7, 14, 21 with hand-set vs-control p per (group, day) and the
    mixed model's group × time interaction p (decision row ``ALL``)."""
    import pandas as pd

    from .conftest import GROUPS, _decision, _result, _row

    days = ("day7", "day14", "day21")
    dose = {g: d for g, _, d, _ in GROUPS}
    table = pd.DataFrame([
        _row(assay="cipn", category="neurobehavioral", endpoint="vf_threshold_updown",
             unit="g", subject=f"{g}M{i}", group=g, dose=dose[g], sex="M", timepoint=tp,
             value=10.0 + i - (3 if g != "G1" else 0))
        for g, *_ in GROUPS for i in range(4) for tp in days])
    res = [_result(table, "cipn", "vf_threshold_updown", "continuous", "M", tp, g,
                   p_of.get((g, tp), 0.5) if g != "G1" else float("nan"), "Dunnett", "")
           for tp in days for g, *_ in GROUPS]
    dec = [_decision("cipn", "vf_threshold_updown", "continuous", "M", tp, "parametric",
                     "Dunnett", "one-way ANOVA", "") for tp in days]
    dec.append({**_decision("cipn", "vf_threshold_updown", "continuous", "M", "ALL",
                            "repeated_measures", "", "MixedLM group x time interaction", ""),
                "overall_p": interaction_p})
    return table, pd.DataFrame(res), pd.DataFrame(dec)


def test_findings_give_each_timepoint_its_own_flag_and_mark_supplementary_ones():
    """stranger37 #2: "↓** (Day 7, Day 14, Day 21)" while Day 14 was p = 0.014 (*), and
    per-timepoint tests the mixed model called supplementary (interaction p = 0.111)
    were listed as findings without saying so."""
    from neurotox.report.context import Context
    from neurotox.report.findings import findings_tables

    from .conftest import make_spec

    p_of = {("G2", "day7"): 0.003, ("G2", "day14"): 0.014, ("G2", "day21"): 0.001,
            ("G3", "day7"): 0.046, ("G3", "day21"): 0.008}
    table, results, decisions = _von_frey_days(p_of, interaction_p=0.0007)
    t = findings_tables(Context(make_spec(), table), results, decisions, 1)[0]
    low, high = t.rows[0].cells
    assert low.text == "↓** (Day 7, Day 21), ↓* (Day 14)"
    assert low.flag == "**" and low.numbers["p_value"] == 0.001
    assert high.text == "↓* (Day 7), ↓** (Day 21)"
    assert not any("§" in n for n in t.footnotes)

    table, results, decisions = _von_frey_days(p_of, interaction_p=0.111)
    t = findings_tables(Context(make_spec(), table), results, decisions, 1)[0]
    assert [c.text for c in t.rows[0].cells] == ["↓** (Day 7, Day 21), ↓* (Day 14) §",
                                                 "↓* (Day 7), ↓** (Day 21) §"]
    assert ("§ supplementary: the group × time interaction of the repeated-measures "
            "analysis was not statistically significant (p > 0.05), so the per-timepoint "
            "comparisons are supplementary and not findings on their own.") in t.footnotes
    # a cell without findings gets no mark
    table, results, decisions = _von_frey_days({("G3", "day7"): 0.02}, interaction_p=0.3)
    cells = findings_tables(Context(make_spec(), table), results, decisions, 1)[0].rows[0].cells
    assert [c.text for c in cells] == ["–", "↓* (Day 7) §"]


def test_findings_name_timepoints_in_the_statistics_time_order():
    """The table's one time order (the results' ``time_order``, here the reverse of the
    labels') orders every cell's timepoints, not the labels read as times."""
    from neurotox.report.context import Context
    from neurotox.report.findings import findings_tables

    from .conftest import make_spec

    p_of = {("G2", "day7"): 0.003, ("G2", "day14"): 0.014, ("G2", "day21"): 0.001,
            ("G3", "day7"): 0.046, ("G3", "day21"): 0.008}
    table, results, decisions = _von_frey_days(p_of, interaction_p=0.0007)
    results["time_order"] = results["timepoint"].map({"day21": 0.0, "day14": 1.0, "day7": 2.0})
    cells = findings_tables(Context(make_spec(), table), results, decisions, 1)[0].rows[0].cells
    assert [c.text for c in cells] == ["↓** (Day 21, Day 7), ↓* (Day 14)",
                                       "↓** (Day 21), ↓* (Day 7)"]
