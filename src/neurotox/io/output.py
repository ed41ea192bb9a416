"""Atomic output folders and the tamper-evident run manifest.

Every command that writes results does so through :class:`OutputDir`: files go
to a hidden staging folder beside the target; only when the run succeeds is
``manifest.json`` written and the staging folder renamed onto the target. A run
that fails or is killed therefore leaves either no output folder or the
previous complete one, never a half-written one. Stale staging folders of
killed runs are removed by the next run on the same target.

An existing target is replaced (``force``) only when it is the output of an
earlier neurotox run -- its ``manifest.json`` says so, is intact (its self-hash
matches) and lists every file in it. The target, new or replaced, is never an
input, never holds one (nothing holding an input is deleted) and never lies
inside an input folder (a plate folder); a folder beside an input file (the
study folder) is no input folder.

The manifest proves that the files have not changed since it was written,
as far as its own self-hash goes: anyone able to edit files can also recompute
that hash. With a signing key (:func:`load_key`) the manifest carries an
HMAC-SHA256 that only holders of the key can recompute.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import getpass
import hashlib
import hmac
import io
import json
import logging
import os
import platform
import re
import shutil
import signal
import socket
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.errors import InputError, OutputExistsError, shown
from neurotox.files import (
    NOTE_SINK,
    FileState,
    check_input,
    file_kind,
    lies_within,
    log_note,
    output_committed,
    path_forms,
    pattern_conflict,
    register_input,
    run_note,
    sha256_file,
    take_pending_notes,
)

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = "neurotox-manifest/2"
_FORMAT_PREFIX = "neurotox-manifest/"
#: Manifest formats this version reads (1: before signatures; the self-hash is the same).
KNOWN_FORMATS = ("neurotox-manifest/1", FORMAT)
_STAGING = ".neurotox-tmp-"
_OLD = ".neurotox-old-"
#: A replaced output once the new one is in place: deleted, never put back.
_REPLACED = ".neurotox-replaced-"
_MARKER = ".neurotox-staging"
#: Largest manifest ``verify`` reads.
MAX_MANIFEST_BYTES = 256 << 20
#: Environment variable naming the signing key file (``--sign-key``, ``verify --key``).
ENV_SIGN_KEY = "NEUROTOX_SIGN_KEY_FILE"
SIGNATURE_ALGORITHM = "HMAC-SHA256"
MIN_KEY_BYTES = 16
DEPENDENCIES = ("numpy", "pandas", "scipy", "statsmodels", "scikit-posthocs", "pybmds",
                "pydantic", "click", "pyyaml", "openpyxl", "python-docx", "matplotlib",
                "scikit-image", "tifffile", "skan", "numba", "pyarrow", "h5py")


def software_versions() -> dict[str, str]:
    """Versions of neurotox, Python and the scientific dependencies."""
    out = {"python": platform.python_version()}
    for name in ("neurotox", *DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def current_user() -> str:
    """Login name, or ``uid N`` when the user has no name (a container's arbitrary UID)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _state(path: Path) -> FileState | None:
    """Size, modification time and SHA-256 of a regular file now, else None.

    A FIFO or device is never opened (it would block or never end).
    """
    try:
        return FileState.of(path) if path.is_file() else None
    except OSError:
        return None


def _files_in(p: Path) -> list[Path]:
    """``p`` itself, or the regular files (and links to files) below the folder ``p``."""
    if not p.is_dir():
        return [p]
    return [p / rel for rel, kind in walk(p)
            if kind == "file" or (kind == "symlink" and (p / rel).is_file())]


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
    #: Folders given as inputs (a plate folder), expanded into ``inputs``; the output
    #: folder may not lie inside them.
    input_folders: list[Path] = field(default_factory=list)
    _seen: dict[Path, FileState | None] = field(default_factory=dict, repr=False)

    def add_inputs(self, paths: Iterable[str | Path]) -> None:
        """Record input files (directories are expanded to the regular files inside).

        Each file is recorded as the run first met it, before reading it (its size,
        modification time and SHA-256: :meth:`first_state`); a file that differs
        from that state when the manifest is written makes the run fail (the
        results would not come from the bytes the manifest names).
        """
        for p in map(Path, paths):
            if p.is_dir():
                self.input_folders.append(p)
            for f in _files_in(p):
                self.inputs.append(f)
                self.first_state(f)

    def first_state(self, path: str | Path) -> FileState | None:
        """The file as the run first met it (see :func:`neurotox.files.register_input`).

        Met now when neither this record nor the running command has seen it.
        """
        key = Path(path).resolve()
        if key not in self._seen:
            self._seen[key] = register_input(key) or _state(key)
        return self._seen[key]

    def note(self, message: str) -> None:
        """Record (and log) a decision the software took itself.

        A message starting ``warning:`` is logged as a warning (shown with --quiet too),
        or, under ``neurotox --warnings-as-errors``, fails the run (nothing is written).
        """
        log_note(message)
        self.notes.append(message)

    def note_once(self, message: str) -> None:
        """:meth:`note`, unless the same message is recorded already."""
        if message not in self.notes:
            self.note(message)


#: A decision the software took itself, for the run being written (its manifest notes):
#: :func:`neurotox.files.run_note`, under the name readers here have always used.
note = run_note


# ------------------------------------------------------------------ walking a folder

def walk(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every path below ``folder`` (relative, sorted) with its kind; links never followed.

    Kinds: ``file`` (regular file), ``dir``, ``symlink`` or the description of a
    special file (``a FIFO (named pipe)`` ...).
    """
    stack = [Path()]
    while stack:
        rel = stack.pop()
        with os.scandir(folder / rel) as it:
            entries = sorted(it, key=lambda e: e.name, reverse=True)
        for e in entries:
            sub = rel / e.name
            mode = e.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                yield sub, "symlink"
            elif stat.S_ISDIR(mode):
                yield sub, "dir"
                stack.append(sub)
            elif stat.S_ISREG(mode):
                yield sub, "file"
            else:
                yield sub, file_kind(mode)


def _prune_empty_dirs(folder: Path) -> None:
    for rel, kind in sorted(walk(folder), key=lambda x: -len(x[0].parts)):
        if kind == "dir" and not any((folder / rel).iterdir()):
            (folder / rel).rmdir()


# ------------------------------------------------------------------ signing

@dataclass(frozen=True)
class SigningKey:
    """A secret for HMAC-SHA256 signatures of manifests."""

    secret: bytes = field(repr=False)
    path: Path | None = None

    @property
    def key_id(self) -> str:
        """Public identifier of the key (an HMAC of a fixed text, not the key's hash)."""
        return hmac.new(self.secret, b"neurotox key id", hashlib.sha256).hexdigest()[:16]

    def sign(self, doc: dict[str, Any]) -> str:
        """HMAC-SHA256 of the canonical JSON of ``doc``."""
        return hmac.new(self.secret, _canonical(doc), hashlib.sha256).hexdigest()


def load_key(path: str | Path) -> SigningKey:
    """Read a signing key file (at least 16 bytes; surrounding whitespace ignored).

    Raises
    ------
    InputError
        Missing, not a regular file, larger than 64 KiB, or too short.

    """
    path = Path(path)
    check_input(path, max_bytes=1 << 16)
    secret = path.read_bytes().strip()
    if len(secret) < MIN_KEY_BYTES:
        raise InputError(f"a signing key needs at least {MIN_KEY_BYTES} bytes, found "
                         f"{len(secret)} (make one with: head -c 32 /dev/urandom | base64 "
                         "> KEYFILE)", path=path)
    return SigningKey(secret, path)


def check_key(key: SigningKey | None, inputs: Iterable[str | Path]) -> None:
    """Refuse a signing key that is one of the run's inputs or lies in an input folder.

    The inputs travel with the data (and their hashes are in the manifest), so
    anyone holding them could re-sign an edited manifest with such a "key".
    """
    if key is None or key.path is None or not key.path.exists():
        return
    for raw in inputs:
        inp = Path(raw)
        if inp.is_dir() and lies_within(key.path, inp):
            why = f"lies inside the input folder {str(raw)!r}"
        elif inp.is_file() and os.path.samefile(key.path, inp):
            why = f"is also an input of this run ({str(raw)!r})"
        else:
            continue
        raise InputError(f"the signing key {why}; a key must be a secret file of its own, "
                         "not data that travels with the study (anyone holding the data "
                         "could sign with it)", path=key.path)


def key_exposure(key: SigningKey | None) -> str | None:
    """A warning when the key file can be read by its group or others, else None."""
    if key is None or key.path is None or os.name != "posix":
        return None
    mode = key.path.stat().st_mode
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None
    return (f"warning: the signing key {str(key.path)!r} can be read by its group or others "
            f"(mode {stat.S_IMODE(mode):04o}); anyone who can read it can sign; make it "
            "private (chmod 600)")


def key_from_environment() -> SigningKey | None:
    """The key named by ``NEUROTOX_SIGN_KEY_FILE``, if set."""
    name = os.environ.get(ENV_SIGN_KEY, "").strip()
    if not name:
        return None
    try:
        return load_key(name)
    except InputError as exc:
        raise InputError(exc.detail, path=exc.path, where=ENV_SIGN_KEY) from None


# ------------------------------------------------------------------ the manifest

def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def unicode_safe(value: Any) -> Any:
    r"""``value`` with every string made valid Unicode.

    File names that are not UTF-8 reach Python as lone surrogates (``\udcff``);
    they are written as ``\xff`` so that the manifest is valid UTF-8 JSON.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return value
    if isinstance(value, dict):
        return {unicode_safe(k): unicode_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unicode_safe(v) for v in value]
    return value


def relative_path(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` (POSIX separators), both made absolute first."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(start))).as_posix()


#: An input that is not what it was when the run first met it, before reading it.
CHANGED = ("changed while the run read it (size, modification time or file identity differs "
           "from when the run opened it, or the file is gone); run again")


def build_manifest(record: RunRecord, folder: Path, *, target: Path | None = None,
                   key: SigningKey | None = None) -> dict[str, Any]:
    """The manifest document for the files now in ``folder``.

    Parameters
    ----------
    record
        Provenance of the run.
    folder
        Folder whose files are the outputs (the staging folder).
    target
        Where the folder will end up; input paths are recorded relative to it
        (default: ``folder``).
    key
        Signing key; adds an HMAC-SHA256 ``signature``.

    """
    target = target if target is not None else folder
    outputs = []
    for rel, kind in sorted(walk(folder)):
        if kind == "dir":
            continue
        if kind != "file":
            raise RuntimeError(f"{rel}: outputs must be regular files, found {kind}")
        if rel.as_posix() not in (MANIFEST, _MARKER):
            p = folder / rel
            outputs.append({"path": rel.as_posix(), "sha256": sha256_file(p),
                            "bytes": p.stat().st_size})
    seen: set[Path] = set()
    inputs = []
    for p in record.inputs:
        rp = p.resolve()
        if rp in seen:
            continue
        if not rp.is_file():
            if record._seen.get(rp) is not None:   # a file when the run met it
                raise InputError(CHANGED, path=p)
            continue
        seen.add(rp)
        first = record.first_state(rp)
        if first is None or not first.unchanged(rp):   # not the bytes the run read
            raise InputError(CHANGED, path=p)
        inputs.append({"path": relative_path(rp, target.resolve()), "sha256": first.sha256,
                       "bytes": first.size})
    doc: dict[str, Any] = {
        "format": FORMAT,
        "software": software_versions(),
        "command": record.command,
        "host": socket.gethostname(),
        "user": current_user(),
        "started_utc": record.started,
        "finished_utc": _now(),
        "parameters": record.parameters,
        "inputs": inputs,
        "outputs": outputs,
        "notes": record.notes,
        "exclusions": record.exclusions,
        "deviations": record.deviations,
    }
    doc = unicode_safe(doc)
    if key is not None:
        doc["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "key_id": key.key_id,
                            "value": key.sign(doc)}
    doc["manifest_sha256"] = hashlib.sha256(_canonical(doc)).hexdigest()
    return doc


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Manifest:
    """A manifest read back by :func:`read_manifest`."""

    doc: dict[str, Any]
    outputs: dict[str, tuple[str, int | None]]
    claimed: str
    signature: dict[str, str] | None

    @property
    def sealed(self) -> bool:
        """True when the manifest's self-hash matches: not edited since it was written."""
        doc = {k: v for k, v in self.doc.items() if k != "manifest_sha256"}
        return hmac.compare_digest(hashlib.sha256(_canonical(doc)).hexdigest(), self.claimed)


def read_manifest(path: Path, *, any_version: bool = False) -> Manifest:
    """Read and check the structure of a ``manifest.json``.

    A format other than :data:`KNOWN_FORMATS` is refused unless ``any_version``
    (to recognise a folder as some neurotox version's output).

    Raises
    ------
    InputError
        Not a regular file, too large, not JSON, nested too deeply, or fields of
        the wrong type (the message names the field).

    """
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise InputError(f"no {MANIFEST} in this folder", path=path.parent) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"expected a regular file, found {file_kind(st.st_mode)}", path=path)
    if st.st_size > MAX_MANIFEST_BYTES:
        raise InputError(f"manifest is larger than {MAX_MANIFEST_BYTES >> 20} MiB", path=path)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        raise InputError(f"duplicate key {exc.args[0]!r} in a JSON object (which one "
                         "counts?)", path=path) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"manifest is not readable JSON: {exc}", path=path) from None
    except RecursionError:
        raise InputError("manifest is not readable: JSON nests too deeply", path=path) from None
    return _manifest_fields(doc, path, any_version)


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKey(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


def _bad(path: Path, where: str, expected: str) -> InputError:
    return InputError(f"expected {expected}", path=path, where=f"key {where!r}")


def _manifest_fields(doc: Any, path: Path, any_version: bool = False) -> Manifest:
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", path=path)
    if not isinstance(doc.get("format"), str) or not doc["format"].startswith(_FORMAT_PREFIX):
        raise _bad(path, "format", f"'{FORMAT}'")
    if doc["format"] not in KNOWN_FORMATS and not any_version:
        raise _bad(path, "format", f"{' or '.join(map(repr, KNOWN_FORMATS))} (the formats this "
                   f"neurotox reads), found {doc['format']!r}; verify it with the neurotox "
                   "version that wrote it")
    claimed = doc.get("manifest_sha256")
    if not isinstance(claimed, str) or not _HEX64.match(claimed):
        raise _bad(path, "manifest_sha256", "a SHA-256 hex digest")
    sig = doc.get("signature")
    if sig is not None and not (isinstance(sig, dict) and all(
            isinstance(sig.get(k), str) for k in ("algorithm", "key_id", "value"))):
        raise _bad(path, "signature", "algorithm, key_id and value")
    return Manifest(doc=doc, outputs=_manifest_outputs(doc.get("outputs"), path),
                    claimed=claimed, signature=sig)


def _manifest_outputs(entries: Any, path: Path) -> dict[str, tuple[str, int | None]]:
    if not isinstance(entries, list):
        raise _bad(path, "outputs", "a list")
    outputs: dict[str, tuple[str, int | None]] = {}
    for i, o in enumerate(entries):
        where = f"outputs[{i}]"
        if not isinstance(o, dict) or not isinstance(o.get("path"), str):
            raise _bad(path, f"{where}.path", "a file path")
        if not isinstance(o.get("sha256"), str) or not _HEX64.match(o["sha256"]):
            raise _bad(path, f"{where}.sha256", "a SHA-256 hex digest")
        size = o.get("bytes")
        if size is not None and (type(size) is not int or size < 0):
            raise _bad(path, f"{where}.bytes", "a size in bytes")
        rel = o["path"]
        if not _safe_relative(rel):
            raise _bad(path, f"{where}.path", f"a relative path inside the folder, found {rel!r}")
        if rel in outputs:
            raise _bad(path, f"{where}.path", f"each path once, found {rel!r} twice")
        outputs[rel] = (o["sha256"], size)
    return outputs


def _safe_relative(rel: str) -> bool:
    parts = rel.split("/")
    return (bool(rel) and "\x00" not in rel and rel != MANIFEST
            and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts))


@dataclass
class Verification:
    """Outcome of :func:`verify_folder`: problems and what the signature check found.

    ``unchecked``: the manifest is signed and no key was given to check it.
    """

    problems: list[str]
    signature: str
    unchecked: bool = False


def verify_folder(folder: str | Path, *, key: SigningKey | None = None) -> Verification:
    """Re-check an output folder against its manifest.

    Every path below the folder is compared with the manifest, without
    following symbolic links: changed, missing and extra files, extra (empty)
    folders, symbolic links and special files (FIFOs, sockets, devices) are
    problems. The manifest's self-hash is checked, and with ``key`` its
    signature.

    Returns
    -------
    Verification
        ``problems`` (one line each; empty when intact) and a sentence on the signature.

    Raises
    ------
    InputError
        No folder, or no readable, well-formed manifest in it.

    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no {MANIFEST}: " + ("the folder does not exist" if not
                         folder.exists() else "this is a file, not an output folder"),
                         path=folder)
    man = read_manifest(folder / MANIFEST)
    doc = {k: v for k, v in man.doc.items() if k != "manifest_sha256"}
    problems = []
    if not man.sealed:
        problems.append(f"{MANIFEST}: edited after it was written (self-hash differs)")
    signed, sentence = _check_signature(doc, man.signature, key)
    if signed:
        problems.append(signed)
    problems += _compare_tree(folder, man.outputs)
    return Verification(problems, sentence, unchecked=key is None and man.signature is not None)


def _check_signature(doc: dict[str, Any], sig: dict[str, str] | None,
                     key: SigningKey | None) -> tuple[str | None, str]:
    if key is None:
        if sig is None:
            return None, "not signed"
        return None, f"signed with key {sig['key_id']}; signature not checked (no key given)"
    if sig is None:
        return f"{MANIFEST}: not signed, but a key was given (unsigned or signature " \
               "removed)", "not signed"
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    if sig["algorithm"] != SIGNATURE_ALGORITHM or \
            not hmac.compare_digest(sig["value"], key.sign(unsigned)):
        return f"{MANIFEST}: signature does not match the key (manifest rewritten, or " \
               "signed with another key)", "signature invalid"
    return None, f"signature valid (key {key.key_id})"




def _compare_tree(folder: Path, listed: dict[str, tuple[str, int | None]]) -> list[str]:
    present = {unicode_safe(rel.as_posix()): kind for rel, kind in walk(folder)}
    real = {unicode_safe(rel.as_posix()): rel.as_posix() for rel, _ in walk(folder)}
    present.pop(MANIFEST, None)
    covered = {a.as_posix() for p in listed for a in Path(p).parents}
    extra_dirs = {rel for rel, kind in present.items()
                  if kind == "dir" and rel not in covered and rel not in listed}
    problems = []
    for rel in sorted(set(listed) | set(present)):
        if rel not in listed and any(a.as_posix() in extra_dirs for a in Path(rel).parents):
            continue  # inside an extra folder: counted on that folder's line
        on_disk = real.get(rel, rel)
        problem = _entry_problem(folder, on_disk, present.get(rel), rel in listed, covered)
        if problem == _EXTRA_DIR:
            below = sum(1 for other in present if other.startswith(f"{rel}/"))
            problem += f" ({below} entries inside)" if below else ""
        if problem:
            problems.append(f"{shown(rel)}{problem}")
        elif present.get(rel) == "file":
            problems += _compare_file(folder / on_disk, rel, *listed[rel])
    return problems


_EXTRA_DIR = "/: extra folder not in the manifest"


def _entry_problem(folder: Path, rel: str, kind: str | None, is_listed: bool,
                   covered: set[str]) -> str | None:
    """What is wrong with one path below the folder (None: compare its bytes, or fine)."""
    if kind == "dir":
        if is_listed:
            return ": is a folder, expected a file"
        return None if rel in covered else _EXTRA_DIR
    if kind is None:
        return ": missing"
    if kind == "symlink":
        return (f": symbolic link to {os.readlink(folder / rel)!r}, not a file written "
                "by neurotox (not followed)")
    if kind != "file":
        return f": {kind}, not a regular file"
    return None if is_listed else ": extra file not in the manifest"


def _compare_file(path: Path, rel: str, digest: str, size: int | None) -> list[str]:
    try:
        if size is not None and path.stat().st_size != size or sha256_file(path) != digest:
            return [f"{shown(rel)}: changed (SHA-256 differs)"]
    except OSError as exc:
        return [f"{shown(rel)}: cannot be read ({exc.strerror or exc})"]
    return []


def verify(folder: str | Path, *, key: SigningKey | None = None) -> list[str]:
    """Problems found by :func:`verify_folder` (empty list when intact)."""
    return verify_folder(folder, key=key).problems


# ------------------------------------------------------------------ what may be replaced

def input_conflict(target: Path, inputs: Iterable[str | Path]) -> str | None:
    """Why ``target`` may not be written given these inputs, or None.

    The output may not be an input, hold one (replacing it would delete the
    input) or lie inside an input *folder* (a plate folder: its new files would
    be read as part of it). The folder that merely holds an input *file* (the
    study folder beside ``study.yaml``, the project folder beside a layout) is
    no input: a new output may be written there, and an earlier one replaced,
    alike -- unless an input pattern of the study (``entries/**/*.csv``) would
    match the files written into it (:func:`neurotox.files.pattern_conflict`):
    the next run would read them as inputs.
    """
    for raw in inputs:
        inp = Path(raw)
        is_dir = inp.is_dir()
        for t in path_forms(target):
            for i in path_forms(inp):
                if t == i:
                    return f"it is the input {str(raw)!r}"
                if i.is_relative_to(t):
                    return f"it holds the input {str(raw)!r}"
                if is_dir and t.is_relative_to(i):
                    return f"it lies inside the input folder {str(raw)!r}"
    return pattern_conflict(target)


def file_above(path: str | Path) -> Path | None:
    """The nearest existing ancestor of ``path`` if it is a file (``-o afile/sub``), else None."""
    above = next((p for p in Path(os.path.abspath(path)).parents if os.path.lexists(p)), None)
    return above if above is not None and not above.is_dir() else None


def check_target(target: Path, *, force: bool, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse an output folder that would overwrite or delete what is not ours.

    Raises
    ------
    OutputExistsError
        The target is the current folder or holds it; exists without ``force``;
        is a file or a symbolic link; is not an earlier neurotox output (or holds
        files that output did not write); or conflicts with an input
        (:func:`input_conflict`).

    """
    cwd = Path.cwd()
    exists = os.path.lexists(target)
    above = file_above(target)
    if above is not None:
        raise OutputExistsError(f"{target}: cannot create the output folder: {str(above)!r} "
                                "is a file, not a folder")
    _check_name_lengths(target)
    if lies_within(cwd, target):
        raise OutputExistsError(f"{target}: refusing to write the output over the current "
                                "folder or a folder holding it; give a new folder")
    conflict = input_conflict(target, inputs)
    if conflict:          # before "exists": --force would not help
        raise OutputExistsError(f"{target}: refusing to use this output folder: {conflict}; "
                                "give a folder outside the inputs")
    if exists and not force:
        raise OutputExistsError(f"{target}: output already exists; use --force to replace it")
    outer = enclosing_output(target)
    if outer is not None:
        raise OutputExistsError(f"{target}: refusing to write inside the neurotox output "
                                f"{str(outer)!r} (its manifest would no longer verify); give "
                                "a folder outside it")
    if not exists:
        return
    mode = os.lstat(target).st_mode
    if not stat.S_ISDIR(mode):
        raise OutputExistsError(f"{target}: exists and is {file_kind(mode)}, not an output "
                                "folder; --force replaces only an earlier neurotox output")
    reason = foreign_content(target)
    if reason:
        raise OutputExistsError(f"{target}: --force refused: {reason}; move it away or "
                                "remove it yourself")


def _check_name_lengths(target: Path) -> None:
    """Refuse, before the run, a folder name the file system cannot hold (found at the end)."""
    path = Path(os.path.abspath(target))
    existing = next((p for p in path.parents if p.is_dir()), None)
    if existing is None or os.path.lexists(path):
        return
    limit = _name_max(existing)
    for part in path.relative_to(existing).parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise OutputExistsError(f"{target}: cannot create the output folder: the name "
                                    f"{shown(part[:40])}… is {size} bytes long, more than the "
                                    f"{limit} the file system allows; give a shorter name")


def enclosing_output(target: Path) -> Path | None:
    """The nearest folder above ``target`` that is a neurotox output (has our manifest).

    Looked for along the path as given and with symbolic links resolved (a link
    into an output is still inside it).
    """
    for form in path_forms(target):
        for folder in form.parents:
            manifest = folder / MANIFEST
            if manifest.is_file():
                try:
                    read_manifest(manifest, any_version=True)
                except InputError:
                    continue  # someone else's manifest.json
                return folder
    return None


def foreign_content(folder: Path) -> str | None:
    """Why ``folder`` is not (only) an earlier neurotox output, or None when it is.

    An empty folder, or one whose ``manifest.json`` is a neurotox manifest
    listing every file below it with the SHA-256 it has now, is ours to replace:
    a file edited by hand (a curated table saved over an output's name) is not
    what neurotox wrote.
    """
    entries = list(walk(folder))
    if not entries:
        return None
    try:
        earlier = read_manifest(folder / MANIFEST)
    except InputError:
        return (f"the folder is not the output of an earlier neurotox run (no readable "
                f"neurotox {MANIFEST})")
    if not earlier.sealed:
        return (f"the folder is not an intact neurotox output: its {MANIFEST} was edited after "
                "it was written (self-hash differs), so its list of files cannot be trusted")
    if earlier.signature is not None:
        return (f"the folder is a signed output (key {earlier.signature['key_id']}): a signed "
                "report is never replaced; write the new run (an amendment) to a new folder")
    listed = set(earlier.outputs)
    dirs = {a.as_posix() for p in listed for a in Path(p).parents}
    for rel, kind in entries:
        name = rel.as_posix()
        if name == MANIFEST or (kind == "file" and name in listed) or \
                (kind == "dir" and name in dirs):
            continue
        what = "folder" if kind == "dir" else "file" if kind == "file" else kind
        return f"{folder / rel} ({what}) was not written by the earlier run (not in its " \
               f"{MANIFEST})"
    for rel, kind in entries:
        name = rel.as_posix()
        if kind == "file" and name != MANIFEST and \
                _compare_file(folder / rel, name, *earlier.outputs[name]):
            return f"{folder / rel} (file) was changed after the earlier run wrote it (its " \
                   f"SHA-256 or size is not the one in {MANIFEST})"
    return None


# ------------------------------------------------------------------ the output folder

@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM, SIGINT and SIGHUP until the block ends (main thread).

    Their handlers are swapped for one that only records the signal, and the
    recorded signals are raised again once the old handlers are back. (Blocking
    them with ``pthread_sigmask`` holds them only from this thread: with a worker
    pool's or a library's threads running, the kernel hands the signal to one of
    those, and Python still runs the handler here between the two renames.) A
    signal the caller ignores (``nohup``) stays ignored.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {}
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) not in (signal.SIG_IGN, None):
            old[sig] = signal.signal(sig, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


def _short_name(name: str, suffix_bytes: int, limit: int) -> str:
    """``name`` shortened (with a hash) so that ``.name<suffix>`` fits in ``limit`` bytes."""
    room = limit - suffix_bytes - 1
    if len(os.fsencode(name)) <= room:
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    cut = name
    while len(os.fsencode(cut)) > room - 13:
        cut = cut[:-1]
    return f"{cut}-{digest}"


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _remove_replaced(folder: Path) -> None:
    """Delete a replaced earlier output, its manifest last.

    A run killed half-way through leaves a folder that still reads as an earlier
    neurotox output (files missing from a manifest are allowed), so the next run
    removes it instead of keeping it as foreign content.
    """
    for p in folder.iterdir():
        if p.name == MANIFEST:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(host: str, pid: int) -> bool:
    if host != socket.gethostname():
        return True  # another machine's run: cannot tell, leave it alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


#: Errors of writing out (a full disk or quota, a file size limit, a read-only or failing
#: disk): when the writer names no file, the output folder is named instead.
_WRITE_ERRNOS = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EIO")
                          if hasattr(errno, n))


def _libxml_write_errno(exc: BaseException) -> int | None:
    """The errno of a libxml2 write failure (lxml's ``SerialisationError("IO_EFBIG")``) or None."""
    if type(exc).__name__ != "SerialisationError":
        return None
    code = getattr(errno, str(exc).strip().removeprefix("IO_"), None)
    return code if code in _WRITE_ERRNOS else None


class OutputDir:
    """An output folder written atomically, ending with ``manifest.json``.

    Parameters
    ----------
    path
        Target folder.
    force
        Replace an existing target (only once the new run has succeeded, and only
        an earlier neurotox output: see :func:`check_target`).
    record
        Provenance to write into the manifest.
    inputs
        Files and folders the run reads; the target may not be or hold them, nor
        lie inside an input folder (:func:`input_conflict`). Inputs recorded
        later in ``record`` are checked again before the target is written.
    key
        Signing key of the manifest.

    Examples
    --------
    >>> with OutputDir(out, force=False, record=rec) as od:   # doctest: +SKIP
    ...     od.write_table(df, "endpoints")

    """

    def __init__(self, path: str | Path, *, force: bool = False,
                 record: RunRecord | None = None, inputs: Iterable[str | Path] = (),
                 key: SigningKey | None = None):
        self.target = Path(path)
        #: Where the target is: every move uses it, never a path through the folder moved.
        self.place = settled_path(self.target)
        self.force = force
        self.record = record or RunRecord()
        self.inputs = [Path(p) for p in inputs]
        self.key = key
        self._restore_leftover()
        check_target(self.target, force=force, inputs=self.inputs)
        check_key(key, self.inputs)
        for p in self.inputs:   # input files as they are now, before anything reads them
            if os.path.exists(p):
                for f in _files_in(p):
                    self.record.first_state(f)
        self.staging = self.place.parent / f"{self._base}{_STAGING}{os.getpid()}"

    @functools.cached_property
    def _base(self) -> str:
        """``.name`` of the target, shortened to leave room for the staging suffix."""
        parent = self.place.parent
        suffix = len(_STAGING) + 2 + len(str(os.getpid())) + 12
        return "." + _short_name(self.place.name, suffix, _name_max(parent)
                                 if parent.is_dir() else 255)

    def _restore_leftover(self) -> None:
        """Put back an earlier output a killed or failed run moved aside, when the target is gone.

        ``.out.neurotox-old-PID`` is the target as it was before a run replaced it;
        with no target left, it is the only copy, never removed (:meth:`_clean_stale`).
        """
        if os.path.lexists(self.place):
            return
        for p in sorted(self.place.parent.glob(f"{glob_escape(self._base)}{_OLD}*")):
            pid = p.name.rsplit(_OLD, 1)[-1]
            if not pid.isdigit() or _pid_alive(socket.gethostname(), int(pid)) \
                    or not p.is_dir() or p.is_symlink() or input_conflict(p, self.inputs):
                continue
            os.replace(p, self.place)
            log.info("restored %s, the earlier output a failed run had moved aside, to %s",
                     p.name, self.target)
            return

    # -- context management
    def __enter__(self) -> OutputDir:
        self.place.parent.mkdir(parents=True, exist_ok=True)
        self._clean_stale()
        # names the folder in the log (a shared JSON log tells runs apart by their run ID)
        log.debug("writing the output folder %s (staging %s)", self.target, self.staging.name)
        try:   # a signal handled right after mkdir must not leave the staging folder behind
            self.staging.mkdir()
            self._write_atomic(self.staging / _MARKER,
                               f"{socket.gethostname()} {os.getpid()}\n".encode())
            for message in take_pending_notes():   # said already, before the folder opened
                if message not in self.record.notes:
                    self.record.notes.append(message)
            self._sink = NOTE_SINK.set(self.record.note_once)
        except FileExistsError:
            raise   # not ours
        except OSError as exc:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise self._as_given(exc) from exc
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        NOTE_SINK.reset(self._sink)
        if exc_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            if isinstance(exc, OSError) and exc.filename is None and exc.errno in _WRITE_ERRNOS:
                # a writer (pandas, matplotlib ...) that names no file: name the folder
                raise self._folder_error(exc.errno, exc.strerror) from exc
            if (code := _libxml_write_errno(exc)) is not None:
                # openpyxl/python-docx write through lxml, which says IO_EFBIG, not OSError
                raise self._folder_error(code, os.strerror(code)) from exc
            if isinstance(exc, OSError) and (named := self._as_given(exc)) is not exc:
                raise named from exc
            return
        try:
            self.commit()
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise

    def _folder_error(self, code: int, reason: str) -> OSError:
        """``out: File too large (writing the output folder; nothing written)``."""
        return OSError(code, f"{reason} (writing the output folder; nothing written)",
                       str(self.target))

    def _given_path(self, name: Any) -> Any:
        """A path in the hidden staging folder as the same path in the output folder given.

        ``.out.neurotox-tmp-123/csv/results.csv.part`` → ``out/csv/results.csv``; any
        other path (or None) as it is.
        """
        if name is None:
            return None
        try:
            rel = Path(os.path.abspath(os.fsdecode(name))).relative_to(
                os.path.abspath(self.staging))
        except ValueError:
            return name
        if not rel.parts:
            return str(self.target)
        return str(self.target / rel.with_name(rel.name.removesuffix(".part")))

    def _as_given(self, exc: OSError) -> OSError:
        """``exc`` naming the output folder given, not the staging folder (else ``exc`` itself).

        The user never sees the staging folder; a full disk or ``ulimit -f`` is said
        of the folder (and file) they asked for.
        """
        names = [self._given_path(exc.filename), self._given_path(exc.filename2)]
        if names == [exc.filename, exc.filename2]:
            return exc
        if names[1] is None:
            return OSError(exc.errno, exc.strerror, names[0])
        return OSError(exc.errno, exc.strerror, names[0], None, names[1])

    def _clean_stale(self) -> None:
        """Remove what killed runs on this target left: never a folder holding an input.

        A moved-aside earlier output (``-old-``) is removed only when the target
        exists (else :meth:`_restore_leftover` has put it back); a replaced one
        (``-replaced-``) always.
        """
        for p in self.place.parent.glob(f"{glob_escape(self._base)}.neurotox-*"):
            if input_conflict(p, self.inputs):
                continue
            if p.name.startswith(f"{self._base}{_STAGING}"):
                if self._stale_staging(p):
                    log.info("removing leftover %s of an interrupted run", p)
                    shutil.rmtree(p, ignore_errors=True)
            elif (p.name.startswith(f"{self._base}{_REPLACED}") or (
                    p.name.startswith(f"{self._base}{_OLD}") and os.path.lexists(self.place))) \
                    and p.is_dir() and not p.is_symlink() and foreign_content(p) is None:
                log.info("removing leftover %s of an earlier run (replaced by a later one)", p)
                self._remove_old(p, what="the leftover of an earlier run")

    @staticmethod
    def _stale_staging(p: Path) -> bool:
        """A staging folder of a run that is no longer running.

        Its marker file names host and process. A run killed at its last step has
        removed the marker but not yet renamed the folder: a complete output (its
        manifest lists every file) whose process, named in the folder's name, is
        not running on this host is stale too.
        """
        if not p.is_dir() or p.is_symlink():
            return False
        try:
            host, pid = (p / _MARKER).read_text().split()
            return not _pid_alive(host, int(pid))
        except FileNotFoundError:
            pid = p.name.rsplit(_STAGING, 1)[-1]
            return pid.isdigit() and not _pid_alive(socket.gethostname(), int(pid)) \
                and foreign_content(p) is None
        except (OSError, ValueError):
            return False

    def commit(self) -> None:
        """Write the manifest and move the staging folder onto the target."""
        # the marker stays until just before the rename: a run killed while hashing
        # its outputs leaves a staging folder the next run recognises as stale
        _prune_empty_dirs(self.staging)
        # a study names its inputs only once loaded: the key may not be one of them either
        check_key(self.key, [*self.record.input_folders, *self.record.inputs])
        doc = build_manifest(self.record, self.staging, target=self.target, key=self.key)
        self._write_atomic(self.staging / MANIFEST,
                           (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
        (self.staging / _MARKER).unlink()
        # every file and folder the run read (a study names its inputs only once loaded):
        # the output may not be, hold or lie inside any of them
        read = [*self.inputs, *self.record.input_folders, *self.record.inputs]
        conflict = input_conflict(self.target, read)
        if conflict:
            raise OutputExistsError(f"{self.target}: refusing to use this output folder: "
                                    f"{conflict}; give a folder outside the inputs")
        old = None
        if os.path.lexists(self.place):
            # the folder may have changed during the run: check again before replacing
            check_target(self.target, force=self.force, inputs=read)
            old = self.place.parent / f"{self._base}{_OLD}{os.getpid()}"
        with _signals_deferred():   # the two renames are not split by SIGTERM
            if old is not None:
                os.replace(self.place, old)
            try:
                os.replace(self.staging, self.place)
            except BaseException:
                if old is not None:
                    os.replace(old, self.place)
                raise
            # said before the held signals are raised again: a SIGTERM from now on finds
            # the output complete (the CLI then exits 0, see neurotox.cli.main)
            output_committed(f"output folder {shown(self.target)}")
        if old is not None:
            replaced = old.with_name(f"{self._base}{_REPLACED}{os.getpid()}")
            with contextlib.suppress(OSError):   # its new name says: not to be restored
                os.replace(old, replaced)
                old = replaced
            self._remove_old(old)

    @staticmethod
    def _remove_old(old: Path, *, what: str = "the output was written, but the earlier "
                    "output it replaced") -> None:
        """Delete a replaced earlier output; one that cannot be deleted is a warning, no failure.

        The new output is in place by then: the run has succeeded. The folder left
        (``.out.neurotox-replaced-PID``, or ``.out.neurotox-old-PID`` when even that
        rename failed) is removed by a later run on the same target, or by hand; it
        is never put back: :meth:`_restore_leftover` restores only an ``-old-``
        folder, and only when the target is gone.
        """
        reason = "not everything in it could be deleted"
        try:
            _remove_replaced(old)
        except OSError as exc:
            reason = exc.strerror or str(exc)
        if os.path.lexists(old):
            log.warning("%s could not be deleted (%s): it is left as %s; delete it by hand",
                        what, reason, shown(str(old)))

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
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:    # a full disk: write() names no file, the message must
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror, str(tmp)) from None
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
        """Write a DataFrame as ``stem.csv`` and/or ``stem.parquet`` (no index).

        In the CSV, text a spreadsheet would run as a formula starts with ``'``
        (:func:`neurotox.delimited.csv_safe`); the Parquet file keeps it as it is.
        """
        from neurotox.delimited import csv_safe

        out = []
        for fmt in formats:
            if fmt == "csv":
                out.append(self.write_text(f"{stem}.csv", csv_safe(df).to_csv(
                    index=False, lineterminator="\n")))
            elif fmt == "parquet":
                buf = io.BytesIO()
                df.to_parquet(buf, index=False)
                out.append(self.write_bytes(f"{stem}.parquet", buf.getvalue()))
            else:
                raise ValueError(f"unknown table format {fmt!r}")
        return out


def settled_path(path: str | Path) -> Path:
    """``path`` absolute, with ``..`` and the links of its folder resolved; its last name kept.

    ``out/../out`` is ``/abs/out`` and ``out/sub/..`` is ``/abs/out``: a path that
    goes through the folder itself no longer leads anywhere once that folder is
    moved aside, so every rename uses this form. A link as the last name stays a
    link (it is refused as an output, not followed).
    """
    path = Path(path)
    if path.name in ("", "..", "."):
        return Path(os.path.realpath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)
