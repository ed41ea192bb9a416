"""Readers of rodent-cognition inputs (NOR, T-maze) with a registry and auto-detection.

Importing this package registers every reader; :func:`read_rodent` detects the
format of a file and returns a :class:`RodentData` (see :mod:`.base` for the
output contract of each kind).
"""

from neurotox.io.rodent import ethovision, anymaze, pose, scoring, tables  # noqa: F401,I001  (register readers; detection order: ethovision-raw first, its A1 is unmistakable)
from neurotox.io.rodent.base import (
    PHASES,
    Poses,
    Reader,
    RodentData,
    detect,
    list_readers,
    read_rodent,
    read_rodent_trials,
    register_reader,
    side_of,
)

__all__ = ["PHASES", "Poses", "Reader", "RodentData", "detect", "list_readers", "read_rodent",
           "read_rodent_trials", "register_reader", "side_of"]
