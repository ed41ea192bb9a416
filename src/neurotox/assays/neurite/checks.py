"""Checks of a plate's files and channels before any field is analysed: whole, blank, swapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurotox.errors import FormatError, InputError
from neurotox.imaging.channels import binary_values, blank_reason, swapped_channels
from neurotox.io.plates import (
    FieldSource,
    FileHeader,
    PlaneSource,
    colour_reading,
    colours_mixed,
    is_colour_merge,
    is_colour_plane,
    read_header,
    read_plane,
)


class BlankChannel(InputError):
    """A channel of a field holds no signal (an empty well, or the wrong channel).

    ``finding`` says which plane is blank and why, ``advice`` what to do.
    """

    def __init__(self, finding: str, advice: str, *, role: str, path: str | Path):
        self.finding, self.advice, self.role = finding, advice, role
        super().__init__(f"{finding}; {advice}", path=path)


#: Fields of a plate checked for blank channels before its first good one: the
#: first wells may hold no cells (a top dose that killed them, a no-cell control).
FIELDS_CHECKED = 8


def check_plate_start(sources: list[FieldSource]) -> str | None:
    """:func:`check_first_field` on a plate's fields until one passes.

    A blank first field is an empty well as often as a wrong channel: the
    error is raised only when the first :data:`FIELDS_CHECKED` fields (or all,
    if fewer) are blank, naming the first. A mask, the same image in both
    channels, or a blank neurite plane beside a nuclear plane with signal (cells
    were there: an acquisition failure or a wrong channel, not an empty well) is
    an error at once.
    """
    checked = sources[:FIELDS_CHECKED]
    blanks: list[BlankChannel] = []
    for source in checked:
        try:
            return check_first_field(source)
        except BlankChannel as exc:        # a mask or one image twice is no empty well
            blanks.append(exc)
    first = blanks[0]
    if len(blanks) == 1:
        raise first
    others = f"the plate's next {len(blanks) - 1} field(s)"
    too = f"the {first.role} channel is blank in {others} too" \
        if all(b.role == first.role for b in blanks) else f"{others} have a blank channel too"
    raise InputError(f"{first.finding}; {too}, so this is no single empty well; "
                     f"{first.advice}", path=first.path, where=first.where)


def check_folder_starts(sources: list[FieldSource]) -> None:
    """InputError when the first image of any folder below the plate is a mask.

    A plate is the folder given (or ``{plate}``), whatever subfolders it holds:
    masks saved in a subfolder (``masks/``) beside the raw images would be
    fields of the same plate, after its first field, which
    :func:`check_plate_start` checks. One plane per folder is read.
    """
    seen: set[object] = set()
    for source in sources:
        for role, plane in (("neurite", source.neurite), ("nuclear", source.nuclei)):
            if plane is not None and plane.path.parent not in seen:
                seen.add(plane.path.parent)
                _refuse_mask(role, plane, read_plane(plane))


def _refuse_mask(role: str, plane: PlaneSource, data: np.ndarray) -> None:
    two = binary_values(data)
    if two is not None:
        raise InputError(f"{role} {plane.describe()} holds only the values {two[0]:g} and "
                         f"{two[1]:g}: a mask or thresholded image, not a fluorescence "
                         "image; analyse the folder of raw images, or give a --pattern "
                         "that leaves the masks out", path=plane.path)


def check_first_field(source: FieldSource) -> str | None:
    """InputError at once when a channel of a plate's first field is blank or binary.

    The message names file and channel. A mask saved beside the images (two
    grey values only), an unused colour plane of an RGB merge (the default
    channels 1 and 2 are red and green there), a constant image or a plane
    without signal would otherwise be analysed as nuclei or neurites without a
    word, and slowly.

    Returns
    -------
    str or None
        A warning when the nuclear plane shows thinner structures than the
        neurite plane (:func:`~neurotox.imaging.channels.swapped_channels`:
        the two channels are most likely swapped), or when a channel file is an
        8-bit colour image that mixes several channels
        (:func:`~neurotox.io.plates.colours_mixed`).

    """
    planes, blank = {}, {}
    for role, plane in (("neurite", source.neurite), ("nuclear", source.nuclei)):
        if plane is None:
            continue
        planes[role] = read_plane(plane)
        _refuse_mask(role, plane, planes[role])
        blank[role] = blank_reason(planes[role], merge=is_colour_merge(plane))
    for role, plane in (("neurite", source.neurite), ("nuclear", source.nuclei)):
        if blank.get(role):
            colour = is_colour_plane(plane)
            hint = " (RGB merge: choose the colour, e.g. --nuclei-channel blue " \
                   "--neurite-channel green)" if plane.plane is not None else ""
            named = plane.describe(colour=colour)
            if role == "neurite" and "nuclear" in blank and not blank["nuclear"]:
                # cells in the nuclear plane and nothing in the neurite plane: no empty well
                raise InputError(f"neurite {named} is blank: {blank[role]}, while "
                                 "the nuclear plane shows cells: an acquisition failure or a "
                                 f"wrong channel; re-acquire the field or leave it out, or "
                                 f"choose another channel{hint}", path=plane.path)
            raise BlankChannel(f"{role} {named} is blank: {blank[role]}",
                               f"choose another channel{hint}, or --nuclei-channel none for "
                               "single-channel images", role=role, path=plane.path)
    if len(planes) == 2 and planes["nuclear"].shape == planes["neurite"].shape and \
            np.array_equal(planes["nuclear"], planes["neurite"]):
        raise InputError(f"the nuclear channel ({source.nuclei.describe()}) and the neurite "
                         f"channel ({source.neurite.describe()}) hold the same image; choose "
                         "two different channels, or --nuclei-channel none for single-channel "
                         "images", path=source.neurite.path)
    mixed = [f"{role} file {plane.path.name}" for role, plane in
             (("neurite", source.neurite), ("nuclear", source.nuclei))
             if plane is not None and colours_mixed(plane)]
    one = len(mixed) == 1
    warnings = [f"the {' and '.join(mixed)} of the first field {'is a' if one else 'are'} "
                f"colour image{'' if one else 's'} whose red, green and blue planes differ as "
                "in a merge of several channels, not as a single channel's colour table: read "
                "as grey (the brightest plane at each pixel) the channels are mixed; name the "
                "colour, e.g. --neurite-channel green"] if mixed else []
    if len(planes) == 2 and swapped_channels(planes["nuclear"], planes["neurite"]):
        warnings.append(f"the nuclear channel ({source.nuclei.describe()}) shows thinner "
                        f"structures than the neurite channel ({source.neurite.describe()}): "
                        "are --nuclei-channel and --neurite-channel swapped?")
    return "; ".join(warnings) or None


def reading_notes(source: FieldSource) -> list[str]:
    """Run notes on how a plate's first field's channel files were read as grey.

    A palette image (through its greys, as a display LUT's indices, or as its
    colours) or a pseudo-coloured channel (one channel saved through a colour
    table as RGB) is read otherwise than it is stored: each such file is named
    (:func:`~neurotox.io.plates.colour_reading`).
    """
    return [f"the {role} file {plane.path.name} of the first field is {how}"
            for role, plane in (("neurite", source.neurite), ("nuclear", source.nuclei))
            if plane is not None and (how := colour_reading(plane))]


def check_files_open(sources: list[FieldSource]) -> dict[Path, FileHeader]:
    """FormatError naming the first file that cannot be read whole, before any is analysed.

    Every file's header is read (:func:`~neurotox.io.plates.read_header`):
    a truncated or corrupt file ended the run only when its field was analysed
    (after 25 s of a 29 s run, on a 24-field plate). The planes of one field
    must have the same size. Returns the headers read, by file (whether a file
    is lossy JPEG is said from them).
    """
    headers: dict[Path, FileHeader] = {}
    for source in sources:
        shapes = {}
        for plane in source.planes:
            if plane.path not in shapes:
                header = headers.get(plane.path) or read_header(plane.path)
                if header.problem:
                    raise FormatError(header.problem, path=plane.path)
                headers[plane.path], shapes[plane.path] = header, header.shape
        found = {p: s for p, s in shapes.items() if s is not None}
        if len(set(found.values())) > 1:
            (a, first), (b, other) = list(found.items())[:2]
            raise FormatError(f"image size {first} differs from {other} of {b.name} in the "
                              "same field", path=a)
    return headers
