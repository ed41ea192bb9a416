"""From plate sample IDs to study subjects, matrices, time points and normalisers.

A sample sheet (see :mod:`neurotox.io.neurochem.samples`) maps each sample ID;
without one, the protocol's ``samples.pattern`` (a regular expression with a
``subject`` group and optional ``matrix``/``timepoint`` groups) is matched
against the whole ID. Samples that map to nothing (QC pools, other studies'
samples) are listed in the notes and stay out of the EndpointTable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurotox.assays.neurochem.params import CommonParameters
from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.io.neurochem.base import name_dilution
from neurotox.io.neurochem.samples import is_sample_sheet, label, read_sample_sheet
from neurotox.study import Study
from neurotox.timepoints import time_key, unordered

#: A tissue weight under this (mg) is flagged: most likely grams written in the mg column.
MIN_TISSUE_MG = 1.0


@dataclass(frozen=True)
class SampleInfo:
    """Where one sample comes from and how to normalise it."""

    subject: str
    matrix: str
    timepoint: str
    dilution: float = math.nan
    protein_mg_ml: float = math.nan
    tissue_mg: float = math.nan
    homogenate_ml: float = math.nan
    where: str = ""

    @property
    def label(self) -> str:
        """EndpointTable time point: ``<matrix>_<timepoint>``, either alone, or ``NA``."""
        return "_".join(p for p in (self.matrix, self.timepoint) if p) or "NA"


def with_time_order(table: Any, samples: Any) -> Any:
    """``table`` with each time point's place in time (the EndpointTable's ``time_order``).

    A time point joins the matrix and the sheet's timepoint (``serum_pre``,
    ``serum_day7``); as a label the matrix comes first, so it cannot be put in
    time order (``serum_pre`` would follow ``serum_day28``). Its place is that of
    its timepoint part, then its matrix. ``samples``: one row per value with
    ``timepoint`` (the label), ``matrix`` and ``time_part``. When the timepoint
    parts cannot be ordered either (or there is one label), the table is
    returned as it is, and the statistics name the labels.
    """
    parts = samples.drop_duplicates("timepoint")
    times = [t for t in parts["time_part"] if t]
    if len(parts) < 2 or len(times) < len(parts) or unordered(times):
        return table
    ordered = sorted(parts.itertuples(), key=lambda r: (time_key(r.time_part), r.matrix))
    ranks = {r.timepoint: float(i) for i, r in enumerate(ordered)}
    return table.assign(time_order=table["timepoint"].map(ranks))


def split_inputs(paths: list[Path]) -> tuple[list[Path], Path | None]:
    """Plate exports and the (at most one) sample sheet among the input files."""
    sheets = [p for p in paths if is_sample_sheet(p)]
    if len(sheets) > 1:
        raise InputError(f"expected at most one sample sheet, found {len(sheets)}: "
                         f"{quoted(p.name for p in sheets)}", path=sheets[1])
    return [p for p in paths if p not in sheets], (sheets[0] if sheets else None)


class SampleMap:
    """Look-up of sample IDs (by plate) in a sample sheet or by the protocol's pattern.

    Parameters
    ----------
    study
        The study (its subjects are the only valid ones).
    sheet
        Sample sheet file, or None to use ``params.samples``.
    params
        Assay parameters (sample pattern, default matrix and time point).

    """

    def __init__(self, study: Study, sheet: Path | None, params: CommonParameters):
        if study.subjects is None or len(study.subjects) == 0:
            raise InputError("neurochemistry assays need a subjects file (subject, group, sex)",
                             path=study.path, where="key 'subjects'")
        self.known = set(study.subjects["subject"])
        self.sheet_path = sheet
        self.params = params
        self.unmapped: dict[str, list[str]] = {}
        self.table = None if sheet is None else read_sample_sheet(sheet)
        self._index: dict[tuple[str, str], SampleInfo] = {}
        self._cache: dict[tuple[str, str], SampleInfo | None] = {}
        self._used: set[tuple[str, str]] = set()
        if self.table is not None:
            unknown = self.table[~self.table["subject"].isin(self.known)]
            if len(unknown):
                r = unknown.iloc[0]
                raise InputError(f"subject {r['subject']!r} is not in the study's subjects "
                                 "file", path=sheet, where=f"{r['source']}, column 'subject'")
        try:
            self.pattern = re.compile(params.samples.pattern)
        except re.error as exc:
            raise InputError(f"samples.pattern is not a regular expression: {exc}",
                             where="parameter 'samples.pattern'") from None
        if "subject" not in self.pattern.groupindex:
            raise InputError("samples.pattern needs a named group (?P<subject>…)",
                             where="parameter 'samples.pattern'")
        unknown = set(self.pattern.groupindex) - {"subject", "matrix", "timepoint"}
        if unknown:
            name = sorted(unknown)[0]
            raise InputError(f"samples.pattern has a group {name!r}; groups may be 'subject', "
                             "'matrix' and 'timepoint'"
                             + did_you_mean(name, ["subject", "matrix", "timepoint"]),
                             where="parameter 'samples.pattern'")

    def lookup(self, plate: str, sample: str) -> SampleInfo | None:
        """The sample's subject and matrix, or None (recorded as unmapped)."""
        key = (plate, sample)
        if key not in self._cache:
            info = self._find(plate, sample)
            if info is None and (bare := name_dilution(sample)) is not None:
                info = self._find(plate, bare[0])    # 'S1 1:10': the sample S1, diluted
            self._cache[key] = info
            if info is None:
                self.unmapped.setdefault(plate, []).append(sample)
        return self._cache[key]

    def _find(self, plate: str, sample: str) -> SampleInfo | None:
        return self._from_sheet(plate, sample) if self.table is not None \
            else self._from_pattern(sample)

    def _from_sheet(self, plate: str, sample: str) -> SampleInfo | None:
        if not self._index:
            default = self.params.samples
            for r in self.table.to_dict("records"):
                self._index[(r["plate"], r["sample"])] = SampleInfo(
                    subject=r["subject"], matrix=r["matrix"] or label(default.matrix or ""),
                    timepoint=r["timepoint"] or label(default.timepoint or ""),
                    dilution=r["dilution"], protein_mg_ml=r["protein_mg_ml"],
                    tissue_mg=r["tissue_mg"], homogenate_ml=r["homogenate_ml"],
                    where=f"{self.sheet_path.name} {r['source']}")
        key = (plate, sample) if (plate, sample) in self._index else ("", sample)
        if key in self._index:
            self._used.add(key)
        return self._index.get(key)

    def _from_pattern(self, sample: str) -> SampleInfo | None:
        m = self.pattern.fullmatch(sample.strip())
        if not m or m.group("subject") not in self.known:
            return None
        groups: dict[str, Any] = m.groupdict()
        default = self.params.samples
        return SampleInfo(subject=groups["subject"],
                          matrix=label(groups.get("matrix") or default.matrix or ""),
                          timepoint=label(groups.get("timepoint") or default.timepoint or ""))

    def unmapped_text(self) -> str:
        """``; the exports' sample IDs: 'X1', 'X2' … and N more`` (empty when none)."""
        ids = {s for samples in self.unmapped.values() for s in samples}
        return f"; the exports' sample IDs: {quoted(ids, limit=6)}" if ids else ""

    def _light_tissue(self) -> list[str]:
        """A warning per sample-sheet tissue weight under :data:`MIN_TISSUE_MG` (grams?)."""
        if self.table is None:
            return []
        light = self.table[self.table["tissue_mg"] < MIN_TISSUE_MG]
        return [f"warning: sample sheet {self.sheet_path.name} {r['source']}, column "
                f"'tissue_mg': {r['tissue_mg']:g} mg for sample {r['sample']!r} is under "
                f"{MIN_TISSUE_MG:g} mg: a weight in g? (read as mg; per-g values would be "
                "1000× too high)" for r in light.to_dict("records")]

    def notes(self) -> list[str]:
        """What the mapping left out or assumed, one note each.

        Samples mapping to no study subject (per plate), sample-sheet rows that no
        export measured and, with a normalisation, samples without a matrix (taken
        as body fluids).
        """
        how = f"the sample sheet {self.sheet_path.name}" if self.sheet_path else \
            f"samples.pattern {self.params.samples.pattern!r}"
        out = [f"plate {plate}: {len(set(s))} sample ID(s) not in {how}, left out: "
               f"{quoted(s)}" for plate, s in sorted(self.unmapped.items())]
        unused = sorted(set(self._index) - self._used)
        if unused:
            out.append(f"sample sheet {self.sheet_path.name}: {len(unused)} sample(s) listed "
                       f"but measured in no export: {quoted((s for _, s in unused), limit=10)}")
        out += self._light_tissue()
        no_matrix = {s for (_, s), info in self._cache.items() if info and not info.matrix}
        if no_matrix and self.params.normalisation != "none":
            out.append(f"{len(no_matrix)} sample(s) have no matrix ({how}) and are taken as "
                       f"body fluids, per mL and not normalised per "
                       f"{self.params.normalisation}: {quoted(no_matrix, limit=10)}")
        return out


def is_fluid(matrix: str, params: CommonParameters) -> bool:
    """True for body fluids (concentration per mL), False for tissue homogenates."""
    return matrix in {label(m) for m in params.fluid_matrices}


def normaliser(info: SampleInfo, normalisation: str) -> tuple[float, str]:
    """Factor turning a per-mL homogenate value into per-mg-protein or per-g-tissue.

    Returns
    -------
    factor, reason
        NaN and the reason when the sample sheet lacks what is needed.

    """
    if normalisation == "protein":
        if not info.protein_mg_ml > 0:
            return math.nan, "protein concentration missing in the sample sheet"
        return 1.0 / info.protein_mg_ml, ""
    if normalisation == "tissue":
        if not (info.tissue_mg > 0 and info.homogenate_ml > 0):
            return math.nan, "tissue weight or homogenate volume missing in the sample sheet"
        return info.homogenate_ml / (info.tissue_mg / 1000.0), ""
    return 1.0, ""
