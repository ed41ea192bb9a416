"""Pose-tracking files: DeepLabCut CSV/H5 (single- and multi-animal) and SLEAP analysis h5.

DeepLabCut CSV: header rows ``scorer``, optional ``individuals``, ``bodyparts``,
``coords`` (``x``, ``y`` and, for predictions, ``likelihood``); the first column
is the frame index or the labelled image path. DeepLabCut H5: a pandas HDF store
(key ``df_with_missing``) with the same MultiIndex columns. SLEAP analysis h5:
datasets ``tracks`` (tracks, 2, nodes, frames), ``node_names``, ``track_names``
and ``point_scores``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.files import check_array_magnitude
from neurotox.io.rodent.base import Poses, Reader, RodentData, register_reader, sniff_lines

_LEVELS = ("scorer", "individuals", "bodyparts", "coords")


def _dlc_csv_levels(path: Path) -> int:
    lines = sniff_lines(path, 4)
    first = [ln.split(",", 1)[0].strip().lower() for ln in lines]
    if not first or first[0] != "scorer":
        return 0
    return 4 if len(first) > 1 and first[1] == "individuals" else 3


def _match_dlc_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and _dlc_csv_levels(path) in (3, 4)


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


def poses_from_dlc_frame(df: pd.DataFrame, path: Path) -> Poses:
    """Build :class:`Poses` from a DeepLabCut DataFrame with MultiIndex columns."""
    names = [n or "" for n in df.columns.names]
    if "bodyparts" not in names or "coords" not in names:
        raise FormatError(f"expected column levels 'bodyparts' and 'coords', found "
                          f"{quoted(names)}", path=path)
    cols = df.columns.to_frame(index=False)
    if "individuals" not in cols:
        cols["individuals"] = "single"
    coords = set(cols["coords"])
    if not {"x", "y"} <= coords:
        raise FormatError(f"expected coords 'x' and 'y', found {quoted(coords)}", path=path)
    inds = list(dict.fromkeys(cols["individuals"]))
    kps = list(dict.fromkeys(cols["bodyparts"]))
    values = df.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    check_array_magnitude(values, path, columns=["/".join(map(str, c)) for c in df.columns])
    pos = np.full((len(df), len(inds), len(kps), 2), np.nan)
    conf = np.full((len(df), len(inds), len(kps)), np.nan)
    for j, (ind, kp, c) in enumerate(zip(cols["individuals"], cols["bodyparts"], cols["coords"],
                                         strict=True)):
        i, k = inds.index(ind), kps.index(kp)
        if c in ("x", "y"):
            pos[:, i, k, "xy".index(c)] = values[:, j]
        elif c == "likelihood":
            conf[:, i, k] = values[:, j]
    labels = ["/".join(map(str, x)) if isinstance(x, tuple) else str(x) for x in df.index]
    return Poses(pos, conf, kps, inds, labels)


def read_dlc_csv(path: Path, **_: Any) -> RodentData:
    """Read a DeepLabCut CSV (predictions or labelled frames, single or multi-animal)."""
    n = _dlc_csv_levels(path)
    if n == 0:
        raise FormatError("expected DeepLabCut header rows starting with 'scorer'", path=path)
    try:
        df = pd.read_csv(path, header=list(range(n)), index_col=0, float_precision="round_trip")
    except (ValueError, pd.errors.ParserError) as exc:
        raise FormatError(f"cannot parse DeepLabCut CSV: {exc}", path=path) from None
    df.columns.names = list(_LEVELS if n == 4 else ("scorer", "bodyparts", "coords"))
    return RodentData("poses", path, "deeplabcut-csv", poses=poses_from_dlc_frame(df, path))


def read_dlc_h5(path: Path, **_: Any) -> RodentData:
    """Read a DeepLabCut H5 (pandas HDF store, MultiIndex columns)."""
    try:
        df = pd.read_hdf(path)
    except (ValueError, KeyError, OSError, RuntimeError, TypeError) as exc:
        # PyTables raises HDF5ExtError (a RuntimeError) on files that are not HDF5
        raise FormatError(f"cannot read as a DeepLabCut HDF store: {exc}", path=path) from None
    return RodentData("poses", path, "deeplabcut-h5", poses=poses_from_dlc_frame(df, path))


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
    return RodentData("poses", path, "sleap-analysis",
                      poses=Poses(pos, conf, nodes, names, labels))


for _r in (
    Reader("sleap-analysis", "poses", "SLEAP analysis h5 (tracks, node_names)",
           _match_sleap, read_sleap),
    Reader("deeplabcut-h5", "poses", "DeepLabCut h5 (df_with_missing)", _match_dlc_h5,
           read_dlc_h5),
    Reader("deeplabcut-csv", "poses", "DeepLabCut csv (scorer/bodyparts/coords header rows)",
           _match_dlc_csv, read_dlc_csv),
):
    register_reader(_r)
