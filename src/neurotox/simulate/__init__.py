"""Generators of realistic example studies with known truth, one module per assay family.

Each generator writes a complete study folder (``study.yaml``, subjects,
layouts and raw files in an instrument's format) from a fixed seed, and returns
the truth it planted. Generators register under a *kind* name used by
``neurotox simulate KIND``: :mod:`.neurite` (``neurite-plate``),
:mod:`.zebrafish` (``zebrafish-lpr``), :mod:`.rodent` (``nor``, ``tmaze``),
:mod:`.battery` (``oecd-424``), :mod:`.dnt` (``oecd-426``) and :mod:`.cipn`
(``cipn``); :mod:`.base` holds
the registry. Simulators import what they need from :mod:`neurotox.assays`
(parameters, names); assays never import simulators.
"""

from __future__ import annotations

from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.simulate.base import Simulator, register_simulator, registered, write_study_yaml

__all__ = ["Simulator", "get_simulator", "list_simulators", "register_simulator",
           "write_study_yaml"]


def get_simulator(kind: str) -> Simulator:
    """The generator for ``kind``; InputError naming the known kinds otherwise."""
    _load_all()
    try:
        return registered()[kind]
    except KeyError:
        raise InputError(f"unknown simulation kind {kind!r}{did_you_mean(kind, registered())}"
                         f"; known: {quoted(registered())}") from None


def list_simulators() -> list[Simulator]:
    """Registered generators, sorted by kind."""
    _load_all()
    sims = registered()
    return [sims[k] for k in sorted(sims)]


def _load_all() -> None:
    # Importing a family module registers its simulators. Done lazily so importing
    # neurotox.simulate stays cheap.
    from neurotox.simulate import battery, cipn, dnt, neurite, neurochem, rodent, zebrafish  # noqa: F401
