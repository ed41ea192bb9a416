"""Exception types of neurotox.

The library raises these; the CLI catches :class:`NeurotoxError` once, at its
boundary, prints the one-line message and exits with status 2.

Every message names the thing (file, row, column or key), what was expected
and what was found, so that a user can fix the input without a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path


class NeurotoxError(Exception):
    """Base class of every error neurotox raises on purpose."""


class InputError(NeurotoxError, ValueError):
    """Bad user input: a file, a column, a key or a value that cannot be used.

    Parameters
    ----------
    message
        What was expected and what was found.
    path
        The file the problem is in, if any.
    where
        Location inside the file: ``"row 12, column 'dose'"``, ``"key 'groups[1].id'"``.

    """

    def __init__(self, message: str, *, path: str | Path | None = None, where: str | None = None):
        self.path = None if path is None else str(path)
        self.where = where
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        prefix = ", ".join(p for p in (self.path, self.where) if p)
        return f"{prefix}: {self.detail}" if prefix else self.detail


class FormatError(InputError):
    """A file is not in the layout its reader expects."""


class ValidationError(InputError):
    """A table or model failed validation (EndpointTable, study, protocol)."""


class OutputExistsError(NeurotoxError):
    """An output already exists and ``--force`` was not given."""


def shown(name: object) -> str:
    r"""A name for a one-line output: as is, or quoted as Python writes a string.

    Quoted when it holds a line break or another control character (``'out/a\\nb'``),
    or is empty (``''``), so that the line stays one line a pipeline can read.
    """
    text = str(name)
    return text if text.isprintable() and text else repr(text)


def quoted(items: Iterable[object], *, limit: int | None = None) -> str:
    """Return the sorted items quoted and comma-separated, for error messages.

    With ``limit``, at most that many are named, followed by ``and N more``.
    """
    names = sorted({str(i) for i in items})
    more = len(names) - limit if limit is not None and len(names) > limit else 0
    text = ", ".join(repr(n) for n in names[:len(names) - more]) or "nothing"
    return f"{text} and {more} more" if more else text


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely meant, or None when none is close.

    The same apart from case, the same number (``7`` for ``007``, ``rat2`` for
    ``rat02``), else the closest spelling (difflib), as typed and then ignoring
    case (``dmso2`` → ``DMSO``).
    """
    options = [str(c) for c in choices]
    key = word.strip().lower()
    for c in options:
        if c.lower() == key or (c.isdigit() and key.isdigit() and int(c) == int(key)):
            return c
    numbers = [c for c in options if _unpadded(c) == _unpadded(key)]
    if len(numbers) == 1:   # 'rat2' for 'rat02', not the as close 'rat32'
        return numbers[0]
    close = difflib.get_close_matches(word, options, n=1) or \
        difflib.get_close_matches(key, [c.lower() for c in options], n=1)
    if not close:
        return None
    return next((c for c in options if c == close[0]), None) or \
        next(c for c in options if c.lower() == close[0])


def _unpadded(word: str) -> str:
    """``word`` lower-cased with the leading zeros of its numbers dropped (``rat02`` → ``rat2``)."""
    return re.sub(r"\d+", lambda m: str(int(m.group())), word.strip().lower())


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice (:func:`closest`), else ``""``."""
    hit = closest(word, choices)
    return f" (did you mean {hit!r}?)" if hit is not None else ""
