"""T-maze (and Y-maze) alternation: continuous sequences, discrete trials, pose tracks.

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
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from neurotox import endpoints
from neurotox.assays import pose as geo
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.nor import check_subjects, concat, one_sample_results, subject_info
from neurotox.errors import InputError, quoted
from neurotox.io.rodent import RodentData, read_rodent
from neurotox.io.rodent.base import ENTRY_COLUMNS, TRIAL_COLUMNS
from neurotox.io.rodent.tables import ZONE_BIN_COLUMNS
from neurotox.stats.one_sample import trial_level_glmm
from neurotox.study import AssaySpec, Study

ASSAY = "tmaze"


class ArmSettings(BaseModel):
    """Arms and keypoints for entries from pose tracks.

    Arms are either fixed shapes in cm (``arms``) or zones of a DLCAnalyzer-style
    zone file given as an input (``arm_zones`` names them), whose corners are maze
    landmarks tracked as keypoints (median position over the video).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    px_per_cm: float = Field(gt=0)
    fps: float = Field(gt=0)
    arms: tuple[geo.Shape, ...] = ()
    arm_zones: tuple[str, ...] = ()
    body: str = "body_centre"
    keypoints: tuple[str, ...] = Field(min_length=1)
    min_fraction: float = Field(default=0.75, gt=0, le=1)
    min_entry_s: float = Field(default=0.0, ge=0)
    min_likelihood: float = Field(default=0.6, ge=0, le=1)
    max_gap_frames: int = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _arms_given(self) -> ArmSettings:
        if len(self.arms) + len(self.arm_zones) < 2:
            raise ValueError("give at least 2 'arms' (shapes in cm) or 2 'arm_zones' "
                             "(zone names of a zone file)")
        return self


class TmazeParameters(BaseModel):
    """Closed parameter model of the T-maze assay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["continuous", "discrete", "novel_arm"] = "continuous"
    paradigm: Literal["spontaneous", "forced", "rewarded"] = "spontaneous"
    arms: tuple[str, ...] | None = None
    window: int | None = Field(default=None, ge=2)
    reentries: Literal["counted", "collapsed"] = "counted"
    min_entries: int = Field(default=8, ge=3)
    correct_rule: Literal["alternate", "same"] = "alternate"
    min_trials: int = Field(default=1, ge=1)
    max_choice_latency_s: float | None = Field(default=None, gt=0)
    chance_pct: float = Field(default=50.0, gt=0, lt=100)
    test_phase: str = "novel"
    test_bins: int | None = Field(default=2, ge=1)
    novel_zone: str = "novel arm"
    familiar_zone: str = "familiar arm"
    timepoint: str = "NA"
    normality_alpha: float = Field(default=0.05, gt=0, lt=0.5)
    pose: ArmSettings | None = None


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


def alternation_table(entries: pd.DataFrame, params: TmazeParameters) -> pd.DataFrame:
    """Per subject × condition alternation %, entries, error counts, chance and exclusions."""
    arms = list(params.arms) if params.arms else sorted(set(entries["arm"]))
    window = params.window or len(arms)
    chance = 100 * chance_level(len(arms), window, reentries=params.reentries)
    unknown = sorted(set(entries["arm"]) - set(arms))
    if unknown:
        raise InputError(f"arm(s) {quoted(unknown)} are not among the maze arms {quoted(arms)}")
    rows = []
    for (subj, cond), part in entries.groupby(["subject", "condition"], sort=True):
        seq = list(part.sort_values("order")["arm"])
        if params.reentries == "collapsed":
            seq = collapse_repeats(seq)
        s = score_sequence(seq, window=window)
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


# ------------------------------------------------------------ two-trial novel arm

def novel_arm_table(bins: pd.DataFrame, params: TmazeParameters) -> pd.DataFrame:
    """Per subject × timepoint novel-arm preference in the test phase of a two-trial Y-maze.

    Time ratio = novel-arm time / (novel + familiar arm time) over test bins
    ``1..test_bins`` (all bins when None); the entry ratio likewise from arm entries.
    Chance is 0.5. A subject that entered neither arm is excluded.
    """
    t = bins[(bins["phase"] == params.test_phase.lower())]
    if params.test_bins is not None:
        t = t[t["bin"] <= params.test_bins]
    if not len(t):
        raise InputError(f"no bins of phase {params.test_phase!r} in the zone statistics")
    wanted = {params.novel_zone.lower(): "novel", params.familiar_zone.lower(): "familiar"}
    missing = sorted(set(wanted) - set(t["zone"]))
    if missing:
        raise InputError(f"zone(s) {quoted(missing)} not in the zone statistics; found "
                         f"{quoted(t['zone'])}")
    t = t[t["zone"].isin(list(wanted)) & t["measure"].isin(["duration", "frequency"])]
    wide = t.assign(key=t["zone"].map(wanted) + "_" + t["measure"]).pivot_table(
        index=["subject", "timepoint"], columns="key", values="value", aggfunc="sum")
    rows = []
    for (subj, tp), r in wide.iterrows():
        n, f = r.get("novel_duration", np.nan), r.get("familiar_duration", np.nan)
        ne, fe = r.get("novel_frequency", np.nan), r.get("familiar_frequency", np.nan)
        reason = "" if n + f > 0 else "no time in the novel or familiar arm during the test"
        rows.append({"subject": subj, "condition": tp, "novel_time_s": n,
                     "familiar_time_s": f, "time_ratio": n / (n + f) if n + f > 0 else np.nan,
                     "entry_ratio": ne / (ne + fe) if ne + fe > 0 else np.nan,
                     "excluded": bool(reason), "exclusion_reason": reason,
                     "source": t["source"].iloc[0].split(":")[0]})
    return pd.DataFrame(rows)


# ------------------------------------------------------------ pose tracks → entries

def landmark_arms(data: RodentData, zones: dict[str, list[str]],
                  settings: ArmSettings) -> list[geo.Shape]:
    """Arm polygons (cm) from zones defined over tracked maze landmarks (median position)."""
    missing = sorted(set(settings.arm_zones) - set(zones))
    if missing:
        raise InputError(f"arm zone(s) {quoted(missing)} not in the zone file; it defines "
                         f"{quoted(zones)}")
    shapes = []
    for name in settings.arm_zones:
        corners = []
        for point in zones[name]:
            xy = data.poses.point(point).copy()
            xy[~(data.poses.score(point) >= settings.min_likelihood)
               & np.isfinite(data.poses.score(point))] = np.nan
            corners.append(tuple(np.nanmedian(xy, axis=0) / settings.px_per_cm))
        shapes.append(geo.Shape(name=name, kind="polygon", vertices=tuple(corners)))
    return shapes


def entries_from_poses(data: RodentData, subject: str, settings: ArmSettings,
                       zones: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Arm entries from pose tracks: body centre and ``min_fraction`` of keypoints in an arm."""
    arms = list(settings.arms)
    if settings.arm_zones:
        if zones is None:
            raise InputError("'arm_zones' set but no zone file among the inputs", path=data.path)
        arms += landmark_arms(data, zones, settings)
    points = {}
    for name in {*settings.keypoints, settings.body}:
        xy = data.poses.point(name) / settings.px_per_cm
        points[name] = geo.clean_track(xy, data.poses.score(name),
                                       min_score=settings.min_likelihood,
                                       max_gap=settings.max_gap_frames)
    inside = {arm.name: geo.arm_membership(points, arm, centre=settings.body,
                                           min_fraction=settings.min_fraction)
              for arm in arms}
    seq = geo.zone_sequence(inside, min_frames=max(int(round(settings.min_entry_s *
                                                             settings.fps)), 1))
    return pd.DataFrame({"subject": subject, "condition": "NA", "order": np.arange(len(seq)) + 1,
                         "arm": seq["arm"], "enter_s": seq["enter_frame"] / settings.fps,
                         "exit_s": seq["exit_frame"] / settings.fps,
                         "source": f"{data.path.name}:frames"}, columns=list(ENTRY_COLUMNS))


def _pose_subject(path: Path) -> str:
    import re

    return re.split(r"DLC_|DeepCut_|\.analysis", path.stem)[0]


def collect(files: list[Path], params: TmazeParameters) -> dict[str, Any]:
    """Read every input into entries and trials tables (zone files apply to pose inputs)."""
    entries, trials, poses, notes, zone_bins = [], [], [], [], []
    zones = None
    for path in files:
        data = read_rodent(path)
        notes += data.notes
        if data.kind == "entries":
            entries.append(data.table)
        elif data.kind == "trials":
            trials.append(data.table)
        elif data.kind == "zones":
            zones = data.meta["zones"]
        elif data.kind == "zone_bins":
            zone_bins.append(data.table)
        elif data.kind == "poses":
            poses.append(data)
        else:
            raise InputError(f"a {data.kind} file ({data.fmt}) is not a T-maze input", path=path)
    for data in poses:
        if params.pose is None:
            raise InputError("pose input given but the protocol has no 'pose' settings "
                             "(arms, px_per_cm, fps)", path=data.path)
        entries.append(entries_from_poses(data, _pose_subject(data.path), params.pose, zones))
    return {"entries": concat(entries, ENTRY_COLUMNS), "trials": concat(trials, TRIAL_COLUMNS),
            "zone_bins": concat(zone_bins, ZONE_BIN_COLUMNS), "notes": notes}


# ------------------------------------------------------------ EndpointTable

_CONT = {"tmaze_alternation_pct": "alternation_pct", "tmaze_entries": "entries",
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


def _continuous(data: dict[str, Any], study: Study, params: TmazeParameters
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    if not len(data["entries"]):
        raise InputError("mode 'continuous' needs arm-entry sequences or pose tracks; "
                         "none among the inputs", path=study.path)
    per = alternation_table(data["entries"], params)
    table = tmaze_endpoints(per, study, params, _CONT)
    results = one_sample_results(table, endpoint="tmaze_alternation_pct",
                                 reference=float(per["chance_pct"].iloc[0]),
                                 normality_alpha=params.normality_alpha)
    return table, {"tmaze_animals": per, "tmaze_entries": data["entries"]}, results


def _discrete(data: dict[str, Any], study: Study, params: TmazeParameters
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


def _novel_arm(data: dict[str, Any], study: Study, params: TmazeParameters
               ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    if not len(data["zone_bins"]):
        raise InputError("mode 'novel_arm' needs zone statistics per bin; none among the "
                         "inputs", path=study.path)
    per = novel_arm_table(data["zone_bins"], params)
    table = tmaze_endpoints(per, study, params, _NOVEL)
    results = one_sample_results(table, endpoint="tmaze_novel_arm_time_ratio", reference=0.5,
                                 normality_alpha=params.normality_alpha)
    return table, {"tmaze_animals": per}, results


_MODES = {"continuous": _continuous, "discrete": _discrete, "novel_arm": _novel_arm}


def analyse(study: Study, files: list[Path], params: TmazeParameters) -> AssayResult:
    """Analyse T-/Y-maze input files for the subjects of ``study``."""
    data = collect(files, params)
    for kind in ("entries", "trials"):
        if len(data[kind]):
            check_subjects(data[kind], study, files, "T-maze")
    table, details, results = _MODES[params.mode](data, study, params)
    details["tmaze_one_sample"] = results
    return AssayResult(endpoints=table, details=details, notes=data["notes"], inputs=files)


register(AssayPlugin(ASSAY, TmazeParameters, run,
                     "T-/Y-maze alternation: continuous sequences, discrete trials, poses"))


# ------------------------------------------------------------ simulator

SIM_GROUPS = (("G1", "Vehicle control", 0.0), ("G2", "Low dose", 10.0),
              ("G3", "High dose", 100.0))
#: Probability that an entry goes to the arm least recently visited (else: random arm,
#: re-entries allowed). 0 at the high dose = random walk, alternation ~ 22 %.
SIM_ALTERNATE_P = {"G1": 0.7, "G2": 0.6, "G3": 0.0}


def _sim_sequence(rng: np.random.Generator, p_alt: float, n: int) -> list[str]:
    seq = list(rng.choice(["A", "B", "C"], size=2, replace=False))
    while len(seq) < n:
        if rng.random() < p_alt:
            seq.append(next(a for a in "ABC" if a not in seq[-2:]))
        else:
            seq.append(str(rng.choice(["A", "B", "C"])))
    return seq


def simulate_study(folder: Path, seed: int) -> dict[str, Any]:
    """Write a simulated spontaneous-alternation study (3 groups × 5 M + 5 F)."""
    rng = np.random.default_rng(seed)
    subjects = pd.DataFrame([{"subject": f"{g}{s}{k:02d}", "group": g, "sex": s}
                             for g, _, _ in SIM_GROUPS for s in ("M", "F")
                             for k in range(1, 6)])
    subjects.to_csv(folder / "subjects.csv", index=False)
    rows, truth = [], {}
    for i, r in enumerate(subjects.itertuples(index=False)):
        n = 6 if i == 0 else int(rng.integers(15, 30))  # one animal with too few entries
        seq = _sim_sequence(rng, SIM_ALTERNATE_P[r.group], n)
        t = np.cumsum(rng.uniform(5, 25, size=n))
        rows += [{"subject": r.subject, "order": k + 1, "arm": a, "enter_s": round(t[k], 2),
                  "exit_s": round(t[k] + 3, 2)} for k, a in enumerate(seq)]
        s = score_sequence(seq)
        truth[r.subject] = round(100 * s["alternations"] / s["windows"], 6)
    pd.DataFrame(rows).to_csv(folder / "tmaze_entries.csv", index=False)
    from neurotox.simulate import write_study_yaml

    write_study_yaml(folder, {
        "study_id": "SIM-TMAZE-001", "title": "Simulated T-maze spontaneous alternation study",
        "test_item": "Compound X", "species": "mouse",
        "groups": [{"id": g, "label": lab, "dose": d, "dose_unit": "mg/kg/day",
                    **({"control": True} if d == 0 else {})} for g, lab, d in SIM_GROUPS],
        "subjects": "subjects.csv",
        "assays": [{"assay": "tmaze", "protocol": "tmaze-spontaneous",
                    "input": "tmaze_entries.csv"}]})
    return {"alternation_pct": truth, "chance_pct": round(100 * 2 / 9, 6),
            "excluded": {subjects["subject"].iloc[0]: "6 entries < minimum 8"},
            "planted_p_alternate": SIM_ALTERNATE_P, "deficit_group": "G3"}


def _register_simulator() -> None:
    from neurotox.simulate import Simulator, register_simulator

    register_simulator(Simulator("tmaze", "T-maze spontaneous alternation: 3 groups, both "
                                 "sexes, arm-entry sequences; alternation at chance at the "
                                 "high dose", simulate_study))


_register_simulator()
