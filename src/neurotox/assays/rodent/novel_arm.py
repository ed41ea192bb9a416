"""Two-trial Y-maze (novel arm): per-animal preference from zone statistics per time bin.

The bins are checked before they are added up: a zone duration outside
``0..bin_s`` is an error naming the file row (a typo, or a table in ms), so is a bin
whose arm durations add up to more than ``bin_s`` (:func:`check_arm_sums`), and an
animal whose test bins do not all hold a value for the novel and familiar arm
(a bin row lost or left blank) is excluded with the reason, said as a warning:
added up, the bins it has would give another ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.assays.rodent.params import TmazeParameters
from neurotox.errors import InputError, quoted

#: EthoVision bins are exact; a zone duration may exceed ``bin_s`` by this fraction.
BIN_TOLERANCE = 0.01


def check_bin_durations(bins: pd.DataFrame, params: TmazeParameters) -> None:
    """Refuse a zone duration longer than its bin (``bin_s``), naming the file row.

    When most durations are longer than the bin and all fit it once divided by
    1000, the message says the table is probably in ms (the LIMS export carries
    no unit).
    """
    if params.bin_s is None:
        return
    dur = bins[bins["measure"] == "duration"]
    limit = params.bin_s * (1 + BIN_TOLERANCE)
    over = dur[dur["value"] > limit]
    if not len(over):
        check_arm_sums(dur, params)
        return
    r = over.iloc[0]
    nonzero = dur.loc[dur["value"] > 0, "value"]
    as_ms = dur["value"].max() / 1000 <= limit and (nonzero > limit).mean() > 0.5
    hint = (f"; {int((nonzero > limit).sum())} of {len(nonzero)} durations are longer and all "
            "fit the bin divided by 1000: is the table in ms?" if as_ms else "")
    path, _, row = str(r["source"]).partition(":")
    raise InputError(f"{r['zone']} duration {r['value']:g} s in bin {r['bin']} of phase "
                     f"{r['phase']!r} of {r['subject']!r} is longer than the {params.bin_s:g}-s "
                     f"bin (bin_s){hint}", path=path, where=f"{row}, column 'data'")


#: Arm zones of a Y-maze (``Novel arm``, ``Start Arm``): an animal is in one arm at a time,
#: so their durations in a bin add up to at most the bin. Other zones overlap them
#: (``Arena``, ``Center-point / Moving``) and are not added.
ARM_ZONE = r"\barm$"


def check_arm_sums(dur: pd.DataFrame, params: TmazeParameters) -> None:
    """Refuse a bin whose arm durations add up to more than ``bin_s`` (:data:`ARM_ZONE`).

    The arms are the zones named ``… arm`` and ``novel_zone`` / ``familiar_zone``;
    the error names the file, the bin's arm rows and their durations.
    """
    arms = {params.novel_zone.lower(), params.familiar_zone.lower()}
    arm = dur[dur["zone"].str.contains(ARM_ZONE, case=False) | dur["zone"].isin(arms)]
    key = ["subject", "timepoint", "phase", "bin"]
    sums = arm.groupby(key, sort=True)["value"].sum()
    over = sums[sums > params.bin_s * (1 + BIN_TOLERANCE)]
    if not len(over):
        return
    subject, _, phase, b = over.index[0]
    rows = arm[(arm[key] == list(over.index[0])).all(axis=1)].sort_values("zone")
    path, _, first = str(rows.sort_index()["source"].iloc[0]).partition(":")   # file order
    parts = ", ".join(f"{z} {v:g} s ({str(src).partition(':')[2]})" for z, v, src in
                      zip(rows["zone"], rows["value"], rows["source"], strict=True))
    raise InputError(f"the arm durations of bin {b} of phase {phase!r} of {subject!r} add up "
                     f"to {over.iloc[0]:g} s, longer than the {params.bin_s:g}-s bin (bin_s): "
                     f"{parts}; an animal is in one arm at a time", path=path,
                     where=f"{first}, column 'data'")


def _gaps(part: pd.DataFrame, expected: list[int], zones: list[str], measures: list[str]
          ) -> list[str]:
    """Bins of one animal without a value: ``bin 2 of 'novel arm' duration``."""
    out = []
    for zone in zones:
        for measure in measures:
            got = part[(part["zone"] == zone) & (part["measure"] == measure)]
            have = set(got.loc[np.isfinite(got["value"]), "bin"])
            out += [f"bin {b} of {zone!r} {measure}" for b in expected if b not in have]
    return out


def incomplete_bins(t: pd.DataFrame, params: TmazeParameters, zones: list[str]
                    ) -> dict[tuple[str, str], str]:
    """Animal sessions whose test bins miss a novel/familiar value: the exclusion reason.

    Expected bins are ``1..test_bins`` (all bins seen in the phase when None);
    the measures are those of the two arms in the file (duration, frequency).
    """
    expected = list(range(1, (params.test_bins or int(t["bin"].max())) + 1))
    measures = sorted(set(t["measure"]))
    out = {}
    for key, part in t.groupby(["subject", "timepoint"], sort=True):
        gaps = _gaps(part, expected, zones, measures)
        if gaps:
            file = str(part["source"].iloc[0]).split(":")[0]
            out[key] = (f"test bins incomplete in {file}: {', '.join(gaps[:3])}"
                        f"{' ...' if len(gaps) > 3 else ''} missing or blank")
    return out


def gap_warning(per: pd.DataFrame) -> list[str]:
    """The warning naming every animal session excluded for missing bins."""
    hit = per[per["exclusion_reason"].str.startswith("test bins incomplete")]
    if not len(hit):
        return []
    shown = "; ".join(f"{r.subject} at {r.condition}: {r.exclusion_reason}"
                      for r in hit.head(5).itertuples())
    return [f"warning: {len(hit)} animal session(s) excluded from the novel-arm ratios "
            f"because a test bin is missing or blank (the other bins alone would give "
            f"another ratio): {shown}{' ...' if len(hit) > 5 else ''}"]


def novel_arm_table(bins: pd.DataFrame, params: TmazeParameters) -> pd.DataFrame:
    """Per subject × timepoint novel-arm preference in the test phase of a two-trial Y-maze.

    Time ratio = novel-arm time / (novel + familiar arm time) over test bins
    ``1..test_bins`` (all bins when None); the entry ratio likewise from arm entries.
    Chance is 0.5. A subject that entered neither arm is excluded, and so is one
    whose test bins miss a value (:func:`incomplete_bins`).
    """
    check_bin_durations(bins, params)
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
    gaps = incomplete_bins(t, params, list(wanted))
    wide = t.assign(key=t["zone"].map(wanted) + "_" + t["measure"]).pivot_table(
        index=["subject", "timepoint"], columns="key", values="value", aggfunc="sum")
    files = t.groupby(["subject", "timepoint"])["source"].first().str.split(":").str[0]
    rows = []
    for (subj, tp), r in wide.iterrows():
        n, f = r.get("novel_duration", np.nan), r.get("familiar_duration", np.nan)
        ne, fe = r.get("novel_frequency", np.nan), r.get("familiar_frequency", np.nan)
        if (subj, tp) in gaps:
            n = f = ne = fe = np.nan
        reason = gaps.get((subj, tp)) or (
            "" if n + f > 0 else "no time in the novel or familiar arm during the test")
        rows.append({"subject": subj, "condition": tp, "novel_time_s": n,
                     "familiar_time_s": f, "time_ratio": n / (n + f) if n + f > 0 else np.nan,
                     "entry_ratio": ne / (ne + fe) if ne + fe > 0 else np.nan,
                     "excluded": bool(reason), "exclusion_reason": reason,
                     "source": files[(subj, tp)]})
    return pd.DataFrame(rows)
