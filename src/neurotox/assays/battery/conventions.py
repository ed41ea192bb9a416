"""The screening-battery conventions that change results beyond rounding, said in words.

One function per assay, each returning sentences that name the parameter
setting a rule (whichever way it was set: a template, the study or the
model's default), so that the run notes, the manifest and the report's
materials and methods say how the numbers were obtained.
"""

from __future__ import annotations

from typing import Any


def motor_activity_conventions(params: Any) -> list[str]:
    """Motor activity: intervals, total, habituation and the asymptote check."""
    given = "" if params.interval_minutes is None else \
        f"; intervals of {params.interval_minutes:g} min where the export does not state " \
        "them (interval_minutes)"
    return [f"Motor activity: counts per interval are analysed as repeated measures (group x "
            f"time mixed model, every interval of every session one level of time); the "
            f"session total is the sum of its intervals; habituation % = 100 x (1 - last "
            f"interval / first interval){given}. Intervals longer than "
            f"{params.max_interval_minutes:g} min are reported as a guideline deviation "
            f"(max_interval_minutes); the control group reaches asymptote when the mean of "
            f"its last two intervals differs by at most {params.asymptote_tolerance:.0%} of "
            f"its first interval's mean (asymptote_tolerance)."]


def startle_conventions(params: Any) -> list[str]:
    """Auditory startle: block means, habituation, PPI."""
    return [f"Startle: only pulse-alone trials enter amplitude, latency and habituation; a "
            f"block is the mean of its pulse-alone trials, and a block with fewer than "
            f"{params.min_trials_per_block} such trial(s) is excluded "
            f"(min_trials_per_block); prepulse inhibition % = 100 x (1 - mean amplitude of "
            f"prepulse+pulse trials / mean amplitude of pulse-alone trials), per prepulse "
            f"level; no-stimulus trials enter no endpoint."]


def brain_weight_conventions(params: Any, plausible: str) -> list[str]:
    """Brain weight: relative weight, ANCOVA and the plausible ranges (the run's note)."""
    ancova = (f"an ANCOVA on terminal body weight per sex is run beside the comparison of "
              f"absolute weights, with a note when the homogeneity-of-slopes test gives p < "
              f"{params.parallel_alpha:g} (ancova, parallel_alpha)" if params.ancova else
              "no ANCOVA on body weight is run (ancova: false)")
    return [f"Brain weight: relative brain weight = 100 x brain weight / terminal body "
            f"weight; {ancova}. Weights outside the plausible range are input errors "
            f"({plausible}; body_weight_range_g, brain_weight_range_g)."]


_EXAMINED = {
    "listed": "the animals in the findings file were examined, for every tissue "
              "(examined: listed)",
    "all": "every animal of {whom} was examined, for every tissue, an animal without a row in "
           "the findings file counting as examined without findings (examined: all)",
    "per_tissue": "each tissue's examined animals are those with a row for it or a "
                  "tissue-less NAD row (examined: per_tissue)",
}


def neuropathology_conventions(params: Any, cohorts: tuple[str, ...] = ()) -> list[str]:
    """Neuropathology: who was examined (the incidence denominators).

    ``cohorts``: the entry's cohorts, the animals ``examined: all`` counts (the
    study's subjects when empty).
    """
    whom = (f"the entry's cohort(s) {', '.join(cohorts)}" if cohorts
            else "the study (the subjects file)")
    examined = _EXAMINED[params.examined].format(whom=whom)
    return [f"Neuropathology: incidence denominators: {examined}; every "
            "tissue x lesion found in at least one animal gives each examined animal a 0/1 "
            "incidence value and, where graded, a severity grade (minimal 1 to severe 5)."]


def fob_conventions(params: Any) -> list[str]:
    """FOB: trial means and the trials a measurement needs."""
    return [f"FOB: measurements taken in trials (grip strength, landing foot splay) are the "
            f"mean of the trials recorded; fewer than {params.min_trials} trial(s) exclude "
            f"the value (min_trials); scores are analysed as ordinal, observations as "
            f"incidence."]
