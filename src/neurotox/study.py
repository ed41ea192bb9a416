"""The study file: groups, doses, subjects, plate layouts, assays and statistical plan.

A study is a YAML file (read as YAML 1.2 by :mod:`neurotox.yamlio`: safe tags
only, duplicate keys refused) plus the CSV files it names. Paths are relative to
the study file and may not leave its folder. Every model is closed
(``extra="forbid"``): a misspelt key is an error, never a silent default. The
study is also checked against itself: one dose unit for every group, no control
dosed above a treated group, doses in one order with the group list, subject IDs
that cannot be confused, exclusions that name known subjects and endpoints.

Example:
-------
.. code-block:: yaml

    study_id: NTX-2026-001
    title: 28-day oral neurotoxicity screen of compound X in rats
    test_item: Compound X
    glp: true
    groups:
      - {id: G1, label: Vehicle control, dose: 0, dose_unit: mg/kg/day, control: true}
      - {id: G2, label: Low,  dose: 10,  dose_unit: mg/kg/day}
    subjects: subjects.csv
    plate_layouts: {PL01: plate01_layout.csv}
    assays:
      - {assay: nor, protocol: nor-standard, input: nor_scores.xlsx}
    statistics: {alpha: 0.05, sided: two, trend_test: true}

"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticError

from neurotox.delimited import (
    Table,
    check_distinct_columns,
    dialect_note,
    formula_problem,
    read_table,
)
from neurotox.errors import FormatError, InputError, did_you_mean, quoted
from neurotox.files import (
    is_output_folder,
    register_inputs,
    register_pattern,
    run_note,
    same_content,
)
from neurotox.vocab import Sex, normalise_unit, parse_sex
from neurotox.yamlio import load_yaml, pydantic_message, quoted_scalar

_ID_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def _identifier(value: str) -> str:
    """A study, group or assay ID: letters, digits, ``_ . -``, starting with a letter or digit."""
    if not _ID_CHARS.fullmatch(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "_.-"))})
        what = (f"holds {', '.join(repr(c) for c in bad)}" if bad
                else "does not start with a letter or digit")
        raise ValueError(f"an ID {what}: use letters, digits, '_', '.' and '-' only, starting "
                         "with a letter or digit (e.g. a decimal comma as '.' or '_')")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]


def _group_id(value: str) -> str:
    """A group ID: any printable text without edge spaces (file names give ``dif_HU_0,1``).

    Group IDs are matched against subjects tables, layouts and the groups an
    assay reads from file names; they never name a file, so the characters of
    study and assay IDs are not required of them.
    """
    if not value or value != value.strip():
        raise ValueError("a group ID may not be empty or start or end with a space")
    if not value.isprintable():
        raise ValueError("a group ID may not hold control characters (tab, line break)")
    return _no_formula(value)


def _no_formula(value: str) -> str:
    """``value``, refused when a spreadsheet opening a CSV output would run it as a formula."""
    problem = formula_problem(value, show=False)
    if problem:
        raise ValueError(problem)
    return value


GroupId = Annotated[str, AfterValidator(_group_id)]
#: A label or title printed in the outputs: not empty, never read as a formula.
Label = Annotated[str, Field(min_length=1), AfterValidator(_no_formula)]


def not_boolean(v: Any) -> Any:
    """``v``, refusing ``true``/``false`` where a number is meant (pydantic reads True as 1)."""
    if isinstance(v, bool):
        raise ValueError("expected a number, not a true/false value")
    return v


class Group(BaseModel):
    """A dose group."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: GroupId
    label: Label
    dose: float = Field(ge=0, allow_inf_nan=False)
    dose_unit: str = Field(min_length=1)
    control: bool = False
    #: Which test item the group received, in studies of several (screens of many
    #: chemicals); doses are ordered within each test item.
    test_item: Label | None = None

    @field_validator("dose", mode="before")
    @classmethod
    def _dose_is_a_number(cls, v: Any) -> Any:
        return not_boolean(v)

    @field_validator("dose_unit")
    @classmethod
    def _unit(cls, unit: str) -> str:
        unit = normalise_unit(unit)
        if not unit:
            raise ValueError("dose_unit is empty")
        return unit


class AssaySpec(BaseModel):
    """One assay of the study: which protocol, which raw files, which overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    assay: str = Field(min_length=1)
    protocol: str = Field(min_length=1)
    input: tuple[str, ...] = Field(min_length=1)
    layout: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    id: Identifier | None = None
    #: Cohorts of the subjects file this entry measures (empty: every subject).
    cohorts: tuple[Annotated[str, Field(min_length=1)], ...] = ()

    @field_validator("input", "cohorts", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @property
    def key(self) -> str:
        """Identifier of this assay entry in outputs (``id`` or the assay name)."""
        return self.id or self.assay


class CensoredPlan(BaseModel):
    """How censored values (``censoring`` column of the EndpointTable) are analysed.

    Attributes
    ----------
    policy
        Left-censored values (below a limit of quantification): ``bound`` (the
        limit), ``half`` (limit/2), ``sqrt2`` (limit/√2), ``exclude`` (dropped from
        the tests, counted as exclusions) or ``rank`` (always the censoring-aware
        rank test).
    rank_test_above
        Censored fraction of a stratum, or of any one of its groups, above which the
        censoring-aware rank test is used whatever the policy (also when more than
        half of a group is censored).
    test
        Censoring-aware test: ``peto-prentice`` (generalised Wilcoxon, the default)
        or ``logrank``. Right-censored values (cut-offs) always use it.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: Literal["bound", "half", "sqrt2", "exclude", "rank"] = "half"
    rank_test_above: float = Field(default=0.2, ge=0, le=1)
    test: Literal["peto-prentice", "logrank"] = "peto-prentice"

    @property
    def rho(self) -> float:
        """Weight exponent of the weighted log-rank test (1 Peto-Prentice, 0 log-rank)."""
        return 1.0 if self.test == "peto-prentice" else 0.0


class StatisticsPlan(BaseModel):
    """The statistical plan; every choice of the decision tree is a setting here.

    Attributes
    ----------
    alpha
        Significance level of the comparisons with control.
    sided
        ``two``; ``one`` (in the endpoint's adverse direction; two-sided where the
        registry says ``either``); or ``auto`` (same as ``one``).
    trend_test
        Run a monotone trend test as well (Williams / Jonckheere-Terpstra; Cochran-Armitage
        for incidence).
    trend_method
        ``williams`` or ``jonckheere`` for continuous data.
    normality_alpha, homogeneity_alpha
        Levels of the Shapiro-Wilk and homogeneity pre-tests of the decision tree.
    homogeneity_test
        Variance-homogeneity pre-test: ``levene`` (median-centred) or ``bartlett``.
    nonparametric
        Many-to-one rank test used when the pre-tests fail: ``dunn`` or ``steel``.
    force_path
        Skip the pre-tests and always use ``parametric`` or ``nonparametric``.
    log_transform
        Endpoints analysed on the log scale.
    percent_of_control
        Show group means as percent of the control mean in tables.
    pool_sexes
        Analyse and tabulate sexes together.
    litter_unit
        For developmental studies: ``none``, ``means`` (litter means) or ``mixed``
        (litter as random effect).
    repeated_covariance
        Within-subject covariance of the repeated-measures mixed model:
        ``compound_symmetry``, ``ar1``, ``unstructured`` or ``aic`` (lowest AIC).
    mixed_ddf
        Denominator df of mixed-model tests: ``containment``, ``satterthwaite`` or
        ``kenward_roger``.
    censored
        Handling of censored values (:class:`CensoredPlan`).

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    sided: Literal["two", "one", "auto"] = "two"
    trend_test: bool = True
    trend_method: Literal["williams", "jonckheere"] = "williams"
    normality_alpha: float = Field(default=0.01, gt=0, lt=0.5)
    homogeneity_alpha: float = Field(default=0.01, gt=0, lt=0.5)
    homogeneity_test: Literal["levene", "bartlett"] = "levene"
    nonparametric: Literal["dunn", "steel"] = "dunn"
    force_path: Literal["parametric", "nonparametric"] | None = None
    log_transform: tuple[str, ...] = ()
    percent_of_control: bool = True
    pool_sexes: bool = False
    litter_unit: Literal["none", "means", "mixed"] = "none"
    repeated_covariance: Literal["compound_symmetry", "ar1", "unstructured",
                                 "aic"] = "compound_symmetry"
    mixed_ddf: Literal["containment", "satterthwaite", "kenward_roger"] = "containment"
    censored: CensoredPlan = Field(default_factory=CensoredPlan)

    @field_validator("log_transform")
    @classmethod
    def _registered(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        """A misspelt endpoint name would silently leave that endpoint untransformed."""
        from neurotox.endpoints import registry

        known = registry()
        for name in names:
            if name not in known:
                raise ValueError(f"unknown endpoint {name!r}"
                                 + (did_you_mean(name, known)
                                    or "; see 'neurotox endpoints list'"))
        return names


def blank_is_none(v: Any) -> Any:
    """Text that is empty or only spaces is a value not given (a line still to complete)."""
    return None if isinstance(v, str) and not v.strip() else v


class StudyDates(BaseModel):
    """Dates of the study plan shown on the report's title page (all optional).

    Those given are in study order: initiation (the study plan signed), the first
    and the last day of the experimental phase, the report.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    initiation: dt.date | None = None
    experimental_start: dt.date | None = None
    experimental_end: dt.date | None = None
    report: dt.date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> StudyDates:
        given = [(k, getattr(self, k)) for k in ("initiation", "experimental_start",
                                                 "experimental_end", "report")
                 if getattr(self, k) is not None]
        for i, (later, day) in enumerate(given):
            for earlier, before in reversed(given[:i]):   # the nearest first
                if day < before:
                    raise ValueError(f"dates.{later} ({day}) is before dates.{earlier} "
                                     f"({before}); the dates are initiation, experimental "
                                     "start, experimental end, report, in that order")
        return self


class DoseConclusion(BaseModel):
    """A NOAEL or LOAEL entered by the study director (the report never decides it).

    Attributes
    ----------
    dose
        One of the tested doses; ``null`` means "not established" (e.g. no LOAEL
        because no adverse effect was seen at any dose).
    sex
        ``M``, ``F`` or ``NA`` (both sexes / sex not a factor).
    basis
        The findings the conclusion rests on, in the study director's words.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dose: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    sex: Sex = Sex.NA
    basis: str = ""

    @field_validator("dose", mode="before")
    @classmethod
    def _dose_is_a_number(cls, v: Any) -> Any:
        return not_boolean(v)

    @field_validator("sex", mode="before")
    @classmethod
    def _sex_as_labs_write_it(cls, v: Any) -> Any:
        """``female``, ``Males``, ``f``: the spellings the subjects file accepts."""
        return (parse_sex(v) or v) if isinstance(v, str) else v


class QaInspection(BaseModel):
    """One QA inspection listed in the quality assurance statement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    inspected: dt.date | None = None
    reported: dt.date | None = None


class Amendment(BaseModel):
    """The report this run amends (a GLP amendment to a final report).

    ``run`` is the run ID of the amended report, or its report folder (relative
    to the study file), whose ``run.json`` gives the run ID and must name the
    same study number.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    run: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    number: int = Field(ge=1)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

    @field_validator("number", mode="before")
    @classmethod
    def _number_is_a_number(cls, v: Any) -> Any:
        return not_boolean(v)


class ReportSettings(BaseModel):
    """How the report is laid out.

    Attributes
    ----------
    paper
        ``a4`` (default) or ``letter``; the ``--paper`` option overrides it.
    spread
        Spread shown with group means in tables and figures alike: ``sd`` or ``sem``.
    qa_inspections
        Inspections listed in the QA statement of a GLP report (blank rows to be
        completed by QA when empty).
    qa_name
        Who signs the QA statement for the Quality Assurance Unit (a line to
        complete when not given).
    glp_exceptions
        The study director's exceptions to GLP compliance, one item each (``none``
        when there are none), printed in the statement of compliance (a line to
        complete when not given).
    compliance_statement
        The compliance statement's text, when the facility's differs from the
        OECD one (e.g. naming 21 CFR Part 58).
    archive
        Where the study plan, raw data, specimens and the final report are stored
        (OECD GLP II.9.2), printed under the statement of compliance.
    amends
        The report this one amends: run ID or report folder, amendment number,
        reason (OECD GLP II.9.1.3: amendments to a final report say what is
        corrected and why).

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    paper: Literal["a4", "letter"] = "a4"
    spread: Literal["sd", "sem"] = "sd"
    qa_inspections: tuple[QaInspection, ...] = ()
    qa_name: str | None = None
    glp_exceptions: tuple[Annotated[str, StringConstraints(strip_whitespace=True,
                                                           min_length=1)], ...] = ()
    compliance_statement: Annotated[str, StringConstraints(strip_whitespace=True,
                                                           min_length=1)] | None = None
    archive: str | None = None
    amends: Amendment | None = None

    @field_validator("qa_name", "archive", mode="before")
    @classmethod
    def _blank_is_not_given(cls, v: Any) -> Any:
        """``qa_name: ''`` or ``'   '`` is a name still to complete, as a missing key is."""
        return blank_is_none(v)

    @field_validator("glp_exceptions", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        """One exception may be written as text, several as a list."""
        return (v,) if isinstance(v, str) else v

    @field_validator("paper", "spread", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        """``A4``, ``Letter``, ``SD`` are written as often as ``a4``, ``letter``, ``sd``."""
        return v.strip().lower() if isinstance(v, str) else v


#: Oldest age at the start of a study that an age (option, key, stored animal) may give, in
#: weeks (about 19 years: above any laboratory animal's age at the start of a study).
MAX_AGE_WEEKS = 1000.0


def age_weeks_problem(weeks: float) -> str | None:
    """Why ``weeks`` is no age at the start of a study (None when it is one).

    One rule for every age neurotox's historical controls take (``hcd add
    --age-weeks``, ``hcd ranges --age-weeks``, the study key, a stored animal's
    age): a finite number from 0 to :data:`MAX_AGE_WEEKS`. NaN, infinity and
    1e300 would be stored for every animal of a study, or select nothing.
    """
    if math.isnan(weeks):
        return f"expected an age in weeks, found {weeks!r} (not a number)"
    if not 0 <= weeks <= MAX_AGE_WEEKS:
        return (f"expected an age in weeks from 0 to {MAX_AGE_WEEKS:g}, found {weeks:g}")
    return None


class HistoricalStrata(BaseModel):
    """Strata of the historical controls a study is compared with (``None``: any).

    Text strata match without regard to case, spaces and punctuation; ``age_weeks``
    is an inclusive band ``[low, high]`` of age at the start of the study.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    species: str | None = None
    strain: str | None = None
    route: str | None = None
    vehicle: str | None = None
    guideline: str | None = None
    facility: str | None = None
    apparatus: str | None = None
    session_length: str | None = None
    age_weeks: tuple[float, float] | None = None

    @field_validator("age_weeks")
    @classmethod
    def _band(cls, band: tuple[float, float] | None) -> tuple[float, float] | None:
        if band is None:
            return band
        for end in band:
            why = age_weeks_problem(end)
            if why:
                raise ValueError(f"age_weeks {list(band)}: {why}")
        if not band[0] <= band[1]:
            raise ValueError(f"age_weeks must be [low, high] with 0 <= low <= high, found "
                             f"{list(band)}")
        return band


class HistoricalControls(BaseModel):
    """The ``historical_controls`` key: which database, strata and time window.

    ``database`` is a SQLAlchemy URL or a SQLite file path (relative to the study
    file); ``window_years`` keeps studies that started within that many years
    before ``until`` (default: the day of the report). A range of fewer than
    ``min_studies`` studies is shown but marks no group (†/‡).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str = Field(min_length=1)
    strata: HistoricalStrata = Field(default_factory=HistoricalStrata)
    window_years: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    until: dt.date | None = None
    min_studies: int = Field(default=3, ge=2, le=100)


class StudySpec(BaseModel):
    """Top level of a study YAML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    study_id: Identifier
    title: Label
    test_item: Label
    glp: bool = False
    species: str | None = None
    strain: str | None = None
    cell_line: str | None = None
    guideline: str | None = None
    sponsor: str | None = None
    test_facility: str | None = None
    study_director: str | None = None
    test_item_batch: str | None = None
    vehicle: str | None = None
    route: str | None = None
    dates: StudyDates = Field(default_factory=StudyDates)
    noael: tuple[DoseConclusion, ...] = ()
    loael: tuple[DoseConclusion, ...] = ()
    report: ReportSettings = Field(default_factory=ReportSettings)
    groups: tuple[Group, ...] = Field(min_length=1)
    multiple_controls: bool = False
    subjects: str | None = None
    plate_layouts: dict[str, str] = Field(default_factory=dict)
    assays: tuple[AssaySpec, ...] = ()
    statistics: StatisticsPlan = Field(default_factory=StatisticsPlan)
    exclusions: str | None = None
    historical_controls: HistoricalControls | None = None

    @model_validator(mode="after")
    def _groups(self) -> StudySpec:
        ids = [g.id for g in self.groups]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"group id {dup[0]!r} is defined more than once")
        if (pair := look_alike(ids)) is not None:
            i, j = pair
            raise ValueError(f"group ids {ids[i]!r} (groups[{i}]) and {ids[j]!r} (groups[{j}]) "
                             f"{READ_ALIKE}; give the groups IDs that read differently")
        labels = [id_key(g.label) for g in self.groups]
        same = [g for g in self.groups if labels.count(id_key(g.label)) > 1]
        if same:   # tables and figures head their columns with the labels
            raise ValueError(f"groups {quoted(g.id for g in same)} have the same label "
                             f"{same[0].label!r} (or labels that differ only in letter case, "
                             "invisible or look-alike characters); give each group its own "
                             "label")
        n_control = sum(g.control for g in self.groups)
        if n_control == 0:
            raise ValueError("no group has 'control: true'")
        if n_control > 1 and not self.multiple_controls:
            raise ValueError(f"{n_control} groups have 'control: true'; set "
                             "'multiple_controls: true' if that is intended")
        _check_doses(self.groups)
        keys = [a.key for a in self.assays]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"assay {dup[0]!r} is listed twice; give each entry an 'id'")
        doses = {g.dose for g in self.groups}
        for key, entries in (("noael", self.noael), ("loael", self.loael)):
            for c in entries:
                if c.dose is not None and c.dose not in doses:
                    raise ValueError(f"{key} dose {c.dose:g} is not a tested dose (tested: "
                                     + ", ".join(f"{d:g}" for d in sorted(doses)) + ")")
        return self

    @field_validator("noael", "loael", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @field_validator("species", "strain", "cell_line", "guideline", "sponsor", "test_facility",
                     "study_director", "test_item_batch", "vehicle", "route", mode="before")
    @classmethod
    def _blank_is_not_given(cls, v: Any) -> Any:
        """``sponsor: ''`` or ``'   '`` is a key still to complete, as a missing key is."""
        return blank_is_none(v)


def _check_doses(groups: tuple[Group, ...]) -> None:
    """One dose unit; no control above a treated dose; doses in list order per test item."""
    units: dict[str, list[str]] = {}
    for g in groups:
        units.setdefault(g.dose_unit, []).append(g.id)
    if len(units) > 1:
        found = "; ".join(f"{u!r} ({', '.join(ids)})" for u, ids in units.items())
        raise ValueError(f"groups use different dose units: {found}; give every group "
                         "the same unit")
    treated = [g for g in groups if not g.control]
    if treated:
        low = min(treated, key=lambda g: g.dose)
        for c in (g for g in groups if g.control):
            if c.dose > low.dose:
                raise ValueError(f"control group {c.id!r} has dose {c.dose:g}, above the "
                                 f"dose {low.dose:g} of treated group {low.id!r}")
    for item in dict.fromkeys(g.test_item for g in treated):
        series = [g for g in groups if g.control or g.test_item == item]
        _check_order(series)


def _check_order(groups: list[Group]) -> None:
    doses = [g.dose for g in groups]
    pairs = list(zip(doses, doses[1:], strict=False))
    if not (all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)):
        listed = ", ".join(f"{g.id} {g.dose:g}" for g in groups)
        raise ValueError(f"group doses are not in one order with the group list ({listed}); "
                         "list the groups by increasing or decreasing dose (in a study of "
                         "several test items, give each group its test_item)")


# ---------------------------------------------------------------- plate wells

_WELL = re.compile(r"^\s*([A-Za-z])\s*0*(\d{1,2})\s*$")
#: Standard plates: wells → (rows, columns), wells numbered row-major.
PLATE_FORMATS = {6: (2, 3), 12: (3, 4), 24: (4, 6), 48: (6, 8), 96: (8, 12), 384: (16, 24)}
#: A canonical well name (``A01`` ... ``P24``), as :func:`normalise_well` returns.
WELL_NAME = re.compile(r"^[A-P]\d{2}$")


def unit_batch(row: Any) -> str:
    """Random-effect unit of a subject: its litter when known, else its batch.

    ``row`` is a subjects-file row (mapping or Series). This is what every assay
    writes into the EndpointTable ``batch`` column, the unit of
    ``statistics.litter_unit``.
    """
    litter = str(row.get("litter", "NA") or "NA")
    return litter if litter != "NA" else str(row.get("batch", "NA") or "NA")


def number_to_well(numbers: Iterable[int], n_columns: int) -> np.ndarray:
    """Row-major well names of 1-based numbers (``1`` → ``A01``; 13 → ``B01`` at 12 columns)."""
    k = np.asarray(numbers, int) - 1
    return np.array([f"{chr(65 + r)}{c + 1:02d}" for r, c in zip(k // n_columns,
                                                                  k % n_columns, strict=True)],
                    dtype=object)


def normalise_well(well: str, *, n_wells: int = 384) -> str:
    """Return the canonical well name ``A01`` for ``A1``, ``A01``, ``a01``.

    Raises
    ------
    ValueError
        Not a well name, or outside a plate of ``n_wells``.

    """
    m = _WELL.match(str(well))
    if not m:
        raise ValueError(f"{well!r} is not a well name like 'A01'")
    rows, cols = PLATE_FORMATS[n_wells]
    row, col = m.group(1).upper(), int(m.group(2))
    if ord(row) - 64 > rows or not 1 <= col <= cols:
        raise ValueError(f"well {well!r} is outside a {n_wells}-well plate")
    return f"{row}{col:02d}"


def resolve_inside(folder: Path, relpath: str, *, what: str, study_file: Path) -> Path:
    """Resolve ``relpath`` against ``folder``; refuse absolute paths and escapes."""
    if Path(relpath).is_absolute() or re.match(r"^[A-Za-z]:[\\/]", relpath):
        raise InputError(f"absolute path {relpath!r} not allowed; give it relative to the "
                         "study file", path=study_file, where=f"key '{what}'")
    full = (folder / relpath).resolve()
    if not full.is_relative_to(folder.resolve()):
        raise InputError(f"path {relpath!r} leaves the study folder", path=study_file,
                         where=f"key '{what}'")
    return full


def read_csv_table(path: Path, *, required: list[str], what: str) -> pd.DataFrame:
    """Read a small CSV of strings, check required columns, strip whitespace.

    Read as labs save it (:func:`neurotox.delimited.read_table`): UTF-8, UTF-16 or
    Windows-1252; ``,``, ``;`` or tab; decimal commas in ``;``/tab files; an xlsx
    workbook's one sheet with values; column names in any case; title lines above
    the header skipped; rows of empty cells below the table (``,,``) dropped. Two
    columns of one name, or an old xls workbook, are errors. How it was read is in
    ``df.attrs["dialect"]``; ``df.attrs["first_row"]`` is the file's row of the
    first data row.
    """
    if not path.exists():
        raise InputError(f"{what} file not found", path=path)
    if path.is_dir():
        raise InputError(f"expected the {what} file, found a folder", path=path)
    table, titles, blank = _table_below_title(path, required)
    above = titles + blank
    df = table.data
    header = list(df.columns)
    df.columns = [str(c).strip().lower() for c in header]
    check_distinct_columns(header, list(df.columns), path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"expected column(s) {quoted(missing)}, found {quoted(df.columns)}",
                         path=path)
    df = df.apply(lambda s: s.str.strip())
    filled = (df != "").any(axis=1).to_numpy()
    df = df.iloc[:filled.nonzero()[0][-1] + 1 if filled.any() else 0]   # no trailing ,,,
    df.attrs["dialect"] = table.describe() + (f", header on line {above + 1} (title "
                                              f"line(s) above it skipped)" if titles else "")
    df.attrs["first_row"] = above + 2
    return df


def _row(df: pd.DataFrame, i: int) -> int:
    """The file's row number of data row ``i`` (the header row is 1, unless titles are above)."""
    return i + int(df.attrs.get("first_row", 2))


def file_row(df: pd.DataFrame, i: int) -> int:
    """The file's row number of data row ``i`` of a table read by :func:`read_csv_table`.

    For checks made outside this module on a layout as :func:`read_layout` returns it.
    """
    return _row(df, i)


#: Title lines above a table's header that are looked through for it.
MAX_TITLE_LINES = 3


def _table_below_title(path: Path, required: list[str]) -> tuple[Table, int, int]:
    """The table, how many title lines above its header were skipped (0 usually), and blank ones.

    Labs put a title line or two above a layout or subjects table ("Plate 1 layout,
    compound X"). When the first line is not a header holding the required
    columns, the next :data:`MAX_TITLE_LINES` lines are tried as the header;
    if none is, the first reading's error (or missing columns) stands.
    """
    try:
        table = read_table(path)
    except FormatError as exc:
        table, error = None, exc
    else:
        error = None
        if set(required) <= {str(c).strip().lower() for c in table.data.columns}:
            return table, 0, _blank_lines(path, table, 0)
    for above in range(1, MAX_TITLE_LINES + 1):
        try:
            below = read_table(path, skiprows=above)
        except (FormatError, InputError):
            continue
        if set(required) <= {str(c).strip().lower() for c in below.data.columns}:
            return below, above, _blank_lines(path, below, above)
    if error is not None:
        raise error
    return table, 0, 0


def _blank_lines(path: Path, table: Table, start: int) -> int:
    """Empty lines from line ``start`` (0-based) on, which the reader skipped before the header.

    Counted so that row numbers in messages stay the file's line numbers.
    """
    if table.sheet is not None:
        from neurotox.workbook import sheet_rows

        rows = sheet_rows(path, sheets=[table.sheet])[table.sheet]
        blank = [all(v is None or str(v).strip() == "" for v in row) for row in rows]
    else:
        lines = path.read_text(encoding=table.encoding, errors="replace").splitlines()
        blank = [not line.strip() for line in lines]
    n = 0
    while start + n < len(blank) and blank[start + n]:
        n += 1
    return n


#: Layout concentration units (as written, case ignored) and their EndpointTable form.
LAYOUT_UNITS = {"nm": "nM", "um": "uM", "µm": "uM", "μm": "uM", "mm": "mM", "m": "M",
                "ug/ml": "ug/mL", "µg/ml": "ug/mL", "mg/l": "mg/L", "ng/ml": "ng/mL",
                "mg/ml": "mg/mL", "%": "%"}
_CONC_HEADER = re.compile(r"^(?:concentration|conc\.?)(?:\s*[(\[]\s*(?P<bracket>[^)\]]+?)\s*"
                          r"[)\]]|[\s_]+(?P<suffix>\S+))?$")


def _concentration_column(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A ``Concentration (µM)``/``conc_uM`` column read as ``concentration`` with its unit.

    The unit goes to ``df.attrs["concentration_unit"]`` (EndpointTable form,
    ``uM``). A column that starts like a concentration but cannot be read as
    one is an error rather than a column silently left out.
    """
    if "concentration" in df.columns:
        return df
    for col in df.columns:
        if not str(col).startswith("conc"):
            continue
        m = _CONC_HEADER.match(str(col))
        unit = m and (m.group("bracket") or m.group("suffix"))
        if m is None or unit is not None and unit.lower() not in LAYOUT_UNITS:
            raise InputError(f"column {col!r} is not read: name it 'concentration', or "
                             f"'concentration (UNIT)' with UNIT one of "
                             f"{quoted(sorted(set(LAYOUT_UNITS.values())))}", path=path)
        df = df.rename(columns={col: "concentration"})
        if unit is not None:
            df.attrs["concentration_unit"] = LAYOUT_UNITS[unit.lower()]
        return df
    return df


def _no_misspelt_group(df: pd.DataFrame, path: Path) -> None:
    """Refuse a header close to ``group`` (``grup``) where there is no ``group`` column.

    Left out, it would let the groups come silently from the concentrations.
    """
    for col in [] if "group" in df.columns else df.columns:
        hint = did_you_mean(str(col), ["group"]) if str(col).startswith("gr") else ""
        if hint:
            raise InputError(f"column {col!r} is not read{hint}", path=path)


def read_layout(path: Path, *, group_ids: set[str] | None = None,
                multi_plate: bool = False, one_concentration: bool | None = None
                ) -> pd.DataFrame:
    """Read a plate layout CSV: ``well`` plus ``group`` and/or ``concentration``.

    The concentration column may carry its unit (``Concentration (µM)``,
    ``conc_uM``): ``df.attrs["concentration_unit"]``.

    Wells are normalised to ``A01``; the plate format (96 or 384) is inferred from
    the wells used. Rows with an empty group and concentration, or group
    ``blank``/``empty``, are blank wells (``blank`` column True).

    With ``multi_plate``, a ``plate`` column naming several plates makes one file
    the layout of each (a well is unique per plate; ``df.attrs["plates"]`` lists
    them, :func:`split_plates` separates them): zebrafish runs, whose exports
    name their plates. Otherwise a layout is one plate.

    With ``one_concentration`` (default: when ``group_ids`` are given, i.e. the
    groups are a study's), every well of a group must give the same concentration
    (:func:`check_group_concentrations`). Whether it is the study's dose is for
    the assay that takes doses from the layout to check (:func:`check_study_doses`).
    """
    df = read_csv_table(path, required=["well"], what="plate layout")
    if df.empty:
        raise InputError("expected at least one well row below the header, found none",
                         path=path)
    df = _concentration_column(df, path)
    _no_misspelt_group(df, path)
    if "group" not in df.columns and "concentration" not in df.columns:
        raise InputError("expected a 'group' or 'concentration' column, found "
                         f"{quoted(df.columns)}", path=path)
    plates = _layout_wells(df, path, multi_plate)
    group = df["group"] if "group" in df.columns else pd.Series("", index=df.index)
    conc = df["concentration"] if "concentration" in df.columns else pd.Series("", index=df.index)
    df["blank"] = group.str.lower().isin(["blank", "empty"]) | ((group == "") & (conc == ""))
    if "concentration" in df.columns:
        num = pd.to_numeric(conc.where(conc != ""), errors="coerce")
        bad = num.isna() & (conc != "")
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"expected a number, found {conc.iloc[i]!r}", path=path,
                             where=f"row {_row(df, i)}, column 'concentration'")
        bad = (num < 0) | ~num.fillna(0).map(math.isfinite)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"expected a finite concentration >= 0, found {conc.iloc[i]!r}",
                             path=path, where=f"row {_row(df, i)}, column 'concentration'")
        dosed = set(group[num.notna()])
        lacking = num.isna() & ~df["blank"] & group.isin(dosed)
        if lacking.any():
            i = int(lacking.to_numpy().nonzero()[0][0])
            raise InputError(f"empty, while other wells of group {group.iloc[i]!r} give a "
                             "concentration", path=path,
                             where=f"row {_row(df, i)}, column 'concentration'")
        df["concentration"] = num
    if one_concentration or (one_concentration is None and group_ids is not None):
        check_group_concentrations(df, path)
    if group_ids is not None and "group" in df.columns:
        unknown = ~df["blank"] & (group != "") & ~group.isin(group_ids)
        if unknown.any():
            i = int(unknown.to_numpy().nonzero()[0][0])
            raise InputError(f"group {group.iloc[i]!r} is not defined in the study "
                             f"(defined: {quoted(group_ids)})", path=path,
                             where=f"row {_row(df, i)}, column 'group'")
    rows = max((ord(w[0]) - 64 for w in df["well"]), default=1)
    cols = max((int(w[1:]) for w in df["well"]), default=1)
    df.attrs["n_wells"] = 96 if rows <= 8 and cols <= 12 else 384
    df.attrs["path"] = str(path)
    if plates:
        df.attrs["plates"] = plates
    return df


def _same_dose(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_group_concentrations(df: pd.DataFrame, path: Path) -> None:
    """Every well of a layout group at one concentration (on every plate).

    A control group holding a dosed well, or a dose group holding two
    concentrations, would be pooled by the statistics. Blank wells and wells
    without a concentration are not compared.

    Raises
    ------
    InputError
        Naming the file, the row where a second concentration of the group appears,
        and both concentrations (``group 'G1' has concentrations 0 and 5``).

    """
    if "group" not in df.columns or "concentration" not in df.columns:
        return
    first: dict[str, float] = {}
    for i, (group, conc, blank) in enumerate(zip(df["group"], df["concentration"], df["blank"],
                                                 strict=True)):
        if blank or not group or pd.isna(conc):
            continue
        seen = first.setdefault(group, float(conc))
        if not _same_dose(seen, float(conc)):
            low, high = sorted((seen, float(conc)))
            raise InputError(f"group {group!r} has concentrations {low:g} and {high:g}; a group "
                             "is one concentration (give each concentration its own group)",
                             path=path, where=f"row {_row(df, i)}, column 'concentration'")


def check_study_doses(df: pd.DataFrame, doses: dict[str, tuple[float, str]]) -> None:
    """A layout concentration of a study group is the group's dose in the study.

    For assays that run a layout with a study's groups: a well at another
    concentration than its group's dose would enter the statistics at a dose
    the study does not give. ``df`` is a layout as :func:`read_layout` returns it
    (rows in file order); ``doses`` maps group ID → (dose, dose unit). A layout
    whose header gives another unit (``conc (nM)``) is not compared here: the
    assay refuses the unit itself.

    Raises
    ------
    InputError
        Naming the layout file, row and the study's dose.

    """
    if "group" not in df.columns or "concentration" not in df.columns:
        return
    path = df.attrs.get("path")
    unit = df.attrs.get("concentration_unit")
    for i, (group, conc) in enumerate(zip(df["group"], df["concentration"], strict=True)):
        dose, dose_unit = doses.get(group, (None, None))
        if dose is None or pd.isna(conc) or (unit is not None and unit != dose_unit):
            continue
        if not _same_dose(dose, float(conc)):
            raise InputError(f"group {group!r} has dose {dose:g} {dose_unit} in the study, "
                             f"found concentration {float(conc):g}", path=path,
                             where=f"row {_row(df, i)}, column 'concentration'")


_LOCATION = re.compile(r"^\s*[cC]0*(\d{1,3})\s*$")


def _location_numbers(values: pd.Series) -> pd.Series | None:
    """The numbers of a column of ZebraLab location codes (``c01`` → 1), else None."""
    found = values.astype(str).str.extract(_LOCATION, expand=False)
    if found.isna().any() or not len(found):
        return None
    return found.astype(int)


def _locations(num: pd.Series | None) -> list[str] | None:
    """Well names for a column of ZebraLab location codes (``c01`` … ``c96``), else None.

    ``num``: the codes' numbers (:func:`_location_numbers`), None when the column
    is not all codes.

    ``c01`` is also the well C01: the codes are told apart only when every value
    is one and some number is beyond a plate's last column (``c25``); they are then
    numbered row-major as the exports' locations are (12 columns, 24 above 96).
    Codes ``c01`` … ``c24`` alone stay wells of row C here; a zebrafish export that
    numbers its larvae may still read them as its locations
    (:func:`neurotox.assays.zebrafish.design.codes_as_locations`).
    """
    if num is None or num.max() <= 24:
        return None
    return list(number_to_well(num, 12 if num.max() <= 96 else 24))


def _layout_wells(df: pd.DataFrame, path: Path, multi_plate: bool) -> list[str]:
    """Normalise the ``well`` column in place; a well twice (per plate) is an error.

    Returns the plates of a multi-plate layout (:func:`_layout_plates`), else [].
    """
    wells = []
    num = _location_numbers(df["well"])
    locations = _locations(num)
    for i, w in enumerate(df["well"] if locations is None else locations):
        try:
            wells.append(normalise_well(w))
        except ValueError as exc:
            raise InputError(str(exc), path=path,
                             where=f"row {_row(df, i)}, column 'well'") from None
    if locations is None and num is not None:
        df.attrs["location_codes"] = True   # c01 … c24: wells of row C, or locations
    if locations is not None:     # said with how the file was read (the run notes)
        df.attrs["dialect"] = (df.attrs.get("dialect") or "") + \
            "; wells given as ZebraLab locations c01 ..., row-major (c01 = A01, c13 = B01 " \
            "on a 96-well plate; a zebrafish export is joined on its own locations)"
        # the codes themselves: a zebrafish export with locations is joined on them
        df["location"] = num
    df["well"] = wells
    plates = _layout_plates(df, path) if multi_plate else []
    dup = df.duplicated(["plate", "well"]) if plates else df["well"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        if plates:
            why = f" on plate {df['plate'].iloc[i]!r}"
        elif "plate" in df.columns:
            why = ("; a layout describes one plate (its 'plate' column is not read): give "
                   "each plate its own layout and run, or name the images by well "
                   "(--pattern '{well}_...')")
        else:
            why = ""
        raise InputError(f"well {df['well'].iloc[i]!r} appears twice{why}", path=path,
                         where=f"row {_row(df, i)}, column 'well'")
    return plates


def _layout_plates(df: pd.DataFrame, path: Path) -> list[str]:
    """The plates of a layout's ``plate`` column when it names more than one, else []."""
    if "plate" not in df.columns or df["plate"].nunique() < 2:
        return []
    empty = df["plate"] == ""
    if empty.any():
        i = int(empty.to_numpy().nonzero()[0][0])
        raise InputError("plate is empty (other rows name their plate)", path=path,
                         where=f"row {_row(df, i)}, column 'plate'")
    return sorted(set(df["plate"]))


def split_plates(layout: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One layout per plate of a multi-plate layout (:func:`read_layout`), keyed by plate.

    Plate IDs lose leading zeros (``018103`` → ``18103``), as export plate IDs do.
    A layout without a (filled) ``plate`` column is returned as is, under ``"*"``
    (every plate).
    """
    if "plate" not in layout.columns or (layout["plate"] == "").any():
        return {"*": layout}
    out = {}
    for plate, rows in layout.groupby("plate", sort=True):
        part = rows.drop(columns="plate").reset_index(drop=True)
        part.attrs = {k: v for k, v in layout.attrs.items() if k != "plates"}
        part.attrs["plate_column"] = True   # its plate is named: used for that plate only
        out[str(plate).lstrip("0") or str(plate)] = part
    return out


def _no_formula_ids(row: Any, path: Path, where: str) -> None:
    """Refuse a subject, batch, litter or cohort a spreadsheet would run as a formula."""
    for col in ("subject", "batch", "litter", "cohort"):
        problem = formula_problem(str(getattr(row, col, "")))
        if problem:
            raise InputError(f"{col} {problem}", path=path, where=f"{where}, column {col!r}")


def read_subjects(path: Path, groups: dict[str, Group]) -> pd.DataFrame:
    """Read the subjects CSV (subject, group, sex, optional batch/litter/cohort) and check it.

    An empty ``batch`` or ``litter`` is ``NA``; an empty (or absent) ``cohort`` is
    ``""``: the subject belongs to no cohort.
    """
    df = read_csv_table(path, required=["subject", "group", "sex"], what="subjects")
    allowed = {"subject", "group", "sex", "batch", "litter", "cohort", "id_note"}
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise InputError(f"unexpected column(s) {quoted(extra)}; allowed: {quoted(allowed)}",
                         path=path)
    mapped: dict[str, str] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        where = f"row {_row(df, i)}"
        if not row.subject:
            raise InputError("subject is empty", path=path, where=f"{where}, column 'subject'")
        _no_formula_ids(row, path, where)
        if row.group not in groups:
            raise InputError(f"group {row.group!r} is not defined in the study (defined: "
                             f"{quoted(groups)})", path=path, where=f"{where}, column 'group'")
        sex = parse_sex(row.sex)
        if sex is None:
            raise InputError(f"sex {row.sex!r} is not M, F or NA (or a common spelling such "
                             "as 'male', 'Female', 'w', 'männlich')", path=path,
                             where=f"{where}, column 'sex'")
        if row.sex != sex.value:
            mapped[row.sex] = sex.value
    df["sex"] = df["sex"].map(lambda s: parse_sex(s).value)  # type: ignore[union-attr]
    df.attrs["sex_codes"] = mapped
    dup = df["subject"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"subject {df['subject'].iloc[i]!r} appears twice", path=path,
                         where=f"row {_row(df, i)}, column 'subject'")
    check_distinct_ids(df["subject"].tolist(), path=path, column="subject",
                       first_row=_row(df, 0))
    for col in ("batch", "litter"):
        if col not in df.columns:
            df[col] = "NA"
        df[col] = df[col].replace("", "NA")
    if "cohort" not in df.columns:
        df["cohort"] = ""
    return df


def invisible_character(text: str) -> str | None:
    """The first invisible or control character of ``text`` as ``U+200B (ZERO WIDTH SPACE)``."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp") or (cat == "Zs" and ch != " "):
            return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'control character')})"
    return None


#: Letters and dashes that look like ASCII ones (Cyrillic and Greek capitals and small
#: letters, Unicode hyphens and minus signs), for :func:`id_key`.
LOOK_ALIKE = str.maketrans(
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0430\u0435\u043e"
    "\u0440\u0441\u0443\u0445\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f"
    "\u03a1\u03a4\u03a5\u03a7\u03bf\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63",
    "ABEKMHOPCTXaeopcyxABEZHIKMNOPTYXo--------")


def id_key(text: str) -> str:
    """What an ID looks like to a reader.

    Invisible characters dropped, runs of spaces as one, NFKC (full-width letters
    as ASCII), look-alike Cyrillic/Greek letters and dashes as ASCII, case folded.
    """
    shown = "".join(ch for ch in text if invisible_character(ch) is None)
    shown = " ".join(unicodedata.normalize("NFKC", shown).split())
    return shown.translate(LOOK_ALIKE).casefold()


#: Why two IDs of :func:`look_alike` cannot be told apart (in error messages).
READ_ALIKE = "differ only in letter case, invisible or look-alike characters"


def look_alike(ids: list[str]) -> tuple[int, int] | None:
    """Positions (later, earlier) of the first two different IDs that read the same.

    Subject IDs, group IDs and group labels all go through this one check
    (:func:`id_key`: letter case, character width, invisible characters, Latin
    ``A2`` beside Cyrillic ``А2``).
    """
    seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        key = id_key(value)
        if key in seen and ids[seen[key]] != value:
            return i, seen[key]
        seen.setdefault(key, i)
    return None


def check_table_ids(table: pd.DataFrame, *, path: Path, columns: tuple[str, ...]) -> None:
    """Refuse a table's IDs that read alike (:func:`look_alike`), naming their first rows.

    For an EndpointTable analysed without a study, whose subjects file would
    otherwise refuse them. Rows count the header as row 1, as in the CSV.
    """
    for column in columns:
        values = table[column].astype(str).tolist()
        first = {v: i for i, v in reversed(list(enumerate(values)))}
        ids = sorted(first, key=first.get)
        if (pair := look_alike(ids)) is not None:
            a, b = (ids[k] for k in pair)
            raise InputError(f"{column} {a!r} (row {first[a] + 2}) and {b!r} (row "
                             f"{first[b] + 2}) {READ_ALIKE}; give them IDs that read "
                             "differently", path=path,
                             where=f"row {first[a] + 2}, column {column!r}")


def check_distinct_ids(ids: list[str], *, path: Path, column: str, first_row: int = 2) -> None:
    """Refuse IDs that a reader cannot tell apart.

    Two IDs that differ only in letter case, character width or invisible
    characters (a BOM, a zero-width space ...) are an error naming both; so is
    an ID holding an invisible character.
    """
    if (pair := look_alike(ids)) is not None:
        i, j = pair
        raise InputError(f"subject {ids[i]!r} (row {i + first_row}) and {ids[j]!r} (row "
                         f"{j + first_row}) {READ_ALIKE}; give them IDs that read differently",
                         path=path, where=f"row {i + first_row}, column {column!r}")
    for i, sid in enumerate(ids):
        hidden = invisible_character(sid)
        if hidden:
            raise InputError(f"subject {sid!r} holds the invisible character {hidden}",
                             path=path, where=f"row {i + first_row}, column {column!r}")


def left_to_complete(spec: StudySpec) -> list[str]:
    """Study-file keys whose absence leaves something to complete in a GLP report.

    A line to complete on the title page or in the statements, or a NOAEL/LOAEL
    "to be entered by the study director". Empty for a non-GLP study, and for a
    GLP study whose report is ready to be signed.
    """
    if not spec.glp:
        return []
    d, r = spec.dates, spec.report
    keys = (("sponsor", spec.sponsor), ("test_facility", spec.test_facility),
            ("study_director", spec.study_director), ("dates.initiation", d.initiation),
            ("dates.experimental_start", d.experimental_start),
            ("dates.experimental_end", d.experimental_end),
            ("report.qa_inspections", r.qa_inspections), ("report.qa_name", r.qa_name),
            ("report.glp_exceptions", r.glp_exceptions), ("report.archive", r.archive),
            ("noael", spec.noael), ("loael", spec.loael))
    return [k for k, v in keys if v is None or v == ()]


def check_signable(spec: StudySpec, path: str | Path) -> None:
    """Refuse to sign (finalise) a GLP report that still has something to complete.

    A signed report folder is final: it is never replaced, not even with
    ``--force``. A GLP study whose study file leaves out a key of
    :func:`left_to_complete` would be signed with lines to complete in it.

    Raises
    ------
    InputError
        ``spec`` is a GLP study with keys left to complete; the message names them.

    """
    missing = left_to_complete(spec)
    if missing:
        them = "it" if len(missing) == 1 else "them"
        raise InputError(f"a signed GLP report is final, but the study file leaves out "
                         f"{', '.join(missing)}; add {them}, or write an unsigned draft "
                         "(without --sign-key and NEUROTOX_SIGN_KEY_FILE)", path=path)


@dataclass
class Study:
    """A loaded and validated study.

    Attributes
    ----------
    spec
        The validated YAML content.
    path
        The study file.
    subjects
        Subjects table (empty when the study has none, e.g. an in-vitro study).
    layouts
        Plate layouts by plate ID.
    notes
        Decisions taken while loading (sex codes mapped to M/F/NA), for the run
        manifest.

    """

    spec: StudySpec
    path: Path
    subjects: pd.DataFrame = field(default_factory=pd.DataFrame)
    layouts: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        """Folder of the study file; relative paths resolve against it."""
        return self.path.parent

    @property
    def study_id(self) -> str:
        """Study number."""
        return self.spec.study_id

    @cached_property
    def groups(self) -> dict[str, Group]:
        """Groups by ID, in study order."""
        return {g.id: g for g in self.spec.groups}

    @property
    def control(self) -> Group:
        """The (first) control group."""
        return next(g for g in self.spec.groups if g.control)

    def known_subjects(self) -> set[str] | None:
        """Animals and litter means of the subjects file (None without one)."""
        return set(self._subject_design().index) if len(self.subjects) else None

    def resolve(self, relpath: str, what: str) -> Path:
        """Resolve a path from the study file, refusing escapes from its folder."""
        return resolve_inside(self.folder, relpath, what=what, study_file=self.path)

    def assay_inputs(self, spec: AssaySpec) -> list[Path]:
        """Resolved input files of an assay entry (globs allowed, sorted).

        A file named twice (the same path twice, by two spellings or a link, or
        matched by two patterns), or two files with the same bytes (a copy), is
        an error, as on the command line: read twice, every animal would be a
        duplicate or its data doubled.
        """
        out: list[Path] = []
        seen: dict[Path, int] = {}
        for k, rel in enumerate(spec.input):
            where = f"key 'assays.{spec.key}.input[{k}]'"
            for p in self._input_paths(spec, k, rel):
                first = seen.setdefault(Path(os.path.realpath(p)), k)
                if first != k:
                    raise InputError(f"input {rel!r} names the file '{p.name}' a second time "
                                     f"(input[{first}] is {spec.input[first]!r}); list each "
                                     "input file once", path=self.path, where=where)
                out.append(p)
        register_inputs(out)   # hashed as they are now, before any assay reads them
        twins = same_content(out)
        if twins:
            k = next(k for k, rel in enumerate(spec.input) if twins[1] in
                     self._input_paths(spec, k, rel))
            raise InputError(f"the inputs '{twins[0].name}' and '{twins[1].name}' hold the same "
                             "bytes (a copy listed as well?); list each input file once",
                             path=self.path, where=f"key 'assays.{spec.key}.input[{k}]'")
        return out

    def _input_paths(self, spec: AssaySpec, k: int, rel: str) -> list[Path]:
        """The files one entry of an assay's ``input`` list names."""
        if any(ch in rel for ch in "*?["):
            self.resolve(rel.split("*")[0] or ".", f"assays.{spec.key}.input[{k}]")
            register_pattern(self.folder, rel,
                             f"{self.path}, key 'assays.{spec.key}.input[{k}]'")
            matches = self._skip_outputs(sorted(self.folder.glob(rel)), rel)
            outside = [p for p in matches if not p.resolve().is_relative_to(self.folder.resolve())]
            if outside:     # as a path naming it would be: never dropped without a word
                raise InputError(f"pattern {rel!r} matches '{outside[0].name}', a link that "
                                 "leaves the study folder; keep input files inside it",
                                 path=self.path, where=f"key 'assays.{spec.key}.input[{k}]'")
            if not matches:
                raise InputError(f"pattern {rel!r} matches no file", path=self.path,
                                 where=f"key 'assays.{spec.key}.input[{k}]'")
            return matches
        p = self.resolve(rel, f"assays.{spec.key}.input[{k}]")
        if not p.exists():
            raise InputError(f"input {rel!r} not found", path=self.path,
                             where=f"key 'assays.{spec.key}.input[{k}]'")
        return [p]

    def _skip_outputs(self, matches: list[Path], pattern: str) -> list[Path]:
        """``matches`` without the files inside a neurotox output folder (earlier results)."""
        top = self.folder.resolve()
        kept, skipped = [], set()

        @functools.cache
        def output(d: Path) -> bool:        # each folder resolved and looked at once
            r = d.resolve()
            return r != top and r.is_relative_to(top) and is_output_folder(d)

        for p in matches:
            hit = next((d for d in p.parents if output(d)), None)
            if hit is None:
                kept.append(p)
            else:
                skipped.add(hit)
        if skipped:
            names = ", ".join(sorted(repr(d.relative_to(self.folder).as_posix())
                                     for d in skipped))
            run_note(f"input pattern {pattern!r} of {self.path.name}: skipped the files in "
                     f"the neurotox output folder(s) {names} (results of an earlier run, "
                     "not inputs)")
        return kept

    def subject_info(self, subject: str) -> dict[str, str]:
        """Group, sex and batch/litter of one subject; InputError if unknown."""
        hit = self.subjects[self.subjects["subject"] == subject] if len(self.subjects) else []
        if len(hit) == 0:
            raise InputError(f"subject {subject!r} is not in the study's subjects file",
                             path=self.path, where="key 'subjects'")
        return hit.iloc[0].to_dict()

    def check_table_subjects(self, table: pd.DataFrame, *, path: str | Path | None) -> None:
        """Check an EndpointTable's subjects, groups and sexes against the subjects file.

        A subject is an animal of the subjects file, or ``<litter>_<sex>`` for a
        litter mean. Without a subjects file nothing is checked; with plate
        layouts as well, subjects not in the file are taken for wells.

        Raises
        ------
        InputError
            An unknown animal, or a group or sex differing from the subjects file,
            naming the row (CSV line) and column.

        """
        if not len(self.subjects):
            return
        info = self._subject_design()
        subj = table["subject"].astype(str)
        known = subj.isin(info.index)
        if not known.all() and not self.spec.plate_layouts:
            i = int((~known).to_numpy().nonzero()[0][0])
            raise InputError(f"subject {subj.iloc[i]!r} is not in the study's subjects file "
                             f"({self.spec.subjects})", path=path,
                             where=f"row {i + 2}, column 'subject'")
        for column in ("group", "sex"):
            expected = subj.map(info[column])
            bad = known & (table[column].astype(str) != expected)
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                raise InputError(f"subject {subj.iloc[i]!r} has {column} "
                                 f"{expected.iloc[i]!r} in the subjects file, found "
                                 f"{table[column].iloc[i]!r}", path=path,
                                 where=f"row {i + 2}, column {column!r}")

    def _subject_design(self) -> pd.DataFrame:
        """Group and sex by subject, litter means (``<litter>_<sex>``) included."""
        animals = self.subjects.set_index("subject")[["group", "sex", "litter"]]
        litters = animals[animals["litter"] != "NA"].drop_duplicates(["litter", "sex"])
        means = pd.DataFrame({"group": litters["group"].to_numpy(),
                              "sex": litters["sex"].to_numpy()},
                             index=litters["litter"] + "_" + litters["sex"])
        means = means[~means.index.isin(animals.index)]
        return pd.concat([animals[["group", "sex"]], means])

    def expected_subjects(self, cohorts: tuple[str, ...] = ()) -> pd.DataFrame:
        """Animals an assay entry measures: those of ``cohorts``, else every animal.

        Columns ``subject``, ``group``, ``sex``, ``litter``, ``cohort``; empty
        without a subjects file.
        """
        if not len(self.subjects):
            return pd.DataFrame(columns=["subject", "group", "sex", "litter", "cohort"])
        animals = self.subjects
        if cohorts:
            animals = animals[animals["cohort"].isin(cohorts)]
        return animals[["subject", "group", "sex", "litter", "cohort"]].reset_index(drop=True)

    def assay_subjects(self, table: pd.DataFrame,
                       cohorts: tuple[str, ...] = ()) -> pd.DataFrame | None:
        """Subjects an assay entry should hold a value for, in the form its table uses.

        Parameters
        ----------
        table
            The EndpointTable of one assay entry.
        cohorts
            The entry's ``cohorts`` (empty: every animal of the subjects file).

        Returns
        -------
        pandas.DataFrame or None
            ``subject``, ``group``, ``sex``, ``cohort``, sorted by subject: the animals, or
            their litter means (``<litter>_<sex>``) when the table holds litter
            means. None when the table's subjects are neither (wells, larvae);
            empty without a subjects file.

        """
        expected = self.expected_subjects(cohorts)
        present = set(table["subject"].astype(str))
        if len(self.subjects) and present and not present & set(self.subjects["subject"]):
            if not present & set(self._subject_design().index):
                return None
            expected = expected[expected["litter"] != "NA"]
            expected = expected.assign(subject=expected["litter"] + "_" + expected["sex"])
            expected = expected.drop_duplicates("subject")
        return expected[["subject", "group", "sex", "cohort"]].sort_values("subject",
                                                                           ignore_index=True)

    def input_files(self) -> list[Path]:
        """Every file the study itself references (for the manifest)."""
        files = [self.path]
        if self.spec.subjects:
            files.append(self.resolve(self.spec.subjects, "subjects"))
        files += [self.resolve(p, f"plate_layouts.{k}") for k, p in self.spec.plate_layouts.items()]
        if self.spec.exclusions:
            files.append(self.resolve(self.spec.exclusions, "exclusions"))
        return files


#: Assays whose entry takes a layout with a ``plate`` column naming several plates
#: (the exports name their plates); every other assay reads one plate per layout.
MULTI_PLATE_ASSAYS = frozenset({"zebrafish_lpr"})


def _one_plate_layout(study: Study, spec: AssaySpec) -> None:
    """Refuse a multi-plate layout for an entry that reads one plate per layout."""
    if spec.assay in MULTI_PLATE_ASSAYS:
        return
    key = spec.layout or (next(iter(study.layouts)) if len(study.layouts) == 1 and
                          spec.assay == "neurite_outgrowth" else None)
    plates = study.layouts[key].attrs.get("plates") if key is not None else None
    if plates:
        raise InputError(f"layout {key!r} names {len(plates)} plates ({quoted(plates)}) in its "
                         f"'plate' column, but a {spec.assay} entry ({spec.key!r}) reads one "
                         "plate per layout: give each plate its own file in plate_layouts and "
                         "name it in the entry's 'layout'",
                         path=study.layouts[key].attrs.get("path"), where="column 'plate'")


def _known_cohorts(study: Study, spec: AssaySpec, k: int) -> None:
    """Refuse an entry's cohort that no subject of the subjects file belongs to."""
    if not spec.cohorts:
        return
    where = f"key 'assays[{k}].cohorts'"
    if not len(study.subjects):
        raise InputError(f"the {spec.key!r} entry names cohorts, but the study has no subjects "
                         "file", path=study.path, where=where)
    known = sorted(set(study.subjects["cohort"]) - {""})
    for cohort in spec.cohorts:
        if cohort not in known:
            found = f"its cohorts: {quoted(known)}" if known else "it has no 'cohort' column"
            raise InputError(f"cohort {cohort!r} is not in the subjects file "
                             f"({study.spec.subjects}){did_you_mean(cohort, known)}; {found}",
                             path=study.path, where=where)


def load_study(path: str | Path) -> Study:
    """Load, validate and return a study.

    Raises
    ------
    InputError
        Any problem, naming the file and the key, row or column.

    """
    path = Path(path)
    data = load_yaml(path)
    if data is None:
        raise InputError("the study file is empty (no study keys)", path=path)
    if not isinstance(data, dict):
        found = {"list": "a list", "str": "a line of text"}.get(type(data).__name__,
                                                                f"a {type(data).__name__}")
        raise InputError(f"expected study keys ('key: value' lines), found {found}", path=path)
    quoted_scalar(data, StudySpec, path)     # dose: "10" is text, not a number
    try:
        spec = StudySpec.model_validate(data)
    except PydanticError as exc:
        raise pydantic_message(exc, path, model=StudySpec) from None
    study = Study(spec=spec, path=path.resolve())
    if spec.subjects:
        study.subjects = read_subjects(study.resolve(spec.subjects, "subjects"), study.groups)
        study.notes += dialect_note(spec.subjects, study.subjects.attrs.get("dialect", ""))
        codes = study.subjects.attrs.get("sex_codes", {})
        if codes:
            study.notes.append(f"{spec.subjects}: sex codes mapped: " + ", ".join(
                f"{k!r} -> {v}" for k, v in sorted(codes.items())))
    for plate, rel in spec.plate_layouts.items():
        study.layouts[plate] = read_layout(study.resolve(rel, f"plate_layouts.{plate}"),
                                           group_ids=set(study.groups), multi_plate=True)
        study.notes += dialect_note(rel, study.layouts[plate].attrs.get("dialect", ""))
    for k, a in enumerate(spec.assays):
        study.assay_inputs(a)  # paths stay inside the folder and exist
        if a.layout is not None and a.layout not in study.layouts:
            raise InputError(f"layout {a.layout!r} is not among plate_layouts "
                             f"({quoted(study.layouts)})", path=path,
                             where=f"key 'assays[{k}].layout'")
        _one_plate_layout(study, a)
        _known_cohorts(study, a, k)
    if spec.exclusions:
        read_exclusions(study.resolve(spec.exclusions, "exclusions"),
                        subjects=None if spec.plate_layouts else study.known_subjects())
    study.notes += [f"warning: {path.name}, {w}" for w in qa_warnings(spec)]
    for w in date_warnings(spec):   # said by every command that reads the study
        run_note(f"warning: {path.name}, {w}")
    return study


def future_date(value: object, what: str, today: dt.date | None = None) -> str | None:
    """Why the date ``value`` (a date or ISO text) has not come yet, or None.

    The one rule for every date a study is said to have: a day after tomorrow
    (UTC: a study that ended today east of Greenwich may be dated tomorrow) lies
    in the future. Text that is no ISO date (or nothing) is said elsewhere: None.
    """
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value or ""))
    except ValueError:
        return None
    today = today or dt.datetime.now(dt.UTC).date()
    if day > today + dt.timedelta(days=1):
        return f"{what} {day} lies in the future (today is {today}, UTC)"
    return None


def date_warnings(spec: StudySpec, today: dt.date | None = None) -> list[str]:
    """The study's ``dates`` that lie in the future (:func:`future_date`), one line each.

    A warning, not an error: a study plan may be written before its dates come.
    """
    out = []
    for name in ("initiation", "experimental_start", "experimental_end", "report"):
        problem = future_date(getattr(spec.dates, name), f"key 'dates.{name}':", today)
        if problem:
            out.append(f"{problem}: a study still planned, or a typo?")
    return out


def qa_warnings(spec: StudySpec, today: dt.date | None = None) -> list[str]:
    """What the QA statement's inspections say that cannot be so, one line each.

    An inspection date before ``dates.initiation``, after ``dates.report`` or
    after ``today`` (UTC); a report date before its inspection; inspections
    listed without one of the report (no phase naming "report"), after which
    the QA statement cannot say the report was inspected.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    d, out = spec.dates, []
    for i, q in enumerate(spec.report.qa_inspections):
        key = f"report.qa_inspections[{i}]"
        if q.inspected and q.reported and q.reported < q.inspected:
            out.append(f"key '{key}.reported': reported ({q.reported}) before the inspection "
                       f"({q.inspected})")
        for name in ("inspected", "reported"):
            day = getattr(q, name)
            if day is None:
                continue
            if d.initiation and day < d.initiation:
                out.append(f"key '{key}.{name}': {day} is before the study's initiation "
                           f"(dates.initiation {d.initiation})")
            if d.report and day > d.report:
                out.append(f"key '{key}.{name}': {day} is after the report date "
                           f"(dates.report {d.report})")
            if day > today:
                out.append(f"key '{key}.{name}': {day} is in the future (today is {today})")
    if spec.report.qa_inspections and not reports_inspected(spec):
        out.append("key 'report.qa_inspections': no inspection of the report is listed (no "
                   "phase naming 'report'); the QA statement does not say the report was "
                   "inspected")
    return out


def reports_inspected(spec: StudySpec) -> bool:
    """Whether the QA inspections listed include one of the report (a phase naming it)."""
    return any("report" in q.phase.lower() for q in spec.report.qa_inspections)


EXCLUSION_COLUMNS = ("subject", "endpoint", "timepoint", "reason", "comment")


def read_exclusions(path: Path, *, subjects: set[str] | None = None) -> pd.DataFrame:
    """Read a manual exclusions file: ``subject``, ``reason``, optional ``endpoint``, ``timepoint``.

    Every row needs a reason (GLP: exclusions are documented, never silent). An
    endpoint must be a registered endpoint; with ``subjects`` (the study's
    animals and litter means), a subject must be one of them. A row repeating
    an earlier one is an error. Empty ``endpoint``/``timepoint`` mean all.
    """
    from neurotox.endpoints import registry

    df = read_csv_table(path, required=["subject", "reason"], what="exclusions")
    extra = [c for c in df.columns if c not in EXCLUSION_COLUMNS]
    if extra:
        raise InputError(f"unexpected column(s) {quoted(extra)}; allowed: "
                         f"{quoted(EXCLUSION_COLUMNS)}", path=path)
    for col in ("endpoint", "timepoint"):
        if col not in df.columns:
            df[col] = ""
    known_endpoints = registry()
    seen: dict[tuple[str, str, str], int] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        where = f"row {_row(df, i)}"
        if not row.subject:
            raise InputError("subject is empty", path=path, where=f"{where}, column 'subject'")
        _no_formula_ids(row, path, where)
        if not row.reason:
            raise InputError("exclusion has no reason", path=path,
                             where=f"{where}, column 'reason'")
        if subjects is not None and row.subject not in subjects:
            raise InputError(f"subject {row.subject!r} is not in the study's subjects file"
                             f"{did_you_mean(row.subject, sorted(subjects))}",
                             path=path, where=f"{where}, column 'subject'")
        if row.endpoint and row.endpoint not in known_endpoints:
            raise InputError(f"unknown endpoint {row.endpoint!r}; see 'neurotox endpoints "
                             "list'", path=path, where=f"{where}, column 'endpoint'")
        key = (row.subject, row.endpoint, row.timepoint)
        if key in seen:
            raise InputError(f"repeats row {seen[key]} (same subject, endpoint and "
                             "timepoint)", path=path, where=where)
        seen[key] = i + 2
    return df
