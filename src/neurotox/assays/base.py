"""The assay plug-in interface and registry."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from neurotox.assays.accounting import outside_cohorts, unaccounted_subjects
from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.protocols import (
    Protocol,
    available,
    effective_parameters,
    load_protocol,
    protocol_dir,
    protocol_record,
    unknown_protocol,
)
from neurotox.study import AssaySpec, Study, resolve_inside

#: Largest fraction of an animal's samples (frames, bins) the tracker may have lost before the
#: animal is excluded as a tracking error (``max_missing_fraction`` of the zebrafish and NOR
#: assays): one rule for every tracker.
MAX_MISSING_FRACTION = 0.2


def tracking_error(fraction: float) -> str:
    """The exclusion reason of an animal whose track lost ``fraction`` of its samples."""
    return f"tracking error ({fraction:.0%} of samples missing)"


def said(result: AssayResult, conventions: list[str]) -> AssayResult:
    """``result`` with its conventions recorded and logged as ``convention:`` notes."""
    result.conventions = conventions
    result.notes += [f"convention: {c}" for c in conventions]
    return result


@dataclass
class AssayResult:
    """What an assay run returns.

    Attributes
    ----------
    endpoints
        Validated EndpointTable (excluded values included, with reasons).
    details
        Assay-specific detail tables by name (per cell, per field, per bin ...),
        written as csv + parquet next to the endpoints.
    notes
        Things the run decided on its own (a guessed delimiter, a default used,
        a guideline deviation): logged and written to the manifest.
    inputs
        Files read, for the manifest.
    parameters
        Effective parameters used.
    conventions
        Rules that change results beyond rounding (a re-entry rule, an exclusion
        default, a response threshold), one sentence each naming its parameter:
        written to the run notes, the manifest and the report's methods.
    missing
        Subjects of the study (of the entry's cohorts) with no value at all:
        ``subject``, ``group``, ``sex``, ``reason`` ("no data in <files>"), set by
        :func:`account_for_subjects`; listed under the exclusions of the manifest
        and the report.
    protocol
        The protocol used: name, file and SHA-256, and the parameters that differ
        from its template (:func:`neurotox.protocols.protocol_record`), for the
        manifest and the report's methods.

    """

    endpoints: pd.DataFrame
    details: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    conventions: list[str] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    protocol: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssayPlugin:
    """An assay: its name, closed parameter model and study runner.

    ``run(study, spec, params)`` reads the entry's inputs and returns an
    :class:`AssayResult`. ``derived(params)``, when given, returns values that
    follow from the parameters alone (``references``: the null value of each
    one-sample endpoint, e.g. a maze's chance level), recorded with the
    effective parameters even when the report reads an EndpointTable instead of
    running the assay.
    """

    name: str
    parameters: type[BaseModel]
    run: Callable[[Study, AssaySpec, BaseModel], AssayResult]
    description: str = ""
    derived: Callable[[BaseModel], dict[str, Any]] | None = None


_REGISTRY: dict[str, AssayPlugin] = {}

#: The module that registers each assay, imported the first time the assay is asked
#: for: a run loads only the families it uses (a neurite plate does not import the
#: statistics of the rodent battery). A test checks this table against the registry.
PROVIDERS: dict[str, str] = {
    "brain_weight": "neurotox.assays.battery.brain_weight",
    "cholinesterase": "neurotox.assays.neurochem.cholinesterase",
    "cipn": "neurotox.assays.cipn.assay",
    "developmental": "neurotox.assays.battery.developmental",
    "fob": "neurotox.assays.battery.fob",
    "guideline": "neurotox.assays.battery.guideline",
    "motor_activity": "neurotox.assays.battery.motor_activity",
    "neurite_outgrowth": "neurotox.assays.neurite.plugin",
    "neurochem": "neurotox.assays.neurochem.immunoassay",
    "neuropathology": "neurotox.assays.battery.neuropathology",
    "nor": "neurotox.assays.rodent.nor",
    "startle": "neurotox.assays.battery.startle",
    "tmaze": "neurotox.assays.rodent.tmaze",
    "zebrafish_lpr": "neurotox.assays.zebrafish.plugin",
    "zebrafish_screen": "neurotox.assays.zebrafish.screen",
}


def register(plugin: AssayPlugin) -> AssayPlugin:
    """Add an assay to the registry (called at import of its module)."""
    _REGISTRY[plugin.name] = plugin
    return plugin


def get_assay(name: str) -> AssayPlugin:
    """The assay ``name`` (its module imported if needed); InputError naming the known ones."""
    if name not in _REGISTRY and name in PROVIDERS:
        importlib.import_module(PROVIDERS[name])
    if name not in _REGISTRY:
        known = list_assays()
        raise InputError(f"unknown assay {name!r}{did_you_mean(name, known)}; known: "
                         f"{quoted(known)}")
    return _REGISTRY[name]


def load_all() -> None:
    """Import every assay module of :data:`PROVIDERS` (registering every assay)."""
    for module in sorted(set(PROVIDERS.values())):
        importlib.import_module(module)


def list_assays() -> list[str]:
    """Names of all assays (every provider imported), sorted."""
    load_all()
    return sorted(_REGISTRY)


def resolve_parameters(protocol_name: str | Path, overrides: dict[str, Any] | None = None, *,
                       source: str | Path | None = None,
                       command_line: dict[str, Any] | None = None,
                       command_line_source: str = "--param",
                       overrides_key: str = "parameters.") -> tuple[Protocol, BaseModel]:
    """Load a protocol and validate its parameters (plus overrides) for its assay.

    ``overrides`` come from ``source`` (the study file, at ``overrides_key``),
    ``command_line`` from ``command_line_source``; an error names the one that
    gave the bad key.
    """
    proto = load_protocol(protocol_name)
    plugin = get_assay(proto.assay)
    return proto, effective_parameters(proto, plugin.parameters, overrides, source=source,
                                       command_line=command_line,
                                       command_line_source=command_line_source,
                                       overrides_key=overrides_key)


def study_protocol(study: Study, spec: AssaySpec) -> str | Path:
    """The protocol of an assay entry: a shipped template name, or a file of the study.

    A value ending in ``.yaml``/``.yml`` or containing a path separator is a file,
    resolved against the study file's folder like every other path of the study
    (absolute paths and escapes are errors).
    """
    value = spec.protocol
    if not (value.endswith((".yaml", ".yml")) or "/" in value or "\\" in value):
        if value not in available():
            raise InputError(unknown_protocol(value), path=study.path,
                             where=f"key 'assays.{spec.key}.protocol'")
        return value
    path = resolve_inside(study.folder, value, what=f"assays.{spec.key}.protocol",
                          study_file=study.path)
    if not path.exists():
        raise InputError(f"protocol file {value!r} not found", path=study.path,
                         where=f"key 'assays.{spec.key}.protocol'")
    return path


def study_assay_parameters(study: Study, spec: AssaySpec) -> tuple[Protocol, BaseModel]:
    """Protocol and effective parameters of an assay entry, checked against its assay."""
    try:
        get_assay(spec.assay)
    except InputError as exc:   # name the study file and the entry's key
        raise InputError(exc.detail, path=study.path,
                         where=f"key 'assays.{spec.key}.assay'") from None
    proto, params = resolve_parameters(study_protocol(study, spec), spec.parameters,
                                       source=study.path,
                                       overrides_key=f"assays.{spec.key}.parameters.")
    if proto.assay != spec.assay:
        raise InputError(f"protocol {proto.name!r} is for assay {proto.assay!r}, not "
                         f"{spec.assay!r}", path=study.path, where=f"key 'assays.{spec.key}'")
    return proto, params


def recorded_parameters(proto: Protocol, params: BaseModel, assay: str,
                        found: dict[str, Any] | None = None) -> dict[str, Any]:
    """Protocol name, effective parameters, derived values and what the run ``found``.

    ``found`` (the run's own :attr:`AssayResult.parameters`, e.g. the chance level of
    the arms seen in the data) overrides the values derived from the parameters.
    """
    plugin = get_assay(assay)
    derived = plugin.derived(params) if plugin.derived is not None else {}
    return {"protocol": proto.name, **params.model_dump(mode="json"), **derived,
            **(found or {})}


def entry_parameters(study: Study, spec: AssaySpec) -> dict[str, Any]:
    """What :func:`run_study_assay` records as parameters, without reading the inputs."""
    proto, params = study_assay_parameters(study, spec)
    return recorded_parameters(proto, params, spec.assay)


def account_for_subjects(study: Study, result: AssayResult, files: list[Path], *,
                         cohorts: tuple[str, ...] = ()) -> AssayResult:
    """Record in ``result`` the study's subjects its table holds nothing for.

    Sets :attr:`AssayResult.missing` and adds the warning note
    (:func:`unaccounted_subjects`); values of animals of other cohorts than the
    entry's are excluded with a warning (:func:`outside_cohorts`). The one place
    both ``neurotox report`` and the assay commands (``neurotox nor --study`` ...)
    account for every subject.
    """
    result.endpoints, outside = outside_cohorts(study, result.endpoints, cohorts)
    if outside:
        result.notes.append(outside)
    missing, note = unaccounted_subjects(study, result.endpoints, files, cohorts=cohorts)
    result.missing = [*result.missing, *missing]   # an assay's own (pups left out)
    if note:
        result.notes.append(note)
    return result


def analyse_files(study: Study, assay: str, files: list[Path], params: BaseModel,
                  spec: AssaySpec | None = None) -> AssayResult:
    """Run an assay's ``analyse(study, files, params)`` and account for every subject.

    For the assay commands, whose files come from the command line or the
    study's entry ``spec`` (whose ``cohorts`` say which subjects are expected).
    """
    module = importlib.import_module(PROVIDERS[assay])
    result = module.analyse(study, files, params)
    return account_for_subjects(study, result, files,
                                cohorts=spec.cohorts if spec is not None else ())


def run_study_assay(study: Study, spec: AssaySpec) -> AssayResult:
    """Run one assay entry of a study with its protocol and overrides.

    Subjects of the study (of the entry's ``cohorts``) with no value are
    recorded (:func:`account_for_subjects`).
    """
    proto, params = study_assay_parameters(study, spec)
    result = get_assay(spec.assay).run(study, spec, params)
    account_for_subjects(study, result, study.assay_inputs(spec), cohorts=spec.cohorts)
    result.parameters = recorded_parameters(proto, params, spec.assay, result.parameters)
    result.protocol = protocol_record(proto, params, spec.parameters)
    if proto.path is not None and proto.path.parent != protocol_dir() \
            and proto.path not in result.inputs:
        result.inputs.append(proto.path)  # the study's own protocol file, hashed with the data
    return result


def _same_protocol(a: Protocol, b: Protocol) -> bool:
    return a.path is not None and b.path is not None and a.path.resolve() == b.path.resolve()


def command_entry(study: Study, assays: tuple[str, ...], protocol: str | Path | None,
                  default: str) -> tuple[Protocol, AssaySpec | None]:
    """Protocol and study entry of an assay command (``nor``, ``tmaze``, ``cipn`` ...).

    The study's entry of one of ``assays`` decides the protocol, as it does for
    ``neurotox report``; a ``protocol`` given on the command line must be the
    entry's (the same template or file) or pick one of several entries. Without
    an entry, ``protocol`` or else ``default`` is used.

    Raises
    ------
    InputError
        ``protocol`` contradicts the study's entry, or several entries qualify
        and ``protocol`` does not tell them apart.

    """
    given = None if protocol is None else load_protocol(protocol)
    if given is not None and given.assay not in assays:
        raise InputError(f"protocol {given.name!r} is for assay {given.assay!r}, not "
                         f"{' or '.join(repr(a) for a in assays)}", path=given.path,
                         where="key 'assay'")
    wanted = assays if given is None else (given.assay,)
    entries = [s for s in study.spec.assays if s.assay in wanted]
    if not entries:
        return given or load_protocol(default), None
    protos = [load_protocol(study_protocol(study, s)) for s in entries]
    if given is not None:
        matching = [i for i, p in enumerate(protos) if _same_protocol(p, given)]
        if len(entries) == 1 and not matching:
            raise InputError(
                f"--protocol {given.name!r} contradicts the study's {entries[0].key!r} entry, "
                f"which names protocol {entries[0].protocol!r}; drop --protocol or change the "
                "study's entry", path=study.path, where=f"key 'assays.{entries[0].key}.protocol'")
        if len(matching) == 1:
            return protos[matching[0]], entries[matching[0]]
    if len(entries) == 1:
        return protos[0], entries[0]
    listed = ", ".join(f"{s.key!r} ({s.protocol})" for s in entries)
    pick = ("" if given is None else
            f"; --protocol {given.name!r} is not the protocol of exactly one of them")
    raise InputError(f"the study has {len(entries)} entries for this command: {listed}{pick}; "
                     "give --protocol naming one entry's protocol, or run 'neurotox report'",
                     path=study.path, where="key 'assays'")


def check_entry_protocol(study: Study, assay: str, proto: Protocol, *, given: bool) -> None:
    """Refuse a protocol that is none of the study's ``assay`` entries' protocols.

    For ``neurotox neurite``, which reads the entry of its plate folder (its
    protocol and parameters) but takes ``--protocol``: it must not run another
    protocol than the study names without saying so.
    """
    entries = [s for s in study.spec.assays if s.assay == assay]
    protos = [load_protocol(study_protocol(study, s)) for s in entries]
    if not entries or any(_same_protocol(p, proto) for p in protos):
        return
    what = "--protocol" if given else "the default protocol"
    listed = ", ".join(f"{s.key!r} ({s.protocol})" for s in entries)
    raise InputError(f"{what} {proto.name!r} is not the protocol of the study's {assay} "
                     f"entry {listed}; give --protocol {entries[0].protocol} or leave it out "
                     "(the entry's protocol and parameters are used)", path=study.path,
                     where=f"key 'assays.{entries[0].key}.protocol'")


def refuse_repeats(parts: list[tuple[Path, pd.DataFrame]], keys: list[str], what: str) -> None:
    """Raise InputError when one subject's ``what`` comes from two input files.

    ``parts`` pairs each input file with the table read from it (in the order
    given); ``keys`` starts with ``subject`` and adds what may legitimately
    differ between files (session, phase, condition). Merging two files that
    hold the same animal's session (a re-export, a copy, one file given twice)
    would interleave or double its data, so it is refused, naming both files.
    """
    seen: dict[tuple, int] = {}
    for n, (path, table) in enumerate(parts):
        if not len(table):
            continue
        for key in sorted(set(table[keys].astype(str).itertuples(index=False, name=None))):
            first = seen.setdefault(key, n)
            if first != n:
                extra = ", ".join(f"{k} {v!r}" for k, v in zip(keys[1:], key[1:], strict=True)
                                  if v not in ("", "nan", "NA"))
                raise InputError(
                    f"subject {key[0]!r}{f' ({extra})' if extra else ''}: {what} found in two "
                    f"input files, {parts[first][0]} and {path}; give each animal's {what} in "
                    f"one file, or tell its sessions apart by {' / '.join(keys[1:])} (a copy or "
                    "re-export given as well?)", path=path)
