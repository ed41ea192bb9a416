"""Assays: each turns reader output into EndpointTable rows (+ detail tables).

An assay registers itself with :func:`neurotox.assays.base.register`; importing
this package imports every assay module so the registry is complete.
"""

import neurotox.assays.battery  # noqa: F401, E402
import neurotox.assays.neurite  # noqa: F401, E402
import neurotox.assays.neurochem  # noqa: F401, E402
import neurotox.assays.nor  # noqa: F401, E402
import neurotox.assays.tmaze  # noqa: F401, E402
import neurotox.assays.zebrafish  # noqa: F401, E402
from neurotox.assays.base import AssayPlugin, AssayResult, get_assay, list_assays, register

__all__ = ["AssayPlugin", "AssayResult", "get_assay", "list_assays", "register"]
