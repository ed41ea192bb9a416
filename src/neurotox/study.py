"""The study file: groups, doses, subjects, plate layouts, assays and statistical plan.

A study is a YAML file (loaded with ``yaml.safe_load`` only) plus the CSV files
it names. Paths are relative to the study file and may not leave its folder.
Every model is closed (``extra="forbid"``): a misspelt key is an error, never a
silent default.

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
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from neurotox.errors import InputError, quoted
from neurotox.vocab import Sex, parse_sex
from neurotox.yamlio import load_yaml, pydantic_message

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class Group(BaseModel):
    """A dose group."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    dose: float = Field(ge=0, allow_inf_nan=False)
    dose_unit: str = Field(min_length=1)
    control: bool = False


class AssaySpec(BaseModel):
    """One assay of the study: which protocol, which raw files, which overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    assay: str = Field(min_length=1)
    protocol: str = Field(min_length=1)
    input: tuple[str, ...] = Field(min_length=1)
    layout: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, pattern=_ID)

    @field_validator("input", mode="before")
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
        Censored fraction of a stratum above which the censoring-aware rank test is
        used whatever the policy.
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
        import difflib

        from neurotox.endpoints import registry

        known = registry()
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                raise ValueError(f"unknown endpoint {name!r}"
                                 + (f" (did you mean {close[0]!r}?)" if close else
                                    "; see 'neurotox endpoints list'"))
        return names


class StudyDates(BaseModel):
    """Dates of the study plan shown on the report's title page (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initiation: dt.date | None = None
    experimental_start: dt.date | None = None
    experimental_end: dt.date | None = None
    report: dt.date | None = None


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


class QaInspection(BaseModel):
    """One QA inspection listed in the quality assurance statement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: str = Field(min_length=1)
    inspected: dt.date | None = None
    reported: dt.date | None = None


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

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    paper: Literal["a4", "letter"] = "a4"
    spread: Literal["sd", "sem"] = "sd"
    qa_inspections: tuple[QaInspection, ...] = ()

    @field_validator("paper", "spread", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        """``A4``, ``Letter``, ``SD`` are written as often as ``a4``, ``letter``, ``sd``."""
        return v.strip().lower() if isinstance(v, str) else v


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
        if band is not None and not (math.isfinite(band[0]) and math.isfinite(band[1])
                                     and 0 <= band[0] <= band[1]):
            raise ValueError(f"age_weeks must be [low, high] with 0 <= low <= high, found "
                             f"{list(band)}")
        return band


class HistoricalControls(BaseModel):
    """The ``historical_controls`` key: which database, strata and time window.

    ``database`` is a SQLAlchemy URL or a SQLite file path (relative to the study
    file); ``window_years`` keeps studies that started within that many years
    before ``until`` (default: the day of the report).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str = Field(min_length=1)
    strata: HistoricalStrata = Field(default_factory=HistoricalStrata)
    window_years: float | None = Field(default=None, gt=0, le=100)
    until: dt.date | None = None


class StudySpec(BaseModel):
    """Top level of a study YAML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    study_id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    test_item: str = Field(min_length=1)
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
        n_control = sum(g.control for g in self.groups)
        if n_control == 0:
            raise ValueError("no group has 'control: true'")
        if n_control > 1 and not self.multiple_controls:
            raise ValueError(f"{n_control} groups have 'control: true'; set "
                             "'multiple_controls: true' if that is intended")
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


# ---------------------------------------------------------------- plate wells

_WELL = re.compile(r"^\s*([A-Za-z])\s*0*(\d{1,2})\s*$")
PLATE_FORMATS = {96: (8, 12), 384: (16, 24)}


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
    """Read a small CSV of strings, check required columns, strip whitespace."""
    if not path.is_file():
        raise InputError(f"{what} file not found", path=path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                         skip_blank_lines=True)
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", path=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot parse as CSV: {str(exc).strip()}", path=path) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"expected column(s) {quoted(missing)}, found {quoted(df.columns)}",
                         path=path)
    return df.apply(lambda s: s.str.strip())


def read_layout(path: Path, *, group_ids: set[str] | None = None) -> pd.DataFrame:
    """Read a plate layout CSV: ``well`` plus ``group`` and/or ``concentration``.

    Wells are normalised to ``A01``; the plate format (96 or 384) is inferred from
    the wells used. Rows with an empty group and concentration, or group
    ``blank``/``empty``, are blank wells (``blank`` column True).
    """
    df = read_csv_table(path, required=["well"], what="plate layout")
    if df.empty:
        raise InputError("expected at least one well row below the header, found none",
                         path=path)
    if "group" not in df.columns and "concentration" not in df.columns:
        raise InputError("expected a 'group' or 'concentration' column, found "
                         f"{quoted(df.columns)}", path=path)
    wells = []
    for i, w in enumerate(df["well"]):
        try:
            wells.append(normalise_well(w))
        except ValueError as exc:
            raise InputError(str(exc), path=path, where=f"row {i + 2}, column 'well'") from None
    df["well"] = wells
    dup = df["well"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"well {df['well'].iloc[i]!r} appears twice", path=path,
                         where=f"row {i + 2}, column 'well'")
    group = df["group"] if "group" in df.columns else pd.Series("", index=df.index)
    conc = df["concentration"] if "concentration" in df.columns else pd.Series("", index=df.index)
    df["blank"] = group.str.lower().isin(["blank", "empty"]) | ((group == "") & (conc == ""))
    if "concentration" in df.columns:
        num = pd.to_numeric(conc.where(conc != ""), errors="coerce")
        bad = num.isna() & (conc != "")
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"expected a number, found {conc.iloc[i]!r}", path=path,
                             where=f"row {i + 2}, column 'concentration'")
        bad = (num < 0) | ~num.fillna(0).map(math.isfinite)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"expected a finite concentration >= 0, found {conc.iloc[i]!r}",
                             path=path, where=f"row {i + 2}, column 'concentration'")
        df["concentration"] = num
    if group_ids is not None and "group" in df.columns:
        unknown = ~df["blank"] & (group != "") & ~group.isin(group_ids)
        if unknown.any():
            i = int(unknown.to_numpy().nonzero()[0][0])
            raise InputError(f"group {group.iloc[i]!r} is not defined in the study "
                             f"(defined: {quoted(group_ids)})", path=path,
                             where=f"row {i + 2}, column 'group'")
    rows = max((ord(w[0]) - 64 for w in df["well"]), default=1)
    cols = max((int(w[1:]) for w in df["well"]), default=1)
    df.attrs["n_wells"] = 96 if rows <= 8 and cols <= 12 else 384
    df.attrs["path"] = str(path)
    return df


def read_subjects(path: Path, groups: dict[str, Group]) -> pd.DataFrame:
    """Read the subjects CSV (subject, group, sex, optional batch/litter) and check it."""
    df = read_csv_table(path, required=["subject", "group", "sex"], what="subjects")
    allowed = {"subject", "group", "sex", "batch", "litter", "id_note"}
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise InputError(f"unexpected column(s) {quoted(extra)}; allowed: {quoted(allowed)}",
                         path=path)
    mapped: dict[str, str] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        where = f"row {i + 2}"
        if not row.subject:
            raise InputError("subject is empty", path=path, where=f"{where}, column 'subject'")
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
                         where=f"row {i + 2}, column 'subject'")
    for col in ("batch", "litter"):
        if col not in df.columns:
            df[col] = "NA"
        df[col] = df[col].replace("", "NA")
    return df


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

    def resolve(self, relpath: str, what: str) -> Path:
        """Resolve a path from the study file, refusing escapes from its folder."""
        return resolve_inside(self.folder, relpath, what=what, study_file=self.path)

    def assay_inputs(self, spec: AssaySpec) -> list[Path]:
        """Resolved input files of an assay entry (globs allowed, sorted)."""
        out: list[Path] = []
        for k, rel in enumerate(spec.input):
            if any(ch in rel for ch in "*?["):
                self.resolve(rel.split("*")[0] or ".", f"assays.{spec.key}.input[{k}]")
                matches = sorted(p for p in self.folder.glob(rel)
                                 if p.resolve().is_relative_to(self.folder.resolve()))
                if not matches:
                    raise InputError(f"pattern {rel!r} matches no file", path=self.path,
                                     where=f"key 'assays.{spec.key}.input[{k}]'")
                out.extend(matches)
            else:
                p = self.resolve(rel, f"assays.{spec.key}.input[{k}]")
                if not p.exists():
                    raise InputError(f"input {rel!r} not found", path=self.path,
                                     where=f"key 'assays.{spec.key}.input[{k}]'")
                out.append(p)
        return out

    def subject_info(self, subject: str) -> dict[str, str]:
        """Group, sex and batch/litter of one subject; InputError if unknown."""
        hit = self.subjects[self.subjects["subject"] == subject] if len(self.subjects) else []
        if len(hit) == 0:
            raise InputError(f"subject {subject!r} is not in the study's subjects file",
                             path=self.path, where="key 'subjects'")
        return hit.iloc[0].to_dict()

    def input_files(self) -> list[Path]:
        """Every file the study itself references (for the manifest)."""
        files = [self.path]
        if self.spec.subjects:
            files.append(self.resolve(self.spec.subjects, "subjects"))
        files += [self.resolve(p, f"plate_layouts.{k}") for k, p in self.spec.plate_layouts.items()]
        if self.spec.exclusions:
            files.append(self.resolve(self.spec.exclusions, "exclusions"))
        return files


def load_study(path: str | Path) -> Study:
    """Load, validate and return a study.

    Raises
    ------
    InputError
        Any problem, naming the file and the key, row or column.

    """
    path = Path(path)
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of study keys, found {type(data).__name__}",
                         path=path)
    try:
        spec = StudySpec.model_validate(data)
    except PydanticError as exc:
        raise pydantic_message(exc, path) from None
    study = Study(spec=spec, path=path.resolve())
    if spec.subjects:
        study.subjects = read_subjects(study.resolve(spec.subjects, "subjects"), study.groups)
        codes = study.subjects.attrs.get("sex_codes", {})
        if codes:
            study.notes.append(f"{spec.subjects}: sex codes mapped: " + ", ".join(
                f"{k!r} -> {v}" for k, v in sorted(codes.items())))
    for plate, rel in spec.plate_layouts.items():
        study.layouts[plate] = read_layout(study.resolve(rel, f"plate_layouts.{plate}"),
                                           group_ids=set(study.groups))
    for k, a in enumerate(spec.assays):
        study.assay_inputs(a)  # paths stay inside the folder and exist
        if a.layout is not None and a.layout not in study.layouts:
            raise InputError(f"layout {a.layout!r} is not among plate_layouts "
                             f"({quoted(study.layouts)})", path=path,
                             where=f"key 'assays[{k}].layout'")
    if spec.exclusions:
        read_exclusions(study.resolve(spec.exclusions, "exclusions"))
    return study


def read_exclusions(path: Path) -> pd.DataFrame:
    """Read a manual exclusions file: ``subject``, ``reason`` and optional ``endpoint``.

    Every row needs a reason (GLP: exclusions are documented, never silent).
    """
    df = read_csv_table(path, required=["subject", "reason"], what="exclusions")
    for i, (s, r) in enumerate(zip(df["subject"], df["reason"], strict=True)):
        if not s:
            raise InputError("subject is empty", path=path, where=f"row {i + 2}, column 'subject'")
        if not r:
            raise InputError("exclusion has no reason", path=path,
                             where=f"row {i + 2}, column 'reason'")
    if "endpoint" not in df.columns:
        df["endpoint"] = ""
    return df
