"""What every table and figure builder needs to know about the study being reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from neurotox import endpoints
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
    litter_pups
        The pups behind the table's litter-mean rows (:func:`litter_pups`): columns
        ``assay``, ``endpoint``, ``sex``, ``batch`` and ``subject``, one row per pup
        value that entered a litter mean; None when unknown (an EndpointTable
        reported without the assays' detail tables).

    """

    spec: StudySpec
    table: pd.DataFrame
    timepoints: TimepointLabels = field(default_factory=TimepointLabels)
    historical: HistoricalRanges | None = None
    litter_pups: pd.DataFrame | None = None

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

    def pups_and_litters(self, rows: pd.DataFrame) -> tuple[int | None, int]:
        """Included pups and litters (``batch``) among EndpointTable rows.

        A litter-mean row (:func:`neurotox.endpoints.is_litter_mean`) is a litter,
        not a pup: its pups are those of :attr:`litter_pups` whose values entered
        it. The pup count is None when some litter-mean row's pups are unknown.
        """
        inc = rows[~rows["excluded"].astype(bool)]
        litters = int(inc.loc[inc["batch"].astype(str) != "NA", "batch"].nunique())
        means = endpoints.is_litter_mean(inc)
        pups = set(inc.loc[~means, "subject"].astype(str))
        if not means.any():
            return len(pups), litters
        keys = inc.loc[means, list(_MEAN_KEY)].astype(str).drop_duplicates()
        found = (self.litter_pups.merge(keys, on=list(_MEAN_KEY))
                 if self.litter_pups is not None else keys.iloc[:0].assign(subject=""))
        if len(found.drop_duplicates(list(_MEAN_KEY))) < len(keys):
            return None, litters
        return len(pups | set(found["subject"])), litters


#: What a litter-mean row and the pups it was taken of share.
_MEAN_KEY = ("assay", "endpoint", "sex", "batch")


def litter_pups(details: Mapping[str, pd.DataFrame] | None,
                assay_of: Mapping[str, str]) -> pd.DataFrame | None:
    """The pups whose values entered the assays' litter-mean rows (None without details).

    Parameters
    ----------
    details
        The assays' detail tables by ``<entry key>/<name>``; the ones named
        :data:`neurotox.endpoints.LITTER_PUPS_DETAIL` list the pups.
    assay_of
        Assay name of each entry key.

    Returns
    -------
    pandas.DataFrame or None
        Columns ``assay``, ``endpoint``, ``sex``, ``batch``, ``subject``: one row per
        pup value without an exclusion reason.

    """
    if details is None:
        return None
    frames = []
    for key, df in details.items():
        entry, _, name = key.rpartition("/")
        if name == endpoints.LITTER_PUPS_DETAIL and len(df):
            used = df[df["reason"].astype(str) == ""]
            frames.append(used.assign(assay=assay_of.get(entry, entry))[
                [*_MEAN_KEY, "subject"]].astype(str))
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=[*_MEAN_KEY, "subject"]))
