"""Materials and methods of the analysis: how the run made the values, from which files.

Written only from what the run recorded, never typed by hand: the protocol of
each assay entry (name, title, file and SHA-256, the guidelines it names, the
parameters whose effective value differs from its template and where they were
set), the conventions the assay stated, the notes it logged, and the files it
read with the SHA-256 that ``run.json`` lists for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neurotox.report.model import MethodsBlock

#: Heading of the section in every format.
TITLE = "Materials and methods of the analysis"

#: Prefix of the notes an assay logs for a convention (said once, as a convention).
CONVENTION_NOTE = "convention: "


@dataclass(frozen=True)
class EntryRecord:
    """What the run recorded of one assay entry of the study.

    Attributes
    ----------
    key, assay
        The entry's key (its ``id`` or assay name) and its assay.
    protocol
        :func:`neurotox.protocols.protocol_record` of the protocol used.
    files
        Names of the files the entry read, as ``run.json`` names them.
    conventions
        The assay's result-changing rules, one sentence each.
    notes
        The notes the assay logged.

    """

    key: str
    assay: str
    protocol: Mapping[str, Any] = field(default_factory=dict)
    files: Sequence[str] = ()
    conventions: Sequence[str] = ()
    notes: Sequence[str] = ()


def value_text(value: Any) -> str:
    """A parameter value as YAML flow text (``true``, ``null``, ``""``, ``[0.4, 1]``, ``{a: 1}``).

    Floats keep every digit (``0.441428571``); a whole float loses its ``.0``.
    """
    if isinstance(value, bool) or value is None or value == "":
        return json.dumps(value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


def protocol_paragraph(protocol: Mapping[str, Any], software: str = "") -> str:
    """Which protocol the entry used: name, title, file, SHA-256, guidelines."""
    name, title = protocol["name"], protocol.get("title", "")
    head = f"Protocol {name}" + (f" ({title})" if title else "")
    if protocol.get("shipped"):
        where = (f"the template shipped with {software}" if software else
                 "a shipped template") + f", file {protocol['file']}"
    else:
        where = f"the study's protocol file {protocol['file']}"
    text = f"{head}: {where}, SHA-256 {protocol.get('sha256') or '–'}"
    template = protocol.get("template")
    if template and not protocol.get("shipped"):
        text += (f"; based on the shipped template {template}, SHA-256 "
                 f"{protocol.get('template_sha256') or '–'}")
    guidelines = protocol.get("guidelines") or []
    if guidelines:
        text += f". Guidelines named by the protocol: {'; '.join(guidelines)}"
    return text + "."


def parameters_paragraph(protocol: Mapping[str, Any]) -> str:
    """The parameters whose effective value differs from the template, and where set."""
    template = protocol.get("template")
    ref, word = ((f"the template {template}", "template") if template
                 else ("the assay's defaults", "default"))
    changed = protocol.get("changed") or {}
    if not changed:
        text = f"Every parameter as in {ref}."
    else:
        items = [f"{key} = {value_text(c['used'])} ({word}: {value_text(c['template'])}; set "
                 f"in the {c['set_in']})" for key, c in sorted(changed.items())]
        text = f"Parameters that differ from {ref}: {'; '.join(items)}."
    return text + " run.json records the effective value of every parameter."


def _files(names: Sequence[str], hashes: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(n, hashes.get(n, "–")) for n in dict.fromkeys(names)]


def entry_block(entry: EntryRecord, hashes: Mapping[str, str],
                software: str = "") -> MethodsBlock:
    """The methods of one assay entry: protocol, parameters, conventions, notes, files."""
    heading = f"Assay {entry.assay}" + (f", entry {entry.key}" if entry.key != entry.assay
                                        else "")
    paras = []
    if entry.protocol:
        paras += [protocol_paragraph(entry.protocol, software),
                  parameters_paragraph(entry.protocol)]
    if entry.conventions:
        paras.append(f"Conventions of assay {entry.key}: {' '.join(entry.conventions)}")
    notes = [n for n in entry.notes if not n.startswith(CONVENTION_NOTE)]
    if notes:
        paras += ["Notes of the run on this assay:", *(f"– {n}" for n in notes)]
    files = _files(entry.files, hashes)
    if files:
        paras.append("Files read (SHA-256 as listed in run.json):")
    return MethodsBlock(heading, paras, files)


def materials_section(entries: Sequence[EntryRecord], *, inputs: Sequence[tuple[str, str]],
                      study_files: Sequence[str] = (), endpoints_file: str | None = None,
                      software: str = "") -> list[MethodsBlock]:
    """The materials and methods of the analysis, one block per assay entry, then the study files.

    Parameters
    ----------
    entries
        What the run recorded of each assay entry (none when the values were read
        from an EndpointTable).
    inputs
        (file, SHA-256) of the inputs, the hashes as ``run.json`` lists them
        (:attr:`neurotox.report.model.RunStamp.inputs`), the files named as in
        ``entries`` and ``study_files``.
    study_files
        Names of the study file and the files it names (subjects, layouts, exclusions).
    endpoints_file
        Name of the EndpointTable the values were read from (``--endpoints``).
    software
        ``neurotox <version>``, which shipped the protocol templates.

    Returns
    -------
    list of MethodsBlock
        In reading order.

    """
    hashes = dict(inputs)
    blocks = [entry_block(e, hashes, software) for e in entries]
    if endpoints_file is not None:
        blocks.append(MethodsBlock(
            "Endpoint values",
            ["The endpoint values were read from an EndpointTable made elsewhere; no assay "
             "was run by this analysis (the protocols of the study's assay entries gave "
             "only timepoint labels and reference values). File read (SHA-256 as listed "
             "in run.json):"], _files([endpoints_file], hashes)))
    if study_files:
        blocks.append(MethodsBlock(
            "Study files",
            ["The study file and the files it names (subjects, plate layouts, exclusions), "
             "as read by this run (SHA-256 as listed in run.json). Files are named relative "
             "to the folder of the study file; run.json gives their full paths."],
            _files(study_files, hashes)))
    return blocks
