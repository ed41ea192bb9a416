"""EthoVision XT raw-data header blocks: what the rodent and zebrafish readers share.

An EthoVision XT (or DanioVision) "Export raw data" file, text or workbook sheet,
starts with a header block: row 1 is ``Number of header lines:`` and N, rows 2
to N-2 are key/value metadata (``Trial name``, ``Arena name``, ``Start time``,
user-defined variables such as ``mouse ID``), row N-1 the column names and row N
the units; the samples follow. A multi-arena export writes one such block per
arena and subject, each on a sheet of its own (``Track-Arena 2-Subject 1``),
next to ``Trial Control-Arena N`` event sheets that carry the same block.

Both the rodent reader (:mod:`neurotox.io.rodent.ethovision`, zone flags per
sample) and the zebrafish one (:mod:`neurotox.io.zebrafish.trajectory`,
positions per sample) find the header line count, and tell track sheets from
event sheets, here; what each then requires of the columns is its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

#: The first cell of an EthoVision header block, folded (lower case, separators to spaces).
MAGIC = "number of header lines"


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def opens_block(cell: object) -> bool:
    """True when ``cell`` (or a whole first line) starts with the label ``Number of header lines``.

    Compared folded: case-blind, and quotes, spaces and other separators as one
    space (``Number_of_header_lines`` as R writes it, ``"Number of header lines:";"38"``
    as a quoted text export's first line).
    """
    return re.sub(r"[^0-9a-z]+", " ", _text(cell).lower()).strip().startswith(MAGIC)


def header_count(row: Sequence[object]) -> int | None:
    """N of a first row ``Number of header lines:`` | N; None when the row is not one.

    The label is compared case-blind with separators folded (``Number_of_header_lines``
    as R writes it); N may be text or a number, with a decimal comma (``38,0``), and
    must be a whole number between 1 and 10^6.
    """
    if len(row) < 2 or not opens_block(row[0]):
        return None
    try:
        n = float(_text(row[1]).replace(",", "."))
    except ValueError:
        return None
    return int(n) if math.isfinite(n) and n == int(n) and 0 < n < 1e6 else None


def column_names(rows: Sequence[Sequence[object]], n: int) -> list[str]:
    """The column-name row (row N-1) of a block of ``n`` header lines ([] if absent)."""
    return [_text(c) for c in rows[n - 2]] if 2 <= n <= len(rows) else []


def is_event_table(names: Sequence[str]) -> bool:
    """True for the columns of a ``Trial Control`` sheet (``Event``, ``Rule``): no samples."""
    return {"event", "rule"} <= {_text(c).lower() for c in names}


def track_sheets(sheets: Mapping[str, Sequence[Sequence[object]]]) -> dict[str, int]:
    """The sheets holding a block of samples, in workbook order, with their N.

    A sheet counts when its first row opens a header block and its column names
    are not those of a ``Trial Control`` event sheet; what columns a track needs
    (zones, positions) each reader checks itself.
    """
    out = {}
    for name, rows in sheets.items():
        n = header_count(rows[0]) if len(rows) else None
        if n is not None and not is_event_table(column_names(rows, n)):
            out[name] = n
    return out
