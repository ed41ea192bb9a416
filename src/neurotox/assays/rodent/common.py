"""What the rodent assays share: subject checks and info, one-sample tests, table concat.

Also the tracking losses of zone samples (NOR and T-maze apply the same rule).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from neurotox.assays.base import tracking_error
from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.files import file_labels
from neurotox.stats.one_sample import one_sample_table
from neurotox.study import Study, unit_batch

if TYPE_CHECKING:
    from neurotox.io.rodent import RodentData


def empty_table(columns: tuple[str, ...]) -> pd.DataFrame:
    """An empty frame with ``columns``."""
    return pd.DataFrame(columns=list(columns))


def concat(tables: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate the non-empty tables; an empty frame with ``columns`` if none."""
    tables = [t for t in tables if len(t)]
    return pd.concat(tables, ignore_index=True) if tables else empty_table(columns)


def check_subjects(table: pd.DataFrame, study: Study, files: list[Path], what: str) -> None:
    """Raise InputError naming the data file and row of the first subject not in the study.

    ``table`` has ``subject`` and ``source`` (``file:row N …``) columns.
    """
    known = set(study.subjects["subject"]) if len(study.subjects) else set()
    bad = ~table["subject"].astype(str).isin(known)
    if not bad.any():
        return
    first = table[bad.to_numpy()].iloc[0]
    name, _, where = str(first["source"]).partition(":")
    path = source_file(name, files) or study.path
    hint = (f" (the subject {first['subject']!r} was taken from the file name: name it with "
            f"the parameter file_subjects, e.g. --param \"file_subjects={{{name}: ID}}\")"
            if name and str(first["subject"]) == Path(name).stem else "")
    hint = hint or did_you_mean(str(first["subject"]), sorted(map(str, known)))
    raise InputError(f"subject(s) {quoted(table.loc[bad, 'subject'])} in the {what} data are "
                     f"not in the study's subjects file {study.spec.subjects!s}{hint}",
                     path=path, where=where.split(",")[0] or None)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def match_numeric_subjects(tables: list[pd.DataFrame], numeric: list[str], study: Study,
                           notes: list[str]) -> list[pd.DataFrame]:
    """Rename IDs typed as numbers in a workbook to the study's ID of the same value.

    ``10.1`` (a cell holding the number 10.10) becomes ``10.10`` when that is the
    one subject of the study with this value; each renaming is written to ``notes``.
    """
    known = [str(k) for k in study.subjects["subject"]] if len(study.subjects) else []
    mapping = {}
    for s in sorted(set(numeric) - set(known)):
        value = _number(s)
        hits = [k for k in known if value is not None and _number(k) == value]
        if len(hits) == 1:
            mapping[s] = hits[0]
    if mapping:
        notes.append("subject IDs stored as numbers matched to the study's subjects by value: "
                     + ", ".join(f"{a} -> {b}" for a, b in mapping.items()))
    return [t.assign(subject=t["subject"].replace(mapping)) if len(t) else t for t in tables]


def source_locator(animals: pd.DataFrame,
                   files: list[Path]) -> Callable[[int, str], tuple[Path | str, str]]:
    """``(i, column)`` → (file, location) of a scoring sheet's i-th animal, from its ``source``.

    ``source`` reads ``<file name>:<location>, column ...``; the location is its
    part before the column (``row 6``, ``sheet 'Treated' row 2``).
    """
    def locate(i: int, column: str) -> tuple[Path | str, str]:
        name, _, where = str(animals["source"].iloc[i]).partition(":")
        return source_file(name, files), where.split(",")[0]
    return locate


def source_file(name: str, files: Iterable[Path]) -> Path | str:
    """The input of ``files`` a ``source`` cell's file ``name`` stands for (``name`` if none).

    Messages name the input by its path, as the readers do, not by the bare file
    name (or the distinguishing path, :func:`label_sources`) a ``source`` cell holds.
    """
    files = list(files)
    return next((p for p in files if p.name == name), None) or next(
        (p for p in files if Path(os.path.abspath(p)).as_posix().endswith(f"/{name}")), name)


def label_sources(parts: list[tuple[Path, pd.DataFrame]], files: list[Path]
                  ) -> list[tuple[Path, pd.DataFrame]]:
    """``(file, table)`` pairs whose ``source`` names the file so that it is told apart.

    A ``source`` cell starts with the file name; when two inputs of the run have
    the same name (``a/nor_scores.xlsx``, ``b/nor_scores.xlsx``) it starts with
    the shortest path that tells them apart (:func:`neurotox.files.file_labels`).
    """
    labels = file_labels(files)
    out = []
    for path, table in parts:
        label = labels.get(Path(path), Path(path).name)
        if label != Path(path).name and "source" in table and len(table):
            src = table["source"].astype(str)
            table = table.assign(source=src.where(~src.str.startswith(Path(path).name),
                                                  label + src.str[len(Path(path).name):]))
        out.append((path, table))
    return out


def subject_info(study: Study, subject: str) -> dict[str, Any]:
    """Group, dose, sex and unit of a subject, as EndpointTable columns.

    ``batch`` is the subject's litter when the subjects file gives one, else its batch
    (as the battery assays write it), so ``statistics.litter_unit`` reaches pups.
    """
    info = study.subject_info(subject)
    group = study.groups[info["group"]]
    return {"group": group.id, "dose": group.dose, "dose_unit": group.dose_unit,
            "sex": info["sex"], "batch": unit_batch(info)}



def one_sample_results(table: pd.DataFrame, *, endpoint: str, reference: float | str,
                       normality_alpha: float) -> pd.DataFrame:
    """One-sample tests of ``endpoint`` per timepoint × group, sexes pooled and per sex."""
    data = table[(table["endpoint"] == endpoint) & ~table["excluded"]]
    if isinstance(reference, str):
        data = data.assign(reference=data[reference])
    pooled = data.assign(sex="all")
    both = pd.concat([pooled, data], ignore_index=True) if data["sex"].nunique() > 1 else pooled
    ref = "reference" if isinstance(reference, str) else reference
    out = one_sample_table(both, by=["endpoint", "timepoint", "group", "sex"], reference=ref,
                           normality_alpha=normality_alpha)
    return out


def tracking_loss(data: RodentData, point: str) -> tuple[float, str] | None:
    """(fraction, amount in words) of a zone-sample trial's samples the tracker lost.

    Lost: samples with ``-`` in the zone columns of ``point`` (subject or body point
    not found) and samples absent from the time column (a gap). None when the
    reader does not say or nothing was lost.
    """
    missing = data.meta.get("missing_samples")
    if missing is None:
        return None
    point = point.lower().replace("centre", "center")
    lost, gap = int(missing.get(point, 0)), int(data.meta.get("gap_samples", 0))
    expected = int(data.meta.get("n_samples", len(data.table))) + gap
    if not lost + gap or not expected:
        return None
    dt = float(data.meta.get("sample_interval_s", np.nan))
    parts = ([f"{lost} with the {point} point not found ('-')"] if lost else []) + \
        ([f"{gap} absent from the time column (gaps)"] if gap else [])
    return (lost + gap) / expected, (f"{lost + gap} of {expected} samples ({(lost + gap) * dt:.1f}"
                                     f" s) lost: {', '.join(parts)}")


def tracking_note(data: RodentData, point: str, limit: float, where: str
                  ) -> tuple[str, str] | None:
    """(run note, exclusion reason or '') for a zone-sample trial's tracking losses.

    A loss above ``limit`` (``max_missing_fraction``) is a warning and a reason
    :func:`~neurotox.assays.base.tracking_error`; ``where`` names the trial
    (``subject M1, test``). None when nothing was lost or the reader cannot tell.
    """
    loss = tracking_loss(data, point)
    if loss is None:
        return None
    frac, amount = loss
    over = frac > limit
    note = (f"{'warning: ' if over else ''}{data.name} ({where}): {amount}, counted as "
            "outside every zone" + (f"; above max_missing_fraction {limit:g}: excluded as a "
                                    "tracking error" if over else ""))
    return note, f"{tracking_error(frac)}: {amount}" if over else ""


def lost_tracking(per: pd.DataFrame, tracking: pd.DataFrame) -> pd.DataFrame:
    """``per`` (subject × condition) with the tracking-error reasons of ``tracking``.

    The reason replaces the others: what was counted on a lost track is not the
    animal's behaviour (fewer entries than ``min_entries``, say).
    """
    if tracking is None or not len(tracking) or not len(per):
        return per
    reasons = dict(zip(zip(tracking["subject"], tracking["condition"], strict=True),
                       tracking["reason"], strict=True))
    hit = [reasons.get(k, "") for k in zip(per["subject"], per["condition"], strict=True)]
    lost = np.array([bool(h) for h in hit])
    per = per.copy()
    per.loc[lost, "exclusion_reason"] = [h for h in hit if h]
    per.loc[lost, "excluded"] = True
    return per
