"""Protocol templates: assay parameters with their defaults and the guideline they follow.

Templates live in ``protocols/*.yaml`` at the repository root and are shipped
inside the wheel as ``neurotox/protocols``. A template names its assay; the
assay's own closed parameter model (registered in :mod:`neurotox.assays`)
validates the parameters, so a misspelt parameter is an error.
"""

from __future__ import annotations

import hashlib
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from pydantic import ValidationError as PydanticError

from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.vocab import Category
from neurotox.yamlio import load_yaml, pydantic_message, quoted_scalar


class Protocol(BaseModel):
    """A protocol template (one YAML file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    assay: str
    title: str
    description: str = ""
    category: Category | None = None
    guidelines: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    parameters: dict[str, Any] = Field(default_factory=dict)
    #: A shipped template whose parameters this protocol starts from; its own
    #: parameters replace them key by key.
    based_on: str | None = None
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("based_on")
    @classmethod
    def _template_name(cls, v: str | None) -> str | None:
        if v is not None and ("/" in v or "\\" in v or v.lower().endswith((".yaml", ".yml"))):
            raise ValueError("based_on names a shipped template ('neurotox protocols list'), "
                             "not a file")
        return v

    @property
    def path(self) -> Path | None:
        """The YAML file the protocol was loaded from."""
        return self._path


def protocol_dir() -> Path:
    """Folder holding the protocol templates (installed package or source tree)."""
    packaged = resources.files("neurotox") / "protocols"
    if packaged.is_dir():
        return Path(str(packaged))
    source_tree = Path(__file__).resolve().parents[2] / "protocols"
    if source_tree.is_dir():
        return source_tree
    raise RuntimeError("protocol templates not found: neurotox is not installed correctly")


def available() -> list[str]:
    """Names of the shipped protocol templates, sorted."""
    return sorted(p.stem for p in protocol_dir().glob("*.yaml"))


def unknown_protocol(name: str) -> str:
    """What to say of a protocol name that is not shipped: the close name, or the list."""
    hint = did_you_mean(name, available())
    more = (f"{hint}; 'neurotox protocols list' shows all" if hint
            else f"; available: {quoted(available())}")
    return f"unknown protocol {name!r}{more}"


def load_protocol(name_or_path: str | Path) -> Protocol:
    """Load a shipped template by name, or a protocol YAML file by path.

    A protocol with ``based_on`` starts from that shipped template's
    parameters (and its category, guidelines and references where it gives
    none); it must be of the same assay.
    """
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        path = candidate
    else:
        path = protocol_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise InputError(unknown_protocol(str(name_or_path)))
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError("expected a mapping of protocol keys", path=path)
    quoted_scalar(data, Protocol, path)
    try:
        proto = Protocol.model_validate(data)
    except PydanticError as exc:
        raise pydantic_message(exc, path, model=Protocol) from None
    if path.parent == protocol_dir() and proto.name != path.stem:
        raise InputError(f"protocol name {proto.name!r} differs from file name", path=path,
                         where="key 'name'")
    if proto.based_on is not None:
        proto = _based(proto, path)
    proto._path = path
    return proto


def _based(proto: Protocol, path: Path) -> Protocol:
    """``proto`` with the parameters of the shipped template it is based on filled in."""
    ref = proto.based_on
    base_path = protocol_dir() / f"{ref}.yaml"
    if ref not in available():
        raise InputError(unknown_protocol(ref), path=path, where="key 'based_on'")
    base = load_protocol(base_path)
    if base.assay != proto.assay:
        raise InputError(f"based on protocol {ref!r} of assay {base.assay!r}, not "
                         f"{proto.assay!r}", path=path, where="key 'based_on'")
    return proto.model_copy(update={
        "parameters": {**base.parameters, **proto.parameters},
        "category": proto.category or base.category,
        "guidelines": proto.guidelines or base.guidelines,
        "references": proto.references or base.references})


def _numeric_field(model: type[BaseModel], key: str) -> bool:
    """True when parameter ``key`` holds a number and cannot hold true/false."""
    field = model.model_fields.get(key)
    if field is None:
        return False
    kinds = set(typing.get_args(field.annotation)) or {field.annotation}
    return bool(kinds & {int, float}) and bool not in kinds


def effective_parameters(protocol: Protocol, model: type[BaseModel],
                         overrides: dict[str, Any] | None = None, *,
                         source: str | Path | None = None,
                         command_line: dict[str, Any] | None = None,
                         command_line_source: str = "--param",
                         overrides_key: str = "parameters.") -> BaseModel:
    """Validate protocol parameters plus study and command-line overrides with the model.

    Parameters
    ----------
    protocol
        The template.
    model
        The assay's closed pydantic parameter model (its defaults apply where the
        template is silent).
    overrides
        Parameters from the study's assay entry; they win over the template.
    source
        File named in error messages (the study file for overrides).
    command_line
        Parameters given on the command line; they win over both.
    command_line_source
        The option named when a bad key came from ``command_line``.
    overrides_key
        Where ``overrides`` sit in ``source``, named before a bad key
        (``assays.nor.parameters.`` in a study file).

    """
    # a quoted number (threshold: "20") is text that pydantic would read as a number
    quoted_scalar(protocol.parameters, model, protocol.path or f"protocol {protocol.name}",
                  prefix="parameters.")
    quoted_scalar(overrides or {}, model, source or f"protocol {protocol.name}",
                  prefix=overrides_key)
    quoted_scalar(command_line or {}, model, command_line_source)
    try:   # the template alone first, so that its mistakes name the protocol file
        model.model_validate(protocol.parameters)
    except PydanticError as exc:
        raise pydantic_message(exc, protocol.path or f"protocol {protocol.name}",
                               prefix="parameters.", model=model) from None
    merged = {**protocol.parameters, **(overrides or {}), **(command_line or {})}
    for key, value in merged.items():   # pydantic reads true as 1 for a number
        if isinstance(value, bool) and _numeric_field(model, key):
            cli = bool(command_line) and key in command_line
            place = "" if cli else overrides_key if key in (overrides or {}) else "parameters."
            raise InputError("expected a number, not a true/false value",
                             path=command_line_source if cli else source or
                             f"protocol {protocol.name}", where=f"key '{place}{key}'")
    try:
        return model.model_validate(merged)
    except PydanticError as exc:
        # name where the first bad key was given: the command line, else the study
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = first["loc"][0] if first["loc"] else None
        if command_line and key in command_line:
            raise pydantic_message(exc, command_line_source, model=model) from None
        raise pydantic_message(exc, source or f"protocol {protocol.name}",
                               prefix=overrides_key if key in (overrides or {}) else
                               "parameters.", model=model) from None


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _differences(base: dict[str, Any], used: dict[str, Any],
                 prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """``key`` → (template, used) for values that differ; mappings compared key by key."""
    out: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(base) | set(used)):
        was, now = base.get(key), used.get(key)
        if isinstance(was, dict) and isinstance(now, dict):
            out |= _differences(was, now, f"{prefix}{key}.")
        elif was != now:
            out[f"{prefix}{key}"] = (was, now)
    return out


def _shipped(protocol: Protocol) -> bool:
    return protocol.path is not None and protocol.path.parent == protocol_dir()


def protocol_record(protocol: Protocol, params: BaseModel,
                    overrides: dict[str, Any] | None = None,
                    command_line: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a run records of the protocol it used: file, SHA-256, template and changes.

    Parameters
    ----------
    protocol
        The protocol as loaded (a shipped template, or a file of the study).
    params
        The effective parameters (:func:`effective_parameters`).
    overrides, command_line
        The study entry's parameters and the command line's, to say where a
        changed value was set.

    Returns
    -------
    dict
        ``name``, ``title``, ``guidelines``, ``file`` (the template's file name, or
        the study's protocol file), ``sha256`` of that file, ``shipped``,
        ``template`` (the shipped template the parameters are compared with: the
        protocol itself, the one it is ``based_on``, or None when it starts from
        the assay's defaults), ``template_sha256`` and ``changed``: parameter →
        ``{"template", "used", "set_in"}`` for every effective value that differs
        from the template's (``set_in``: ``command line``, ``study file`` or
        ``protocol file``); a mapping parameter is compared key by key
        (``cutoff_s.tail_flick``).

    """
    shipped = _shipped(protocol)
    template = protocol.name if shipped else protocol.based_on
    template_path = protocol_dir() / f"{template}.yaml" if template else None
    reference = load_protocol(template_path).parameters if template_path else {}
    try:
        base = type(params).model_validate(reference).model_dump(mode="json")
    except PydanticError:  # an assay without defaults for every parameter
        base = {}
    changed = {}
    for key, (was, used) in _differences(base, params.model_dump(mode="json")).items():
        top = key.split(".")[0]
        where = ("command line" if top in (command_line or {}) else
                 "study file" if top in (overrides or {}) else "protocol file")
        changed[key] = {"template": was, "used": used, "set_in": where}
    path = protocol.path
    return {"name": protocol.name, "title": protocol.title,
            "guidelines": list(protocol.guidelines), "shipped": shipped,
            "file": path.name if shipped or path is None else str(path),
            "sha256": _file_sha256(path) if path is not None else None,
            "template": template,
            "template_sha256": _file_sha256(template_path) if template_path else None,
            "changed": changed}
