"""What every input file must be before it is opened: a regular file within the size limits.

A FIFO, socket or device given as an input would block a reader or never end;
a file of many gigabytes, or a small zip that unpacks to gigabytes (an xlsx
workbook is a zip), would exhaust memory or time. Readers call
:func:`check_input` before opening a file and :func:`check_unpacked` before
unpacking container content, so that such inputs fail at once with one line
naming the file.

The limits do not depend on any protocol. Their defaults
(:data:`DEFAULT_MAX_FILE_BYTES`, :data:`DEFAULT_MAX_UNPACKED_BYTES`) can be
changed with the environment variables ``NEUROTOX_MAX_FILE_SIZE`` and
``NEUROTOX_MAX_UNPACKED_SIZE`` or the global command-line options
``--max-file-size`` and ``--max-unpacked-size`` (sizes such as ``500M`` or
``4G``).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import fnmatch
import logging
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurotox.errors import FormatError, InputError

#: Largest input file read (bytes): tables, images, workbooks, YAML.
DEFAULT_MAX_FILE_BYTES = 4 << 30
#: Largest content unpacked from one container file (the sheets and strings of an
#: xlsx workbook, a gzip-compressed export).
DEFAULT_MAX_UNPACKED_BYTES = 512 << 20
#: Largest YAML file (study, protocol): these are hand-written settings.
MAX_YAML_BYTES = 16 << 20
#: Longest first line (the header) of a text table: a table export's header names its
#: columns; a file with no line break in its first MiB is no table (or one line of data),
#: refused before it is split into millions of cells.
DEFAULT_MAX_LINE_BYTES = 1 << 20

ENV_MAX_FILE = "NEUROTOX_MAX_FILE_SIZE"
ENV_MAX_UNPACKED = "NEUROTOX_MAX_UNPACKED_SIZE"

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """Size limits of input files (bytes)."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES


_LIMITS: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("neurotox_limits",
                                                                       default=None)
#: Files this run writes outside its output folder (the log file): never read as inputs.
_RESERVED: contextvars.ContextVar[tuple[tuple[Path, str], ...]] = contextvars.ContextVar(
    "neurotox_reserved", default=())
#: The logger of run notes (:func:`run_note`) and warnings (:func:`warn_or_refuse`).
_NOTES = logging.getLogger("neurotox.notes")
#: ``neurotox --warnings-as-errors``: a warning note fails the run (unattended pipelines
#: that judge a run by its exit code).
WARNINGS_AS_ERRORS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "neurotox_warnings_as_errors", default=False)
#: Where a run note goes (set by the output folder being written, and in a worker
#: process by the task that runs there); without one it is logged (see :func:`run_note`).
NOTE_SINK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "neurotox_note_sink", default=None)
#: Notes of the running command taken before its output folder was opened (a table read
#: to check it first): the folder takes them into its manifest (:func:`take_pending_notes`).
_PENDING: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "neurotox_pending_notes", default=None)
#: What the running command has completed for good (an output folder renamed into place,
#: a study stored in the historical control database), described for a message.
_COMMITTED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "neurotox_committed", default=None)
#: Every input file the running command has met, as it was before anything read it
#: (:func:`register_input`): the manifest records these bytes, and refuses a file that
#: no longer holds them.
_SEEN: contextvars.ContextVar[dict[Path, FileState] | None] = contextvars.ContextVar(
    "neurotox_inputs_seen", default=None)
#: The file patterns (``entries/**/*.csv``) the running command's study reads its inputs
#: by, with the folder they are relative to and where they are given: an output folder
#: whose files a pattern would match is refused (:func:`pattern_conflict`).
_PATTERNS: contextvars.ContextVar[list[tuple[Path, str, str]] | None] = \
    contextvars.ContextVar("neurotox_input_patterns", default=None)


def warn_or_refuse(message: str) -> None:
    """Log a warning, or under ``neurotox --warnings-as-errors`` refuse with it (exit 2)."""
    if WARNINGS_AS_ERRORS.get():
        raise InputError(f"{message} (a warning, an error under --warnings-as-errors)")
    _NOTES.warning(message)


def keyed_note(key: str, note: str) -> str:
    """``note`` about ``key`` (an assay entry, a file, an analyte): ``key: note``.

    A ``warning:`` note stays a warning: ``warning: key: …``.
    """
    if note.startswith("warning: "):
        return f"warning: {key}: {note.removeprefix('warning: ')}"
    return f"{key}: {note}"


def log_note(message: str) -> None:
    """Say a run note: ``warning: …`` as a warning (:func:`warn_or_refuse`), else as info."""
    if message.startswith("warning: "):
        warn_or_refuse(message.removeprefix("warning: "))
    else:
        _NOTES.info(message)


def run_note(message: str) -> None:
    """A note (``warning: …`` for a warning) of the run, wherever it is taken.

    The one way notes reach a run: inside an output folder it goes to its
    manifest; before the folder is opened it is said now (a warning fails the run
    under ``--warnings-as-errors`` the same way) and kept for the folder; in a
    worker process it travels back with the task's result. Library use without
    any of these: the note is only logged.
    """
    sink = NOTE_SINK.get()
    if sink is not None:
        sink(message)
        return
    pending = _PENDING.get()
    if pending is not None and message in pending:
        return                      # said once per run
    log_note(message)
    if pending is not None:
        pending.append(message)


@contextlib.contextmanager
def command_scope() -> Iterator[None]:
    """The scope of one command of the CLI.

    Its notes taken before its output folder opens are kept (:func:`take_pending_notes`),
    what it completes for good is listed (:func:`committed_outputs`), the input files it
    meets are hashed before they are read (:func:`register_input`).
    """
    notes, done, seen = _PENDING.set([]), _COMMITTED.set([]), _SEEN.set({})
    patterns = _PATTERNS.set([])
    try:
        yield
    finally:
        _PATTERNS.reset(patterns)
        _SEEN.reset(seen)
        _COMMITTED.reset(done)
        _PENDING.reset(notes)


def output_committed(what: str) -> None:
    """Say that the command has completed ``what`` for good (``output folder out``)."""
    done = _COMMITTED.get()
    if done is not None:
        done.append(what)


def committed_outputs() -> list[str]:
    """What the running command has completed for good (see :func:`command_scope`)."""
    return list(_COMMITTED.get() or [])


def take_pending_notes() -> list[str]:
    """The notes kept by :func:`command_scope` so far (said already), handed over once."""
    pending = _PENDING.get()
    if not pending:
        return []
    taken = list(pending)
    pending.clear()
    return taken


def parse_size(text: str, *, what: str) -> int:
    """Bytes of a size such as ``2048``, ``500M``, ``4G`` or ``1.5GiB``.

    Raises
    ------
    InputError
        Not a size, or zero.

    """
    m = _SIZE.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"expected a size such as 500M or 4G, found {text!r}", where=what)
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def limits() -> Limits:
    """The limits in force: set by :func:`set_limits`, else the environment, else defaults."""
    set_ = _LIMITS.get()
    if set_ is not None:
        return set_
    env = {k: os.environ.get(k, "").strip() for k in (ENV_MAX_FILE, ENV_MAX_UNPACKED)}
    return Limits(
        max_file_bytes=parse_size(env[ENV_MAX_FILE], what=ENV_MAX_FILE)
        if env[ENV_MAX_FILE] else DEFAULT_MAX_FILE_BYTES,
        max_unpacked_bytes=parse_size(env[ENV_MAX_UNPACKED], what=ENV_MAX_UNPACKED)
        if env[ENV_MAX_UNPACKED] else DEFAULT_MAX_UNPACKED_BYTES)


def set_limits(*, max_file_bytes: int | None = None, max_unpacked_bytes: int | None = None,
               max_line_bytes: int | None = None) -> contextvars.Token:
    """Override limits (``None`` keeps the current value); returns a token to reset."""
    now = limits()
    return _LIMITS.set(Limits(max_file_bytes or now.max_file_bytes,
                              max_unpacked_bytes or now.max_unpacked_bytes,
                              max_line_bytes or now.max_line_bytes))


def reset_limits(token: contextvars.Token) -> None:
    """Undo :func:`set_limits`."""
    _LIMITS.reset(token)


def reserve(path: str | Path, what: str) -> contextvars.Token:
    """Mark ``path`` (the log file) as written by this run: :func:`check_input` refuses it."""
    return _RESERVED.set((*_RESERVED.get(), (Path(path), what)))


def unreserve(token: contextvars.Token) -> None:
    """Undo :func:`reserve`."""
    _RESERVED.reset(token)


def _reserved(path: Path) -> str | None:
    for p, what in _RESERVED.get():
        try:
            if p.exists() and os.path.samefile(p, path):
                return what
        except OSError:
            continue
    return None


def human_size(n: int) -> str:
    """``1.5 GiB``-style size for messages."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


_KIND = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
         (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a non-regular ``st_mode`` is, for messages (``a FIFO (named pipe)`` ...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return next((name for test, name in _KIND if test(mode)), "not a regular file")


def check_input(path: str | Path, *, max_bytes: int | None = None) -> os.stat_result:
    """Refuse an input that is missing, not a regular file, or larger than the limit.

    Symbolic links are followed (a link to a regular file is fine). Nothing is
    opened, so a FIFO or device fails at once instead of blocking.

    Parameters
    ----------
    path
        The input file.
    max_bytes
        Limit for this kind of file (default: :func:`limits` ``.max_file_bytes``).

    Returns
    -------
    os.stat_result
        The file's status.

    Raises
    ------
    InputError
        Naming the file and what it is.

    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("expected a file, found a folder", path=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"expected a regular file, found {file_kind(st.st_mode)}", path=path)
    reserved = _reserved(path)
    if reserved:
        raise InputError(f"this is {reserved} of this run, not an input", path=path)
    limit = max_bytes if max_bytes is not None else limits().max_file_bytes
    if st.st_size > limit:
        hint = "" if max_bytes is not None else (f" (raise it with --max-file-size or "
                                                 f"{ENV_MAX_FILE})")
        raise InputError(f"file is {human_size(st.st_size)}, more than the limit of "
                         f"{human_size(limit)}{hint}", path=path)
    register_input(path)
    return st


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class FileState:
    """An input file's size, modification time (ns), identity and SHA-256 at one moment."""

    size: int
    mtime_ns: int
    sha256: str
    inode: tuple[int, int] = (0, 0)

    @classmethod
    def of(cls, path: str | Path) -> FileState:
        """The file as it is now (stat taken before hashing: a write meanwhile shows)."""
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, sha256_file(path), (st.st_dev, st.st_ino))

    def unchanged(self, path: str | Path) -> bool:
        """The file is still this one: same size, modification time and file identity.

        Read from the file system alone, without reading the bytes again: an
        edit moves the modification time, and a replacement (an editor's save, a
        LIMS re-export moved into place, even with the old size and time) is a
        new file.
        """
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns, (st.st_dev, st.st_ino)) == \
            (self.size, self.mtime_ns, self.inode)


def register_input(path: str | Path) -> FileState | None:
    """The state of an input file when the running command first met it.

    Called before a file is read (by :func:`check_input`, for every file a study
    names when it is loaded, for the inputs of an output folder): the first call
    in a command (:func:`command_scope`) hashes the file, later calls return that
    state. None outside a command, or when the path is no regular file.
    """
    seen = _SEEN.get()
    if seen is None:
        return None
    key = Path(path).resolve()
    if key not in seen:
        if not key.is_file():
            return None
        try:
            seen[key] = FileState.of(key)
        except OSError:
            return None
    return seen[key]


def register_inputs(paths: Iterable[str | Path]) -> None:
    """:func:`register_input` for files, and for the regular files below folders."""
    if _SEEN.get() is None:
        return
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for top, dirs, names in os.walk(p):
                dirs.sort()
                for name in sorted(names):
                    register_input(Path(top) / name)
        else:
            register_input(p)


def register_pattern(folder: str | Path, pattern: str, where: str) -> None:
    """Remember that the running command reads the files ``pattern`` matches below ``folder``.

    ``where`` names the pattern for a message (the study file and key). Outside a
    command (:func:`command_scope`) nothing is kept.
    """
    kept = _PATTERNS.get()
    if kept is not None and (Path(folder), pattern, where) not in kept:
        kept.append((Path(folder), pattern, where))


def pattern_reaches(folder: str | Path, pattern: str, target: str | Path) -> bool:
    """True when ``pattern`` (relative to ``folder``) would match ``target`` or files in it.

    Part by part: each name of ``target`` below ``folder`` must match the pattern's
    part at the same place; a ``**`` part matches any depth, so every folder below
    the parts before it is reached. A target outside ``folder`` is never reached.
    """
    parts = [p for p in Path(pattern).parts if p != "."]
    for t in path_forms(target):
        for f in path_forms(folder):
            if t.is_relative_to(f) and _reaches(parts, t.relative_to(f).parts):
                return True
    return False


def _reaches(pattern: list[str], names: tuple[str, ...]) -> bool:
    for k, name in enumerate(names):
        if k >= len(pattern):
            return False
        if pattern[k] == "**":
            return True
        if not fnmatch.fnmatchcase(name, pattern[k]):
            return False
    return True


def pattern_conflict(target: str | Path) -> str | None:
    """Why the running command's input patterns forbid the output folder ``target``, or None."""
    for folder, pattern, where in _PATTERNS.get() or ():
        if pattern_reaches(folder, pattern, target):
            return (f"the input pattern {pattern!r} ({where}) would match the files written "
                    "into it, and the next run would read them as inputs")
    return None


_MANIFEST_HEAD = re.compile(rb'^\s*\{\s*"format"\s*:\s*"neurotox-manifest/')


def is_output_folder(folder: str | Path) -> bool:
    """True when ``folder`` holds a neurotox ``manifest.json`` (an earlier run's output).

    Only the start of the file is read: neurotox writes the ``format`` key first.
    """
    manifest = Path(folder) / "manifest.json"
    try:
        if not manifest.is_file():
            return False
        with open(manifest, "rb") as fh:
            return bool(_MANIFEST_HEAD.match(fh.read(4096)))
    except OSError:
        return False


_LINE_BREAK = re.compile(rb"[\r\n]")


def check_first_line(head: bytes, path: str | Path) -> None:
    """Refuse a text table whose first line is longer than the limit (:func:`limits`).

    ``head``: the whole file, or at least its first limit + 1 bytes (of its unpacked
    text). Looked for before the text is decoded and split: a header of 10^8 cells
    would take minutes and gigabytes before any check on its names.
    """
    cap = limits().max_line_bytes
    if len(head) > cap and _LINE_BREAK.search(head, 0, cap + 1) is None:
        raise FormatError(f"the first line (the header) is longer than {human_size(cap)} "
                          f"(no line break in the first {human_size(cap)}); a table export's "
                          "header names its columns: is this a table?", path=path,
                          where="line 1")


def check_unpacked(total: int, path: str | Path, *, what: str = "content") -> None:
    """Refuse a container whose unpacked ``what`` (bytes ``total``) exceeds the limit."""
    limit = limits().max_unpacked_bytes
    if total > limit:
        size = human_size(total) + ", more than" if total > limit + 1 else "more than"
        raise InputError(f"{what} unpacks to {size} the limit of {human_size(limit)} "
                         f"(raise it with --max-unpacked-size or {ENV_MAX_UNPACKED})",
                         path=path)


def read_bytes(path: str | Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of an input file, after :func:`check_input`."""
    check_input(path, max_bytes=max_bytes)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None


def check_nul(text: str, path: str | Path, *, sep: str | None = None,
              partial: bool = False, first_line: int = 1) -> None:
    """Refuse text holding a NUL character, naming its line (and cell, given ``sep``).

    A NUL byte in a text export means a damaged file (or a binary one); CSV
    parsers cut the cell there silently. ``partial`` marks a sample of the file
    (the last line may be cut), which changes nothing but the docs;
    ``first_line`` is the line number ``text`` starts at.
    """
    at = text.find("\x00")
    if at < 0:
        return
    line_start = text.rfind("\n", 0, at) + 1
    line = text.count("\n", 0, at) + first_line
    where = f"line {line}"
    if sep and (line_start or first_line == 1):
        where += f", cell {text.count(sep, line_start, at) + 1}"
    raise InputError("NUL character in a text file (damaged or not a text export?)",
                     path=path, where=where)


#: Largest magnitude of a number read from any input: squares and sums of squares in
#: the statistics must stay finite in double precision (no assay measures anything
#: near this; such a number is a unit, export or typing error).
MAX_VALUE = 1e100

#: Where a number of magnitude above :data:`MAX_VALUE` may be in text: an exponent
#: of 100 or more, or 101 digits in a row. Two simple patterns scan a large export
#: several times faster than one with alternatives (about 40 MB/s together).
_EXPONENT = re.compile(r"[eE]\+?0*[1-9]\d\d")
_LONG_DIGITS = re.compile(r"[0-9]{101}")
_BIG_HINT = re.compile(r"[\d.][eE]\+?\d{2}|\d{101}")   # for single cells
#: A cell that is one number (a decimal comma allowed).
_NUMBER_CELL = re.compile(r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?")
#: Cell separators when the delimiter is not known.
_ANY_SEP = re.compile(r"[,;\t ]")


def too_large_message(found: object) -> str:
    """The one message for a number beyond :data:`MAX_VALUE` (readers and EndpointTable)."""
    return (f"value {found!r} is too large to analyse (magnitude above {MAX_VALUE:g}; "
            "a unit or export error?)")


def check_magnitudes(text: str, path: str | Path, *, sep: str | None = None,
                     first_line: int = 1) -> None:
    """Refuse text holding a number of magnitude above :data:`MAX_VALUE`, naming its line.

    Readers call it on every text they parse (through :func:`check_text`), so that
    ``1e308`` in a raw file is one clear error before any computation, not an
    overflow to infinity in a sum of squares. A number inside a word (``A1E300``)
    is not one. Where numbers may be is found by :func:`_hints`.
    """
    for at_hint in _hints(text):
        line_start = text.rfind("\n", 0, at_hint) + 1
        line_end = text.find("\n", at_hint)
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        at = at_hint - line_start
        bounds = [m.start() for m in (re.finditer(re.escape(sep), line) if sep
                                      else _ANY_SEP.finditer(line))]
        left = max([b for b in bounds if b < at], default=-1)
        cell = line[left + 1:min([b for b in bounds if b > at], default=len(line))]
        cell = cell.strip().strip('"').strip()
        if not _NUMBER_CELL.fullmatch(cell):
            continue
        if abs(float(cell.replace(",", "."))) > MAX_VALUE:
            where = f"line {text.count(chr(10), 0, at_hint) + first_line}"
            if sep and (line_start or first_line == 1):
                where += f", cell {line.count(sep, 0, left + 1) + 1}"
            raise InputError(too_large_message(cell), path=path, where=where)


def _hints(text: str) -> list[int]:
    """Positions in ``text`` where a number above :data:`MAX_VALUE` may be, in order.

    Exponents of 100 or more after a digit or point, and runs of 101 digits. A
    long mantissa with a two-digit exponent (``1000e98``) is not looked for: it
    cannot overflow a sum of squares, and the EndpointTable refuses the value.
    """
    out = [m.start() for m in _LONG_DIGITS.finditer(text)]
    out += [m.start() - 1 for m in _EXPONENT.finditer(text)
            if m.start() and (text[m.start() - 1].isdigit() or text[m.start() - 1] == ".")]
    return sorted(out)


def check_text(text: str, path: str | Path, *, sep: str | None = None,
               first_line: int = 1) -> None:
    """What every text a reader parses must be: no NUL character, no absurd number.

    :func:`check_nul` and :func:`check_magnitudes`.
    """
    check_nul(text, path, sep=sep, first_line=first_line)
    check_magnitudes(text, path, sep=sep, first_line=first_line)


def check_cell_magnitude(value: object, path: str | Path, where: str) -> None:
    """Refuse one cell (a number, or text that is one number) beyond :data:`MAX_VALUE`."""
    if isinstance(value, str):
        cell = value.strip()
        big = bool(_BIG_HINT.search(cell)) and bool(_NUMBER_CELL.fullmatch(cell)) \
            and abs(float(cell.replace(",", "."))) > MAX_VALUE
    else:
        big = isinstance(value, int | float) and not isinstance(value, bool) \
            and abs(value) > MAX_VALUE
    if big:
        raise InputError(too_large_message(value), path=path, where=where)


def check_frame_magnitudes(df: object, path: str | Path, *, first_row: int = 2,
                           sheet: object = None) -> None:
    """Refuse a table (text or numbers) holding a number beyond :data:`MAX_VALUE`.

    Names the row (``first_row`` is the file row of the first table row) and the
    column, as the EndpointTable does; ``sheet`` a workbook's sheet. ``df`` may
    also be a dict of sheet name to table (``pandas.read_excel(sheet_name=None)``).
    """
    if isinstance(df, dict):
        for name, frame in df.items():
            check_frame_magnitudes(frame, path, first_row=first_row, sheet=name)
        return
    prefix = f"sheet {sheet!r}, " if sheet is not None else ""
    for col in df.columns:  # type: ignore[attr-defined]
        text = df[col].astype(str)  # type: ignore[index]
        hits = text.str.contains(_BIG_HINT)
        for i in hits.to_numpy().nonzero()[0]:
            check_cell_magnitude(text.iloc[i], path,
                                 f"{prefix}row {i + first_row}, column {col!r}")


def check_array_magnitude(values: object, path: str | Path, *, where: str = "",
                          columns: object = None, first_row: int = 1) -> None:
    """Refuse numbers (HDF5, SAS transport, a parsed frame) beyond :data:`MAX_VALUE`.

    The first is named by row (``first_row`` for index 0) and, for a 2-D array, by
    its column (``columns[j]``, else the column number); ``where`` goes before.
    """
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu" or arr.size == 0:
        return
    values = arr.astype(float)
    with np.errstate(invalid="ignore"):
        big = np.isfinite(values) & (np.abs(values) > MAX_VALUE)   # inf: the reader's case
    if not big.any():
        return
    at = np.unravel_index(int(np.flatnonzero(big)[0]), arr.shape)
    place = [f"row {at[0] + first_row}"]
    if arr.ndim > 1:
        col = columns[at[1]] if columns is not None else at[1] + 1  # type: ignore[index]
        place.append(f"column {col!r}")
    raise InputError(too_large_message(arr[at].item()), path=path,
                     where=", ".join([where, *place] if where else place))


def check_hdf5(path: str | Path) -> None:
    """Refuse an HDF5 file whose datasets hold more than the unpacked-size limit.

    Compressed datasets can declare gigabytes in a small file; readers load them whole.
    """
    import h5py

    total = 0

    def add(_name: str, obj: object) -> None:
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            total += int(obj.size or 0) * obj.dtype.itemsize

    try:
        with h5py.File(path, "r") as f:
            f.visititems(add)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError):
        return   # not readable as HDF5: the reader names the problem
    check_unpacked(total, path, what="the HDF5 file")


def same_content(paths: list[Path]) -> tuple[Path, Path] | None:
    """The first two regular files of ``paths`` holding the same bytes, or None.

    A copy or an identical re-export of an input given beside it would enter
    every animal, well or plate twice (a plate named after its file even counts
    as a second plate). Only files of equal size are hashed (SHA-256).
    """
    import hashlib

    by_size: dict[int, list[Path]] = {}
    for p in paths:
        if Path(p).is_file():
            by_size.setdefault(Path(p).stat().st_size, []).append(Path(p))
    seen: dict[bytes, Path] = {}
    for group in by_size.values():
        if len(group) < 2:
            continue
        for p in group:
            with open(p, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").digest()
            first = seen.setdefault(digest, p)
            if first != p:
                return first, p
    return None


def folder_name(path: str | Path) -> str:
    """The name of a folder as its user calls it, also when given as ``.``, ``./`` or ``..``.

    ``Path(".").name`` is empty; the absolute path (links not followed) names the
    folder the user is in. Empty only for the file-system root.
    """
    return Path(os.path.abspath(path)).name


def path_forms(path: str | Path) -> list[Path]:
    """The absolute path and, when different, the path with links resolved."""
    absolute = Path(os.path.abspath(path))
    real = Path(path).resolve()
    return [absolute] if real == absolute else [absolute, real]


def lies_within(path: str | Path, folder: str | Path) -> bool:
    """True when ``path`` is ``folder`` or below it (as given or with links resolved)."""
    return any(p == f or p.is_relative_to(f) for p in path_forms(path)
               for f in path_forms(folder))


class _UTCFormatter(logging.Formatter):
    """Log lines stamped in UTC, ISO 8601 (``2026-12-05T09:25:53.850Z``), like the manifest."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class LogFileHandler(logging.FileHandler):
    """A log file that fails the run when it cannot be written.

    Python's own handlers print a traceback ("--- Logging error ---") and go on
    when the disk is full or the file size limit is reached, leaving a log with
    lines missing. This one raises the :class:`OSError`, naming the log file,
    from the logging call, so that the CLI reports it in one line and the output
    folder being written is removed. Lines are stamped in UTC (ISO 8601, ``Z``),
    whatever the machine's time zone, like the manifest and run ID.
    """

    def __init__(self, filename: str | Path, **kwargs: Any) -> None:
        super().__init__(filename, **kwargs)
        self.setFormatter(_UTCFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """Raise the write error (naming the file) instead of printing a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            code = exc.errno or errno.EIO
            raise OSError(code, exc.strerror or os.strerror(code), self.baseFilename) from None
        super().handleError(record)


def file_labels(paths: Iterable[Path]) -> dict[Path, str]:
    """The shortest path that tells each file apart from the others.

    The file name, or as many of its folders in front of it as distinguish it
    from same-named files (``a/plate.csv`` and ``b/plate.csv``).
    """
    paths = list(dict.fromkeys(Path(p) for p in paths))
    parts = {p: Path(os.path.abspath(p)).parts for p in paths}
    out = {}
    for p in paths:
        n = 1
        while n < len(parts[p]) and any(q != p and parts[q][-n:] == parts[p][-n:]
                                        for q in paths):
            n += 1
        out[p] = "/".join(parts[p][-n:])
    return out
