"""Functional observational battery: score a FOB sheet into EndpointTable rows.

Each item of :mod:`neurotox.assays.battery.fob_items` becomes one endpoint per
animal × occasion (timepoint = occasion), scored as its kind demands: ordinal
scores checked against the scale, categorical entries turned into the incidence
of an abnormal category, presence/absence into incidence, counts and
continuous measurements as numbers (trial columns averaged). Empty cells are
kept as excluded rows ("not recorded"), never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox.assays.accounting import check_written_groups
from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.battery.common import (
    PLAUSIBLE_G,
    WEIGHT_SLIPS,
    Recorder,
    one_input,
    row_locator,
    slip_hint,
    species_key,
    subjects_of,
)
from neurotox.assays.battery.conventions import fob_conventions
from neurotox.assays.battery.fob_items import ITEMS, FobItem, by_column
from neurotox.assays.battery.fob_units import (
    check_species_ranges,
    check_usual_scale,
    unit_headers,
)
from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.io import battery as io
from neurotox.study import AssaySpec, Study

ASSAY = "fob"

_PRESENT = {"1", "yes", "y", "present", "+", "true", "t", "p"}
_ABSENT = {"0", "no", "n", "absent", "-", "false", "f", "a"}
_TRIAL = re.compile(r"^(?P<item>[a-z_]+?)_(?:t|trial)?(?P<n>\d+)$")


class FobParameters(BaseModel):
    """Parameters of the FOB assay.

    Attributes
    ----------
    sheet
        Worksheet of an xlsx file (default: the first).
    aliases
        Sheet column → catalogue column, for sheets with their own headers
        (``{"grip_fl": "grip_fore"}``).
    ignore_columns
        Extra non-item columns to skip (free-text remarks).
    min_trials
        Trials required for a mean-of-trials measurement; fewer → excluded.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sheet: str | None = None
    aliases: dict[str, str] = Field(default_factory=dict)
    ignore_columns: tuple[str, ...] = ()
    min_trials: int = Field(default=1, ge=1, le=10)


class _Cell:
    """Location of one cell, for messages."""

    def __init__(self, path: str, row: int, column: str):
        self.path, self.row, self.column = path, row, column

    def error(self, message: str) -> InputError:
        return InputError(message, path=self.path, where=f"row {self.row}, column {self.column!r}")

    @property
    def label(self) -> str:
        return f"row {self.row}, column {self.column!r}"


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    base = _TRIAL.match(name)
    return did_you_mean(base.group("item") if base else name, known)


def map_columns(df: pd.DataFrame, params: FobParameters) -> dict[str, list[str]]:
    """Map catalogue columns to the sheet columns holding them (trials in order).

    Raises
    ------
    InputError
        A column that is neither an identifying column nor a known item.

    """
    known = by_column()
    out: dict[str, list[tuple[int, str]]] = {}
    skip = set(params.ignore_columns)
    for col in io.fob_item_columns(df):
        if col in skip:
            continue
        name = params.aliases.get(col, col)
        m = _TRIAL.match(name)
        if name in known:
            out.setdefault(name, []).append((0, col))
        elif m and m.group("item") in known and known[m.group("item")].trials:
            out.setdefault(m.group("item"), []).append((int(m.group("n")), col))
        else:
            raise InputError(f"unknown FOB item column {col!r}{_did_you_mean(name, known)}; "
                             f"known items: {quoted(known)} (map a lab's name with the "
                             "'aliases' parameter, or skip it with 'ignore_columns')",
                             path=df.attrs["path"], where=f"row 1, column {col!r}")
    return {k: [c for _, c in sorted(v)] for k, v in out.items()}


def score(item: FobItem, raw: str, cell: _Cell) -> float:
    """Score one non-empty cell of ``item``; InputError naming the cell if invalid."""
    text = raw.strip().lower()
    if item.kind == "ordinal":
        return _ordinal(item, text, cell)
    if item.kind == "categorical":
        value = "_".join(text.replace("-", " ").split())
        if value not in item.categories:
            raise cell.error(f"{raw!r} is not a category of item {item.column!r}; expected "
                             f"one of {quoted(item.categories)}")
        return float(value not in item.normal)
    if item.kind == "presence":
        if text not in _PRESENT | _ABSENT:
            raise cell.error(f"expected present/absent (1/0, yes/no) for item {item.column!r}, "
                             f"found {raw!r}")
        present = text in _PRESENT
        return float(present if item.abnormal_when == "present" else not present)
    return _number(item, text, raw, cell)


def _ordinal(item: FobItem, text: str, cell: _Cell) -> float:
    """The score of a cell: a number on the item's scale or one of the scale's own words."""
    lo, hi = min(item.scale), max(item.scale)
    value = io.parse_number(text)
    words = {"_".join(label.split()): k for k, label in item.scale.items()}
    word = "_".join(text.replace("_", " ").split())
    if np.isnan(value) and word in words:
        return float(words[word])
    if np.isnan(value):
        scale = ", ".join(f"{k} = {label}" for k, label in item.scale.items())
        raise cell.error(f"{text!r} is not a score of item {item.column!r}: expected a number "
                         f"{lo}-{hi} or a word of its scale ({scale})")
    if not (value.is_integer() and lo <= value <= hi):
        raise cell.error(f"score {text!r} is outside the scale {lo}-{hi} of item "
                         f"{item.column!r}")
    return value


def _number(item: FobItem, text: str, raw: str, cell: _Cell) -> float:
    value = io.parse_number(text)   # the battery's one parser: '1,150' is not a number
    if np.isnan(value):
        raise cell.error(f"expected a number for item {item.column!r}, found "
                         f"{raw!r}{io.comma_hint(raw)}")
    lo, hi = item.bounds
    above = value > lo if item.positive else value >= lo
    if not (np.isfinite(value) and above and value <= hi):
        rng = f"> {lo:g} and <= {hi:g}" if item.positive else f"{lo:g}-{hi:g}"
        raise cell.error(f"value {raw!r} of item {item.column!r} is outside the plausible "
                         f"range {rng} {item.unit}".rstrip())
    if item.kind == "count" and not value.is_integer():
        raise cell.error(f"expected a whole count for item {item.column!r}, found {raw!r}")
    return value


def score_row(item: FobItem, cols: list[str], row: pd.Series, path: str,
              params: FobParameters) -> tuple[float, str, str]:
    """Value, exclusion reason and source location of one item for one sheet row."""
    cells = [(_Cell(path, int(row["row"]), c), str(row[c])) for c in cols]
    filled = [(cell, raw) for cell, raw in cells if raw.strip() != ""]
    where = ", ".join(cell.label for cell, _ in cells)
    if not filled:
        return np.nan, "not recorded in the FOB sheet", where
    values = [score(item, raw, cell) for cell, raw in filled]
    if item.trials and len(values) < params.min_trials:
        return (float(np.mean(values)), f"only {len(values)} of {params.min_trials} "
                "required trials recorded", where)
    return float(np.mean(values)), "", where


def score_sheet(df: pd.DataFrame, params: FobParameters,
                columns: dict[str, list[str]]) -> pd.DataFrame:
    """Score every item of a FOB sheet (its :func:`map_columns`) into a long frame.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``occasion``, ``item``, ``endpoint``, ``domain``, ``kind``,
        ``raw``, ``value``, ``reason``, ``where``.

    """
    items = {i.column: i for i in ITEMS if i.column in columns}
    rows = []
    for _, r in df.iterrows():
        for name, item in items.items():
            value, reason, where = score_row(item, columns[name], r, df.attrs["path"], params)
            rows.append({"subject": r["subject"], "occasion": r["occasion"], "item": name,
                         "endpoint": item.endpoint, "domain": item.domain, "kind": item.kind,
                         "raw": "; ".join(str(r[c]) for c in columns[name]), "value": value,
                         "reason": reason, "where": where})
    return pd.DataFrame(rows)


def check_body_weight(scores: pd.DataFrame, study: Study, path: str) -> None:
    """InputError for a FOB body weight outside the species' plausible range.

    The catalogue's bound (> 0, <= 2000 g) holds for any rodent; with the study's
    ``species`` known (rat, mouse) its range applies
    (:data:`neurotox.assays.battery.common.PLAUSIBLE_G`), so 1,150 g is no mouse.
    """
    key = species_key(study.spec.species)
    if key == "any" or scores.empty:
        return
    lo, hi = PLAUSIBLE_G[key][0]
    bw = scores[scores["item"] == "body_weight"]
    bad = bw[np.isfinite(bw["value"]) & ((bw["value"] < lo) | (bw["value"] > hi))]
    if len(bad):
        r = bad.iloc[0]
        raise InputError(f"body weight {r['raw']!r} is outside the plausible range "
                         f"{lo:g}-{hi:g} g (species {study.spec.species!r})"
                         f"{slip_hint(r['value'], 'g', (lo, hi), WEIGHT_SLIPS)}", path=path,
                         where=r["where"])


def run(study: Study, spec: AssaySpec, params: FobParameters) -> AssayResult:
    """Read and score the FOB sheet of a study's assay entry."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    df = io.read_fob(path, sheet=params.sheet)
    df, unit_notes = unit_headers(df, params.aliases)
    io.check_subjects(df, subjects.index)
    check_written_groups(df, study, row_locator(df))
    columns = map_columns(df, params)
    scores = score_sheet(df, params, columns)
    check_body_weight(scores, study, str(path))
    check_species_ranges(df, columns, study)
    unit_notes += check_usual_scale(df, columns, study)
    rec = Recorder(study, subjects, ASSAY, path.name)
    for r in scores.itertuples(index=False):
        rec.add(r.subject, r.endpoint, r.value, timepoint=r.occasion, where=r.where,
                reason=r.reason)
    notes = [f"FOB sheet {path.name}: {df['subject'].nunique()} animals, "
             f"{df['occasion'].nunique()} occasion(s), {scores['item'].nunique()} items",
             *unit_notes]
    missing = sorted(i.column for i in ITEMS if i.column not in set(scores["item"]))
    if missing:
        notes.append(f"FOB items not in the sheet: {', '.join(missing)}")
    return said(AssayResult(endpoints=rec.table(), details={"fob_scores": scores}, notes=notes,
                            inputs=[path]), fob_conventions(params))


register(AssayPlugin(ASSAY, FobParameters, run,
                     "Functional observational battery scoring sheet (one row per animal "
                     "x occasion, one column per item)."))
