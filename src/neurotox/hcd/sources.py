"""The historical studies behind a report's ranges, and what their strata leave unmatched.

A reviewer must be able to name the studies a historical control range comes
from (study number, dates, facility, strain, vehicle, route) and see how they
differ from the study being reported. :func:`sources` lists the stored studies
that contributed rows to the ranges; :func:`unmatched` says which study
characteristics the strata do not match and where the historical studies differ
from the reported study on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from neurotox.hcd import schema
from neurotox.hcd.ranges import Query, _norm

#: Study-level characteristics a stratum can match: stratum name → label in messages.
STUDY_STRATA = {"species": "species", "strain": "strain", "route": "route",
                "vehicle": "vehicle", "guideline": "guideline", "facility": "facility"}


@dataclass(frozen=True)
class SourceStudy:
    """One stored study that contributed values to the ranges."""

    id: int
    study_id: str
    title: str
    facility: str
    guideline: str
    species: str
    strain: str
    route: str
    vehicle: str
    start_date: str
    end_date: str
    n_animals: int

    def describe(self) -> str:
        """``GLP003 (database id 1; title; facility; 2007-06-04 to 2007-07-27; …)``."""
        dates = (f"{self.start_date or 'start not recorded'} to "
                 f"{self.end_date or 'end not recorded'}")
        design = ", ".join(f"{k} {v}" for k, v in (("strain", self.strain), ("route", self.route),
                                                   ("vehicle", self.vehicle)) if v)
        parts = [p for p in (self.title, self.facility, dates, design,
                             f"{self.n_animals} control animal(s)") if p]
        return f"{self.study_id} (database id {self.id}; {'; '.join(parts)})"

    def manifest(self) -> dict[str, Any]:
        """Every field, for the run manifest."""
        return asdict(self)


def sources(conn: sa.Connection, rows: pd.DataFrame) -> tuple[SourceStudy, ...]:
    """The stored studies of ``rows`` (selected rows), by database id, with their animal counts."""
    if rows.empty:
        return ()
    counts = rows[["study_pk", "subject"]].drop_duplicates().groupby("study_pk").size()
    # the vehicles of the animals used (a control set's own vehicle, else the study's)
    vehicles = rows.groupby("study_pk")["vehicle"].agg(lambda v: "; ".join(sorted(set(v))))
    s = schema.study
    found = conn.execute(sa.select(s).where(s.c.id.in_([int(i) for i in counts.index]))
                         .order_by(s.c.id)).mappings().all()
    return tuple(SourceStudy(id=int(r["id"]), study_id=r["study_id"], title=r["title"],
                             facility=r["facility"], guideline=r["guideline"],
                             species=r["species"], strain=r["strain"], route=r["route"],
                             vehicle=vehicles.get(r["id"], r["vehicle"]),
                             start_date=r["start_date"],
                             end_date=r["end_date"], n_animals=int(counts[r["id"]]))
                 for r in found)


def start_span(studies: tuple[SourceStudy, ...]) -> str:
    """``started 2007-06-04 to 2010-12-04`` over the studies' start dates (or nothing)."""
    dates = sorted(s.start_date for s in studies if s.start_date)
    if not dates:
        return ""
    missing = sum(1 for s in studies if not s.start_date)
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    return f"started {span}" + (f", {missing} without a start date" if missing else "")


def not_matched(query: Query) -> list[str]:
    """Study characteristics (and age) that the query's strata leave free."""
    out = [label for name, label in STUDY_STRATA.items() if getattr(query, name) is None]
    return out + (["age"] if query.age_weeks is None else [])


def has_strata(query: Query) -> bool:
    """True when the query sets any stratum (the time window is not one)."""
    return any(getattr(query, name) is not None for name in (*STUDY_STRATA, "apparatus",
                                                             "session_length", "age_weeks"))


def _difference(label: str, own: str, studies: tuple[SourceStudy, ...],
                name: str) -> str | None:
    values: dict[str, list[str]] = {}
    for s in studies:
        values.setdefault(getattr(s, name) or "not recorded", []).append(s.study_id)
    keys = {_norm(v) for v in values}
    if (own and keys == {_norm(own)}) or (not own and len(keys) <= 1):
        return None
    shown = ", ".join(f"{v!r} ({', '.join(ids)})" for v, ids in sorted(values.items()))
    return f"{label} {own!r} here, {shown} in the historical studies" if own else \
        f"{label} {shown}"


def differences(query: Query, studies: tuple[SourceStudy, ...], own: Mapping[str, str],
                rows: pd.DataFrame) -> list[str]:
    """Where the historical studies differ from ``own`` on characteristics not matched.

    ``own`` maps stratum names to the reported study's values (empty when unknown).
    """
    out = [d for name, label in STUDY_STRATA.items() if getattr(query, name) is None
           and (d := _difference(label, own.get(name, ""), studies, name))]
    if query.age_weeks is None:
        ages = rows.drop_duplicates(["study_pk", "subject"])["age_days"].dropna() / 7
        if len(ages) and ages.max() - ages.min() > 0:
            out.append(f"age {ages.min():.3g}–{ages.max():.3g} weeks at start in the "
                       "historical studies")
    return out


def unmatched_message(query: Query, studies: tuple[SourceStudy, ...],
                      own: Mapping[str, str], rows: pd.DataFrame) -> str | None:
    """The run note on what the strata do not match; ``warning:`` when there are no strata.

    None when the strata match every study characteristic and age.
    """
    free = not_matched(query)
    if not free or not studies:
        return None
    found = differences(query, studies, own, rows)
    why = f"; they differ in {'; '.join(found)}" if found else ""
    n = len(studies)
    text = (f"historical controls: the ranges pool {n} stud{'y' if n == 1 else 'ies'} not "
            f"matched on {', '.join(free)}{why}")
    if has_strata(query):
        return text
    return (f"warning: {text}; historical_controls.strata is empty: set strata (e.g. strain, "
            "vehicle, route, age_weeks) so that the ranges come from comparable studies")
