"""Every subject of the study accounted for: animals (or sessions) an assay's inputs lack.

And the group and sex a sheet writes of its animals checked against the subjects file
(:func:`check_written_groups`, for every scoring sheet that writes them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from neurotox.errors import InputError, quoted
from neurotox.study import Study
from neurotox.timepoints import time_order
from neurotox.vocab import parse_sex

#: Subject IDs a "no data" warning names before "and N more" (the report lists them all).
SHOWN_IDS = 5


def listed(items: Sequence[str], *, limit: int = SHOWN_IDS, what: str = "") -> str:
    """The first ``limit`` items, comma-separated, then ``and N more`` (``N more <what>``).

    ``listed(["A1", "A2", "A3"], limit=2)`` is ``'A1, A2 and 1 more'``.
    """
    more = f" and {len(items) - limit} more{what and ' ' + what}" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def check_written_groups(animals: pd.DataFrame, study: Study,
                         locate: Callable[[int, str], tuple[str | Path | None, str]]) -> list[str]:
    """InputError at the first animal whose written group or sex contradicts the subjects file.

    The subjects file gives each animal's group and sex; a sheet's own columns are
    not used, but one naming another group of the study (by ID or label, case and
    surrounding spaces aside) or the other sex (:func:`~neurotox.vocab.parse_sex`)
    is an animal mix-up or a typo in one of the two files. Entries that name no
    group of the study (a group number, a dose) and empty ones are not checked.

    Parameters
    ----------
    animals
        ``subject`` and any of ``group``, ``sex``; ``sheet`` when a group was taken
        from the name of a sheet per group (``group`` equal to ``sheet``).
    study
        The study, with its subjects file.
    locate
        ``(i, column)`` → (file, location) of row ``i`` of ``animals``, for the error.

    Returns
    -------
    list of str
        A note naming the sheets whose names are not group IDs or labels of the
        study (the groups then come from the subjects file); empty otherwise.

    """
    names = {n.strip().casefold(): g.id for g in study.groups.values() for n in (g.id, g.label)}
    known = study.subjects.set_index("subject").reindex(animals["subject"].astype(str))
    unnamed: set[str] = set()
    for col in ("group", "sex"):
        if col not in animals.columns:
            continue
        raw = animals[col].fillna("").astype(str)
        if col == "group":
            written = raw.str.strip().str.casefold().map(names)
            if "sheet" in animals.columns:
                unnamed |= set(raw[written.isna() & (raw == animals["sheet"]) & (raw != "")])
        else:
            written = raw.map(lambda t: None if (x := parse_sex(t)) is None else x.value)
        truth = known[col].astype(str).to_numpy()
        bad = (written.notna() & known[col].notna().to_numpy()
               & (written.astype(str) != truth)).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            said = f" ({study.groups[truth[i]].label})" if col == "group" else ""
            path, where = locate(i, col)
            raise InputError(f"subject {animals['subject'].iloc[i]!r}: the sheet gives {col} "
                             f"{raw.iloc[i]!r}, the subjects file says {truth[i]!r}{said}; "
                             "correct the sheet or the subjects file", path=path, where=where)
    return [f"sheet name(s) {quoted(sorted(unnamed))} are not group IDs or labels of the "
            "study: the groups come from the subjects file"] if unnamed else []


def _file_names(files: list[Path], limit: int = 3) -> str:
    return listed(sorted({p.name for p in files}), limit=limit, what="file(s)")


def outside_cohorts(study: Study, table: pd.DataFrame,
                    cohorts: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """Values of animals an entry does not measure (another cohort) excluded, with a warning.

    An entry with ``cohorts`` measures the animals of those cohorts only: a
    satellite (toxicokinetic) animal whose rows sit in the same FOB sheet must
    not enter the main animals' statistics, nor one whose cohort cell was left
    blank (the entry does not expect it either). Its values are kept in the
    table, excluded with the reason; rows of subjects the subjects file does not
    list (litter means) are left as they are.
    """
    if not cohorts or not len(study.subjects) or table.empty:
        return table, ""
    cohort = study.subjects.set_index("subject")["cohort"]
    in_subjects = table["subject"].isin(cohort.index)
    theirs = table["subject"].map(cohort).fillna("").astype(str)
    out = in_subjects & ~theirs.isin(cohorts) & ~table["excluded"]
    if not out.any():
        return table, ""
    table = table.copy()
    allowed = ", ".join(cohorts)
    named = theirs[out].map(lambda c: f"cohort {c!r}" if c else "no cohort in the subjects file")
    reason = named + f": not measured by this entry (cohorts: {allowed})"
    old = table.loc[out, "exclusion_reason"]
    table.loc[out, "exclusion_reason"] = old.where(old == "", old + "; ").fillna("") + reason
    table.loc[out, "excluded"] = True
    animals = sorted(table.loc[out, "subject"].unique())
    shown = listed(animals, limit=6)
    kinds = ", ".join(repr(c) if c else "none" for c in sorted(set(theirs[out])))
    return table, (f"warning: {len(animals)} animal(s) of cohort(s) {kinds} ({shown}) have "
                   f"{int(out.sum())} value(s) in this entry's input, which measures cohort(s) "
                   f"{allowed} only: excluded")


def unaccounted_subjects(study: Study, table: pd.DataFrame, files: list[Path], *,
                         cohorts: tuple[str, ...] = ()) -> tuple[list[dict[str, str]], str]:
    """Subjects of the study with no value in an assay's table, and the warning saying so.

    GLP accountability: an animal of the subjects file (of the entry's
    ``cohorts``) that an assay's input holds nothing for, e.g. an export
    truncated at a row boundary, is named, never dropped in silence. An animal
    the study's exclusions file excludes whole (it died or was lost before the
    assay) is recorded with that reason too, but not warned about.

    Parameters
    ----------
    study
        The study (its subjects file).
    table
        EndpointTable of one assay entry.
    files
        The entry's input files, named as where the data were missing.
    cohorts
        The entry's ``cohorts``; subjects of other cohorts are not expected.

    Returns
    -------
    records, note
        One record per missing subject (``subject``, ``group``, ``sex``,
        ``reason``) and a one-line ``warning:`` note with the count and the first
        :data:`SHOWN_IDS` IDs (``""`` when none is missing).

    """
    expected = study.assay_subjects(table, cohorts)
    if expected is None:
        return [], ""
    # the exclusions file is read only when something is missing
    declared = functools.cache(lambda: declared_exclusions(study))
    gaps, gap_note = _session_gaps(table, expected, files, declared)
    missing = expected[~expected["subject"].isin(set(table["subject"].astype(str)))]
    if missing.empty:
        return gaps, gap_note
    reason = f"no data in {_file_names(files)}"
    declared = _declared_whole(declared(), set(table["timepoint"].astype(str)))
    records = [{"subject": r.subject, "group": r.group, "sex": r.sex,
                "reason": reason + (f"; manual exclusion: {declared[r.subject]}"
                                    if r.subject in declared else "")}
               for r in missing.itertuples(index=False)]
    missing = missing[~missing["subject"].isin(set(declared))]
    if missing.empty:       # each one accounted for by the exclusions file
        return records + gaps, gap_note
    ids = list(missing["subject"])
    shown = listed(ids)
    of = f"{len(expected)} subject(s)" + (f" of cohort(s) {', '.join(cohorts)}" if cohorts
                                          else " of the study")
    note = (f"warning: {len(ids)} of {of} have no value ({reason}): {shown}; not analysed, "
            "listed under exclusions")
    return records + gaps, note + ("; " + gap_note.removeprefix("warning: ") if gap_note else "")


def _session_gaps(table: pd.DataFrame, expected: pd.DataFrame, files: list[Path],
                  declared: Callable[[], dict[str, dict[str, str]]]
                  ) -> tuple[list[dict[str, str]], str]:
    """Sessions (timepoints) an animal with data misses that its schedule holds.

    An animal's schedule is known from its mates (same group, sex and cohort),
    endpoint by endpoint: where a mate holds every timepoint of an endpoint the
    animal holds and more, the animal misses those others (an export cut at a
    row boundary, an animal lost during the study). Designs whose animals are measured on different
    occasions (a cohort killed at PND 22, another at PND 70; an animal tested a
    day late) give no gaps: no mate's sessions hold all of theirs. Gaps the
    exclusions file declares (a row for the subject with that timepoint, or
    with no timepoint; ``declared()`` gives them) are recorded with its reason, not
    warned about. A
    missing session's sub-timepoints (its bins, ``week4_bin01`` ...) are part
    of its record.
    """
    design = expected.set_index("subject")[["group", "sex", "cohort"]]
    rows = table[table["subject"].astype(str).isin(design.index)]
    rows = rows.assign(subject=rows["subject"].astype(str),
                       timepoint=rows["timepoint"].astype(str))
    lacking: dict[str, dict[str, set[str]]] = {}     # subject -> timepoint -> endpoints
    for endpoint, part in rows.groupby("endpoint"):
        sessions = part.groupby("subject")["timepoint"].agg(frozenset)
        for _, mates in design.loc[sessions.index].groupby(["group", "sex", "cohort"]):
            for subject in mates.index:
                own = sessions[subject]
                for tp in set().union(*(sessions[m] - own for m in mates.index
                                        if sessions[m] > own)):
                    lacking.setdefault(subject, {}).setdefault(tp, set()).add(endpoint)
    held = set(zip(rows["subject"], rows["timepoint"], strict=True))
    records, warned = [], []
    where = _file_names(files)
    for subject, missed in sorted(lacking.items()):
        gaps = _without_parts(set(missed))
        group, sex = design.loc[subject, "group"], design.loc[subject, "sex"]
        for tp in time_order(gaps):
            why = declared().get(tp, {}).get(subject) or declared().get("", {}).get(subject)
            what = (f"{len(missed[tp])} endpoint(s) without a value at {tp}"
                    if (subject, tp) in held else f"no data at {tp}")
            records.append({"subject": subject, "group": group, "sex": sex, "timepoint": tp,
                            "reason": f"{what} in {where}"
                            + (f"; manual exclusion: {why}" if why else "")})
            warned += [] if why else [f"{subject} at {tp}"]
    if not warned:
        return records, ""
    shown = listed(warned)
    return records, (f"warning: {len(warned)} session(s) of animals with data have no value "
                     f"where their group mates have one (no data in {where}): {shown}; "
                     "listed under exclusions")


def _without_parts(timepoints: set[str]) -> set[str]:
    """The timepoints without the sub-timepoints of another (``week4_bin01`` of ``week4``)."""
    return {t for t in timepoints if not any(t.startswith(f"{u}_") for u in timepoints)}


def _declared_whole(declared: dict[str, dict[str, str]], sessions: set[str]) -> dict[str, str]:
    """Subject → reason of the subjects declared whole.

    By a row without timepoint, or by rows for every one of the entry's
    ``sessions`` (their sub-timepoints, ``week4_bin01`` ..., go with them).
    """
    sessions = _without_parts(sessions)
    at_each = set.intersection(*(set(declared.get(t, {})) for t in sessions)) if sessions \
        else set()
    out = {subject: "; ".join(dict.fromkeys(declared[t][subject] for t in sorted(sessions)))
           for subject in at_each}
    return {**out, **declared.get("", {})}


def declared_exclusions(study: Study) -> dict[str, dict[str, str]]:
    """Timepoint → subject → reason of the exclusions file's rows for all endpoints.

    Timepoint ``""`` holds the rows that exclude a whole subject.
    """
    if not study.spec.exclusions:
        return {}
    from neurotox.study import read_exclusions

    table = read_exclusions(study.resolve(study.spec.exclusions, "exclusions"))
    rows = table[table["endpoint"] == ""]
    out: dict[str, dict[str, str]] = {}
    for r in rows.itertuples(index=False):
        out.setdefault(str(r.timepoint), {})[str(r.subject)] = str(r.reason)
    return out
