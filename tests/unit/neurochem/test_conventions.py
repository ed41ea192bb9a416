"""The immunoassay rules that change concentrations or exclusions are said from the parameters."""

from neurotox.assays.base import resolve_parameters
from neurotox.assays.neurochem.conventions import immunoassay_conventions


def test_refit_acceptance_and_exclusion_rules_of_the_multiplex_template():
    params = resolve_parameters("multiplex-cytokines")[1]
    said = immunoassay_conventions(params)
    assert said[0].startswith("Concentrations are back-calculated from a 5pl standard curve "
                              "that neurotox fits to the standards of each analyte and plate "
                              "(weighting 1/y^2), not taken from the reader software's "
                              "results")
    assert ("80-120 % of nominal where the export gives none or one of zero width" in said[1])
    assert "at least 75% of its standard levels, and at least 6, pass" in said[1]
    assert said[2] == ("The sample values of an analyte on a plate that fails acceptance are "
                       "excluded (reject_failed_plates).")
    assert said[-1] == ("Samples with a replicate CV above 20 % are flagged and kept "
                        "(exclude_high_cv_samples: false). A run note counts them per plate "
                        "and analyte, a warning when they are more than 10% of the samples "
                        "with replicate wells (high_cv_share).")


def test_changed_parameters_change_the_sentences():
    params = resolve_parameters("multiplex-cytokines", {
        "curve_source": "vendor", "control_recovery": [70, 130], "reject_failed_plates": False,
        "above_uloq": "exclude", "exclude_high_cv_samples": True, "cv_limit": 25,
        "high_cv_share": 0.25})[1]
    said = immunoassay_conventions(params)
    assert said[0] == ("Concentrations are back-calculated with the reader software's own "
                       "standard curve (exported or printed) at the mean signal of a sample's "
                       "replicates, times the sample dilution (curve_source: vendor).")
    assert "70-130 % of nominal" in said[1] and "replicate CV ≤ 25 %" in said[1]
    assert said[2].endswith("are kept; the failure is noted (reject_failed_plates: false).")
    assert "Values above the ULOQ are excluded (above_uloq: exclude)." in said
    assert said[-1] == ("Samples with a replicate CV above 25 % are excluded "
                        "(exclude_high_cv_samples). A run note counts them per plate and "
                        "analyte, a warning when they are more than 25% of the samples with "
                        "replicate wells (high_cv_share).")
