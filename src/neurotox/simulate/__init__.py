"""Generators of realistic example studies with known truth.

Each generator writes a complete study folder (``study.yaml``, subjects,
layouts and raw files in an instrument's format) from a fixed seed, and returns
the truth it planted. Generators register under a *kind* name used by
``neurotox simulate KIND``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neurotox.errors import InputError, quoted


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


def get_simulator(kind: str) -> Simulator:
    """The generator for ``kind``; InputError naming the known kinds otherwise."""
    _load_all()
    try:
        return _SIMULATORS[kind]
    except KeyError:
        raise InputError(f"unknown simulation kind {kind!r}; known: "
                         f"{quoted(_SIMULATORS)}") from None


def list_simulators() -> list[Simulator]:
    """Registered generators, sorted by kind."""
    _load_all()
    return [_SIMULATORS[k] for k in sorted(_SIMULATORS)]


def _load_all() -> None:
    # Importing the assays package imports every assay module, which registers its
    # simulators. Done lazily so importing neurotox.simulate stays cheap.
    import neurotox.assays  # noqa: F401
    import neurotox.simulate.neurochem  # noqa: F401


def write_study_yaml(folder: Path, doc: dict[str, Any]) -> Path:
    """Write ``study.yaml`` (block style, key order kept)."""
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
