"""Studies left out of ranges by the laboratory, and entries whose vehicles are not per set.

A study may have to stay out of the historical control ranges without being
deleted (a contaminated diet batch, a protocol deviation found at audit):
:func:`neurotox.hcd.store.set_excluded` marks it (``hcd exclude``) or takes it back in (``hcd
include``), with a reason, in one transaction with an audit row (who, when, why).
Its animals and values stay stored; ranges and reports leave it out and say so.

:func:`shared_vehicle_entries` finds SEND entries added before schema version 3,
which stored the study's vehicle (``ts.TRTV``) for every control set: a set dosed
with another vehicle (the Instem study's water set in a saline study) counts under
the study's vehicle until the SEND folder is imported again with ``--replace``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from neurotox.hcd import schema


@dataclass(frozen=True)
class Excluded:
    """A study the laboratory left out of ranges: database id, number, reason, when, who."""

    id: int
    study_id: str
    reason: str
    at_utc: str
    by: str

    def describe(self) -> str:
        """``id 3 (LAB-001: 'contaminated diet batch', by ana@lab, 2026-12-05T20:00:00Z)``."""
        return (f"id {self.id} ({self.study_id}: {self.reason!r}, by {self.by}, "
                f"{self.at_utc})")

    def manifest(self) -> dict[str, object]:
        """What a run manifest records of it."""
        return {"id": self.id, "study_id": self.study_id, "reason": self.reason,
                "excluded_utc": self.at_utc, "excluded_by": self.by}


def excluded_studies(conn: sa.Connection, ids: list[int] | None = None) -> list[Excluded]:
    """Every study the laboratory left out of ranges (of ``ids`` when given), by database id."""
    s = schema.study
    q = (sa.select(s.c.id, s.c.study_id, s.c.exclusion_reason, s.c.excluded_utc,
                   s.c.excluded_by).where(s.c.excluded.is_(True)).order_by(s.c.id))
    if ids is not None:
        q = q.where(s.c.id.in_(sorted(ids)))
    return [Excluded(int(r.id), r.study_id, r.exclusion_reason, r.excluded_utc, r.excluded_by)
            for r in conn.execute(q)]


@dataclass(frozen=True)
class SharedVehicle:
    """A SEND entry added before schema 3: every control set under the study's vehicle."""

    id: int
    study_id: str
    vehicle: str
    sets: tuple[str, ...]

    def describe(self) -> str:
        """The warning: which entry, why its sets may be pooled, how to repair it."""
        return (f"historical controls: database id {self.id} (SEND study {self.study_id}) was "
                f"added before schema version 3, which stored the study's vehicle "
                f"{self.vehicle!r} for each of its control sets ({', '.join(self.sets)}): a "
                f"set dosed with another vehicle (e.g. a water control set in a saline study) "
                f"counts under {self.vehicle!r}; import the SEND folder again with 'neurotox "
                f"hcd import-send FOLDER --replace --reason TEXT' to give each set its own "
                f"vehicle")


def shared_vehicle_entries(conn: sa.Connection, ids: list[int]) -> list[SharedVehicle]:
    """Of the studies ``ids``, the SEND entries stored before schema 3 with several control sets.

    An entry is older than version 3 when it was added before that migration was
    applied to the database (``neurotox_schema.applied_utc``). Only entries whose
    included animals of one sex and role come from more than one control set
    (``animal.group_id``: SEND ARMCD, else SETCD) can pool sets of different
    vehicles: a study with one vehicle set per sex (PDS) is not named.
    """
    v = schema.schema_table
    since = conn.execute(sa.select(v.c.applied_utc).where(v.c.version == 3)).scalar()
    if not since or not ids:
        return []
    s, a = schema.study, schema.animal
    q = (sa.select(s.c.id, s.c.study_id, s.c.vehicle, a.c.sex, a.c.role, a.c.group_id)
         .distinct().select_from(s.join(a, a.c.study == s.c.id))
         .where(s.c.id.in_(sorted(set(ids))), s.c.source_kind == "send",
                s.c.added_utc < since, a.c.included.is_(True)))
    found: dict[tuple[int, str, str], dict[tuple[str, str], set[str]]] = {}
    for r in conn.execute(q):
        found.setdefault((int(r.id), r.study_id, r.vehicle), {}).setdefault(
            (r.sex, r.role), set()).add(str(r.group_id))
    return [SharedVehicle(pk, sid, vehicle, tuple(sorted(set().union(*by.values()))))
            for (pk, sid, vehicle), by in sorted(found.items())
            if any(len(groups) > 1 for groups in by.values())]
