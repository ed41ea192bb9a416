"""Readers for multiplex-bead and ELISA plate-reader exports, with format detection.

Importing this package registers every format (xPONENT, Bio-Plex Manager, Gen5,
SoftMax Pro, plain plate table, plate grids); :func:`read_export` detects the layout
of a file through the registry (see :mod:`neurotox.io.neurochem.base`) and returns a
tidy :class:`PlateExport`.
"""

from neurotox.io.neurochem import (  # noqa: F401  (register)
    bioplex,
    gen5,
    plate_grid,
    plate_table,
    softmax,
    xponent,
)
from neurotox.io.neurochem.base import (
    CONTROL_COLUMNS,
    WELL_COLUMNS,
    PlateExport,
    Reader,
    VendorCurve,
    detect_format,
    list_formats,
    parse_value,
    read_export,
    register_reader,
)

__all__ = ["CONTROL_COLUMNS", "WELL_COLUMNS", "PlateExport", "Reader", "VendorCurve",
           "detect_format", "list_formats", "parse_value", "read_export", "register_reader"]
