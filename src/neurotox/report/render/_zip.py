"""Make Office (zip) files byte-reproducible: fixed entry dates and core properties."""

from __future__ import annotations

import io
import re
import zipfile

#: Timestamp written into every Office file (the documents' creation date is not
#: a property of the study; a constant keeps reports byte-for-byte reproducible).
FIXED_DATE = "2000-01-01T00:00:00Z"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(
    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(created|modified)>)")


def freeze_zip(data: bytes) -> bytes:
    """Rewrite a zip with constant entry dates and constant core-property dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_DATES.sub(rb"\g<1>" + FIXED_DATE.encode() + rb"\g<3>", blob)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            # images are compressed already: stored as they are (faster, as small)
            entry.compress_type = zipfile.ZIP_STORED if info.filename.endswith(
                (".png", ".jpeg", ".jpg")) else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, blob)
    return out.getvalue()
