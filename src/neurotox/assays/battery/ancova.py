"""ANCOVA of an organ weight with body weight as covariate (see :mod:`neurotox.stats.ancova`).

Kept for the brain weight assay's detail table; the implementation lives in the
statistics engine, which also uses it for the results that reach the report.
"""

from neurotox.stats.ancova import COLUMNS, ancova, singular

__all__ = ["COLUMNS", "ancova", "singular"]
