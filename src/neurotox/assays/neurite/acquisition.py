"""Acquisition that differs between groups: file formats and grey depth confounded with treatment.

A group whose fields were saved differently from the control's (the
controls as PNG, a treated group as JPEG; half the controls as a 16-level
export, a treated group at full depth) can differ from the control because of
the files alone: JPEG artefacts are traced as faint neurite, and faint neurites
are lost in a coarse export. Such a confound is a warning naming the groups;
it cannot be corrected, only seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.errors import quoted

_SAME = {".tiff": ".tif", ".jpeg": ".jpg"}
#: A treated group whose share of fields of one kind differs from the control's by at least
#: this much (0.5: half the fields) is said to differ in acquisition.
CONFOUND_SHARE = 0.5
#: Groups named in the warning before "and N more".
SHOWN_GROUPS = 6
#: Grey levels an 8-bit file can hold: a field using more was saved at a greater bit depth.
EIGHT_BIT_LEVELS = 256


def _format(name: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else "(no suffix)"
    return _SAME.get(suffix, suffix).lstrip(".").upper()


def acquisition_notes(fields: pd.DataFrame, groups: Mapping[str, Any],
                      params: NeuriteParameters) -> list[str]:
    """A warning per kind (file format, grey depth, bit depth) in which groups' fields differ.

    Said when a treated group's share of fields of some kind differs from the
    control group's by at least :data:`CONFOUND_SHARE`. Grey depth is compared
    over fields with cells only (:func:`without_cells`): a well the dose killed
    is background, whose few grey levels are the treatment's doing, not the file's.
    Bit depth: whether a field uses more grey levels than an 8-bit file holds
    (:data:`EIGHT_BIT_LEVELS`); 8-bit or JPEG-decoded treated fields beside
    16-bit controls read +40..+45 % neurite length (a grey JPEG q95 re-saved
    as TIFF), whatever their extension.

    Parameters
    ----------
    fields
        The field table (``well``, ``neurite_file`` or ``nuclei_file``,
        ``grey_levels``).
    groups
        Well → group info (``group``, ``control``), the layout as read.
    params
        Effective parameters (``min_grey_levels``).

    """
    known = fields[fields["well"].map(lambda w: groups.get(w) is not None)]
    if known.empty:
        return []
    files = known["neurite_file"].where(known["neurite_file"] != "", known["nuclei_file"])
    coarse = known["grey_levels"] < params.min_grey_levels
    kinds = pd.DataFrame({
        "group": [groups[w].group for w in known["well"]],
        "control": [bool(groups[w].control) for w in known["well"]],
        "file format": files.astype(str).map(_format),
        "grey depth": coarse.map({True: f"fewer than {params.min_grey_levels} grey levels",
                                  False: f"at least {params.min_grey_levels} grey levels"}),
        "bit depth": (known["grey_levels"] > EIGHT_BIT_LEVELS).map(
            {True: f"more than {EIGHT_BIT_LEVELS} grey levels (deeper than 8-bit)",
             False: f"at most {EIGHT_BIT_LEVELS} grey levels (8-bit)"})})
    notes = []
    empty = without_cells(known)
    for what in ("file format", "grey depth", "bit depth"):
        # a dead well's background has few grey levels: the treatment, not the file
        kept = kinds[~empty.to_numpy()] if what != "file format" else kinds
        note = _differ(kept, what)
        if note and what != "file format" and empty.any():
            note += (f" ({int(empty.sum())} field(s) without cells left out of this "
                     "comparison: their grey levels are the background's)")
        notes += [note] if note else []
    return notes


def without_cells(fields: pd.DataFrame) -> pd.Series:
    """Per field: counted as empty (excluded, still ``counted``) or holding no cells at all."""
    empty = pd.Series(False, index=fields.index)
    if {"excluded", "counted"} <= set(fields.columns):
        empty |= fields["excluded"].astype(bool) & fields["counted"].astype(bool)
    cells = [c for c in ("nuclei_count", "cells_analysed", "non_neuronal_cells") if c in fields]
    if cells:
        empty |= fields[cells].fillna(0.0).sum(axis=1).eq(0)
    return empty


def _differ(kinds: pd.DataFrame, what: str) -> str | None:
    """The warning when a treated group's share of a kind of ``what`` is off the control's."""
    share = pd.crosstab(kinds["group"], kinds[what], normalize="index")
    ctrl = sorted(set(kinds.loc[kinds["control"], "group"]))
    if len(share.columns) < 2 or not ctrl:
        return None
    apart = (share.drop(index=ctrl) - share.loc[ctrl].mean()).abs().max(axis=1)
    if not (apart >= CONFOUND_SHARE).any():
        return None
    counts = pd.crosstab(kinds["group"], kinds[what])
    order = ctrl + [g for g in counts.index if g not in ctrl]
    said = [f"{g!r}: " + ", ".join(f"{n} {v}" for v, n in counts.loc[g].items() if n)
            for g in order[:SHOWN_GROUPS]]
    more = f"; and {len(order) - SHOWN_GROUPS} more group(s)" \
        if len(order) > SHOWN_GROUPS else ""
    return (f"warning: the groups' fields differ in {what} (fields per group, control "
            f"first: {'; '.join(said)}{more}): a difference from the control may "
            "come from the files, not the treatment")


def jpeg_note(lossy: list[Path], *, colour: bool) -> str | None:
    """The warning that the fields' files ``lossy`` are lossy JPEG, or None when there are none.

    JPEG files and JPEG-compressed TIFFs (:attr:`~neurotox.io.plates.FileHeader.lossy`),
    colour merges or grey channel files: the compression artefacts are traced
    as faint neurite where the background is flat, so neurite lengths read high.
    """
    if not lossy:
        return None
    what = "JPEG files" if all(p.suffix.lower() in (".jpg", ".jpeg") for p in lossy) \
        else "lossy JPEG (JPEG files or JPEG-compressed TIFFs)"
    named = quoted((p.name for p in lossy), limit=3)
    if colour:      # a colour JPEG mixes the planes' compression errors into each other
        return (f"warning: {len(lossy)} field(s) are colour JPEG merges ({named}): their "
                "compression artefacts can be traced as faint neurite where the background is "
                "flat, so neurite lengths may read high; analyse the original TIFF or PNG "
                "files if there are any")
    return (f"warning: {len(lossy)} field(s) are {what} ({named}): their lossy compression "
            "artefacts can be traced as faint neurite where the background is flat, so neurite "
            "lengths may read high (grey JPEGs at quality 95 read +40..+45 % neurite length "
            "against their 16-bit source); analyse the original images, exported as TIFF or "
            "PNG (lossless), if there are any")
