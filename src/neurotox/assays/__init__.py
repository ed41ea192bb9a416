"""Assays: each turns reader output into EndpointTable rows (+ detail tables).

One subpackage per assay family, one concern per module: :mod:`.neurite`
(neurite outgrowth from plate images), :mod:`.zebrafish` (larval LPR, embryonic
EPR, chemical screens), :mod:`.rodent` (NOR, T-maze, pose geometry),
:mod:`.battery` (the OECD TG 424/426 neurotoxicity battery), :mod:`.cipn`
(peripheral nerve function) and :mod:`.neurochem` (immunoassays, cholinesterase).
An assay registers itself with :func:`neurotox.assays.base.register` when its
module is imported; :func:`get_assay` imports the module that provides a name
(:data:`~neurotox.assays.base.PROVIDERS`) the first time it is asked for, so a
run loads only the families it uses. Assays never import :mod:`neurotox.simulate`.
"""

from neurotox.assays.base import (
    PROVIDERS,
    AssayPlugin,
    AssayResult,
    get_assay,
    list_assays,
    load_all,
    register,
)

__all__ = ["PROVIDERS", "AssayPlugin", "AssayResult", "get_assay", "list_assays", "load_all",
           "register"]
