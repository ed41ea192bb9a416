"""Every subject of the study accounted for: the animals an assay's inputs hold nothing for."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from neurotox.study import Study

#: Subject IDs a "no data" warning names before "and N more" (the report lists them all).
SHOWN_IDS = 5


def _file_names(files: list[Path], limit: int = 3) -> str:
    names = sorted({p.name for p in files})
    more = f" and {len(names) - limit} more file(s)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


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
    missing = expected[~expected["subject"].isin(set(table["subject"].astype(str)))]
    if missing.empty:
        return [], ""
    reason = f"no data in {_file_names(files)}"
    declared = _whole_subject_exclusions(study)
    records = [{"subject": r.subject, "group": r.group, "sex": r.sex,
                "reason": reason + (f"; manual exclusion: {declared[r.subject]}"
                                    if r.subject in declared else "")}
               for r in missing.itertuples(index=False)]
    missing = missing[~missing["subject"].isin(set(declared))]
    if missing.empty:       # each one accounted for by the exclusions file
        return records, ""
    ids = list(missing["subject"])
    shown = ", ".join(ids[:SHOWN_IDS]) + (f" and {len(ids) - SHOWN_IDS} more"
                                          if len(ids) > SHOWN_IDS else "")
    of = f"{len(expected)} subject(s)" + (f" of cohort(s) {', '.join(cohorts)}" if cohorts
                                          else " of the study")
    note = (f"warning: {len(ids)} of {of} have no value ({reason}): {shown}; not analysed, "
            "listed under exclusions")
    return records, note


def _whole_subject_exclusions(study: Study) -> dict[str, str]:
    """Subject → reason of the exclusions file's rows that exclude a whole subject."""
    if not study.spec.exclusions:
        return {}
    from neurotox.study import read_exclusions

    table = read_exclusions(study.resolve(study.spec.exclusions, "exclusions"))
    whole = table[(table["endpoint"] == "") & (table["timepoint"] == "")]
    return dict(zip(whole["subject"], whole["reason"], strict=True))
