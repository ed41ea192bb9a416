"""Neurite length against manual tracings: the DeepNeurite PC3 co-culture set, cross-validated.

The 89 single-channel fields of ``../shared/data/imaging/deepneurite_pc3_coculture``
(neurites among PC3 cancer cells that take up the same dye) come with manual
neurite masks; truth is the skeleton length of each mask (skan branch distances,
pixels; no pixel size: 1 µm/px is assumed).

The few physically meaningful settings of the co-culture protocol
(``neurite-outgrowth-coculture``: soma width, length of non-neuronal processes,
how bright a traced piece must be to count, and to count as a neurite whatever
cell it touches) are chosen on one half of the fields (odd field numbers)
and the result is reported on the other half (even numbers), then on all
fields with the protocol as shipped. Nothing is fitted per field.

Usage: ``python benchmarks/bench_deepneurite.py [--grid] [--half odd|even]
[--set KEY=VALUE ...] [--out results.csv] [--overlays DIR]`` (``--grid`` runs
the tuning grid, on odd/even field numbers and across the two series; without
it only the shipped protocol is scored, on both halves and on all fields;
``--half`` scores one half only (decide on ``odd``, report ``even`` once);
``--set`` changes one protocol setting for a trial, e.g. ``--set
min_piece_ridge=6``;
``--overlays`` writes a PNG per field worth a look: the image beside it with
the manual tracing only in green, neurotox's skeleton only in red, both in
yellow and the non-neuronal cells outlined in blue, so that a false neurite of
neurotox can be told from a neurite the mask leaves out).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imaging" / \
    "deepneurite_pc3_coculture"
PROTOCOL = "neurite-outgrowth-coculture"
#: Tuned on one half: how bright (mean ridge response along a piece, noise sigmas) a piece
#: must be to count as a neurite whatever it touches, and to count at all. Soma width
#: (10 µm) and process length (120 µm) were tuned the same way before (docs/assays.md).
GRID = {"bright_neurite_ridge": (40.0, 60.0, 80.0),
        "min_piece_ridge": (0.0, 6.0, 8.0, 10.0)}


def truth_length(mask: np.ndarray) -> float:
    """Skeleton length (pixels) of a manual mask: sum of skan branch distances."""
    from skan import Skeleton, summarize  # numba's cache folder: set by importing neurotox
    from skimage.morphology import skeletonize

    skel = skeletonize(mask > 0)
    if skel.sum() < 2:
        return float(skel.sum())
    return float(summarize(Skeleton(skel), separator="_")["branch_distance"].sum())


def load(folder: Path = DATA) -> list[tuple[str, np.ndarray, float]]:
    """(name, image, truth) of every field with a mask."""
    import tifffile

    out = []
    for path in sorted((folder / "image").glob("*.tif")):
        label = folder / "label" / path.name
        if label.is_file():
            out.append((path.name, tifffile.imread(path), truth_length(tifffile.imread(label))))
    return out


#: Fields worth a look: |relative error| above this, or empty fields reading more than EMPTY_PX.
LOOK_ERROR, EMPTY_PX = 0.25, 150.0


def write_overlays(fields: list, df: pd.DataFrame, settings, folder: Path) -> int:
    """PNG overlays (image | tracing vs skeleton) of the fields worth a look; how many."""
    import tifffile
    from PIL import Image
    from scipy import ndimage as ndi
    from skimage.morphology import skeletonize
    from skimage.segmentation import find_boundaries

    from neurotox.imaging import analyse_field

    err = (df["measured"] - df["truth"]) / df["truth"].where(df["truth"] > 0)
    look = set(df.loc[((err.abs() > LOOK_ERROR) & (df["truth"] >= 100))
                      | ((df["truth"] < 100) & (df["measured"] > EMPTY_PX)), "field"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, img, _ in fields:
        if name not in look:
            continue
        res = analyse_field(img, None, pixel_size=1.0, settings=settings, keep_labels=True)
        ours = res.labels.skeleton_owner != 0
        truth = skeletonize(tifffile.imread(DATA / "label" / name) > 0)
        near_truth = ndi.distance_transform_edt(~truth) <= 3
        near_ours = ndi.distance_transform_edt(~ours) <= 3
        top = max(float(np.percentile(img, 99.8)), 1.0)
        grey = np.clip(img.astype(np.float32) / top * 255, 0, 255).astype(np.uint8)
        left = np.repeat(grey[..., None], 3, axis=2)
        right = left.copy()
        right[find_boundaries(res.labels.non_neuronal)] = (60, 120, 255)
        right[ndi.binary_dilation(truth & ~near_ours)] = (0, 255, 0)
        right[ndi.binary_dilation(ours & ~near_truth)] = (255, 0, 0)
        right[ours & near_truth] = (255, 255, 0)
        Image.fromarray(np.concatenate([left, right], axis=1)).save(
            folder / (Path(name).stem + ".png"))
    return len(look)


def _pieces(img: np.ndarray, truth_mask: np.ndarray, settings):
    """Contrast (noise sigmas) of neurotox's skeleton pixels near and away from the mask.

    Contrast is the white top-hat (disc of radius 6 px: wider than any neurite,
    narrower than a cell body) at each skeleton pixel over the field's noise.
    """
    from scipy import ndimage as ndi
    from skimage.morphology import disk, skeletonize, white_tophat

    from neurotox.imaging import analyse_field
    from neurotox.imaging.preprocess import as_float, estimate_noise

    res = analyse_field(img, None, pixel_size=1.0, settings=settings, keep_labels=True)
    ours = res.labels.skeleton_owner != 0
    near = ndi.distance_transform_edt(~skeletonize(truth_mask > 0)) <= 3
    grey = as_float(img)
    contrast = white_tophat(grey, disk(6)) / max(estimate_noise(grey), 1e-12)
    return contrast[ours & near], contrast[ours & ~near]


def audit(fields: list, settings, *, min_px: int = 150) -> pd.DataFrame:
    """Fields where neurotox traces, away from the mask, lines as bright as the mask's neurites.

    For each series, the reference contrast is the median contrast of the
    skeleton pixels that lie on the manual tracing (within 3 px). A field is
    listed when at least ``min_px`` skeleton pixels lie away from the tracing
    with a median contrast at or above its series' reference: bright lines the
    annotators left out (or non-neuronal processes as bright as neurites).
    """
    from skimage.io import imread

    per_field, on_mask = [], {"2": [], "3": []}
    for name, img, truth in fields:
        inside, outside = _pieces(img, imread(DATA / "label" / name), settings)
        on_mask[series(name)].append(inside)
        per_field.append((name, truth, outside))
    reference = {k: float(np.median(np.concatenate(v))) for k, v in on_mask.items() if v}
    rows = [(name, series(name), truth, out.size, float(np.median(out)), reference[series(name)])
            for name, truth, out in per_field
            if out.size >= min_px and np.median(out) >= reference[series(name)]]
    return pd.DataFrame(rows, columns=["field", "series", "truth_px", "unlabelled_px",
                                       "unlabelled_contrast", "labelled_contrast_series"])


def measure(fields: list, settings) -> pd.DataFrame:
    from neurotox.imaging import analyse_field

    rows = [(name, truth, analyse_field(img, None, pixel_size=1.0, settings=settings)
             .metrics["total_neurite_length_um"]) for name, img, truth in fields]
    return pd.DataFrame(rows, columns=["field", "truth", "measured"])


def series(name: str) -> str:
    return re.search(r"PC3-(\d)-", name).group(1)


def field_number(name: str) -> int:
    return int(re.search(r"-(\d+)\.tif$", name).group(1))


def score(df: pd.DataFrame) -> dict[str, float]:
    """The acceptance figures of issue 20 for a table of truth and measured lengths."""
    big = df[df["truth"] > 100]
    err = (big["measured"] - big["truth"]) / big["truth"]
    dense = df[df["truth"] > 3000]
    dense_err = (dense["measured"] - dense["truth"]) / dense["truth"]
    slope, intercept = np.polyfit(df["truth"], df["measured"], 1)
    s2 = df["field"].map(series) == "2"
    ratio = df.loc[s2, "measured"].mean() / df.loc[~s2, "measured"].mean()
    ratio_truth = df.loc[s2, "truth"].mean() / df.loc[~s2, "truth"].mean()
    low = df.loc[df["truth"] < 100, "measured"]
    return {"n": len(df), "median_abs_error": float(err.abs().median()),
            "median_error": float(err.median()),
            "dense_within_25pct": float((dense_err.abs() <= 0.25).mean()) if len(dense) else
            float("nan"),
            "dense_worst_error": float(dense_err.abs().max()) if len(dense) else float("nan"),
            "slope": float(slope), "intercept_px": float(intercept),
            "empty_fields_max_px": float(low.max()) if len(low) else float("nan"),
            "empty_fields_median_px": float(low.median()) if len(low) else float("nan"),
            "series_ratio_vs_truth": float(ratio / ratio_truth)}


def _objective(s: dict[str, float]) -> float:
    """Lower is better: the two per-field accuracy goals (median |error|, dense fields in ±25 %).

    The neurite-free fields, the intercept and the series ratio are not used
    for tuning: on this set they are dominated by clear neurites some masks
    leave out (docs/assays.md), so rewarding them rewards dropping neurites.
    """
    return s["median_abs_error"] + (1 - s["dense_within_25pct"])


#: Settings whose objective is within this of the lowest form the plateau tuned to.
PLATEAU = 0.01


def _plateau_centre(results: list) -> dict[str, float]:
    """The grid setting nearest the centre of the plateau (ties: the lower values).

    The median |error| of half the fields moves by a few hundredths between
    neighbouring settings for no physical reason (fields near the median swap
    places), so the lowest single setting is a lottery; the centre of the
    settings within :data:`PLATEAU` of it is not.
    """
    low = min(r[0] for r in results)
    index = [[GRID[k].index(r[1][k]) for k in GRID] for r in results if r[0] <= low + PLATEAU]
    centre = np.mean(index, axis=0)
    pick = min(index, key=lambda i: (float(np.sum((np.array(i) - centre) ** 2)), i))
    return {k: GRID[k][j] for k, j in zip(GRID, pick, strict=True)}


def half(fields: list, which: str) -> list:
    """The fields with odd or even field numbers (``all``: every field)."""
    if which == "all":
        return list(fields)
    return [f for f in fields if field_number(f[0]) % 2 == (1 if which == "odd" else 0)]


def with_settings(params, assignments: list[str]):
    """Field settings of the protocol ``params`` with ``KEY=VALUE`` changes, validated."""
    from pydantic import ValidationError

    from neurotox.errors import did_you_mean

    known = type(params).model_fields
    changes = {}
    for text in assignments:
        key, sep, value = text.partition("=")
        if not sep or key not in known:
            sys.exit(f"--set {text!r}: expected KEY=VALUE with KEY a protocol parameter"
                     + did_you_mean(key, known))
        changes[key] = None if value.lower() in ("none", "null") else value
    try:
        return type(params).model_validate({**params.model_dump(), **changes}).settings()
    except ValidationError as exc:
        sys.exit(f"--set: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", action="store_true", help="tune on odd fields, report on even")
    ap.add_argument("--half", choices=("odd", "even", "all"),
                    help="score only the odd- or even-numbered fields (default: each half and all)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change a protocol setting for this run (repeatable)")
    ap.add_argument("--out", type=Path, help="write per-field results (the protocol as run)")
    ap.add_argument("--audit", action="store_true",
                    help="list fields with traced lines off the mask as bright as its neurites")
    ap.add_argument("--overlays", type=Path, metavar="DIR",
                    help="write PNG overlays of the fields worth a look (the protocol as run)")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no data at {DATA}")
    from neurotox.assays.base import resolve_parameters

    _, params = resolve_parameters(PROTOCOL)
    base = with_settings(params, args.set)
    fields = load()
    print(f"{len(fields)} fields with manual masks")
    if args.audit:
        found = audit(fields, base)
        print(found.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        return
    if args.grid:
        from dataclasses import replace

        tune, test = half(fields, "odd"), half(fields, "even")
        results = []
        for values in itertools.product(*GRID.values()):
            setting = dict(zip(GRID, values, strict=True))
            s = score(measure(tune, replace(base, **setting)))
            results.append((_objective(s), setting, s))
            print(f"tune {setting}: {_fmt(s)}", flush=True)
        first = min(results, key=lambda r: r[0])
        best = _plateau_centre(results)
        print(f"lowest on the tuning half: {first[1]}; centre of the settings within "
              f"{PLATEAU} of it: {best}")
        for name, setting in (("lowest", first[1]), ("centre", best)):
            held_out = score(measure(test, replace(base, **setting)))
            print(f"held-out half, {name} setting: {_fmt(held_out)}")
        print(f"held-out half, as shipped   : {_fmt(score(measure(test, base)))}")
        _cross_series(fields, base)
    label = "protocol as shipped" if not args.set else "protocol with " + ", ".join(args.set)
    if args.half and args.half != "all":
        df = measure(half(fields, args.half), base)
        print(f"{args.half}-numbered fields, {label}: {_fmt(score(df))}")
    else:
        df = measure(fields, base)
        numbers = df["field"].map(field_number)
        for name, sel in (("odd", numbers % 2 == 1), ("even", numbers % 2 == 0)):
            print(f"{name}-numbered fields, {label}: {_fmt(score(df[sel]))}")
        print(f"all fields, {label}: {_fmt(score(df))}")
    if args.out:
        df.to_csv(args.out, index=False, lineterminator="\n")
    if args.overlays:
        n = write_overlays(fields, df, base, args.overlays)
        print(f"{n} overlays in {args.overlays}")


def _cross_series(fields: list, base) -> None:
    """Tune on one series, score on the other (the series differ in density and look)."""
    from dataclasses import replace

    for tune_on in ("2", "3"):
        tune = [f for f in fields if series(f[0]) == tune_on]
        test = [f for f in fields if series(f[0]) != tune_on]
        scored = []
        for values in itertools.product(*GRID.values()):
            setting = dict(zip(GRID, values, strict=True))
            err = score(measure(tune, replace(base, **setting)))["median_abs_error"]
            scored.append((err, setting))
        err, best = min(scored, key=lambda r: r[0])
        other = score(measure(test, replace(base, **best)))["median_abs_error"]
        print(f"tuned on series {tune_on}: {best} (median |error| {err:.3f}); "
              f"on the other series {other:.3f}")


def _fmt(s: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in s.items())


if __name__ == "__main__":
    main()
