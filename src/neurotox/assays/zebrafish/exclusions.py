"""Which larvae are excluded from statistics, and why (GLP: never silent).

Rules, in order; every rule that applies is named in the reason:

1. dead or malformed: a Tanguay plate map (``MO24``/``MORT`` = dead, other calls =
   malformed, ``DNC_`` = do not count) or plate-layout columns named like
   ``mortality``, ``dead``, ``morphology``, ``malformed``, ``exclude`` holding a
   call (``1``, ``yes``, ``dead``, ``x``, ``true``; in finding columns also the
   finding's name) — cells saying neither yes nor no are refused when the layout
   is read (:func:`neurotox.io.zebrafish.plate.check_layout_calls`);
2. removed in the export itself (EPA ``X`` columns);
3. empty well: the tracker reports the well empty (``emptydur``) for more than
   ``max_empty_fraction`` of the recording;
4. no movement at all over the recording (``exclude_no_movement``);
5. tracking errors: more than ``max_missing_fraction`` of bins (trajectories:
   frames) missing;
6. group viability: fewer than ``viability_min`` of a group's larvae viable
   (rules 1–2): every larva of the group is excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.assays.base import tracking_error
from neurotox.io.zebrafish.plate import NO_CALL, layout_call_kind

_NO_CALL = NO_CALL | {"nan"}   # a layout given as a table with missing cells (tests, API)


def _join(a: pd.Series, b: pd.Series) -> pd.Series:
    both = (a != "") & (b != "")
    return (a + np.where(both, "; ", "") + b).astype(object)


def layout_calls(larvae: pd.DataFrame) -> pd.Series:
    """Reasons from plate-layout call columns (``layout_<name>``)."""
    out = pd.Series("", index=larvae.index, dtype=object)
    for col in [c for c in larvae.columns if c.startswith("layout_")]:
        name = col[len("layout_"):]
        if layout_call_kind(name) is None:
            continue
        val = larvae[col].astype(str).str.strip()
        called = ~val.str.lower().isin(_NO_CALL)
        out = _join(out, pd.Series(np.where(called, f"{name}: " + val, ""), index=out.index))
    return out


def plate_map_calls(larvae: pd.DataFrame, plate_map: pd.DataFrame | None,
                    which: str = "all") -> pd.Series:
    """Reasons from a Tanguay plate map (dead / malformed / do not count).

    ``which="24hpf"`` keeps only calls scored at 24 hpf (names ending in 24).
    """
    if plate_map is None:
        return pd.Series("", index=larvae.index, dtype=object)
    if which == "24hpf":
        calls = plate_map["calls"].str.split(", ").map(
            lambda cs: [c for c in cs if c.endswith("24")])
        plate_map = plate_map.assign(
            calls=calls.str.join(", "), dead=calls.map(lambda cs: "MO24" in cs),
            malformed=calls.map(lambda cs: any(c != "MO24" for c in cs)), discard=False)
    pm = larvae[["plate", "well"]].merge(plate_map, how="left", on=["plate", "well"])
    # eq(True): wells missing from the plate map (NaN after the merge) have no call
    dead = np.where(pm["dead"].eq(True), "dead (" + pm["calls"].fillna("") + ")", "")
    mal = np.where(pm["malformed"].eq(True) & ~pm["dead"].eq(True),
                   "malformed (" + pm["calls"].fillna("") + ")", "")
    dnc = np.where(pm["discard"].eq(True) & (dead == "") & (mal == ""),
                   "well marked do-not-count (DNC_)", "")
    return pd.Series([a or b or c for a, b, c in zip(dead, mal, dnc, strict=True)],
                     index=larvae.index, dtype=object)


def file_removals(larvae: pd.DataFrame, file_info: pd.DataFrame | None) -> pd.Series:
    """Removals marked in the export itself (EPA xlsx)."""
    if file_info is None or "exclusion_reason" not in file_info.columns:
        return pd.Series("", index=larvae.index, dtype=object)
    info = file_info.drop_duplicates(["plate", "well"])[["plate", "well", "exclusion_reason"]]
    pm = larvae[["plate", "well"]].merge(info, how="left", on=["plate", "well"])
    return pd.Series(pm["exclusion_reason"].fillna("").to_numpy(object), index=larvae.index)


def tracking_reasons(m, params) -> np.ndarray:
    """Empty well, no movement and missing-data reasons per larva."""
    n = len(m.D)
    out = np.full(n, "", dtype=object)
    duration = np.nansum(m.ends - m.starts)
    if "emptydur" in m.extra:
        frac = np.nansum(m.extra["emptydur"], axis=1) / duration
        out = _add(out, frac > params.max_empty_fraction,
                   [f"empty well (tracker: empty {f:.0%} of the time)" for f in frac])
    active = [m.extra[c] for c in ("middur", "burdur") if c in m.extra]
    moved = np.nansum(m.D, axis=1) if m.has_distance or not active else \
        sum(np.nansum(a, axis=1) for a in active)   # quantization: time active
    if params.exclude_no_movement:
        out = _add(out, moved == 0, "no movement over the whole recording")
    miss = m.missing.mean(axis=1)
    if "frames" in m.extra:
        miss = np.nansum(m.extra["missing"], axis=1) / np.maximum(
            np.nansum(m.extra["frames"], axis=1), 1)
    out = _add(out, miss > params.max_missing_fraction,
               [tracking_error(f) for f in miss])
    return out


def _add(out: np.ndarray, mask: np.ndarray, reason) -> np.ndarray:
    reason = np.broadcast_to(np.asarray(reason, dtype=object), out.shape)
    sep = np.where(out != "", "; ", "")
    return np.where(mask, out + sep + reason, out)


def viability(larvae: pd.DataFrame, nonviable: pd.Series, params) -> pd.Series:
    """Group-level exclusion when too few larvae of a group are viable."""
    frac = (~nonviable).groupby(larvae["group"]).mean()
    out = pd.Series("", index=larvae.index, dtype=object)
    for group, f in frac.items():
        ctrl = bool(larvae.loc[larvae["group"] == group, "control"].any())
        need = params.viability_min_control if ctrl and params.viability_min_control \
            is not None else params.viability_min
        if f < need:
            out[larvae["group"] == group] = (f"group {group} viability {f:.0%} below "
                                             f"{need:.0%}")
    return out


def larva_exclusions(larvae: pd.DataFrame, m, params, *, plate_map=None,
                     file_info=None) -> pd.Series:
    """Exclusion reason per larva ('' = included)."""
    bio = _join(_join(plate_map_calls(larvae, plate_map, params.morphology_calls),
                      layout_calls(larvae)),
                file_removals(larvae, file_info))
    track = pd.Series(tracking_reasons(m, params), index=larvae.index, dtype=object)
    group = viability(larvae, bio != "", params)
    return _join(_join(bio, track), group)
