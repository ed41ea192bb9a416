import math

import numpy as np
import pandas as pd
import pytest

from neurotox.report.tables import build_tables, not_tested_reason, summary_cell


def _tables(table, analysis, spec):
    results, decisions = analysis
    return build_tables(results, decisions, table, spec)


def test_table_model_matches_golden(table, analysis, spec, check_golden):
    check_golden("tables.json", [t.to_dict() for t in _tables(table, analysis, spec)])


def test_tables_grouped_by_kind_then_listings(table, analysis, spec):
    tables = _tables(table, analysis, spec)
    assert [t.kind for t in tables] == ["summary"] * 4 + ["incidence"] * 2 + \
        ["severity"] * 2 + ["listing"] * 2
    assert [t.number for t in tables] == list(range(1, 11))
    assert len({t.key for t in tables}) == len(tables)


def test_summary_cell_values(table, analysis, spec):
    grip_m = _tables(table, analysis, spec)[0]
    assert grip_m.title.startswith("Summary: Forelimb grip strength")
    assert grip_m.header["Sex"] == "Males"
    assert grip_m.header["GLP status"] == "GLP"
    texts = [r.cells[0].text for r in grip_m.rows]
    # G2 M: 980, 940, 1000 (960 excluded): mean 973.3, SD 30.6, n 3; 97% of 1000
    assert texts == ["1000 ± 42 (4)", "973 ± 31 (3) [97%]", "805 ± 34 (4)**↓ [81%]",
                     "p = 0.002**"]
    assert high_cell_decimals(grip_m) == 0
    assert grip_m.rows[3].labels == ("Trend test", "")
    high = grip_m.rows[2].cells[0]
    assert high.numbers["mean"] == pytest.approx(805.0)
    assert high.numbers["p_value"] == pytest.approx(0.004)
    assert (high.flag, high.direction) == ("**", "down")


def high_cell_decimals(t):
    return t.rows[2].cells[0].decimals


def _p_flag(p: float, alpha: float) -> str:
    if not math.isfinite(p):
        return ""
    return "**" if p <= 0.01 else "*" if p <= alpha else ""


def test_every_flag_agrees_with_its_p_value(table, analysis, spec):
    results, _ = analysis
    for t in _tables(table, analysis, spec):
        if t.kind not in ("summary", "incidence"):
            continue
        for row in t.rows:
            for cell in row.cells:
                assert cell.flag == _p_flag(cell.numbers["p_value"], 0.05)
                assert cell.flag in cell.text
    # and each p-value in a table is one of the results' p-values for that group
    g3 = results[(results["group"] == "G3") & (results["endpoint"] == "tremor")]
    assert set(g3["flag"]) == {"*"}


def test_footnote_names_the_test_of_the_decision_path(table, analysis, spec):
    _, decisions = analysis
    motor_m = _tables(table, analysis, spec)[2]
    dec = decisions[(decisions["endpoint"] == "motor_activity_counts")
                    & (decisions["sex"] == "M")].set_index("timepoint")
    notes = "\n".join(motor_m.footnotes)
    for tp in ("bin1", "bin2", "bin10"):
        label = tp.replace("bin", "Bin ")
        line = next(n for n in motor_m.footnotes if n.split(":")[0].split(", ").count(label))
        assert f"{dec.loc[tp, 'pairwise_test']} vs control ({dec.loc[tp, 'path']}" in line
    assert "all timepoints: linear mixed model" in notes
    assert "log-transformed" in notes


def test_columns_are_timepoints_in_natural_order(table, analysis, spec):
    motor_m = _tables(table, analysis, spec)[2]
    assert motor_m.columns == ("Bin 1", "Bin 2", "Bin 10")
    assert motor_m.column_groups == ()
    assert motor_m.header["Unit"] == "count"


def test_bins_of_sessions_are_labelled_with_their_minutes(table, analysis, spec):
    from neurotox.report.context import Context
    from neurotox.report.labels import TimepointLabels

    results, decisions = analysis
    rename = {"bin1": "pretest_bin01", "bin2": "pretest_bin02", "bin10": "week4_bin01"}
    results = results.assign(timepoint=results["timepoint"].replace(rename))
    decisions = decisions.assign(timepoint=decisions["timepoint"].replace(rename))
    labels = TimepointLabels.from_parameters({"motor_activity": {"interval_minutes": 10}}, {})
    ctx = Context(spec, table.assign(timepoint=table["timepoint"].replace(rename)), labels)
    motor_m = build_tables(results, decisions, ctx.table, ctx)[2]
    assert motor_m.columns == ("0–10 min", "10–20 min", "0–10 min")
    assert [(g.label, g.span) for g in motor_m.column_groups] == [("Pre-test", 2),
                                                                  ("Week 4", 1)]


def test_incidence_and_severity_cells(table, analysis, spec):
    tables = _tables(table, analysis, spec)
    inc = tables[4]
    assert [r.cells[0].text for r in inc.rows] == ["0/4 (0%)", "1/4 (25%)", "4/4 (100%)*↑",
                                                   "p = 0.004**"]
    assert inc.rows[2].cells[0].numbers["n_affected"] == 4
    sev = tables[6]
    assert sev.columns == ("Score 0", "Score 1", "Score 2", "Median")
    # G3 gait scores 0, 1, 2, 2 -> one 0, one 1, two 2
    assert [c.text for c in sev.rows[2].cells] == ["1", "1", "2", "1.5*↑"]


def test_listing_shows_excluded_value_with_reason(table, analysis, spec):
    listing = _tables(table, analysis, spec)[8]
    assert listing.row_header == ("Subject", "Group", "Sex")
    row = next(r for r in listing.rows if r.labels[0] == "G2M4")
    texts = [c.text for c in row.cells]
    assert "[960] excluded: animal moribund" in texts
    # every subject is listed, males first within a group
    assert len(listing.rows) == 24
    assert [r.labels[2] for r in listing.rows[:8]] == ["M"] * 4 + ["F"] * 4


def test_missing_group_gets_a_footnote(table, spec, results_factory):
    results, decisions = results_factory(table)
    results = results[~((results["group"] == "G2") & (results["endpoint"] == "tremor"))]
    inc = build_tables(results, decisions, table, spec)[4]
    assert [r.labels[0] for r in inc.rows] == ["G1 Vehicle control", "G3 High", "Trend test"]
    assert "Group G2 (Low) excluded: no values for this table." in inc.footnotes


def test_pooled_sexes_make_one_table_per_endpoint(table, results_factory, spec_factory):
    results, decisions = results_factory(table)
    results = results[results["sex"] == "M"].assign(sex="NA")
    decisions = decisions[decisions["sex"] == "M"].assign(sex="NA")
    tables = build_tables(results, decisions, table, spec_factory(pool_sexes=True))
    summaries = [t for t in tables if t.kind == "summary"]
    assert len(summaries) == 2
    assert summaries[0].header["Sex"] == "Sexes combined"


def test_a_study_without_sexes_names_no_sex(table, results_factory, spec_factory):
    """stranger30 L2: larvae tables were headed 'Sexes combined' (larvae have no sex)."""
    from neurotox.report import build_report

    results, decisions = results_factory(table)
    results = results[results["sex"] == "M"].assign(sex="NA")
    decisions = decisions[decisions["sex"] == "M"].assign(sex="NA")
    larvae = table[table["sex"] == "M"].assign(sex="NA")
    report = build_report(spec_factory(), larvae, results, decisions,
                          software={"neurotox": "0"}, figures=False, bmd=False)
    summary = next(t for t in report.tables if t.kind == "summary")
    assert "Sex" not in summary.header
    assert summary.title == "Summary: Forelimb grip strength — Neurobehavioral"
    findings, conclusions = report.tables[:2]
    assert findings.column_groups == ()
    assert [r.labels for r in conclusions.rows] == [("All",)]
    assert all("Sexes combined" not in j.title and "— —" not in j.title
               for j in report.figure_jobs)


def test_summary_cell_without_result_is_a_dash():
    cell = summary_cell(None, 1, True)
    assert cell.text == "–" and math.isnan(cell.numbers["mean"])


def test_summary_cell_for_control_has_no_percent():
    r = pd.Series({"mean": 10.0, "sd": 1.0, "n": 5, "percent_of_control": 100.0,
                   "p_value": np.nan, "flag": "", "direction": "", "is_control": True})
    assert summary_cell(r, 1, True).text == "10.0 ± 1.0 (5)"


def test_incidence_endpoints_over_time_share_one_table(table, spec, results_factory):
    results, decisions = results_factory(table)
    inc = results[results["endpoint"] == "tremor"]
    other = inc.assign(endpoint="convulsions", n_affected=0.0, incidence_pct=0.0, p_value=1.0,
                       flag="", direction="")
    both = pd.concat([inc.assign(timepoint="day1"), inc.assign(timepoint="day10"),
                      other.assign(timepoint="day1"), other.assign(timepoint="day10")])
    results = pd.concat([results[results["data_type"] != "incidence"], both])
    tables = [t for t in build_tables(results, decisions, table, spec) if t.kind == "incidence"]
    assert len(tables) == 2  # one per sex
    males = tables[0]
    assert males.columns == ("Day 1", "Day 10", "Day 1", "Day 10")
    assert [(g.label, g.span) for g in males.column_groups] == [("Convulsions", 2),
                                                               ("Tremor", 2)]
    assert [c.text for c in males.rows[2].cells] == ["0/4 (0%)", "0/4 (0%)", "4/4 (100%)*↑",
                                                     "4/4 (100%)*↑"]
    assert males.header["Unit"] == "incidence"


@pytest.mark.parametrize("n_cens, side, expected", [
    (0, "", "14.2 ± 3.1 (8)"),
    (3, "right", "≥ 14.2 ± 3.1 (8; 3 > 20.0)"),  # values at the cut-off: a lower bound
    (3, "left", "14.2 ± 3.1 (8; 3 < 20.0)"),
    (8, "right", "> 20.0 (8)"),
    (8, "left", "< 20.0 (8)"),
])
def test_summary_cell_shows_censored_values_as_limits(n_cens, side, expected):
    r = pd.Series({"mean": 14.2, "sd": 3.1, "n": 8, "percent_of_control": 100.0,
                   "p_value": np.nan, "flag": "", "direction": "", "is_control": True,
                   "n_censored": n_cens, "censoring": side, "censored_bound": 20.0})
    assert summary_cell(r, 1, True).text == expected


@pytest.mark.parametrize(("n_cens", "expected", "pct"), [
    (5, "< 9.145 (5)", None),  # stranger37 #8: "< 9.145 (5) [100%]" for all below LLOQ
    (2, "6.9 ± 2.3 (5; 2 < 9.145) [75%]", 75.0),
])
def test_no_percent_of_control_for_a_group_without_a_measured_value(n_cens, expected, pct):
    r = pd.Series({"mean": 6.9, "sd": 2.3, "n": 5, "percent_of_control": 75.0,
                   "p_value": np.nan, "flag": "", "direction": "", "is_control": False,
                   "n_censored": n_cens, "censoring": "left", "censored_bound": 9.145})
    cell = summary_cell(r, 1, True)
    assert cell.text == expected
    assert cell.numbers["percent_of_control"] == pct or (pct is None and np.isnan(
        cell.numbers["percent_of_control"]))


@pytest.mark.parametrize(("bound", "side", "decimals", "expected"), [
    # stranger30 M3: the up-down floor 0.0045 g printed "< 0.004", an LLOQ x dilution of
    # 1.37 pg/mL "< 1": rounding moved the limit and made the statement false
    (0.0045, "left", 3, "0.321 ± 0.120 (10; 1 < 0.0045)"),
    (0.685 * 2, "left", 0, "0 ± 0 (10; 1 < 1.37)"),
    (4.06225, "left", 1, "0.3 ± 0.1 (10; 1 < 4.063)"),  # beyond 4 figures: rounded up
    (17.94567, "right", 1, "≥ 0.3 ± 0.1 (10; 1 > 17.94)"),  # and down after ">"
    (20.0, "right", 1, "≥ 0.3 ± 0.1 (10; 1 > 20.0)"),
])
def test_censoring_limits_print_so_that_rounding_never_moves_them(bound, side, decimals,
                                                                   expected):
    r = pd.Series({"mean": 0.321, "sd": 0.12, "n": 10, "percent_of_control": 100.0,
                   "p_value": np.nan, "flag": "", "direction": "", "is_control": True,
                   "n_censored": 1, "censoring": side, "censored_bound": bound})
    assert summary_cell(r, decimals, True).text == expected


def test_listing_prints_limits_exactly_and_small_values_with_three_figures():
    """Rendered listing (html, docx, xlsx): "< 0.0045" not "< 0.004"; 0.009235 g as
    "0.00924" (not "0.01"), each with the number format of its text."""
    import io

    from docx import Document
    from openpyxl import load_workbook

    from neurotox.report import build_report
    from neurotox.report.render import render_docx, render_html, render_xlsx

    from .conftest import GROUPS, make_spec

    values = {"G1": [1.41, 2.2, 0.41], "G2": [0.6, 0.009235, 0.0045], "G3": [0.0045, 0.05, 1.0]}
    rows = [{"study_id": "NTX-T-001", "assay": "cipn", "category": "neurobehavioral",
             "endpoint": "vf_threshold_updown", "unit": "g", "subject": f"{g}M{i}", "group": g,
             "dose": d, "dose_unit": "mg/kg/day", "sex": "M", "timepoint": "day7",
             "value": values[g][i], "excluded": False, "exclusion_reason": "", "batch": "NA",
             "source": "hand", "censoring": "left" if values[g][i] == 0.0045 else "none"}
            for g, _, d, _ in GROUPS for i in range(3)]
    table = pd.DataFrame(rows)
    spec = make_spec()
    from neurotox.stats import analyse

    found = analyse(table, spec.statistics, spec.groups)
    report = build_report(spec, table, found.results, found.decisions,
                          software={"neurotox": "0"}, figures=False, bmd=False)
    listing = next(t for t in report.tables if t.kind == "listing")
    texts = [c.text for r in listing.rows for c in r.cells]
    # registry decimals 3; 0.009235 would print "0.009" (one figure), 0.05 keeps "0.050"
    assert texts == ["1.410", "2.200", "0.410", "0.600", "0.00924", "< 0.0045", "< 0.0045",
                     "0.050", "1.000"]
    html = render_html(report).decode()
    assert "< 0.0045" in html.replace("&lt;", "<") and "0.00924" in html
    docx = [c.text for t in Document(io.BytesIO(render_docx(report))).tables
            for r in t.rows for c in r.cells]
    assert "< 0.0045" in docx and "0.00924" in docx and "< 0.004" not in docx
    ws = load_workbook(io.BytesIO(render_xlsx(report)))[f"T{listing.number:02d} listing"]
    cells = {r[0]: (r[3], r[4], ws.cell(i, 5).number_format)
             for i, r in enumerate(ws.iter_rows(values_only=True), 1) if r[0] in ("G2M1",
                                                                                  "G2M2")}
    assert cells == {"G2M1": ("0.00924", 0.009235, "0.00000"),
                     "G2M2": ("< 0.0045", 0.0045, "0.0000")}


def test_listing_and_footnote_show_censoring(table, analysis, spec):
    results, decisions = analysis
    grip = table["endpoint"] == "grip_strength_forelimb"
    cens = table.assign(censoring=np.where(grip & (table["value"] >= 1050), "right", "none"))
    decisions = decisions.assign(censoring=np.where(
        decisions["endpoint"] == "grip_strength_forelimb",
        "1 of 24 values right-censored: censoring-aware rank test", ""))
    tables = build_tables(results, decisions, cens, spec)
    listing = next(t for t in tables if t.kind == "listing" and "fob" in t.title)
    texts = [c.text for row in listing.rows for c in row.cells]
    assert "> 1050" in texts and "1010" in texts
    grip_m = tables[0]
    assert any("1 of 24 values right-censored" in f for f in grip_m.footnotes)


@pytest.mark.parametrize(("control_n", "treated_n", "reason"), [
    (1, [1, 1], "n = 1 per group"),
    (5, [1, 1], "n = 1 per treated group"),
    # every value excluded (per-cell endpoints of a co-culture run): n is 0, not 1
    (0, [0, 0], "no included values"),
    # a treated group without values has n = 0, not 1 (EthoVision NOR: 5 of 6 excluded)
    (1, [0], "control n = 1, treated group n = 0 (no values)"),
    (3, [0], "treated group n = 0 (no values)"),
    (5, [1], "treated group n = 1"),
    (1, [0, 1], "control n = 1, n ≤ 1 per treated group (n = 0, 1)"),
    (4, [1, 0], "n ≤ 1 per treated group (n = 1, 0)"),
    (4, [0, 0], "n = 0 per treated group (no values)"),
    (0, [3, 4], "control n = 0 (no values)"),
    (1, [3, 4], "control n = 1"),
])
def test_not_tested_reason_states_the_group_sizes(control_n, treated_n, reason):
    rows = [{"n": control_n, "is_control": True}] + [{"n": n, "is_control": False}
                                                      for n in treated_n]
    assert not_tested_reason(rows) == reason


def test_endpoint_without_included_values_gets_no_summary_table(table, analysis, spec):
    # DRG axon fields: five per-cell endpoints without a single value each printed
    # two pages of "– ± – (0)"; the findings table still lists them as not tested
    results, decisions = analysis
    grip_m = (results["endpoint"] == "grip_strength_forelimb") & (results["sex"] == "M")
    emptied = results.copy()
    emptied.loc[grip_m, ["n", "mean", "sd", "sem"]] = [0, np.nan, np.nan, np.nan]
    before = [t.title for t in build_tables(results, decisions, table, spec)]
    after = [t.title for t in build_tables(emptied, decisions, table, spec)]
    gone = [t for t in before if t not in after]
    assert len(gone) == 1 and gone[0].startswith("Summary: Forelimb grip strength")
    assert "Males" in gone[0]


def test_signed_change_scores_get_no_percent_of_control():
    """stranger37 #9: %MPE (100 x (latency - baseline) / (cut-off - baseline)) printed
    "-69.4 ± 137.3 (10)*↓ [-836%]": a change score's zero is 'no change', not 'none'."""
    from neurotox import endpoints as ep_registry
    from neurotox.report.tables import ratio_scale

    signed = ["hargreaves_mpe", "hot_plate_mpe", "tail_flick_mpe",
              "motor_activity_habituation_pct", "startle_habituation_pct",
              "prepulse_inhibition_pct"]
    assert [ratio_scale(e) for e in signed] == [False] * 6
    assert ratio_scale("brain_weight_relative") and ratio_scale("hargreaves_latency")
    # already a percent of the concurrent control: "60.0 [60%]" says it twice
    assert not ratio_scale("rbc_che_percent_control")
    assert not ep_registry.registry()["brain_che_percent_control"].relative_to_control
    r = pd.Series({"mean": -69.4, "sd": 137.3, "n": 10, "percent_of_control": np.nan,
                   "p_value": 0.03, "flag": "*", "direction": "down", "is_control": False,
                   "n_censored": 0, "censoring": "", "censored_bound": np.nan})
    assert summary_cell(r, 1, ratio_scale("hargreaves_mpe")).text == "-69.4 ± 137.3 (10)*↓"
    assert ep_registry.registry()["prepulse_inhibition_pct"].display == "Prepulse inhibition"


def test_all_censored_analyte_has_one_reason_everywhere():
    """stranger37 #8: GM-CSF, all 20 values < 9.145: the cell said "all values are
    identical", the footnote "censoring-aware rank test", the methods "too few usable
    values". Now one reason, and no test is claimed."""
    from types import SimpleNamespace

    from neurotox.report.methods import _path_paragraph
    from neurotox.report.tables import censoring_footnotes, not_tested_reason

    recs = [{"group": g, "is_control": g == "G1", "n": 5, "n_censored": 5,
             "censoring": "left", "censored_bound": 9.145} for g in ("G1", "G2", "G3", "G4")]
    note = "all values are identical: no comparisons"
    assert not_tested_reason(recs, note) == \
        "all values below the limit (< 9.145): nothing measured to compare"
    # one group with a measured value: the stats' own reason stands
    assert not_tested_reason([{**recs[0], "n_censored": 4}, *recs[1:]], note) == \
        "all values are identical: no comparisons"
    dec = pd.DataFrame([{"endpoint": "gm_csf", "timepoint": "serum_day7",
                         "path": "insufficient_data", "pairwise_test": "", "note": note,
                         "censoring": "20 of 20 values left-censored: censoring-aware rank "
                                      "test (censored fraction 100% > 20%)"}])
    block = SimpleNamespace(decisions=dec, by="timepoint")
    assert censoring_footnotes(block)[1] == \
        "serum_day7: 20 of 20 values left-censored: not tested."
    part = dec.assign(sex="M")
    assert _path_paragraph("insufficient_data", part) == (
        'No test was performed for 1 analysis (GM-CSF); the tables say "not tested" and why.')


@pytest.mark.parametrize(("n_ctrl_cens", "shown"), [
    (5, False),   # stranger44 C2: "< 60 (5)" control, treated "[415%]" of 5 x limit/2
    (3, False),   # stranger45 #10: control mostly below the LLOQ
    (2, True),    # 2 of 5: the control mean rests mostly on measurements
])
def test_no_percent_of_a_mostly_censored_control_in_any_format(n_ctrl_cens, shown):
    import io
    from csv import DictReader

    from docx import Document
    from openpyxl import load_workbook

    from neurotox.report import build_report
    from neurotox.report.render import render_csv, render_docx, render_html, render_xlsx
    from neurotox.stats import analyse

    from .conftest import GROUPS, make_spec

    values = {"G1": [60.0, 60.0, 60.0, 60.0, 60.0], "G2": [124.0, 110.0, 150.0, 98.0, 140.0],
              "G3": [400.0, 380.0, 450.0, 420.0, 390.0]}
    values["G1"][n_ctrl_cens:] = [70.0, 80.0, 90.0][:5 - n_ctrl_cens]
    rows = [{"study_id": "NTX-T-001", "assay": "neurochem", "category": "neurochemical",
             "endpoint": "cxcl10", "unit": "pg/mL", "subject": f"{g}M{i}", "group": g,
             "dose": d, "dose_unit": "mg/kg/day", "sex": "M", "timepoint": "serum_day7",
             "value": values[g][i], "excluded": False, "exclusion_reason": "", "batch": "NA",
             "source": "hand", "censoring": "left" if g == "G1" and i < n_ctrl_cens else "none"}
            for g, _, d, _ in GROUPS for i in range(5)]
    table = pd.DataFrame(rows)
    spec = make_spec()
    found = analyse(table, spec.statistics, spec.groups)
    report = build_report(spec, table, found.results, found.decisions,
                          software={"neurotox": "0"}, figures=False, bmd=False)
    # G2 mean 124.4 over a control mean of (limit/2 x n_ctrl_cens + measured) / 5
    control = (30.0 * n_ctrl_cens + sum(values["G1"][n_ctrl_cens:])) / 5
    expected = [100 * 124.4 / control, 100 * 408.0 / control] if shown else [None, None]
    pct = found.results.set_index("group")["percent_of_control"]
    for got, want in zip(pct[["G2", "G3"]], expected, strict=True):
        assert (math.isnan(got) if want is None else got == pytest.approx(want))
    csv_rows = list(DictReader(io.StringIO(render_csv(report)["csv/results.csv"].decode())))
    assert [r["percent_of_control"] != "" for r in csv_rows] == [shown] * 3  # 100 on control
    summary = next(t for t in report.tables if t.kind == "summary")
    texts = [r.cells[0].text for r in summary.rows[:3]]
    assert ["%]" in t for t in texts] == [False, shown, shown]
    if not shown:
        assert any("nor for any group when more than half of the control's values are "
                   "censored" in f for f in summary.footnotes)
    html = render_html(report).decode()
    docx = [c.text for t in Document(io.BytesIO(render_docx(report))).tables
            for r in t.rows for c in r.cells]
    g2 = texts[1]
    assert g2 in html.replace("&lt;", "<") and g2 in docx
    ws = load_workbook(io.BytesIO(render_xlsx(report)))[f"T{summary.number:02d} summary"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Group")
    col = header.index("CXCL10 (IP-10) (pg/mL) | % of control")
    pcts = [r[col] for r in ws.iter_rows(values_only=True) if str(r[0])[:2] in ("G2", "G3")]
    assert pcts == ([pytest.approx(v) for v in expected] if shown else [None, None])


def _censored_sessions():
    rng = np.random.default_rng(5)
    rows = []
    for k, (g, d) in enumerate((("G1", 0.0), ("G2", 10.0), ("G3", 100.0))):
        for i in range(5):
            for t, tp in enumerate(("day0", "day7", "day14")):
                v = round(float(np.exp(rng.normal(0.3 - 0.8 * k * (t > 0), 0.3))), 3)
                cens = "left" if (g, i, tp) in {("G3", 0, "day7"), ("G3", 1, "day14")} else \
                    "none"
                rows.append({"study_id": "NTX-T-001", "assay": "cipn",
                             "category": "neurobehavioral", "endpoint": "vf_threshold_updown",
                             "unit": "g", "subject": f"{g}M{i}", "group": g, "dose": d,
                             "dose_unit": "mg/kg/day", "sex": "M", "timepoint": tp,
                             "value": 0.0045 if cens == "left" else v, "excluded": False,
                             "exclusion_reason": "", "batch": "NA", "source": "hand",
                             "censoring": cens})
    return pd.DataFrame(rows)


def test_censoring_footnote_of_a_fitted_mixed_model_does_not_say_not_tested():
    """The model ran (its F is in the same table): the footnote must not say 'not tested'."""
    from neurotox.stats import analyse
    from neurotox.study import StudySpec

    spec = StudySpec.model_validate({
        "study_id": "NTX-T-001", "title": "t", "test_item": "x",
        "groups": [{"id": g, "label": g, "dose": d, "dose_unit": "mg/kg/day",
                    "control": g == "G1"} for g, d in (("G1", 0), ("G2", 10), ("G3", 100))]})
    table = _censored_sessions()
    found = analyse(table, spec.statistics, spec.groups)
    model = found.decisions.query("timepoint == 'ALL'").iloc[0]
    assert model["path"] == "repeated_measures" and model["overall_p"] < 0.05
    summary = build_tables(found.results, found.decisions, table, spec)[0]
    line = next(f for f in summary.footnotes if f.startswith("ALL: "))
    assert line == ("ALL: 2 left-censored value(s) entered the mixed model as in the summary "
                    "statistics; the per-timepoint tests respect the censoring.")
    # a model that was not fitted says so, and not in words meant for a stratum
    unfit = found.decisions.assign(path=np.where(found.decisions["timepoint"] == "ALL",
                                                 "insufficient_data",
                                                 found.decisions["path"]))
    summary = build_tables(found.results, unfit, table, spec)[0]
    assert ("ALL: censored values present; the mixed model was not fitted; the per-timepoint "
            "tests respect the censoring.") in summary.footnotes


def test_listing_prints_whole_number_scores_without_decimals():
    """fob_approach_response (ordinal 1-4, registry decimals 1 for its means) lists "2", not
    "2.0"; body temperature (decimals 1, not whole numbers) keeps "37.7"."""
    from neurotox.report import build_report
    from neurotox.stats import analyse

    from .conftest import GROUPS, make_spec

    scores = {"G1": [2, 1, 2], "G2": [2, 3, 2], "G3": [3, 4, 3]}
    temps = {"G1": [37.7, 37.3, 38.0], "G2": [37.5, 37.9, 37.6], "G3": [37.2, 37.0, 37.4]}
    rows = [{"study_id": "NTX-T-001", "assay": "fob", "category": "neurobehavioral",
             "endpoint": ep, "unit": unit, "subject": f"{g}M{i}", "group": g, "dose": d,
             "dose_unit": "mg/kg/day", "sex": "M", "timepoint": "NA", "value": float(v[g][i]),
             "excluded": False, "exclusion_reason": "", "batch": "NA", "source": "hand"}
            for ep, unit, v in (("fob_approach_response", "score", scores),
                                ("fob_body_temperature", "degC", temps))
            for g, _, d, _ in GROUPS for i in range(3)]
    table = pd.DataFrame(rows)
    spec = make_spec()
    found = analyse(table, spec.statistics, spec.groups)
    report = build_report(spec, table, found.results, found.decisions,
                          software={"neurotox": "0"}, figures=False, bmd=False)
    listing = next(t for t in report.tables if t.kind == "listing")
    by_subject = {r.labels[0]: [c.text for c in r.cells] for r in listing.rows}
    assert by_subject["G1M0"] == ["2", "37.7"]
    assert by_subject["G3M1"] == ["4", "37.0"]
