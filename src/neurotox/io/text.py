"""Sniffing of delimited text exports: encoding, delimiter and truncated lines.

Shared by the zebrafish, rodent and battery readers so that every reader
guesses the same way; the readers record each guess in the run notes.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from neurotox.delimited import (
    DELIMITERS,
    check_distinct_columns,
    check_line_end,
    delimiter_name,
    guess_delimiter,
    guess_encoding,
)
from neurotox.errors import FormatError
from neurotox.files import (
    check_first_line,
    check_magnitudes,
    check_nul,
    check_text,
    check_unpacked,
    limits,
)

__all__ = ["DELIMITERS", "check_distinct_columns", "check_line_end", "check_nul",
           "check_row_lengths",
           "check_text", "delimiter_name", "guess_delimiter", "guess_encoding", "read_gzip"]


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
    """Read a whole text file once: refuse NUL, absurd numbers and too much (gzip) content.

    Readers that hand the file to pandas or pyarrow call this first, so that a NUL
    in line 90 000, a ``1e308`` (:func:`neurotox.files.check_magnitudes`) or a gzip
    bomb is one clear error, not a cut cell, an overflow or a full disk.
    """
    import gzip as gz
    import zlib

    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    cap = limits().max_unpacked_bytes
    seen, line, tail = 0, 1, ""
    try:
        with (gz.open(path, "rb") if gzip else open(path, "rb")) as f:
            check_first_line(f.read(limits().max_line_bytes + 1), path)
            f.seek(0)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                seen += len(chunk)
                if gzip and seen > cap:   # stop reading: "more than the limit"
                    check_unpacked(cap + 1, path, what="the gzip file")
                text = tail + decoder.decode(chunk)   # starts at the start of a line
                at = text.find("\x00")
                if at >= 0:
                    check_nul(text[:at + 1], path, sep=sep, first_line=line)
                cut = text.rfind("\n") + 1             # whole lines only
                check_magnitudes(text[:cut], path, sep=sep, first_line=line)
                line += text.count("\n", 0, cut)
                tail = text[cut:]
            check_magnitudes(tail, path, sep=sep, first_line=line)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"cannot read: {exc}", path=path) from None




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


ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Stream that an OLE2 compound file holds when it wraps an encrypted
#: (password-protected) xlsx workbook, as its directory spells it (UTF-16-LE).
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


#: First bytes of files that cannot be a table → what they are, for messages.
_NOT_TABLES = ((b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"),
               (b"\xff\xd8\xff", "a JPEG image"), (b"II*\x00", "a TIFF image"),
               (b"MM\x00*", "a TIFF image"), (b"GIF8", "a GIF image"),
               (b"\x89HDF", "an HDF5 file"), (b"7z\xbc\xaf", "a 7-Zip archive"),
               (b"Rar!", "a RAR archive"))


def not_a_table(path: Path) -> str | None:
    """What a file is when it cannot hold a table, for the first words of an error; else None.

    Empty, an image, a PDF, an archive other than a workbook (a zip without the
    ``xl/`` part of an xlsx): ``the file is a PDF document, not a table``.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as f:
        head = f.read(8)
    for magic, what in _NOT_TABLES:
        if head.startswith(magic):
            return f"the file is {what}, not a table"
    if head.startswith(ZIP_MAGIC):
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            return None        # the workbook reader says what is damaged
        if not any(n.startswith("xl/") for n in names):
            return "the file is a ZIP archive but not an Excel workbook (no xl/ part)"
    return None


def container(path: Path) -> str:
    """What the first bytes say the file is, whatever it is named.

    ``xlsx`` (a zip), ``ole2`` (an old .xls, or a password-protected workbook),
    ``gzip`` or ``text``.
    """
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC[:4]):
        return "ole2"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return "text"


def check_not_encrypted(path: Path) -> None:
    """FormatError for a password-protected Office workbook.

    Such a workbook is an OLE2 file wrapping the encrypted xlsx: no reader can
    open it, and the engines' own messages mislead.
    """
    if container(path) != "ole2":
        return
    with open(path, "rb") as f:
        data = f.read(limits().max_unpacked_bytes)
    if _ENCRYPTED_STREAM in data:
        raise FormatError("the workbook is password-protected (encrypted); save a copy "
                          "without a password and give that", path=path)
