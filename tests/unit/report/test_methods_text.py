"""The statistical methods say what the p-values are, and are not, adjusted for."""

from neurotox.report.methods import methods_section


def test_methods_say_p_values_are_not_adjusted_across_endpoints(analysis, spec):
    _, decisions = analysis
    n = int(((decisions["timepoint"] != "ALL")
             & (decisions["path"] != "insufficient_data")).sum())
    assert n == 12
    paras = methods_section(decisions, spec.statistics, {})
    assert ("P-values are adjusted for the comparisons of the dose groups with control within "
            "each endpoint, sex and timepoint (as stated for each test), not across endpoints, "
            "sexes or timepoints, as is usual in toxicology: among the 12 analyses of this "
            "report some p ≤ 0.05 are expected by chance alone, so a single finding is judged "
            "with its dose-response and its consistency across sexes, timepoints and related "
            "endpoints.") in paras


def test_one_analysis_needs_no_multiplicity_paragraph(analysis, spec):
    _, decisions = analysis
    paras = methods_section(decisions.iloc[:1], spec.statistics, {})
    assert not any(p.startswith("P-values are adjusted") for p in paras)
