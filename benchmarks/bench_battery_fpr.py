"""False-positive rate of the battery analysis on control-vs-control TG 424 studies.

Each seed simulates the OECD TG 424 study with no planted effect
(``neurotox.simulate.battery.write_study(effect=False)``), runs every assay and
``neurotox.stats.analyse`` with the study's plan, and counts flags (any
significance flag of a dose group vs control). Printed per endpoint data type:

- comparisons per study and the per-comparison false-positive rate;
- the family-wise rate per stratum (family = one endpoint x sex x time point,
  all dose groups vs control: what Dunnett / Dunn / Fisher-with-adjustment control);
- the study-wide family-wise rate (any flag of that data type in the study);
- for repeated measures, the rate of significant group x time interactions.

Usage: ``python benchmarks/bench_battery_fpr.py [N_SEEDS] [WORKERS]`` (default 200, 2).
"""

from __future__ import annotations

import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import pandas as pd


def one_seed(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from neurotox import stats
    from neurotox.pipeline import collect_endpoints
    from neurotox.simulate.battery import write_study
    from neurotox.study import load_study

    with tempfile.TemporaryDirectory() as tmp:
        write_study(Path(tmp), seed, effect=False)
        study = load_study(Path(tmp) / "study.yaml")
        table = collect_endpoints(study).table
        analysis = stats.analyse(table, study.spec.statistics, study.spec.groups)
    r = analysis.results
    r = r[~r["is_control"].astype(bool) & r["p_value"].notna()].copy()
    r["flagged"] = r["flag"].fillna("").astype(str).str.len() > 0
    r["seed"] = seed
    d = analysis.decisions
    rm = d[d["timepoint"] == "ALL"].copy()
    rm["seed"] = seed
    keep = ["seed", "endpoint", "data_type", "sex", "timepoint", "group", "flagged"]
    return r[keep], rm[["seed", "endpoint", "sex", "overall_p", "alpha"]]


def summarise(results: pd.DataFrame, rm: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
    rows = []
    for dtype, r in results.groupby("data_type"):
        strata = r.groupby(["seed", "endpoint", "sex", "timepoint"])["flagged"].any()
        study = r.groupby("seed")["flagged"].any().reindex(range(n_seeds), fill_value=False)
        rows.append({"data_type": dtype,
                     "comparisons_per_study": len(r) / n_seeds,
                     "per_comparison_fpr": r["flagged"].mean(),
                     "strata_per_study": len(strata) / n_seeds,
                     "fwer_per_stratum": strata.mean(),
                     "fwer_study": study.mean()})
    out = pd.DataFrame(rows)
    if len(rm):
        sig = (rm["overall_p"] <= rm["alpha"])
        out = pd.concat([out, pd.DataFrame([{
            "data_type": "repeated (group x time)", "comparisons_per_study": len(rm) / n_seeds,
            "per_comparison_fpr": sig.mean(), "strata_per_study": len(rm) / n_seeds,
            "fwer_per_stratum": sig.mean(),
            "fwer_study": sig.groupby(rm["seed"]).any().mean()}])], ignore_index=True)
    return out


def main() -> None:
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    t0 = time.perf_counter()
    parts = []
    with Pool(workers) as pool:
        for k, part in enumerate(pool.imap_unordered(one_seed, range(n_seeds)), start=1):
            parts.append(part)
            if k % 20 == 0:
                print(f"  {k}/{n_seeds} seeds, {time.perf_counter() - t0:.0f} s", file=sys.stderr,
                      flush=True)
    results = pd.concat([p[0] for p in parts], ignore_index=True)
    rm = pd.concat([p[1] for p in parts], ignore_index=True)
    elapsed = time.perf_counter() - t0
    print(f"battery control-vs-control: {n_seeds} simulated TG 424 studies "
          f"(4 groups x 2 sexes x 10 rats), alpha 0.05, {elapsed:.0f} s on {workers} workers")
    with pd.option_context("display.width", 140, "display.precision", 3):
        print(summarise(results, rm, n_seeds).to_string(index=False))
    if len(rm):
        sig = (rm["overall_p"] <= rm["alpha"]).groupby(rm["endpoint"]).mean()
        print("\nrepeated measures, group x time interaction significant (rate per sex):")
        print(sig.to_string())
    by_ep = results.groupby(["data_type", "endpoint"])["flagged"].mean().sort_values()
    print("\nhighest per-comparison rates by endpoint:")
    print(by_ep.tail(8).to_string())


if __name__ == "__main__":
    main()
