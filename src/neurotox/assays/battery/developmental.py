"""Developmental landmarks (OECD TG 426, EPA OPPTS 870.6300) with the litter as unit.

Pups are subjects whose ``litter`` column in the subjects file names their
dam's litter. Age (postnatal day) at attainment of each landmark and, for
vaginal opening and preputial separation, body weight on that day are emitted.
With ``unit: litter`` (the default, as the guidelines require) values are
averaged per litter and sex and the row's subject is ``<litter>_<sex>``;
with ``unit: pup`` each pup is a row and ``batch`` carries the litter for a
mixed model. Landmarks not attained by the end of observation are excluded
rows with that reason, and not averaged.
"""

from __future__ import annotations

import math
from typing import Literal

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


def pup_values(df: pd.DataFrame, stems: pd.Series) -> pd.DataFrame:
    """Long frame of pup values: subject, endpoint, value, reason, where."""
    rows = []
    for i, (r, stem) in enumerate(zip(df.itertuples(index=False), stems, strict=True)):
        reason = "" if np.isfinite(r.age) else "landmark not attained by the end of observation"
        rows.append({"subject": r.subject, "endpoint": f"dev_{stem}_age", "value": r.age,
                     "reason": reason, "where": io.where(df, i, "age")})
        if stem in _WITH_WEIGHT and (np.isfinite(r.body_weight) or reason):
            rows.append({"subject": r.subject, "endpoint": f"dev_{stem}_body_weight",
                         "value": r.body_weight,
                         "reason": reason or ("" if np.isfinite(r.body_weight) else
                                              "body weight not recorded"),
                         "where": io.where(df, i, "body_weight")})
    return pd.DataFrame(rows)


def litter_means(values: pd.DataFrame, subjects: pd.DataFrame, study: Study) -> list[dict]:
    """One record per litter × sex × endpoint: mean of the pups that attained it.

    ``values`` carries each pup's ``sex`` and litter (``batch``); the record's
    subject is :func:`neurotox.endpoints.litter_mean_subject`.
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
        out.append({"endpoint": endpoint, "subject": endpoints.litter_mean_subject(litter, sex),
                    "group": group.id,
                    "dose": group.dose, "dose_unit": group.dose_unit, "sex": sex,
                    "value": float(ok["value"].mean()) if len(ok) else np.nan,
                    "excluded": ok.empty,
                    "exclusion_reason": "" if len(ok) else "no pup of the litter attained it",
                    "batch": litter,
                    "source": f"mean of {len(ok)} of {len(d)} pups: "
                              + "; ".join(d["where"].head(3)) + (" ..." if len(d) > 3 else "")})
    return out


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
    values = pup_values(df, check_landmarks(df, subjects))
    values = values.assign(sex=subjects.loc[values["subject"], "sex"].to_numpy(),
                           batch=subjects.loc[values["subject"], "litter"].to_numpy())
    rec = Recorder(study, subjects, ASSAY, path.name)
    if params.unit == "pup":
        for r in values.itertuples(index=False):
            rec.add(r.subject, r.endpoint, r.value, where=r.where, reason=r.reason)
        table = rec.table()
    else:
        table = endpoints.from_records(litter_means(values, subjects, study),
                                       study_id=study.study_id, assay=ASSAY)
    n_litters = subjects.loc[df["subject"], "litter"].nunique()
    notes = [f"developmental landmarks {path.name}: {df['subject'].nunique()} pups from "
             f"{n_litters} litters; unit of analysis: {params.unit}; plausible body weights "
             f"{weights[0]:g}-{weights[1]:g} g ({source})"]
    return AssayResult(endpoints=table, details={endpoints.LITTER_PUPS_DETAIL: values},
                       notes=notes, inputs=[path])


register(AssayPlugin(ASSAY, DevelopmentalParameters, run,
                     "Developmental landmarks (age and body weight at attainment), litter "
                     "as the unit."))
