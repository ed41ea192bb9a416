"""The immunoassay conventions that change results beyond rounding, said in words.

Each sentence names a rule and the parameters that set it (whichever way they
were set: a template, the study or the model's default), so that the run notes,
the manifest and the report's materials and methods say how the concentrations
were obtained and which plates count.
"""

from __future__ import annotations

from neurotox.assays.neurochem.params import ImmunoassayParameters


def immunoassay_conventions(params: ImmunoassayParameters) -> list[str]:
    """Sentences on the curve, acceptance, censoring and exclusion rules in effect."""
    lo, hi = params.control_recovery
    out = [_curve(params),
           f"An analyte is accepted on a plate when at least {params.min_standards_passing:.0%}"
           f" of its standard levels, and at least {params.min_standard_levels}, pass "
           f"(back-fit recovery within ±{params.recovery_limit:g} %, "
           f"±{params.recovery_limit_at_limits:g} % at the LLOQ and ULOQ; replicate CV ≤ "
           f"{params.cv_limit:g} %) and at least {params.min_controls_passing:.0%} of the "
           "control results lie within their range: the export's, or "
           f"{lo:g}-{hi:g} % of nominal where the export gives none or one of zero width; "
           "a control with neither a nominal concentration nor a range is not judged "
           "(min_standards_passing, min_standard_levels, recovery_limit, "
           "recovery_limit_at_limits, cv_limit, min_controls_passing, control_recovery).",
           ("The sample values of an analyte on a plate that fails acceptance are excluded "
            "(reject_failed_plates)." if params.reject_failed_plates else
            "The sample values of an analyte on a plate that fails acceptance are kept; the "
            "failure is noted (reject_failed_plates: false)."),
           f"LOD = mean + {params.lod_k:g} SD of the blank signals, converted by the curve "
           "(lod_k).",
           ("Values above the ULOQ are right-censored at ULOQ × dilution (above_uloq: censor)."
            if params.above_uloq == "censor" else
            "Values above the ULOQ are excluded (above_uloq: exclude).")]
    if params.exclude_hook_standards:
        out.append("When the signal falls over the highest standards (hook effect), those "
                   "standards are left out of the fit (exclude_hook_standards).")
    out.append(f"Samples with a replicate CV above {params.cv_limit:g} % are "
               + ("excluded (exclude_high_cv_samples)." if params.exclude_high_cv_samples
                  else "flagged and kept (exclude_high_cv_samples: false).")
               + " A run note counts them per plate and analyte, a warning when they are "
               f"more than {params.high_cv_share:.0%} of the samples with replicate wells "
               "(high_cv_share).")
    return out


def _curve(params: ImmunoassayParameters) -> str:
    if params.curve_source == "vendor":
        return ("Concentrations are back-calculated with the reader software's own standard "
                "curve (exported or printed) at the mean signal of a sample's replicates, "
                "times the sample dilution (curve_source: vendor).")
    return (f"Concentrations are back-calculated from a {params.model} standard curve that "
            f"neurotox fits to the standards of each analyte and plate (weighting "
            f"{params.weighting}), not taken from the reader software's results: the inverse "
            "of the curve at the mean signal of a sample's replicates, times the sample "
            "dilution (curve_source: refit, model, weighting).")
