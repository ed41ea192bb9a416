"""What the rodent assays share: subject checks and info, one-sample tests, table concat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.errors import InputError, quoted
from neurotox.stats.one_sample import one_sample_table
from neurotox.study import Study


def empty_table(columns: tuple[str, ...]) -> pd.DataFrame:
    """An empty frame with ``columns``."""
    return pd.DataFrame(columns=list(columns))


def concat(tables: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate the non-empty tables; an empty frame with ``columns`` if none."""
    tables = [t for t in tables if len(t)]
    return pd.concat(tables, ignore_index=True) if tables else empty_table(columns)


def check_subjects(table: pd.DataFrame, study: Study, files: list[Path], what: str) -> None:
    """Raise InputError naming the data file and row of the first subject not in the study.

    ``table`` has ``subject`` and ``source`` (``file:row N …``) columns.
    """
    known = set(study.subjects["subject"]) if len(study.subjects) else set()
    bad = ~table["subject"].astype(str).isin(known)
    if not bad.any():
        return
    first = table[bad.to_numpy()].iloc[0]
    name, _, where = str(first["source"]).partition(":")
    path = next((p for p in files if p.name == name), name or study.path)
    raise InputError(f"subject(s) {quoted(table.loc[bad, 'subject'])} in the {what} data are "
                     f"not in the study's subjects file {study.spec.subjects!s}", path=path,
                     where=where.split(",")[0] or None)


def subject_info(study: Study, subject: str) -> dict[str, Any]:
    """Group, dose, sex and batch of a subject, as EndpointTable columns."""
    info = study.subject_info(subject)
    group = study.groups[info["group"]]
    return {"group": group.id, "dose": group.dose, "dose_unit": group.dose_unit,
            "sex": info["sex"], "batch": info.get("batch", "NA") or "NA"}



def one_sample_results(table: pd.DataFrame, *, endpoint: str, reference: float | str,
                       normality_alpha: float) -> pd.DataFrame:
    """One-sample tests of ``endpoint`` per timepoint × group, sexes pooled and per sex."""
    data = table[(table["endpoint"] == endpoint) & ~table["excluded"]]
    if isinstance(reference, str):
        data = data.assign(reference=data[reference])
    pooled = data.assign(sex="all")
    both = pd.concat([pooled, data], ignore_index=True) if data["sex"].nunique() > 1 else pooled
    ref = "reference" if isinstance(reference, str) else reference
    out = one_sample_table(both, by=["endpoint", "timepoint", "group", "sex"], reference=ref,
                           normality_alpha=normality_alpha)
    return out


