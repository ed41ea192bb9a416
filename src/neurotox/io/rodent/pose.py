"""Pose-tracking files: DeepLabCut CSV/H5 (single- and multi-animal) and SLEAP analysis h5.

DeepLabCut CSV: header rows ``scorer``, optional ``individuals``, ``bodyparts``,
``coords`` (``x``, ``y`` and, for predictions, ``likelihood``); the first column
is the frame index or the labelled image path. DeepLabCut H5: a pandas HDF store
(key ``df_with_missing``) with the same MultiIndex columns. SLEAP analysis h5:
datasets ``tracks`` (tracks, 2, nodes, frames), ``node_names``, ``track_names``
and ``point_scores``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.delimited import decimal_commas, decode, guess_delimiter, looks_like_decimal_comma
from neurotox.errors import FormatError, InputError, quoted
from neurotox.files import check_array_magnitude
from neurotox.io.rodent.base import Poses, Reader, RodentData, register_reader, sniff_lines
from neurotox.io.text import check_row_lengths

_LEVELS = ("scorer", "individuals", "bodyparts", "coords")
#: Individual name of single-animal DeepLabCut files (no ``individuals`` header row).
SINGLE = "single"
#: Cells of a DeepLabCut CSV that mean "no value" (pandas writes NaN as an empty cell).
_EMPTY = ("", "nan", "NaN", "NAN")


def _dlc_csv_levels(path: Path) -> tuple[int, str]:
    """Number of header rows (3, 4; 0 if not DeepLabCut) and the delimiter of a CSV.

    A DeepLabCut CSV re-saved by a spreadsheet in a European locale is
    ``;``-delimited (with decimal commas); a tab-delimited copy is read too.
    """
    lines = sniff_lines(path, 4)
    sep = guess_delimiter(lines[0]) if lines else ","
    first = [ln.split(sep, 1)[0].strip().strip('"').lower() for ln in lines]
    if not first or first[0] != "scorer":
        return 0, sep
    return (4 if len(first) > 1 and first[1] == "individuals" else 3), sep


def _match_dlc_csv(path: Path) -> bool:
    return path.suffix.lower() in (".csv", ".txt", ".tsv") and _dlc_csv_levels(path)[0] in (3, 4)


def _match_dlc_h5(path: Path) -> bool:
    if path.suffix.lower() not in {".h5", ".hdf5"}:
        return False
    import h5py

    with h5py.File(path, "r") as f:
        return "df_with_missing" in f or ("tracks" not in f and any(
            isinstance(f[k], h5py.Group) and "table" in f[k] for k in f))


def _match_sleap(path: Path) -> bool:
    if path.suffix.lower() not in {".h5", ".hdf5"}:
        return False
    import h5py

    with h5py.File(path, "r") as f:
        return "tracks" in f and "node_names" in f


def _where(i: int, first_line: int | None) -> str:
    """Where data row ``i`` (0-based) is: a CSV line, or a row of an HDF table."""
    return f"line {first_line + i}" if first_line is not None else f"row {i + 1} of the table"


def _frame_numbers(index: pd.Index, path: Path, first_line: int | None, predictions: bool
                   ) -> tuple[np.ndarray | None, list[str]]:
    """Video frame numbers of the rows (None for labelled frames) and a note on dropped frames.

    A prediction file's first column is the frame number: a number repeated or
    going back (rows duplicated, a block pasted twice) is an error naming the
    line; holes (dropped frames) are noted with their amount, and times are then
    taken from the frame number, not from the row number.
    """
    num = (pd.Series(np.full(len(index), np.nan)) if isinstance(index, pd.MultiIndex)
           else pd.to_numeric(pd.Series(list(index), dtype=object), errors="coerce"))
    whole = num.notna() & np.isfinite(num.astype(float)) & (num == num.round())
    if not whole.all():
        if not predictions:
            return None, []        # labelled frames: image paths as the index
        i = int(np.flatnonzero(~whole.to_numpy())[0])
        raise FormatError(f"expected a frame number in the first column, found "
                          f"{str(index[i])!r}", path=path, where=_where(i, first_line))
    frames = num.to_numpy(float).astype(np.int64)
    step = np.diff(frames)
    back = np.flatnonzero(step <= 0)
    if len(back):
        i = int(back[0]) + 1
        how = "repeated" if step[back[0]] == 0 else f"after frame {frames[i - 1]}"
        raise FormatError(f"frame {frames[i]} {how}: the frame index must increase (rows "
                          "duplicated or a block of frames written twice?)", path=path,
                          where=_where(i, first_line))
    holes = step[step > 1] - 1
    if not len(holes):
        return frames, []
    big = int(np.argmax(step))
    return frames, [f"{path.name}: {int(holes.sum())} frame(s) missing from the frame index "
                    f"({len(holes)} hole(s), the largest {int(holes.max())} frames after frame "
                    f"{frames[big]}): dropped frames; times are taken from the frame index"]


def _repeated_rows(values: np.ndarray, path: Path, first_line: int | None) -> list[str]:
    """A note on rows equal to an earlier row in every value, with the amount.

    Predictions of two video frames are equal to the last digit only when the
    video repeats a frame (a constant-frame-rate conversion) or rows were written
    twice with a renumbered index (a repeated frame index is refused by
    :func:`_frame_numbers`); the file cannot tell which, so it is said, not refused.
    """
    if len(values) < 2:
        return []
    hashes = pd.util.hash_pandas_object(pd.DataFrame(values), index=False).to_numpy()
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    orig = first[inverse]
    dup = np.flatnonzero((orig < np.arange(len(values))) & np.isfinite(values).any(axis=1))
    if not len(dup):
        return []
    i = int(dup[0])
    return [f"{path.name}: {len(dup)} of {len(values)} rows repeat an earlier row in every "
            f"value (the first, {_where(i, first_line)}, repeats "
            f"{_where(int(orig[i]), first_line)}): frames repeated in the video or rows "
            "written twice? each is counted as a frame"]


def _check_likelihood(conf: np.ndarray, names: list[str], path: Path,
                      first_line: int | None) -> None:
    bad = np.isfinite(conf) & ((conf < 0) | (conf > 1))
    if bad.any():
        i, j = (int(x[0]) for x in np.nonzero(bad))
        raise FormatError(f"expected a likelihood between 0 and 1, found {conf[i, j]:g}",
                          path=path, where=f"{_where(i, first_line)}, column {names[j]!r}")


def _scored(cols: pd.DataFrame, path: Path) -> bool:
    """Whether the bodyparts have a likelihood: all of them, or none (an error otherwise).

    Every bodypart needs coords ``x`` and ``y``; a file giving a likelihood for
    some bodyparts only is refused naming those without one.
    """
    have = cols.groupby(["individuals", "bodyparts"], sort=False)["coords"].agg(set)
    name = {key: key[1] if key[0] == SINGLE else "/".join(key) for key in have.index}
    no_xy = [name[k] for k, c in have.items() if not {"x", "y"} <= c]
    if no_xy:
        found = quoted(set(cols["coords"]))
        raise FormatError(f"expected coords 'x' and 'y' for every bodypart; {quoted(no_xy)} "
                          f"lack one (coords found: {found})", path=path)
    without = [name[k] for k, c in have.items() if "likelihood" not in c]
    if without and len(without) < len(have):
        raise FormatError(f"bodypart(s) {quoted(without)} have no 'likelihood' column while "
                          f"{len(have) - len(without)} other(s) have one: columns lost in an "
                          "edit?", path=path)
    return not without


def poses_from_dlc_frame(df: pd.DataFrame, path: Path, first_line: int | None = None
                         ) -> tuple[Poses, list[str]]:
    """Build :class:`Poses` (and notes) from a DeepLabCut DataFrame with MultiIndex columns.

    ``first_line`` is the CSV line of the first data row (None for an HDF table).
    """
    names = [n or "" for n in df.columns.names]
    if "bodyparts" not in names or "coords" not in names:
        raise FormatError(f"expected column levels 'bodyparts' and 'coords', found "
                          f"{quoted(names)}", path=path)
    cols = df.columns.to_frame(index=False)
    if "individuals" not in cols:
        cols["individuals"] = SINGLE
    scored = _scored(cols, path)
    inds = list(dict.fromkeys(cols["individuals"]))
    kps = list(dict.fromkeys(cols["bodyparts"]))
    values = df.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    labels = ["/".join(map(str, c)) for c in df.columns]
    check_array_magnitude(values, path, columns=labels)
    lik = (cols["coords"] == "likelihood").to_numpy()
    _check_likelihood(values[:, lik], [c for c, k in zip(labels, lik, strict=True) if k],
                      path, first_line)
    frames, notes = _frame_numbers(df.index, path, first_line, predictions=scored)
    if frames is not None and not scored:
        notes.append(f"warning: {path.name}: no 'likelihood' coordinate in the header (x, y "
                     "only: labelled frames or another tool's export): every point with "
                     "coordinates is taken as tracked (pose setting min_likelihood not applied)")
    notes += _repeated_rows(values, path, first_line)
    pos = np.full((len(df), len(inds), len(kps), 2), np.nan)
    conf = np.full((len(df), len(inds), len(kps)), np.nan)
    for j, (ind, kp, c) in enumerate(zip(cols["individuals"], cols["bodyparts"], cols["coords"],
                                         strict=True)):
        i, k = inds.index(ind), kps.index(kp)
        if c in ("x", "y"):
            pos[:, i, k, "xy".index(c)] = values[:, j]
        elif c == "likelihood":
            conf[:, i, k] = values[:, j]
    frame_labels = ["/".join(map(str, x)) if isinstance(x, tuple) else str(x) for x in df.index]
    return Poses(pos, conf, kps, inds, frame_labels, frames=frames, path=path), notes


def read_dlc_csv(path: Path, **_: Any) -> RodentData:
    """Read a DeepLabCut CSV (predictions or labelled frames, single or multi-animal).

    A line with fewer cells than the header rows (a cut file) is an error naming it.
    A ``;``- or tab-delimited copy (a spreadsheet's re-save) is read the same,
    decimal commas as decimal points (:func:`neurotox.delimited.decimal_commas`);
    a cell that is neither a number nor empty/``NaN`` is an error naming its line
    and column.
    """
    n, sep = _dlc_csv_levels(path)
    if n == 0:
        raise FormatError("expected DeepLabCut header rows starting with 'scorer'", path=path)
    text, _ = decode(path.read_bytes(), path)
    check_row_lengths(text, sep, path)
    # labelled data of DeepLabCut >= 2.2 spread the image path over 3 columns
    # (labeled-data, video, image), left empty in the header rows
    scorer = next(csv.reader([text.lstrip().split("\n", 1)[0]], delimiter=sep))
    width = next((k for k, c in enumerate(scorer[1:], 1) if c.strip()), 1)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, header=list(range(n)),
                         index_col=list(range(width)), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise FormatError(f"cannot parse DeepLabCut CSV: {exc}", path=path) from None
    df.columns.names = list(_LEVELS if n == 4 else ("scorer", "bodyparts", "coords"))
    if sep != ",":
        df, _ = decimal_commas(df)
    poses, notes = poses_from_dlc_frame(_numbers(df, path, n + 1), path, first_line=n + 1)
    return RodentData("poses", path, "deeplabcut-csv", poses=poses, notes=notes)


def _numbers(df: pd.DataFrame, path: Path, first_line: int) -> pd.DataFrame:
    """The table of strings as floats: empty and ``NaN`` cells missing, other text an error.

    Text that is no number (a decimal comma in a column that also holds decimal
    points, a unit, a label) would otherwise become a missing point silently.
    """
    text = df.apply(lambda s: s.str.strip())
    empty = text.isin(_EMPTY).to_numpy()
    bad = text.apply(pd.to_numeric, errors="coerce").isna().to_numpy() & ~empty
    if bad.any():
        i, j = (int(x[0]) for x in np.nonzero(bad))
        cell = text.iat[i, j]
        hint = (" (decimal commas and decimal points in one column: which is meant?)"
                if looks_like_decimal_comma(cell) else "")
        raise FormatError(f"expected a number, found {cell!r}{hint}", path=path,
                          where=f"line {first_line + i}, column "
                                f"{'/'.join(map(str, df.columns[j]))!r}")
    # numpy parses text to the nearest float, as pandas' round_trip parser does
    values = np.where(empty, "nan", text.to_numpy(str)).astype(float)
    return pd.DataFrame(values, index=df.index, columns=df.columns)


def read_dlc_h5(path: Path, **_: Any) -> RodentData:
    """Read a DeepLabCut H5 (pandas HDF store, MultiIndex columns)."""
    try:
        df = pd.read_hdf(path)
    except (ValueError, KeyError, OSError, RuntimeError, TypeError) as exc:
        # PyTables raises HDF5ExtError (a RuntimeError) on files that are not HDF5
        raise FormatError(f"cannot read as a DeepLabCut HDF store: {exc}", path=path) from None
    poses, notes = poses_from_dlc_frame(df, path)
    return RodentData("poses", path, "deeplabcut-h5", poses=poses, notes=notes)


def video_tracks(data: RodentData, individual: int | str | None) -> tuple[int, list[str]]:
    """The individual to analyse in the pose file of one video, and a note on the choice.

    A labelled-data file (DeepLabCut training labels: image paths as the index,
    no likelihood) is refused: it is not the tracking of a video. A multi-animal
    file needs ``individual`` (name or 0-based position); without it the file is
    refused rather than one animal analysed silently; a single-animal file (no
    ``individuals`` row) is its one animal whatever ``individual`` says.
    """
    poses = data.poses
    if poses.frames is None:
        raise InputError("a DeepLabCut labelled-data file (image paths as the index, no "
                         "likelihood): training labels, not the tracking of a video; give "
                         "the video's analysis output (the ...DLC_...csv or .h5 of the video)",
                         path=data.path)
    inds = poses.individuals
    if inds == [SINGLE]:          # a single-animal file: its animal, whatever is named
        return 0, []
    if individual is None:
        if len(inds) > 1:
            raise InputError(f"multi-animal pose file with {len(inds)} individuals "
                             f"({quoted(inds)}): name the one to analyse with the pose "
                             "setting 'individual'", path=data.path)
        return 0, []
    if isinstance(individual, str):
        if individual not in inds:
            raise InputError(f"individual {individual!r} (pose setting 'individual') not in "
                             f"the file; individuals: {quoted(inds)}", path=data.path)
        k = inds.index(individual)
    elif individual >= len(inds):
        raise InputError(f"individual {individual} (pose setting 'individual', counted from "
                         f"0) not in the file; it has {len(inds)}: {quoted(inds)}",
                         path=data.path)
    else:
        k = individual
    return k, [f"{data.path.name}: individual {inds[k]!r} of {len(inds)} ({quoted(inds)}) "
               "analysed (pose setting 'individual')"]


def _names(ds: Any) -> list[str]:
    return [n.decode() if isinstance(n, bytes) else str(n) for n in ds[()]]


def read_sleap(path: Path, **_: Any) -> RodentData:
    """Read a SLEAP analysis h5 (``sleap-convert --format analysis``)."""
    import h5py

    with h5py.File(path, "r") as f:
        tracks = np.asarray(f["tracks"][()], dtype=float)  # (tracks, 2, nodes, frames)
        nodes = _names(f["node_names"])
        names = _names(f["track_names"]) if "track_names" in f else []
        scores = np.asarray(f["point_scores"][()], float) if "point_scores" in f else None
    if tracks.ndim != 4 or tracks.shape[1] != 2 or tracks.shape[2] != len(nodes):
        raise FormatError(f"expected 'tracks' of shape (tracks, 2, {len(nodes)}, frames), found "
                          f"{tracks.shape}", path=path)
    pos = np.transpose(tracks, (3, 0, 2, 1))
    conf = (np.transpose(scores, (2, 0, 1)) if scores is not None
            else np.full(pos.shape[:3], np.nan))
    names = names or [f"track_{i}" for i in range(pos.shape[1])]
    labels = [str(i) for i in range(pos.shape[0])]
    notes = [] if scores is not None else [
        f"warning: {path.name}: no 'point_scores' dataset: every point with coordinates is "
        "taken as tracked (pose setting min_likelihood not applied)"]
    return RodentData("poses", path, "sleap-analysis",
                      poses=Poses(pos, conf, nodes, names, labels,
                                  frames=np.arange(pos.shape[0]), path=path), notes=notes)


for _r in (
    Reader("sleap-analysis", "poses", "SLEAP analysis h5 (tracks, node_names)",
           _match_sleap, read_sleap),
    Reader("deeplabcut-h5", "poses", "DeepLabCut h5 (df_with_missing)", _match_dlc_h5,
           read_dlc_h5),
    Reader("deeplabcut-csv", "poses", "DeepLabCut csv (scorer/bodyparts/coords header rows)",
           _match_dlc_csv, read_dlc_csv),
):
    register_reader(_r)
