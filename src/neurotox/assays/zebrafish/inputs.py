"""Zebrafish tracking exports read and binned into one per-bin table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.assays.zebrafish.params import ZebrafishParameters
from neurotox.assays.zebrafish.plate_wells import place_wells
from neurotox.errors import InputError, quoted
from neurotox.io.zebrafish import Export, bin_track, read_export


def load_exports(paths: list[Path], params: ZebrafishParameters) -> list[Export]:
    """Read every export with the configured (or detected) format; apply ``plate_ids``."""
    exports = [read_export(p, format=params.format) for p in paths]
    unknown = sorted(set(params.plate_ids) - {p.name for p in paths})
    if unknown:
        raise InputError(f"plate_ids name file(s) {quoted(unknown)} that are not among the "
                         f"exports ({quoted(p.name for p in paths)})")
    for ex in exports:
        if ex.path.name in params.plate_ids:
            set_plate(ex, params.plate_ids[ex.path.name])
    return exports


def set_plate(ex: Export, plate: str) -> None:
    """Give every row of an export the plate ID ``plate`` (an override), said in its notes."""
    found = sorted(set(ex.data["plate"].astype(str)))
    for table in (ex.data, ex.wells, ex.events):
        if table is not None and "plate" in table.columns:
            table["plate"] = plate
    ex.notes.append(f"{ex.path.name}: plate ID {plate!r} as given (the file gave "
                    f"{quoted(found)})")


def bins_of(exports: list[Export], params: ZebrafishParameters,
            notes: list[str], layouts: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """All per-bin rows of the exports (trajectories binned at ``bin_s``); notes to ``notes``.

    Larvae the exports number (ZebraLab locations, EthoVision arenas) are placed
    on the plate format (:func:`~neurotox.assays.zebrafish.plate_wells.place_wells`).
    """
    parts = []
    for ex in exports:
        if ex.kind == "bins":
            df = ex.data
        elif ex.kind == "track":
            track = ex.data
            if params.mm_per_unit != 1.0:
                track = track.assign(x=track["x"] * params.mm_per_unit,
                                     y=track["y"] * params.mm_per_unit)
            df = bin_track(track, params.bin_s, t0=0.0, max_step_mm=params.max_step_mm)
            if "location" in track.columns:   # arena numbers, for the plate format
                df = df.merge(track[["plate", "animal", "location", "well_by_location"]]
                              .drop_duplicates(["plate", "animal"]), how="left",
                              on=["plate", "animal"])
            notes.append(f"{ex.path.name}: binned at {params.bin_s:g} s, "
                            f"{params.mm_per_unit:g} mm per coordinate unit")
        else:
            raise InputError(f"{ex.format} holds EPR frames; use mode 'epr' "
                             "(protocol zebrafish-epr)", path=ex.path)
        check_covers_schedule(df, ex, params, notes)
        df = drop_after_schedule(df, ex, params, notes)
        if params.count_inactive_distance and "inadist" in df.columns:
            df = df.assign(distance=df["distance"] + df["inadist"])
        parts.append(df.assign(source=ex.path.name, export_file=str(ex.path)))
    out = place_wells(pd.concat(parts, ignore_index=True), layouts,
                      params.plate_format, notes)
    key = ["plate", "animal", "bin"]
    dup = out.duplicated(key)
    if dup.any():
        r = out[dup].iloc[0]
        rows = out[(out[key] == r[key]).all(axis=1)]
        files = list(dict.fromkeys(rows["export_file"]))
        where = (f"the exports {files[0]} and {files[1]}" if len(files) > 1 else
                 f"the export {files[0]}")
        raise InputError(f"larva {r['plate']}-{r['animal']} bin {r['bin']} appears in more "
                         f"than one export row ({where}); give each plate once",
                         path=files[-1])
    return out.drop(columns="export_file")


#: An export this many times longer than the light schedule is warned about: a time
#: column in frames (25-30 per s) or ms read as seconds, more likely than a long recording.
OVERLONG = 10.0


def check_covers_schedule(bins: pd.DataFrame, ex: Export, params: ZebrafishParameters,
                          notes: list[str]) -> None:
    """Refuse an export that ends before the light schedule does; warn of one much longer.

    A recording cut short would otherwise be analysed as if complete: its last
    phase partial but reported as whole, and the "last" light/dark cycle moved to
    an earlier one. The tolerance is 0.5 s or 1 % of a bin, whichever is larger
    (ZebraLab bin ends carry frame rounding). An export running past the schedule
    by more than its shortest phase (plus a bin) followed another schedule, most
    likely (a 40-min recording against the default 24-min LPR schedule): warned,
    naming both lengths. Exports without times are not checked.
    """
    ends = bins["end_s"].astype(float)
    if ends.isna().all():
        return
    windows = params.phase_windows()
    end, need = float(ends.max()), windows[-1].end
    width = float(np.nanmedian(ends - bins["start_s"].astype(float)))
    if end > OVERLONG * need > 0:
        notes.append(f"warning: {ex.path.name}: the export runs to {end:g} s, "
                        f"{end / need:.0f} times the protocol's light schedule ({need:g} s); "
                        "only the schedule's part is analysed. A time column in frames or "
                        "ms read as seconds looks like this: check the export's time unit")
    elif end - need > min(w.end - w.start for w in windows) + width:
        notes.append(overlong_note(ex, end, need, windows))
    if end >= need - max(0.5, 0.01 * width):
        return
    cut = [w.name for w in windows if w.end > end]
    raise InputError(f"the export ends at {end:g} s, before the end of the protocol's light "
                     f"schedule at {need:g} s; phase(s) {', '.join(cut)} would be partial or "
                     "missing. A recording cut short is not analysed: give the complete export, "
                     "or a schedule that ends with the recording", path=ex.path)


def drop_after_schedule(bins: pd.DataFrame, ex: Export, params: ZebrafishParameters,
                        notes: list[str]) -> pd.DataFrame:
    """Leave out (said) a closing fragment: bins past the schedule's end, under half a bin.

    ZebraLab often closes a recording with a period of a fraction of a second past
    the protocol's end (2400-2400.2 s after 60-s periods); counted, it would add to
    ``total_distance`` and be a "bin" of its own. Whole bins after the schedule
    stay: they are part of the recording (SARL's 245 6-s bins of a 240-bin schedule).
    """
    starts, ends = bins["start_s"].astype(float), bins["end_s"].astype(float)
    if starts.isna().all() or ends.isna().all():
        return bins
    width = float(np.nanmedian(ends - starts))
    end = params.phase_windows()[-1].end
    after = (starts >= end - 1e-9) & ((ends - starts) < 0.5 * width)
    if not after.any():
        return bins
    notes.append(f"{ex.path.name}: {int(after.sum())} row(s) of a closing fragment at "
                 f"{starts[after].min():g}-{float(ends[after].max()):g} s (under half a "
                 f"{width:g}-s bin), past the light schedule's end at {end:g} s, left out")
    return bins[~after]


def overlong_note(ex: Export, end: float, need: float, windows) -> str:
    """The warning of an export longer than the light schedule by more than a phase."""
    phases = ", ".join(f"{w.name} {w.end - w.start:g} s" for w in windows)
    return (f"warning: {ex.path.name}: the export runs to {end:g} s, {end - need:g} s past the "
            f"end of the protocol's light schedule ({need:g} s: {phases}); the phase endpoints "
            f"cover only the schedule's {need:g} s. A recording that followed another schedule "
            "looks like this: give its protocol with --protocol (or --set schedule=...)")


def file_wells(exports: list[Export]) -> pd.DataFrame | None:
    """Per-well information carried by the exports themselves (concentration, removals)."""
    parts = [e.wells for e in exports if e.wells is not None]
    return pd.concat(parts, ignore_index=True) if parts else None
