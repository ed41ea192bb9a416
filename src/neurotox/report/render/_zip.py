"""Make Office (zip) files byte-reproducible: fixed entry dates and core properties."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

#: Timestamp written into Office files without a run date (simulated inputs: their
#: creation date is not a property of the data; a constant keeps them reproducible).
FIXED_DATE = "2000-01-01T00:00:00Z"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(
    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(created|modified)>)")


def run_time(stamp: Any) -> str | None:
    """A run stamp's date and time (``2026-12-05T17:42:56Z``); None without a stamp."""
    if stamp is None:
        return None
    return f"{stamp.date}T{stamp.time.removesuffix(' UTC')}Z"


def freeze_zip(data: bytes, date: str | None = None, *,
               parts: dict[str, bytes] | None = None) -> bytes:
    """Rewrite a zip with constant entry dates and constant core-property dates.

    ``date`` (``YYYY-MM-DD``, a report's run date, at midnight UTC; or
    ``YYYY-MM-DDTHH:MM:SSZ``, its run time) becomes the document's created and
    modified date, so a document management system shows when the report was
    made; without it, :data:`FIXED_DATE`. ``parts`` replace entries of the same
    name (e.g. ``docProps/app.xml``).
    """
    stamp = (date if date and "T" in date else f"{date}T00:00:00Z" if date
             else FIXED_DATE).encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = (parts or {}).get(info.filename) or src.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<3>", blob)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            # images are compressed already: stored as they are (faster, as small)
            entry.compress_type = zipfile.ZIP_STORED if info.filename.endswith(
                (".png", ".jpeg", ".jpg")) else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, blob)
    return out.getvalue()
