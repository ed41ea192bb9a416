"""The zebrafish conventions that change results beyond rounding, said in words.

Each sentence names a rule and the parameter that sets it, whichever way it is
set (a template, the study, or the model's default), so that the run notes, the
manifest and the report's methods say how the numbers were obtained.
"""

from __future__ import annotations


def conventions(params, *, stimuli: bool = False) -> list[str]:
    """Sentences on the result-changing rules in effect for a zebrafish run.

    Parameters
    ----------
    params
        Effective :class:`~neurotox.assays.zebrafish.params.ZebrafishParameters`.
    stimuli
        Whether stimulus endpoints were computed.

    """
    out = [_distance(params), _exclusions(params)]
    if params.mode == "lpr" and stimuli:
        out.append(_stimulus(params))
    if params.mode == "lpr":
        out.append(_hit_call(params))
    return out


def screen_conventions(params, *, locomotion: bool, morphology: bool) -> list[str]:
    """Sentences on the result-changing rules of a zebrafish screen run.

    Parameters
    ----------
    params
        Effective :class:`~neurotox.assays.zebrafish.screen_params.ScreenParameters`.
    locomotion, morphology
        Whether the run read locomotion exports and morphology tables.

    """
    groups = {"auto": "its experimental group's ID in the file, else its plate",
              "egid": "its experimental group's ID in the file",
              "plate": "its plate"}[params.experimental_group]
    out = [f"Screen design: each chemical x concentration is compared with the vehicle wells "
           f"of its own experimental group ({groups}; experimental_group); vehicle wells are "
           f"those marked v, at concentration 0 or of a chemical named "
           f"{', '.join(params.vehicle_names)} (vehicle_names); wells flagged "
           f"{', '.join(params.do_not_count)} are removed from every endpoint (do_not_count)."]
    if locomotion:      # screen exports give distance per bin: no movement classes
        out.append(_exclusions(params))
        if morphology and params.morphology_excludes_behaviour:
            out.append("Larvae with any morphology call (dead, malformed) are excluded from "
                       "locomotion (morphology_excludes_behaviour: true).")
    if morphology:
        bmd = ("no dichotomous BMD is fitted (morphology_bmd: none)"
               if params.morphology_bmd == "none" else
               f"dichotomous BMDs at {params.bmr:g} extra risk (bmr) are fitted for "
               + ("every morphology endpoint" if params.morphology_bmd == "all" else
                  "the endpoints where a treated group is above its vehicle")
               + f" (morphology_bmd) with at least {params.min_bmd_concentrations} "
               "concentrations, vehicle included (min_bmd_concentrations)")
        out.append(f"Morphology: incidence against the vehicle by Fisher's exact test "
                   f"({params.fisher_alternative}; fisher_alternative); aggregates "
                   f"({', '.join(params.morphology_aggregates)}) are 1 when any of their calls "
                   f"is 1 (morphology_aggregates); a call of 1 in "
                   f"{', '.join(params.morphology_mask)} sets the calls it masks to not "
                   f"examined (morphology_mask); {bmd}.")
    return out


def _distance(params) -> str:
    if params.mode == "epr":
        return (f"EPR motion index: mean per second over the frames of each window, "
                f"multiplied by {params.epr_scale:g} (epr_scale).")
    if params.count_inactive_distance:
        return ("Distance moved = small + large movement classes + ZebraLab's inactive-class "
                "distance (count_inactive_distance: true).")
    return ("Distance moved = small + large movement classes; ZebraLab's inactive-class "
            "distance (tracker jitter below the inactivity threshold) is not counted "
            "(count_inactive_distance: false).")


def _exclusions(params) -> str:
    move = ("larvae that never moved over the recording are excluded (exclude_no_movement: "
            "true)" if params.exclude_no_movement else
            "larvae that never moved are kept: no movement may be the effect "
            "(exclude_no_movement: false)")
    ctrl = params.viability_min_control
    viab = f"{params.viability_min:.0%}" + ("" if ctrl is None else
                                           f" ({ctrl:.0%} for the control)")
    return (f"Exclusions: {move}; a larva whose well the tracker reports empty for more "
            f"than {params.max_empty_fraction:.0%} of the recording (max_empty_fraction) or "
            f"with more than {params.max_missing_fraction:.0%} of its bins missing "
            f"(max_missing_fraction) is excluded; a group with fewer than {viab} viable "
            "larvae is not analysed (viability_min).")


def _hit_call(params) -> str:
    return (f"Hit call (hit_calls), per larva: each group's auc_light and auc_dark of the "
            f"analysed cycle against the control larvae by a two-sample Kolmogorov-Smirnov "
            f"test, HYPER/HYPO when p < {params.hit_p:g} (hit_p) and the group mean differs "
            f"from the control mean by at least {params.hit_percent:g} % (hit_percent). This "
            "deliberately differs from the SARL (Tanguay lab) call of sarl_lpr_stats and the "
            "lab's reports: SARL applies the trapezoid rule across larvae and sums it over "
            "three cycles, a group total that grows with the number of larvae, so with "
            "unequal group sizes it can call HYPER or HYPO where the larvae do not differ.")


def _stimulus(params) -> str:
    window = ("the stimulus rows of the export (the periods the instrument integrated)"
              if params.response_window_s is None else
              f"{params.response_window_s:g} s after each onset")
    return (f"Stimulus responses: a larva responded when it moved more than "
            f"{params.response_threshold_mm:g} mm (response_threshold_mm) in the response "
            f"window, {window} (response_window_s); latency only from bins of at most "
            f"{params.latency_resolution_s:g} s (latency_resolution_s); habituation ratio = "
            f"mean distance of the last {params.habituation_block} presentations / the "
            f"first {params.habituation_block} (habituation_block).")
