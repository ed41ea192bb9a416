"""Neurochemistry: multiplex/ELISA concentrations and cholinesterase activity.

Importing this package registers the assays ``neurochem`` (multiplex bead assays
and ELISA: standard curves, LLOQ/ULOQ, QC, censored concentrations) and
``cholinesterase`` (Ellman kinetic reads to activity per g tissue or per mL).
"""

from neurotox.assays.neurochem import cholinesterase, immunoassay  # noqa: F401
