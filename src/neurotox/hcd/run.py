"""A finished neurotox run (``neurotox report`` output folder) → a historical control batch.

The folder's manifest is verified first, by the function behind ``neurotox
verify``: a folder with a changed, missing or extra file is refused, and so is a
signed manifest whose signature does not match the key given (or an unsigned one
when a key is given); what was checked is kept with the batch for the audit trail.
The EndpointTable is the run's
``csv/endpoints.csv``; the study file is the one the manifest names, and it must
still have the SHA-256 recorded there. Only the animals of the study's control
groups are included; with ``all_groups`` the treated animals are stored too, but
never included in ranges. Values the run excluded are stored, not included,
with their reason; censored values (``censoring`` left/right) keep it. The run's
source hash is its manifest's self-hash; its data files (the manifest's inputs
other than the study file, subjects file, plate layouts and exclusion list, with
their recorded SHA-256) and its study number identify the study across re-runs
(:mod:`neurotox.hcd.identity`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.errors import InputError
from neurotox.files import warn_or_refuse
from neurotox.hcd.store import STUDY_FIELDS, Batch
from neurotox.io.output import MANIFEST, SigningKey, sha256_file, verify_folder
from neurotox.study import Study, load_study

ENDPOINTS_CSV = "csv/endpoints.csv"
#: Protocol parameters that name the apparatus or the session length, if a protocol has them.
APPARATUS_KEYS = ("apparatus", "device", "system")
SESSION_KEYS = ("session_minutes", "session_length", "session_length_min")


def _manifest(folder: Path, key: SigningKey | None) -> tuple[dict[str, Any], str]:
    """The verified manifest and the sentence on its signature (as ``neurotox verify``)."""
    result = verify_folder(folder, key=key)
    problems = result.problems
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"the run folder does not match its manifest: {problems[0]}{more}; "
                         "'neurotox verify' lists every problem", path=folder)
    if result.unchecked:     # said (or refused) before any database is opened
        warn_or_refuse(f"{folder}: {result.signature}: give the key (--key or "
                       "NEUROTOX_SIGN_KEY_FILE) to check it")
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8")), result.signature


def _endpoints_file(folder: Path, manifest: dict[str, Any]) -> Path:
    found = sorted(o["path"] for o in manifest["outputs"]
                   if o["path"] == ENDPOINTS_CSV or o["path"].endswith("/" + ENDPOINTS_CSV))
    if not found:
        raise InputError(f"no {ENDPOINTS_CSV} in this run folder (run 'neurotox report' with "
                         "the csv format)", path=folder)
    if len(found) > 1:
        raise InputError(f"this folder holds {len(found)} reports ({', '.join(found)}); add "
                         "one report run at a time", path=folder)
    return folder / found[0]


def _recorded_inputs(folder: Path, manifest: dict[str, Any]) -> dict[Path, str]:
    """Resolved path → SHA-256 of every input the manifest records."""
    return {(folder / i["path"]).resolve(): i["sha256"] for i in manifest.get("inputs", [])}


def _data_inputs(folder: Path, manifest: dict[str, Any], study: Study) -> dict[str, str]:
    """``path → sha256`` of the run's data files: its inputs less the study's own files."""
    own = {p.resolve() for p in study.input_files()}
    return {str(p): h for p, h in sorted(_recorded_inputs(folder, manifest).items())
            if p not in own}


def _study(folder: Path, manifest: dict[str, Any]) -> Study:
    name = (manifest.get("parameters") or {}).get("study")
    if not name:
        raise InputError("the manifest names no study file (parameters.study)",
                         path=folder / MANIFEST)
    # paths are recorded relative to the run folder (older manifests: absolute, or
    # relative to their working_directory)
    path = Path(name)
    if not path.is_absolute():
        base = manifest.get("working_directory")
        path = (Path(base) if base else folder) / path
    recorded = _recorded_inputs(folder, manifest)
    key = path.resolve()
    if not path.is_file():
        raise InputError("the study file of this run is gone", path=path)
    if key in recorded and sha256_file(path) != recorded[key]:
        raise InputError("the study file changed after the run (SHA-256 differs from the "
                         "manifest)", path=path)
    return load_study(path)


#: Study fields held under other study-file keys (``test_facility``, ``dates.experimental_*``).
_STUDY_FILE_KEYS = {
    "facility": lambda spec: spec.test_facility,
    "start_date": lambda spec: spec.dates.experimental_start,
    "end_date": lambda spec: spec.dates.experimental_end}


def _study_fields(study: Study, overrides: dict[str, str]) -> dict[str, str]:
    """Study fields from the study file (options given win over it)."""
    spec = study.spec
    fields = {"title": spec.title, "guideline": spec.guideline or "",
              "species": spec.species or "", "strain": spec.strain or ""}
    for name, get in _STUDY_FILE_KEYS.items():
        value = get(spec)
        if value:
            fields[name] = str(value)      # dates as ISO text, as the options give them
    for k in STUDY_FIELDS:   # study-file keys other branches may add (vehicle, route ...)
        v = getattr(spec, k, None)
        if isinstance(v, str) and v and k not in fields:
            fields[k] = v
    fields.update({k: v for k, v in overrides.items() if v})
    return fields


def _assay_settings(study: Study, manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Assay name → method (protocol), apparatus and session length from the run."""
    params = (manifest.get("parameters") or {}).get("assays") or {}
    out = {}
    for spec in study.spec.assays:
        p = params.get(spec.key) or {}
        p = p if isinstance(p, dict) else {}
        out[spec.assay] = {
            "method": spec.protocol,
            "apparatus": next((str(p[k]) for k in APPARATUS_KEYS if p.get(k)), ""),
            "session_length": next((str(p[k]) for k in SESSION_KEYS if p.get(k)), "")}
    return out


def _animals(table: pd.DataFrame, study: Study, all_groups: bool,
             age_days: float) -> pd.DataFrame:
    groups = {g.id: g for g in study.spec.groups}
    subj = table.drop_duplicates("subject")[["subject", "group", "sex"]]
    rows = []
    for r in subj.itertuples(index=False):
        g = groups[r.group]
        rows.append({"subject": r.subject, "sex": r.sex, "age_days": age_days, "role": "main",
                     "group_id": g.id, "control_type": g.label if g.control else "",
                     "vehicle": "",          # the study's
                     "included": bool(g.control),
                     "exclusion_reason": "" if g.control else
                     f"treated group {g.id} ({g.dose:g} {g.dose_unit})"})
    animals = pd.DataFrame(rows)
    return animals if all_groups else animals[animals["included"]].reset_index(drop=True)


def _results(table: pd.DataFrame, settings: dict[str, dict[str, str]], version: str,
             overrides: dict[str, str]) -> pd.DataFrame:
    reg = endpoints.registry()
    s = table["assay"].map(lambda a: settings.get(a, {}))
    out = pd.DataFrame({
        "subject": table["subject"], "endpoint": table["endpoint"],
        "category": table["category"],
        "data_type": table["endpoint"].map(lambda e: reg[e].data_type.value),
        "timepoint": table["timepoint"], "study_day": np.nan, "value": table["value"],
        "unit": table["unit"],
        "censoring": table["censoring"].replace("none", "") if "censoring" in table else "",
        "method": s.map(lambda d: d.get("method", "")),
        "apparatus": overrides.get("apparatus") or s.map(lambda d: d.get("apparatus", "")),
        "session_length": overrides.get("session_length")
        or s.map(lambda d: d.get("session_length", "")),
        "software_version": f"neurotox {version}",
        "included": ~table["excluded"].astype(bool),
        "exclusion_reason": table["exclusion_reason"]})
    finite = np.isfinite(out["value"].astype(float))
    return out[finite].reset_index(drop=True)


def run_batch(folder: str | Path, *, all_groups: bool = False, age_weeks: float | None = None,
              study: dict[str, str] | None = None, apparatus: str = "",
              session_length: str = "", key: SigningKey | None = None) -> Batch:
    """The batch of a finished run folder, after verifying it against its manifest.

    Parameters
    ----------
    folder
        Output folder of ``neurotox report`` (with ``csv/endpoints.csv``).
    all_groups
        Store the treated animals too (never included in ranges).
    age_weeks
        Age of the animals at the start of the study, in weeks.
    study
        Study fields given as options (facility, supplier, route, vehicle,
        start_date, end_date); they win over the study file's ``test_facility``,
        ``vehicle``, ``route`` and ``dates.experimental_start``/``experimental_end``.
    apparatus, session_length
        Apparatus and session length of every value (when the protocol does not name them).
    key
        Signing key: a signed manifest must carry its signature, an unsigned one
        is refused (as ``neurotox verify --key``). Without a key a signature is
        not checked; ``Batch.verified`` says so.

    """
    from neurotox.study import age_weeks_problem

    folder = Path(folder)
    why = None if age_weeks is None else age_weeks_problem(age_weeks)
    if why:
        raise InputError(why, where="age_weeks")
    if not folder.is_dir():
        raise InputError("run folder not found", path=folder)
    manifest, signature = _manifest(folder, key)
    st = _study(folder, manifest)
    table = endpoints.read(_endpoints_file(folder, manifest))
    endpoints.check_design(table, study_id=st.study_id, path=_endpoints_file(folder, manifest),
                           groups={g.id: (g.dose, g.dose_unit) for g in st.spec.groups})
    animals = _animals(table, st, all_groups, np.nan if age_weeks is None else age_weeks * 7)
    version = str((manifest.get("software") or {}).get("neurotox", ""))
    results = _results(table[table["subject"].isin(animals["subject"])],
                       _assay_settings(st, manifest), version,
                       {"apparatus": apparatus, "session_length": session_length})
    excluded = [f"animal {r.subject} ({r.sex}): {r.exclusion_reason}"
                for r in animals[~animals["included"]].itertuples(index=False)]
    n_exc = int((~results["included"]).sum())
    if n_exc:
        excluded.append(f"{n_exc} value(s) stored but not included — excluded in the run")
    return Batch(study_id=st.study_id, source_kind="neurotox-run",
                 source_path=str(folder.resolve()),
                 source_hash=manifest["manifest_sha256"],
                 study=_study_fields(st, study or {}), animals=animals, results=results,
                 software_version=f"neurotox {version}", excluded=excluded,
                 inputs=_data_inputs(folder, manifest, st),
                 verified=f"manifest intact; {signature}")
