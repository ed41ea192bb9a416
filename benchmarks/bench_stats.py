"""Time stats.analyse on a simulated 4-group x 2-sex x 60-endpoint x 4-timepoint table.

Target: < 10 s on 2 cores. 10 subjects per group and sex; the 60 endpoints mix
continuous (some skewed, some repeated measures), count, ordinal and incidence
data, so every path of the decision tree is exercised. Prints the wall time and
the number of strata per path.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from neurotox import endpoints, stats
from neurotox.endpoints import Endpoint
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="G2", label="Low", dose=10, dose_unit="mg/kg/day"),
          Group(id="G3", label="Mid", dose=30, dose_unit="mg/kg/day"),
          Group(id="G4", label="High", dose=100, dose_unit="mg/kg/day")]
N_PER_GROUP = 10
TIMEPOINTS = ["wk1", "wk2", "wk3", "wk4"]


def _registry() -> dict[str, Endpoint]:
    kinds = ["continuous"] * 38 + ["count"] * 8 + ["ordinal"] * 7 + ["incidence"] * 7
    reg = {}
    for i, kind in enumerate(kinds):
        name = f"bench_{kind}_{i:02d}"
        reg[name] = Endpoint(name=name, assays=("bench",), unit="u", data_type=kind,
                             direction=["decrease", "increase", "either"][i % 3],
                             categories=("neurobehavioral",), description="benchmark",
                             repeated_measures=kind == "continuous" and i < 4)
    return reg


def _values(kind: str, k: int, rng: np.random.Generator, shape: tuple) -> np.ndarray:
    if kind == "incidence":
        return (rng.random(shape) < 0.1 + 0.15 * k).astype(float)
    if kind == "ordinal":
        return np.clip(np.round(rng.normal(1 + 0.4 * k, 1, shape)), 0, 4)
    if kind == "count":
        return rng.poisson(20 + 2 * k, shape).astype(float)
    return rng.lognormal(np.log(100) - 0.05 * k, 0.15, shape)


def simulate(seed: int = 1) -> tuple[pd.DataFrame, dict[str, Endpoint]]:
    """Build the benchmark EndpointTable (column-wise, no per-row Python)."""
    rng = np.random.default_rng(seed)
    reg = _registry()
    parts = []
    for name, ep in reg.items():
        for sex in ("M", "F"):
            for k, g in enumerate(GROUPS):
                subj = np.array([f"{sex}{g.id}-{i}" for i in range(N_PER_GROUP)])
                vals = _values(ep.data_type.value, k, rng, (len(TIMEPOINTS), N_PER_GROUP))
                parts.append(pd.DataFrame({
                    "endpoint": name, "sex": sex, "group": g.id, "dose": g.dose,
                    "timepoint": np.repeat(TIMEPOINTS, N_PER_GROUP),
                    "subject": np.tile(subj, len(TIMEPOINTS)), "value": vals.ravel()}))
    df = pd.concat(parts, ignore_index=True)
    df["excluded"] = False
    df.loc[::97, "excluded"] = True
    df = df.assign(study_id="BENCH", assay="bench", category="neurobehavioral", unit="u",
                   dose_unit="mg/kg/day", exclusion_reason=np.where(df["excluded"], "QC", ""),
                   batch="NA", source="simulated")
    return df[list(endpoints.COLUMNS)], reg


def main() -> None:
    """Run the benchmark and print the figures."""
    table, reg = simulate()
    plan = StatisticsPlan(sided="one")
    stats.analyse(table.iloc[:0], plan, GROUPS, registry=reg)  # imports warm
    t0, c0 = time.perf_counter(), time.process_time()
    result = stats.analyse(table, plan, GROUPS, registry=reg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"rows in EndpointTable: {len(table)}")
    print(f"strata (decisions rows): {len(result.decisions)}; result rows: {len(result.results)}")
    print(result.decisions["path"].value_counts().to_string())
    print(f"stats.analyse wall time: {wall:.2f} s, CPU time {cpu:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
