"""Neurite imaging throughput: seconds per 2048 x 2048 two-channel field.

Writes N synthetic two-channel 16-bit fields (ImageXpress names) to a temporary
plate folder, then times

* the full per-field analysis (read both channels, background, nuclei, cell
  bodies, ridge filter, skeleton, attribution, metrics, QC) on one core and
  with a 2-process pool, and
* a floor: read both channels and apply one Gaussian filter to each,

and prints seconds per field and the 2-worker speed-up. Reference: CellProfiler 5
takes about 6 s for such a field on this 2-core machine; the target is <= 3 s.

Usage: ``python benchmarks/bench_imaging.py [N_FIELDS]`` (default 6).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi

from neurotox.assays.neurite.fields import process_field, run_fields
from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.plate import plan_fields
from neurotox.imaging import analyse_field
from neurotox.imaging.synthetic import synthetic_field
from neurotox.io.plates import read_plane

SIZE = 2048
TILE = 512
CELLOPROFILER_S = 6.0


def _big_field(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2048 x 2048 field tiled from 16 independent 512 x 512 synthetic fields."""
    nuc = np.zeros((SIZE, SIZE), np.uint16)
    neu = np.zeros((SIZE, SIZE), np.uint16)
    k = 0
    for r in range(0, SIZE, TILE):
        for c in range(0, SIZE, TILE):
            f = synthetic_field(seed * 100 + k, pixel_size=0.65, n_cells=14, touching_pairs=2)
            nuc[r:r + TILE, c:c + TILE] = f.nuclei
            neu[r:r + TILE, c:c + TILE] = f.neurites
            k += 1
    return nuc, neu


def _write_plate(folder: Path, n: int) -> None:
    for i in range(n):
        nuc, neu = _big_field(i)
        well = f"B{i + 2:02d}"
        for ch, img in ((1, nuc), (2, neu)):
            tifffile.imwrite(folder / f"BENCH_{well}_s1_w{ch}.tif", img, imagej=True,
                             resolution=(1 / 0.65, 1 / 0.65), metadata={"unit": "um"})


def _floor(task) -> float:
    total = 0.0
    for src in (task.source.nuclei, task.source.neurite):
        img = read_plane(src).astype(np.float32)
        total += float(ndi.gaussian_filter(img, 2.0)[0, 0])
    return total


def _warm() -> None:
    """Worker initializer: compile skan's numba kernels before timing."""
    f = synthetic_field(0, shape=(128, 128), n_cells=2, touching_pairs=0)
    analyse_field(f.neurites, f.nuclei, pixel_size=f.pixel_size)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t_gen = _time(lambda: _write_plate(folder, n))
        tasks, _ = plan_fields(folder, NeuriteParameters(), overlays="none")
        t_warm = _time(lambda: process_field(tasks[0]))   # numba JIT of skan, imports
        c_one = _cpu(lambda: [process_field(t) for t in tasks])
        t_one = _time(lambda: [process_field(t) for t in tasks])
        t_two = _time(lambda: run_fields(tasks, workers=2))
        with ProcessPoolExecutor(2, initializer=_warm) as pool:
            list(pool.map(_floor, tasks[:2]))
            t_two_warm = _time(lambda: list(pool.map(process_field, tasks)))
        f_one = _time(lambda: [_floor(t) for t in tasks])
        with ProcessPoolExecutor(2) as pool:
            list(pool.map(_floor, tasks[:2]))
            f_two = _time(lambda: list(pool.map(_floor, tasks)))
    per_one, per_two = t_one / n, t_two / n
    print(f"fields: {n} x {SIZE}x{SIZE} two-channel uint16 (generated in {t_gen:.1f} s); "
          f"cores: {os.cpu_count()}")
    print(f"first field incl. JIT warm-up: {t_warm:.2f} s")
    print(f"analysis, 1 core   : {per_one:.2f} s/field wall, {c_one / n:.2f} s/field CPU "
          f"(load average now {os.getloadavg()[0]:.1f}: wall > CPU means a shared machine)")
    print(f"analysis, 2 workers: {per_two:.2f} s/field (speed-up {per_one / per_two:.2f}x, "
          "incl. worker start-up and JIT)")
    print(f"analysis, 2 warm workers: {t_two_warm / n:.2f} s/field "
          f"(speed-up {t_one / t_two_warm:.2f}x)")
    print(f"floor,    1 core   : {f_one / n:.2f} s/field (read 2 channels + 1 Gaussian each)")
    print(f"floor,    2 workers: {f_two / n:.2f} s/field (speed-up {f_one / f_two:.2f}x)")
    cpu_one = c_one / n
    print(f"vs CellProfiler ~{CELLOPROFILER_S:.0f} s/field: {CELLOPROFILER_S / cpu_one:.1f}x "
          f"faster per core-second (CPU), {CELLOPROFILER_S / per_one:.1f}x wall on 1 core, "
          f"{CELLOPROFILER_S / per_two:.1f}x wall with 2 workers; target >= 2x (<= 3 s/field): "
          f"{'met' if cpu_one <= CELLOPROFILER_S / 2 else 'NOT met'} in CPU time, "
          f"{'met' if per_one <= CELLOPROFILER_S / 2 else 'NOT met'} in wall time")


if __name__ == "__main__":
    main()
