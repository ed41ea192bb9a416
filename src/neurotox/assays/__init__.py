"""Assays: each turns reader output into EndpointTable rows (+ detail tables).

One subpackage per assay family, one concern per module: :mod:`.neurite`
(neurite outgrowth from plate images), :mod:`.zebrafish` (larval LPR, embryonic
EPR), :mod:`.rodent` (NOR, T-maze, pose geometry) and :mod:`.battery` (the
OECD TG 424/426 neurotoxicity battery) and :mod:`.cipn` (peripheral nerve
function). An assay registers itself with
:func:`neurotox.assays.base.register`; importing this package imports every
family so the registry is complete. Assays never import :mod:`neurotox.simulate`.
"""

import neurotox.assays.battery  # noqa: F401, E402
import neurotox.assays.cipn  # noqa: F401, E402
import neurotox.assays.neurite  # noqa: F401, E402
import neurotox.assays.neurochem  # noqa: F401, E402
import neurotox.assays.rodent  # noqa: F401, E402
import neurotox.assays.zebrafish  # noqa: F401, E402
from neurotox.assays.base import AssayPlugin, AssayResult, get_assay, list_assays, register

__all__ = ["AssayPlugin", "AssayResult", "get_assay", "list_assays", "register"]
