"""Delimited text tables as labs save them: encoding, delimiter, decimal commas, headers.

The lowest layer's part of reading a CSV/TSV export, shared by the study tables
(subjects, layouts, exclusions), the EndpointTable and the family readers in
``neurotox.io`` (``neurotox.io.text`` re-exports the sniffing functions):

* the encoding from the byte-order mark or the byte pattern (UTF-8, UTF-16 as
  Excel's "Unicode text" saves it, else Windows-1252 as Excel's "CSV" saves it
  on a Western-European Windows);
* the delimiter from the header line (``,``, ``;`` or tab);
* decimal commas in ``;``- and tab-delimited files (European locales), with
  dots as thousands separators (``1.234,5``): judged column by column in a table
  (:func:`decimal_commas`), cell by cell in the plate readers' exports
  (:func:`uses_decimal_commas`, refusing a file that mixes both separators);
* header cells that name one column twice, and a header line repeated further
  down (two exports joined), refused with the line named;
* trailing columns with neither a name nor a value (Excel leaves them) dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from neurotox.errors import FormatError, InputError
from neurotox.files import (
    check_first_line,
    check_frame_magnitudes,
    check_nul,
    read_bytes,
    run_note,
)

if TYPE_CHECKING:
    import pandas as pd

DELIMITERS = (",", ";", "\t")

#: A number written with a decimal comma, optionally with dots grouping thousands.
_COMMA_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+([eE][+-]?\d+)?$")
_POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")
#: Columns holding identifiers, never numbers (names compared as letters only).
ID_COLUMNS = {"subject", "subjectid", "animal", "animalid", "group", "groupid", "sample",
              "sampleid", "well", "wellid", "plate", "plateid", "id", "label", "name",
              "batch", "litter", "dam", "cage", "arena", "location"}


#: First characters that make a spreadsheet (Excel, LibreOffice) opening a CSV read the
#: cell as a formula (OWASP "CSV injection"): ``=1+1`` shows 2, ``=HYPERLINK(...)`` a link.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_start(text: str) -> str | None:
    """The first character of ``text`` when a spreadsheet would read it as a formula, else None.

    A plain number (``-5``, ``+1.5e3``) and a lone ``-`` or ``+`` are harmless.
    """
    if not text or text[0] not in FORMULA_START or text in ("-", "+") or \
            _PLAIN_NUMBER.fullmatch(text):
        return None
    return text[0]


def formula_problem(text: str, *, show: bool = True) -> str | None:
    """Why an identifier or label ``text`` is refused, or None (see :func:`formula_start`).

    ``show``: start the message with the text itself (``'=1+1' starts with '='…``).
    """
    first = formula_start(text)
    if first is None:
        return None
    return (f"{f'{text!r} ' if show else ''}starts with {first!r}: a spreadsheet opening the "
            "CSV outputs would run it as a formula; IDs and labels may not start with =, +, - "
            "or @ (unless they are numbers)")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell a spreadsheet would run as a formula prefixed by ``'``.

    Identifiers and labels are refused at input (:func:`formula_problem`); this
    guards free text (notes, reasons, sources) in CSV outputs. Parquet keeps the
    text as it is, and :func:`csv_unescape` takes the ``'`` off again.
    """
    out = df
    for col in df.columns:
        s = df[col]
        if s.dtype != object and str(s.dtype) != "string":
            continue
        try:
            first = s.str[:1]
        except AttributeError:      # no text in the column (lists, mappings)
            continue
        maybe = first.isin(FORMULA_START).to_numpy(bool)
        if not maybe.any():
            continue
        hit = s[maybe].map(lambda v: isinstance(v, str) and formula_start(v) is not None)
        if hit.any():
            out = out.copy() if out is df else out
            idx = hit[hit].index
            out.loc[idx, col] = "'" + s.loc[idx].astype(str)
    return out


def csv_unescape(s: pd.Series) -> pd.Series:
    """Text read from a CSV with the ``'`` of :func:`csv_safe` taken off again."""
    marked = s.str.match(r"'[=+\-@\t\r]", na=False).to_numpy(bool)
    if not marked.any():
        return s
    s = s.copy()
    s[marked] = s[marked].str[1:]
    return s


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


def guess_delimiter(sample: str, candidates: tuple[str, ...] = DELIMITERS) -> str:
    """The candidate occurring most often in ``sample`` (first candidate on ties or none)."""
    counts = {d: sample.count(d) for d in candidates}
    best = max(counts, key=counts.get)
    return best if counts[best] else candidates[0]


def delimiter_name(sep: str) -> str:
    """``tab`` or the quoted delimiter, for notes."""
    return "tab" if sep == "\t" else repr(sep)


def decode(raw: bytes, path: str | Path) -> tuple[str, str]:
    """The text of a whole file (byte-order marks removed) and the encoding used.

    A first line longer than the limit is refused first (:func:`~neurotox.files.check_first_line`).
    """
    check_first_line(raw, path)
    encoding = guess_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode as {encoding} text (byte {exc.start})",
                         path=path) from None
    # a byte-order mark further down is a second export pasted on: never data
    return text.replace("\ufeff", ""), encoding


def check_header_names(header: Sequence[object], path: str | Path, *,
                       line: int = 1) -> None:
    """FormatError when two header cells hold the same name (after trimming blanks).

    Readers would keep one of them silently (pandas renames the second ``x.1``).
    """
    seen: dict[str, int] = {}
    for k, cell in enumerate(header, start=1):
        name = "" if cell is None else str(cell).strip()
        if not name or name.lower() == "nan":
            continue
        if name in seen:
            raise FormatError(f"column {name!r} appears twice in the header (columns "
                              f"{seen[name]} and {k}); keep one of them", path=path,
                              where=f"line {line}")
        seen[name] = k


def check_distinct_columns(header: Sequence[object], names: Sequence[str],
                           path: Path) -> None:
    """FormatError when header cells end up with the same name.

    ``names`` are the reader's names for the ``header`` cells (normalised case
    and spacing, aliases applied); two cells meaning one column (``y`` and
    ``Y``, ``Start`` and ``début``) leave no way to tell which holds the data.
    Empty names are ignored.
    """
    for name in dict.fromkeys(names):
        same = [str(h) for h, n in zip(header, names, strict=True) if n == name]
        if name and len(same) > 1:
            raise FormatError(f"columns {', '.join(map(repr, same))} all mean {name!r}; "
                              "keep one of them", path=path)



def check_repeated_header(df: pd.DataFrame, path: str | Path, *, first_row: int = 2) -> None:
    """FormatError at the first row of ``df`` (strings) that repeats its header.

    Two exports joined into one file carry the second header as a data row.
    ``first_row`` is the row number of the first data row (the header is row 1).
    """
    names = [c for c in df.columns if str(c).strip()]
    if len(names) < 2 or df.empty:
        return
    same = df[names[0]] == names[0]
    for c in names[1:]:
        same &= df[c] == c
    if same.any():
        i = int(same.to_numpy().nonzero()[0][0])
        raise FormatError("this row repeats the header line (two exports joined into "
                          "one file?); remove it, or give the exports as separate files",
                          path=path, where=f"row {first_row + i}")


def looks_like_decimal_comma(cell: str) -> bool:
    """True for ``21,5`` or ``1.234,5`` (a number with a decimal comma)."""
    return bool(_COMMA_NUMBER.match(cell))


def uses_decimal_commas(cells: Iterable[tuple[str, str]], path: str | Path, *,
                        least: int = 1) -> bool:
    """True when a file's numbers use decimal commas (at least ``least`` of them).

    ``cells``: (place, text) of the cells to judge, for files read cell by cell
    (plate-reader exports with blocks and grids; :func:`decimal_commas` judges a
    table column by column). A file mixing ``666,67`` and ``666.67`` is refused
    naming both places: which one is the locale's cannot be told.
    """
    comma, dot, n = None, None, 0
    for place, text in cells:
        text = text.strip().strip('"')
        if _COMMA_NUMBER.match(text):
            n += 1
            comma = comma or (place, text)
        elif dot is None and _POINT_NUMBER.match(text):
            dot = (place, text)
    if comma is None or n < least:
        return False
    if dot is not None:
        raise FormatError(f"mixed decimal separators: {comma[1]!r} has a decimal comma (a "
                          f"European locale) but {dot[1]!r} ({dot[0]}) a decimal point; "
                          "export the file again with one separator", path=path,
                          where=comma[0])
    return True


def with_points(text: str) -> str:
    """A cell's decimal comma as a point (``'1.234,5'`` → ``'1234.5'``); other text as is."""
    cell = text.strip().strip('"')
    if not _COMMA_NUMBER.match(cell):
        return text
    return cell.replace(".", "").replace(",", ".")


def decimal_commas(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Numbers written with a decimal comma (``21,5``, ``1.234,5``) as decimal points.

    For tables of strings from ``;``- or tab-delimited files (a ``,`` file cannot
    hold an unquoted decimal comma). Identifier columns (:data:`ID_COLUMNS`: a
    group ``0,5`` stays as written) and columns that also hold numbers with a
    decimal point (which convention would they follow?) are left alone; vendor
    marks (``OVRFLW``, ``<LLOQ``) beside the numbers do not matter. Returns the
    table and the number of cells changed.
    """
    changed = 0

    def fix(s: pd.Series) -> pd.Series:
        nonlocal changed
        if re.sub(r"[^a-z]", "", str(s.name).lower()) in ID_COLUMNS:
            return s
        text = s.astype(str).str.strip()
        hit = text.str.match(_COMMA_NUMBER)
        if not hit.any() or text.str.match(_POINT_NUMBER).any():
            return s
        changed += int(hit.sum())
        fixed = text[hit].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        return s.mask(hit, fixed)

    return df.apply(fix), changed


def _without_empty_tail(text: str, sep: str) -> str:
    """``text`` less the delimiters that end every non-blank line.

    A sheet saved with formatting far to the right ends each line in thousands of
    delimiters (16 383 for a whole Excel row): columns with neither a name nor a
    value, which cost pandas minutes. Files with quotes are left to pandas (a
    quoted cell may hold a line break).
    """
    if '"' in text or not text.rstrip().endswith(sep):
        return text
    lines = text.splitlines()
    k = min((len(line) - len(line.rstrip(sep)) for line in lines if line.strip(sep + " ")),
            default=0)
    if k == 0:
        return text
    return "\n".join(line[:-k] if line.strip(sep + " ") else line.rstrip(sep)
                     for line in lines) + "\n"


#: How a table saved as plain CSV is read (:meth:`Table.describe`): no note needed.
PLAIN_CSV = "encoding utf-8, delimiter ','"


def dialect_note(name: str, dialect: str) -> list[str]:
    """A run note on how table ``name`` was read, unless it was a plain UTF-8 CSV."""
    return [f"{name} read with {dialect}"] if dialect and dialect != PLAIN_CSV else []


@dataclass
class Table:
    """A delimited text table read by :func:`read_table`: strings, and how it was read."""

    data: pd.DataFrame
    encoding: str
    delimiter: str
    decimal_commas: int = 0
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None
    #: The last line has no line end (said with the dialect; see :func:`check_line_end`).
    open_end: bool = False

    def describe(self) -> str:
        """``encoding utf-8, delimiter ';', decimal commas read as decimal points``."""
        if self.sheet is not None:
            return f"sheet {self.sheet!r} of an xlsx workbook"
        text = f"encoding {self.encoding}, delimiter {delimiter_name(self.delimiter)}"
        if self.decimal_commas:
            text += ", decimal commas read as decimal points"
        if self.open_end:
            text += ", the last line without a line end"
        return text


def read_table(path: str | Path, *, text: str | None = None, encoding: str | None = None,
               sep: str | None = None, skiprows: int = 0) -> Table:
    """A delimited text file as a table of stripped strings (header on the first line).

    ``text``/``encoding``/``sep``: already decoded text and its dialect (else sniffed).
    ``skiprows``: lines above the header (a vendor block). Refused: NUL characters,
    a header naming one column twice, a header line repeated below, rows with more
    cells than the header (``pd.errors.ParserError`` is turned into a FormatError),
    a number of magnitude above :data:`neurotox.files.MAX_VALUE` (``1e308``).
    Columns with an empty name and no value are dropped.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    if text is None:
        raw = read_bytes(path)
        if raw.startswith(b"\xd0\xcf\x11\xe0"):
            raise FormatError("this is an old-format Excel workbook (xls); save it as xlsx or "
                              "CSV", path=path)
        if raw.startswith(b"PK\x03\x04"):
            return _workbook_table(path, skiprows)
        text, encoding = decode(raw, path)
    lines = text.splitlines()[skiprows:]
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if sep is None:
        sep = guess_delimiter(lines[first] if first is not None else "")
    check_nul(text, path, sep=sep)
    text = _without_empty_tail(text, sep)
    lines = text.splitlines()[skiprows:]
    if first is None:
        raise FormatError("file is empty (no header line)", path=path)
    header = next(csv.reader([lines[first]], delimiter=sep))
    check_header_names(header, path, line=skiprows + first + 1)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=True, skiprows=skiprows)
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            want, line, saw = found.groups()
            quote = " (text holding the delimiter must be in double quotes)" \
                if sep in ",;" else ""
            raise FormatError(f"line {line}: expected {want} cells like the header, found "
                              f"{saw}{quote}", path=path) from None
        raise FormatError(f"cannot read as a table: {' '.join(str(exc).split())}",
                          path=path) from None
    unnamed = [c for c in df.columns if str(c).startswith("Unnamed: ")]
    if unnamed:   # empty trailing columns the trim above left (a file with quotes)
        blank = np.char.strip(df[unnamed].to_numpy(dtype=str)) == ""
        df = df.drop(columns=[c for c, b in zip(unnamed, blank.all(axis=0), strict=True) if b])
    df.columns = [str(c).strip() for c in df.columns]
    blank = " " if sep == "\t" else " \t"
    d = re.escape(sep)
    if re.search(rf"[{blank}]({d}|\r?$)|(^|{d})[{blank}]", text, re.M):   # a padded cell
        df = df.apply(lambda s: s.str.strip())
    check_repeated_header(df, path, first_row=skiprows + 2)
    n = 0
    if sep != ",":
        df, n = decimal_commas(df)
    check_frame_magnitudes(df, path, first_row=skiprows + 2)
    return Table(df, encoding or "utf-8", sep, n,
                 open_end=check_line_end(text, path, sep=sep, skiprows=skiprows))


def check_line_end(text: str, path: Path, *, sep: str, skiprows: int = 0) -> bool:
    """Whether the last line has no line end; a warning when its last cell looks cut.

    A cut inside a number (``193.6`` → ``19``) leaves a row as long as the others,
    so the row-length checks cannot tell. Many programs end a table without a line
    end (R, SimBA): that alone is said with the dialect (:meth:`Table.describe`);
    a last cell shorter than every other cell of its column (at least 5 of them)
    is a warning.
    """
    body = text.rstrip(" \t")
    if not body or body[-1] in "\r\n":
        return False
    lines = [ln for ln in body.splitlines()[skiprows:] if ln.strip()]
    rows = [ln.split(sep) for ln in lines[1:]]       # below the header
    last, column = rows[-1] if rows else [], len(rows[-1]) - 1 if rows else -1
    cells = [r[column].strip() for r in rows[:-1] if len(r) > column]
    others = [c for c in cells if c]
    end = last[-1].strip() if last else ""
    # an empty last cell is a cut only in a column that is never empty otherwise
    if len(others) >= 5 and len(end) < min(map(len, others)) and \
            (bool(end) or len(others) == len(cells)):
        run_note(f"warning: {path.name}: the last line (line {body.count(chr(10)) + 1}) has "
                 f"no line end and its last value {end!r} is shorter than every other in its "
                 "column: the file looks cut (a copy or transfer stopped); check it against "
                 "the original export")
    return True


def _workbook_table(path: Path, skiprows: int = 0) -> Table:
    """The one sheet of an xlsx workbook holding values, read as a CSV of it would be.

    Cells are written as :func:`_cell_text` gives them. A workbook with values
    on two sheets is an error, since which one is meant cannot be known.
    """
    from neurotox.workbook import check_xlsx, sheet_rows

    check_xlsx(path)
    sheets = sheet_rows(path)
    filled = [name for name, rows in sheets.items() if rows]
    if not filled:
        raise FormatError("the workbook holds no values", path=path)
    if len(filled) > 1:
        raise FormatError(f"the workbook has values on sheets {filled!r}; keep the table on "
                          "one sheet (or save that sheet as CSV)", path=path)
    sheet = filled[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for r, row in enumerate(sheets[sheet], start=1):
        cells = [_cell_text(value, f"sheet {sheet!r}, row {r}, column {c}", path)
                 for c, value in enumerate(row, start=1)]
        if any(cells):
            writer.writerow(cells)
        else:
            out.write("\n")      # a blank row is a blank line (not a quoted empty cell)
    table = read_table(path, text=out.getvalue(), encoding="utf-8", sep=",", skiprows=skiprows)
    table.sheet = sheet
    return table


def _cell_text(value: object, where: str, path: Path) -> str:
    """A workbook cell as its CSV text: whole numbers without ``.0``, dates as ISO dates.

    A TRUE/FALSE cell is refused: no table column here takes one.
    """
    import datetime as dt

    from neurotox.workbook import pandas_value

    if isinstance(value, bool):
        raise FormatError(f"{where}: a TRUE/FALSE cell; write the value as text or a number",
                          path=path)
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(pandas_value(value))
