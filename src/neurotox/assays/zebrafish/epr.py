"""Embryonic photomotor response (EPR, ~24 hpf) from frame-level motion indices.

Frames are grouped into 1-s bins (``frame_rate`` frames per second; default the
number of frames divided by ``epr_duration_s``) and averaged; the background,
excitation and refractory responses are the mean per-second activity within
their windows (defaults from the Tanguay protocol: seconds 21–29 background,
31–39 excitation after the first light pulse, 41–48 refractory after the
second). ``epr_scale`` multiplies the motion index everywhere: the endpoints
and the per-second detail table (5000 in the ``zebrafish-epr`` protocol, the
scale of the SARL HMAT tables).

References
----------
Reif DM et al. (2016) Arch Toxicol 90:1459; Rericha Y et al. (2021) Chem Res
Toxicol 34:1409 (raw data guide: 50 one-second points per embryo).

"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.assays.base import AssayResult
from neurotox.assays.zebrafish.design import design, design_info, unmapped_notes
from neurotox.assays.zebrafish.exclusions import larva_exclusions
from neurotox.assays.zebrafish.larvae import (
    LarvaMatrix,
    endpoint_block,
    larvae_detail,
    record_absent,
    with_mapped_larvae,
)
from neurotox.assays.zebrafish.metrics import epr_windows
from neurotox.errors import InputError

_LABELS = {"background": "B", "excitation": "E", "refractory": "R"}


def plate_rates(frames: pd.DataFrame, frame_rate: float | None, duration_s: float
                ) -> pd.Series:
    """Frames per second of each plate: ``frame_rate``, else its frames / ``duration_s``.

    Each plate is its own recording: a plate with more frames than another does not
    change the other's rate (and so its one-second bins).
    """
    n_frames = frames.groupby("plate", sort=True)["frame"].max().astype(float)
    return n_frames * 0 + frame_rate if frame_rate else n_frames / duration_s


def per_second(frames: pd.DataFrame, frame_rate: float | None, duration_s: float
               ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.Series]:
    """Larvae table, larva × second activity matrix, second numbers (1-based), fps per plate."""
    fps = plate_rates(frames, frame_rate, duration_s)
    rate = frames["plate"].map(fps).to_numpy(float)
    sec = np.floor((frames["frame"].to_numpy() - 1) / rate).astype(int) + 1
    keys = frames[["plate", "animal", "well"]].drop_duplicates(["plate", "animal"])
    keys = keys.reset_index(drop=True)
    idx = pd.MultiIndex.from_frame(keys[["plate", "animal"]]).get_indexer(
        pd.MultiIndex.from_frame(frames[["plate", "animal"]]))
    nsec = int(sec.max())
    total = np.zeros((len(keys), nsec))
    count = np.zeros((len(keys), nsec))
    np.add.at(total, (idx, sec - 1), frames["activity"].to_numpy(float))
    np.add.at(count, (idx, sec - 1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        act = total / count
    keys["subject"] = keys["plate"].astype(str) + "-" + keys["animal"].astype(str)
    return keys, act, np.arange(1, nsec + 1), fps


def rate_notes(frames: pd.DataFrame, fps: pd.Series, frame_rate: float | None,
               duration_s: float, files: list[str]) -> list[str]:
    """Say each plate's frame rate; refuse plates of different lengths without ``frame_rate``.

    Frames / ``epr_duration_s`` is the rate only if every plate was recorded for
    that long. Plates whose frame counts differ by more than 1 % were not: one was
    cut short or recorded longer, and which one cannot be told from the frames.
    With ``frame_rate`` given, a shorter plate lacks its last seconds (excluded as
    missing samples) and a longer one has more.
    """
    n = frames.groupby("plate", sort=True)["frame"].max()
    lengths = ", ".join(f"{p}: {n[p]} frames" for p in n.index)
    if frame_rate is None and n.max() > 1.01 * n.min():
        raise InputError(f"the EPR plates differ in length ({lengths}): frames / "
                         f"epr_duration_s {duration_s:g} s would give each plate another "
                         "frame rate, and a plate cut short would be stretched over the whole "
                         "recording. Give frame_rate (the camera's frames per second), or "
                         "analyse the plates separately", path=", ".join(files) or None)
    how = "as given (frame_rate)" if frame_rate else f"frames / epr_duration_s {duration_s:g} s"
    out = ["EPR frames per second, per plate " + how + ": " + ", ".join(
        f"{p} {fps[p]:.4g} ({n[p]} frames)" for p in n.index)]
    if n.max() > 1.01 * n.min():
        out.append(f"warning: the EPR plates differ in length ({lengths}); at frame_rate "
                   f"{frame_rate:g} each plate's seconds count from its first frame: a shorter "
                   "plate lacks its last seconds (missing samples), a longer one has more")
    return out


def analyse_epr(exports, params, *, study_id, layouts, groups, plate_map, notes
                ) -> AssayResult:
    """EPR endpoints per embryo (see the module docstring)."""
    frames = [e.data.assign(source=e.path.name) for e in exports if e.kind == "frames"]
    if len(frames) != len(exports):
        raise InputError("mode 'epr' needs frame-level motion exports (ZebraLab MotionTab)")
    frames = pd.concat(frames, ignore_index=True)
    larvae, act, secs, fps = per_second(frames, params.frame_rate, params.epr_duration_s)
    notes += rate_notes(frames, fps, params.frame_rate, params.epr_duration_s,
                        sorted({str(e.path) for e in exports}))
    notes.append(f"EPR: {len(secs)} one-second bins")
    sources = frames.drop_duplicates(["plate", "animal"])["source"].to_numpy()
    m = LarvaMatrix(larvae, act, secs - 1.0, secs.astype(float), {}, sources)
    larvae, m, absent = with_mapped_larvae(larvae, m, None if layouts else plate_map)
    larvae = design(larvae, layouts=layouts, groups=groups,
                    file_info=design_info(exports, plate_map), params=params)
    notes += unmapped_notes(larvae, exports, plate_map, layouts)
    keep = ~larvae["blank"].to_numpy()
    larvae, m, absent = larvae[keep].reset_index(drop=True), m.subset(keep), absent[keep]
    larvae["exclusion_reason"] = larva_exclusions(larvae, m, params, plate_map=plate_map)
    if note := record_absent(larvae, absent, "MotionTab (no well column)"):
        notes.append(note)
    scaled = m.D * params.epr_scale  # endpoints and per-second table on one scale
    values = epr_windows(scaled, secs, params.epr_windows)
    blocks = [endpoint_block(f"epr_{name}", "NA", v, larvae, m) for name, v in values.items()
              if f"epr_{name}" in endpoints.registry()]
    ept = endpoints.from_records(pd.concat(blocks).to_dict("records"), study_id=study_id,
                                 assay="zebrafish_lpr")
    seconds = pd.DataFrame({"subject": np.repeat(larvae["subject"].to_numpy(), len(secs)),
                            "group": np.repeat(larvae["group"].to_numpy(), len(secs)),
                            "dose": np.repeat(larvae["dose"].to_numpy(), len(secs)),
                            "second": np.tile(secs, len(larvae)),
                            "activity": scaled.reshape(-1),
                            "excluded": np.repeat(larvae["exclusion_reason"].ne("")
                                                  .to_numpy(), len(secs))})
    details = {"seconds": seconds, "larvae": larvae_detail(larvae),
               "epr_stats": interval_stats(seconds[~seconds["excluded"]],
                                           params.epr_windows)}
    return AssayResult(ept, details, notes, [e.path for e in exports])


def interval_stats(seconds: pd.DataFrame, windows: dict[str, tuple[float, float]]
                   ) -> pd.DataFrame:
    """SARL-style EPR summary per concentration × interval (B, E, R).

    Pools the per-second values of all larvae of a concentration within the
    interval: mean, SD, n (larva-seconds), peak (maximum over seconds of the
    group mean), two-sample Kolmogorov–Smirnov statistic against the control
    with the asymptotic p-value (as R's ``ks.test`` for large samples), the
    difference of means and the difference relative to the control mean.
    Larva-seconds without a value (no frame in that second) are left out and
    counted in ``n_missing`` (said in ``note``); a group with no value at all has
    no mean, and ``note`` says why.
    """
    from scipy import stats

    rows = []
    ctrl_dose = seconds["dose"].min()
    for name, (a, b) in windows.items():
        w = seconds[(seconds["second"] >= a) & (seconds["second"] <= b)]
        x0, _ = _finite(w.loc[w["dose"] == ctrl_dose, "activity"])
        for dose, g in w.groupby("dose"):
            x, missing = _finite(g["activity"])
            if not len(x) or not len(x0):
                rows.append({"interval": _LABELS.get(name, name), "dose": dose, "n": len(x),
                             "n_missing": missing, "note": "no larva-second with a value"
                             + ("" if len(x) else " in this group") + (
                                 "" if len(x0) else " in the control group")})
                continue
            ks = stats.ks_2samp(x, x0).statistic if dose != ctrl_dose else 0.0
            p = stats.kstwobign.sf(np.sqrt(len(x) * len(x0) / (len(x) + len(x0))) * ks) \
                if dose != ctrl_dose else 1.0
            diff = x.mean() - x0.mean()
            rows.append({"interval": _LABELS.get(name, name), "dose": dose, "mean": x.mean(),
                         "sd": x.std(ddof=1), "n": len(x), "n_missing": missing,
                         "peak": g.groupby("second")["activity"].mean().max(),
                         "ks_statistic": ks, "ks_p_value": min(float(p), 1.0), "diff": diff,
                         "delta": diff / x0.mean() if x0.mean() else np.nan,
                         "note": f"{missing} larva-second(s) without a value left out"
                         if missing else ""})
    return pd.DataFrame(rows, columns=_STATS_COLUMNS)


_STATS_COLUMNS = ["interval", "dose", "mean", "sd", "n", "n_missing", "peak", "ks_statistic",
                  "ks_p_value", "diff", "delta", "note"]


def _finite(values: pd.Series) -> tuple[np.ndarray, int]:
    """Values with a number, and how many had none (a second without a frame)."""
    x = values.to_numpy(float)
    ok = np.isfinite(x)
    return x[ok], int((~ok).sum())
