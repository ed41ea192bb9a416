"""Sniffing of delimited text exports: encoding, delimiter and truncated lines.

Shared by the zebrafish, rodent and battery readers so that every reader
guesses the same way; the readers record each guess in the run notes.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from neurotox.errors import FormatError
from neurotox.files import (
    DELIMITERS,
    check_distinct_columns,
    check_nul,
    check_unpacked,
    guess_delimiter,
    limits,
)

__all__ = ["DELIMITERS", "check_distinct_columns", "check_nul", "check_row_lengths",
           "delimiter_name", "guess_delimiter", "guess_encoding", "read_gzip"]



def read_gzip(path: Path, *, limit: int | None = None) -> bytes:
    """The unpacked bytes of a gzip file, refusing more than the unpacked-size limit.

    With ``limit``, only the first ``limit`` bytes are unpacked (a sample for sniffing).
    """
    import gzip
    import zlib

    cap = limit if limit is not None else limits().max_unpacked_bytes
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(cap + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"cannot decompress as gzip: {exc}", path=path) from None
    if limit is not None:
        return data[:limit]
    check_unpacked(len(data), path, what="the gzip file")
    return data


def scan_text(path: Path, encoding: str, *, gzip: bool = False, sep: str | None = None) -> None:
    """Read a whole text file once: refuse NUL characters and, for gzip, too much content.

    Readers that hand the file to pandas or pyarrow call this first, so that a NUL
    in line 90 000 or a gzip bomb is one clear error, not a cut cell or a full disk.
    """
    import gzip as gz
    import zlib

    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    cap = limits().max_unpacked_bytes
    seen, line = 0, 1
    try:
        with (gz.open(path, "rb") if gzip else open(path, "rb")) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                seen += len(chunk)
                if gzip and seen > cap:   # stop reading: "more than the limit"
                    check_unpacked(cap + 1, path, what="the gzip file")
                text = decoder.decode(chunk)
                at = text.find("\x00")
                if at >= 0:
                    check_nul(text[:at + 1], path, sep=sep, first_line=line)
                line += text.count("\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"cannot read: {exc}", path=path) from None


def guess_encoding(raw: bytes) -> str:
    """Encoding of the first bytes of a text file.

    A byte-order mark decides (UTF-16, UTF-8); without one, many zero bytes in
    odd (even) positions mean UTF-16-LE (-BE); otherwise UTF-8 when the bytes
    decode as UTF-8 (a character cut at the end of the sample is allowed), else
    Windows-1252.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw[1:200:2].count(0) > 50:
        return "utf-16-le"
    if raw[0:200:2].count(0) > 50:
        return "utf-16-be"
    try:
        raw[: max(len(raw) - 4, 0)].decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def delimiter_name(sep: str) -> str:
    """``tab`` or the quoted delimiter, for notes."""
    return "tab" if sep == "\t" else repr(sep)


def check_row_lengths(text: str, sep: str, path: Path, skiprows: int = 0) -> None:
    """FormatError at the first non-blank line with fewer cells than the header line.

    The header is the first non-blank line after ``skiprows`` lines (a
    vendor header block).

    A shorter line is what a truncated or damaged export looks like; pandas
    would fill it with missing values silently.
    """
    width = None
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        for row in rows:
            if rows.line_num <= skiprows or not any(c.strip() for c in row):
                continue
            if width is None:
                width = len(row)
            elif len(row) < width:
                raise FormatError(f"expected {width} cells like the header, found {len(row)} "
                                  "(truncated file or damaged line?)", path=path,
                                  where=f"line {rows.line_num}")
    except csv.Error as exc:
        raise FormatError(f"cannot read as a table: {exc}", path=path,
                          where=f"line {rows.line_num}") from None
