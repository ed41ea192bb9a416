"""Size of the censoring-aware tests on right-censored latencies (no true effect).

Latencies (hot plate, tail flick) are stopped at a cut-off: the recorded value
of a censored animal is the cut-off, a lower bound. Each simulation draws
latencies of every animal from one log-normal distribution (median 12 s,
SD of log 0.5, n = 10 per group: no treatment effect), censors them at each
group's cut-off and tests every treated group against control at alpha = 0.05:

- ``censored path``: ``neurotox.stats.tree.compare_to_control`` given the
  censoring codes (Peto-Prentice generalised Wilcoxon vs control, Holm);
- ``t on censored values``: the same values treated as observed (Student t for
  two groups, Dunnett for several), i.e. a t-test on the censored means.

Scenarios: equal cut-offs (20 s everywhere: both approaches should keep the
size), and unequal cut-offs independent of the latency (the treated animals run
with a lower cut-off, e.g. for welfare), where the means of censored values
differ although the latencies do not. A false positive is any flagged group
(family-wise over the comparisons with control).

Acceptance (issue 18): the censored path's rate is at most 6 % in every scenario
and the t-test's is not in the unequal scenarios. The issue asks for 200
simulations; their Monte Carlo SE at 5 % is 1.5 points, so a test of true size
4.6 % exceeds 6 % in one of four scenarios about every other run. The script
therefore prints the rate of the first 200 simulations and of all N (default
1000, SE 0.7 points) and judges the acceptance on all N. Exit code 1 if it does
not hold. Usage: ``python benchmarks/bench_censored_size.py [N] [SEED]``.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from scipy import stats as sps

SCENARIOS = {
    "2 groups, cut-off 20 / 20 s": [20.0, 20.0],
    "2 groups, cut-off 30 / 12 s": [30.0, 12.0],
    "4 groups, cut-off 20 s in all": [20.0, 20.0, 20.0, 20.0],
    "4 groups, cut-off 30 / 30 / 30 / 12 s": [30.0, 30.0, 30.0, 12.0],
}
ALPHA = 0.05
LIMIT = 0.06


def one(cutoffs: list[float], rng: np.random.Generator) -> tuple[bool, bool]:
    from neurotox.stats.control import dunnett
    from neurotox.stats.tree import compare_to_control

    latent = [np.exp(rng.normal(np.log(12.0), 0.5, 10)) for _ in cutoffs]
    values = [np.minimum(x, c) for x, c in zip(latent, cutoffs, strict=True)]
    codes = [np.where(x >= c, "right", "none") for x, c in zip(latent, cutoffs, strict=True)]
    out = compare_to_control(values, censoring=codes)
    assert out.decision["path"] == "censored" or not any((c == "right").any() for c in codes)
    aware = bool(np.nanmin(out.p_value) <= ALPHA)
    if len(values) == 2:
        with warnings.catch_warnings():  # all values equal to the cut-off: t is undefined
            warnings.simplefilter("ignore", RuntimeWarning)
            naive = bool(sps.ttest_ind(*values).pvalue <= ALPHA)
    else:
        naive = bool(dunnett(values[0], *values[1:]).p_value.min() <= ALPHA)
    return aware, naive


def main(n: int = 1000, seed: int = 2026) -> int:
    rng = np.random.default_rng(seed)
    se = np.sqrt(ALPHA * (1 - ALPHA) / n)
    print(f"{n} null simulations per scenario, seed {seed}; Monte Carlo SE at 5 %: "
          f"{100 * se:.1f} points (first 200: 1.5)")
    print(f"{'false-positive rate':40s} {'censored path':>20s} {'t on censored':>20s}")
    print(f"{'scenario':40s} {'first 200':>10s}{'all':>10s} {'first 200':>10s}{'all':>10s}")
    ok = True
    for name, cutoffs in SCENARIOS.items():
        hits = np.array([one(cutoffs, rng) for _ in range(n)])
        aware, naive = hits.mean(axis=0)
        a200, n200 = hits[:200].mean(axis=0)
        print(f"{name:40s} {100 * a200:9.1f}% {100 * aware:8.1f}% {100 * n200:9.1f}% "
              f"{100 * naive:8.1f}%", flush=True)
        ok &= aware <= LIMIT
        if len(set(cutoffs)) > 1:
            ok &= naive > LIMIT
    print("acceptance (censored path <= 6 % everywhere, t-test > 6 % with unequal cut-offs):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*args))
