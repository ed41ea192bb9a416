"""Make Office (zip) files byte-reproducible: fixed entry dates and core properties."""

from __future__ import annotations

import io
import re
import zipfile

#: Timestamp written into Office files without a run date (simulated inputs: their
#: creation date is not a property of the data; a constant keeps them reproducible).
FIXED_DATE = "2000-01-01T00:00:00Z"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(
    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(created|modified)>)")


def freeze_zip(data: bytes, date: str | None = None) -> bytes:
    """Rewrite a zip with constant entry dates and constant core-property dates.

    ``date`` (``YYYY-MM-DD``, a report's run date) becomes the document's created and
    modified date, at midnight UTC, so a document management system shows the day the
    report was made; without it, :data:`FIXED_DATE`.
    """
    stamp = (f"{date}T00:00:00Z" if date else FIXED_DATE).encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<3>", blob)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            # images are compressed already: stored as they are (faster, as small)
            entry.compress_type = zipfile.ZIP_STORED if info.filename.endswith(
                (".png", ".jpeg", ".jpg")) else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, blob)
    return out.getvalue()
