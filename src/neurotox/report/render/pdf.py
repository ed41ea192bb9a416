"""PDF written alongside the Word report, through LibreOffice when it is installed.

The docx is converted by LibreOffice (``soffice``, e.g. Debian's
``libreoffice-writer-nogui``). When a Python with LibreOffice's ``uno`` module
is present (``python3-uno``), the conversion runs through it (fields refreshed
first); otherwise ``soffice --convert-to pdf`` converts the document. Either
way the table of contents is the docx's own (static, see the docx renderer):
the PDF shows the same contents as the archived docx. Each conversion uses a
private LibreOffice profile, so conversions may run at the same time. The PDF
is PDF/A-2b and tagged (:data:`FILTER_OPTIONS`).
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from neurotox.errors import NeurotoxError

log = logging.getLogger(__name__)

#: PDF export options (LibreOffice 7.4+ JSON form): PDF/A-2b, as archives ask for
#: (fonts embedded, self-contained), and tagged (document structure). The uno script
#: (``_uno_pdf.py``) passes the same two.
FILTER_OPTIONS = ('{"SelectPdfVersion":{"type":"long","value":"2"},'
                  '"UseTaggedPDF":{"type":"boolean","value":"true"}}')

#: Seconds a conversion may take before it is abandoned.
TIMEOUT_S = 600
_SCRIPT = Path(__file__).with_name("_uno_pdf.py")


class PdfError(NeurotoxError):
    """LibreOffice is missing or failed to convert the report."""


@functools.cache
def soffice() -> str | None:
    """Path of LibreOffice's ``soffice``, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def uno_python() -> str | None:
    """A Python interpreter that can ``import uno`` (LibreOffice's bridge), or None."""
    office = soffice()
    if office is None:
        return None
    candidates = [Path(office).resolve().parent / "python", Path("/usr/bin/python3"),
                  Path("/usr/local/bin/python3")]
    for exe in candidates:
        if exe.is_file():
            ok = subprocess.run([str(exe), "-c", "import uno"], capture_output=True,
                                timeout=60, check=False).returncode == 0
            if ok:
                return str(exe)
    return None


def available() -> bool:
    """True when a PDF can be written (LibreOffice is installed)."""
    return soffice() is not None


def docx_to_pdf(docx: bytes) -> bytes:
    """Convert a Word document (bytes) to PDF (bytes) with LibreOffice.

    Raises
    ------
    PdfError
        LibreOffice is not installed, failed or produced no PDF.

    """
    office = soffice()
    if office is None:
        raise PdfError("writing a PDF needs LibreOffice (soffice) on the PATH, e.g. "
                       "'apt-get install libreoffice-writer-nogui'")
    with tempfile.TemporaryDirectory(prefix="neurotox-pdf-") as tmp:
        src, dst = Path(tmp) / "report.docx", Path(tmp) / "report.pdf"
        src.write_bytes(docx)
        profile = Path(tmp) / "profile"
        python = uno_python()
        if python is not None:
            cmd = [python, str(_SCRIPT), office, str(src), str(dst), str(profile)]
        else:
            cmd = [office, "--headless", "--norestore", f"-env:UserInstallation="
                   f"{profile.as_uri()}", "--convert-to", f"pdf:writer_pdf_Export:"
                   f"{FILTER_OPTIONS}", "--outdir", tmp, str(src)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"LibreOffice did not convert the report within {TIMEOUT_S} s") \
                from None
        if proc.returncode != 0 or not dst.is_file():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no message"]
            raise PdfError(f"LibreOffice failed to convert the report to PDF: {detail[0]}")
        return dst.read_bytes()
