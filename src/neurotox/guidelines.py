"""Guideline requirements and the check of a study against them.

A guideline template is a protocol file (``protocols/oecd-424-screen.yaml`` ...)
for the pseudo-assay ``guideline``; its parameters, validated by the closed
model :class:`GuidelineParameters`, list the endpoints the guideline requires,
mapped to the five OECD/EPA categories, with group sizes and time points.

:func:`check_study` compares a study and its EndpointTable with the template
named by the study's ``guideline`` key and returns deviations as sentences
(fewer animals than required, missing endpoints or time points, litter not
the unit). Deviations are warnings for the report and the manifest; only data
that cannot be analysed at all raise :class:`~neurotox.errors.InputError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox.errors import InputError
from neurotox.protocols import available, effective_parameters, load_protocol
from neurotox.study import Study
from neurotox.timepoints import TimeOrder
from neurotox.vocab import Category, Sex

#: ``assay`` of guideline templates in ``protocols/``.
GUIDELINE_ASSAY = "guideline"


class Requirement(BaseModel):
    """One element of a guideline: an endpoint set with its design requirements.

    Attributes
    ----------
    id
        Short identifier (``fob``, ``motor_activity`` ...).
    label
        Wording used in deviations.
    category
        OECD/EPA category it belongs to.
    endpoints
        Registry endpoints, any of which satisfies the requirement.
    endpoint_prefixes
        Endpoint name prefixes that also satisfy it (``fob_``, ``np_``).
    required
        ``False`` for recommended elements (deviation worded "recommended").
    min_per_sex_per_group
        Minimum number of animals (subjects) per sex and group.
    min_batches_per_group
        Minimum distinct litters / independent runs (``batch``) per group.
    min_timepoints
        Minimum number of distinct time points (occasions, sessions, ages).
    timepoints
        Time points expected by name (case-insensitive), e.g. ``PND13``.
    sexes
        Sexes that must be present.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    category: Category
    endpoints: tuple[str, ...] = ()
    endpoint_prefixes: tuple[str, ...] = ()
    required: bool = True
    min_per_sex_per_group: int = Field(default=0, ge=0)
    min_batches_per_group: int = Field(default=0, ge=0)
    min_timepoints: int = Field(default=1, ge=1)
    timepoints: tuple[str, ...] = ()
    sexes: tuple[Sex, ...] = (Sex.MALE, Sex.FEMALE)

    def matches(self, endpoint: pd.Series) -> pd.Series:
        """Boolean mask of EndpointTable rows belonging to this requirement."""
        mask = endpoint.isin(self.endpoints)
        for prefix in self.endpoint_prefixes:
            mask |= endpoint.str.startswith(prefix)
        return mask


class GuidelineParameters(BaseModel):
    """Parameters of a guideline template.

    Attributes
    ----------
    guideline
        Citation, e.g. ``OECD TG 424``; a study's ``guideline`` key may give it,
        the template name or one of ``aliases``.
    aliases
        Other spellings that select this template.
    min_dose_groups
        Minimum number of treated groups besides the control.
    litter_unit
        The litter is the experimental unit (developmental studies).
    requirements
        What must be reported.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    guideline: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    min_dose_groups: int = Field(default=3, ge=0)
    litter_unit: bool = False
    requirements: tuple[Requirement, ...] = Field(min_length=1)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@functools.cache
def templates() -> dict[str, GuidelineParameters]:
    """Guideline templates shipped in ``protocols/``, by protocol name."""
    out = {}
    for name in available():
        proto = load_protocol(name)
        if proto.assay == GUIDELINE_ASSAY:
            out[name] = effective_parameters(proto, GuidelineParameters)
    return out


def find_guideline(text: str) -> tuple[str, GuidelineParameters] | None:
    """The template selected by a study's ``guideline`` value, or None if unknown."""
    key = _norm(text)
    for name, params in templates().items():
        if key in {_norm(name), _norm(params.guideline), *map(_norm, params.aliases)}:
            return name, params
    return None


def guideline_citation(text: str) -> str:
    """How a study's ``guideline`` value is cited (``oecd-424-screen`` → ``OECD TG 424``)."""
    found = find_guideline(text)
    return found[1].guideline if found is not None and found[1].guideline else text


def _check_analysable(study: Study, table: pd.DataFrame) -> pd.DataFrame:
    used = table[~table["excluded"]]
    if used.empty:
        raise InputError("the study has no analysable values (every value is excluded or "
                         "no assay produced data)", path=study.path)
    if not (used["group"] == study.control.id).any():
        raise InputError(f"the control group {study.control.id!r} has no analysable values; "
                         "nothing can be compared with control", path=study.path)
    return used


def _short_cells(req: Requirement, rows: pd.DataFrame, study: Study) -> list[str]:
    """``G2/F 8`` per group/sex short at every time point, else ``G3/M 9 at week4``.

    Animals are counted per time point (those with a value of the requirement's
    endpoints at it), so an animal lost before a session or a missed session
    counts as missing there.
    """
    times = [str(t) for t in TimeOrder.of(rows).order(rows["timepoint"])]
    n = rows.groupby(["group", "sex", "timepoint"])["subject"].nunique()
    out = []
    for g in study.groups:
        for s in req.sexes:
            counts = {t: int(n.get((g, s.value, t), 0)) for t in times}
            short = {t: c for t, c in counts.items() if c < req.min_per_sex_per_group}
            if not short:
                continue
            if len(short) == len(times) and len(set(short.values())) == 1:
                out.append(f"{g}/{s.value} {next(iter(short.values()))}")
                continue
            for c in sorted(set(short.values()), reverse=True):
                at = " and ".join(t for t, k in short.items() if k == c)
                out.append(f"{g}/{s.value} {c} at {at}")
    return out


def _group_size_deviations(req: Requirement, rows: pd.DataFrame, study: Study,
                           tag: str) -> list[str]:
    out = []
    short = _short_cells(req, rows, study)
    if short:
        out.append(f"{tag}: fewer than {req.min_per_sex_per_group} animals per sex per group "
                   f"(group/sex n: {', '.join(short)})")
    missing_sex = sorted(s.value for s in req.sexes if s.value not in set(rows["sex"]))
    if missing_sex:
        out.append(f"{tag}: no values for sex {', '.join(missing_sex)}")
    return out


def _batch_deviations(req: Requirement, rows: pd.DataFrame, study: Study, tag: str) -> list[str]:
    nb = rows[rows["batch"] != "NA"].groupby("group")["batch"].nunique()
    short = [f"{g} {int(nb.get(g, 0))}" for g in study.groups
             if nb.get(g, 0) < req.min_batches_per_group]
    if not short:
        return []
    return [f"{tag}: fewer than {req.min_batches_per_group} litters/independent runs per "
            f"group (group n: {', '.join(short)})"]


def _timepoint_deviations(req: Requirement, rows: pd.DataFrame, tag: str) -> list[str]:
    found = [str(t) for t in TimeOrder.of(rows).order(rows["timepoint"])]
    out = []
    if len(found) < req.min_timepoints:
        out.append(f"{tag}: {len(found)} time point(s) ({', '.join(found)}), at least "
                   f"{req.min_timepoints} expected")
    have = {_norm(t) for t in found}
    absent = [t for t in req.timepoints
              if not any(h == _norm(t) or h.startswith(_norm(t)) for h in have)]
    if absent:
        out.append(f"{tag}: expected time point(s) {', '.join(absent)} not found")
    return out


def check_requirement(req: Requirement, used: pd.DataFrame, study: Study,
                      guideline: str) -> list[str]:
    """Deviations of one requirement (empty when it is met)."""
    tag = f"{guideline} {req.label} ({req.category.value})"
    rows = used[req.matches(used["endpoint"])]
    if rows.empty:
        word = "required" if req.required else "recommended"
        return [f"{tag}: not reported ({word}; none of its endpoints has analysable values)"]
    out = _group_size_deviations(req, rows, study, tag)
    if req.min_batches_per_group:
        out += _batch_deviations(req, rows, study, tag)
    # time points are counted on one endpoint, so bins of one session are not sessions
    first = rows[rows["endpoint"] == sorted(rows["endpoint"].unique())[0]]
    return out + _timepoint_deviations(req, first, tag)


def _design_deviations(study: Study, params: GuidelineParameters) -> list[str]:
    out = []
    treated = sum(not g.control for g in study.spec.groups)
    if treated < params.min_dose_groups:
        out.append(f"{params.guideline}: {treated} treated group(s), at least "
                   f"{params.min_dose_groups} dose groups and a control expected")
    if params.litter_unit:
        litters = study.subjects.get("litter") if len(study.subjects) else None
        if litters is None or (litters == "NA").all():
            out.append(f"{params.guideline}: subjects have no litter IDs; the litter must be "
                       "the experimental unit")
        if study.spec.statistics.litter_unit == "none":
            out.append(f"{params.guideline}: statistics.litter_unit is 'none'; litter means or "
                       "a litter random effect are required")
    return out


#: Marker of a deviation an assay found in its own data (``DEVIATION <sentence>``),
#: optionally after the ``<assay key>: `` prefix the pipeline adds to notes, and after
#: ``warning: `` when the note is also a warning (a raw value the reader repaired).
_ASSAY_DEVIATION = re.compile(r"^(?:warning: )?(?:(?P<key>[^:]+): )?DEVIATION (?P<text>.+)$",
                              re.DOTALL)


def assay_deviations(notes: Iterable[str]) -> list[str]:
    """Deviations the assays reported in their notes, without the ``DEVIATION`` marker.

    Parameters
    ----------
    notes
        Assay notes, e.g. ``"motor_activity: DEVIATION motor activity x.csv: intervals
        of 15 min exceed the guideline maximum of 10 min"``.

    Returns
    -------
    list of str
        ``"<assay key>: <sentence>"`` (or the sentence alone) per marked note, in order.

    """
    out = []
    for note in notes:
        m = _ASSAY_DEVIATION.match(note)
        if m:
            out.append(f"{m['key']}: {m['text']}" if m["key"] else m["text"])
    return out


def check_study(study: Study, endpoint_table: pd.DataFrame,
                notes: Iterable[str] = ()) -> list[str]:
    """List guideline deviations of a study and its EndpointTable.

    Parameters
    ----------
    study
        The loaded study; its ``guideline`` key selects the template (template
        name such as ``oecd-424-screen``, or citation such as ``OECD TG 424``).
    endpoint_table
        Every assay's EndpointTable rows, concatenated.
    notes
        The assays' notes; those marked ``DEVIATION`` (motor-activity intervals
        longer than 10 min, control activity not reaching asymptote) are listed
        after the design deviations, whether or not the study names a guideline
        (they are requirements of the assay's protocol).

    Returns
    -------
    list of str
        One sentence per deviation; empty when the study declares no guideline,
        no assay reported a deviation, or the study meets its guideline.

    Raises
    ------
    InputError
        The data cannot be analysed at all: no non-excluded value, or none in
        the control group.

    """
    from_assays = assay_deviations(notes)
    if not study.spec.guideline:
        return from_assays
    found = find_guideline(study.spec.guideline)
    if found is None:
        known = ", ".join(sorted(templates()))
        return [f"guideline {study.spec.guideline!r} has no template ({known}); the study "
                "was not checked against it", *from_assays]
    _, params = found
    used = _check_analysable(study, endpoint_table)
    out = _design_deviations(study, params)
    for req in params.requirements:
        out += check_requirement(req, used, study, params.guideline)
    return out + from_assays
