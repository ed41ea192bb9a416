from neurotox.report.bmd import bmd_table, trend_bmds


def test_bmd_for_flagged_single_timepoint_endpoints_only(analysis, spec, capfd):
    results, _ = analysis
    bmds = trend_bmds(results)
    # grip strength has a flagged trend and one timepoint; motor activity has three
    # timepoints, gait is ordinal and tremor incidence: none of those is modelled
    assert sorted(bmds) == [("fob", "grip_strength_forelimb", "F", "NA"),
                            ("fob", "grip_strength_forelimb", "M", "NA")]
    for r in bmds.values():
        assert r.model is not None
        assert 0 < r.bmdl < r.bmd < r.bmdu
        assert r.bmd < 100  # within the dose range: the high dose is clearly affected
    assert capfd.readouterr().out == ""  # pybmds' optimiser chatter is kept off stdout
    t = bmd_table(bmds, spec, 7)
    assert t.caption == "Table 7. Benchmark doses of endpoints with a dose-related trend"
    assert t.columns[:3] == ("Model", "BMD (mg/kg/day)", "BMDL (mg/kg/day)")
    assert [r.labels[2] for r in t.rows] == ["Females", "Males"]
    males = bmds[("fob", "grip_strength_forelimb", "M", "NA")]
    assert t.rows[1].cells[1].numbers["value"] == males.bmd
    assert t.rows[1].cells[1].text == f"{males.bmd:.3g}"


def test_no_flagged_trend_no_bmd(analysis):
    results, _ = analysis
    assert trend_bmds(results.assign(trend_flag="")) == {}
