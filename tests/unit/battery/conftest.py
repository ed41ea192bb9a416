"""Fixtures for the battery tests: tiny study folders built around one input file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

DATA = Path(__file__).resolve().parent / "data"

SUBJECTS = pd.DataFrame({"subject": ["A1", "A2", "B1", "B2"],
                         "group": ["G1", "G1", "G2", "G2"],
                         "sex": ["M", "F", "M", "F"]})
GROUPS = [{"id": "G1", "label": "Control", "dose": 0, "dose_unit": "mg/kg/day",
           "control": True},
          {"id": "G2", "label": "High", "dose": 100, "dose_unit": "mg/kg/day"}]


def write_study(folder: Path, *, assays: list[dict], files: dict[str, Path | str],
                subjects: pd.DataFrame = SUBJECTS, groups: list[dict] = GROUPS,
                **extra) -> Path:
    """Write study.yaml + subjects.csv + input files; return the study path."""
    folder.mkdir(parents=True, exist_ok=True)
    subjects.to_csv(folder / "subjects.csv", index=False)
    for name, src in files.items():
        if isinstance(src, Path):
            shutil.copy(src, folder / name)
        else:
            (folder / name).write_text(src, encoding="utf-8")
    doc = {"study_id": "T-1", "title": "test", "test_item": "X", "groups": groups,
           "subjects": "subjects.csv", "assays": assays, **extra}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def run_one(study_path: Path):
    """Run the single assay of a study; return the AssayResult."""
    import neurotox.assays  # noqa: F401
    from neurotox.assays.base import run_study_assay
    from neurotox.study import load_study

    study = load_study(study_path)
    return run_study_assay(study, study.spec.assays[0])


def value(table: pd.DataFrame, endpoint: str, subject: str, timepoint: str | None = None):
    """The single value of an endpoint for a subject (and timepoint)."""
    sel = (table["endpoint"] == endpoint) & (table["subject"] == subject)
    if timepoint is not None:
        sel &= table["timepoint"] == timepoint
    hit = table[sel]
    assert len(hit) == 1, (endpoint, subject, timepoint, len(hit))
    return hit.iloc[0]


@pytest.fixture
def data_dir() -> Path:
    return DATA
