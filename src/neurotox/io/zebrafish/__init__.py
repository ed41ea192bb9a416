"""Readers for zebrafish locomotion exports, with format auto-detection.

Importing this package registers every format; :func:`read_export` detects the
layout of a file through the registry (see :mod:`neurotox.io.zebrafish.base`)
and returns a tidy :class:`Export`. :func:`read_plate_map` reads Tanguay-style
plate maps with morphology/mortality calls.
"""

from neurotox.io.zebrafish import (  # noqa: F401  (register)
    lmr0,
    processed,
    trajectory,
    viewpoint,
    zebralab_stimulus,
)
from neurotox.io.zebrafish.base import (
    ACTIVITY_COLUMNS,
    BIN_COLUMNS,
    EVENT_COLUMNS,
    FRAME_COLUMNS,
    TRACK_COLUMNS,
    Export,
    Reader,
    detect_format,
    list_formats,
    read_export,
    register_reader,
)
from neurotox.io.zebrafish.plate import read_plate_layouts, read_plate_map
from neurotox.io.zebrafish.trajectory import bin_track

__all__ = ["ACTIVITY_COLUMNS", "BIN_COLUMNS", "EVENT_COLUMNS", "FRAME_COLUMNS", "TRACK_COLUMNS",
           "Export", "Reader", "bin_track", "detect_format", "list_formats", "read_export",
           "read_plate_layouts", "read_plate_map", "register_reader"]
