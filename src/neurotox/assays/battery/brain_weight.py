"""Brain weight and morphometry: absolute, relative to body weight, and ANCOVA.

Emits absolute brain weight, brain weight relative to terminal body weight
(ratio analysis by the statistics engine), terminal body weight and any
regional morphometric measurements (``brain_length``, ``cortex_thickness`` ...).
Because brain weight is largely independent of body weight, ratios can show
spurious effects when body weight changes; the assay therefore also runs an
ANCOVA with body weight as covariate, per sex, written as the detail table
``brain_weight_ancova``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, PositiveFloat, field_validator

from neurotox.assays.accounting import check_written_groups
from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.battery.ancova import ancova, singular
from neurotox.assays.battery.common import (
    Recorder,
    one_input,
    plausible_range,
    refuse_outside,
    row_locator,
    subjects_of,
)
from neurotox.assays.battery.conventions import brain_weight_conventions
from neurotox.errors import InputError, quoted
from neurotox.io import battery as io
from neurotox.study import AssaySpec, Study

ASSAY = "brain_weight"

#: Morphometry columns accepted in the weight sheet (``morph_`` prefix optional).
MORPHOMETRY = ("brain_length", "brain_width", "cortex_thickness", "hippocampus_thickness",
               "corpus_callosum_thickness", "cerebellum_height", "caudate_putamen_width")
_OTHER = ("subject", "row", "timepoint", "body_weight", "brain_weight", "group", "sex",
          "comment",
          "comments", "notes", "perfused", "date")


class BrainWeightParameters(BaseModel):
    """Parameters of the brain weight assay.

    Attributes
    ----------
    ancova
        Run the ANCOVA with body weight as covariate.
    parallel_alpha
        Level of the homogeneity-of-slopes test below which a note warns that
        the ANCOVA assumption fails.
    sheet
        Worksheet of an xlsx file.
    body_weight_range_g, brain_weight_range_g
        Plausible range ``[low, high]`` of terminal body and brain weight (g); a
        weight outside is an input error. Default: by the study's ``species``
        (:data:`PLAUSIBLE_G`).

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ancova: bool = True
    parallel_alpha: float = 0.05
    sheet: str | None = None
    body_weight_range_g: tuple[PositiveFloat, PositiveFloat] | None = None
    brain_weight_range_g: tuple[PositiveFloat, PositiveFloat] | None = None

    @field_validator("body_weight_range_g", "brain_weight_range_g")
    @classmethod
    def _ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"expected [low, high] with 0 < low < high, found {list(v)}")
        return v


def check_plausible(df: pd.DataFrame, study: Study, params: BrainWeightParameters) -> str:
    """InputError at the first weight outside its plausible range; the note saying the ranges.

    The reader has refused weights <= 0; this is the species' range (or the
    parameters'), so that 99999 g or 1e-300 g is not analysed as a weight.
    """
    ranges, source = {}, {}
    for col, which in (("body_weight", "body"), ("brain_weight", "brain")):
        ranges[col], source[col] = plausible_range(
            study, getattr(params, f"{col}_range_g"), which, f"{col}_range_g")
        refuse_outside(df, col, ranges[col], source[col])
    return (f"plausible weights: body {ranges['body_weight'][0]:g}-"
            f"{ranges['body_weight'][1]:g} g ({source['body_weight']}), brain "
            f"{ranges['brain_weight'][0]:g}-{ranges['brain_weight'][1]:g} g "
            f"({source['brain_weight']})")


def morphometry_columns(df: pd.DataFrame) -> dict[str, str]:
    """Sheet column → endpoint for morphometry; InputError for unknown columns."""
    out = {}
    for col in df.columns:
        base = col.removeprefix("morph_")
        if base in MORPHOMETRY:
            out[col] = f"morph_{base}"
        elif col not in _OTHER:
            raise InputError(f"unknown column {col!r}; expected weights or morphometry "
                             f"columns {quoted(MORPHOMETRY)}", path=df.attrs["path"],
                             where=f"row 1, column {col!r}")
    return out


def emit(rec: Recorder, df: pd.DataFrame, morph: dict[str, str]) -> None:
    """Add weight, relative weight and morphometry rows (timepoint from the sheet)."""
    for i, r in enumerate(df.itertuples(index=False)):
        row = int(df["row"].iloc[i])
        bw, brain, tp = r.body_weight, r.brain_weight, r.timepoint
        loc = f"row {row}"
        rec.add(r.subject, "terminal_body_weight", bw, where=f"{loc}, column 'body_weight'",
                timepoint=tp, reason="" if np.isfinite(bw) else "body weight not recorded")
        rec.add(r.subject, "brain_weight", brain, where=f"{loc}, column 'brain_weight'",
                timepoint=tp, reason="" if np.isfinite(brain) else "brain weight not recorded")
        rel = 100.0 * brain / bw if np.isfinite(brain) and np.isfinite(bw) else np.nan
        rec.add(r.subject, "brain_weight_relative", rel, where=f"{loc}, columns 'brain_weight', "
                "'body_weight'", timepoint=tp, reason=_missing(brain, bw))
    for col, endpoint in morph.items():
        values = io.numbers(df, col, allow_empty=True, lower=0)
        for i, v in enumerate(values):
            rec.add(df["subject"].iloc[i], endpoint, v, where=io.where(df, i, col),
                    timepoint=df["timepoint"].iloc[i],
                    reason="" if np.isfinite(v) else "not measured")


def _missing(brain: float, body: float) -> str:
    """Why the relative weight is missing: the weight(s) not recorded (``""``: none)."""
    gone = [w for w, v in (("brain", brain), ("body", body)) if not np.isfinite(v)]
    return f"{' and '.join(gone)} weight not recorded" if gone else ""


def run_ancova(df: pd.DataFrame, subjects: pd.DataFrame, study: Study,
               params: BrainWeightParameters) -> tuple[pd.DataFrame, list[str]]:
    """ANCOVA of brain weight on body weight per sex; table and notes."""
    data = df.assign(group=subjects.loc[df["subject"], "group"].to_numpy(),
                     sex=subjects.loc[df["subject"], "sex"].to_numpy())
    data = data[np.isfinite(data["brain_weight"]) & np.isfinite(data["body_weight"])]
    tables, notes = [], []
    for (tp, sex), d in data.groupby(["timepoint", "sex"], sort=True):
        what = f"brain weight ANCOVA, sex {sex}" + ("" if tp == "NA" else f", {tp}")
        counts = d["group"].value_counts()
        if len(counts) < 2 or counts.min() < 2 or len(d) <= 2 * len(counts) + 1:
            notes.append(f"{what}: too few animals, not run")
            continue
        why = singular(d["brain_weight"], d["body_weight"], d["group"])
        if why:
            notes.append(f"{what}: not run: {why}")
            continue
        table, info = ancova(d["brain_weight"], d["body_weight"], d["group"], list(study.groups))
        tables.append(table.assign(sex=sex, timepoint=tp, **info))
        notes.append(f"{what}: body weight slope {info['slope']:.4g} "
                     f"(p = {info['p_slope']:.3g}); group effect p = {info['p_group']:.3g}")
        if info["p_parallel"] < params.parallel_alpha:
            notes.append(f"{what}: slopes differ between groups "
                         f"(p = {info['p_parallel']:.3g}); adjusted means are not reliable")
    return (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()), notes


def run(study: Study, spec: AssaySpec, params: BrainWeightParameters) -> AssayResult:
    """Read the necropsy weight sheet; emit weights, ratios, morphometry and the ANCOVA."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    df = io.read_organ_weights(path, sheet=params.sheet)
    io.check_subjects(df, subjects.index)
    check_written_groups(df, study, row_locator(df))
    morph = morphometry_columns(df)
    plausible = check_plausible(df, study, params)
    rec = Recorder(study, subjects, ASSAY, path.name)
    emit(rec, df, morph)
    details, notes = {}, []
    if params.ancova:
        details["brain_weight_ancova"], notes = run_ancova(df, subjects, study, params)
    return said(AssayResult(endpoints=rec.table(), details=details, notes=[plausible, *notes],
                            inputs=[path]), brain_weight_conventions(params, plausible))


register(AssayPlugin(ASSAY, BrainWeightParameters, run,
                     "Brain weight (absolute, relative, ANCOVA on body weight) and "
                     "morphometry."))
