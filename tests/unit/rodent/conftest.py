"""Fixtures of the rodent-cognition tests: tiny files modelled on the real layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurotox.study import load_study


def write_study(folder: Path, subjects: list[tuple[str, str, str]],
                groups: tuple[str, ...] = ("C", "H")) -> Path:
    """A study with groups (first = control) and subjects (subject, group, sex)."""
    lines = ["study_id: T1", "title: test", "test_item: X", "groups:"]
    for i, g in enumerate(groups):
        lines.append(f"  - {{id: {g}, label: {g}, dose: {i * 10}, dose_unit: mg/kg/day"
                     f"{', control: true' if i == 0 else ''}}}")
    lines.append("subjects: subjects.csv")
    (folder / "study.yaml").write_text("\n".join(lines) + "\n")
    rows = ["subject,group,sex"] + [",".join(s) for s in subjects]
    (folder / "subjects.csv").write_text("\n".join(rows) + "\n")
    return folder / "study.yaml"


@pytest.fixture
def make_study(tmp_path):
    """Write a study into tmp_path and load it."""
    def _make(subjects, groups=("C", "H")):
        return load_study(write_study(tmp_path, subjects, groups))
    return _make
