"""The EndpointTable contract and the endpoint registry.

Every assay ends in an EndpointTable: a long pandas DataFrame with one row per
measured value and exactly the columns of :data:`COLUMNS`. Statistics and
reports read nothing else. :func:`validate` is the one place the contract is
checked; :func:`from_records` is the one place assays build tables.

The registry describes every endpoint an assay may emit: unit, data type,
adverse direction, the OECD/EPA categories it may be reported under, and the
guidelines that ask for it. Definitions live in ``neurotox/registry/*.yaml``
(one file per assay) and are loaded once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neurotox.delimited import (
    FORMULA_START,
    csv_unescape,
    formula_problem,
    formula_start,
    read_table,
)
from neurotox.errors import InputError, ValidationError, closest, did_you_mean, quoted
from neurotox.files import MAX_VALUE, check_input, check_unpacked, too_large_message
from neurotox.timepoints import label_key
from neurotox.vocab import (
    MICRO_SIGN,
    Category,
    Censoring,
    DataType,
    Direction,
    Sex,
    normalise_unit,
)

#: Columns of an EndpointTable, in order, with their pandas dtypes.
COLUMNS: dict[str, str] = {
    "study_id": "string",
    "assay": "string",
    "category": "string",
    "endpoint": "string",
    "unit": "string",
    "subject": "string",
    "group": "string",
    "dose": "float64",
    "dose_unit": "string",
    "sex": "string",
    "timepoint": "string",
    "value": "float64",
    "excluded": "bool",
    "exclusion_reason": "string",
    "batch": "string",
    "source": "string",
    "censoring": "string",
    "time_order": "float64",
}

#: Significant digits a ``value`` is held to (and written with in the report's CSV). Values
#: derived by arithmetic (a latency as time - onset, the mean of two trials) carry noise in
#: the 16th-17th digit (0.20000000000000018, 5.949999999999999) that would break ties in
#: rank tests; :func:`validate` rounds every value to this precision, so the numbers tested
#: are the numbers written out and a written table re-analyses to the same result.
VALUE_DIGITS = 10


def as_written(values: pd.Series) -> pd.Series:
    """``values`` rounded to :data:`VALUE_DIGITS` significant digits (NaN stays NaN).

    The rounding is the decimal text round trip (``'%.10g'``), so it is exactly what
    reading the written CSV back gives, and applying it twice changes nothing.
    """
    spec = f".{VALUE_DIGITS}g"
    rounded = [float(format(v, spec)) for v in values.to_numpy(dtype="float64").tolist()]
    return pd.Series(np.asarray(rounded, dtype="float64"), index=values.index,
                     name=values.name)


#: Columns a table read from elsewhere may leave out, with the value they take.
#: ``time_order``: the protocol's place of the timepoint in time (any increasing
#: number; blank = read from the label, :mod:`neurotox.timepoints`).
OPTIONAL: dict[str, Any] = {"censoring": Censoring.NONE.value, "time_order": np.nan}

#: Columns that identify one measured value; duplicates are rejected.
KEY = ["study_id", "assay", "endpoint", "subject", "timepoint"]

#: Defaults filled in by :func:`from_records` when a record leaves a column out.
DEFAULTS: dict[str, Any] = {
    "sex": Sex.NA.value,
    "timepoint": "NA",
    "excluded": False,
    "exclusion_reason": "",
    "batch": "NA",
    "censoring": Censoring.NONE.value,
    "time_order": np.nan,
}


#: Detail table an assay that emits litter-mean rows writes beside them: one row per
#: pup value with ``subject`` (the pup), ``endpoint``, ``sex``, ``batch`` (its litter) and
#: ``reason`` (empty when the value entered its litter's mean). Reports count pups from it.
LITTER_PUPS_DETAIL = "developmental_pups"


def litter_mean_subject(litter: str, sex: str) -> str:
    """Subject ID of a litter-mean row: an assay's own mean of one litter's pups of one sex.

    Such a row is a litter, not an animal: its ``batch`` is the litter and its
    ``subject`` is ``<litter>_<sex>`` (:func:`is_litter_mean`).
    """
    return f"{litter}_{sex}"


def is_litter_mean(rows: pd.DataFrame) -> np.ndarray:
    """Per EndpointTable row, True when it is a litter mean (:func:`litter_mean_subject`)."""
    batch = rows["batch"].astype(str)
    made = batch + "_" + rows["sex"].astype(str)       # litter_mean_subject, per row
    return ((rows["subject"].astype(str) == made) & (batch != "NA")).to_numpy()


class Endpoint(BaseModel):
    """One registry entry.

    Attributes
    ----------
    name
        Registry name, used in the ``endpoint`` column.
    assays
        Assays that may emit it.
    unit
        Unit of ``value`` (``um``, ``s``, ``%``, ``mm``, ``count``, ``score`` ...).
    data_type
        Selects the statistical path (continuous decision tree, incidence, ordinal ...).
    direction
        Which change is adverse; drives one-sided tests and the arrows in tables.
    categories
        OECD/EPA categories it may be reported under; the first is the default.
    guidelines
        Guideline references that require or describe it.
    description
        One sentence for the report and ``neurotox endpoints list``.
    label
        Display label for tables (default: the name with spaces).
    decimals
        Decimals shown in tables (default: chosen from the data).
    repeated_measures
        Timepoints are repeated measurements of the same subject (bins, sessions):
        analysed with a mixed model as well as per timepoint.
    covariate
        Another endpoint of the same subject, sex and timepoint used as covariate
        (ANCOVA vs control, e.g. brain weight on terminal body weight).
    covariate_only
        Held only as another endpoint's covariate (a baseline repeated at later
        timepoints): not analysed or tabulated on its own.
    scale
        ``ratio`` (a true zero: 0 means none of the quantity, so a group mean
        as percent of the control mean is meaningful) or ``interval`` (a signed
        index or difference whose zero is a balance point, e.g. a discrimination
        index or a dark-minus-light AUC: percent of control is not computed).
    percent_of_control
        False for an endpoint already expressed relative to the concurrent
        control (ChE activity "% of concurrent control"): a percent of control of
        it would say the same number twice. Interval-scale endpoints never get one.
    reference
        Null value against which each group is tested on its own (one-sample
        test): a number (0 for a discrimination index, 0.5 for a preference
        ratio), ``chance`` for the chance level the assay entry computes for its
        maze and protocol (its effective parameter ``references``), or None.
    minimum, maximum
        Smallest and largest value the endpoint can take (inclusive; None: no
        bound). Defaults come from the data type, unit and scale (see Notes).
    integer
        Only whole numbers (scores, grades, tallies).
    derived_from
        Endpoints of the same subject and timepoint this one is computed from
        (relative brain weight from brain and body weight): a manual exclusion of
        one of them excludes this one too (:func:`derived_endpoints`).

    Notes
    -----
    The domain of ``value`` (:func:`check_values`) defaults, unless the entry
    says otherwise, to: 0 or 1 for ``incidence``; whole numbers 0-5 for unit
    ``grade`` (severity, 0 = lesion absent); whole numbers of 0 or more for
    ``count`` data; 0-100 for ``proportion`` in ``%``; 0 or more for a
    ``ratio``-scale time, length, weight, tally, density, speed or concentration
    (a true zero: nothing is less than none; the units are listed once, in
    ``_NON_NEGATIVE_UNITS``). Ordinal scores, bounded percentages and indices
    name their ends in the registry.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    assays: tuple[str, ...] = Field(min_length=1)
    unit: str = Field(min_length=1)
    data_type: DataType
    direction: Direction
    categories: tuple[Category, ...] = Field(min_length=1)
    guidelines: tuple[str, ...] = ()
    description: str = Field(min_length=1)
    label: str | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)
    repeated_measures: bool = False
    covariate: str | None = None
    covariate_only: bool = False
    scale: Literal["ratio", "interval"] = "ratio"
    percent_of_control: bool = True
    reference: float | Literal["chance"] | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    derived_from: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _domain_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {**_default_domain(data), **data}

    @property
    def category(self) -> Category:
        """Default category."""
        return self.categories[0]

    @property
    def relative_to_control(self) -> bool:
        """True when a group mean as percent of the control mean means something."""
        return self.scale == "ratio" and self.percent_of_control

    @property
    def display(self) -> str:
        """Human label: the explicit label or the name with spaces."""
        return self.label or self.name.replace("_", " ").capitalize()

    @field_validator("assays", "guidelines", "derived_from", mode="before")
    @classmethod
    def _tuple(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v


#: Units of quantities that cannot be negative when measured on a ``ratio`` scale:
#: times, lengths, weights, tallies, densities, speeds, areas under distance curves
#: and concentrations (an immunoassay reads them off a standard curve; below its
#: range a value is censored at the LLOQ, never negative). Not enzyme activities
#: (``U/...``: a blank-corrected rate of a fully inhibited sample is zero plus
#: noise, so slightly negative), amplitudes, temperatures, slopes, indices or
#: percent changes. Compared by :func:`unit_key` (``pg/ml`` is ``pg/mL``).
_NON_NEGATIVE_UNITS = frozenset({"s", "ms", "day", "mm", "um", "g", "count", "count/cell",
                                 "fibres/mm", "m/s", "mm/s", "mm*bin",
                                 "pg/mL", "pg/g tissue", "pg/mg protein"})


def _default_domain(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Domain of an entry's values implied by its data type, unit and scale."""
    data_type, unit = str(entry.get("data_type", "")), str(entry.get("unit", ""))
    if data_type == DataType.INCIDENCE:
        return {"minimum": 0.0, "maximum": 1.0, "integer": True}
    if unit == "grade":
        return {"minimum": 0.0, "maximum": 5.0, "integer": True}
    if data_type == DataType.COUNT:
        return {"minimum": 0.0, "integer": True}
    if data_type == DataType.PROPORTION and unit == "%":
        return {"minimum": 0.0, "maximum": 100.0}
    if entry.get("scale", "ratio") == "ratio" and unit_key(unit) in _NON_NEGATIVE_KEYS:
        return {"minimum": 0.0}
    return {}


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assay: str
    endpoints: list[dict[str, Any]]


#: The registry is package data (~270 kB of YAML, read at every start): libyaml's
#: loader when PyYAML has it (7x faster, the same safe schema), else the Python one.
_REGISTRY_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _registry_files() -> list[tuple[str, str]]:
    folder = resources.files("neurotox") / "registry"
    return sorted((p.name, p.read_text(encoding="utf-8"))
                  for p in folder.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def registry() -> dict[str, Endpoint]:
    """Return the endpoint registry, name → :class:`Endpoint` (loaded once)."""
    out: dict[str, Endpoint] = {}
    for fname, text in _registry_files():
        try:
            spec = _RegistryFile.model_validate(yaml.load(text, Loader=_REGISTRY_LOADER))
            for entry in spec.endpoints:
                entry = {"assays": [spec.assay], **entry}
                ep = Endpoint.model_validate(entry)
                if ep.name in out:
                    raise ValueError(f"endpoint {ep.name!r} is defined twice")
                out[ep.name] = ep
        except Exception as exc:  # a broken registry is a packaging bug: say where
            raise RuntimeError(f"endpoint registry file {fname}: {exc}") from exc
    for ep in out.values():
        if ep.covariate is not None and ep.covariate not in out:
            raise RuntimeError(f"endpoint {ep.name!r}: covariate {ep.covariate!r} is not a "
                               "registered endpoint")
        for parent in ep.derived_from:
            if parent not in out:
                raise RuntimeError(f"endpoint {ep.name!r}: derived_from {parent!r} is not a "
                                   "registered endpoint")
    return out


@functools.cache
def derived_endpoints(name: str) -> frozenset[str]:
    """Endpoints computed (directly or in turn) from ``name`` (the registry's ``derived_from``)."""
    out: set[str] = set()
    todo = [name]
    while todo:
        parent = todo.pop()
        for ep in registry().values():
            if parent in ep.derived_from and ep.name not in out:
                out.add(ep.name)
                todo.append(ep.name)
    return frozenset(out)


def get(name: str) -> Endpoint:
    """Return the registry entry for ``name``; raise ValidationError if unknown."""
    try:
        return registry()[name]
    except KeyError:
        raise ValidationError(f"unknown endpoint {name!r}; see 'neurotox endpoints list'",
                              where="column 'endpoint'") from None


def list_endpoints(*, category: Category | str | None = None,
                   assay: str | None = None) -> list[Endpoint]:
    """Registry entries, optionally restricted to a category or assay, sorted by name.

    Raises
    ------
    InputError
        ``assay`` is not an assay of any registered endpoint (with the closest name).

    """
    eps = registry().values()
    if assay is not None:
        known = sorted({a for e in eps for a in e.assays})
        if assay not in known:
            raise InputError(f"unknown assay {assay!r}{did_you_mean(assay, known)}; expected "
                             f"one of {quoted(known)}", where="--assay")
        eps = [e for e in eps if assay in e.assays]
    if category is not None:
        eps = [e for e in eps if Category(category) in e.categories]
    return sorted(eps, key=lambda e: e.name)


def empty() -> pd.DataFrame:
    """Return an EndpointTable with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


def from_records(records: Iterable[Mapping[str, Any]], **common: Any) -> pd.DataFrame:
    """Build and validate an EndpointTable from dict records.

    Parameters
    ----------
    records
        One mapping per value. Keys are EndpointTable columns; ``unit`` and
        ``category`` default to the registry's, others to :data:`DEFAULTS`.
    **common
        Columns shared by every record (``study_id``, ``assay`` ...); a record's
        own key wins.

    Returns
    -------
    pandas.DataFrame
        A validated EndpointTable.

    """
    rows = []
    for rec in records:
        row = {**DEFAULTS, **common, **rec}
        ep = registry().get(row.get("endpoint", ""))
        if ep is not None:
            row.setdefault("unit", ep.unit)
            row.setdefault("category", ep.category.value)
        rows.append(row)
    if not rows:
        return empty()
    return validate(pd.DataFrame(rows))


def concat(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate EndpointTables and validate the result (keys must stay unique)."""
    tables = [t for t in tables if len(t)]
    if not tables:
        return empty()
    return validate(pd.concat(tables, ignore_index=True))


def _row_label(i: int, path: str | None) -> str:
    # CSV line numbers when the table came from a file (header is line 1).
    return f"row {i + 2}" if path else f"row {i}"


def _coerce(df: pd.DataFrame, path: str | None) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col, dtype in COLUMNS.items():
        s = df[col]
        if dtype == "float64":
            num = pd.to_numeric(s, errors="coerce")
            blank = s.astype(str).str.strip().str.lower().isin(["", "nan", "na", "none"])
            bad = num.isna() & s.notna() & ~blank
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise ValidationError(f"expected a number, found {s.iloc[i]!r}", path=path,
                                      where=f"{_row_label(i, path)}, column {col!r}")
            out[col] = num.astype("float64")
        elif dtype == "bool":
            out[col] = _to_bool(s, col, path)
        else:
            out[col] = s.astype("string").fillna("")
    return out


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def _to_bool(s: pd.Series, col: str, path: str | None) -> pd.Series:
    if s.dtype == bool:
        return s
    text = s.astype("string").fillna("").str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(f"expected true/false, found {s.iloc[i]!r}", path=path,
                              where=f"{_row_label(i, path)}, column {col!r}")
    return text.isin(_TRUE)


def _first(mask: pd.Series) -> int | None:
    idx = np.flatnonzero(mask.to_numpy())
    return int(idx[0]) if len(idx) else None


#: Identifier columns refused when a spreadsheet would read them as formulas.
_NAMED = ("study_id", "subject", "group", "batch")


def _check_rows(df: pd.DataFrame, path: str | None) -> None:
    reg = registry()

    def fail(mask: pd.Series, col: str, message: str | Callable[[Any], str],
             named: bool = False) -> None:
        i = _first(mask)
        if i is not None:
            found = df[col].iloc[i]
            found = found.item() if isinstance(found, np.generic) else found
            where = f"{_row_label(i, path)}, column {col!r}"
            source = df["source"].iloc[i] if path is None and \
                (col in ("value", "timepoint") or named) else ""
            if source:   # a value an assay read: name the input row it came from
                where += f" (endpoint {df['endpoint'].iloc[i]!r} from {source})"
            text = message(found) if callable(message) else message.format(found=found)
            raise ValidationError(text, path=path, where=where)

    for col in ("study_id", "assay", "endpoint", "subject", "group"):
        fail(df[col].str.strip() == "", col, f"{col} is empty")
    for col in _NAMED:      # IDs a spreadsheet would run as formulas (docs/outputs.md)
        maybe = df[col].str[:1].isin(FORMULA_START).to_numpy(bool)
        if maybe.any():
            bad = df[col].map(lambda v: formula_start(v) is not None) & maybe
            i = _first(bad)
            if i is not None:
                fail(bad, col, f"{col} " + formula_problem(df[col].iloc[i]).replace("{", "{{")
                     .replace("}", "}}"), named=True)
    fail(~df["endpoint"].isin(list(reg)), "endpoint",
         "unknown endpoint {found!r}; see 'neurotox endpoints list'")
    fail(~df["category"].isin([c.value for c in Category]), "category",
         "unknown category {found!r}; expected one of " + quoted(c.value for c in Category))
    allowed_cat = df["endpoint"].map(lambda e: tuple(c.value for c in reg[e].categories))
    fail(pd.Series([c not in a for c, a in zip(df["category"], allowed_cat, strict=True)],
                   index=df.index), "category",
         "category {found!r} is not allowed for this endpoint")
    units = df["endpoint"].map(lambda e: reg[e].unit)
    same = df["unit"].map(unit_key) == units.map(unit_key)
    i = _first(~same)
    fail(~same, "unit", "unit {found!r} differs from the registry's unit "
         f"{units.iloc[i] if i is not None else ''!r} for this endpoint; write "
         f"{units.iloc[i] if i is not None else ''!r} (convert the values if the unit differs "
         "in more than spelling)")
    df["unit"] = units.astype("string")     # one spelling (pg/ml, µm) in the table out
    assays_ok = [a in reg[e].assays for a, e in zip(df["assay"], df["endpoint"], strict=True)]
    fail(~pd.Series(assays_ok, index=df.index), "assay",
         "endpoint is not registered for assay {found!r}")
    fail(~df["sex"].isin([s.value for s in Sex]), "sex", "sex {found!r} is not M, F or NA")
    fail(~df["censoring"].isin([c.value for c in Censoring]), "censoring",
         "censoring {found!r} is not " + " or ".join(repr(c.value) for c in Censoring))
    fail(~np.isfinite(df["value"]) & ~df["excluded"], "value",
         "value {found!r} is not finite and the row is not excluded")
    fail((np.abs(df["value"]) > MAX_VALUE) & ~df["excluded"], "value", too_large_message)
    fail(df["excluded"] & (df["exclusion_reason"].str.strip() == ""), "exclusion_reason",
         "excluded row has no exclusion_reason")
    check_values(df, reg, path=path)
    fail(~np.isfinite(df["dose"]), "dose", "dose {found!r} is not a finite number")
    _check_timepoint_labels(df, path, fail)
    _check_time_order(df, path, fail)
    fail(df.duplicated(KEY, keep="first"), "subject",
         "duplicate key (study_id, assay, endpoint, subject, timepoint) for subject {found!r}")


def _check_timepoint_labels(df: pd.DataFrame, path: str | None, fail: Any) -> None:
    """Refuse two timepoint labels of one assay that differ only in case, punctuation, padding.

    ``Pretest`` beside ``pretest`` (or ``pre-test``, ``Day7`` or ``day07`` beside ``day7``) is
    one session typed two ways: analysed as two timepoints it splits the animals
    and leaves a timepoint of one animal (:func:`neurotox.timepoints.label_key`).
    """
    labels = df[["study_id", "assay", "timepoint"]].drop_duplicates()
    labels = labels.assign(key=labels["timepoint"].map(label_key))
    clash = labels.duplicated(["study_id", "assay", "key"], keep="first")
    if not clash.any():
        return
    i = int(labels.index[clash.to_numpy()].min())
    same = labels[["study_id", "assay", "key"]].eq(labels.loc[i, ["study_id", "assay", "key"]])
    j = int(labels.index[same.all(axis=1).to_numpy()].min())
    source = str(df["source"].iloc[j]) if path is None else ""
    other = f"from {source}" if source else _row_label(j, path)
    fail(pd.Series(df.index == i, index=df.index), "timepoint",
         f"timepoint {{found!r}} and {df['timepoint'].iloc[j]!r} ({other}) of assay "
         f"{df['assay'].iloc[i]!r} differ only in letter case, spaces, punctuation or "
         "leading zeros; write one session's label the same way throughout")


def _check_time_order(df: pd.DataFrame, path: str | None, fail: Any) -> None:
    """Refuse a ``time_order`` that does not give one place per timepoint of an assay.

    Within one study a timepoint label has one ``time_order`` (or none in every
    row; the statistics order a table's labels with one map, whatever the assay),
    two timepoints of one assay do not share one, and the timepoints of one
    endpoint have one each or none: the protocol's order is not mixed with the
    labels' order.
    """
    if df["time_order"].isna().all():
        return
    fail(~np.isfinite(df["time_order"]) & df["time_order"].notna(), "time_order",
         "time_order {found!r} is not a finite number")
    has = df["time_order"].notna()
    last = df["timepoint"].str.strip().str.upper().isin(["", "NA", "ALL"])
    per_ep = has.groupby([df["study_id"], df["assay"], df["endpoint"]]).transform("any")
    fail(per_ep & ~has & ~last, "time_order",
         "time_order is blank for this timepoint although other timepoints of the same "
         "endpoint have one; give every timepoint its place in time, or none")
    ranked = df[has]
    n = ranked.groupby(["study_id", "timepoint"])["time_order"].transform("nunique")
    fail(pd.Series(df.index.isin(ranked.index[n.to_numpy() > 1]), index=df.index),
         "time_order", "timepoint has two time_order values in one study (this row: "
         "{found!r}); a timepoint has one place in time")
    first = ranked.drop_duplicates(["study_id", "assay", "timepoint"])
    clash = first.duplicated(["study_id", "assay", "time_order"], keep="first")
    fail(pd.Series(df.index.isin(first.index[clash.to_numpy()]), index=df.index),
         "time_order", "time_order {found!r} is given to two timepoints of one assay")


_LITRE = re.compile(r"(?<![A-Za-z])([pnumcd]?)[lL](?![A-Za-z])")


def unit_key(unit: str) -> str:
    """A unit's spelling with the variants that mean the same unit made one.

    Both ``L`` and ``l`` are SI symbols of the litre (``pg/ml`` = ``pg/mL``) and the
    micro prefix may be written ``u``, ``µ`` or ``μ`` (``µm`` = ``um``). No other
    letter case is folded: ``mg`` and ``Mg``, ``ms`` and ``Ms``, ``uM`` (micromolar)
    and ``um`` (micrometre) are different units.
    """
    unit = normalise_unit(str(unit)).replace(MICRO_SIGN, "u")
    return _LITRE.sub(lambda m: f"{m.group(1)}L", unit)


_NON_NEGATIVE_KEYS = frozenset(unit_key(u) for u in _NON_NEGATIVE_UNITS)


def domain_text(ep: Endpoint) -> str:
    """The values ``ep`` can take, in words: ``whole numbers from 1 to 4``."""
    lo, hi = ep.minimum, ep.maximum
    if ep.integer and lo == 0 and hi == 1:
        return "values 0 or 1"
    kind = "whole numbers" if ep.integer else "values"
    if lo is not None and hi is not None:
        text = f"{kind} from {lo:g} to {hi:g}"
    elif lo is not None:
        text = f"{kind} of {lo:g} or more"
    elif hi is not None:
        text = f"{kind} of {hi:g} or less"
    else:
        return "any number"
    return text if ep.unit in ("score", "grade", "count", "incidence") else f"{text} ({ep.unit})"


def check_values(df: pd.DataFrame, reg: Mapping[str, Endpoint] | None = None, *,
                 path: str | None = None) -> None:
    """Check that every included ``value`` lies in its endpoint's domain.

    Parameters
    ----------
    df
        An EndpointTable (endpoints known to ``reg``, values numeric).
    reg
        Endpoint definitions (default: :func:`registry`).
    path
        File the table came from, named in the message (rows are CSV lines).

    Raises
    ------
    ValidationError
        The first value outside ``minimum``/``maximum`` or not a whole number
        where the endpoint takes whole numbers (an ordinal score off its scale,
        a negative or fractional count, a percentage above 100, a negative
        duration). Excluded rows and non-finite values are not checked here.

    """
    reg = registry() if reg is None else reg
    value = df["value"].to_numpy(float)
    at, names = pd.factorize(df["endpoint"])
    eps = [reg[n] for n in names]      # one lookup per endpoint, spread over its rows
    lo = np.array([-np.inf if e.minimum is None else e.minimum for e in eps])[at]
    hi = np.array([np.inf if e.maximum is None else e.maximum for e in eps])[at]
    whole = np.array([e.integer for e in eps], dtype=bool)[at]
    with np.errstate(invalid="ignore"):
        bad = (value < lo) | (value > hi) | (whole & (value != np.round(value)))
    bad &= np.isfinite(value) & ~df["excluded"].to_numpy(bool)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    ep, row = eps[at[i]], df.iloc[i]
    where = f"{_row_label(i, path)}, column 'value'"
    if path is None and str(row.get("source", "")):
        where += f" (from {row['source']})"
    raise ValidationError(f"{ep.data_type.value} endpoint {ep.name!r} needs {domain_text(ep)}, "
                          f"found {value[i]:g} (subject {row['subject']!r})",
                          path=path, where=where)


def _check_columns(df: pd.DataFrame, path: str | None) -> None:
    """Refuse a column the contract does not have, then a missing one.

    An unknown column is never dropped in silence: a misspelt optional column
    (``censored`` for ``censoring``) would otherwise lose what it holds.
    """
    unknown = [str(c) for c in df.columns if c not in COLUMNS]
    absent = [c for c in COLUMNS if c not in df.columns]
    missing = [c for c in absent if c not in OPTIONAL]
    meant = {c: closest(c, absent) for c in unknown}
    # a misspelt column first (with its name); else what is missing (a header that is
    # not the header, a banner line above it); else the extra columns
    if missing and not any(meant.values()):
        raise ValidationError(f"missing EndpointTable columns {quoted(missing)}; found "
                              f"{quoted(df.columns)}", path=path)
    if unknown:
        first = next((c for c in unknown if meant[c]), unknown[0])
        others = [c for c in unknown if c != first]
        raise ValidationError(f"unknown EndpointTable column {first!r}"
                              f"{did_you_mean(first, absent)}"
                              + (f" (and {quoted(others)})" if others else "")
                              + f"; expected the columns {', '.join(COLUMNS)}",
                              path=path, where=f"column {first!r}")


def validate(df: pd.DataFrame, *, path: str | Path | None = None) -> pd.DataFrame:
    """Check a DataFrame against the EndpointTable contract and return it typed.

    Parameters
    ----------
    df
        Candidate table.
    path
        File it was read from, named in error messages (rows are then CSV line numbers).

    Returns
    -------
    pandas.DataFrame
        The table with exactly :data:`COLUMNS` in order, typed, index reset.

    Raises
    ------
    ValidationError
        A column not in :data:`COLUMNS` (with the closest column name offered),
        missing columns, unknown endpoint or category, unit differing from the
        registry, non-finite values not excluded, values outside the endpoint's
        domain (:func:`check_values`), exclusions without a reason, censoring
        other than ``none``/``left``/``right``, duplicate keys.

    Notes
    -----
    Columns are matched by name, so their order does not matter; the result has
    the order of :data:`COLUMNS`. Columns in :data:`OPTIONAL` (``censoring``,
    ``time_order``)
    may be absent from tables made before they existed or by other tools; they
    take their default. A blank ``censoring`` cell means ``none``. Values are
    rounded to :data:`VALUE_DIGITS` significant digits (:func:`as_written`).

    """
    path = None if path is None else str(path)
    _check_columns(df, path)
    df = df.reset_index(drop=True)
    for col, default in OPTIONAL.items():
        if col not in df.columns:
            df = df.assign(**{col: default})
    df = _coerce(df, path)
    df["value"] = as_written(df["value"])
    df["censoring"] = df["censoring"].str.strip().str.lower().replace("", Censoring.NONE.value)
    _check_rows(df, path)
    return df


def read(path: str | Path) -> pd.DataFrame:
    """Read an EndpointTable from CSV or Parquet and validate it.

    How a CSV was read (a spreadsheet's re-save: ``;``, decimal commas,
    Windows-1252) is in ``attrs["dialect"]``.
    """
    path = Path(path)
    check_input(path)   # a regular file within the size limit
    dialect = ""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata   # what the row groups unpack to, first
            check_unpacked(sum(meta.row_group(i).total_byte_size
                               for i in range(meta.num_row_groups)), path, what="the table")
            df = pd.read_parquet(path)
        else:
            with open(path, "rb") as f:
                head = f.read(8)
            if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
                raise ValidationError("this is a spreadsheet workbook, not a CSV or Parquet "
                                      "EndpointTable; save it as CSV", path=path)
            table = read_table(path)
            df = table.data.apply(csv_unescape)    # the ' neurotox's CSV writers add
            dialect = table.describe()
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError | InputError):
            raise
        raise ValidationError(f"cannot read as an EndpointTable: "
                              f"{' '.join(str(exc).split())}", path=path) from None
    if df.empty:
        raise ValidationError("expected EndpointTable rows below the header, found none",
                              path=path)
    out = validate(df, path=path)
    out.attrs["dialect"] = dialect      # a locale's re-save is noted (delimited.dialect_note)
    out.attrs["notes"] = reading_notes(df, out, path.name)
    return out


def reading_notes(raw: pd.DataFrame, table: pd.DataFrame, name: str) -> list[str]:
    """Run notes on how a table read from elsewhere was taken (units, censoring).

    Parameters
    ----------
    raw
        The table as read from the file.
    table
        The same table validated (:func:`validate`).
    name
        File name the notes begin with.

    Returns
    -------
    list of str
        A unit spelled differently from the registry (``pg/ml``) and the unit it
        was read as; a ``censoring`` column absent or blank in every row of a
        table with neurochemical values (every value, those at a limit of
        quantification too, is then analysed as measured).

    """
    notes = []
    found = raw["unit"].astype("string").fillna("")
    for old, new in sorted(set(zip(found, table["unit"], strict=True)) - {(u, u) for u in found}):
        notes.append(f"{name}: unit {old!r} read as the registry's {new!r} (the same unit)")
    blank = "censoring" not in raw.columns or \
        bool(raw["censoring"].astype("string").fillna("").str.strip().eq("").all())
    if blank and (table["category"] == Category.NEUROCHEMICAL.value).any():
        notes.append(f"{name}: column 'censoring' is absent or blank in every row: every value "
                     "is analysed as measured (censoring 'none'); a value at a limit of "
                     "quantification (LLOQ x dilution) must be marked 'left' to be analysed "
                     "as censored")
    return notes


def check_design(df: pd.DataFrame, *, study_id: str, groups: Mapping[str, tuple[float, str]],
                 path: str | Path | None = None) -> None:
    """Check a validated EndpointTable against the study it is analysed with.

    Parameters
    ----------
    df
        Output of :func:`validate` (rows are CSV lines ``index + 2``).
    study_id
        Study number from the study file.
    groups
        Group ID → (dose, dose unit) from the study file.
    path
        File the table came from, named in messages.

    Raises
    ------
    ValidationError
        A row of another study, a group the study does not define, or a dose or
        dose unit differing from the study's value for that group.

    """
    path = None if path is None else str(path)
    other = df["study_id"] != study_id
    if other.any():
        i = int(np.flatnonzero(other.to_numpy())[0])
        # the assay commands stamp the folder name (or NA) when run without a study
        raise ValidationError(f"expected study {study_id!r}, found {df['study_id'].iloc[i]!r} "
                              "(run the assay command with --study STUDY_FILE, or --study-id, "
                              "to write the study number)", path=path,
                              where=f"row {i + 2}, column 'study_id'")
    unknown = ~df["group"].isin(list(groups))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ValidationError(f"group(s) {quoted(df.loc[unknown, 'group'])} in the "
                              f"EndpointTable are not defined in the study (defined: "
                              f"{quoted(groups)})", path=path,
                              where=f"row {i + 2}, column 'group'")
    dose = df["group"].map(lambda g: groups[g][0]).astype(float)
    unit = df["group"].map(lambda g: groups[g][1])
    for column, wrong in (("dose", ~np.isclose(df["dose"].astype(float), dose)),
                          ("dose_unit", (df["dose_unit"] != unit).to_numpy())):
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            g = df["group"].iloc[i]
            found = df[column].iloc[i]
            found = f"{found:g}" if column == "dose" else repr(found)
            raise ValidationError(
                f"group {g!r}: the study gives {groups[g][0]:g} {groups[g][1]}, found "
                f"{column} {found} (run the assay command with --study STUDY_FILE to take "
                "doses from the study)", path=path, where=f"row {i + 2}, column {column!r}")


def check_groups(df: pd.DataFrame, *, path: str | Path | None = None) -> None:
    """Check that a table analysed without a study gives one dose per group, in one unit.

    With a study, :func:`check_design` compares every row with the study's
    groups. Without one the groups come from the table itself, so a group
    holding two doses (an animal relabelled into another group) or two units
    would otherwise be analysed at the dose of its first row.

    Parameters
    ----------
    df
        Output of :func:`validate` (rows are CSV lines ``index + 2``).
    path
        File the table came from, named in messages.

    Raises
    ------
    ValidationError
        A group whose rows give two doses or two dose units, or dose units
        differing between groups (the trend test needs one dose scale).

    """
    path = None if path is None else str(path)
    dose = df["dose"].to_numpy(float)
    unit = np.array([normalise_unit(str(u)) for u in df["dose_unit"]], dtype=object)
    first = df.groupby("group", sort=False).cumcount().to_numpy() == 0
    first_at = pd.Series(np.flatnonzero(first), index=df["group"].to_numpy()[first])
    ref = first_at.reindex(df["group"]).to_numpy()      # each row's group's first row
    for column, wrong in (("dose", ~np.isclose(dose, dose[ref], rtol=1e-9, atol=0)),
                          ("dose_unit", unit != unit[ref])):
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            a, b = (f"{dose[ref[i]]:g}", f"{dose[i]:g}") if column == "dose" else \
                (repr(str(unit[ref[i]])), repr(str(unit[i])))
            what = "doses" if column == "dose" else "dose units"
            raise ValidationError(f"group {df['group'].iloc[i]!r} has {what} {a} (row "
                                  f"{ref[i] + 2}) and {b}; each group needs one dose in one "
                                  "unit (analyse with --study to check the table against the "
                                  "study's groups)", path=path,
                                  where=f"row {i + 2}, column {column!r}")
    other = unit != unit[0]
    if other.any():
        i = int(np.flatnonzero(other)[0])
        raise ValidationError(f"dose units differ: {str(unit[0])!r} (row 2, group "
                              f"{df['group'].iloc[0]!r}) and {str(unit[i])!r} (group "
                              f"{df['group'].iloc[i]!r}); doses of one table are compared on "
                              "one scale", path=path, where=f"row {i + 2}, column 'dose_unit'")


def exclusion_records(table: pd.DataFrame) -> list[dict]:
    """Manifest records of the rows an assay's own rules excluded (not manual exclusions).

    One record per excluded value, except where every value of an endpoint is
    excluded for one reason (an endpoint the protocol cannot measure): then one
    record for the endpoint, ``"subject": "all"`` with the number of ``values``,
    so that a run's real exclusions are not lost among hundreds of identical ones.
    """
    exc = table[table["excluded"] & ~table["exclusion_reason"].str.startswith("manual")]
    sizes = table.groupby(["assay", "endpoint"]).size()
    whole = exc.groupby(["assay", "endpoint"])["exclusion_reason"].agg(
        ["nunique", "size", "first"])
    whole = whole[(whole["nunique"] == 1) & (whole["size"] == sizes.loc[whole.index])
                  & (whole["size"] > 1)]
    keys = list(zip(exc["assay"], exc["endpoint"], strict=True))
    single = exc[[k not in whole.index for k in keys]]
    out = [{"rule": "assay", "assay": a, "endpoint": e, "subject": "all",
            "values": int(whole.loc[(a, e), "size"]),
            "reason": str(whole.loc[(a, e), "first"])}
           for a, e in whole.index]
    return out + [{"rule": "assay", "assay": r.assay, "endpoint": r.endpoint,
                   "subject": r.subject, "timepoint": r.timepoint, "reason": r.exclusion_reason}
                  for r in single.itertuples(index=False)]
