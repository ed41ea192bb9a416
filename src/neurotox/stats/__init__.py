"""Statistics engine: regulatory toxicology comparisons with every step recorded.

Reads EndpointTable rows and a :class:`~neurotox.study.StatisticsPlan`; never
imports assays or io. Entry point: :func:`analyse`, whose output tables are the
contract with the report renderer (:data:`RESULT_COLUMNS`, :data:`DECISION_COLUMNS`).
"""

from neurotox.stats._common import Comparison, Trend
from neurotox.stats.analysis import (
    DECISION_COLUMNS,
    RESULT_COLUMNS,
    Analysis,
    analyse,
    describe,
)
from neurotox.stats.control import dunn, dunnett, steel
from neurotox.stats.incidence import cochran_armitage, fisher_vs_control
from neurotox.stats.mixed import MixedModelResult, mixed_model
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
    "Comparison",
    "MixedModelResult",
    "StratumOutcome",
    "Trend",
    "analyse",
    "cochran_armitage",
    "compare_to_control",
    "describe",
    "dunn",
    "dunnett",
    "fisher_vs_control",
    "jonckheere",
    "mixed_model",
    "shirley_williams",
    "steel",
    "williams",
    "williams_critical_values",
]
