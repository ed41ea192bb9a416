"""The neurotoxicity screening battery (OECD TG 424/426, EPA OPPTS 870.6200/6300).

Importing this package registers the assays ``fob``, ``motor_activity``,
``startle``, ``brain_weight``, ``neuropathology`` and ``developmental``, the
``guideline`` pseudo-assay and the ``oecd-424`` and ``oecd-426`` simulators.
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
from neurotox.simulate import battery as _simulator  # noqa: F401
from neurotox.simulate import dnt as _dnt_simulator  # noqa: F401
