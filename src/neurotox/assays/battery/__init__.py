"""The neurotoxicity screening battery (OECD TG 424/426, EPA OPPTS 870.6200/6300).

Importing this package registers the assays ``fob``, ``motor_activity``,
``startle``, ``brain_weight``, ``neuropathology`` and ``developmental`` and the
``guideline`` pseudo-assay. The ``oecd-424`` and ``oecd-426`` simulators are in
:mod:`neurotox.simulate.battery` and :mod:`neurotox.simulate.dnt`.
"""

from neurotox.assays.battery import (  # noqa: F401
    brain_weight,
    developmental,
    fob,
    guideline,
    motor_activity,
    neuropathology,
    startle,
)
