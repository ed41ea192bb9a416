"""The simulator registry: the :class:`Simulator` record, registration, ``study.yaml`` writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Simulator:
    """A registered example-study generator.

    ``write(folder, seed)`` writes the study into an existing empty ``folder`` and
    returns a dict of planted truth (JSON-serialisable).
    """

    kind: str
    description: str
    write: Callable[[Path, int], dict[str, Any]]


_SIMULATORS: dict[str, Simulator] = {}


def register_simulator(sim: Simulator) -> Simulator:
    """Add a generator to the registry."""
    _SIMULATORS[sim.kind] = sim
    return sim


def registered() -> dict[str, Simulator]:
    """The generators registered so far, by kind."""
    return _SIMULATORS


def write_study_yaml(folder: Path, doc: dict[str, Any]) -> Path:
    """Write ``study.yaml`` (block style, key order kept)."""
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
