"""Frame-level trajectories: Noldus EthoVision XT / DanioVision raw-data exports and plain CSV.

Layouts
-------
``ethovision-raw``
    Text export (UTF-16 or UTF-8; ``;``, ``,`` or tab): a header block whose first
    line is ``"Number of header lines:";"N"``, key/value lines (``Arena name``,
    ``Subject name``, ``Trial name`` …), the column-name line (``Trial time``,
    ``Recording time``, ``X center``, ``Y center``, ``Distance moved`` …) on line
    N-1 and the units line on line N; ``-`` marks a missing sample and decimal
    commas are accepted. The xlsx export has the same block on one sheet per track
    (``Track-Arena N-Subject M``); ``Trial Control`` event sheets are skipped.
``trajectory``
    Plain delimited table of positions: ``time`` (s), ``x``, ``y`` (mm) and
    optionally ``plate``, ``well``/``arena``/``animal`` (R-mangled EthoVision names
    such as ``Trial.time``, ``X.center`` are accepted). Without a well column the
    file is one larva, in the well named in the file name (``…_B07.csv``) or A01.

EthoVision arenas named ``Arena N`` are wells in row-major order of a 96-well
plate (Arena 1 = A01, Arena 13 = B01).

:func:`bin_track` turns any track into distance per time bin, vectorised over
all larvae at once.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from neurotox.errors import FormatError
from neurotox.files import check_frame_magnitudes
from neurotox.io.ethovision_blocks import column_names, is_event_table
from neurotox.io.ethovision_blocks import header_count as _header_count
from neurotox.io.text import check_distinct_columns
from neurotox.io.zebrafish._tables import NA_VALUES, decimal_mark, wells
from neurotox.io.zebrafish.base import (
    BIN_COLUMNS,
    TRACK_COLUMNS,
    Export,
    Reader,
    Source,
    norm,
    register_reader,
    require_columns,
)
from neurotox.study import number_to_well

_TIME = ("time_s", "trial_time", "time", "t", "recording_time")
_X = ("x", "x_center", "x_centre", "x_mm")
_Y = ("y", "y_center", "y_centre", "y_mm")
_ANIMAL = ("well", "arena", "arena_name", "animal", "larva", "subject", "location")
_WELL_RE = re.compile(r"^[A-Pa-p]\d{1,2}$")


def _pick(cols: list[str], options: tuple[str, ...]) -> str | None:
    return next((c for c in options if c in cols), None)


# ------------------------------------------------------------ EthoVision raw


def _match_ethovision(src: Source) -> bool:
    if src.sheets:
        return any(rows and _header_count([_s(c) for c in rows[0]]) for rows in
                   src.sheets.values())
    return bool(src.lines) and _header_count(src.header_cells(src.lines[0])) is not None


def _s(c: object) -> str:
    return "" if c is None else str(c).strip()


def _parse_block(rows: list[list[str]], where: str, src: Source) -> tuple[dict, list, list]:
    n = _header_count(rows[0])
    if n is None or n < 3 or len(rows) < n:
        raise FormatError(f"expected 'Number of header lines' followed by that many lines, "
                          f"found {len(rows)} line(s)", path=src.path, where=where)
    meta = {norm(r[0]): r[1] for r in rows[1:n - 2] if len(r) >= 2 and r[0]}
    names, units = rows[n - 2], rows[n - 1]
    cols = [norm(c) for c in names]
    require_columns(cols, ["trial_time"], path=src.path, where=where)
    if not ({"x_center", "distance_moved"} & set(cols)):
        raise FormatError(f"expected column 'X center' or 'Distance moved', found "
                          f"{sorted(c for c in names if c)}", path=src.path, where=where)
    return meta, cols, units


def _track_id(meta: dict, fallback: str) -> tuple[str, str, int | None]:
    """Plate (runs of spaces folded), animal (well) and the arena number the well came from.

    A well named in the metadata is kept (arena None); ``Arena N`` is numbered
    row-major on a 96-well plate here, and renumbered for the plate format
    (``plate_format``) by the assay.
    """
    plate = " ".join(str(meta.get("trial_name") or meta.get("experiment") or fallback).split())
    for key in ("well", "arena_name", "subject_name", "arena_id"):
        val = str(meta.get(key, "")).strip()
        if _WELL_RE.match(val):
            return plate, val, None
    arena = str(meta.get("arena_name") or meta.get("arena_id") or fallback).strip()
    m = re.fullmatch(r"(?i)arena\s*(\d+)", arena)
    if m and 1 <= int(m.group(1)) <= 384:
        k = int(m.group(1))
        return plate, str(number_to_well([k], 12 if k <= 96 else 24)[0]), k
    return plate, arena, None


def _frame_from_rows(cols: list[str], units: list[str], data: pd.DataFrame,
                     meta: dict, fallback: str, src: Source, notes: list[str]) -> pd.DataFrame:
    data.columns = cols[:data.shape[1]]
    plate, animal, arena = _track_id(meta, fallback)
    scale = 10.0 if any(u.strip().lower() == "cm" for u in units) else 1.0
    if scale != 1.0:
        notes.append(f"{fallback}: coordinates in cm converted to mm")
    out = pd.DataFrame({"plate": plate, "well": animal, "animal": animal,
                        "time_s": _num(data["trial_time"], src, "trial_time"),
                        "x": _num(data.get("x_center", pd.Series(np.nan, index=data.index)),
                                  src, "x_center") * scale,
                        "y": _num(data.get("y_center", pd.Series(np.nan, index=data.index)),
                                  src, "y_center") * scale})
    if "distance_moved" in data.columns:
        out["step"] = _num(data["distance_moved"], src, "distance_moved") * scale
    if arena is not None:   # the well is a plate-format assumption: the assay may renumber
        out["location"], out["well_by_location"] = arena, True
    return out


def _num(s: pd.Series, src: Source | None = None, column: str = "") -> pd.Series:
    """Numbers from text (decimal commas accepted); other text is an error when ``src``."""
    if s.dtype.kind in "fi":
        return s.astype(float)
    t = s.astype("string").str.strip().str.replace(",", ".", regex=False)
    t = t.where(~t.isin(NA_VALUES))
    num = pd.to_numeric(t, errors="coerce").astype(float)
    bad = num.isna() & t.notna()
    if src is not None and bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"expected a number, found {s.iloc[i]!r}", path=src.path,
                          where=f"data row {i + 1}, column {column!r}")
    return num


def _read_ethovision(src: Source) -> Export:
    notes: list[str] = []
    frames = []
    if src.sheets:
        if src.container == "xlsx":
            from neurotox.workbook import read_excel

            all_sheets = read_excel(src.path, sheet_name=None, header=None, dtype=str)
        else:
            all_sheets = pd.read_excel(src.path, sheet_name=None, header=None, dtype=str,
                                       engine="xlrd")
            check_frame_magnitudes(all_sheets, src.path, first_row=1)
        for name, sheet in all_sheets.items():
            rows = [[_s(c) if c == c else "" for c in r] for r in
                    sheet.itertuples(index=False)]
            n = _header_count(rows[0]) if rows else None
            if n is None:
                notes.append(f"sheet {name!r} skipped (no EthoVision header block)")
                continue
            if is_event_table(column_names(rows, n)):
                notes.append(f"sheet {name!r} skipped (Trial Control events, not a track)")
                continue
            meta, cols, units = _parse_block(rows, f"sheet {name!r}", src)
            data = sheet.iloc[n:].reset_index(drop=True)
            frames.append(_frame_from_rows(cols, units, data, meta, name, src, notes))
        notes.append(f"xlsx with {len(frames)} track sheet(s)")
    else:
        rows = [src.header_cells(line) for line in src.lines]
        n = _header_count(rows[0])
        if n is None or len(rows) < n:
            raise FormatError("expected the EthoVision header block to fit in the first "
                              f"{len(rows)} lines", path=src.path)
        meta, cols, units = _parse_block(rows, "header block", src)
        dec = decimal_mark(src, skip=n)
        notes.append(f"text: encoding {src.encoding}, delimiter {src.delimiter!r}, "
                     f"decimal mark {dec!r}, {n} header lines")
        data = pd.read_csv(src.path, sep=src.delimiter, encoding=src.encoding, skiprows=n,
                           header=None, dtype=str, keep_default_na=False, quotechar='"')
        frames.append(_frame_from_rows(cols, units, data, meta, src.path.stem, src, notes))
    if not frames:
        raise FormatError("no sheet holds an EthoVision track", path=src.path)
    return Export("ethovision-raw", "track", pd.concat(frames, ignore_index=True), src.path,
                  notes)


register_reader(Reader(
    "ethovision-raw",
    "EthoVision XT/DanioVision raw export: first line 'Number of header lines', then "
    "'Trial time', 'X center', 'Y center' columns",
    _match_ethovision, _read_ethovision))


# ------------------------------------------------------------ plain trajectory


def _match_plain(src: Source) -> bool:
    if src.sheets:
        return False
    cols = [norm(c) for c in src.header_cells(src.lines[0])] if src.lines else []
    return bool(_pick(cols, _TIME) and _pick(cols, _X) and _pick(cols, _Y))


def _read_plain(src: Source) -> Export:
    header = src.header_cells(src.lines[0])
    cols = [norm(c) for c in header]
    check_distinct_columns(header, cols, src.path)
    tcol, xcol, ycol = _pick(cols, _TIME), _pick(cols, _X), _pick(cols, _Y)
    acol = _pick(cols, _ANIMAL)
    pcol = "plate" if "plate" in cols else None
    dec = decimal_mark(src, skip=1)
    notes = [f"text: encoding {src.encoding}, delimiter {src.delimiter!r}, decimal mark "
             f"{dec!r}; coordinates taken as mm, time as s"]
    df = _load_positions(src, cols, dec, numeric=(tcol, xcol, ycol))
    n = len(df[tcol])
    stem = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[src.path.stem])
    if acol is None:
        well, said = _well_in_name(src.path.stem)
        notes.append(f"no well column: one larva, well {well} taken from the file name "
                     f"({said!r} in {src.path.name!r}; read as a well name, not a ZebraLab "
                     "location code); add a well column if that is not its well"
                     if said else "no well column: one larva, assigned to well A01 (no well "
                     "name such as 'B07' in the file name)")
        animal = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[well])
    else:
        animal = df[acol]
    # Columns are assigned one by one so pandas keeps them as separate blocks
    # instead of copying the float columns into one 2-D block.
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["plate"] = df[pcol] if pcol else stem
    if not pcol:
        notes.append(f"plate ID {src.path.stem!r} taken from the file name (no plate column); "
                     "override with --plate-id or the study's plate_ids")
    out["well"] = animal
    out["animal"] = animal
    for name, col in (("time_s", tcol), ("x", xcol), ("y", ycol)):
        out[name] = np.asarray(df[col], dtype=float)
    return Export("trajectory", "track", out, src.path, notes)


def _well_in_name(stem: str) -> tuple[str, str]:
    """The well a file name names (``larva_B07`` → B07) and its text; A01 and "" if none."""
    m = re.search(r"(?<![A-Za-z0-9])([A-Pa-p])0?(\d{1,2})(?![0-9])", stem)
    return (f"{m.group(1).upper()}{int(m.group(2)):02d}", m.group(0)) if m else ("A01", "")


def _arrow_column(col) -> np.ndarray | pd.Categorical:
    """A pyarrow column as float array or categorical without a pandas round trip."""
    import pyarrow as pa

    col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        col = col.unify_dictionaries() if hasattr(col, "unify_dictionaries") else col
        codes = col.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return pd.Categorical.from_codes(codes, categories=col.dictionary.to_pylist())
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        return col.to_numpy(zero_copy_only=False).astype(float, copy=False)
    return col.to_numpy(zero_copy_only=False)


def _load_positions(src: Source, cols: list[str], dec: str,
                    numeric: tuple[str, ...]) -> dict:
    """Parse the table into columns; identifiers categorical, coordinates float.

    Plain UTF-8 files with decimal points are parsed by pyarrow (multi-threaded);
    other dialects by pandas.
    """
    if dec == "." and src.encoding in ("utf-8", "utf-8-sig"):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        names = [c or f"column{i}" for i, c in enumerate(cols)]
        try:
            table = pacsv.read_csv(
                src.path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                parse_options=pacsv.ParseOptions(delimiter=src.delimiter),
                convert_options=pacsv.ConvertOptions(
                    null_values=NA_VALUES, strings_can_be_null=True,
                    column_types={c: pa.float64() for c in numeric},
                    auto_dict_encode=True, auto_dict_max_cardinality=100_000))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise FormatError(f"cannot parse as a position table: {exc}",
                              path=src.path) from None
        for name in names:
            col_type = table.column(name).type
            value_type = col_type.value_type if pa.types.is_dictionary(col_type) else col_type
            if pa.types.is_binary(value_type) or pa.types.is_large_binary(value_type):
                raise FormatError("expected UTF-8 text, found bytes that are not",
                                  path=src.path, where=f"column {name!r}")
        return {name: _arrow_column(table.column(name)) for name in names}
    df = pd.read_csv(src.path, sep=src.delimiter, encoding=src.encoding, decimal=dec,
                     na_values=NA_VALUES, keep_default_na=False, dtype=str,
                     compression="gzip" if src.container == "gzip" else None)
    df.columns = cols[:df.shape[1]]
    return {c: _num(df[c], src, c).to_numpy() if c in numeric else df[c].astype("category")
            for c in df.columns}


register_reader(Reader(
    "trajectory",
    "trajectory table: columns time (s), x, y (mm) and optionally plate, well",
    _match_plain, _read_plain))


# ------------------------------------------------------------ binning


def _larva_codes(track: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer code per row for (plate, animal), and the plate/animal of each code."""
    pc, pu = pd.factorize(track["plate"], sort=False)
    ac, au = pd.factorize(track["animal"], sort=False)
    na = max(len(au), 1)
    combined = pc.astype(np.int64) * na + ac
    present = np.zeros(max(len(pu), 1) * na, dtype=bool)
    present[combined] = True
    uniq = np.flatnonzero(present)
    lookup = np.cumsum(present) - 1
    codes = lookup[combined]
    return codes, np.asarray(pu, dtype=object)[uniq // na].astype(str), \
        np.asarray(au, dtype=object)[uniq % na].astype(str)


def track_wells(track: pd.DataFrame, src_path) -> pd.Series:
    """Well names of a track: the well column if it holds well names, else as given."""
    w = track["well"].astype(str)
    uniq = pd.unique(w)
    if all(_WELL_RE.match(u) for u in uniq):
        return wells(w, Source(src_path), "well")
    return w


def _expected_frames(t: np.ndarray, codes: np.ndarray, frames: np.ndarray,
                     missing: np.ndarray, n_an: int, nb: int, bin_s: float, t0: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Frames each larva's bins should hold, and the missing ones among them.

    A larva's frame rate is its median time step; every bin of the recording
    should hold ``bin_s`` times that rate (the last bin only up to the recording's
    last frame), so a track that starts late or ends early misses frames too.
    Frames absent from the export count as missing.
    """
    frames = frames.reshape(n_an, nb).astype(float)
    missing = missing.reshape(n_an, nb).astype(float)
    by = pd.DataFrame({"a": codes, "t": t})
    dt = by.groupby("a")["t"].diff()
    step = dt[dt > 0].groupby(by["a"]).median().reindex(range(n_an)).to_numpy()
    want = np.repeat((bin_s / step)[:, None], nb, axis=1)
    if len(t):
        want[:, -1] = (float(t.max()) - t0 - (nb - 1) * bin_s) / step + 1   # partly recorded
    want = np.where(np.isfinite(want), np.floor(want + 0.5), 0.0)
    absent = np.maximum(want - frames, 0)
    return (frames + absent).ravel(), (missing + absent).ravel()


def bin_track(track: pd.DataFrame, bin_s: float, *, t0: float = 0.0,
              max_step_mm: float | None = None) -> pd.DataFrame:
    """Distance moved per time bin for every larva of a track, vectorised.

    Parameters
    ----------
    track
        Frame table with :data:`TRACK_COLUMNS` (optionally ``step``: distance moved
        since the previous frame as exported, used instead of x/y when present).
        Rows of one larva must be in time order.
    bin_s
        Bin width in seconds.
    t0
        Time of the start of bin 0; earlier frames are dropped.
    max_step_mm
        Steps longer than this (tracking jumps) are not counted; None keeps all.

    Returns
    -------
    pandas.DataFrame
        :data:`BIN_COLUMNS` plus ``frames`` (samples the bin should hold: the
        larva's frame rate times the bin width, or the samples it holds if
        more; every bin of the recording, also before a late start or after an
        early end of the larva's track), ``missing`` (of those, samples without
        a position or not in the export at all) and ``jumps`` (steps over
        ``max_step_mm``).

    Notes
    -----
    A step is attributed to the bin of its end frame. Steps into or out of a
    missing sample, or across frames missing from the export (more than twice
    the usual time step), are not counted (the tracker lost the larva). A bin with a
    position in fewer than half the frames it should hold (a stretch of frames
    missing from the export, or exported without coordinates) has no distance
    (NaN), never the distance of the frames that remain: a tracking gap is not
    a larva that stopped moving.

    """
    require_columns(list(track.columns), list(TRACK_COLUMNS), path="track")
    codes, key_plate, key_animal = _larva_codes(track)
    t = track["time_s"].to_numpy(float)
    frame_bin = np.floor((t - t0) / bin_s).astype(np.int64)
    nb = int(frame_bin.max()) + 1 if len(t) else 0
    n_an = len(key_plate)
    if "step" in track.columns:
        step = track["step"].to_numpy(float)[1:]
    else:
        x, y = track["x"].to_numpy(float), track["y"].to_numpy(float)
        step = np.hypot(np.diff(x), np.diff(y))
    same = codes[1:] == codes[:-1]
    dt = np.diff(t)
    usual = float(np.median(dt[same & (dt > 0)])) if (same & (dt > 0)).any() else np.inf
    # a step across frames missing from the export spans the gap: not counted
    ok = same & np.isfinite(step) & (frame_bin[1:] >= 0) & (dt <= 2 * usual)
    jumps = np.zeros_like(ok)
    if max_step_mm is not None:
        jumps = ok & (step > max_step_mm)
        ok &= ~jumps
    cell = codes.astype(np.int64) * nb + frame_bin
    size = n_an * nb
    dist = np.bincount(cell[1:][ok], weights=step[ok], minlength=size)
    valid = frame_bin >= 0
    nframes = np.bincount(cell[valid], minlength=size)
    missing = np.bincount(cell[valid & ~np.isfinite(track["x"].to_numpy(float))],
                          minlength=size)
    njump = np.bincount(cell[1:][jumps], minlength=size)
    nframes, missing = _expected_frames(t, codes, nframes, missing, n_an, nb, bin_s, t0)
    dist = np.where(nframes - missing < 0.5 * nframes, np.nan, dist)
    an_idx = np.repeat(np.arange(n_an), nb)
    first_row = np.full(n_an, -1, dtype=np.int64)
    first_row[codes[::-1]] = np.arange(len(codes))[::-1]
    first_well = np.asarray(track["well"].to_numpy()[first_row], dtype=object) \
        if len(codes) else np.array([], dtype=object)
    out = pd.DataFrame({
        "plate": np.asarray(key_plate, dtype=object)[an_idx],
        "well": first_well[an_idx],
        "animal": np.asarray(key_animal, dtype=object)[an_idx],
        "bin": np.tile(np.arange(nb), n_an),
        "start_s": t0 + np.tile(np.arange(nb), n_an) * bin_s,
        "end_s": t0 + (np.tile(np.arange(nb), n_an) + 1) * bin_s,
        "distance": dist, "frames": nframes, "missing": missing, "jumps": njump})
    return out[[*BIN_COLUMNS, "frames", "missing", "jumps"]]
