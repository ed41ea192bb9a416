"""Compare report outputs of two runs with the run's own stamp (ID, date, command) masked.

A report prints the run ID, the date and time, the command and run.json's SHA-256
on its pages; everything else must be byte-identical between two runs of the
same command on the same inputs.
"""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import zipfile
from pathlib import Path

#: run.json keys that differ between two runs of the same command.
VOLATILE_RUN = {"run_id", "date_utc", "command"}


def stamps(folder: Path) -> dict[bytes, bytes]:
    """The run-specific strings of a report folder → placeholders."""
    run_file = folder / "run.json"
    run = json.loads(run_file.read_text(encoding="utf-8"))
    date = run["date_utc"]
    pairs = {date: "DATETIME",   # Office files' created / modified (before DATE masks its day)
             run["run_id"]: "RUN-ID", hashlib.sha256(run_file.read_bytes()).hexdigest():
             "RUN-SHA256", shlex.join(run["command"]): "COMMAND", f"{date[11:19]} UTC": "TIME",
             date[:10]: "DATE"}
    return {k.encode(): v.encode() for k, v in pairs.items()}


def _mask(data: bytes, marks: dict[bytes, bytes]) -> bytes:
    for k, v in marks.items():
        data = data.replace(k, v)
    return data


def normalised(path: Path, marks: dict[bytes, bytes]) -> bytes:
    """File content with the stamps masked (zip members masked one by one)."""
    data = path.read_bytes()
    if path.name == "run.json":
        doc = json.loads(data)
        return json.dumps({k: v for k, v in doc.items() if k not in VOLATILE_RUN},
                          sort_keys=True).encode()
    if data[:2] == b"PK":
        z = zipfile.ZipFile(io.BytesIO(data))
        return b"\0".join(i.filename.encode() + b"\0" + _mask(z.read(i), marks)
                          for i in z.infolist())
    return _mask(data, marks)


def same_report_files(a: Path, b: Path, rels: list[str]) -> list[str]:
    """The files of ``rels`` that differ between report folders a and b, stamps masked."""
    ma, mb = stamps(a), stamps(b)
    return [rel for rel in rels if normalised(a / rel, ma) != normalised(b / rel, mb)]
