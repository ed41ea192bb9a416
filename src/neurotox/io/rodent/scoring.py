"""Hand-scored maze sheets: one arm-entry sequence per animal (Y-maze, T-maze).

Layout (csv/txt or xlsx, first sheet) as labs keep them: banner rows (a title,
the scorer, blank lines) above a header row, then one row per animal. The header
row is the first of the first :data:`MAX_BANNER_ROWS` rows holding a subject
column (``Subject``, ``Subject #``, ``Animal``, ``Animal ID``, ``Rat``,
``Mouse``, ``ID`` ...) and an arm-sequence column (``Arm entries``,
``Sequence``, ``Arm sequence``, ``Entries``, ``Arms``). Optional columns:
``Group``/``Treatment``, ``Sex``, a condition (``Condition``, ``Session``,
``Day``) and ``Notes``/``Comments``; other columns (dates, initials) are ignored.

A sequence is one string per animal, case-insensitive: ``ABCACB`` (one arm per
character) or labels separated by spaces, commas, semicolons, dashes, slashes or
arrows (``A B C``, ``l-r-l``, ``left, start, right``). A separated token of
several characters is one arm only when it is a spelled-out arm name
(:data:`ARM_WORDS`); otherwise it is read character by character, so
``ABCAC BCAB`` (grouped for reading) is nine entries. Labels are upper-cased.

Subject IDs typed as numbers in a workbook (``10.11``) are read as the shortest
text that gives the number back (``10.11``; a number typed ``10.10`` reads
``10.1``); such IDs, and text IDs that are numbers written with binary noise
(``10.119999999999999``, as R writes 10.12), are listed in
``meta['numeric_subjects']`` so that the assay can match them to the study's
subjects by value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.io.rodent.base import (
    ENTRY_COLUMNS,
    SUBJECT_ALIASES,
    Reader,
    RodentData,
    is_excel,
    raw_rows,
    register_reader,
)

#: Rows searched for the header row (banner rows above it are skipped).
MAX_BANNER_ROWS = 30

#: Spelled-out arm names kept whole in a separated sequence.
ARM_WORDS = frozenset({"left", "right", "start", "top", "bottom", "centre", "center", "novel",
                       "familiar", "other", "north", "south", "east", "west"})

SHEET_COLUMNS = ("subject", "condition", "group", "sex", "notes", "sequence", "source",
                 "sheet")

_SEQUENCE = ("arm_entries", "arm_entry", "arm_entry_sequence_string", "arm_sequence",
             "sequence", "entry_sequence", "sequence_of_arm_entries", "entries", "arms",
             "arm_entries_sequence")
_GROUP = ("group", "treatment", "dose_group")
_SEX = ("sex", "gender")
_CONDITION = ("condition", "session", "day", "timepoint")
_NOTES = ("notes", "note", "comments", "comment", "remarks")

#: Separators: blanks, punctuation, dashes and arrows (``->``, ``→``, ``⇒``, ``»`` ...).
_SEPARATORS = re.compile(r"[\s,;/\-\u2010-\u2015\u2212>|\u2190-\u21ff\u27f5-\u27ff"
                         r"\u2794-\u27bf\u00bb\u203a]+")
_TOKEN = re.compile(r"^[A-Za-z0-9]+$")


def _key(cell: Any) -> str:
    """Header cell as compared with the aliases: lower case, non-alphanumerics → ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", str(cell).lower()).strip("_") if cell is not None else ""


def _cell_text(value: Any) -> tuple[str, bool]:
    """(text, typed as a number) of a cell: whole floats as integers, others shortest."""
    if isinstance(value, bool) or value is None:
        return ("" if value is None else str(value)), False
    if isinstance(value, int | np.integer):
        return str(int(value)), True
    if isinstance(value, float | np.floating):
        v = float(value)
        return (str(int(v)) if v.is_integer() else repr(v)), True
    text = str(value).strip()
    return text, _float_noise(text)


def _float_noise(text: str) -> bool:
    """True for a number written with binary noise (``10.119999999999999`` for 10.12)."""
    try:
        v = float(text)
    except ValueError:
        return False
    return np.isfinite(v) and len(repr(v)) < len(text) and "e" not in text.lower()


def _find(keys: list[str], aliases: tuple[str, ...]) -> int | None:
    for a in aliases:
        if a in keys:
            return keys.index(a)
    return None


def header_row(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    """(index, column positions) of the header row, or None when there is none."""
    for i, row in enumerate(rows[:MAX_BANNER_ROWS]):
        keys = [_key(c) for c in row]
        subj, seq = _find(keys, SUBJECT_ALIASES), _find(keys, _SEQUENCE)
        if subj is None or seq is None:
            continue
        cols = {"subject": subj, "sequence": seq}
        for name, aliases in (("group", _GROUP), ("sex", _SEX), ("condition", _CONDITION),
                              ("notes", _NOTES)):
            j = _find(keys, aliases)
            if j is not None:
                cols[name] = j
        return i, cols
    return None


def parse_sequence(text: str) -> list[str] | None:
    """Arm labels of one sequence string (upper case); None when it holds other characters."""
    text = text.strip()
    if not text:
        return []
    tokens = [t for t in _SEPARATORS.split(text) if t] if _SEPARATORS.search(text) else [text]
    arms: list[str] = []
    for t in tokens:
        if not _TOKEN.match(t):
            return None
        arms += [t] if t.lower() in ARM_WORDS else list(t)
    return [a.upper() for a in arms]


def _sheets(path: Path) -> list[str | None]:
    """The worksheets holding scored animals (a sheet per group); [None] for text files.

    Every visible sheet with a header row of its own (a subject and an
    arm-sequence column below any banner rows), whatever its other columns;
    hidden sheets are never read. Without any, the workbook's table sheet.
    """
    if not is_excel(path):
        return [None]
    from neurotox.workbook import hidden_sheets, sheet_rows, table_sheets

    hidden = hidden_sheets(path)
    found = [name for name, rows in sheet_rows(path, max_rows=MAX_BANNER_ROWS).items()
             if name not in hidden and header_row([list(r) for r in rows]) is not None]
    return found or list(table_sheets(path))[:1] or [None]


def _match(path: Path) -> bool:
    return header_row(raw_rows(path, max_rows=MAX_BANNER_ROWS, sheet=_sheets(path)[0])) \
        is not None


def _cell(row: list[Any], j: int | None) -> tuple[str, bool]:
    return _cell_text(row[j]) if j is not None and j < len(row) else ("", False)


def read_maze_sheet(path: Path, *, subject: str | None = None, **_: Any) -> RodentData:
    """Read a hand-scored maze sheet into arm entries (kind ``entries``).

    A workbook whose visible sheets each hold such a table (a sheet per group) is
    read sheet by sheet; without a group column, each animal's ``group`` is its
    sheet's name.

    Returns
    -------
    RodentData
        ``table``: one row per entry (``subject``, ``condition``, ``order``,
        ``arm``, no times); ``meta['animals']``: one row per animal with the
        sheet's group, sex, notes and the sequence as written;
        ``meta['numeric_subjects']``: IDs that were numbers in the workbook.

    Raises
    ------
    FormatError
        No header row, an empty subject, a sequence with characters that are
        not arm labels, an empty sequence, or an animal (× condition) twice;
        the message names the sheet row and column.

    """
    sheets = _sheets(path)
    animals, entries, numeric, notes = [], [], [], []
    for sheet in sheets:
        label = sheet if len(sheets) > 1 else None
        a, e, n, note = _read_table(path, raw_rows(path, sheet=sheet), label)
        animals += a
        entries += e
        numeric += n
        notes.append(note)
    if len(sheets) > 1:
        grouped = all(r["group"] == r["sheet"] for r in animals)
        notes.append(f"{path.name}: sheets {quoted(sheets)} each hold a subject and an "
                     "arm-sequence column, all read"
                     + ("; each animal's group is its sheet's name (no group column)"
                        if grouped else ""))
    table = pd.DataFrame(animals, columns=list(SHEET_COLUMNS))
    dup = table.duplicated(["subject", "condition"])
    if dup.any():
        first = table[dup].iloc[0]
        raise FormatError(f"subject {first['subject']!r} has more than one sequence",
                          path=path, where=first["source"].split(":", 1)[1])
    if subject is not None and table["subject"].nunique() > 1:
        raise FormatError(f"a subject override ({subject!r}) applies to a file of one "
                          f"animal; this sheet has {table['subject'].nunique()}", path=path)
    notes += [_note(path, r.subject, r.source.split(":", 1)[1].split(",")[0], r.notes)
              for r in table.itertuples() if r.notes]
    return RodentData("entries", path, "maze-scoring-sheet",
                      table=pd.DataFrame(entries, columns=list(ENTRY_COLUMNS)),
                      meta={"animals": table, "numeric_subjects": numeric}, notes=notes)


def _read_table(path: Path, rows: list[list[Any]], sheet: str | None
                ) -> tuple[list[dict], list[dict], list[str], str]:
    """Animals, entries, numeric IDs and the header note of one sheet's table."""
    found = header_row(rows)
    on = f"sheet {sheet!r} " if sheet else ""
    if found is None:
        raise FormatError(f"expected a header row with a subject column (one of "
                          f"{quoted(SUBJECT_ALIASES)}) and an arm-sequence column (one of "
                          f"{quoted(_SEQUENCE)}) in the first {MAX_BANNER_ROWS} rows"
                          f"{' of ' + on.strip() if on else ''}, found none", path=path)
    h, cols = found
    names = {k: str(rows[h][j]).strip() for k, j in cols.items()}
    _refuse_second_block(path, rows, h, cols, on)
    animals, entries, numeric = [], [], []
    for i in range(h + 1, len(rows)):
        row, line = rows[i], i + 1
        cells = {k: _cell(row, j) for k, j in cols.items()}
        if not any(_cell_text(c)[0] for c in row):
            continue   # blank row
        where = f"{on}row {line}, column {names['subject']!r}"
        subj, is_num = cells["subject"]
        if not subj:
            raise FormatError("subject is empty", path=path, where=where)
        arms = parse_sequence(cells["sequence"][0])
        seq_where = f"{on}row {line}, column {names['sequence']!r}"
        if arms is None:
            raise FormatError(f"expected arm labels such as 'ABCACB' or 'A B C' (letters or "
                              f"digits, optional separators), found {cells['sequence'][0]!r}",
                              path=path, where=seq_where)
        if not arms:
            raise FormatError(f"no arm entries for subject {subj!r} (score the animal or "
                              "delete its row)", path=path, where=seq_where)
        if is_num:
            numeric.append(subj)
        src = f"{path.name}:{seq_where}"
        cond = cells.get("condition", ("", False))[0] or "NA"
        group = cells["group"][0] if "group" in cols else (sheet or "")
        animals.append({"subject": subj, "condition": cond, "group": group,
                        "sex": cells.get("sex", ("", False))[0],
                        "notes": cells.get("notes", ("", False))[0],
                        "sequence": cells["sequence"][0], "source": src, "sheet": sheet or ""})
        entries += [{"subject": subj, "condition": cond, "order": k + 1, "arm": a,
                     "enter_s": np.nan, "exit_s": np.nan, "source": src}
                    for k, a in enumerate(arms)]
    note = (f"{path.name}: {on}header in row {h + 1} ({h} banner row(s) above it skipped); "
            f"sequences from column {names['sequence']!r}")
    return animals, entries, numeric, note


def _refuse_second_block(path: Path, rows: list[list[Any]], h: int, cols: dict[str, int],
                         on: str) -> None:
    """FormatError naming a row below the table that repeats its header (a second block).

    A second session scored below the first under its own title and header
    would otherwise be read as animals named after its title and header cells.
    """
    head = [str(_cell(rows[h], cols[k])[0]).lower() for k in ("subject", "sequence")]
    for i in range(h + 1, len(rows)):
        if [str(_cell(rows[i], cols[k])[0]).lower() for k in ("subject", "sequence")] != head:
            continue
        above = next((j for j in range(i - 1, h, -1) if any(_cell_text(c)[0] for c in rows[j])),
                     None)
        title = [t for c in rows[above] if (t := _cell_text(c)[0])] if above is not None else []
        titled = f" under the title {title[0]!r} (row {above + 1})" if len(title) == 1 else ""
        raise FormatError(f"the header of row {h + 1} again: a second table"
                          f"{titled} below the first (a second session?); one table per sheet "
                          "is read: give the second its own sheet or file, or one table "
                          "with a condition column", path=path,
                          where=f"{on}row {i + 1}".strip() or None)


#: A Notes cell asking for the animal to be left out ("EXCLUDE - animal fell", "invalid
#: trial", "do not use"): the sheet cannot exclude it, the study's exclusions file does.
_EXCLUDING = re.compile(r"\b(exclu\w*|invalid|discard\w*|reject\w*|unusable|void|omit\w*|"
                        r"do not (use|analy[sz]e)|don'?t (use|analy[sz]e)|not (used|usable|"
                        r"valid|analy[sz]ed))\b", re.IGNORECASE)


def _note(path: Path, subject: str, row: str, text: str) -> str:
    """The run note of a Notes cell; a warning when it reads like an exclusion."""
    if _EXCLUDING.search(text):
        return (f"warning: {path.name}: subject {subject} ({row}) note {text!r} reads like an "
                "exclusion, but the animal is analysed: a note does not exclude it; list it "
                "in the study's exclusions file to exclude it")
    return f"{path.name}: subject {subject} ({row}) note: {text}"


register_reader(Reader("maze-scoring-sheet", "entries",
                       "hand-scored maze sheet csv/xlsx (banner rows, then a subject column "
                       "and one arm sequence per animal, e.g. 'Arm entries' ABCACB)",
                       _match, read_maze_sheet))
