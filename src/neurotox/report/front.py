"""Title page, GLP compliance and QA statements, and the traceability block.

The title block comes from the study file (sponsor, test facility, study
director, test item and batch, vehicle, route, test system, dates). A GLP
study (``glp: true``) also gets a compliance statement for the study
director (with the exceptions to GLP and the archive location of the study
file's ``report`` keys) and a quality assurance statement with signature and
date lines; fields the study file leaves empty are printed as lines to
complete, never invented.
"""

from __future__ import annotations

from neurotox.guidelines import guideline_citation
from neurotox.report.labels import unit_symbol
from neurotox.report.model import FrontMatter, RunStamp
from neurotox.study import StudySpec, reports_inspected

BLANK = "________________________"

#: Compliance statement of a GLP study report (OECD Principles of GLP, ENV/MC/CHEM(98)17,
#: section II.9.2: the report includes the study director's statement of compliance).
COMPLIANCE = (
    "This study was conducted in compliance with the OECD Principles of Good Laboratory "
    "Practice (as revised in 1997, ENV/MC/CHEM(98)17) and the GLP regulations applicable at "
    "the test facility, with the exceptions listed below. This report is a true and complete "
    "account of the methods used and the results obtained.",
    "Exceptions (if none, state \"none\"): " + BLANK * 2,
)

#: ``glp_exceptions`` values that say there are none: the statement then reads "without exception".
NO_EXCEPTIONS = ("none", "no exceptions", "no exception", "nil", "n/a")

#: Where the study's records are kept (OECD GLP II.9.2, storage), before its value.
ARCHIVE = ("Archive (location of the study plan, samples of the test item, specimens, raw "
           "data and the final report): ")

#: The mark of an unsigned GLP report: on its title page (this text) and in the
#: header of every page ("DRAFT").
DRAFT_TEXT = ("DRAFT — not signed: not the final report. A GLP report is final only when "
              "written with a signing key (neurotox report --sign-key).")

#: The line a signatory signs and dates by hand, under each statement.
SIGN_LINE = "Signature: ________________________        Date: ______________"

QA_TEXT = (
    "The conduct of this study and this report were inspected by the Quality Assurance Unit "
    "of the test facility. The dates of inspection and of reporting the findings to the study "
    "director and test facility management are listed below. The report describes the "
    "methods and procedures used and reflects the raw data.")


#: The QA statement when the inspections listed include none of the report.
QA_TEXT_NO_REPORT = (
    "The conduct of this study was inspected by the Quality Assurance Unit of the test "
    "facility. The dates of inspection and of reporting the findings to the study director "
    "and test facility management are listed below. No inspection of this report is listed.")


def qa_statement(spec: StudySpec) -> str:
    """The QA statement's text.

    It says the report was inspected only when an inspection of it is listed
    (or none is listed yet: QA completes the rows).
    """
    listed = spec.report.qa_inspections
    return QA_TEXT if not listed or reports_inspected(spec) else QA_TEXT_NO_REPORT


def _date(value: object) -> str:
    return value.isoformat() if value is not None else ""  # type: ignore[attr-defined]


def amendment_text(spec: StudySpec, run_id: str = "") -> str:
    """"Amendment 1 to the report of run X: reason" ("" when the report amends none).

    ``run_id`` is the amended run's ID read from its folder
    (:func:`neurotox.pipeline.amended_run`); without it, ``report.amends.run`` as written.
    """
    amends = spec.report.amends
    if amends is None:
        return ""
    return (f"Amendment {amends.number} to the report of run {run_id or amends.run}: "
            f"{amends.reason}")


def title_block(spec: StudySpec, report_date: str = "",
                amendment: str = "") -> list[tuple[str, str]]:
    """Label → value rows of the title page.

    Empty optional fields are left out, except the people and dates a GLP report
    must name (shown as lines to complete). The report date is the study file's
    ``dates.report``, else ``report_date`` (the run's date), the one date every
    page footer prints too. An amendment (:func:`amendment_text`, else from the
    study file) is printed under the study title.
    """
    need = spec.glp
    item = spec.test_item + (f" (batch {spec.test_item_batch})" if spec.test_item_batch else "")
    system = " ".join(x for x in (spec.species, spec.strain) if x) or spec.cell_line or ""
    doses = ", ".join(f"{g.dose:g}" for g in spec.groups)
    rows = [("Study number", spec.study_id), ("Study title", spec.title),
            ("Amendment", amendment or amendment_text(spec)),
            ("Sponsor", spec.sponsor or (BLANK if need else "")),
            ("Test facility", spec.test_facility or (BLANK if need else "")),
            ("Study director", spec.study_director or (BLANK if need else "")),
            ("Test item", item), ("Vehicle", spec.vehicle or ""),
            ("Route of administration", spec.route or ""), ("Test system", system),
            ("Dose levels", f"{doses} {unit_symbol(spec.groups[0].dose_unit)}"),
            ("Guideline", guideline_text(spec.guideline)),
            ("GLP", "GLP study" if spec.glp else "Non-GLP study")]
    d = spec.dates
    for label, value in (("Study initiation", d.initiation),
                         ("Experimental start", d.experimental_start),
                         ("Experimental completion", d.experimental_end),
                         ("Report date", d.report)):
        shown = _date(value) or (report_date if label == "Report date" else "")
        rows.append((label, shown or (BLANK if need and label != "Report date" else "")))
    return [(k, v) for k, v in rows if v]


#: What the OECD statement says instead of "with the exceptions listed below" when
#: ``glp_exceptions`` is none: without deviations, and with the report's deviations.
WITHOUT_EXCEPTION = "without exception"
WITH_DEVIATIONS = "with the deviations listed under Guideline deviations"


def compliance_statement(spec: StudySpec, deviations: bool = False) -> list[str]:
    """Paragraphs of the statement of compliance, from the study file's ``report`` keys.

    The statement (``compliance_statement``, else the OECD text), the exceptions
    (``glp_exceptions``: one line, or one numbered line each) and the archive
    (``archive``); what the study file leaves out is a line to complete. With
    ``glp_exceptions: none`` the OECD statement reads "without exception", or,
    when the report lists ``deviations``, "with the deviations listed under
    Guideline deviations" (never "without exception" beside a deviation).
    """
    settings = spec.report
    items = settings.glp_exceptions
    if not settings.compliance_statement and no_exceptions(spec):
        # "with the exceptions listed below" over "Exceptions: none" reads as a contradiction
        instead = WITH_DEVIATIONS if deviations else WITHOUT_EXCEPTION
        return [COMPLIANCE[0].replace("with the exceptions listed below", instead),
                ARCHIVE + (settings.archive or BLANK * 2)]
    out = [settings.compliance_statement or COMPLIANCE[0]]
    if not items:
        out.append(COMPLIANCE[1])
    elif len(items) == 1:
        out.append(f"Exceptions: {items[0]}")
    else:
        out += ["Exceptions:", *(f"{i}. {text}" for i, text in enumerate(items, start=1))]
    out.append(ARCHIVE + (settings.archive or BLANK * 2))
    return out


def no_exceptions(spec: StudySpec) -> bool:
    """Whether ``report.glp_exceptions`` says there are none (``none``, ``n/a`` ...)."""
    items = spec.report.glp_exceptions
    return len(items) == 1 and items[0].strip().strip(".").lower() in NO_EXCEPTIONS


def front_matter(spec: StudySpec, paper: str | None = None, report_date: str = "",
                 amendment: str = "", deviations: bool = False) -> FrontMatter:
    """The front matter of a study's report.

    ``report_date`` and ``amendment``: see :func:`title_block`; ``deviations``
    (the report lists guideline deviations): see :func:`compliance_statement`.
    """
    qa = [(q.phase, _date(q.inspected), _date(q.reported)) for q in spec.report.qa_inspections]
    return FrontMatter(title_block=title_block(spec, report_date, amendment), glp=spec.glp,
                       study_director=spec.study_director or "",
                       qa_name=spec.report.qa_name or "",
                       qa_inspections=qa or [("", "", "")] * 4, qa_text=qa_statement(spec),
                       paper=paper or spec.report.paper,
                       compliance=compliance_statement(spec, deviations) if spec.glp else [])


def traceability(stamp: RunStamp | None) -> list[tuple[str, str]]:
    """Label → value rows identifying the run that produced the report."""
    if stamp is None:
        return []
    amends = [("Amendment", stamp.amendment)] if stamp.amendment else []
    return [("Run ID", stamp.run_id), *amends,
            ("Report generated", f"{stamp.date} {stamp.time}"),
            ("Software", stamp.software), ("Command", stamp.command),
            (f"{stamp.record} SHA-256", stamp.record_sha256 or "–"),
            ("Verification", f"manifest.json of the report folder lists {stamp.record} with "
             "this SHA-256 and every output file; check with: neurotox verify FOLDER"),
            (SEAL_LABEL, signature_text(stamp))]


#: Label of the traceability row saying whether the folder is sealed with a key.
SEAL_LABEL = "Integrity seal"


def signature_text(stamp: RunStamp) -> str:
    """Whether the run sealed its manifest with a key (``--sign-key``), and with which key ID.

    An HMAC of ``manifest.json`` is a keyed integrity seal of the output
    folder: it shows that the files are those the run wrote, sealed by a holder
    of the key; it names no person, meaning or time of approval, so it is worded
    as a seal, never as a signature (the study director's and QA's signatures
    are the signature lines of the statements, in ink or an e-signature).
    Sealing happens after the report is written, but the key is known when the
    run starts; a reader holding only the printed report can tell a folder
    whose seal was removed ("not signed" from ``neurotox verify``) from one
    that was never sealed.
    """
    if not stamp.key_id:
        return "not sealed: manifest.json carries no keyed seal"
    return (f"sealed: manifest.json, which lists every file of the report folder with its "
            f"SHA-256, carries an HMAC-SHA256 made with the key of key ID {stamp.key_id}. "
            "A keyed integrity seal of the folder, not a personal or electronic signature: "
            "approval is signed on the signature lines. Check with: neurotox verify FOLDER "
            "--key KEYFILE")


def guideline_text(guideline: str | None) -> str:
    """The guideline as the tables cite it, with the study file's protocol id when it differs.

    ``oecd-424-screen`` → ``OECD TG 424 (protocol oecd-424-screen)``: the table headers
    say "OECD TG 424", and the protocol id stays traceable to the study file.
    """
    if not guideline:
        return ""
    cited = guideline_citation(guideline)
    return cited if cited == guideline else f"{cited} (protocol {guideline})"
