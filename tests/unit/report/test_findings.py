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
