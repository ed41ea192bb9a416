"""Analyte names as exports spell them → registered neurochemical endpoints."""

from __future__ import annotations

import pandas as pd
import pytest

from neurotox.assays.neurochem.analytes import (
    ANALYTES,
    check_named,
    endpoint_name,
    export_analytes,
    normalise,
    resolve,
)
from neurotox.endpoints import list_endpoints, registry
from neurotox.errors import InputError
from neurotox.vocab import Category

XPONENT_30 = ["FGF", "IL1B", "G-CSF", "IL10", "IL13", "IL6", "IL12", "RANTES", "EOTAXIN", "IL17",
              "MIP1A", "GMCSF", "MIP1B", "MCP1", "IL15", "EGF", "IL5", "HGF", "VEGF", "IFNg",
              "IFNa", "IL1RA", "TNFa", "IL2", "IL7", "IP10", "IL2R", "MIG", "IL4", "IL8"]
BIOPLEX = ["Hu IL-1b (32)", "Hu IL-1ra (25)", "Hu IL-12(p70) (75)", "Hu Eotaxin (43)",
           "Hu FGF basic (44)", "Hu G-CSF (57)", "Hu GM-CSF (34)", "Hu IFN-g (21)",
           "Hu IP-10 (41)", "Hu MCP-1(MCAF) (53)", "Hu MIP-1a (55)", "Hu PDGF bb (47)",
           "Hu TNF-a (36)", "IFN-gamma (35)", "TNF-alpha (40)", "IL-12p70 (25)", "IL-1b (1)"]


def test_registry_and_analyte_table_in_step():
    names = {e.name for e in list_endpoints(assay="neurochem")}
    expected = {endpoint_name(a, n) for a in ANALYTES for n in ("none", "protein", "tissue")}
    assert names == expected
    for a in ANALYTES:
        assert registry()[a.key].direction.value == a.direction
        assert registry()[a.key].unit == "pg/mL"
        assert registry()[f"{a.key}_per_protein"].unit == "pg/mg protein"


def test_category_neurochemical_is_populated():
    eps = {e.name for e in list_endpoints(category=Category.NEUROCHEMICAL)}
    assert {"il6", "il1b", "gm_csf", "ccl11", "cxcl10", "gfap", "nfl", "brain_che_activity",
            "rbc_che_activity", "brain_che_percent_control"} <= eps


@pytest.mark.parametrize("name", XPONENT_30 + BIOPLEX)
def test_every_name_the_real_exports_carry_resolves(name):
    assert resolve(name).key in {a.key for a in ANALYTES}


@pytest.mark.parametrize("name, key", [
    ("Hu IL-6 (19)", "il6"), ("IL-6", "il6"), ("EOTAXIN", "ccl11"), ("IP10", "cxcl10"),
    ("Hu GM-CSF (34)", "gm_csf"), ("M-CSF", "m_csf"), ("G-CSF", "g_csf"), ("IL-1β", "il1b"),
    ("Ms KC/GRO", "cxcl1"), ("NF-L", "nfl"), ("Neurofilament light", "nfl"), ("GFAP", "gfap"),
    ("Rat IL-6", "il6"), ("MIG", "cxcl9"), ("IL-12(p70)", "il12p70")])
def test_aliases(name, key):
    assert resolve(name).key == key


def test_unknown_analyte_says_did_you_mean_and_how_to_fix():
    with pytest.raises(InputError, match=r"analyte 'IL-66' is not a registered neurochemical "
                                         r"endpoint \(did you mean 'il6', IL-6\?\); map it"):
        resolve("IL-66", where="x.csv")
    with pytest.raises(InputError, match="ignore_analytes"):
        resolve("Bead 99")


def test_mapping_wins_and_is_checked():
    assert resolve("analyte1", mapping={"analyte1": "gfap"}).key == "gfap"
    with pytest.raises(InputError, match=r"maps 'analyte1' to 'gfp'.*did you mean 'gfap'"):
        resolve("analyte1", mapping={"analyte1": "gfp"})


def test_normalise():
    assert normalise("Hu IL-12(p70) (75)") == "il12p70"
    assert normalise("  Mouse  TNF-α ") == "tnfa"


def test_two_export_columns_onto_one_key_is_an_error_naming_both():
    got = export_analytes(["IL6", "IL1B", "IP10"], mapping={}, ignore=("IP10",), where="p.csv")
    assert {n: a.key for n, a in got.items()} == {"IL6": "il6", "IL1B": "il1b"}
    with pytest.raises(InputError, match=r"p.csv: analytes 'IL1B' and 'IL6' of the export both "
                                         r"map to 'il1b' \(IL-1β\), 'IL6' through parameter"):
        export_analytes(["IL1B", "IL6"], mapping={"IL6": "il1b"}, ignore=(), where="p.csv")
    with pytest.raises(InputError, match=r"analytes 'IL17' and 'IL-17A' .* map to 'il17a' "
                                         r"\(IL-17A\); one column's"):      # two aliases
        export_analytes(["IL17", "IL-17A"], mapping={}, ignore=(), where="p.csv")
    assert export_analytes(["IL1B", "IL6"], mapping={"IL6": "il1b"}, ignore=("IL1B",),
                           where="p.csv")["IL6"].key == "il1b"


def test_ignored_or_mapped_analyte_missing_from_every_export_is_an_error():
    check_named(("IL6",), {"IL6", "IP10"}, "ignore_analytes")
    with pytest.raises(InputError, match=r"parameter 'ignore_analytes': expected each name of "
                                         r"'ignore_analytes' to be an analyte of the exports, "
                                         r"found 'IL66' \(did you mean 'IL6'\?\); the exports' "
                                         r"analytes: 'IL6', 'IP10'"):
        check_named(("IL6", "IL66"), {"IL6", "IP10"}, "ignore_analytes")
    # stranger38: a typo in a key of 'analytes' was ignored, the analyte left unmapped
    check_named({"IP10": "cxcl10"}, {"IL6", "IP10"}, "analytes")
    with pytest.raises(InputError, match=r"parameter 'analytes': expected each name of "
                                         r"'analytes' to be an analyte of the exports, found "
                                         r"'IP01' \(did you mean 'IP10'\?\)"):
        check_named({"IP01": "cxcl10"}, {"IL6", "IP10"}, "analytes")


def test_a_subject_missing_one_analyte_at_a_time_point_is_warned_by_name():
    from neurotox.assays.neurochem.immunoassay import _analyte_gaps

    table = pd.DataFrame({
        "endpoint": ["il6", "il6", "il1b", "il1b", "il1b", "gfap"],
        "subject": ["A01", "A02", "A01", "A02", "A03", "A01"],
        "timepoint": ["serum_day7"] * 5 + ["csf_day7"]})
    assert _analyte_gaps(table) == [
        "warning: il6 (serum_day7): 1 subject(s) with other analytes at serum_day7 have no "
        "il6 value: 'A03'"]
