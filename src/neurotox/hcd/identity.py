"""Which stored studies are the same study as a new one: by source, study number or data.

A study may reach the database more than once: a report re-run after the study
file was edited is a new folder with a new manifest; a SEND study exported twice
or copied elsewhere has other bytes or another folder; a corrected re-run may
carry an amended study number. Its control animals would then count twice in
every range, or a study would be compared with itself. A stored study is the
same study as a new one when

* its source hash is the same (the same manifest, the same SEND files), or
* its study number is the same (compared without regard to case and surrounding
  spaces), or
* its data files mostly overlap: more than half of the new study's data files,
  or of the stored study's, have the same SHA-256 in both (a re-run that adds,
  drops or corrects one file of several). Data files are those the values were
  read from — a run's raw data (not the study file, subjects file, plate layouts
  or exclusion list, which studies of one design may share), a SEND folder's
  ``.xpt`` files. Empty files are not compared. One shared file of several (a
  plate read for two studies) does not make two studies the same; or
* its control animals mostly overlap: more than half of the new study's control
  animals are stored under the same subject ID with the same values
  (:data:`VALUE_TYPES` values other than 0, equal to 1e-9 relative, in more
  than half of the endpoint × timepoint keys both hold — so that one corrected
  value does not hide the animal). IDs such as ``M01`` recur across studies; their
  measured values do not.

``neurotox hcd add``/``import-send`` refuse such a study (or, with ``--replace``,
remove the earlier entries first); a report leaves its own study out of its
historical control range. Among the stored studies the same rules find the
copies an older neurotox (schema 1, which compared sources only) let in, a
renumbered re-run among them (by its control animals)
(:func:`duplicates`): ranges keep the earliest entry and leave the later ones out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from neurotox.hcd import schema

#: SHA-256 of zero bytes: an empty file identifies nothing.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_CHUNK = 500          # bound parameters per IN (...) clause
#: Data types whose values identify an animal (0/1 findings and scores coincide by chance).
VALUE_TYPES = ("continuous", "count")
#: Columns of the control values compared (:func:`control_values`).
VALUE_COLUMNS = ["subject", "endpoint", "timepoint", "value"]


@dataclass(frozen=True)
class Match:
    """A stored study that is the same study as a new one, and why."""

    id: int
    study_id: str
    source_path: str
    added_utc: str
    reasons: tuple[str, ...]

    def describe(self) -> str:
        """``id 3 (study 'X', added … from /path; same study number)``."""
        return (f"id {self.id} (study {self.study_id!r}, added {self.added_utc} from "
                f"{self.source_path}; {', '.join(self.reasons)})")


def study_key(study_id: str) -> str:
    """The study number as compared: without surrounding spaces, case folded."""
    return str(study_id).strip().casefold()


def data_hashes(inputs: Mapping[str, str]) -> dict[str, str]:
    """``path → sha256`` without empty files."""
    return {p: h for p, h in inputs.items() if h and h != EMPTY_SHA256}


def file_hashes(paths: Iterable[str | Path]) -> dict[str, str]:
    """``path → sha256`` of the regular files among ``paths`` (folders expanded)."""
    from neurotox.io.output import sha256_file, walk

    out: dict[str, str] = {}
    for p in map(Path, paths):
        files = [p / rel for rel, kind in walk(p) if kind == "file"] if p.is_dir() else [p]
        for f in files:
            if f.is_file():
                out[str(f.resolve())] = sha256_file(f)
    return data_hashes(out)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _mostly(part: int, whole: int) -> bool:
    """More than half."""
    return whole > 0 and 2 * part > whole


def _same_data(conn: sa.Connection, hashes: set[str]) -> dict[int, list[str]]:
    """Stored study → the new study's files it shares, where they are most of either set."""
    if not hashes:
        return {}
    si = schema.study_input
    shared: dict[int, set[str]] = {}
    for part in _chunks(sorted(hashes)):
        for study, sha in conn.execute(sa.select(si.c.study, si.c.sha256)
                                       .where(si.c.sha256.in_(part))):
            shared.setdefault(study, set()).add(sha)
    if not shared:
        return {}
    totals = dict(conn.execute(
        sa.select(si.c.study, sa.func.count(sa.distinct(si.c.sha256)))
        .where(si.c.study.in_(sorted(shared)), si.c.sha256 != EMPTY_SHA256)
        .group_by(si.c.study)).all())
    return {study: sorted(common) for study, common in shared.items()
            if _mostly(len(common), len(hashes)) or _mostly(len(common), totals.get(study, 0))}


def control_values(results: pd.DataFrame, subjects: Iterable[str],
                   data_type: pd.Series | None = None) -> pd.DataFrame:
    """The values that identify ``subjects`` (:data:`VALUE_COLUMNS`): measured, not 0.

    ``data_type`` is the data type of each row of ``results`` (its own column
    ``data_type`` when None); only :data:`VALUE_TYPES` count.
    """
    types = results["data_type"] if data_type is None else data_type
    value = pd.to_numeric(results["value"], errors="coerce")
    keep = (results["subject"].astype(str).isin({str(s) for s in subjects})
            & types.isin(VALUE_TYPES) & np.isfinite(value) & (value != 0))
    out = results.loc[keep, VALUE_COLUMNS[:3]].astype(str)
    out["value"] = value[keep].astype(float)
    return out.drop_duplicates(VALUE_COLUMNS[:3]).reset_index(drop=True)


def _stored_values(conn: sa.Connection, values: pd.DataFrame) -> pd.DataFrame:
    """Stored values of animals with the subject IDs of ``values`` (and their endpoints)."""
    a, r = schema.animal, schema.result
    subjects = sorted(values["subject"].unique())
    names = sorted(values["endpoint"].unique())
    rows = []
    for part in _chunks(subjects):
        rows += conn.execute(
            sa.select(a.c.study, a.c.subject, r.c.endpoint, r.c.timepoint, r.c.value)
            .select_from(r.join(a, r.c.animal == a.c.id))
            .where(a.c.subject.in_(part), r.c.endpoint.in_(names))).all()
    return pd.DataFrame(rows, columns=["study", *VALUE_COLUMNS])


def _same_animals(conn: sa.Connection, values: pd.DataFrame) -> dict[int, tuple[int, int]]:
    """Stored study → (animals with the same values, animals compared), where most are.

    An animal is the same when more than half of the endpoint × timepoint keys it
    shares with the stored animal of its subject ID hold equal values (1e-9 relative).
    """
    if values is None or values.empty:
        return {}
    stored = _stored_values(conn, values)
    if stored.empty:
        return {}
    both = stored.merge(values, on=VALUE_COLUMNS[:3], suffixes=("_stored", ""))
    both["equal"] = np.isclose(pd.to_numeric(both["value_stored"], errors="coerce"),
                               both["value"], rtol=1e-9, atol=0.0)
    per_animal = both.groupby(["study", "subject"])["equal"].agg(["sum", "size"])
    same = per_animal[2 * per_animal["sum"] > per_animal["size"]]
    n_new = int(values["subject"].nunique())
    counts = same.groupby(level="study").size()
    return {int(study): (int(n), n_new) for study, n in counts.items() if _mostly(n, n_new)}


def matches(conn: sa.Connection, *, study_id: str, source_hash: str = "",
            inputs: Mapping[str, str] | None = None,
            controls: pd.DataFrame | None = None) -> list[Match]:
    """Stored studies that are the same study as the one described, oldest first.

    Parameters
    ----------
    conn
        Connection (inside the adding transaction, so that the answer holds).
    study_id
        The new study's number.
    source_hash
        Its source hash (none for a report's own study).
    inputs
        ``path → sha256`` of its data files.
    controls
        Values of its control animals (:func:`control_values`).

    """
    s = schema.study
    inputs = data_hashes(inputs or {})
    by_hash = {h: p for p, h in inputs.items()}
    reasons: dict[int, list[str]] = {}
    if source_hash:
        for (pk,) in conn.execute(sa.select(s.c.id).where(s.c.source_hash == source_hash)):
            reasons.setdefault(pk, []).append("same source")
    key = study_key(study_id)
    for pk, sid in conn.execute(sa.select(s.c.id, s.c.study_id)):
        if study_key(sid) == key:
            reasons.setdefault(pk, []).append("same study number")
    for pk, common in _same_data(conn, set(by_hash)).items():
        names = sorted(Path(by_hash[h]).name for h in common)
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        of = "" if len(names) == len(by_hash) else f" ({len(names)} of {len(by_hash)})"
        reasons.setdefault(pk, []).append(f"same data files{of}: {', '.join(names[:3])}{more}")
    for pk, (n, of) in _same_animals(conn, controls).items():
        reasons.setdefault(pk, []).append(
            f"same control animals: {n} of {of} with the same subject IDs and values")
    if not reasons:
        return []
    rows = conn.execute(sa.select(s.c.id, s.c.study_id, s.c.source_path, s.c.added_utc)
                        .where(s.c.id.in_(sorted(reasons))).order_by(s.c.id)).all()
    return [Match(r.id, r.study_id, r.source_path, r.added_utc, tuple(reasons[r.id]))
            for r in rows]


@dataclass(frozen=True)
class Duplicate:
    """A stored study that the identity rules call the same as an earlier stored one.

    Older neurotox versions (schema 1) accepted a re-run of a study already in the
    database; such copies survive the schema upgrade. Ranges keep the earliest
    entry (``kept``) and leave the later copy out.
    """

    copy: int
    copy_study_id: str
    kept: int
    kept_study_id: str
    reasons: tuple[str, ...]

    def describe(self) -> str:
        """``id 3 (study 'X') is the same study as id 1 (study 'X'; same study number)``."""
        return (f"id {self.copy} (study {self.copy_study_id!r}) is the same study as id "
                f"{self.kept} (study {self.kept_study_id!r}; {', '.join(self.reasons)})")


def _shared_data_pairs(conn: sa.Connection) -> dict[tuple[int, int], str]:
    """``(earlier, later) → reason`` for stored studies sharing most of either's data files.

    The rule of :func:`_same_data` (more than half of either set), as :func:`matches`
    applies it to a new study.
    """
    si = schema.study_input
    files = conn.execute(sa.select(si.c.study, si.c.sha256).distinct()
                         .where(si.c.sha256 != EMPTY_SHA256)).all()
    by_study: dict[int, set[str]] = {}
    by_hash: dict[str, set[int]] = {}
    for study, sha in files:
        by_study.setdefault(study, set()).add(sha)
        by_hash.setdefault(sha, set()).add(study)
    out: dict[tuple[int, int], str] = {}
    for study, hashes in by_study.items():
        others = set().union(*(by_hash[h] for h in hashes)) - {study}
        for other in (o for o in others if o > study):
            common = len(hashes & by_study[other])
            if _mostly(common, len(hashes)) or _mostly(common, len(by_study[other])):
                out[(study, other)] = f"same data files ({common})"
    return out


def _shared_subject_pairs(conn: sa.Connection) -> list[tuple[int, int]]:
    """``(earlier, later)`` stored studies whose animals' subject IDs mostly overlap.

    A cheap pass over the animal table: only such pairs can hold the same control
    animals (:func:`_same_animal_pairs` then compares their values).
    """
    a = schema.animal
    other = a.alias("other")
    shared = conn.execute(
        sa.select(a.c.study, other.c.study, sa.func.count())
        .select_from(a.join(other, sa.and_(a.c.subject == other.c.subject,
                                           a.c.study < other.c.study)))
        .group_by(a.c.study, other.c.study)).all()
    if not shared:
        return []
    sizes = dict(conn.execute(sa.select(a.c.study, sa.func.count()).group_by(a.c.study)).all())
    return [(x, y) for x, y, n in shared if _mostly(n, sizes[x]) or _mostly(n, sizes[y])]


def _animal_values(conn: sa.Connection, studies: list[int]) -> pd.DataFrame:
    """The identifying values (:func:`control_values`) of the animals of ``studies``."""
    a, r = schema.animal, schema.result
    rows = []
    for part in _chunks(studies):
        rows += conn.execute(
            sa.select(a.c.study, a.c.subject, r.c.endpoint, r.c.timepoint, r.c.value)
            .select_from(r.join(a, r.c.animal == a.c.id))
            .where(a.c.study.in_(part), r.c.data_type.in_(VALUE_TYPES),
                   r.c.value.is_not(None), r.c.value != 0)).all()
    df = pd.DataFrame(rows, columns=["study", *VALUE_COLUMNS])
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    return df[np.isfinite(df["value"])]


def _value_key(value: pd.Series) -> pd.Series:
    """``value`` to 9 significant digits as an integer key (equal values, equal keys)."""
    scale = 10.0 ** (np.floor(np.log10(value.abs())) - 8)
    return (value / scale).round().astype("int64").astype(str) + "e" + \
        np.log10(scale).round().astype("int64").astype(str)


def _pair_rows(pairs: pd.DataFrame, values: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Values of study ``x`` beside those of study ``y`` with the same ``on``, for ``pairs``."""
    left = pairs.merge(values.rename(columns={"study": "x"}), on="x")
    right = values.rename(columns={"study": "y", "value": "value_y"})
    return left.merge(right.drop(columns=[c for c in right if c not in [*on, "y", "value_y"]]),
                      on=["y", *on])


def _same_animal_pairs(conn: sa.Connection) -> dict[tuple[int, int], str]:
    """``(earlier, later) → reason`` for stored studies holding mostly the same animals.

    The rule of :func:`_same_animals` (same subject ID, more than half of the keys
    both hold with equal values), as :func:`matches` applies it to a new study,
    here counted against either study's animals: a renumbered re-run that an older
    neurotox stored (schema 1 kept no data files to compare). Vectorised: pairs
    whose animals share no value to 9 significant digits in most of either's
    animals are dropped before their values are compared key by key.
    """
    pairs = _shared_subject_pairs(conn)
    if not pairs:
        return {}
    values = _animal_values(conn, sorted({s for p in pairs for s in p}))
    if values.empty:
        return {}
    values["key"] = _value_key(values["value"])
    animals = values.groupby("study")["subject"].nunique()
    frame = pd.DataFrame(pairs, columns=["x", "y"])

    def mostly(counts: pd.Series) -> pd.Series:
        x = counts.index.get_level_values("x").map(animals).to_numpy()
        y = counts.index.get_level_values("y").map(animals).to_numpy()
        return counts[(2 * counts.to_numpy() > x) | (2 * counts.to_numpy() > y)]

    keys = ["subject", "endpoint", "timepoint"]
    hits = _pair_rows(frame, values, [*keys, "key"]).groupby(["x", "y"])["subject"].nunique()
    frame = mostly(hits).index.to_frame(index=False)
    if frame.empty:
        return {}
    both = _pair_rows(frame, values.drop(columns="key"), keys)
    both["equal"] = np.isclose(both["value"], both["value_y"], rtol=1e-9, atol=0.0)
    per_animal = both.groupby(["x", "y", "subject"])["equal"].agg(["sum", "size"])
    same = per_animal[2 * per_animal["sum"] > per_animal["size"]]
    found = mostly(same.groupby(level=["x", "y"]).size())
    return {(int(x), int(y)): f"same control animals ({int(n)})" for (x, y), n in found.items()}


def duplicates(conn: sa.Connection) -> list[Duplicate]:
    """Stored studies that are the same study as an earlier stored one, by id.

    The rules of :func:`matches` (same study number; same data files; same
    control animals), applied among the stored studies. Each later copy is named
    once, against the earliest entry of its study. The study number and data
    files are compared for every pair; values are read only for studies whose
    animals mostly share their subject IDs.
    """
    s = schema.study
    names = dict(conn.execute(sa.select(s.c.id, s.c.study_id)).all())
    reasons: dict[tuple[int, int], list[str]] = {}
    first: dict[str, int] = {}
    for pk in sorted(names):
        key = study_key(names[pk])
        if key in first:
            reasons.setdefault((first[key], pk), []).append("same study number")
        else:
            first[key] = pk
    for pair, why in [*_shared_data_pairs(conn).items(), *_same_animal_pairs(conn).items()]:
        reasons.setdefault(pair, []).append(why)
    root: dict[int, int] = {}
    for kept, copy in sorted(reasons):      # earliest entry of each study is kept
        root.setdefault(copy, root.get(kept, kept))
    out = []
    for copy, kept in sorted(root.items()):
        why = sorted({r for (k, c), rs in reasons.items() if c == copy for r in rs})
        out.append(Duplicate(copy, names[copy], kept, names[kept], tuple(why)))
    return out


def duplicates_message(found: list[Duplicate]) -> str:
    """The warning for stored duplicates: what was left out and how to repair the database."""
    ids = ", ".join(str(d.copy) for d in found)
    return (f"the historical control database holds {len(found)} later cop"
            f"{'y' if len(found) == 1 else 'ies'} of studies stored before (added by an older "
            f"neurotox): {'; '.join(d.describe() for d in found)}; ranges leave out id {ids}. "
            "Repair: 'neurotox hcd remove ID --reason TEXT' for the copy that should go, or "
            "add the study again with --replace --reason TEXT")
