"""Traceability of a report folder: run ID, run record (run.json), the run's log file.

Every report folder holds ``run.json`` (run ID, date, command, software
versions, the study's input files with their SHA-256, the effective
parameters), ``run.log`` (everything the run logged: assays, statistics,
fits, rendering, warnings of the libraries) and ``manifest.json`` (SHA-256 of
every file, run.json included). The report prints the run ID, the date, the
command and run.json's SHA-256, so a printed page leads to the folder and
``neurotox verify`` to its integrity.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from neurotox.files import LogFileHandler
from neurotox.io.output import OutputDir, RunRecord, SigningKey, unicode_safe
from neurotox.logs import new_run_id
from neurotox.logs import run_id as command_run_id
from neurotox.report.model import RunStamp

RUN_RECORD = "run.json"
RUN_LOG = "run.log"


def input_name(path: str | Path, base: Path | None) -> str:
    """How ``run.json`` names an input: relative to ``base`` when inside it, else absolute."""
    rp = Path(path).resolve()
    return str(rp.relative_to(base)) if base is not None and rp.is_relative_to(base) \
        else str(rp)


def _inputs(paths: Iterable[Path], base: Path | None,
            record: RunRecord) -> list[dict[str, Any]]:
    """The inputs with their SHA-256 as the run first met them (the manifest checks them)."""
    out, seen = [], set()
    for p in paths:
        rp = Path(p).resolve()
        if rp in seen or not rp.is_file():
            continue
        seen.add(rp)
        state = record.first_state(rp)
        if state is None:
            continue
        out.append({"path": input_name(rp, base), "sha256": state.sha256, "bytes": state.size})
    return out


def write_run_record(od: OutputDir, prefix: str, record: RunRecord, *, study_id: str,
                     inputs: Iterable[Path], software: dict[str, str],
                     run_id: str | None = None, report_date: dt.date | None = None,
                     key: SigningKey | None = None, amendment: str = "") -> RunStamp:
    """Write ``<prefix>/run.json`` and return the stamp the report prints.

    Input paths inside the output folder (``neurotox demo``) are recorded
    relative to it. ``report_date`` is the study file's ``dates.report`` (the
    run's date when None); with a signing ``key`` the record names its key ID,
    as the report does, whether the key came from ``--sign-key`` or
    ``NEUROTOX_SIGN_KEY_FILE``. ``amendment`` is the report's amendment line
    (:func:`neurotox.report.front.amendment_text`); the run's parameters
    record the amendment itself.
    """
    now = dt.datetime.now(dt.UTC)
    run_id = run_id or command_run_id() or new_run_id(now)   # the ID of the log lines
    command = unicode_safe(shlex.join(record.command))   # a path may hold non-UTF-8 bytes
    listed = _inputs(inputs, od.staging.resolve(), record)
    doc = unicode_safe({"format": "neurotox-run/1", "run_id": run_id, "study_id": study_id,
                        "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "command": record.command, "software": software,
                        "parameters": record.parameters, "inputs": listed,
                        "report_date": report_date.isoformat() if report_date else None,
                        "signing_key_id": key.key_id if key else None})
    data = (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, default=str)
            + "\n").encode("utf-8")
    od.write_bytes(f"{prefix}/{RUN_RECORD}" if prefix else RUN_RECORD, data)
    return RunStamp(run_id=run_id, date=now.strftime("%Y-%m-%d"),
                    time=now.strftime("%H:%M:%S UTC"), command=command,
                    software=f"neurotox {software.get('neurotox', '')}".strip(),
                    record=RUN_RECORD, record_sha256=hashlib.sha256(data).hexdigest(),
                    inputs=tuple((i["path"], i["sha256"]) for i in doc["inputs"]),
                    report_date=report_date.isoformat() if report_date else "",
                    key_id=key.key_id if key else "", amendment=amendment)


@contextlib.contextmanager
def run_log(od: OutputDir, prefix: str = "") -> Iterator[Path]:
    """Write everything neurotox (and Python's warnings) log meanwhile to ``run.log``.

    The file is closed when the block ends, before the manifest hashes it.
    """
    path = od.path(f"{prefix}/{RUN_LOG}" if prefix else RUN_LOG)
    handler = LogFileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger("neurotox"), logging.getLogger("py.warnings")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.DEBUG:
            lg.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()
