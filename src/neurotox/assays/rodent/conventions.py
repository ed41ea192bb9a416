"""The rodent conventions that change results beyond rounding, said in words.

Each sentence names a rule and the parameter that sets it, whichever way it was
set (a template, the study, ``--param`` or the model's default), so that the run
notes, the manifest and the report's methods say how the numbers were obtained.
"""

from __future__ import annotations

from neurotox.assays.rodent.params import NorParameters, TmazeParameters


def tmaze_conventions(params: TmazeParameters, *, chance_pct: float | None = None,
                      from_zones: bool = False) -> list[str]:
    """Sentences on the rules in effect for a T-/Y-maze run.

    Parameters
    ----------
    params
        Effective parameters.
    chance_pct
        Chance level the alternation is tested against (continuous mode).
    from_zones
        Whether arm entries were derived from per-sample zone flags.

    """
    if params.mode == "discrete":
        return [_discrete(params)]
    if params.mode == "novel_arm":
        bins = "all bins" if params.test_bins is None else f"the first {params.test_bins} bins"
        return [f"Novel-arm preference over {bins} of phase {params.test_phase!r} "
                "(test_bins, test_phase); an animal with one of these bins missing or blank "
                "is excluded."]
    out = [_reentries(params, chance_pct),
           f"Animals with fewer than {params.min_entries} arm entries are excluded "
           "(min_entries)."]
    if from_zones:
        out.append(_zones(params))
    return out


def _reentries(params: TmazeParameters, chance_pct: float | None) -> str:
    w = params.window or 3
    maze = (f"the maze arms {', '.join(params.arms)} (arms)" if params.arms else
            f"a {params.n_arms}-arm maze (n_arms)" if params.n_arms else
            "the arm labels seen in the data (n_arms: null)")
    chance = "" if chance_pct is None else \
        f"; tested against chance {chance_pct:.1f} % for {maze}"
    if params.reentries == "collapsed":
        return (f"Arm re-entries: consecutive entries into the same arm are merged into one "
                f"entry before scoring (reentries: collapsed); alternation % = alternations / "
                f"(entries - {w - 1}) x 100 over the merged sequence{chance}.")
    return (f"Arm re-entries: every entry counts, including a re-entry of the arm just left "
            f"(reentries: counted); alternation % = alternations / (entries - {w - 1}) x 100"
            f"{chance}.")


def _zones(params: TmazeParameters) -> str:
    arms = (", ".join(f"{z} = {a}" for z, a in params.zone_arms.items()) if params.zone_arms
            else f"every zone not matching {params.centre_zones!r} (centre_zones)")
    gap = ("end the entry" if params.no_zone_samples == "exit"
           else "continue the zone before them")
    shortest = (f"; entries shorter than {params.min_entry_s:g} s are dropped (min_entry_s)"
                if params.min_entry_s else "")
    return (f"Arm entries from per-sample zones of the {params.zone_point} point: a run of "
            f"samples in an arm zone is one entry; arms: {arms} (zone_arms); samples in no "
            f"zone {gap} (no_zone_samples: {params.no_zone_samples}){shortest}; an animal "
            f"whose tracker lost more than {params.max_missing_fraction:.0%} of the samples "
            "('-' or empty zone cells, gaps in time; EthoVision, ANY-maze) is excluded as a "
            "tracking error (max_missing_fraction).")


def _discrete(params: TmazeParameters) -> str:
    rule = "differs from" if params.correct_rule == "alternate" else "equals"
    late = ("" if params.max_choice_latency_s is None else
            f"; choices slower than {params.max_choice_latency_s:g} s count as no choice "
            "(max_choice_latency_s)")
    return (f"A trial is correct when the choice arm {rule} the sample arm (correct_rule: "
            f"{params.correct_rule}); trials without a choice leave the denominator{late}; "
            f"animals with fewer than {params.min_trials} trials with a choice are excluded "
            "(min_trials).")


def nor_conventions(params: NorParameters, *, zone_input: bool = False,
                    pose_input: bool = False, tracked: bool = False) -> list[str]:
    """Sentences on the rules in effect for an NOR run.

    ``zone_input``: samples or poses; ``pose_input``: pose tracks; ``tracked``:
    zone samples that say which samples the tracker lost (EthoVision).
    """
    op = "at or below" if params.threshold_inclusive else "below"
    out = [f"Animals whose total test exploration is {op} {params.min_test_exploration_s:g} s "
           "are excluded (min_test_exploration_s, threshold_inclusive)."]
    if params.max_training_bias is not None:
        out.append(f"Animals with |training side bias| above {params.max_training_bias:g} are "
                   "excluded (max_training_bias).")
    if zone_input:
        out.append(_climbing(params))
    if pose_input and params.pose is not None:
        ps = params.pose
        out.append(f"Pose tracks: points below likelihood {ps.min_likelihood:g} are missing "
                   f"(min_likelihood), gaps of up to {ps.max_gap_frames} frames are "
                   "interpolated (max_gap_frames); a trial with more than "
                   f"{ps.max_missing_fraction:.0%} of its frames without the nose or the head "
                   "is excluded for tracking, not by the exploration rules "
                   "(max_missing_fraction).")
    if tracked:
        out.append("Zone samples the tracker lost ('-', gaps in time) count as outside every "
                   f"zone; a phase with more than {params.max_missing_fraction:.0%} of its "
                   "samples lost is excluded as a tracking error, in place of the exploration "
                   "thresholds (max_missing_fraction).")
    if params.novel_default is not None:
        out.append(f"Subjects without a key entry take {params.novel_default!r} as the novel "
                   "object (novel_default).")
    return out


def _climbing(params: NorParameters) -> str:
    rule = ("samples with the centre point on the object (climbing, sitting on it) are not "
            "exploration (exclude_climbing: true)" if params.exclude_climbing else
            "samples with the centre point on the object count as exploration "
            "(exclude_climbing: false)")
    flag = ("" if params.max_climbing_s is None else
            f"; a trial with more than {params.max_climbing_s:g} s removed is flagged for "
            "review (max_climbing_s)")
    return f"Exploration from zones or poses: {rule}; the time removed is in nor_animals{flag}."
