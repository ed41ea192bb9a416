"""Plate folders of high-content images: file naming, channel planes, pixel size.

A plate folder holds one TIFF (or PNG/JPEG) per well, field (site) and
channel, named by the imager. Naming schemes are registered in
:data:`SCHEMES` (ImageXpress, Operetta/Harmony/Phenix, Cellomics/ArrayScan,
OME-TIFF per field); a user pattern such as ``"{well}_f{field}_c{channel}.tif"``
adds one on the fly. :func:`scan_plate` picks the scheme matching most files and returns a tidy
index (one row per file); :func:`field_sources` groups it into fields with
their nuclear and neurite channel planes. Images are read lazily, one field at
a time, by :func:`read_plane`.

Example names::

    PLATE1_B03_s2_w1.tif                      ImageXpress (w = channel, s = site)
    PLATE1_B03_s2_w2A1B2C3D4-....tif          ImageXpress with GUID
    PLATE1_B03_s2_w1_thumbA1B2....tif         ImageXpress thumbnail (skipped)
    r02c03f01p01-ch1sk1fk1fl1.tiff            Operetta/Harmony (row, column, field)
    r02c03f001p01-ch1sk1fk1fl1.tiff           Phenix (3-digit fields)
    PLATE1_B03_s2.ome.tif                     OME-TIFF, one file per field (channels inside)
    PLATE1_B03f00d0.TIF                       Cellomics (f = field, d = channel from 0)
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from neurotox.errors import FormatError, InputError, closest, did_you_mean, quoted
from neurotox.files import check_input, check_unpacked, file_kind
from neurotox.io.calibration import (  # noqa: F401 (re-exported: the plate reader's API)
    PIXEL_SIZE_RANGE,
    calibration_problem,
    pixel_aspect,
    pixel_size_um,
)
from neurotox.study import normalise_well

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
_THUMB = re.compile(r"thumb", re.IGNORECASE)
#: MetaXpress time-lapse folders: ``TimePoint_3/``.
_TIMEPOINT_DIR = re.compile(r"^TimePoint_(\d+)$", re.IGNORECASE)
#: MetaXpress z-plane folders inside a time point's: ``TimePoint_1/ZStep_2/``.
_Z_FOLDER = re.compile(r"^ZStep_(?P<z>\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class NamingScheme:
    """A file-naming scheme: a regular expression with named groups.

    Groups: ``well`` or ``row`` + ``col``; ``field``; ``channel``; optional
    ``plate``, ``timepoint``. Channel numbers are reported 1-based
    (``channel_base`` is added).
    """

    name: str
    regex: re.Pattern[str]
    description: str
    channel_base: int = 0
    #: Further expressions tried in turn when ``regex`` does not match (user patterns).
    alternatives: tuple[re.Pattern[str], ...] = ()
    #: The expressions match the path inside the plate folder (``Green/VID_A1_1.tif``:
    #: a pattern with ``/``), not the file name alone.
    paths: bool = False

    def match(self, name: str) -> re.Match[str] | None:
        """The first of the scheme's expressions that matches ``name``."""
        for regex in (self.regex, *self.alternatives):
            m = regex.match(name)
            if m:
                return m
        return None


SCHEMES: dict[str, NamingScheme] = {}


def register_scheme(scheme: NamingScheme) -> NamingScheme:
    """Add a naming scheme to the registry used by :func:`scan_plate`."""
    SCHEMES[scheme.name] = scheme
    return scheme


register_scheme(NamingScheme(
    "imagexpress",
    re.compile(r"^(?P<plate>.+?)_(?P<well>[A-Pa-p]\d{1,2})(?:_s(?P<field>\d+))?_w(?P<channel>\d)"
               r"(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f\-]{27})?\.(?:tiff?|png)$", re.IGNORECASE),
    "MetaXpress/ImageXpress: <plate>_<well>[_s<site>]_w<channel>[<GUID>].tif or .png "
    "(well A01 or A1)"))
register_scheme(NamingScheme(
    "operetta",
    re.compile(r"^r(?P<row>\d{2})c(?P<col>\d{2})f(?P<field>\d{2,3})p\d{2,3}"
               r"-ch(?P<channel>\d+)sk(?P<timepoint>\d+)fk\d+fl\d+\.tiff?$", re.IGNORECASE),
    "Operetta/Harmony/Phenix: r<row>c<col>f<field>p<plane>-ch<channel>sk<time>fk1fl1.tiff "
    "(field and plane of 2 or 3 digits)"))
register_scheme(NamingScheme(
    "cellomics",
    re.compile(r"^(?P<plate>.+?)_(?P<well>[A-Pa-p]\d{2})f(?P<field>\d{2})d(?P<channel>\d)"
               r"\.tiff?$", re.IGNORECASE),
    "Cellomics/ArrayScan: <plate>_<well>f<field>d<channel>.TIF (channels from d0)",
    channel_base=1))
register_scheme(NamingScheme(
    "ome-tiff",
    re.compile(r"^(?:(?P<plate>.+?)_)?(?P<well>[A-Pa-p]\d{1,2})(?:_[sf](?P<field>\d+))?"
               r"(?:_w(?P<channel>\d+))?\.ome\.tiff?$", re.IGNORECASE),
    "OME-TIFF, one file per field: [<plate>_]<well>[_s<site>][_w<channel>].ome.tif "
    "(a file without a channel holds the field's channels)"))

_PLACEHOLDERS = {
    "plate": r"(?P<plate>.+)", "well": r"(?P<well>[A-Pa-p]\d{1,2})",
    "row": r"(?P<row>[A-Pa-p]|\d{1,2})", "col": r"(?P<col>\d{1,2})",
    "field": r"(?P<field>\d+)", "channel": r"(?P<channel>[A-Za-z0-9]+?)",
    "timepoint": r"(?P<timepoint>[A-Za-z0-9]+?)", "group": r"(?P<group>.+)", "*": r".*?",
}


def pattern_scheme(pattern: str | Sequence[str]) -> NamingScheme:
    """A naming scheme from a user pattern such as ``"{well}_f{field}_c{channel}.tif"``.

    Placeholders: ``{plate}``, ``{well}``, ``{row}``, ``{col}``, ``{field}``,
    ``{channel}``, ``{timepoint}``, ``{group}`` and ``{*}`` (anything).
    ``{plate}`` and ``{group}`` take as much as the rest of the pattern leaves,
    so free names such as ``"ctrl_0,1_AM_3 .jpg"`` read with
    ``"{group}_{field}{*}"`` give group ``ctrl_0,1_AM`` and field 3 (the last
    number). Other text matches literally (case-insensitive). Without
    ``{well}`` (or ``{row}`` + ``{col}``) every file is well A01, or, when the
    name gives the group, each image is its own replicate (well
    ``<group>-<field>``); without ``{channel}`` every file is channel 1;
    without ``{field}`` every file is field 1. Several patterns (a lab whose
    names changed between sessions) are tried in turn; each file is read by
    the first that matches it.

    Raises
    ------
    InputError
        Unknown or repeated placeholder.

    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    regexes = [_pattern_regex(p) for p in patterns]
    label = "user patterns" if len(patterns) > 1 else "user pattern"
    return NamingScheme("pattern", regexes[0], f"{label} {', '.join(map(repr, patterns))}",
                        alternatives=tuple(regexes[1:]), paths=any("/" in p for p in patterns))


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]*\})", pattern)
    regex = ""
    names = set()
    anything = 0
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            key = part[1:-1]
            if key not in _PLACEHOLDERS:
                close = closest(key, _PLACEHOLDERS)
                hint = f" (did you mean '{{{close}}}'?)" if close else ""
                raise InputError(f"unknown placeholder {part!r}{hint} in --pattern; expected "
                                 f"one of {quoted('{' + k + '}' for k in _PLACEHOLDERS)}")
            if key in names and key != "*":
                raise InputError(f"placeholder {part!r} appears twice in --pattern")
            names.add(key)
            if key == "*":      # named, so that the text can name a field (see _record)
                anything += 1
                regex += f"(?P<any{anything}>.*?)"
                continue
            regex += _PLACEHOLDERS[key]
        elif "{" in part or "}" in part:
            raise InputError(f"unmatched brace in --pattern {pattern!r}: placeholders are "
                             "written {name}, e.g. {field}")
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$", re.IGNORECASE)


#: Largest field (site) number read from a file name (tables store it as a 32-bit integer).
MAX_FIELD_NUMBER = 2**31 - 1


def _row_col_well(row: str, col: str) -> str:
    r = chr(64 + int(row)) if row.isdigit() else row.upper()
    return f"{r}{int(col):02d}"


def _record(m: re.Match[str], scheme: NamingScheme, path: Path,
            folder: Path | None = None) -> dict[str, object]:
    g = m.groupdict()
    group = g.get("group")
    if g.get("well"):
        well = normalise_well(g["well"])
    elif g.get("row") and g.get("col"):
        well = normalise_well(_row_col_well(g["row"], g["col"]))
    elif group:
        well = f"{group}-{int(g.get('field') or 1)}"    # each image is one replicate
    else:
        well = "A01"
    channel = g.get("channel") or "1"     # single-channel files: channel 1
    if channel.isdigit():
        channel = str(int(channel) + scheme.channel_base)
    timepoint = g.get("timepoint")
    parent = path.parent.parent if _Z_FOLDER.match(path.parent.name) else path.parent
    in_timepoint_dir = _TIMEPOINT_DIR.match(parent.name)
    if not timepoint and in_timepoint_dir:
        timepoint = in_timepoint_dir.group(1)
    plate = g.get("plate") or _default_plate(scheme, parent / path.name, folder,
                                             timepoint_dir=bool(in_timepoint_dir))
    field_no = int(g.get("field") or 1)
    if field_no > MAX_FIELD_NUMBER:
        raise FormatError(f"field number {field_no} in the file name is above "
                          f"{MAX_FIELD_NUMBER} (not a field?); give --pattern", path=path)
    located = any(g.get(k) for k in ("well", "row", "field"))     # else {*} names the field
    free = None if located else "\0".join(v for k, v in sorted(g.items())
                                             if k.startswith("any") and v is not None)
    return {"path": path, "plate": plate, "well": well, "field": field_no,
            "channel": channel.lower(), "channel_named": bool(g.get("channel")),
            "timepoint": timepoint or "NA", "group": group, "free": free}


def _default_plate(scheme: NamingScheme, path: Path, folder: Path | None, *,
                   timepoint_dir: bool) -> str:
    """The plate of a file whose name gives none: the plate folder for a user pattern.

    A user pattern that does not name ``{plate}`` reads one plate, the folder
    given (a folder level in the pattern, ``{group}/...`` or ``{channel}/...``,
    or a subfolder it does not mention is no plate: percent of control is taken
    within a plate). A registered scheme without a plate in its names
    (Operetta) takes the file's folder (the one above a ``TimePoint_N``
    folder), as exports hold one plate per folder.
    """
    if scheme.name == "pattern" and folder is not None:
        return Path(os.path.abspath(folder)).name     # a plate read as '.' has a name too
    parent = Path(os.path.abspath(path.parent))
    return parent.parent.name if timepoint_dir else parent.name


def _match_all(files: list[Path], scheme: NamingScheme,
               folder: Path | None = None) -> list[dict[str, object]]:
    out = []
    for p in files:
        m = scheme.match(p.relative_to(folder).as_posix() if scheme.paths and folder
                         else p.name)
        if m:
            try:
                out.append(_record(m, scheme, p, folder))
            except FormatError:
                raise
            except ValueError:
                continue
    return out


@dataclass
class PlateIndex:
    """Images found in a plate folder.

    Attributes
    ----------
    folder
        The plate folder.
    scheme
        Naming scheme used.
    files
        One row per image: path, plate, well, field, channel, timepoint and
        group (None unless the pattern has ``{group}``).
    thumbnails
        Thumbnail files skipped.
    unmatched
        Image files whose name did not match the scheme.
    hidden
        Hidden image-named files skipped (``._NAME`` macOS resource forks,
        files in hidden or ``__MACOSX`` folders).
    folders
        Folders named like images (searched, not read as images).
    outputs
        Earlier neurotox output folders inside the plate folder (they hold a
        neurotox ``manifest.json``), skipped: their overlays are no images.
    channels_from_zero
        The file names number the channels from 0 (``_ch00``, ``_ch01``):
        channel 1 is the file labelled 0, as channel numbers are 1-based.

    """

    folder: Path
    scheme: NamingScheme
    files: pd.DataFrame
    thumbnails: list[Path]
    unmatched: list[Path]
    hidden: list[Path] = dataclass_field(default_factory=list)
    folders: list[Path] = dataclass_field(default_factory=list)
    outputs: list[Path] = dataclass_field(default_factory=list)
    channels_from_zero: bool = False

    @property
    def wells(self) -> list[str]:
        """Wells with at least one image, sorted."""
        return sorted(self.files["well"].unique())

    @property
    def channels(self) -> list[str]:
        """Channel names found, sorted."""
        return sorted(self.files["channel"].unique())


def scan_plate(folder: str | Path, *, pattern: str | Sequence[str] | None = None
               ) -> PlateIndex:
    """Index the images of a plate folder (recursively).

    Parameters
    ----------
    folder
        Plate folder.
    pattern
        User naming pattern (see :func:`pattern_scheme`); otherwise the
        registered scheme matching most files is used.

    Returns
    -------
    PlateIndex
        The index, sorted by plate, well, field, timepoint, channel.

    Raises
    ------
    InputError
        Not a folder, no images, or no naming scheme matches.

    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("plate folder not found", path=folder)
    found = list(folder.rglob("*"))
    named = [p for p in found if p.suffix.lower() in IMAGE_SUFFIXES]
    hidden = sorted(p for p in named if _hidden(p.relative_to(folder)))
    named = [p for p in named if not _hidden(p.relative_to(folder))]
    outputs = _earlier_outputs(folder, found)
    named = [p for p in named if not any(p.is_relative_to(o) for o in outputs)]
    for p in named:
        if not p.is_file() and not p.is_dir():
            kind = file_kind(p.lstat().st_mode) if not p.exists() else file_kind(p.stat().st_mode)
            raise InputError(f"expected image files, found {kind}", path=p)
    folders = sorted(p for p in named if p.is_dir())
    images = sorted(p for p in named if p.is_file())
    thumbs = [p for p in images if _THUMB.search(p.name)]
    images = [p for p in images if not _THUMB.search(p.name)]
    if not images:
        raise InputError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in the plate folder",
                         path=folder)
    candidates = [pattern_scheme(pattern)] if pattern else list(SCHEMES.values())
    best = max(candidates, key=lambda s: len(_match_all(images, s, folder)))
    records = _match_all(images, best, folder)
    if not records:
        names = quoted(p.name for p in images[:3])
        if pattern and any("*" in p.replace("{*}", "") for p in best.description.split("'")):
            names += " (in --pattern, 'anything' is written {*}, not *)"
        raise FormatError(f"no file name matches the {best.description if pattern else ''}"
                          f"{'' if pattern else 'known naming schemes (' + quoted(SCHEMES)}"
                          f"{'' if pattern else '); give --pattern'}; first files: {names}",
                          path=folder)
    df = _number_free_names(pd.DataFrame(records))
    from_zero = _channels_from_zero(df)
    if from_zero:       # ch00, ch01 ...: channel numbers are 1-based, like plane numbers
        df["channel"] = [str(int(c) + 1) for c in df["channel"]]
    if df["timepoint"].nunique() == 1:
        df["timepoint"] = "NA"          # a single time point is not a time series
    df = df.sort_values(["plate", "well", "field", "timepoint", "channel"])
    _check_unique_planes(df, folder, pattern=bool(pattern))
    matched = set(df["path"])
    unmatched = [p for p in images if p not in matched]
    return PlateIndex(folder, best, df.reset_index(drop=True), thumbs, unmatched, hidden,
                      folders, outputs, from_zero)


def _channels_from_zero(df: pd.DataFrame) -> bool:
    """Whether the file names number the channels from 0 (``_ch00``, ``_ch01``, ``_c0``)."""
    named = df[df["channel_named"]]["channel"]
    return bool(len(named)) and all(c.isdigit() for c in named) and "0" in set(named)


def _earlier_outputs(folder: Path, paths: list[Path]) -> list[Path]:
    """Folders below ``folder`` holding a neurotox ``manifest.json``: earlier outputs.

    ``paths`` are the paths below ``folder`` (the plate folder is walked once).

    Labs save results beside the images; an earlier run's overlay PNGs would
    otherwise be measured as fields. A ``manifest.json`` that is not neurotox's
    does not make a folder an output.
    """
    from neurotox.io.output import MANIFEST, read_manifest

    found = []
    for manifest in sorted(p for p in paths if p.name == MANIFEST):
        out = manifest.parent
        if out == folder or _hidden(out.relative_to(folder)) or \
                any(out.is_relative_to(o) for o in found):
            continue
        try:
            read_manifest(manifest, any_version=True)
        except InputError:
            continue
        found.append(out)
    return found


def _number_free_names(df: pd.DataFrame) -> pd.DataFrame:
    """Fields numbered by the text ``{*}`` matched, where the pattern locates no field.

    A pattern without ``{well}``, ``{row}`` or ``{field}`` (``"{*}.tif"``,
    ``"{*}_{channel}.tif"``, ``"{group}/{*}.tif"``) names each field by the
    text its ``{*}`` placeholders match: files that differ only in the channel
    are one field; distinct texts are fields 1, 2, ... in name order (per plate
    and group). With ``{group}``, each such field is one replicate of its group
    (well ``<group>-<field>``).
    """
    free = df["free"].notna()
    if free.any():
        sub = df[free]
        keys = [sub["plate"], sub["group"].fillna("")]
        number = sub.groupby(keys)["free"].rank(method="dense").astype(int)
        df.loc[free, "field"] = number
        grouped = free & df["group"].notna()
        df.loc[grouped, "well"] = [f"{g}-{n}" for g, n in
                                   zip(df.loc[grouped, "group"], df.loc[grouped, "field"],
                                       strict=True)]
    return df.drop(columns="free")


def _hidden(relative: Path) -> bool:
    """A hidden file or a file in a hidden folder (``.name``), or in macOS's ``__MACOSX``.

    macOS writes a ``._NAME`` resource fork beside every file it copies to a
    USB disk or network share, and ``__MACOSX/`` folders into zip files: named
    like the images, they are not images.
    """
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.parts)


def _inside(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` where it lies inside it, else its name."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


#: A z plane in a file name (Operetta/Phenix ``r01c01f01p02-ch1...``: plane 2); folders:
#: :data:`_Z_FOLDER`.
_Z_NAME = re.compile(r"^r\d+c\d+f\d+p(?P<z>\d+)-", re.IGNORECASE)


def _z_plane(path: Path, folder: Path) -> str | None:
    """The z-plane token of a file (``p02``, ``ZStep_2``), None when it names none."""
    m = _Z_NAME.match(path.name)
    if m:
        return f"p{m.group('z')}"
    inside = Path(_inside(path, folder)).parts[:-1]
    return next((part for part in reversed(inside) if _Z_FOLDER.match(part)), None)


def _z_planes_message(same: pd.Series, folder: Path, where: str) -> str | None:
    """The message for files of one field that are its z planes, None when they are not."""
    planes = {p: _z_plane(p, folder) for p in same}
    tokens = [z for z in planes.values() if z is not None]
    if len(set(tokens)) < 2 or len(tokens) != len(set(tokens)):
        return None
    ordered = sorted(set(tokens), key=lambda t: int(re.sub(r"\D", "", t)))
    z_files = quoted(_inside(p, folder) for p, z in planes.items() if z is not None)
    other = [_inside(p, folder) for p, z in planes.items() if z is None]
    beside = (f"; {quoted(other)} beside them may be their projection: move the z-plane "
              "files out of the plate folder") if other else ""
    return (f"files {z_files} are z planes ({', '.join(ordered)}) of one field "
            f"({where}), not separate fields; neurotox measures one 2-D plane per field and "
            "channel: save a maximum-intensity projection of each field's planes (the imager's "
            "export with maximum projection, or Fiji: Image > Stacks > Z Project) "
            f"and analyse those files{beside}")


def _check_unique_planes(df: pd.DataFrame, folder: Path, *, pattern: bool = False) -> None:
    """FormatError when two files claim the same plate, well, field, time point and channel.

    Files that differ only in their z plane (Operetta/Phenix ``p01``, ``p02``;
    MetaXpress ``ZStep_N/`` folders) are named as z planes, asking for a
    projection.
    """
    key = ["plate", "well", "field", "timepoint", "channel"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        same = df[dup & (df[key] == first[key]).all(axis=1)]["path"]
        where = f"well {first['well']}, field {first['field']}, channel {first['channel']}"
        z_planes = _z_planes_message(same, folder, where)
        if z_planes:
            raise FormatError(z_planes, path=folder)
        raise FormatError(f"files {quoted(_inside(p, folder) for p in same)} are the same "
                          f"field ({where}); keep one"
                          + (", or tell them apart in --pattern ({well}, {field}, {group}; "
                             "without {well} and {field}, {*} names the field, e.g. '{*}.tif' "
                             "or '{group}/{*}.tif': each file one field)"
                             if pattern else "")
                          + ("; they lie in different folders, which a pattern may name: "
                             "'{channel}/...', '{group}/...' or '{plate}/...'"
                             if len({p.parent for p in same}) > 1 else ""),
                          path=folder)


@dataclass(frozen=True)
class PlaneSource:
    """Where one channel plane of a field lives: a file and, for stacks, a plane index.

    ``channel`` is the channel as the user named it (``"2"``, ``"blue"``), for messages.
    ``stack_plane`` is the plane a channel number selects should the file turn
    out to be a channel stack although its name carries no channel (``{*}.tif``
    with ``--neurite-channel 1``); a 2-D file or an RGB merge is read whole.
    """

    path: Path
    plane: int | None = None
    channel: str | None = None
    stack_plane: int | None = None

    def describe(self, *, colour: bool = False) -> str:
        """``channel 'blue' (plane 3) of NAME`` or ``NAME``, for messages.

        ``colour``: the plane is a colour of an RGB(A) file, named beside its
        number when the channel was given as one (``channel '1' (plane 1, red)``).
        """
        if self.plane is None:
            return self.path.name
        from neurotox.io.channels import COLOUR_NAMES, colour_index

        name = f"channel {self.channel!r} " if self.channel else "channel "
        named = colour and self.plane < len(COLOUR_NAMES) and \
            (self.channel is None or colour_index(self.channel) is None)
        what = f", {COLOUR_NAMES[self.plane]}" if named else ""
        return f"{name}(plane {self.plane + 1}{what}) of {self.path.name}"


@dataclass(frozen=True)
class FieldSource:
    """The channel planes of one field (nuclei or, for nuclei-only fields, neurites absent)."""

    plate: str
    well: str
    field: int
    timepoint: str
    neurite: PlaneSource | None
    nuclei: PlaneSource | None
    group: str | None = None

    @property
    def first(self) -> PlaneSource:
        """The neurite plane, or the nuclear one of a nuclei-only field (names, messages)."""
        plane = self.neurite or self.nuclei
        assert plane is not None, "a field has at least one plane"
        return plane

    @property
    def planes(self) -> list[PlaneSource]:
        """The field's planes (neurite first)."""
        return [p for p in (self.neurite, self.nuclei) if p is not None]

    @property
    def key(self) -> str:
        """Identifier ``plate/well/s<field>[/t<timepoint>]``."""
        t = "" if self.timepoint == "NA" else f"/t{self.timepoint}"
        return f"{self.plate}/{self.well}/s{self.field}{t}"


def _channel_key(channel: str | int, *, label: bool = False) -> str:
    """A channel as the index keys it: a name, or a 1-based channel number.

    ``label``: a number is a file label of names that count channels from 0
    (``01`` is the second channel, keyed ``2``).
    """
    text = str(channel).strip().lower()
    if not text.isdigit():
        return text
    return str(int(text) + (1 if label else 0))


def field_sources(index: PlateIndex, *, neurite_channel: str | int | None,
                  nuclei_channel: str | int | None) -> list[FieldSource]:
    """Group an index into fields with their neurite and nuclear planes.

    When a field has a single file, it is read as a multi-channel stack and
    the channel numbers (1-based) select planes inside it. One of the two
    channels may be None (single-channel neurite images, nuclei-only fields).

    Raises
    ------
    InputError
        A requested channel exists in no file of the plate.

    """
    # with labels from 0, a '0' among the channels given says they are all labels ('0', '1')
    # with labels from 0, a number written as the names write it ('00', '01') is a label,
    # and so is every number given beside a '0'; other numbers are 1-based
    given = [None if c is None else str(c).strip() for c in (neurite_channel, nuclei_channel)]
    beside_zero = "0" in given
    neu, nuc = (None if c is None else
                _channel_key(c, label=index.channels_from_zero
                             and (beside_zero or (c.startswith("0") and c.isdigit())))
                for c in given)
    if neu is None and nuc is None:
        raise InputError("neither a neurite nor a nuclear channel: name at least one",
                         where="--neurite-channel / --nuclei-channel")
    found = set(index.files["channel"])
    out = []
    for (plate, well, fld, tp), grp in index.files.groupby(
            ["plate", "well", "field", "timepoint"], sort=True):
        by_channel = dict(zip(grp["channel"], grp["path"], strict=True))
        group = grp["group"].iloc[0]
        if len(by_channel) == 1 and not {neu, nuc} - {None} <= found:   # one multi-plane file
            path = next(iter(by_channel.values()))
            out.append(FieldSource(plate, well, int(fld), tp,
                                   None if neu is None else
                                   PlaneSource(path, _plane(neu, "--neurite-channel", path), neu),
                                   None if nuc is None else
                                   PlaneSource(path, _plane(nuc, "--nuclei-channel", path), nuc),
                                   group))
            _check_channel_names(path, neu=neu, nuc=nuc)
            continue
        missing = [c for c in (neu, nuc) if c is not None and c not in found]
        if missing:
            raise InputError(f"channel {missing[0]!r} not found; channels in the plate: "
                             f"{quoted(found)}", path=index.folder)
        if neu is not None and neu not in by_channel or neu is None and nuc not in by_channel:
            role = "neurite" if neu is not None else "nuclear"
            raise FormatError(f"field {well} s{fld} has no {role} channel {neu or nuc!r} file "
                              f"(found: {quoted(p.name for p in by_channel.values())})",
                              path=index.folder)
        named = bool(grp["channel_named"].any())   # else each file is "channel 1"
        nuc_src = PlaneSource(by_channel[nuc], stack_plane=None if named else _number(nuc)) \
            if nuc in by_channel else None
        neu_src = None if neu is None else \
            PlaneSource(by_channel[neu], stack_plane=None if named else _number(neu))
        out.append(FieldSource(plate, well, int(fld), tp, neu_src, nuc_src, group))
    return out


def _check_channel_names(path: Path, *, neu: str | None, nuc: str | None) -> None:
    """InputError when the channel numbers given contradict the file's channel names.

    An OME-TIFF that names its channels (``'GFP'``, ``'DAPI'``) read with
    ``--nuclei-channel 1 --neurite-channel 2`` measured the neurite marker as
    nuclei and the nuclei as neurites (-99 % length, only a "swapped?"
    warning). A nuclear stain's name on the neurite number, or a neurite
    marker's name on the nuclear number, is refused
    (:func:`neurotox.io.channels.stain_role`); names that say nothing
    (``'FITC'``, ``'Cy5'``) are not.
    """
    from neurotox.io.channels import stain_role

    given = {r: c for r, c in (("neurite", neu), ("nuclear", nuc))
             if c is not None and c.isdigit() and int(c) >= 1}
    names = ome_channel_names(path) if given else []
    if not names:
        return
    said = {r: names[int(c) - 1] for r, c in given.items() if int(c) <= len(names)}
    if all(stain_role(n) in (None, r) for r, n in said.items()):
        return
    fix = _channels_by_name(names, given)
    option = {"nuclear": "--nuclei-channel", "neurite": "--neurite-channel"}
    kind = {"nuclear": "a nuclear stain", "neurite": "a neurite marker", None: "no stain name"}
    read = ", ".join(f"{option[r]} {given[r]} is {n!r} ({kind[stain_role(n)]})"
                     for r, n in sorted(said.items(), reverse=True))
    raise InputError(f"the file names its channels {', '.join(map(repr, names))}, which "
                     f"contradict the channel numbers given: {read}; give the channels by "
                     "name, e.g. " + " ".join(f"{option[r]} {_shell_word(c)}" for r, c in
                                             sorted(fix.items(), reverse=True)),
                     path=path)


def _channels_by_name(names: list[str], given: dict[str, str]) -> dict[str, str]:
    """The channel name to give for each role, for messages.

    The one stain that names the role, else the one unnamed channel left over
    (``'FITC'`` beside ``'H2B-GFP'``), else the number given.
    """
    from neurotox.io.channels import stain_role

    roles = [stain_role(n) for n in names]
    fix = {r: names[roles.index(r)] for r in given if roles.count(r) == 1}
    left = [n for n, r in zip(names, roles, strict=True) if r is None and n not in fix.values()]
    return {r: fix.get(r) or (left[0] if len(left) == 1 else given[r]) for r in given}


def _shell_word(text: str) -> str:
    """``text`` as typed on a command line: quoted when it holds a space."""
    return f'"{text}"' if " " in text else text


def _number(channel: str) -> int | None:
    """The plane index of a channel number (``"1"`` → 0), None for a name."""
    return int(channel) - 1 if channel.isdigit() and int(channel) >= 1 else None


def _plane(channel: str, option: str, path: Path | None = None) -> int:
    from neurotox.io.channels import COLOURS, colour_index

    colour = colour_index(channel)
    if colour is not None:
        return colour
    if channel.isdigit() and int(channel) >= 1:
        return int(channel) - 1
    names = [] if path is None else ome_channel_names(path)
    lowered = [n.lower() for n in names]
    if channel.strip().lower() in lowered:
        return lowered.index(channel.strip().lower())
    if names:
        raise InputError(f"channel {channel!r}{did_you_mean(channel, names)} is not a channel "
                         f"of {path.name} (its channels: {', '.join(map(repr, names))}; or a "
                         "plane number 1, 2, ...)", where=option)
    hint = did_you_mean(channel.strip().lower(), COLOURS)
    raise InputError(f"channel {channel!r}{hint} must be a plane number (1, 2, ...) or a "
                     "colour (red, green, blue) for multi-channel and RGB images",
                     where=option)


def ome_channel_names(path: Path) -> list[str]:
    """Names of the channels of an OME-TIFF's first image, in plane order ([] if none)."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return []
    return list(_ome_channel_names(str(path), path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=64)
def _ome_channel_names(path: str, mtime_ns: int) -> tuple[str, ...]:
    """:func:`ome_channel_names`, parsed once per file (both channels of a field ask)."""
    import xml.etree.ElementTree as ET

    try:
        with tifffile.TiffFile(path) as tif:
            xml = tif.ome_metadata
        if not xml:
            return ()
        root = ET.fromstring(xml)
    except Exception:   # noqa: BLE001 - no readable names: planes by number only
        return ()
    image = next((e for e in root if e.tag.endswith("}Image")), None)
    pixels = None if image is None else next((e for e in image if e.tag.endswith("}Pixels")),
                                             None)
    if pixels is None:
        return ()
    return tuple(c.get("Name") or "" for c in pixels if c.tag.endswith("}Channel"))


def read_plane(source: PlaneSource | str | Path) -> np.ndarray:
    """Read one 2-D plane (row, column) from a TIFF, OME-TIFF, PNG or JPEG file.

    RGB(A) images give the colour plane ``source.plane`` (red 0, green 1,
    blue 2), with burned-in white annotations (scale bar, text) filled from the
    pixels around them (:func:`neurotox.io.channels.annotation_mask`,
    :func:`neurotox.io.channels.remove_annotations`); without a
    plane, a colour image gives its brightest colour plane at each pixel (a
    pseudo-coloured channel: its own values), and differing 16-bit or float
    "colours" that are no colour table (a channel stack saved as RGB) are
    refused like any stack without a channel number.
    Stacks (channel, row, column) or (row, column, channel) need
    ``source.plane``.
    Non-finite pixels of float images are masked (:func:`read_plane_masked`).

    Raises
    ------
    FormatError
        The file cannot be read, or the plane does not exist.

    """
    return read_plane_masked(source)[0]


def read_plane_masked(source: PlaneSource | str | Path) -> tuple[np.ndarray, int]:
    """:func:`read_plane` and the number of pixels masked.

    NaN and infinite pixels of a float image carry no intensity: they are set to
    the plane's lowest finite value (background, so they never form objects) and
    counted, for the caller to record.

    Raises
    ------
    FormatError
        As :func:`read_plane`; also when no pixel of the plane is finite.

    """
    plane, n_bad, _ = read_plane_checked(source)
    return plane, n_bad


def read_plane_checked(source: PlaneSource | str | Path) -> tuple[np.ndarray, int, int]:
    """:func:`read_plane_masked` and the number of burned-in annotation pixels filled.

    A grey plane (a channel file, or one plane of a stack) holding a burned-in
    scale bar and its label (:func:`neurotox.io.channels.grey_annotation_mask`)
    has them filled from the pixels around them, as in an RGB merge
    (:func:`neurotox.io.channels.remove_annotations`), and counted, for the
    caller to flag: left in, the bar was cut into a row of ~31 "nuclei".
    """
    src = source if isinstance(source, PlaneSource) else PlaneSource(Path(source))
    plane = _read_plane(src)
    erased = 0
    if plane.dtype.kind in "ui":
        from neurotox.io.channels import grey_annotation_mask, remove_annotations

        mask = grey_annotation_mask(plane)
        erased = int(mask.sum())
        plane = remove_annotations(plane, mask) if erased else plane
    if plane.dtype.kind != "f":
        return plane, 0, erased
    bad = ~np.isfinite(plane)
    n_bad = int(bad.sum())
    if n_bad == plane.size:
        raise FormatError("no pixel of the image is a finite number (all NaN or infinite)",
                          path=src.path)
    if n_bad:
        plane = np.where(bad, plane[~bad].min(), plane).astype(plane.dtype)
    return _moderate_scale(plane), n_bad, 0


#: Float planes whose largest magnitude lies outside this range are rescaled (by a power of
#: two: exact) into it; squares and sums of values near the float32 limits overflow.
FLOAT_RANGE = (2.0 ** -40, 2.0 ** 40)


def _moderate_scale(plane: np.ndarray) -> np.ndarray:
    """The float plane scaled by a power of two into :data:`FLOAT_RANGE` when outside it.

    The analysis depends on intensity ratios only, so this changes no result; it
    keeps values such as 1e30 (or 1e-30) from overflowing (or underflowing) in
    float32 arithmetic, which would silently give a field without neurites.
    """
    finite = np.isfinite(plane)
    top = float(np.abs(plane[finite]).max()) if finite.any() else 0.0
    if top == 0 or FLOAT_RANGE[0] <= top <= FLOAT_RANGE[1]:
        return plane
    return np.ldexp(plane, -int(np.ceil(np.log2(top)))).astype(plane.dtype)


def _read_plane(src: PlaneSource) -> np.ndarray:
    check_input(src.path)   # a regular file within the size limit
    try:
        data = _read_array(src.path)
    except InputError:
        raise
    except Exception as exc:  # tifffile and PIL raise many types on damaged files
        # (IndexError, struct.error, RuntimeError 'incompatible keyframe' ...): one line
        raise FormatError(f"cannot read image: {' '.join(str(exc).split()) or type(exc).__name__}",
                          path=src.path) from None
    _check_pixels(data, src.path)
    data = np.squeeze(_analysed_pixels(data))
    if data.ndim == 2:
        if src.plane not in (None, 0):
            raise FormatError(f"channel {src.plane + 1} requested, but the file holds a "
                              "single plane (single-channel images: --neurite-channel 1 "
                              "--nuclei-channel none)",
                              path=src.path)
        return data
    if data.ndim != 3:
        raise FormatError(f"expected a 2-D image or a channel stack, found shape {data.shape}",
                          path=src.path)
    axis = 2 if data.shape[2] <= 4 and data.shape[0] > 4 else 0
    if src.plane is None:
        if axis == 2 and data.shape[2] >= 3 and (data.dtype == np.uint8
                                                 or _colour_table(data)):
            return _rgb_to_grey(data)
        if src.stack_plane is None:
            raise FormatError(f"file holds {data.shape[axis]} channel planes; give the channel "
                              "number (--neurite-channel / --nuclei-channel 1, 2, ...)",
                              path=src.path)
        src = PlaneSource(src.path, src.stack_plane, src.channel)
    if not 0 <= src.plane < data.shape[axis]:
        raise FormatError(f"{_requested(src)} requested, file holds {data.shape[axis]} "
                          f"{'colour' if axis == 2 else 'channel'} planes", path=src.path)
    plane = np.take(data, src.plane, axis=axis)
    if axis == 2 and data.shape[2] >= 3:
        from neurotox.io.channels import annotation_mask, remove_annotations

        plane = remove_annotations(plane, annotation_mask(data))
    return plane


def _requested(src: PlaneSource) -> str:
    from neurotox.io.channels import COLOUR_NAMES, colour_index

    if src.channel is not None and colour_index(src.channel) is not None:
        return f"colour {COLOUR_NAMES[src.plane]!r}"
    return f"channel {src.plane + 1}"


def _layout(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape (squeezed) and pixel type of an image file, decoded once while it is unchanged."""
    st = path.stat()
    return _layout_of(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _layout_of(path: Path, size: int, mtime_ns: int) -> tuple[tuple[int, ...], np.dtype]:
    data = np.squeeze(_read_array(path))
    return data.shape, data.dtype


def is_colour_plane(source: PlaneSource) -> bool:
    """True when the plane is a colour (red, green, blue, alpha) of an RGB(A) file."""
    if source.plane is None:
        return False
    shape, _ = _layout(source.path)
    return len(shape) == 3 and shape[2] in (3, 4)


def is_colour_merge(source: PlaneSource) -> bool:
    """True when the plane comes from an 8-bit RGB(A) file (a display-scaled colour merge)."""
    if source.plane is None:
        return False
    shape, dtype = _layout(source.path)
    return len(shape) == 3 and shape[2] in (3, 4) and dtype == np.uint8


#: Pixel types the imaging operations accept (scikit-image conventions); other integer and
#: float types are read as 32-bit floats (:func:`_analysed_pixels`).
PIXEL_DTYPES = ("uint8", "uint16", "float32")


def _check_pixels(data: np.ndarray, path: Path) -> None:
    """FormatError for empty images and pixels that are no intensities (1-bit, complex)."""
    if data.size == 0 or min(data.shape, default=0) == 0:
        raise FormatError(f"image has no pixels (shape {data.shape})", path=path)
    if data.dtype.kind not in "uif":
        found = "1-bit (black and white: a mask?)" if data.dtype == bool else data.dtype.name
        raise FormatError(f"expected integer or floating-point intensities, found {found}",
                          path=path)


def _analysed_pixels(data: np.ndarray) -> np.ndarray:
    """Pixels outside :data:`PIXEL_DTYPES` as 32-bit floats holding the same values.

    Signed integers (int8/16/32/64) keep their values, negative ones included;
    float16 and integers up to 2**24 convert exactly; larger integers and float64
    keep 24 significant bits (a relative rounding of 6e-8, far below any image's
    noise). float64 values beyond float32's range are first scaled by a power of
    two (exact; the analysis depends on intensity ratios only).
    """
    if data.dtype.name in PIXEL_DTYPES:
        return data
    if data.dtype.kind == "f" and data.dtype.itemsize > 4:
        data = _moderate_scale(data)
    return data.astype(np.float32)


def _colour_table(data: np.ndarray) -> bool:
    """Whether each colour plane of a (row, column, colour) array is blank or the brightest.

    One channel shown through a colour table and saved as "RGB Color": red
    ``(v, 0, 0)``, green, magenta ``(v, 0, v)``, or grey ``(v, v, v)``.
    """
    rgb = data[..., :3]
    top = rgb.max(axis=2)
    return all(not rgb[..., i].any() or np.array_equal(rgb[..., i], top) for i in range(3))


def _rgb_to_grey(data: np.ndarray) -> np.ndarray:
    """A colour image read whole as grey: the brightest colour plane at each pixel.

    A pseudo-coloured channel (:func:`_colour_table`) gives its channel's own
    values, as the grey file of the same pixels does (the mean of ``(v, 0, 0)``
    read a third of the signal over the same noise floor: +41..+47 % neurite
    length against the grey files). Only 8-bit colour images that are no
    colour table (display merges) are read so too, mixing their channels (the
    run notes warn, :func:`colours_mixed`): 16-bit or float "RGB" samples that
    differ are a channel stack saved as RGB (numpy ``(3, rows, columns)``
    written without ``photometric='minisblack'``), which :func:`_read_plane`
    refuses to mix.
    """
    return data[..., :3].max(axis=2)


def colours_mixed(source: PlaneSource) -> bool:
    """Whether the plane is read from an 8-bit colour image that mixes several channels.

    True for a file read whole (no colour or channel named) that is an RGB(A)
    image whose colour planes are no colour table (:func:`_colour_table`): a
    merge of several channels, read as the brightest of them (the run notes
    say so).
    """
    if source.plane is not None:
        return False
    data = np.squeeze(_read_array(source.path))
    return data.ndim == 3 and data.shape[2] in (3, 4) and data.shape[0] > 4 \
        and data.dtype == np.uint8 and not _colour_table(data)


def _read_array(path: Path) -> np.ndarray:
    """The pixels as intensities, once the size they unpack to is known to be within the limit.

    Stored values that are not intensities are converted: palette indices
    through the palette (unless the palette is a display LUT whose brightness
    rises with the index, :func:`display_lut`: then the indices are the data),
    inverted grey (TIFF min-is-white) back to min-is-black,
    CMYK/YCbCr/LAB/HSV colours to RGB; an alpha plane beside a grey plane is dropped.
    """
    data, palette = _read_stored(path)
    return data if palette is None else _tiff_palette(palette, data, path)


def _read_stored(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The pixels as :func:`_read_array` gives them, palette indices left as stored.

    Returns the pixels and, for a palette image, its palette (colours by
    plane, 3 x n): the pixels are then its indices. The file is decoded once,
    within the unpacked-size limit.
    """
    if path.suffix.lower() in (".tif", ".tiff"):
        with tifffile.TiffFile(path) as tif:
            images = _image_series(tif, path)
            if not images:   # a damaged file may have none: asarray says what it finds
                data = tif.asarray()
                return _tiff_stored(tif.pages.first, data, path) if len(tif.pages) \
                    else (data, None)
            series = images[0]
            check_unpacked(int(np.prod(series.shape, dtype=np.int64))
                           * series.dtype.itemsize, path, what="the image")
            _check_not_a_volume(series.axes, series.shape, path)
            dims = dict(zip(series.axes, series.shape, strict=False))
            _check_field_pixels(dims.get("Y", 1), dims.get("X", 1), path)
            return _tiff_stored(series.keyframe, _tiff_pixels(images, path), path)
    import warnings

    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None   # neurotox's limit applies
    try:
        with Image.open(path) as im:
            width, height = im.size
            depth = 4 if im.mode.startswith(("I", "F")) else 1
            check_unpacked(width * height * max(len(im.getbands()), 3) * depth, path,
                           what="the image")
            _check_field_pixels(height, width, path)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                palette = np.asarray(im.getpalette("RGB") or [], np.uint8).reshape(-1, 3) \
                    if im.mode in ("P", "PA") else None
                if palette is not None and len(palette):    # grey, LUT indices or RGB
                    return np.asarray(im.getchannel(0) if im.mode == "PA" else im), palette.T
                mode = _PIL_CONVERT.get(im.mode)
                return np.asarray(im.convert(mode) if mode else im), None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _image_series(tif: tifffile.TiffFile, path: Path) -> list[tifffile.TiffPageSeries]:
    """The file's full-resolution image series.

    A page flagged as a reduced-resolution image (TIFF NewSubfileType bit 0: a
    preview or thumbnail some acquisition software writes after the image) is
    no channel: left out. So are the images of a multi-file OME dataset that
    the metadata places in other files (each position's file of a
    Micro-Manager acquisition describes them all): each file gives its own
    pixels. Several OME images in one file are several fields
    (positions of a multi-position acquisition): refused, since a field is one
    file and reading only the first would drop the others silently.

    Raises
    ------
    FormatError
        The file holds more than one OME image.

    """
    own = [s for s in tif.series if s.keyframe is not None and s.keyframe.parent is tif]
    if tif.series and not own:
        raise FormatError("the file's OME metadata places all its images in other files; "
                          "give the files that hold the pixels", path=path)
    series = [s for s in own if not s.keyframe.is_reduced] or own
    if tif.is_ome and len(series) > 1:
        raise FormatError(f"the file holds {len(series)} OME images (series), e.g. the "
                          "positions of a multi-position acquisition; neurotox reads one field "
                          "per file: save each series as its own file (Fiji: File > Save As "
                          "for each series; bfconvert -series N)", path=path)
    return series


def _tiff_pixels(images: list[tifffile.TiffPageSeries], path: Path) -> np.ndarray:
    """The first image series, or the channel stack of a file of single 2-D pages.

    Files saved page by page (one channel per page, each its own series) give
    their pages stacked as channels; pages of different sizes are no channels
    of one field.
    """
    shapes = [tuple(s.shape) for s in images]
    if len(shapes) < 2 or any(len(sh) != 2 for sh in shapes):
        return images[0].asarray()
    if len(set(shapes)) > 1:
        raise FormatError(f"the file holds {len(shapes)} images of different sizes ("
                          + ", ".join(f"{h} x {w}" for h, w in shapes[:4])
                          + ("..." if len(shapes) > 4 else "")
                          + "); the channels of one field must have one size", path=path)
    check_unpacked(sum(int(np.prod(s.shape)) * s.dtype.itemsize for s in images), path,
                   what="the image")
    return np.stack([s.asarray() for s in images])


#: Bytes per pixel of a field plane in the analysis (64-bit floats; its working memory is
#: several times this): the unpacked-size limit bounds a field's pixels with it.
ANALYSIS_BYTES_PER_PIXEL = 8


def _check_field_pixels(height: int, width: int, path: Path) -> None:
    """InputError when one plane is too large to analyse within the unpacked-size limit.

    A 20000 x 20000 8-bit image is a 400 MB file, but its analysis needs tens of
    gigabytes; it is refused at once rather than exhausting the machine's memory.
    """
    check_unpacked(int(height) * int(width) * ANALYSIS_BYTES_PER_PIXEL, path,
                   what=f"the {height} x {width} pixel field (analysed at "
                        f"{ANALYSIS_BYTES_PER_PIXEL} bytes per pixel)")


#: PIL image modes whose stored values are not grey or red/green/blue intensities → the mode
#: they are read as (palette indices, print or video colour spaces, alpha beside grey).
_PIL_CONVERT = {"P": "RGB", "PA": "RGB", "LA": "L", "La": "L", "CMYK": "RGB", "YCbCr": "RGB",
                "LAB": "RGB", "HSV": "RGB", "RGBa": "RGBA", "RGBX": "RGB"}


def display_lut(colours: np.ndarray) -> bool:
    """Whether palette colours (rows RGB, in index order) form a display look-up table.

    ImageJ saves an 8-bit image shown with a colour LUT ("Fire", "Green") as a
    palette image: the indices are the data and the LUT only colours them.
    Colours whose brightness (luma) rises with the index, within 5 % of its
    range, are such a LUT; the intensities are then the indices.
    """
    luma = np.asarray(colours, np.float64)[:, :3] @ np.array([0.299, 0.587, 0.114])
    span = luma.max(initial=0) - luma.min(initial=0)
    return len(luma) > 1 and span > 0 and bool((np.diff(luma) >= -0.05 * span).all()) \
        and luma[-1] > luma[0]


def _tiff_palette(cmap: np.ndarray, data: np.ndarray, path: Path) -> np.ndarray:
    """Palette indices as intensities: one grey plane, the indices of a LUT, or RGB.

    ``cmap`` holds the colours by plane (3 x n), as TIFF colour maps do; PIL
    palette images (PNG) are read through it too.
    """
    return _through_palette(cmap, data, _palette_kind(cmap, data, path))


def _through_palette(cmap: np.ndarray, data: np.ndarray, kind: str) -> np.ndarray:
    """Palette indices as intensities, for a palette of ``kind`` (:func:`_palette_kind`)."""
    if kind == "grey":                      # a grey palette: one plane
        return cmap[0][data]
    if kind == "lut":                       # an ImageJ LUT ("Fire"): indices are data
        return data
    return np.moveaxis(cmap[:, data], 0, -1)


def _palette_kind(cmap: np.ndarray, data: np.ndarray, path: Path) -> str:
    """What the palette colours the image uses are: ``"grey"``, ``"lut"`` or ``"colour"``.

    ``"lut"``: a display look-up table (:func:`display_lut`).

    Raises
    ------
    FormatError
        An index past the end of the palette.

    """
    if data.max(initial=0) >= cmap.shape[-1]:
        raise FormatError(f"palette image uses colour {int(data.max())} of a palette of "
                          f"{cmap.shape[-1]}", path=path)
    used = cmap[:, np.unique(data)]
    if (used == used[:1]).all():
        return "grey"
    return "lut" if display_lut(used.T) else "colour"


#: How a channel file read whole was turned into intensities, by what it stores.
_READ_AS = {
    "grey": "a palette image of greys: read as the palette's grey values",
    "lut": "a palette image whose colours are a display look-up table (as ImageJ saves an "
           "image shown in 'Fire' or 'Green'): read as its palette indices, the data",
    "colour": "a palette image of colours: read as the red, green and blue of its palette",
    "table": "a pseudo-coloured channel (one channel saved through a colour table as colour): "
             "read as its brightest colour plane at each pixel, the channel's own values",
}


def colour_reading(source: PlaneSource) -> str | None:
    """How a channel file read whole was turned into one grey plane; None for a grey image.

    Said for palette images (:func:`_read_array`: through a grey palette, as
    the indices of a display LUT, or as the palette's colours) and for colour
    images that are one channel's colour table (:func:`_colour_table`, read
    by :func:`_rgb_to_grey`); grey stored as equal red, green and blue is no
    conversion. A merge of several channels is warned about elsewhere
    (:func:`colours_mixed`).
    """
    if source.plane is not None:
        return None
    data, palette = _read_stored(source.path)
    if palette is None:
        return _READ_AS["table"] if _pseudo_coloured(np.squeeze(data)) else None
    kind = _palette_kind(palette, data, source.path)
    if kind != "colour" or not _pseudo_coloured(np.squeeze(_through_palette(palette, data,
                                                                            kind))):
        return _READ_AS[kind]
    return f"{_READ_AS[kind]}; {_READ_AS['table']}"


def _pseudo_coloured(data: np.ndarray) -> bool:
    """Whether a colour image read whole is one channel's colour table, not grey as colour."""
    return data.ndim == 3 and data.shape[2] in (3, 4) and data.shape[0] > 4 and \
        _colour_table(data) and not (data[..., :3] == data[..., :1]).all()


def _tiff_stored(page: tifffile.TiffPage, data: np.ndarray,
                 path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """TIFF samples as :func:`_read_stored` gives them: palette indices and the palette."""
    if int(page.photometric) == 3 and page.colormap is not None and data.dtype.kind == "u":
        return data, np.asarray(page.colormap)
    return _tiff_intensities(page, data, path), None


def _tiff_intensities(page: tifffile.TiffPage, data: np.ndarray, path: Path) -> np.ndarray:
    """TIFF samples that are no palette indices as intensities (see :func:`_read_array`)."""
    photometric = int(page.photometric)
    if photometric == 5:
        raise FormatError("CMYK (print colour) TIFF: save the image as RGB or greyscale",
                          path=path)
    if photometric == 2 and int(page.planarconfig) == 2 and data.ndim == 3 and \
            data.shape[0] in (3, 4):
        data = np.moveaxis(data, 0, -1)             # RGB stored plane by plane: samples last
    if photometric in (0, 1) and page.samplesperpixel == 2 and \
            tuple(int(e) for e in page.extrasamples) in ((1,), (2,)) and \
            data.ndim >= 3 and data.shape[-1] == 2:
        data = data[..., 0]                         # grey + alpha: the grey plane
    if photometric == 0:                            # min-is-white: inverted grey
        if data.dtype == bool:
            return ~data
        if data.dtype.kind == "u":
            top = (1 << int(page.bitspersample)) - 1 if page.bitspersample < 64 else \
                np.iinfo(data.dtype).max
            return (np.asarray(top, data.dtype) - data).astype(data.dtype)
        if data.dtype.kind == "i":                  # signed: mirrored within its range
            wide = data.astype(np.int64)
            return (wide.max() + wide.min() - wide).astype(data.dtype)
        if data.dtype.kind == "f" and np.isfinite(data).any():
            finite = data[np.isfinite(data)]
            return (finite.max() + finite.min() - data).astype(data.dtype)
    return data


#: TIFF axes (tifffile's codes) a 2-D field cannot hold more than one plane along.
_VOLUME_AXES = {"Z": ("a z-stack", "save a maximum-intensity projection (ImageJ: Image > "
                      "Stacks > Z Project)"),
                "T": ("a time series", "save one file per time point")}


def _check_not_a_volume(axes: str, shape: tuple[int, ...], path: Path) -> None:
    """FormatError when the file's metadata says its planes are depths or times, not channels."""
    for axis, size in zip(axes.upper(), shape, strict=False):
        if axis in _VOLUME_AXES and size > 1:
            what, fix = _VOLUME_AXES[axis]
            raise FormatError(f"the file holds {what} of {size} planes (axes {axes}), not a 2-D "
                              f"field or channels; {fix}", path=path)


#: TIFF compression schemes that are lossy JPEG (tifffile's codes: old-style JPEG, JPEG,
#: Adobe's lossy JPEG).
JPEG_COMPRESSION = (6, 7, 34892)


#: Pages of a TIFF whose image data are checked to lie within the file (the rest: a stack).
CHECKED_PAGES = 256


@dataclass(frozen=True)
class FileHeader:
    """What an image file's header says (:func:`read_header`).

    Attributes
    ----------
    problem
        Why the file cannot be read whole; None when it looks whole.
    shape
        Its (rows, columns); None with a problem.
    lossy
        Whether it is lossy JPEG: a ``.jpg``/``.jpeg`` file or a JPEG-compressed
        TIFF (False for a TIFF whose header does not parse).

    """

    problem: str | None
    shape: tuple[int, int] | None
    lossy: bool = False


def read_header(path: Path) -> FileHeader:
    """Why an image file cannot be read whole, its (rows, columns) and its compression.

    From its header alone: a cheap look before a plate is analysed, so that a
    file truncated by a copy or a full disk is named at once, not when its
    field's turn comes (after most of the run): a TIFF whose image data end
    past the end of the file (or whose header does not parse), a PNG without
    its end chunk, a JPEG without its end marker. No problem and the shape
    when the file looks whole.
    """
    kind = path.suffix.lower().lstrip(".")
    kind = {"tiff": "tif", "jpeg": "jpg"}.get(kind, kind)
    name = {"tif": "TIFF", "png": "PNG", "jpg": "JPEG"}.get(kind, kind.upper())
    lossy = kind == "jpg"
    try:
        size = path.stat().st_size
        if size == 0:
            return FileHeader(f"truncated or corrupt {name}: the file is empty (0 bytes)", None,
                              lossy)
        if kind == "tif":
            return _tiff_header(path, size)
        with open(path, "rb") as fh:
            fh.seek(max(size - 1024, 0))
            tail = fh.read()
        end = {"png": b"IEND", "jpg": b"\xff\xd9"}.get(kind)
        if end is not None and end not in tail:
            return FileHeader(f"truncated or corrupt {name}: the file ends before its end "
                              f"{'chunk (IEND)' if kind == 'png' else 'marker'} ({size} "
                              "bytes)", None, lossy)
        from PIL import Image

        with Image.open(path) as im:
            return FileHeader(None, (im.size[1], im.size[0]), lossy)
    except InputError:      # a field too large to analyse, an OME file of several fields
        raise
    except Exception as exc:  # noqa: BLE001 - tifffile and PIL raise many types: one line
        return FileHeader(f"truncated or corrupt {name}: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}", None, lossy)


def _tiff_header(path: Path, size: int) -> FileHeader:
    with tifffile.TiffFile(path) as tif:
        if not len(tif.pages):      # the image header is written after the pixels: cut off
            return FileHeader(f"truncated or corrupt TIFF: no image header within the file "
                              f"({size} bytes)", None)
        lossy = int(tif.pages.first.compression) in JPEG_COMPRESSION
        series = _image_series(tif, path)
        if not series:
            return FileHeader("truncated or corrupt TIFF: no image in the file", None, lossy)
        dims = dict(zip(series[0].axes, series[0].shape, strict=False))
        shape = (int(dims.get("Y", 1)), int(dims.get("X", 1)))
        if min(series[0].shape, default=0) == 0:
            return FileHeader(f"image has no pixels (shape {shape})", None, lossy)
        _check_field_pixels(*shape, path)      # too large to analyse: said before the rest
        for page in tif.pages[:CHECKED_PAGES]:
            ends = [o + c for o, c in zip(getattr(page, "dataoffsets", ()),
                                          getattr(page, "databytecounts", ()), strict=False)
                    if c]
            if ends and max(ends) > size:
                return FileHeader(f"truncated or corrupt TIFF: its image data end at byte "
                                  f"{max(ends)}, past the end of the file ({size} bytes)",
                                  None, lossy)
        return FileHeader(None, shape, lossy)
