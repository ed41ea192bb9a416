"""Analytes of the neurochemistry assays: names as exports spell them → registry endpoints.

Every analyte has three registered endpoints (``registry/neurochem.yaml``, kept
in step with :data:`ANALYTES` by a test): ``<key>`` for body fluids (serum,
plasma, CSF; concentration per mL), ``<key>_per_protein`` for tissue
homogenates normalised to total protein and ``<key>_per_tissue`` normalised to
tissue weight. Export names are matched after removing the species prefix
(``Hu``, ``Ms``, ``Rat`` …), the bead region (``(19)``), case, Greek letters and
punctuation, so that ``Hu IL-6 (19)``, ``IL6`` and ``IL-6`` are all ``il6``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from neurotox.errors import InputError, did_you_mean, quoted


@dataclass(frozen=True)
class Analyte:
    """One analyte: registry key, display label, adverse direction and name aliases."""

    key: str
    label: str
    direction: str
    aliases: tuple[str, ...] = ()
    group: str = "cytokine"


def _a(key: str, label: str, direction: str = "increase", *aliases: str,
       group: str = "cytokine") -> Analyte:
    return Analyte(key, label, direction, aliases, group)


#: Registered analytes (cytokines, chemokines, growth factors, CNS injury markers).
ANALYTES: tuple[Analyte, ...] = (
    _a("il1a", "IL-1α", "increase", "il1alpha"),
    _a("il1b", "IL-1β", "increase", "il1beta"),
    _a("il1ra", "IL-1RA", "either", "il1receptorantagonist", "il1rn"),
    _a("il2", "IL-2"),
    _a("il2r", "sIL-2Rα", "increase", "il2ra", "sil2r", "sil2ra", "cd25"),
    _a("il3", "IL-3"),
    _a("il4", "IL-4", "either"),
    _a("il5", "IL-5"),
    _a("il6", "IL-6"),
    _a("il7", "IL-7"),
    _a("il8", "IL-8 (CXCL8)", "increase", "cxcl8", group="chemokine"),
    _a("il9", "IL-9"),
    _a("il10", "IL-10", "either"),
    _a("il12p40", "IL-12p40"),
    _a("il12p70", "IL-12p70", "increase", "il12"),
    _a("il13", "IL-13", "either"),
    _a("il15", "IL-15"),
    _a("il17a", "IL-17A", "increase", "il17"),
    _a("il18", "IL-18"),
    _a("il33", "IL-33"),
    _a("tnfa", "TNF-α", "increase", "tnfalpha", "tnf"),
    _a("ifng", "IFN-γ", "increase", "ifngamma"),
    _a("ifna", "IFN-α", "increase", "ifnalpha", "ifna2"),
    _a("gm_csf", "GM-CSF", "increase", "gmcsf", "csf2"),
    _a("g_csf", "G-CSF", "increase", "gcsf", "csf3"),
    _a("m_csf", "M-CSF", "increase", "mcsf", "csf1"),
    _a("ccl2", "CCL2 (MCP-1)", "increase", "mcp1", "mcp1mcaf", "mcaf", "je",
       group="chemokine"),
    _a("ccl3", "CCL3 (MIP-1α)", "increase", "mip1a", "mip1alpha", group="chemokine"),
    _a("ccl4", "CCL4 (MIP-1β)", "increase", "mip1b", "mip1beta", group="chemokine"),
    _a("ccl5", "CCL5 (RANTES)", "increase", "rantes", group="chemokine"),
    _a("ccl11", "CCL11 (eotaxin)", "increase", "eotaxin", "eotaxin1", group="chemokine"),
    _a("cxcl1", "CXCL1 (KC/GRO)", "increase", "kc", "gro", "groa", "kcgro", "cinc1",
       group="chemokine"),
    _a("cxcl9", "CXCL9 (MIG)", "increase", "mig", group="chemokine"),
    _a("cxcl10", "CXCL10 (IP-10)", "increase", "ip10", group="chemokine"),
    _a("vegf", "VEGF", "either", "vegfa", group="growth_factor"),
    _a("egf", "EGF", "either", group="growth_factor"),
    _a("fgf2", "FGF-2 (basic FGF)", "either", "fgfbasic", "fgf", "bfgf", "basicfgf",
       group="growth_factor"),
    _a("hgf", "HGF", "either", group="growth_factor"),
    _a("pdgf_bb", "PDGF-BB", "either", "pdgfbb", group="growth_factor"),
    _a("lif", "LIF", "either", group="growth_factor"),
    _a("gfap", "GFAP", "increase", "glialfibrillaryacidicprotein", group="injury"),
    _a("nfl", "Neurofilament light (NfL)", "increase", "nefl", "neurofilamentlight",
       "neurofilamentlightchain", "nfl", group="injury"),
    _a("s100b", "S100B", "increase", group="injury"),
    _a("uchl1", "UCH-L1", "increase", "ubiquitincarboxyterminalhydrolasel1", group="injury"),
    _a("tau", "Total tau", "increase", "totaltau", "ttau", "mapt", group="injury"),
)

#: Normalisation → endpoint suffix and unit denominator.
NORMALISATIONS = {"none": "", "protein": "_per_protein", "tissue": "_per_tissue"}

_SPECIES = re.compile(r"^(hu|human|ms|mouse|mu|murine|rat|rt|nhp|cyno|rh)[\s_.:]+",
                      re.IGNORECASE)
_REGION = re.compile(r"\s*\(\s*\d+\s*\)\s*$")
_GREEK = str.maketrans({"α": "a", "β": "b", "γ": "g", "κ": "k", "ɑ": "a"})


def normalise(name: str) -> str:
    """Matching key of an export's analyte name (``Hu IL-6 (19)`` → ``il6``)."""
    text = _REGION.sub("", str(name).strip())
    text = _SPECIES.sub("", text).translate(_GREEK).lower()
    return re.sub(r"[^0-9a-z]+", "", text)


def _lookup() -> dict[str, Analyte]:
    out: dict[str, Analyte] = {}
    for a in ANALYTES:
        for alias in (a.key, *a.aliases):
            out[re.sub(r"[^0-9a-z]+", "", alias)] = a
    return out


_BY_NAME = _lookup()
BY_KEY = {a.key: a for a in ANALYTES}


def resolve(name: str, *, mapping: dict[str, str] | None = None,
            where: str | None = None) -> Analyte:
    """The registered analyte an export name stands for.

    Parameters
    ----------
    name
        Analyte as the export spells it.
    mapping
        Export name → analyte key, from the protocol or study (``analytes:``);
        wins over the built-in aliases.
    where
        File and place named in the error.

    Raises
    ------
    InputError
        The name matches no registered analyte; the message suggests the closest
        and says how to map or ignore it.

    """
    mapping = mapping or {}
    if name in mapping:
        key = mapping[name]
        if key not in BY_KEY:
            raise InputError(f"parameter 'analytes' maps {name!r} to {key!r}, which is not a "
                             f"registered analyte{_suggest(key, BY_KEY)}",
                             where="parameter 'analytes'")
        return BY_KEY[key]
    hit = _BY_NAME.get(normalise(name))
    if hit is not None:
        return hit
    raise InputError(f"analyte {name!r} is not a registered neurochemical endpoint"
                     f"{_suggest(normalise(name), _BY_NAME)}; map it with the parameter "
                     f"'analytes: {{{name!r}: <key>}}' or leave it out with "
                     f"'ignore_analytes: [{name!r}]' (see 'neurotox endpoints list "
                     "--category neurochemical')", where=where)


def export_analytes(names: list[str], *, mapping: dict[str, str], ignore: tuple[str, ...],
                    where: str | None) -> dict[str, Analyte]:
    """An export's analyte names (less the ignored ones) → registered analytes.

    Raises
    ------
    InputError
        Two names of one export stand for the same analyte (``analytes: {IL6: il1b}``
        beside an ``IL1B`` column, or two aliases): one column's values would replace
        the other's under one endpoint. The message names both columns.

    """
    out: dict[str, Analyte] = {}
    by_key: dict[str, str] = {}
    for name in names:
        if name in ignore:
            continue
        analyte = resolve(name, mapping=mapping, where=where)
        if analyte.key in by_key:
            first = by_key[analyte.key]
            how = [f"{n!r} through parameter 'analytes'" for n in (first, name) if n in mapping]
            raise InputError(f"analytes {first!r} and {name!r} of the export both map to "
                             f"{analyte.key!r} ({analyte.label})"
                             + (f", {' and '.join(how)}" if how else "")
                             + "; one column's values would replace the other's: map them to "
                             "different keys or leave one out with 'ignore_analytes'",
                             where=where)
        by_key[analyte.key] = name
        out[name] = analyte
    return out


def check_named(names: Iterable[str], seen: set[str], parameter: str) -> None:
    """Every export analyte a parameter names must be one some export has (typos are errors).

    ``parameter``: ``ignore_analytes`` (its names) or ``analytes`` (its mapping's keys).

    Raises
    ------
    InputError
        A name no export has, with the closest export analyte.

    """
    for name in names:
        if name in seen:
            continue
        hint = did_you_mean(name, sorted(seen))    # 'IL6' for 'il6': case too
        raise InputError(f"expected each name of {parameter!r} to be an analyte of the "
                         f"exports, found {name!r}{hint}; the exports' analytes: "
                         f"{quoted(seen, limit=12)}", where=f"parameter {parameter!r}")


def _suggest(key: str, known: dict[str, Analyte]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if not close:
        return ""
    hit = known[close[0]]
    return f" (did you mean {hit.key!r}, {hit.label}?)"


def endpoint_name(analyte: Analyte, normalisation: str) -> str:
    """Registry endpoint of an analyte under a normalisation (``il6_per_protein``)."""
    return analyte.key + NORMALISATIONS[normalisation]


def known_keys() -> str:
    """Registered analyte keys, quoted and sorted (for messages)."""
    return quoted(BY_KEY)
