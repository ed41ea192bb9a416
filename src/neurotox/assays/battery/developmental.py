"""Developmental landmarks (OECD TG 426, EPA OPPTS 870.6300) with the litter as unit.

Pups are subjects whose ``litter`` column in the subjects file names their
dam's litter. Age (postnatal day) at attainment of each landmark and, for
vaginal opening and preputial separation, body weight on that day are emitted.
With ``unit: litter`` (the default, as the guidelines require) values are
averaged per litter and sex and the row's subject is ``<litter>_<sex>``;
with ``unit: pup`` each pup is a row and ``batch`` carries the litter for a
mixed model. A landmark not attained by the end of observation is
right-censored at the last postnatal day observed when ``observed_until``
gives it (the litter mean then counts the pup at that day and is censored);
without it the pup is left out of its litter mean and recorded as an
exclusion with that reason, and a litter in which no pup attained it is an
excluded row.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator

from neurotox import endpoints
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.battery.common import (
    Recorder,
    one_input,
    plausible_range,
    refuse_outside,
    subjects_of,
)
from neurotox.errors import InputError, quoted
from neurotox.io import battery as io
from neurotox.study import AssaySpec, Study

ASSAY = "developmental"

#: Landmark names (and synonyms) → registry stem.
LANDMARKS = {"vaginal_opening": "vaginal_opening", "vo": "vaginal_opening",
             "preputial_separation": "preputial_separation", "ps": "preputial_separation",
             "balanopreputial_separation": "preputial_separation",
             "pinna_unfolding": "pinna_unfolding", "pinna_detachment": "pinna_unfolding",
             "incisor_eruption": "incisor_eruption", "eye_opening": "eye_opening",
             "surface_righting": "surface_righting", "air_righting": "air_righting",
             "auditory_startle_onset": "auditory_startle_onset"}
_WITH_WEIGHT = ("vaginal_opening", "preputial_separation")
_SEX = {"vaginal_opening": "F", "preputial_separation": "M"}


class DevelopmentalParameters(BaseModel):
    """Parameters of the developmental landmark assay.

    Attributes
    ----------
    unit
        ``litter``: litter means per sex (the experimental unit); ``pup``: one row
        per pup with the litter in ``batch``.
    sheet
        Worksheet of an xlsx file.
    body_weight_range_g
        Plausible range ``[low, high]`` of a pup's body weight on the day of
        attainment (g); a weight outside is an input error (a weight typed in kg).
        Default: by the study's ``species``, neonate to old adult
        (:data:`~neurotox.assays.battery.common.PLAUSIBLE_G`), as for necropsy
        weights.
    observed_until
        Landmark → last postnatal day it was looked for (``{vaginal_opening: 50}``):
        a pup that had not attained it by then is right-censored at that day
        (the censoring-aware tests), instead of being left out.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Literal["litter", "pup"] = "litter"
    sheet: str | None = Field(default=None)
    body_weight_range_g: tuple[PositiveFloat, PositiveFloat] | None = None

    @field_validator("body_weight_range_g")
    @classmethod
    def _ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"expected [low, high] with 0 < low < high, found {list(v)}")
        return v
    observed_until: dict[str, Annotated[float, Field(ge=0, le=200)]] = Field(
        default_factory=dict)

    @field_validator("observed_until")
    @classmethod
    def _known_landmarks(cls, v: dict[str, float]) -> dict[str, float]:
        names = {k: k.strip().lower().replace(" ", "_") for k in v}
        unknown = sorted(k for k, n in names.items() if n not in LANDMARKS)
        if unknown:
            raise ValueError(f"unknown landmark(s) {quoted(unknown)}; expected one of "
                             f"{quoted(LANDMARKS)}")
        return {LANDMARKS[names[k]]: float(d) for k, d in v.items()}


def check_landmarks(df: pd.DataFrame, subjects: pd.DataFrame) -> pd.Series:
    """Registry stem of each row's landmark; InputError for unknown or wrong-sex rows."""
    stems = df["landmark"].map(LANDMARKS)
    for i in np.flatnonzero(stems.isna().to_numpy()):
        raise InputError(f"unknown landmark {df['landmark'].iloc[i]!r}; expected one of "
                         f"{quoted(LANDMARKS)}", path=df.attrs["path"],
                         where=io.where(df, int(i), "landmark"))
    sexes = subjects.loc[df["subject"], "sex"].to_numpy()
    for i, (stem, sex) in enumerate(zip(stems, sexes, strict=True)):
        if stem in _SEX and sex != _SEX[stem]:
            raise InputError(f"landmark {stem!r} recorded for a pup of sex {sex!r}",
                             path=df.attrs["path"], where=io.where(df, i, "landmark"))
    return stems


_NOT_ATTAINED = "landmark not attained by the end of observation"


def pup_values(df: pd.DataFrame, stems: pd.Series,
               observed_until: dict[str, float] | None = None) -> pd.DataFrame:
    """Long frame of pup values: subject, endpoint, value, censoring, reason, where.

    A landmark not attained is right-censored at ``observed_until[stem]`` when
    given (its body weight stays excluded: there is no day of attainment), else
    excluded.
    """
    until = observed_until or {}
    rows = []
    for i, (r, stem) in enumerate(zip(df.itertuples(index=False), stems, strict=True)):
        attained = bool(np.isfinite(r.age))
        censored = not attained and stem in until
        if censored and until[stem] < df.loc[stems == stem, "age"].max():
            raise InputError(f"observed_until {until[stem]:g} for {stem!r} is before the "
                             f"day a pup attained it ({df.loc[stems == stem, 'age'].max():g})",
                             path=df.attrs["path"], where=io.where(df, i, "age"))
        reason = "" if attained or censored else _NOT_ATTAINED
        rows.append({"subject": r.subject, "endpoint": f"dev_{stem}_age",
                     "value": until[stem] if censored else r.age,
                     "censoring": "right" if censored else "none",
                     "reason": reason, "where": io.where(df, i, "age")})
        lost = "" if attained else _NOT_ATTAINED   # no day of attainment, no weight
        if stem in _WITH_WEIGHT and (np.isfinite(r.body_weight) or lost):
            rows.append({"subject": r.subject, "endpoint": f"dev_{stem}_body_weight",
                         "value": r.body_weight, "censoring": "none",
                         "reason": lost or ("" if np.isfinite(r.body_weight) else
                                            "body weight not recorded"),
                         "where": io.where(df, i, "body_weight")})
    return pd.DataFrame(rows)


def litter_means(values: pd.DataFrame, subjects: pd.DataFrame, study: Study) -> list[dict]:
    """One record per litter × sex × endpoint: mean of the pups that attained it.

    ``values`` carries each pup's ``sex`` and litter (``batch``); the record's
    subject is :func:`neurotox.endpoints.litter_mean_subject`. Right-censored pups
    enter the mean at their last day observed and make the litter mean
    right-censored (it lies beyond that bound).
    """
    v = values.assign(group=subjects.loc[values["subject"], "group"].to_numpy())
    out = []
    for (litter, sex, endpoint), d in v.groupby(["batch", "sex", "endpoint"], sort=True):
        groups = d["group"].unique()
        if len(groups) > 1:
            raise InputError(f"litter {litter!r} has pups in groups {quoted(groups)}",
                             path=study.path, where="key 'subjects'")
        ok = d[d["reason"] == ""]
        group = study.groups[groups[0]]
        reason = "" if len(ok) else \
            f"no pup of the litter attained it by the end of observation (0 of {len(d)} pups)"
        out.append({"endpoint": endpoint, "subject": endpoints.litter_mean_subject(litter, sex),
                    "group": group.id,
                    "dose": group.dose, "dose_unit": group.dose_unit, "sex": sex,
                    "value": float(ok["value"].mean()) if len(ok) else np.nan,
                    "censoring": "right" if (ok["censoring"] == "right").any() else "none",
                    "excluded": ok.empty, "exclusion_reason": reason, "batch": litter,
                    "source": f"mean of {len(ok)} of {len(d)} pups: "
                              + "; ".join(d["where"].head(3)) + (" ..." if len(d) > 3 else "")})
    return out


def left_out_pups(values: pd.DataFrame, subjects: pd.DataFrame) -> list[dict[str, str]]:
    """Exclusion records of the pups left out of a litter mean that still has a value.

    One record per pup and reason, naming the litter mean(s) and endpoints;
    ``values`` carry each pup's ``sex`` and litter (``batch``) already.
    """
    v = values.rename(columns={"batch": "litter"}).assign(
        group=subjects.loc[values["subject"], "group"].to_numpy())
    cell = ["litter", "sex", "endpoint"]
    kept = v[v["reason"] == ""].groupby(cell).size()
    total = v.groupby(cell).size()
    out: dict[tuple[str, str], dict[str, str]] = {}
    for r in v[v["reason"] != ""].itertuples(index=False):
        n = int(kept.get((r.litter, r.sex, r.endpoint), 0))
        if not n:
            continue
        of = f"{r.litter}_{r.sex} ({n} of {int(total[(r.litter, r.sex, r.endpoint)])} pups)"
        rec = out.setdefault((r.subject, f"{r.reason}: left out of the litter mean {of}"), {
            "rule": "assay", "subject": r.subject, "group": r.group, "sex": r.sex,
            "endpoint": ""})
        rec["endpoint"] = ", ".join(filter(None, [rec["endpoint"], r.endpoint]))
    return [{**rec, "reason": f"{reason} of {rec['endpoint']}"}
            for (_, reason), rec in out.items()]


def run(study: Study, spec: AssaySpec, params: DevelopmentalParameters) -> AssayResult:
    """Read landmark data and emit ages (and body weights) with the litter as unit."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    df = io.read_landmarks(path, sheet=params.sheet)
    io.check_subjects(df, subjects.index)
    weights, source = plausible_range(study, params.body_weight_range_g, "body",
                                      "body_weight_range_g")
    refuse_outside(df, "body_weight", weights, source)
    if (subjects.loc[df["subject"], "litter"] == "NA").any():
        raise InputError("developmental landmarks need the litter of every pup: add a "
                         "'litter' column to the subjects file", path=study.path,
                         where="key 'subjects'")
    values = pup_values(df, check_landmarks(df, subjects), params.observed_until)
    values = values.assign(sex=subjects.loc[values["subject"], "sex"].to_numpy(),
                           batch=subjects.loc[values["subject"], "litter"].to_numpy())
    rec = Recorder(study, subjects, ASSAY, path.name)
    left_out: list[dict[str, str]] = []
    if params.unit == "pup":
        rec.add_frame(values[["subject", "endpoint", "value", "where", "reason", "censoring"]]
                      .assign(timepoint="NA"))
        table = rec.table()
    else:
        table = endpoints.from_records(litter_means(values, subjects, study),
                                       study_id=study.study_id, assay=ASSAY)
        left_out = left_out_pups(values, subjects)
    n_litters = subjects.loc[df["subject"], "litter"].nunique()
    notes = [f"developmental landmarks {path.name}: {df['subject'].nunique()} pups from "
             f"{n_litters} litters; unit of analysis: {params.unit}; plausible body weights "
             f"{weights[0]:g}-{weights[1]:g} g ({source})"]
    notes += _attainment_notes(values, params)
    return AssayResult(endpoints=table, details={endpoints.LITTER_PUPS_DETAIL: values},
                       notes=notes, inputs=[path], missing=left_out)


def _attainment_notes(values: pd.DataFrame, params: DevelopmentalParameters) -> list[str]:
    """Per landmark, how many pups had not attained it and what was done with them."""
    ages = values[values["endpoint"].str.endswith("_age")]
    out = []
    for endpoint, d in ages.groupby("endpoint", sort=True):
        stem = str(endpoint)[4:-4]
        n = int(((d["censoring"] == "right") | (d["reason"] != "")).sum())
        if not n:
            continue
        if stem in params.observed_until:
            out.append(f"{stem}: {n} of {len(d)} pups not attained by the end of observation, "
                       f"right-censored at PND {params.observed_until[stem]:g} "
                       "(observed_until)")
        else:
            what = ("excluded" if params.unit == "pup" else "left out of their litter means "
                    "(a litter with none attaining is excluded)")
            out.append(f"warning: {stem}: {n} of {len(d)} pups not attained by the end of "
                       f"observation are {what}; give the last day observed in the protocol "
                       f"parameter observed_until ({{{stem}: <PND>}}) to right-censor them")
    return out


register(AssayPlugin(ASSAY, DevelopmentalParameters, run,
                     "Developmental landmarks (age and body weight at attainment), litter "
                     "as the unit."))
