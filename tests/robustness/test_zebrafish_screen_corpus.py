"""Malformed screen tables through ``neurotox zebrafish-screen``.

Base files: a tiny EPA lmr0 table (two chemicals on one plate, shared vehicle row)
and a Tanguay morphology table listing the shared vehicle wells under both chemicals.
"""

from __future__ import annotations

import gzip

import pytest

from tests.robustness.corpus import Case, run_case, run_ok

HEAD = "srcf,acid,cpid,apid,rowi,coli,wllt,wllq,conc,vt1,vt2,vt3,vt4"


def _lmr0_rows() -> list[str]:
    rows = []
    for r, conc in ((1, 1.0), (2, 10.0)):
        for c in range(1, 7):
            chem = "725" if c <= 3 else "1021"
            rows.append(f"f,ZFlmr-4-2-2,{chem},P1,{r},{c},t,1,{conc},{c}.5,1,2,{r}")
    rows += [f"f,ZFlmr-4-2-2,DMSO,P1,8,{c},v,1,0,1,1.5,2,1" for c in range(1, 5)]
    return rows


LMR0 = "\n".join([HEAD, *_lmr0_rows()]) + "\n"
MORPH_HEAD = "chemical.id,conc,plate.id,well,MO24,MORT,PE__,DNC_"
MORPH = "\n".join([MORPH_HEAD] + [
    f"{'725' if c <= 3 else '1021'},{conc},P1,{r}{c:02d},0,0,{int(c == 6 and r == 'B')},0"
    for r, conc in (("A", 1), ("B", 10)) for c in range(1, 7)] + [
    f"{chem},0,P1,H{c:02d},0,0,0,0" for chem in ("725", "1021") for c in range(1, 5)]) + "\n"


# the lmr0 assay ID ZFlmr-4-2-2: 4 min acclimation, 2 min light, 2 min dark (480 s); the
# protocol's schedule lasts 100 min, and an export shorter than the schedule is refused
SCHEDULE = ("--set", "schedule=[{name: acclimation, light: false, duration_s: 240}, "
            "{name: light1, light: true, duration_s: 120}, "
            "{name: dark1, light: false, duration_s: 120}]")


def zs(*files: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return ("zebrafish-screen", *(f"{{dir}}/{f}" for f in files), "--workers", "1",
            "--set", "morphology_bmd=none", *SCHEDULE, *extra, "-o", "{out}")


def lmr0(old: str, new: str) -> dict:
    assert old in LMR0, old
    return {"s.csv": LMR0.replace(old, new, 1)}


def morph(old: str, new: str) -> dict:
    assert old in MORPH, old
    return {"m.csv": MORPH.replace(old, new, 1)}


CASES = [
    # --- hostile inputs (attack24); 1e308 printed an overflow warning before the error
    Case("lmr0-column-named-twice", {**lmr0("vt3,vt4", "vt3,vt3"), "m.csv": MORPH},
         zs("s.csv", "m.csv"), "line 1: column 'vt3' appears twice in the header", "s.csv"),
    Case("morph-column-named-twice", {"s.csv": LMR0, **morph("PE__,DNC_", "PE__,PE__")},
         zs("s.csv", "m.csv"), "line 1: column 'PE__' appears twice in the header", "m.csv"),
    Case("lmr0-distance-1e308", {**lmr0(",1.5,1,2,1", ",1e308,1,2,1"), "m.csv": MORPH},
         zs("s.csv", "m.csv"), "line 2, cell 10: value '1e308' is too large to analyse",
         "s.csv"),
    Case("lmr0-given-twice", {"s.csv": LMR0, "m.csv": MORPH}, zs("s.csv", "s.csv", "m.csv"),
         "s.csv' is given twice", "s.csv"),
    Case("lmr0-wllq-two", lmr0("P1,1,2,t,1,", "P1,1,2,t,2,"), zs("s.csv"),
         "line 3, column 'wllq': expected well quality 0 or 1, found 2", "s.csv"),
    Case("lmr0-row-out-of-plate", lmr0("P1,8,1,v", "P1,17,1,v"), zs("s.csv"),
         "column 'rowi': expected a whole number 1-16, found 17", "s.csv"),
    Case("lmr0-text-distance", lmr0(",1.5,1,2,1\n", ",1.5,x,2,1\n"), zs("s.csv"),
         "column 'vt2': expected a number, found 'x'", "s.csv"),
    Case("lmr0-missing-conc", {"s.csv": LMR0.replace("wllq,conc,", "wllq,dose,")}, zs("s.csv"),
         "expected column(s) 'conc'", "s.csv"),
    Case("lmr0-larva-twice", lmr0("f,ZFlmr-4-2-2,725,P1,1,2,", "f,ZFlmr-4-2-2,725,P1,1,1,"),
         zs("s.csv"), "expected each larva and bin once", "s.csv"),
    Case("lmr0-corrupt-gzip", {"s.csv.gz": b"\x1f\x8b\x08\x00" + b"\x00" * 30},
         zs("s.csv.gz"), "gzip", "s.csv.gz"),
    Case("lmr0-empty", {"s.csv": ""}, zs("s.csv"), "the file is empty (0 bytes)", "s.csv"),
    Case("screen-unknown-chemical", {"s.csv": LMR0}, zs("s.csv", extra=("--set",
                                                                        "chemicals=[999]")),
         "chemical(s) '999' not in the screen", "chemicals"),
    Case("screen-typo-in-set", {"s.csv": LMR0}, zs("s.csv", extra=("--set", "chemcials=725")),
         "chemcials", "--param"),
    Case("morph-conflicting-shared-well", morph("1021,0,P1,H02,0,0,0,0", "1021,0,P1,H02,1,0,0,0"),
         zs("m.csv"), "well 'H02' of plate 'P1' is listed in data rows 14 and 18 with different "
                      "'MO24' (0 vs 1)", "m.csv"),
    Case("morph-call-two", morph("725,1,P1,A01,0,0,0,0", "725,1,P1,A01,0,2,0,0"), zs("m.csv"),
         "line 2, column 'MORT': expected a call 0, 1 or blank, found 2", "m.csv"),
    Case("morph-no-chemical", {"m.csv": "conc,plate.id,well,MO24\n0,P1,A01,0\n1,P1,A02,1\n"},
         zs("m.csv"), "a screen needs a chemical per well", "m.csv"),
    Case("screen-existing-output", {"s.csv": LMR0}, zs("s.csv"), "exists", "out",
         previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_zebrafish_screen_case(case, tmp_path):
    run_case(case, tmp_path)


def test_identical_shared_vehicle_rows_are_one_well_and_noted(tmp_path):
    manifest = run_ok({"s.csv": LMR0, "m.csv": MORPH}, zs("s.csv", "m.csv"), tmp_path)
    assert any("4 well(s) listed more than once with identical calls" in n
               for n in manifest["notes"])
    larvae = (tmp_path / "out" / "larvae.csv").read_text()
    assert "725; 1021" in larvae


def test_gzipped_lmr0_reads_like_the_csv(tmp_path):
    (tmp_path / "z").mkdir()
    with gzip.open(tmp_path / "z" / "s.csv.gz", "wt") as f:
        f.write(LMR0)
    a = run_ok({"s.csv": LMR0}, zs("s.csv"), tmp_path / "a")
    b = run_ok({}, ("zebrafish-screen", str(tmp_path / "z" / "s.csv.gz"), "--workers", "1",
                    *SCHEDULE, "-o", "{out}"), tmp_path / "z")
    assert a["notes"][1:] and any("interval width 120 s" in n for n in b["notes"])
    ea = (tmp_path / "a" / "out" / "endpoints.csv").read_text().splitlines()
    eb = (tmp_path / "z" / "out" / "endpoints.csv").read_text().splitlines()
    assert [r.split(",", 7)[4:7] for r in ea] == [r.split(",", 7)[4:7] for r in eb]
