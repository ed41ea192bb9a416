"""Zebrafish trajectory throughput: end-to-end analysis vs a bare pandas parse.

Simulates a 96-larva, 1-hour, 25 fps raw trajectory (8.64 M rows: plate, well,
time_s, x, y; random-walk larvae, light/dark modulated speed), then times

1. ``pandas.read_csv(path)`` with default settings (the baseline: parsing only);
2. neurotox end to end: format detection + reading + binning (60-s bins) +
   every endpoint + exclusions + EndpointTable validation.

Prints both times and their ratio (target <= 1.5). Each timing is the best of
``REPEATS`` interleaved runs. Usage: ``python benchmarks/bench_zebrafish.py [N_LARVAE] [SECONDS]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

REPEATS = 3
FPS = 25.0


def simulate(path: Path, n_larvae: int, seconds: float, seed: int = 1) -> int:
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / FPS)
    light = ((t // 600) % 2 == 1)
    speed = np.where(light, 0.5, 2.0)
    wells = [f"{r}{c:02d}" for r in "ABCDEFGH" for c in range(1, 13)][:n_larvae]
    tables = []
    for w in wells:
        ang = rng.uniform(0, 2 * np.pi, len(t))
        step = speed / FPS * rng.gamma(2.0, 0.5, len(t))
        x = np.cumsum(step * np.cos(ang))
        y = np.cumsum(step * np.sin(ang))
        tables.append(pa.table({"plate": pa.array(["P1"] * len(t)),
                                "well": pa.array([w] * len(t)),
                                "time_s": np.round(t, 3), "x": np.round(x, 3),
                                "y": np.round(y, 3)}))
    pacsv.write_csv(pa.concat_tables(tables), path)
    return len(t) * len(wells)


def best(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_neurotox(path: Path, n_larvae: int) -> None:
    from neurotox.assays.zebrafish import ZebrafishParameters, analyse
    from neurotox.io.zebrafish import read_export

    params = ZebrafishParameters(
        bin_s=60, transition_window_s=60, viability_min=0,
        schedule=[{"name": "acclimation", "light": False, "duration_s": 600},
                  {"name": "light1", "light": True, "duration_s": 600},
                  {"name": "dark1", "light": False, "duration_s": 600},
                  {"name": "light2", "light": True, "duration_s": 600},
                  {"name": "dark2", "light": False, "duration_s": 600},
                  {"name": "light3", "light": True, "duration_s": 600}])
    wells = [f"{r}{c:02d}" for r in "ABCDEFGH" for c in range(1, 13)][:n_larvae]
    layout = pd.DataFrame({"well": wells, "concentration": np.repeat([0, 1, 10, 100],
                                                                     len(wells) // 4 + 1)
                           [:len(wells)].astype(float), "blank": False})
    result = analyse([read_export(path)], params, layouts={"P1": layout})
    assert len(result.endpoints) > 0


def main() -> None:
    n_larvae = int(sys.argv[1]) if len(sys.argv) > 1 else 96
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    import neurotox.assays.zebrafish  # noqa: F401  (imports outside the timings)
    from neurotox.endpoints import registry

    registry()  # load the endpoint registry once, outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trajectory.csv"
        t0 = time.perf_counter()
        rows = simulate(path, n_larvae, seconds)
        print(f"simulated {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")
        t_pandas, t_ours = float("inf"), float("inf")
        for _ in range(REPEATS):  # interleaved, so both see the same machine load
            t_pandas = min(t_pandas, best(lambda: pd.read_csv(path), 1))
            t_ours = min(t_ours, best(lambda: run_neurotox(path, n_larvae), 1))
    ratio = t_ours / t_pandas
    print(f"pandas.read_csv parse only : {t_pandas:6.2f} s")
    print(f"neurotox end to end        : {t_ours:6.2f} s")
    print(f"ratio                      : {ratio:6.2f} (target <= 1.50) "
          f"{'PASS' if ratio <= 1.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
