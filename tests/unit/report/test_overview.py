from neurotox.report.overview import overview_table


def test_overview_lists_flagged_endpoints_by_sex_and_group(analysis, spec):
    results, _ = analysis
    t = overview_table(results, spec, 1)
    assert t.caption == "Table 1. Overview of statistically significant differences from control"
    assert [(g.label, g.span) for g in t.column_groups] == [("Males", 2), ("Females", 2)]
    assert t.columns == ("G2 10 mg/kg/day", "G3 100 mg/kg/day") * 2
    got = {r.labels: [c.text for c in r.cells] for r in t.rows}
    assert got == {
        ("Gait score", ""): ["", "*↑", "", "*↑"],
        ("Forelimb grip strength", ""): ["", "**↓", "", "*↓"],
        ("Motor activity counts", "bin2"): ["", "*↓", "", "*↓"],
        ("Motor activity counts", "bin10"): ["", "**↓", "", "**↓"],
        ("Tremor", ""): ["", "*↑", "", "*↑"],
    }
    assert all(c.numbers["p_value"] == c.numbers["p_value"] for r in t.rows for c in r.cells)


def test_overview_says_so_when_nothing_is_significant(analysis, spec):
    results, _ = analysis
    t = overview_table(results.assign(flag=""), spec, 1)
    assert t.rows == []
    assert t.footnotes[0] == "No statistically significant difference from control."
