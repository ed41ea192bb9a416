"""Peripheral neuropathy and nerve function (CIPN panel).

Importing this package registers the ``cipn`` assay and the ``cipn`` simulator.
Modules: ``updown`` (Dixon/Chaplan up-down with computed k, SUDO, filament sets),
``thermal`` (censored latencies, %MPE, acetone, trial means), ``nerve`` (NCV,
IENFD), ``assay`` (parameters and the runner).
"""

from neurotox.assays.cipn import assay  # noqa: F401
from neurotox.simulate import cipn as _simulator  # noqa: F401
