"""Atomic output folders and the tamper-evident run manifest.

Every command that writes results does so through :class:`OutputDir`: files go
to a hidden staging folder beside the target; only when the run succeeds is
``manifest.json`` written and the staging folder renamed onto the target. A run
that fails or is killed therefore leaves either no output folder or the
previous complete one, never a half-written one. Stale staging folders of
killed runs are removed by the next run on the same target.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import getpass
import hashlib
import io
import json
import logging
import os
import platform
import shutil
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.errors import InputError, OutputExistsError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_STAGING = ".neurotox-tmp-"
_OLD = ".neurotox-old-"
DEPENDENCIES = ("numpy", "pandas", "scipy", "statsmodels", "scikit-posthocs", "pybmds",
                "pydantic", "click", "pyyaml", "openpyxl", "python-docx", "matplotlib",
                "scikit-image", "tifffile", "skan", "pyarrow", "h5py")


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of neurotox, Python and the scientific dependencies."""
    out = {"python": platform.python_version()}
    for name in ("neurotox", *DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class RunRecord:
    """Provenance collected during a run and written to ``manifest.json``.

    Attributes
    ----------
    command
        Full command line.
    parameters
        Effective parameters (protocol values after overrides, options).
    inputs
        Input files (hashed when the manifest is written).
    notes
        Decisions the software made itself (guessed delimiter/encoding, defaults).
    exclusions
        Excluded values/animals/wells/fields: what, why, by which rule.
    deviations
        Guideline deviations found when validating the study.

    """

    command: list[str] = field(default_factory=lambda: list(sys.argv))
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    started: str = field(default_factory=_now)

    def add_inputs(self, paths: Iterable[str | Path]) -> None:
        """Record input files (directories are expanded to the files inside)."""
        for p in map(Path, paths):
            if p.is_dir():
                self.inputs.extend(sorted(q for q in p.rglob("*") if q.is_file()))
            else:
                self.inputs.append(p)

    def note(self, message: str) -> None:
        """Record (and log) a decision the software took itself."""
        log.info(message)
        self.notes.append(message)


#: The run record of the output folder being written, for readers deep in the call
#: stack that must report a guess (delimiter, encoding ...) without extra plumbing.
_ACTIVE: contextvars.ContextVar[RunRecord | None] = contextvars.ContextVar(
    "neurotox_active_record", default=None)


def note(message: str) -> None:
    """Record a decision the software took itself in the active run's manifest notes.

    Outside an :class:`OutputDir` (library use) the message is only logged. The same
    message is recorded once per run.
    """
    record = _ACTIVE.get()
    if record is None:
        log.info(message)
    elif message not in record.notes:
        record.note(message)


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def build_manifest(record: RunRecord, folder: Path) -> dict[str, Any]:
    """The manifest document for the files now in ``folder``."""
    outputs = [{"path": p.relative_to(folder).as_posix(), "sha256": sha256_file(p),
                "bytes": p.stat().st_size}
               for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST]
    seen: set[Path] = set()
    inputs = []
    for p in record.inputs:
        rp = p.resolve()
        if rp in seen or not rp.is_file():
            continue
        seen.add(rp)
        inputs.append({"path": str(rp), "sha256": sha256_file(rp), "bytes": rp.stat().st_size})
    doc = {
        "format": "neurotox-manifest/1",
        "software": software_versions(),
        "command": record.command,
        "working_directory": os.getcwd(),
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        "started_utc": record.started,
        "finished_utc": _now(),
        "parameters": record.parameters,
        "inputs": inputs,
        "outputs": outputs,
        "notes": record.notes,
        "exclusions": record.exclusions,
        "deviations": record.deviations,
    }
    doc["manifest_sha256"] = hashlib.sha256(_canonical(doc)).hexdigest()
    return doc


def verify(folder: str | Path) -> list[str]:
    """Re-check an output folder against its manifest.

    Returns
    -------
    list of str
        One line per problem (changed, missing or extra file; edited manifest);
        empty when the folder is intact.

    Raises
    ------
    InputError
        No folder, or no readable manifest in it.

    """
    folder = Path(folder)
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise InputError(f"no {MANIFEST} in this folder", path=folder)
    try:
        doc = json.loads(mpath.read_text(encoding="utf-8"))
        listed = {o["path"]: o["sha256"] for o in doc["outputs"]}
        claimed = doc.pop("manifest_sha256")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"manifest is not readable: {exc}", path=mpath) from None
    problems = []
    if hashlib.sha256(_canonical(doc)).hexdigest() != claimed:
        problems.append(f"{MANIFEST}: edited after it was written (self-hash differs)")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.name != MANIFEST}
    for rel in sorted(set(listed) | present):
        if rel not in present:
            problems.append(f"{rel}: missing")
        elif rel not in listed:
            problems.append(f"{rel}: extra file not in the manifest")
        elif sha256_file(folder / rel) != listed[rel]:
            problems.append(f"{rel}: changed (SHA-256 differs)")
    return problems


class OutputDir:
    """An output folder written atomically, ending with ``manifest.json``.

    Parameters
    ----------
    path
        Target folder.
    force
        Replace an existing target (only once the new run has succeeded).
    record
        Provenance to write into the manifest.

    Examples
    --------
    >>> with OutputDir(out, force=False, record=rec) as od:   # doctest: +SKIP
    ...     od.write_table(df, "endpoints")

    """

    def __init__(self, path: str | Path, *, force: bool = False,
                 record: RunRecord | None = None):
        self.target = Path(path)
        self.force = force
        self.record = record or RunRecord()
        if self.target.exists() and not force:
            raise OutputExistsError(f"{self.target}: output already exists; use --force to "
                                    "replace it")
        if self.target.exists() and not self.target.is_dir():
            raise OutputExistsError(f"{self.target}: exists and is not a folder")
        self.staging = self.target.parent / f".{self.target.name}{_STAGING}{os.getpid()}"

    # -- context management
    def __enter__(self) -> OutputDir:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._clean_stale()
        self.staging.mkdir()
        self._token = _ACTIVE.set(self.record)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        _ACTIVE.reset(self._token)
        if exc_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        self.commit()

    def _clean_stale(self) -> None:
        for p in self.target.parent.glob(f".{self.target.name}.neurotox-*"):
            if p.name.startswith(f".{self.target.name}{_STAGING}") or \
               p.name.startswith(f".{self.target.name}{_OLD}"):
                log.info("removing leftover %s of an interrupted run", p)
                shutil.rmtree(p, ignore_errors=True)

    def commit(self) -> None:
        """Write the manifest and move the staging folder onto the target."""
        doc = build_manifest(self.record, self.staging)
        self._write_atomic(self.staging / MANIFEST,
                           (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
        old = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}{_OLD}{os.getpid()}"
            os.replace(self.target, old)
        os.replace(self.staging, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # -- writers
    def path(self, relpath: str | Path) -> Path:
        """Staging path for ``relpath`` (parents created), for writers needing a path."""
        rel = Path(relpath)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"output path {relpath!r} must be relative and inside the folder")
        p = self.staging / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    @staticmethod
    def _write_atomic(p: Path, data: bytes) -> None:
        tmp = p.with_name(p.name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)

    def write_bytes(self, relpath: str | Path, data: bytes) -> Path:
        """Write bytes to ``relpath`` inside the output."""
        p = self.path(relpath)
        self._write_atomic(p, data)
        return p

    def write_text(self, relpath: str | Path, text: str) -> Path:
        """Write UTF-8 text (LF line ends)."""
        return self.write_bytes(relpath, text.encode("utf-8"))

    def write_json(self, relpath: str | Path, obj: Any) -> Path:
        """Write JSON, sorted keys, indented."""
        return self.write_text(relpath, json.dumps(obj, indent=2, sort_keys=True,
                                                   ensure_ascii=False, default=str) + "\n")

    def write_table(self, df: pd.DataFrame, stem: str | Path, *,
                    formats: Iterable[str] = ("csv", "parquet")) -> list[Path]:
        """Write a DataFrame as ``stem.csv`` and/or ``stem.parquet`` (no index)."""
        out = []
        for fmt in formats:
            if fmt == "csv":
                out.append(self.write_text(f"{stem}.csv", df.to_csv(index=False,
                                                                    lineterminator="\n")))
            elif fmt == "parquet":
                buf = io.BytesIO()
                df.to_parquet(buf, index=False)
                out.append(self.write_bytes(f"{stem}.parquet", buf.getvalue()))
            else:
                raise ValueError(f"unknown table format {fmt!r}")
        return out
