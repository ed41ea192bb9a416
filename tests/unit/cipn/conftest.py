"""A small CIPN study written into tmp_path, and helpers to run the assay on it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neurotox.assays.base import resolve_parameters
from neurotox.assays.cipn.assay import analyse
from neurotox.study import load_study

SUBJECTS = "subject,group,sex\nC1,C,M\nC2,C,M\nC3,C,M\nT1,T,M\nT2,T,M\nT3,T,M\n"


def write(folder: Path, files: dict[str, str | bytes], **plan) -> Path:
    doc = {"study_id": "CIPN-T", "title": "t", "test_item": "x",
           "groups": [{"id": "C", "label": "Vehicle", "dose": 0, "dose_unit": "mg/kg",
                       "control": True},
                      {"id": "T", "label": "Treated", "dose": 2, "dose_unit": "mg/kg"}],
           "subjects": "subjects.csv", "statistics": plan or {}}
    (folder / "study.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    (folder / "subjects.csv").write_text(SUBJECTS, encoding="utf-8")
    for name, content in files.items():
        p = folder / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return folder / "study.yaml"


def run(folder: Path, files: dict[str, str | bytes], protocol: str = "cipn-paclitaxel-rat",
        **overrides):
    study_file = write(folder, files)
    study = load_study(study_file)
    _, params = resolve_parameters(protocol, overrides)
    return analyse(study, [folder / n for n in files], params)


def value(table, endpoint, subject, timepoint):
    row = table[(table["endpoint"] == endpoint) & (table["subject"] == subject)
                & (table["timepoint"] == timepoint)]
    assert len(row) == 1, (endpoint, subject, timepoint, len(row))
    return row.iloc[0]


@pytest.fixture
def folder(tmp_path):
    return tmp_path
