"""Plate IDs that stay apart across the input files of one neurochemistry run.

A plate ID comes from the export (xPONENT ``Batch``, a SoftMax plate name, a
plate column) or, when the file names none, from the file name. Two files can
therefore give the same ID: two runs exported under one batch name, or two
plates saved as ``che_kinetic.csv`` in different folders. Every neurochem
analysis claims its plate IDs through :class:`PlateIds`, which keeps such plates
apart (the second is renamed after its file) and refuses a plate map that names
a shared ID, since the map cannot say which of the files it describes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from neurotox.errors import InputError, quoted
from neurotox.files import file_labels

__all__ = ["PlateIds", "file_labels"]


class PlateIds:
    """Claim plate IDs file by file; a repeated ID gets its file's label.

    Parameters
    ----------
    paths
        Every plate export of the run (their labels are computed together).

    """

    def __init__(self, paths: Iterable[Path]):
        self.labels = file_labels(paths)
        self._owner: dict[tuple[str, str], Path] = {}
        #: IDs given by two or more files for one analyte → those files.
        self._shared: dict[str, list[Path]] = {}

    def label(self, path: Path) -> str:
        """The file's shortest distinguishing path (for ``source`` columns and notes)."""
        return self.labels.get(Path(path)) or Path(path).name

    def claim(self, plate: str, path: Path, analyte: str = "") -> str:
        """The ID under which the plate of ``path`` is analysed.

        The first file to give an ID (per analyte) keeps it; a later file's plate of
        the same ID is renamed ``<label>:<ID>`` (``<label>`` alone when the ID is the
        file's own stem), ``<label>`` being the file's distinguishing path without
        its suffix.
        """
        path = Path(path)
        owner = self._owner.setdefault((plate, analyte), path)
        if owner == path:
            return plate
        files = self._shared.setdefault(plate, [owner])
        if path not in files:
            files.append(path)
        stem = self.label(path).rsplit(".", 1)[0]
        new = stem if plate == path.stem else f"{stem}:{plate}"
        self._owner.setdefault((new, analyte), path)
        return new

    def check_map(self, plate: str, plate_map: pd.DataFrame | None) -> None:
        """Refuse a plate map that names an ID more than one file gives (for one analyte).

        One plate exported per analyte into two files is one plate: its map rows
        apply to both, as before.

        Raises
        ------
        InputError
            The map has rows for ``plate`` and two or more files give that ID.

        """
        files = self._shared.get(plate, [])
        if plate_map is None or len(files) < 2:
            return
        rows = plate_map[plate_map["plate"] == plate]
        if rows.empty:
            return
        names = [self.label(f) for f in files]
        raise InputError(
            f"plate {plate!r} is given by {len(files)} files, {quoted(names)}, and the plate "
            f"map names it ({rows['source'].iloc[0]}): it cannot tell which file it "
            "describes; rename a file (a kinetic table's plate ID is its file name) or give "
            "each plate its own ID", path=files[-1])
