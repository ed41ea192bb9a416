"""CSV renderer: the machine-readable long results, decisions and endpoint values."""

from __future__ import annotations

import pandas as pd

from neurotox.delimited import csv_safe
from neurotox.endpoints import VALUE_DIGITS
from neurotox.report.model import Report


def _csv(df: pd.DataFrame) -> bytes:
    # text a spreadsheet would run as a formula starts with ' (docs/outputs.md)
    text = csv_safe(df).to_csv(index=False, lineterminator="\n", float_format=f"%.{VALUE_DIGITS}g")
    return text.encode("utf-8")


def render_csv(report: Report) -> dict[str, bytes]:
    """``csv/results.csv``, ``csv/decisions.csv`` and ``csv/endpoints.csv``.

    ``results`` has one row per endpoint × sex × timepoint × group with the test,
    p-value and flag shown in the tables; ``endpoints`` is the EndpointTable the
    analysis read (excluded values included, with reasons).
    """
    out = {}
    for name in ("results", "decisions", "endpoints"):
        df = getattr(report, name)
        if df is not None:
            out[f"csv/{name}.csv"] = _csv(df)
    return out
