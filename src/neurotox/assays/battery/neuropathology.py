"""Neuropathology: incidence and severity per tissue × lesion from a findings list.

Terms are checked against :mod:`neurotox.assays.battery.neuropath_terms`. For
every tissue × lesion found in at least one animal, each examined animal gets
an incidence row (1 present / 0 absent) and a severity row (grade 1-5, 0 when
absent). Examined animals are those listed in the findings file (animals without
findings appear with lesion ``NAD``) or, with ``examined: all``, every subject of
the entry's ``cohorts`` (of the study when it names none).
With ``examined: per_tissue`` each tissue has its own examined set: the animals
with a row naming that tissue (a finding, or ``NAD`` for that tissue) and those
with a tissue-less ``NAD`` row (every tissue examined, nothing found); an animal
examined for the sciatic nerve but not the cortex counts in the sciatic-nerve
denominators only.
A lesion recorded without a grade counts for incidence; its severity row is
excluded with that reason. ``np_any_finding`` (one row per examined animal)
carries the number of animals examined even when no lesion is found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox.assays.accounting import declared_exclusions, listed
from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.battery import neuropath_terms as terms
from neurotox.assays.battery.common import Recorder, one_input, subjects_of
from neurotox.assays.battery.conventions import neuropathology_conventions
from neurotox.errors import InputError, quoted
from neurotox.io import battery as io
from neurotox.study import AssaySpec, Study

ASSAY = "neuropathology"

#: Tissue entries of a ``NAD`` row meaning "every tissue examined, nothing found".
ALL_TISSUES = ("", "all", "all_tissues", "nad")
#: Grade cells a ``NAD`` row may carry (after :func:`neuropath_terms.term`): none.
NAD_GRADES = ("", "0", "na", "n_a", "none")


class NeuropathologyParameters(BaseModel):
    """Parameters of the neuropathology assay.

    Attributes
    ----------
    examined
        ``listed``: animals in the findings file were examined (for every tissue);
        ``all``: every subject; ``per_tissue``: per tissue, the animals with a row
        for it or a tissue-less ``NAD`` row.
    synonyms
        Extra term mappings (lab term → catalogue term) for tissues and lesions.
    sheet
        Worksheet of an xlsx file.
    slight
        Grade of the word ``slight``: ``minimal`` (1, the default) or ``mild`` (2, as
        on the Minimal / Slight / Moderate / Marked / Severe scale).

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    examined: Literal["listed", "all", "per_tissue"] = "listed"
    synonyms: dict[str, str] = Field(default_factory=dict)
    sheet: str | None = None
    slight: Literal["minimal", "mild"] = "minimal"


def _term(text: str, params: NeuropathologyParameters) -> str:
    t = terms.term(text)
    extra = {terms.term(k): v for k, v in params.synonyms.items()}
    return terms.term(extra.get(t, t))


def parse_grade(raw: str, path: str, where: str, *, slight: int = 1) -> float:
    """Grade 1-5 from a number or word; NaN for ``P``/empty (present, not graded).

    ``slight`` is the grade of the word "slight" (1 minimal or 2 mild).
    """
    text = terms.term(raw)
    if text in ("", "p", "present", "x"):
        return float("nan")
    if text == "slight":
        return float(slight)
    if text in terms.GRADES:
        return float(terms.GRADES[text])
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if np.isfinite(value) and value.is_integer() and 1 <= value <= 5:
        return value
    raise InputError(f"severity grade {raw!r} is not 1-5 or one of {quoted(terms.GRADES)}",
                     path=path, where=where)


def normalise(df: pd.DataFrame, params: NeuropathologyParameters) -> pd.DataFrame:
    """Check terms and grades; return subject, tissue, lesion, grade, finding, row."""
    path, rows = df.attrs["path"], []
    for i, r in enumerate(df.itertuples(index=False)):
        tissue, lesion = _term(r.tissue, params), _term(r.lesion, params)
        nad = lesion in terms.NO_FINDING
        blank_tissue = tissue in ALL_TISSUES
        if tissue not in terms.TISSUE_CLASS and not (nad and blank_tissue):
            raise InputError(f"unknown tissue {r.tissue!r}; expected one of "
                             f"{quoted(terms.TISSUE_CLASS)}", path=path,
                             where=io.where(df, i, "tissue"))
        allowed = terms.LESIONS[terms.TISSUE_CLASS[tissue]] if tissue in terms.TISSUE_CLASS else ()
        if not nad and lesion not in allowed:
            raise InputError(f"unknown lesion {r.lesion!r} for tissue {tissue!r}; expected "
                             f"one of {quoted(allowed)} or 'NAD'", path=path,
                             where=io.where(df, i, "lesion"))
        if nad and terms.term(r.grade) not in NAD_GRADES:
            raise InputError(f"{r.lesion!r} (no abnormality detected) with grade {r.grade!r}: "
                             "a row with no finding has no grade", path=path,
                             where=io.where(df, i, "grade"))
        grade = np.nan if nad else parse_grade(r.grade, path, io.where(df, i, "grade"),
                                               slight=terms.GRADES[params.slight])
        rows.append({"subject": r.subject, "tissue": tissue, "lesion": "" if nad else lesion,
                     "grade": grade, "finding": not nad, "row": int(df["row"].iloc[i])})
    out = pd.DataFrame(rows)
    out.attrs["path"] = path
    found = out[out["finding"]].reset_index(drop=True)
    found.attrs["path"] = path
    io.check_unique(found, ["subject", "tissue", "lesion"], what="finding")
    refuse_nad_with_finding(out)
    return out


def refuse_nad_with_finding(findings: pd.DataFrame) -> None:
    """InputError when an animal is recorded both NAD and with a finding in one tissue.

    A tissue-less ``NAD`` row says every tissue was examined without findings, so
    any finding of the animal contradicts it; a ``NAD`` row naming a tissue
    contradicts findings in that tissue only.
    """
    nad = findings[~findings["finding"]]
    found = findings[findings["finding"]]
    for r in nad.itertuples(index=False):
        clash = found[(found["subject"] == r.subject)
                      & ((found["tissue"] == r.tissue) | (r.tissue in ALL_TISSUES))]
        if len(clash):
            c = clash.iloc[0]
            what = "every tissue" if r.tissue in ALL_TISSUES else f"tissue {r.tissue!r}"
            raise InputError(f"animal {r.subject!r} is recorded with no abnormality (NAD) in "
                             f"{what} and with the finding {c['lesion']!r} in "
                             f"{c['tissue']!r} (row {int(c['row'])}); keep one",
                             path=findings.attrs.get("path"), where=f"row {r.row}")


def examined_sets(findings: pd.DataFrame, subjects: pd.Index,
                  mode: str) -> tuple[list[str], dict[str, list[str]]]:
    """Animals examined at all and, per tissue with a finding, those examined for it.

    Parameters
    ----------
    findings
        Output of :func:`normalise`.
    subjects
        Every subject the entry measures (of its ``cohorts``).
    mode
        ``listed``, ``all`` or ``per_tissue`` (see :class:`NeuropathologyParameters`).

    """
    animals = sorted(subjects) if mode == "all" else sorted(findings["subject"].unique())
    tissues = sorted(set(findings.loc[findings["finding"], "tissue"]))
    if mode != "per_tissue":
        return animals, dict.fromkeys(tissues, animals)
    whole = set(findings.loc[findings["tissue"].isin(ALL_TISSUES), "subject"])
    return animals, {t: sorted(whole | set(findings.loc[findings["tissue"] == t, "subject"]))
                     for t in tissues}


def emit(rec: Recorder, findings: pd.DataFrame, examined: list[str],
         by_tissue: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Add incidence and severity rows; return the incidence summary per finding.

    ``by_tissue`` gives the animals examined per tissue (default: ``examined``
    for every tissue).
    """
    found = findings[findings["finding"]]
    with_finding = set(found["subject"])
    for subject in examined:
        rec.add(subject, "np_any_finding", float(subject in with_finding),
                where="examined animal, any finding listed" if subject in with_finding
                else "examined animal, no finding listed")
    summary = []
    for (tissue, lesion), f in found.groupby(["tissue", "lesion"], sort=True):
        by_subject = f.set_index("subject")
        inc, sev = terms.endpoint_name(tissue, lesion), terms.severity_name(tissue, lesion)
        denominator = examined if by_tissue is None else by_tissue[tissue]
        for subject in denominator:
            if subject in by_subject.index:
                hit = by_subject.loc[subject]
                where = f"row {int(hit['row'])}"
                grade = float(hit["grade"])
                rec.add(subject, inc, 1.0, where=where)
                rec.add(subject, sev, grade, where=f"{where}, column 'grade'",
                        reason="" if np.isfinite(grade) else "lesion recorded without a grade")
            else:
                rec.add(subject, inc, 0.0, where="examined, not listed with this finding")
                rec.add(subject, sev, 0.0, where="examined, not listed with this finding")
        summary.append({"tissue": tissue, "lesion": lesion, "animals_affected": len(f),
                        "examined": len(denominator)})
    return pd.DataFrame(summary)


def slight_notes(df: pd.DataFrame, params: NeuropathologyParameters) -> list[str]:
    """The grade the word "slight" was read as; a warning when the sheet's scale says otherwise.

    A sheet grading both "minimal" and "slight" uses the Minimal / Slight / Moderate /
    Marked / Severe scale, where slight is grade 2; with "slight" and "mild" both, slight
    is not grade 2.
    """
    words = df["grade"].map(terms.term)
    n = int((words == "slight").sum())
    if not n:
        return []
    grade = terms.GRADES[params.slight]
    note = (f"neuropathology {Path(df.attrs['path']).name}: severity word 'slight' ({n} "
            f"finding(s)) read as grade {grade} ({params.slight}; parameter slight)")
    clash = "minimal" if params.slight == "minimal" else "mild"
    if (words == clash).any():
        other = "mild" if params.slight == "minimal" else "minimal"
        return [f"warning: {note}, but the sheet also grades {clash!r}: if its scale is "
                f"{'Minimal / Slight' if clash == 'minimal' else 'Slight / Mild'} / Moderate "
                f"/ Marked / Severe, set slight: {other}"]
    return [note]


def unlisted_decedents(study: Study, spec: AssaySpec, findings: pd.DataFrame,
                       examined: list[str]) -> list[str]:
    """A warning naming the animals ``examined: all`` counts that the exclusions file names.

    With ``examined: all`` an animal of the entry's cohorts without a row in the
    findings file counts as examined without findings. One the study's exclusions
    file names for all endpoints at a timepoint (found dead in week 4, killed
    early) may never have been examined: such animals are named, never counted in
    silence. One it excludes whole, or at timepoint ``NA``, has its neuropathology
    values excluded by that row and is not named.
    """
    unlisted = set(examined) - set(findings["subject"])
    rows = declared_exclusions(study)
    excluded = set(rows.get("", {})) | set(rows.get("NA", {}))   # their values are excluded
    declared: dict[str, str] = {}
    for timepoint in sorted(set(rows) - {"", "NA"}):
        declared |= {s: r for s, r in rows[timepoint].items()
                     if s in unlisted - excluded and s not in declared}
    if not declared:
        return []
    ids = sorted(declared)
    shown = listed([f"{s} ({declared[s]})" for s in ids])
    whom = f"cohort(s) {', '.join(spec.cohorts)}" if spec.cohorts else "the study"
    return [f"warning: neuropathology {Path(findings.attrs['path']).name}: {len(ids)} "
            f"animal(s) of {whom} that the exclusions file names have no row in the findings "
            f"file and are counted examined, without findings (examined: all): {shown}; give "
            "an animal that was examined a row (NAD), or use examined: listed"]


def run(study: Study, spec: AssaySpec, params: NeuropathologyParameters) -> AssayResult:
    """Read a findings list and emit incidence and severity per tissue × lesion."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    df = io.read_findings(path, sheet=params.sheet)
    io.check_subjects(df, subjects.index)
    findings = normalise(df, params)
    measured = study.expected_subjects(spec.cohorts)["subject"] if spec.cohorts else \
        subjects.index
    examined, by_tissue = examined_sets(findings, pd.Index(measured), params.examined)
    rec = Recorder(study, subjects, ASSAY, path.name)
    summary = emit(rec, findings, examined, by_tissue)
    notes = [f"neuropathology {path.name}: {len(examined)} animals examined, "
             f"{int(findings['finding'].sum())} findings in {len(summary)} tissue x lesion "
             "combinations"]
    notes += slight_notes(df, params)
    if params.examined == "all":
        notes += unlisted_decedents(study, spec, findings, examined)
    if params.examined == "per_tissue":
        notes.append(f"neuropathology {path.name}: examined per tissue: " + ", ".join(
            f"{t} {len(a)}" for t, a in by_tissue.items()))
    return said(AssayResult(endpoints=rec.table(),
                            details={"neuropathology_findings": findings,
                                     "neuropathology_summary": summary},
                            notes=notes, inputs=[path]),
                neuropathology_conventions(params, tuple(spec.cohorts or ())))


register(AssayPlugin(ASSAY, NeuropathologyParameters, run,
                     "Neuropathology findings list (animal x tissue x lesion x grade): "
                     "incidence and severity."))
