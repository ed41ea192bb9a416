"""The larva × bin matrix that LPR and EPR share, its endpoint rows and per-larva tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.io.zebrafish._tables import grid_index


class LarvaMatrix:
    """Distances as a larva × bin matrix, with bin times and extra per-bin measures.

    ``has_distance`` is false for an export without distances (ZebraLab
    quantization mode: activity durations and counts only); a bin is then
    missing when none of its activity measures has a value (:attr:`missing`).
    """

    def __init__(self, larvae: pd.DataFrame, D: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, extra: dict[str, np.ndarray], sources: np.ndarray,
                 has_distance: bool = True):
        self.larvae, self.D, self.starts, self.ends = larvae, D, starts, ends
        self.extra, self.sources, self.has_distance = extra, sources, has_distance

    def subset(self, mask: np.ndarray) -> LarvaMatrix:
        """Rows of ``mask`` only."""
        return LarvaMatrix(self.larvae[mask].reset_index(drop=True), self.D[mask], self.starts,
                           self.ends, {k: v[mask] for k, v in self.extra.items()},
                           self.sources[mask], self.has_distance)

    @property
    def missing(self) -> np.ndarray:
        """Larva × bin mask of bins without a value in the export."""
        if self.has_distance:
            return np.isnan(self.D)
        measured = [v for k, v in self.extra.items() if k in _ACTIVITY]
        return np.logical_and.reduce([np.isnan(v) for v in measured]) if measured \
            else np.isnan(self.D)


MAX_NAMED = 20   # larvae named in one note; the larvae table lists them all

_EXTRA = ("inadur", "smldur", "lardur", "smlct", "larct", "emptydur", "frect", "fredur",
          "midct", "middur", "burct", "burdur", "frames", "missing", "jumps")
_ACTIVITY = frozenset(_EXTRA[:12])   # the export's own per-bin measures

#: Exclusion reason of a distance endpoint when the export holds no distance.
NO_DISTANCE = ("needs distance; the export has none (quantization mode: activity durations "
               "and counts only)")


def larva_matrix(bins: pd.DataFrame) -> LarvaMatrix:
    """Pivot per-bin rows into a :class:`LarvaMatrix` (bins missing for a larva → NaN)."""
    keys = bins[["plate", "animal"]].drop_duplicates().reset_index(drop=True)
    codes = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(
        bins[["plate", "animal"]]))
    b = _columns(bins)
    nbin = int(b.max()) + 1
    D = np.full((len(keys), nbin), np.nan)
    D[codes, b] = bins["distance"].to_numpy(float)
    # a bin missing for every larva (a hole in the export's time grid): its times from
    # the neighbouring bins, its values NaN ("missing value in the export")
    times = bins[["start_s", "end_s"]].groupby(b).median().reindex(range(nbin)).interpolate(
        limit_area="inside")
    extra = {}
    for col in (c for c in _EXTRA if c in bins.columns):
        M = np.full_like(D, np.nan)
        M[codes, b] = bins[col].to_numpy(float)
        extra[col] = M
    first = bins.groupby(codes).first()
    larvae = keys.assign(well=first["well"].to_numpy())
    for col in ("location", "location_well", "plate_format"):   # plate_wells: numbered larvae
        if col in first.columns:
            larvae[col] = first[col].to_numpy()
    larvae["subject"] = larvae["plate"].astype(str) + "-" + larvae["animal"].astype(str)
    has_distance = bool(np.isfinite(D).any()) or not any(
        np.isfinite(v).any() for k, v in extra.items() if k in _ACTIVITY)
    return LarvaMatrix(larvae, D, times["start_s"].to_numpy(float),
                       times["end_s"].to_numpy(float), extra, first["source"].to_numpy(),
                       has_distance)


NO_DATA = "no data in the export (the plate map lists it)"


def with_mapped_larvae(larvae: pd.DataFrame, m: LarvaMatrix, plate_map: pd.DataFrame | None
                       ) -> tuple[pd.DataFrame, LarvaMatrix, np.ndarray]:
    """Add the plate map's larvae of the exported plates that have no data (all NaN).

    Returns the larvae, the matrix and a mask of the added larvae, so that they
    are recorded as excluded (:data:`NO_DATA`, :func:`record_absent`) instead of
    vanishing. A plate layout is checked against the exports on its own (a
    layout well without data is an error), so this is for plate maps only.
    """
    none = np.zeros(len(larvae), bool)
    if plate_map is None:
        return larvae, m, none
    mapped = plate_map.loc[plate_map["plate"].isin(set(larvae["plate"])), ["plate", "well"]]
    have = set(zip(larvae["plate"], larvae["well"], strict=True))
    extra = mapped[[k not in have for k in zip(mapped["plate"], mapped["well"],
                                                strict=True)]].drop_duplicates()
    if extra.empty:
        return larvae, m, none
    extra = extra.assign(animal=extra["well"], subject=extra["plate"].astype(str) + "-"
                         + extra["well"].astype(str)).reindex(columns=larvae.columns)
    nan_rows = np.full((len(extra), m.D.shape[1]), np.nan)
    plate_source = dict(zip(larvae["plate"], m.sources, strict=True))
    sources = np.r_[m.sources, extra["plate"].map(plate_source).to_numpy(object)]
    out = pd.concat([larvae, extra], ignore_index=True)
    return (out, LarvaMatrix(out, np.vstack([m.D, nan_rows]), m.starts, m.ends,
                             {k: np.vstack([v, nan_rows]) for k, v in m.extra.items()},
                             sources, m.has_distance), np.r_[none, np.ones(len(extra), bool)])


def record_absent(larvae: pd.DataFrame, absent: np.ndarray, where: str) -> str:
    """Set :data:`NO_DATA` as the reason of the ``absent`` larvae; the warning naming them."""
    if not absent.any():
        return ""
    larvae["exclusion_reason"] = larvae["exclusion_reason"].where(~absent, NO_DATA)
    named = ", ".join(larvae.loc[absent, "subject"].iloc[:MAX_NAMED])
    more = f" and {int(absent.sum()) - MAX_NAMED} more" if absent.sum() > MAX_NAMED else ""
    return (f"warning: {int(absent.sum())} larva(e) of the plate map have no data in the "
            f"{where}: {named}{more}; excluded ({NO_DATA})")


def _columns(bins: pd.DataFrame) -> np.ndarray:
    """Matrix column of each per-bin row: its place on the time grid, else the reader's bin.

    On the grid, a bin that no export row has (a hole shared by every larva, in
    any format) is a column of missing values, not skipped.
    """
    grid = grid_index(bins["start_s"])
    return grid[0] if grid is not None else bins["bin"].to_numpy(int)


def endpoint_block(endpoint: str, timepoint: str, values: np.ndarray, larvae: pd.DataFrame,
                   m: LarvaMatrix, *, needs_distance: bool = True) -> pd.DataFrame:
    """EndpointTable rows of one endpoint x timepoint: one per larva (NaN → excluded).

    A NaN value is a missing value in the export, or, for an endpoint that
    ``needs_distance`` computed from an export without distances, :data:`NO_DISTANCE`.
    """
    values = np.asarray(values, dtype=float)
    reason = larvae["exclusion_reason"].to_numpy(object).copy()
    missing = ~np.isfinite(values) & (reason == "")
    reason[missing] = NO_DISTANCE if needs_distance and not m.has_distance \
        else "missing value in the export"
    return pd.DataFrame({
        "endpoint": endpoint, "timepoint": timepoint, "subject": larvae["subject"].to_numpy(),
        "group": larvae["group"].to_numpy(), "dose": larvae["dose"].to_numpy(float),
        "dose_unit": larvae["dose_unit"].to_numpy(), "value": values,
        "excluded": reason != "", "exclusion_reason": reason,
        "batch": larvae["plate"].astype(str).to_numpy(),
        "source": [f"{s}: plate {p}, animal {a}" for s, p, a in
                   zip(m.sources, larvae["plate"], larvae["animal"], strict=True)]})


def bins_detail(larvae: pd.DataFrame, m: LarvaMatrix) -> pd.DataFrame:
    """Long per-bin table: plate, well, subject, group, dose, bin, start_s, distance."""
    n, k = m.D.shape
    out = pd.DataFrame({
        "plate": np.repeat(larvae["plate"].to_numpy(), k),
        "well": np.repeat(larvae["well"].to_numpy(), k),
        "subject": np.repeat(larvae["subject"].to_numpy(), k),
        "group": np.repeat(larvae["group"].to_numpy(), k),
        "dose": np.repeat(larvae["dose"].to_numpy(float), k),
        "bin": np.tile(np.arange(k), n), "start_s": np.tile(m.starts, n),
        "end_s": np.tile(m.ends, n), "distance": m.D.reshape(-1),
        "excluded": np.repeat(larvae["exclusion_reason"].ne("").to_numpy(), k)})
    return out


def larvae_detail(larvae: pd.DataFrame, m: LarvaMatrix | None = None) -> pd.DataFrame:
    """One row per larva: design and exclusion (and, given the matrix, ``missing_bins``)."""
    cols = ["subject", "plate", "well", "animal", "group", "dose", "dose_unit",
            "exclusion_reason"]
    out = larvae[cols].assign(excluded=larvae["exclusion_reason"] != "")
    if m is not None:
        out["missing_bins"] = m.missing.sum(axis=1)
    return out


def grid_hole_note(m: LarvaMatrix) -> str:
    """Name the bins that no larva has (holes in the export's time grid), if any."""
    holes = np.flatnonzero(m.missing.all(axis=0)) if len(m.D) else []
    if not len(holes):
        return ""
    named = ", ".join(f"{m.starts[j]:g}-{m.ends[j]:g} s" for j in holes[:MAX_NAMED])
    more = f" and {len(holes) - MAX_NAMED} more" if len(holes) > MAX_NAMED else ""
    return (f"{len(holes)} bin(s) missing for every larva (a hole in the export's time grid): "
            f"{named}{more}; they are missing values, and every endpoint whose window holds "
            "one is excluded ('missing value in the export')")


def partial_larvae_note(larvae: pd.DataFrame, m: LarvaMatrix) -> str:
    """Name the included larvae with some (not all) bins missing, and what that does to n.

    Such a larva counts as included in ``larvae``, but every endpoint whose
    window holds a missing bin is excluded for it, so an endpoint's n can be
    smaller than the group's included larvae.
    """
    miss = m.missing
    rows = np.flatnonzero(miss.any(axis=1) & ~miss.all(axis=1)
                          & (larvae["exclusion_reason"] == "").to_numpy())
    if not len(rows):
        return ""
    named = "; ".join(
        f"{larvae['subject'].iloc[i]} (group {larvae['group'].iloc[i]}, "
        + ", ".join(f"{m.starts[j]:g} s" for j in np.flatnonzero(miss[i])[:5])
        + (" …" if miss[i].sum() > 5 else "") + ")" for i in rows[:MAX_NAMED])
    if len(rows) > MAX_NAMED:
        named += f"; and {len(rows) - MAX_NAMED} more (larvae table, column missing_bins)"
    return (f"{len(rows)} included larva(e) lack a value in some bins of the export: {named}. "
            "They count as included in the larvae table, but each endpoint whose window holds "
            "such a bin is excluded for them ('missing value in the export'), so that "
            "endpoint's n (endpoints, hit_calls) is smaller than the group's included larvae")
