"""Helpers shared by the battery assays: subject look-up, record building, plausible weights."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.errors import InputError
from neurotox.io.battery import GRAMS, where
from neurotox.study import AssaySpec, Study, unit_batch

#: Plausible necropsy weights in g, neonate to old adult: species → (body, brain) ranges.
#: Rat: about 6 g body / 0.25 g brain at birth, adult brain 1.8-2.3 g; mouse: about
#: 1.3 g / 0.1 g at birth, adult brain 0.4-0.5 g. Other species: any laboratory animal.
PLAUSIBLE_G: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "rat": ((2.0, 1500.0), (0.1, 3.5)),
    "mouse": ((0.5, 150.0), (0.03, 1.0)),
    "any": ((0.1, 250_000.0), (0.01, 1000.0)),
}


#: Units a weight outside its range (g) was likely written in, and the factor to g.
WEIGHT_SLIPS = (("kg", GRAMS["kg"]), ("mg", GRAMS["mg"]))


def slip_units(value: float, bounds: tuple[float, float],
               slips: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """The units (with their factor) in which ``value`` would fall inside ``bounds``."""
    lo, hi = bounds
    return [(u, f) for u, f in slips if lo <= value * f <= hi]


def slip_hint(value: float, unit: str, bounds: tuple[float, float],
              slips: Iterable[tuple[str, float]]) -> str:
    """``"; written in kg or N? (1.579 kg = 1579 g; 1.579 N = 161 g)"``, or ``""``.

    The units of ``slips`` (name, factor to ``unit``) in which ``value`` would
    fall inside ``bounds``: the unit slip of a value outside its range.
    """
    fits = slip_units(value, bounds, slips)
    if not fits:
        return ""
    said = "; ".join(f"{value:g} {u} = {value * f:.4g} {unit}" for u, f in fits)
    return f"; written in {' or '.join(u for u, _ in fits)}? ({said})"


def species_key(species: str | None) -> str:
    """``rat``, ``mouse`` or ``any`` for a study's ``species`` text (``Rat``, ``Mus musculus``)."""
    words = set("".join(ch if ch.isalpha() else " " for ch in (species or "").lower()).split())
    if words & {"rat", "rats", "rattus"}:
        return "rat"
    if words & {"mouse", "mice", "mus"}:
        return "mouse"
    return "any"


def plausible_range(study: Study, given: tuple[float, float] | None, which: str,
                    parameter: str) -> tuple[tuple[float, float], str]:
    """Plausible ``body`` or ``brain`` weight range (g) and what set it.

    ``given`` (the assay's ``parameter``) wins; otherwise the study's species'
    range of :data:`PLAUSIBLE_G` (any laboratory animal when the species is not
    a rat or mouse).
    """
    if given is not None:
        return given, f"parameter {parameter!r}"
    key = species_key(study.spec.species)
    rng = PLAUSIBLE_G[key][("body", "brain").index(which)]
    return rng, (f"species {study.spec.species!r}" if key != "any" else "any laboratory animal")


def refuse_outside(df: pd.DataFrame, column: str, rng: tuple[float, float],
                   source: str) -> None:
    """InputError at the first weight of ``column`` outside ``rng`` (g), naming its cell.

    The message names a likely unit slip: ``body weight 0.1246 g is outside the
    plausible range 2-1500 g (species 'rat'); written in kg? (0.1246 kg = 124.6 g)``.

    ``df`` is a sheet as read by :mod:`neurotox.io.battery` (``attrs['path']``,
    ``row``); empty weights (NaN) are left to the assay.
    """
    v = df[column].to_numpy(float)
    lo, hi = rng
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(v) & ((v < lo) | (v > hi))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{column.replace('_', ' ')} {v[i]:g} g is outside the plausible "
                         f"range {lo:g}-{hi:g} g ({source})"
                         f"{slip_hint(v[i], 'g', rng, WEIGHT_SLIPS)}", path=df.attrs.get("path"),
                         where=where(df, i, column))


def subjects_of(study: Study, spec: AssaySpec) -> pd.DataFrame:
    """The study's subjects indexed by ID; InputError when the study has none."""
    if study.subjects is None or len(study.subjects) == 0:
        raise InputError(f"assay {spec.key!r} needs a subjects file (subject, group, sex)",
                         path=study.path, where="key 'subjects'")
    return study.subjects.set_index("subject", drop=False)


def one_input(study: Study, spec: AssaySpec) -> Path:
    """The single input file of an assay entry."""
    paths = study.assay_inputs(spec)
    if len(paths) != 1:
        raise InputError(f"assay {spec.key!r} expects one input file, found {len(paths)}",
                         path=study.path, where=f"key 'assays.{spec.key}.input'")
    return paths[0]


def row_locator(df: pd.DataFrame) -> Callable[[int, str], tuple[str | None, str]]:
    """``(i, column)`` → (file, ``row N, column 'c'``) of a battery sheet's i-th data row."""
    return lambda i, column: (df.attrs.get("path"), where(df, i, column))


class Recorder:
    """Collects EndpointTable records for one assay run of one study.

    Parameters
    ----------
    study
        The study (for group doses).
    subjects
        Subjects indexed by ID.
    assay
        Assay name written to every row.
    source
        File name used as the prefix of the ``source`` column.

    """

    def __init__(self, study: Study, subjects: pd.DataFrame, assay: str, source: str):
        self.study, self.subjects, self.assay, self.source = study, subjects, assay, source
        self.records: list[dict[str, Any]] = []
        self._fixed: dict[str, dict[str, Any]] = {}

    def _subject_fields(self, subject: str) -> dict[str, Any]:
        """Group, dose, sex and batch of a subject (looked up once per subject)."""
        fields = self._fixed.get(subject)
        if fields is None:
            info = self.subjects.loc[subject]
            group = self.study.groups[info["group"]]
            fields = {"group": group.id, "dose": group.dose, "dose_unit": group.dose_unit,
                      "sex": info["sex"], "batch": unit_batch(info)}
            self._fixed[subject] = fields
        return fields

    def add(self, subject: str, endpoint: str, value: float, *, timepoint: str = "NA",
            where: str = "", reason: str = "", subject_id: str | None = None) -> None:
        """Add one value; a non-empty ``reason`` marks it excluded."""
        self.records.append({
            "endpoint": endpoint, "subject": subject_id or subject,
            **self._subject_fields(subject), "timepoint": timepoint, "value": value,
            "excluded": bool(reason), "exclusion_reason": reason,
            "source": f"{self.source} {where}".strip()})

    def add_frame(self, rows: pd.DataFrame) -> None:
        """Add many values at once (vectorised :meth:`add`).

        Parameters
        ----------
        rows
            Columns ``subject``, ``endpoint``, ``value``, ``timepoint``, ``where``
            and ``reason`` (non-empty: excluded), one row per value, in order.

        """
        if rows.empty:
            return
        fixed = pd.DataFrame.from_dict(
            {s: self._subject_fields(s) for s in rows["subject"].unique()}, orient="index")
        out = rows.join(fixed, on="subject")
        out["excluded"] = out["reason"] != ""
        out["source"] = (self.source + " " + out["where"]).str.strip()
        out = out.rename(columns={"reason": "exclusion_reason"}).drop(columns="where")
        self.records.extend(out.to_dict("records"))

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        """Add ready-made records (litter means)."""
        self.records.extend(records)

    def table(self) -> pd.DataFrame:
        """The validated EndpointTable."""
        return endpoints.from_records(self.records, study_id=self.study.study_id,
                                      assay=self.assay)


def timepoint(session: str, suffix: str = "") -> str:
    """Timepoint label from a session and an optional interval/block suffix."""
    if session in ("", "NA"):
        return suffix or "NA"
    return f"{session}_{suffix}" if suffix else session
