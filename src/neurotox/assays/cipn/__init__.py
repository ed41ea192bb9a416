"""Peripheral neuropathy and nerve function (CIPN panel).

Importing this package registers the ``cipn`` assay (its simulator lives in
:mod:`neurotox.simulate.cipn`).
Modules: ``updown`` (Dixon/Chaplan up-down with computed k, SUDO, filament sets),
``thermal`` (censored latencies, %MPE, acetone, trial means), ``nerve`` (NCV,
IENFD), ``assay`` (parameters and the runner).
"""

from neurotox.assays.cipn import assay  # noqa: F401
