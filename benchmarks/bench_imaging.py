"""Neurite imaging throughput as a user sees it, against CellProfiler 5 and a floor.

Writes 4 synthetic two-channel 16-bit 2048 x 2048 fields (0.5 µm/px, ImageXpress
names, ImageJ calibration) and times

* the **whole run**: ``neurotox neurite`` in a fresh process with one worker,
  start-up, imports and writing included; compared with CellProfiler 5 on the
  same kind of fields (8.8 s per field with start-up, measured side by side on
  this machine for issue 20; goal <= 0.5 x);
* **per-field compute**: :func:`neurotox.imaging.analyse_field` plus reading
  both planes, in this process after a warm-up; and
* the **floor**: read both channels and apply one Gaussian filter to each
  (goal: per-field compute <= 5 x floor). Each field's compute and floor are
  timed next to each other, twice; the medians are reported (wall clock, and
  the CPU-time ratio, which a shared machine's load moves less).

The field analysis' compiled filters (numba, :mod:`neurotox.imaging.compiled`)
are compiled once per machine and cached; each process loads them on its first
field. The whole run includes that (and numba's import); per-field compute is
measured after a warm-up field, as the floor's SciPy filter needs none.

Usage: ``python benchmarks/bench_imaging.py [N_FIELDS]`` (default 4).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi

from neurotox.imaging import analyse_field
from neurotox.imaging.synthetic import synthetic_field
from neurotox.io.plates import read_plane

SIZE = 2048
TILE = 512
PIXEL_SIZE = 0.5
#: CellProfiler 5, one 2048 x 2048 two-channel field, start-up included (issue 20).
CELLPROFILER_S = 8.8


def _big_field(seed: int, pixel_size: float = PIXEL_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """2048 x 2048 field tiled from 16 independent 512 x 512 synthetic fields."""
    nuc = np.zeros((SIZE, SIZE), np.uint16)
    neu = np.zeros((SIZE, SIZE), np.uint16)
    k = 0
    for r in range(0, SIZE, TILE):
        for c in range(0, SIZE, TILE):
            f = synthetic_field(seed * 100 + k, pixel_size=pixel_size, n_cells=14,
                                touching_pairs=2)
            nuc[r:r + TILE, c:c + TILE] = f.nuclei
            neu[r:r + TILE, c:c + TILE] = f.neurites
            k += 1
    return nuc, neu


def _write_plate(folder: Path, n: int) -> Path:
    wells = []
    for i in range(n):
        nuc, neu = _big_field(i)
        well = f"B{i + 2:02d}"
        wells.append(well)
        for ch, img in ((1, nuc), (2, neu)):
            tifffile.imwrite(folder / f"BENCH_{well}_s1_w{ch}.tif", img, imagej=True,
                             resolution=(1 / PIXEL_SIZE, 1 / PIXEL_SIZE),
                             metadata={"unit": "um"})
    layout = folder.parent / "layout.csv"
    layout.write_text("well,group,concentration\n" + "".join(
        f"{w},{'C' if i < 2 else 'T'},{0 if i < 2 else 10}\n" for i, w in enumerate(wells)))
    return layout


def _planes(folder: Path, well: str) -> list[Path]:
    return [folder / f"BENCH_{well}_s1_w{ch}.tif" for ch in (1, 2)]


def _floor(paths: list[Path]) -> None:
    for p in paths:
        ndi.gaussian_filter(read_plane(p).astype(np.float32), 2.0)


def _compute(paths: list[Path]) -> None:
    nuc, neu = (read_plane(p) for p in paths)
    analyse_field(neu, nuc, pixel_size=PIXEL_SIZE)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _wall_and_cpu(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _per_field(plate: Path, wells: list[str], repeats: int = 2) -> dict[str, float]:
    """Compute and floor of each field measured back to back, alternately, ``repeats`` times.

    On a shared machine the load changes from second to second: timing all
    fields' compute and then all floors compares two different moments. Each
    field's two figures are taken next to each other instead; the medians over
    fields and repeats are reported, wall-clock and CPU time.
    """
    rows = []
    for _ in range(repeats):
        for w in wells:
            paths = _planes(plate, w)
            compute = _wall_and_cpu(lambda p=paths: _compute(p))
            floor = _wall_and_cpu(lambda p=paths: _floor(p))
            rows.append((*compute, *floor))
    wall_c, cpu_c, wall_f, cpu_f = np.median(np.array(rows), axis=0)
    ratios = np.array([r[0] / r[2] for r in rows])
    return {"compute": wall_c, "floor": wall_f, "ratio": float(np.median(ratios)),
            "cpu_ratio": cpu_c / cpu_f}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fields", nargs="?", type=int, default=4,
                        help="number of 2048 x 2048 fields (default 4)")
    n = parser.parse_args().fields
    with tempfile.TemporaryDirectory() as tmp:
        plate = Path(tmp) / "plate"
        plate.mkdir()
        layout = _write_plate(plate, n)
        wells = [f"B{i + 2:02d}" for i in range(n)]
        cli = Path(sys.executable).with_name("neurotox")
        cmd = [str(cli), "--quiet", "neurite", str(plate), "--layout", str(layout),
               "--workers", "1", "--overlays", "none", "-o", str(Path(tmp) / "out")]
        t_run = _time(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL))
        _compute(_planes(plate, wells[0]))                       # warm caches
        per = _per_field(plate, wells)
    per_run = t_run / n
    print(f"fields: {n} x {SIZE}x{SIZE} two-channel uint16 at {PIXEL_SIZE} um/px; "
          f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    print(f"whole run (neurotox neurite, 1 worker, start-up included): {t_run:.1f} s = "
          f"{per_run:.2f} s/field = {per_run / CELLPROFILER_S:.2f} x CellProfiler 5 "
          f"({CELLPROFILER_S} s/field); goal <= 0.5 x: "
          f"{'met' if per_run <= 0.5 * CELLPROFILER_S else 'NOT met'}")
    print(f"per-field compute (read + analyse): {per['compute']:.2f} s = "
          f"{per['ratio']:.1f} x floor (CPU time: {per['cpu_ratio']:.1f} x); goal <= 5 x: "
          f"{'met' if per['ratio'] <= 5 else 'NOT met'}")
    print(f"floor (read 2 channels + one Gaussian each): {per['floor']:.2f} s/field "
          "(medians; each field's compute and floor timed back to back, twice)")


if __name__ == "__main__":
    main()
