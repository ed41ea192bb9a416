"""CellProfiler 5 reference on the DeepNeurite fields: a standard, untuned neurite pipeline.

Runs CellProfiler's own image-processing functions (``cellprofiler-library``,
CellProfiler 5) in the order of the usual neurite pipeline:

1. ``EnhanceOrSuppressFeatures``: Enhance, Neurites, Tubeness, smoothing scale 2.0
   (module defaults), on the image scaled to 0-1 as CellProfiler loads it;
2. ``Threshold``: global, Otsu two classes, threshold smoothing scale 1.3488,
   correction factor 1 (module defaults);
3. ``MorphologicalSkeleton``;
4. total skeleton length, measured like the truth (sum of skan branch distances,
   pixels), which is what ``MeasureObjectSkeleton``'s total neurite length sums
   when the whole field is one seed.

CellProfiler does not install next to neurotox (it pins its own NumPy and needs
MySQL headers), so this script runs in a separate environment::

    python3.11 -m venv /tmp/cpvenv
    /tmp/cpvenv/bin/pip install cellprofiler-library-nightly centrosome tifffile skan
    /tmp/cpvenv/bin/python benchmarks/cellprofiler_reference.py OUT.csv

Its per-field results are stored in ``tests/data/imaging/deepneurite_cellprofiler.csv``
(field name, CellProfiler length in pixels) and compared with neurotox by
``benchmarks/bench_deepneurite.py`` and the shared-data tests.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imaging" / \
    "deepneurite_pc3_coculture"


def cellprofiler_length(image: np.ndarray) -> float:
    """Total skeleton length (pixels) of the default CellProfiler neurite pipeline."""
    from cellprofiler_library.functions.image_processing import (
        apply_threshold,
        enhance_neurites,
        get_global_threshold,
        morphological_skeleton_2d,
    )
    from cellprofiler_library.opts.enhanceorsuppressfeatures import NeuriteMethod
    from skan import Skeleton, summarize

    scaled = image.astype(np.float64) / np.iinfo(image.dtype).max
    mask = np.ones(scaled.shape, bool)
    enhanced = enhance_neurites(scaled, mask, False, (1.0, 1.0), 2.0, 10.0,
                                NeuriteMethod.TUBENESS, True)
    threshold = get_global_threshold(enhanced, mask)
    binary, _ = apply_threshold(enhanced, threshold, mask, smoothing=1.3488)
    skeleton = morphological_skeleton_2d(binary)
    if skeleton.sum() < 2:
        return float(skeleton.sum())
    return float(summarize(Skeleton(skeleton), separator="_")["branch_distance"].sum())


def main() -> None:
    import tifffile

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("deepneurite_cellprofiler.csv")
    rows = []
    for path in sorted((DATA / "image").glob("*.tif")):
        rows.append((path.name, round(cellprofiler_length(tifffile.imread(path)), 3)))
        print(*rows[-1], flush=True)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["field", "cellprofiler_px"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
