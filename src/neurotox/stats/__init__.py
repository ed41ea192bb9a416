"""Statistics engine: regulatory toxicology comparisons with every step recorded.

Reads EndpointTable rows and a :class:`~neurotox.study.StatisticsPlan`; never
imports assays or io. Entry point: :func:`analyse`, whose output tables are the
contract with the report renderer (:data:`RESULT_COLUMNS`, :data:`DECISION_COLUMNS`).

Modules: ``analysis`` (analyse, describe), ``tree`` (decision tree for one
stratum), ``control`` (Dunnett, Dunn, Steel), ``trend`` (Williams,
Shirley-Williams, Jonckheere-Terpstra), ``incidence`` (Fisher, Cochran-Armitage),
``mixed`` (mixed models for repeated measures and litters), ``reml`` (REML
fits with compound-symmetry, AR(1) and unstructured covariance), ``ddf``
(containment, Satterthwaite and Kenward-Roger tests), ``permutation`` (exact and
Monte Carlo rank-test distributions with ties), ``hill`` (4-parameter
log-logistic), ``bmd`` (benchmark dose via pybmds), ``one_sample`` (tests against
a reference value), ``units`` (litter means as the units of analysis).

The names below are loaded on first use (importing this package loads none of
scipy or statsmodels): a neurite plate that only fits Hill curves does not pay for
the mixed models. :func:`load_all` imports every module at once (done before a
report forks its worker processes, so that they inherit them).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → the module that defines it.
_WHERE = {
    "Comparison": "_common", "Trend": "_common",
    "DECISION_COLUMNS": "analysis", "RESULT_COLUMNS": "analysis", "Analysis": "analysis",
    "analyse": "analysis", "describe": "analysis",
    "BmdResult": "bmd", "benchmark_dose": "bmd",
    "dunn": "control", "dunnett": "control", "steel": "control",
    "HillFit": "hill", "fit_hill": "hill",
    "cochran_armitage": "incidence", "fisher_vs_control": "incidence",
    "MixedModelResult": "mixed", "litter_comparison": "mixed", "mixed_model": "mixed",
    "OneSampleResult": "one_sample", "one_sample_table": "one_sample",
    "one_sample_test": "one_sample",
    "StratumOutcome": "tree", "compare_to_control": "tree",
    "jonckheere": "trend", "shirley_williams": "trend", "williams": "trend",
    "williams_critical_values": "trend",
    "litter_units": "units",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'neurotox.stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neurotox.stats.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


def load_all() -> None:
    """Import every statistics module now."""
    for module in sorted(set(_WHERE.values())):
        importlib.import_module(f"neurotox.stats.{module}")
