"""T-maze (and Y-maze) alternation: scoring of sequences, trials and novel-arm bins; plug-in.

Continuous spontaneous alternation
    From each animal's arm-entry sequence, sliding windows of ``window`` entries
    (default 3) are scored; a window is an alternation when all its arms differ.
    Alternation % = alternations / (entries − window + 1) × 100 (``entries − 2``
    for triplets). Non-alternating triplets are split into same-arm returns
    (last arm = the one just left) and alternate-arm returns (last arm = the
    first). The **chance level** is computed for the maze and the counting rule:
    with ``k`` arms and re-entries of the arm just left counted as entries, a
    random walk picks each next arm uniformly among ``k`` arms, so a window of
    ``w`` entries is all-different with probability Π_{j=1}^{w-1} (k − j)/k
    (2/9 = 22.2 % for triplets in a 3-arm maze); when re-entries are collapsed
    it picks among the ``k − 1`` other arms, Π (k − j)/(k − 1) (50 % for
    triplets in a 3-arm maze).
Two-trial novel arm (spatial novelty, Y-maze)
    From zone statistics per time bin: novel-arm time / (novel + familiar arm
    time) over the first ``test_bins`` bins of the test phase (and the same ratio
    of entries), tested against 0.5.
Discrete trials (spontaneous, forced or rewarded alternation)
    A trial is correct when the choice arm differs from the sample arm
    (``correct_rule: alternate``) or equals it (``same``); % correct is tested
    against 50 %. Trials without a choice within ``max_choice_latency_s`` count
    as no-choice trials and leave the denominator. ``paradigm`` (spontaneous,
    forced, rewarded) names the procedure for the record (manifest, methods);
    the scoring is set by ``mode`` and ``correct_rule`` alone.

References
----------
Dember WN, Fowler H (1958). Spontaneous alternation behavior. Psychol Bull 55:412-428.
Deacon RMJ, Rawlins JNP (2006). T-maze alternation in the rodent. Nat Protoc 1:7-12.
Lalonde R (2002). The neurobiological basis of spontaneous alternation. Neurosci
Biobehav Rev 26:91-104.

"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.assays.accounting import check_written_groups
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.rodent.common import (
    check_subjects,
    lost_tracking,
    match_numeric_subjects,
    one_sample_results,
    source_locator,
    subject_info,
)
from neurotox.assays.rodent.conventions import tmaze_conventions
from neurotox.assays.rodent.novel_arm import gap_warning, novel_arm_table
from neurotox.assays.rodent.params import TmazeParameters
from neurotox.assays.rodent.tmaze_inputs import collect, maze_arms
from neurotox.errors import InputError
from neurotox.stats.one_sample import trial_level_glmm
from neurotox.study import AssaySpec, Study

ASSAY = "tmaze"


# ------------------------------------------------------------ continuous alternation

def chance_level(n_arms: int, window: int, *, reentries: str = "counted") -> float:
    """Probability that ``window`` consecutive entries of a random walk are all different.

    Parameters
    ----------
    n_arms
        Arms of the maze (3 for a T- or Y-maze with the start arm counted).
    window
        Entries per scored window (3 = triplets).
    reentries
        ``counted``: re-entering the arm just left is a new entry (next arm uniform
        over all ``n_arms``); ``collapsed``: consecutive repeats are merged (next arm
        uniform over the ``n_arms - 1`` others).

    """
    if window > n_arms:
        return 0.0
    choices = n_arms if reentries == "counted" else n_arms - 1
    return float(np.prod([(n_arms - j) / choices for j in range(1, window)]))


def collapse_repeats(arms: list[str]) -> list[str]:
    """Merge consecutive entries into the same arm."""
    return [a for i, a in enumerate(arms) if i == 0 or a != arms[i - 1]]


def reentries(arms: list[str], *, window: int = 3) -> dict[str, float]:
    """Re-entries ("doubles") of a sequence as scored: entries repeating the arm just left.

    ``reentry_pct`` = re-entries / (entries − window + 1) × 100, the "doubles
    index" of hand-scoring sheets (per scored triplet); NaN when no window fits.
    Counted on the sequence before any collapsing, so it says how much
    ``reentries: collapsed`` removed.
    """
    n = sum(a == b for a, b in zip(arms, arms[1:], strict=False))
    windows = len(arms) - window + 1
    return {"reentries": n, "reentry_pct": 100 * n / windows if windows > 0 else np.nan}


def score_sequence(arms: list[str], *, window: int = 3) -> dict[str, int]:
    """Alternations and error types of one entry sequence (sliding windows).

    Every window that is not an alternation is an error: a *same-arm return*
    when its last entry repeats the arm just left, otherwise an *alternate-arm
    return* (an earlier arm of the window is revisited), as in SimBA's
    spontaneous-alternation counts.
    """
    n = len(arms)
    windows = max(n - window + 1, 0)
    alt = same = 0
    for i in range(windows):
        w = arms[i:i + window]
        if len(set(w)) == window:
            alt += 1
        elif w[-1] == w[-2]:
            same += 1
    return {"entries": n, "windows": windows, "alternations": alt, "same_arm_returns": same,
            "alternate_arm_returns": windows - alt - same}


def alternation_table(entries: pd.DataFrame, params: TmazeParameters,
                      files: list[Path] | None = None) -> pd.DataFrame:
    """Per subject × condition alternation %, entries, error counts, chance and exclusions.

    ``files``: the run's inputs (messages name a file by its path).
    """
    arms, n_arms = maze_arms(entries, params, files or ())
    window = params.window or n_arms
    chance = 100 * chance_level(n_arms, window, reentries=params.reentries)
    rows = []
    for (subj, cond), part in entries.groupby(["subject", "condition"], sort=True):
        seq = list(part.sort_values("order")["arm"])
        doubles = reentries(seq, window=window)
        if params.reentries == "collapsed":
            seq = collapse_repeats(seq)
        s = {**score_sequence(seq, window=window), **doubles}
        pct = 100 * s["alternations"] / s["windows"] if s["windows"] else np.nan
        bias = _entry_side_bias(seq, arms)
        reason = (f"{s['entries']} entries < minimum {params.min_entries}"
                  if s["entries"] < params.min_entries else "")
        rows.append({"subject": subj, "condition": cond, **s, "alternation_pct": pct,
                     "chance_pct": chance, "side_bias_pct": bias, "excluded": bool(reason),
                     "exclusion_reason": reason, "sequence": "".join(seq) if all(
                         len(a) == 1 for a in seq) else " ".join(seq),
                     "source": part["source"].iloc[0].split(":")[0]})
    return pd.DataFrame(rows)


def _entry_side_bias(seq: list[str], arms: list[str]) -> float:
    """Percent of goal-arm entries into the right arm (arms named L/R or left/right)."""
    side = {a: a.upper()[0] for a in arms if a.upper() in {"L", "R", "LEFT", "RIGHT"}}
    goal = [side[a] for a in seq if a in side]
    if set(side.values()) != {"L", "R"} or not goal:
        return np.nan
    return 100 * goal.count("R") / len(goal)


# ------------------------------------------------------------ discrete trials

def trial_table(trials: pd.DataFrame, params: TmazeParameters) -> pd.DataFrame:
    """Trials with ``choice_made`` and ``correct`` (NaN when no choice)."""
    t = trials.copy()
    made = t["choice"] != "NA"
    if params.max_choice_latency_s is not None:
        made &= ~(t["latency_s"] > params.max_choice_latency_s)
    t["choice_made"] = made
    same = t["choice"] == t["sample"]
    t["correct"] = np.where(made, (~same if params.correct_rule == "alternate" else same)
                            .astype(float), np.nan)
    return t


def discrete_table(trials: pd.DataFrame, params: TmazeParameters) -> pd.DataFrame:
    """Per subject × condition % correct, trials, no-choice trials, latency, side bias."""
    rows = []
    for (subj, cond), part in trials.groupby(["subject", "condition"], sort=True):
        made = part[part["choice_made"]]
        n = len(made)
        reason = f"{n} trials with a choice < minimum {params.min_trials}" \
            if n < params.min_trials else ""
        rows.append({
            "subject": subj, "condition": cond, "trials": n,
            "no_choice_trials": int((~part["choice_made"]).sum()),
            "correct": int(made["correct"].sum()),
            "correct_pct": 100 * made["correct"].mean() if n else np.nan,
            "chance_pct": params.chance_pct,
            "choice_latency_s": float(made["latency_s"].median()) if n and
            made["latency_s"].notna().any() else np.nan,
            "side_bias_pct": 100 * float(np.mean(made["choice"].str.upper().isin(["R", "RIGHT"])))
            if n else np.nan,
            "excluded": bool(reason), "exclusion_reason": reason,
            "source": part["source"].iloc[0].split(":")[0]})
    return pd.DataFrame(rows)


def trial_models(trials: pd.DataFrame, per: pd.DataFrame, study: Study,
                 params: TmazeParameters) -> pd.DataFrame:
    """Trial-level logistic model (GEE, subject clusters) of correct choices vs chance.

    One model per condition × group on the trials with a choice of the animals that
    are not excluded; complements the per-animal one-sample test.
    """
    kept = per.loc[~per["excluded"], ["subject", "condition"]]
    t = trials[trials["choice_made"]].merge(kept, on=["subject", "condition"])
    t = t.assign(group=[study.subject_info(s)["group"] for s in t["subject"]])
    rows = []
    for (cond, group), part in t.groupby(["condition", "group"], sort=True):
        if part["subject"].nunique() < 2 or part["correct"].nunique() < 2:
            continue
        fit = trial_level_glmm(part, chance=params.chance_pct / 100, method="gee")
        rows.append({"timepoint": cond if cond != "NA" else params.timepoint, "group": group,
                     **fit})
    return pd.DataFrame(rows)


# ------------------------------------------------------------ EndpointTable

_CONT = {"tmaze_alternation_pct": "alternation_pct", "tmaze_entries": "entries",
         "tmaze_reentries": "reentries", "tmaze_reentry_pct": "reentry_pct",
         "tmaze_same_arm_returns": "same_arm_returns",
         "tmaze_alternate_arm_returns": "alternate_arm_returns", "tmaze_side_bias": "side_bias_pct"}
_NOVEL = {"tmaze_novel_arm_time_ratio": "time_ratio",
          "tmaze_novel_arm_entry_ratio": "entry_ratio",
          "tmaze_novel_arm_time": "novel_time_s", "tmaze_familiar_arm_time": "familiar_time_s"}
_DISC = {"tmaze_correct_pct": "correct_pct", "tmaze_trials": "trials",
         "tmaze_no_choice_trials": "no_choice_trials", "tmaze_choice_latency": "choice_latency_s",
         "tmaze_side_bias": "side_bias_pct"}


def tmaze_endpoints(per_animal: pd.DataFrame, study: Study, params: TmazeParameters,
                    mapping: dict[str, str]) -> pd.DataFrame:
    """EndpointTable from a per-animal table; timepoint = condition (or the protocol's)."""
    recs = []
    for _, row in per_animal.iterrows():
        info = subject_info(study, row["subject"])
        tp = row["condition"] if row["condition"] != "NA" else params.timepoint
        for name, col in mapping.items():
            value = float(row[col])
            if name == "tmaze_choice_latency" and not np.isfinite(value):
                continue
            if name == "tmaze_side_bias" and not np.isfinite(value) and not row["excluded"]:
                continue  # arms are not named left/right
            excluded = bool(row["excluded"]) or not np.isfinite(value)
            reason = row["exclusion_reason"] or "not computable"
            recs.append({"endpoint": name, "subject": row["subject"], "timepoint": tp,
                         "value": value, "excluded": excluded,
                         "exclusion_reason": reason if excluded else "",
                         "source": row["source"], **info})
    return endpoints.from_records(recs, study_id=study.study_id, assay=ASSAY)


def run(study: Study, spec: AssaySpec, params: TmazeParameters) -> AssayResult:
    """Run the T-maze assay entry of a study."""
    return analyse(study, study.assay_inputs(spec), params)


def _continuous(data: dict[str, Any], study: Study, params: TmazeParameters, files: list[Path]
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    if not len(data["entries"]):
        raise InputError("mode 'continuous' needs arm-entry sequences or pose tracks; "
                         "none among the inputs", path=study.path)
    per = lost_tracking(alternation_table(data["entries"], params, files), data["tracking"])
    if len(data["sheets"]):
        per = per.merge(data["sheets"][["subject", "condition", "notes"]],
                        on=["subject", "condition"], how="left").fillna({"notes": ""})
    table = tmaze_endpoints(per, study, params, _CONT)
    results = one_sample_results(table, endpoint="tmaze_alternation_pct",
                                 reference=float(per["chance_pct"].iloc[0]),
                                 normality_alpha=params.normality_alpha)
    return table, {"tmaze_animals": per, "tmaze_entries": data["entries"]}, results


def _discrete(data: dict[str, Any], study: Study, params: TmazeParameters, files: list[Path]
              ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    if not len(data["trials"]):
        raise InputError("mode 'discrete' needs a trial table; none among the inputs",
                         path=study.path)
    trials = trial_table(data["trials"], params)
    per = discrete_table(trials, params)
    table = tmaze_endpoints(per, study, params, _DISC)
    results = one_sample_results(table, endpoint="tmaze_correct_pct",
                                 reference=params.chance_pct,
                                 normality_alpha=params.normality_alpha)
    return table, {"tmaze_animals": per, "tmaze_trials": trials,
                   "tmaze_trial_model": trial_models(trials, per, study, params)}, results


def _novel_arm(data: dict[str, Any], study: Study, params: TmazeParameters, files: list[Path]
               ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    if not len(data["zone_bins"]):
        raise InputError("mode 'novel_arm' needs zone statistics per bin; none among the "
                         "inputs", path=study.path)
    per = novel_arm_table(data["zone_bins"], params)
    data["notes"] += gap_warning(per)
    table = tmaze_endpoints(per, study, params, _NOVEL)
    results = one_sample_results(table, endpoint="tmaze_novel_arm_time_ratio", reference=0.5,
                                 normality_alpha=params.normality_alpha)
    return table, {"tmaze_animals": per}, results


_MODES = {"continuous": _continuous, "discrete": _discrete, "novel_arm": _novel_arm}


def analyse(study: Study, files: list[Path], params: TmazeParameters) -> AssayResult:
    """Analyse T-/Y-maze input files for the subjects of ``study``."""
    data = collect(files, params)
    data["entries"], data["trials"], data["sheets"] = match_numeric_subjects(
        [data["entries"], data["trials"], data["sheets"]], data["numeric_subjects"], study,
        data["notes"])
    for kind in ("entries", "trials", "zone_bins"):
        if len(data[kind]):
            check_subjects(data[kind], study, files, "T-maze")
    data["notes"] += check_written_groups(data["sheets"], study,
                                          source_locator(data["sheets"], files))
    table, details, results = _MODES[params.mode](data, study, params, files)
    details["tmaze_one_sample"] = results
    chance = float(details["tmaze_animals"]["chance_pct"].iloc[0]) \
        if params.mode == "continuous" and len(details["tmaze_animals"]) else None
    conventions = tmaze_conventions(params, chance_pct=chance, from_zones=data["from_zones"])
    notes = data["notes"] + [f"convention: {c}" for c in conventions]
    found = {"references": {"tmaze_alternation_pct": chance}} if chance is not None else {}
    return AssayResult(endpoints=table, details=details, notes=notes, inputs=files,
                       conventions=conventions, parameters=found)


def references(params: TmazeParameters) -> dict[str, Any]:
    """Chance level (%) of the mode's endpoint, from the parameters alone.

    None for continuous alternation when neither ``arms`` nor ``n_arms`` is set:
    the chance level then depends on the arms seen in the sequences (the run
    records it).
    """
    if params.mode == "discrete":
        return {"references": {"tmaze_correct_pct": params.chance_pct}}
    if params.mode == "continuous":
        k = len(params.arms) if params.arms else params.n_arms
        chance = 100 * chance_level(k, params.window or k, reentries=params.reentries) \
            if k else None
        return {"references": {"tmaze_alternation_pct": chance}}
    return {}


register(AssayPlugin(ASSAY, TmazeParameters, run,
                     "T-/Y-maze alternation: continuous sequences, discrete trials, poses",
                     derived=references))
