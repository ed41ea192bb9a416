"""The CIPN conventions that change results beyond rounding, said in words.

One sentence per rule in effect for the tests the run read, naming the
parameter that sets it (whichever way it was set: a template, the study or the
model's default), so that the run notes, the manifest and the report's
materials and methods say how the numbers were obtained.
"""

from __future__ import annotations

from collections.abc import Set

from neurotox.assays.cipn.nerve import NCV_ENDPOINTS
from neurotox.assays.cipn.params import CipnParameters

#: Latency tests whose latency is censored at a cut-off (cold plate unless counted).
LATENCY = ("hot_plate", "tail_flick", "hargreaves", "cold_plate")


def cipn_conventions(params: CipnParameters, tests: Set[str], *,
                     baseline_found: bool = True) -> list[str]:
    """Sentences on the rules in effect for the CIPN tests a run read.

    Parameters
    ----------
    params
        Effective parameters.
    tests
        Tests found in the input sheets (``von_frey_updown``, ``hargreaves`` ...).
    baseline_found
        Whether any sheet has the protocol's ``baseline`` session: without it there
        is no baseline covariate and no %MPE, and the conventions say so.

    """
    out = []
    if tests & {"von_frey_updown", "von_frey_sudo"}:
        out.append("Von Frey filament set (filaments), marking (force, log units): "
                   + "; ".join(f"{f.marking}" + ("" if f.grams is None else f" = {f.grams:g} g")
                               + f" ({f.force_g:g} g, {f.log_units:g})"
                               for f in params.filaments) + "."
                   + _labels(params.filament_labels))
    if "von_frey_updown" in tests:
        out += _updown(params)
    if "von_frey_sudo" in tests:
        out.append(f"SUDO threshold (Bonin 2014): the last filament's position moved "
                   f"{params.sudo_offset:g} filament step down after a withdrawal (X), up "
                   "after none (O), converted to force by log-linear interpolation between "
                   "filaments (sudo_offset).")
    out += _latencies(params, tests, baseline_found)
    if "cold_plate" in tests and params.cold_plate_measure == "count":
        out.append("Cold plate: the number of responses, averaged over trials, is analysed "
                   "(cold_plate_measure: count).")
    if "acetone" in tests:
        how = "summed" if params.acetone_aggregate == "sum" else "averaged"
        short = ("a session with fewer applications than most sessions of its sheet is "
                 "not summed but excluded" if params.acetone_aggregate == "sum" else
                 "a session with fewer applications than most sessions of its sheet is noted")
        out.append(f"Acetone test: the 0-3 scores of the applications are {how} per animal "
                   f"and session (acetone_aggregate: {params.acetone_aggregate}); {short}.")
    if "electronic_von_frey" in tests:
        out.append("Electronic von Frey: forces are averaged per animal and session"
                   + (", after dropping the lowest and highest of sessions with 4 or more "
                      "trials (evf_trim: minmax)." if params.evf_trim == "minmax"
                      else ", every trial kept (evf_trim: none)."))
    if tests & set(NCV_ENDPOINTS):
        corr = params.ncv_temperature_correction
        out.append("Nerve conduction velocities are not corrected for temperature "
                   "(ncv_temperature_correction not set)." if corr is None else
                   f"Nerve conduction velocities are corrected linearly to "
                   f"{corr.reference_c:g} °C: v + {corr.per_degree:g} m/s per °C × "
                   f"({corr.reference_c:g} °C − recorded) (ncv_temperature_correction).")
    if params.baseline_covariate and params.baseline is not None and not baseline_found:
        out.append(f"No baseline covariate: the baseline session {params.baseline!r} is in "
                   "none of the sheets read (baseline_covariate, baseline).")
    elif params.baseline_covariate and params.baseline is not None:
        out.append(f"Thresholds after the baseline session {params.baseline!r} are compared "
                   "with control by ANCOVA on the animal's baseline value "
                   "(baseline_covariate, baseline).")
    return out


def _labels(setting: str) -> str:
    if setting != "auto":
        return f" Filaments in the sheets are read as {setting}s (filament_labels: {setting})."
    return (" A sheet's filament column is read as numbers (1 = weakest) or markings as its "
            "cells that can only be one say; a column whose every cell reads both ways is "
            "refused (filament_labels: auto).")


def _updown(params: CipnParameters) -> list[str]:
    fs = params.filament_set
    weak, strong = params.filaments[0].force_g, params.filaments[-1].force_g
    policy = {
        "censor": f"left-censored at the weakest filament's force ({weak:g} g) when every "
                  f"response is X, right-censored at the strongest's ({strong:g} g) when "
                  "every response is O",
        "limit": f"given the weakest filament's force ({weak:g} g, every response X) or the "
                 f"strongest's ({strong:g} g, every response O) as an observed value",
        "exclude": "excluded"}[params.out_of_range]
    return [f"Von Frey up-down (Chaplan 1994): 50 % threshold = 10^(Xf + k·δ) / 10 000 g, "
            f"Xf the log units of the last filament applied, δ = {fs.delta:.6g} the mean step "
            "of the set in log units, k Dixon's maximum-likelihood estimate computed for "
            "each series (not looked up in the 1980 table).",
            f"Up-down series out of range (all X or all O) are {policy} "
            f"(out_of_range: {params.out_of_range})."]


def _latencies(params: CipnParameters, tests: Set[str], baseline_found: bool) -> list[str]:
    found = [t for t in LATENCY if t in tests
             and not (t == "cold_plate" and params.cold_plate_measure == "count")]
    cuts = [f"{t.replace('_', ' ')} {params.cutoff_s[t]:g} s" for t in found
            if t in params.cutoff_s]
    if not cuts:
        return []
    out = ["Latencies are averaged over the trials of an animal and session; a session with "
           f"a trial at the cut-off is right-censored (cutoff_s: {', '.join(cuts)}); a "
           "session with fewer trials than most sessions of its sheet is noted."]
    mpe = [t.replace("_", " ") for t in found if t != "cold_plate"]
    if mpe and params.baseline is not None and baseline_found:
        out.append(f"%MPE ({', '.join(mpe)}) = 100 × (latency − baseline) / (cut-off − "
                   f"baseline), against the animal's session {params.baseline!r} (baseline).")
    return out
