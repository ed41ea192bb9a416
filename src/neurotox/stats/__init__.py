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
a reference value).
"""

from neurotox.stats._common import Comparison, Trend
from neurotox.stats.analysis import (
    DECISION_COLUMNS,
    RESULT_COLUMNS,
    Analysis,
    analyse,
    describe,
)
from neurotox.stats.bmd import BmdResult, benchmark_dose
from neurotox.stats.control import dunn, dunnett, steel
from neurotox.stats.hill import HillFit, fit_hill
from neurotox.stats.incidence import cochran_armitage, fisher_vs_control
from neurotox.stats.mixed import MixedModelResult, litter_comparison, mixed_model
from neurotox.stats.one_sample import OneSampleResult, one_sample_table, one_sample_test
from neurotox.stats.tree import StratumOutcome, compare_to_control
from neurotox.stats.trend import (
    jonckheere,
    shirley_williams,
    williams,
    williams_critical_values,
)

__all__ = [
    "DECISION_COLUMNS",
    "RESULT_COLUMNS",
    "Analysis",
    "BmdResult",
    "Comparison",
    "HillFit",
    "MixedModelResult",
    "OneSampleResult",
    "StratumOutcome",
    "Trend",
    "analyse",
    "benchmark_dose",
    "cochran_armitage",
    "compare_to_control",
    "describe",
    "dunn",
    "dunnett",
    "fisher_vs_control",
    "fit_hill",
    "jonckheere",
    "litter_comparison",
    "mixed_model",
    "one_sample_table",
    "one_sample_test",
    "shirley_williams",
    "steel",
    "williams",
    "williams_critical_values",
]
