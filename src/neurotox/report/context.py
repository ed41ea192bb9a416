"""What every table and figure builder needs to know about the study being reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from neurotox.report.historical import HistoricalRanges
from neurotox.report.labels import TimepointLabels, sex_label
from neurotox.study import StudySpec


@dataclass(frozen=True)
class Context:
    """The study, its EndpointTable and how to label what they hold.

    Attributes
    ----------
    spec
        The study.
    table
        The EndpointTable analysed (excluded values included).
    timepoints
        Timepoint labels (bin lengths from the effective assay parameters).
    historical
        Historical control ranges shown beside the concurrent control (or None).

    """

    spec: StudySpec
    table: pd.DataFrame
    timepoints: TimepointLabels = field(default_factory=TimepointLabels)
    historical: HistoricalRanges | None = None

    @property
    def spread(self) -> str:
        """``sd`` or ``sem``: the spread shown with means, in tables and figures."""
        return self.spec.report.spread

    @property
    def spread_label(self) -> str:
        """``SD`` or ``SEM``."""
        return self.spread.upper()

    @cached_property
    def litters(self) -> bool:
        """True when litters are the unit of analysis (litter means, OECD TG 426)."""
        return (self.spec.statistics.litter_unit == "means" and "batch" in self.table
                and bool((self.table["batch"].astype(str) != "NA").any()))

    @cached_property
    def litter_model(self) -> bool:
        """True when litter enters the statistics as a random effect."""
        return (self.spec.statistics.litter_unit == "mixed" and "batch" in self.table
                and bool((self.table["batch"].astype(str) != "NA").any()))

    @cached_property
    def sex_recorded(self) -> bool:
        """True when some value of the EndpointTable is of a male or a female.

        Not so for cell cultures, plates of larvae or a study whose subjects file
        has no sex: their ``NA`` is no "sexes combined".
        """
        return "sex" in self.table and bool(self.table["sex"].isin(["M", "F"]).any())

    def sex(self, code: str) -> str:
        """``Males``, ``Females``, ``Sexes combined``; ``""`` for ``NA`` without sexes."""
        return "" if code == "NA" and not self.sex_recorded else sex_label(code)

    def tp(self, code: object, assay: str = "") -> str:
        """Label of a timepoint code (``""`` for ``NA``)."""
        return self.timepoints.label(code, assay)

    def pre_dose(self, code: object, assay: str = "") -> bool:
        """True for a session before dosing (pre-test, baseline, negative day)."""
        return self.timepoints.pre_dose(code, assay)

    def values(self, assay: str, endpoint: str, sex: str,
               timepoint: str | None = None) -> pd.DataFrame:
        """EndpointTable rows of one assay × endpoint × sex (× timepoint)."""
        t = self.table
        m = (t["assay"] == assay) & (t["endpoint"] == endpoint)
        if sex != "NA":
            m &= t["sex"] == sex
        if timepoint is not None:
            m &= t["timepoint"] == timepoint
        return t[m]

    def pups_and_litters(self, rows: pd.DataFrame) -> tuple[int, int]:
        """Included pups (subjects) and litters (``batch``) among EndpointTable rows."""
        inc = rows[~rows["excluded"].astype(bool)]
        litters = inc.loc[inc["batch"].astype(str) != "NA", "batch"]
        return int(inc["subject"].nunique()), int(litters.nunique())
