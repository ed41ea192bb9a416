"""Convert a .docx to PDF with LibreOffice (fields refreshed, contents left as written).

Run by a Python that has LibreOffice's ``uno`` module (the system Python on
Debian/Ubuntu with ``python3-uno``), never imported by neurotox itself:

    python3 _uno_pdf.py SOFFICE INPUT.docx OUTPUT.pdf PROFILE_DIR

A private LibreOffice profile (PROFILE_DIR) lets several conversions run at once.
"""

import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

#: writer_pdf_Export options: SelectPdfVersion 2 = PDF/A-2b; UseTaggedPDF adds the
#: document structure. Kept equal to neurotox.report.render.pdf.FILTER_OPTIONS.
FILTER_DATA = (("SelectPdfVersion", 2), ("UseTaggedPDF", True))


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(soffice, src, dst, profile):
    pipe = f"neurotox{os.getpid()}"
    proc = subprocess.Popen([soffice, "--headless", "--invisible", "--norestore", "--nologo",
                             "--nodefault", "--nolockcheck",
                             f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
                             f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(600):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:  # noqa: BLE001 (office still starting)
                if proc.poll() is not None:
                    raise SystemExit("LibreOffice exited before accepting a connection") \
                        from None
                time.sleep(0.1)
        if ctx is None:
            raise SystemExit("LibreOffice did not start within 60 s")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(src)),
                                           "_blank", 0, (_prop("Hidden", True),))
        # the table of contents is static text in the docx and is printed as written
        # (no index is rebuilt: the PDF shows what the archived docx holds)
        doc.getTextFields().refresh()
        # PDF/A-2b (archival: fonts embedded, no external content) and tagged (structure
        # for accessibility and text extraction); uno.invoke carries the typed sequence
        data = uno.Any("[]com.sun.star.beans.PropertyValue",
                       tuple(_prop(k, v) for k, v in FILTER_DATA))
        uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(os.path.abspath(dst)),
                                       (_prop("FilterName", "writer_pdf_Export"),
                                        _prop("FilterData", data))))
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 (the bridge closes as office quits)
            pass
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
