"""The cipn assay on hand-made sheets: every value checked against a hand computation."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import pytest
from tests.unit.cipn.conftest import run, value

from neurotox.errors import InputError

THERMAL = """subject,day,test,trial,value
C1,-1,hargreaves,1,10.0
C1,-1,hargreaves,2,12.0
C1,7,hargreaves,1,20
C1,7,hargreaves,2,14.0
C2,-1,hargreaves,1,8.0
C2,7,hargreaves,1,5.0
C3,-1,hargreaves,1,20
C3,7,hargreaves,1,9.0
"""


def test_latency_mean_censoring_and_mpe(folder):
    res = run(folder, {"thermal.csv": THERMAL})
    t = res.endpoints
    c1 = value(t, "hargreaves_latency", "C1", "day7")
    assert c1["value"] == 17.0 and c1["censoring"] == "right"  # one trial at the cut-off
    assert value(t, "hargreaves_latency", "C1", "day-1")["censoring"] == "none"
    # %MPE = 100 (post - base) / (cut-off - base)
    assert value(t, "hargreaves_mpe", "C1", "day7")["value"] == pytest.approx(100 * 6 / 9)
    assert value(t, "hargreaves_mpe", "C2", "day7")["value"] == pytest.approx(100 * -3 / 12)
    c3 = value(t, "hargreaves_mpe", "C3", "day7")
    assert c3["excluded"] and "baseline latency at the cut-off" in c3["exclusion_reason"]
    assert "1 of 6 sessions" not in " ".join(res.notes)
    assert any("cut-off 20 s; 2 of 6 sessions reached it" in n for n in res.notes)
    # baseline covariate twin (protocol baseline_covariate: true): C3's baseline at the cut-off
    # is censored and enters at its bound, named in a note (it was left out silently)
    twin = t[t["endpoint"] == "hargreaves_latency_baseline"].set_index("subject")["value"]
    assert twin.to_dict() == {"C1": 11.0, "C2": 8.0, "C3": 20.0}
    assert any(n.startswith("1 baseline value(s) at day-1 are censored (beyond the test's "
                            "range: C3 hargreaves_latency 20)") for n in res.notes)


@pytest.mark.parametrize("mark", [">20", "> 20", ">=20", "\u226520", "20+", "20*", "20.0+",
                                  "cut-off", "Cutoff", "cut off", "CUT_OFF"])
def test_a_latency_written_as_at_the_cut_off_is_the_cut_off(folder, mark):
    # C1 day7 trial 1 and C3 day-1: as the sheet with 20 (the cut-off) in those cells
    res = run(folder, {"thermal.csv": THERMAL.replace(",20\n", f",{mark}\n")})
    t = res.endpoints
    c1 = value(t, "hargreaves_latency", "C1", "day7")
    assert c1["value"] == 17.0 and c1["censoring"] == "right"
    assert value(t, "hargreaves_mpe", "C1", "day7")["value"] == pytest.approx(100 * 6 / 9)
    assert value(t, "hargreaves_latency", "C3", "day-1")["censoring"] == "right"
    assert f"thermal.csv: hargreaves: 2 latencies written as at the cut-off ({mark!r}) read " \
           "as the cut-off, 20 s (right-censored)" in res.notes


@pytest.mark.parametrize("mark, found", [(">15", "'>15'"), ("19*", "'19*'")])
def test_a_cut_off_marker_at_another_cut_off_is_refused(folder, mark, found):
    with pytest.raises(InputError, match=r"thermal.csv, row 4, column 'value': hargreaves: a "
                       r"latency marked at a cut-off other than the protocol's 20 s "
                       rf"\(parameter 'cutoff_s'\), found {re.escape(found)}$"):
        run(folder, {"thermal.csv": THERMAL.replace("C1,7,hargreaves,1,20\n",
                                                    f"C1,7,hargreaves,1,{mark}\n")})


def test_cut_off_markers_only_in_latencies(folder):
    # an electronic von Frey force or a cold-plate count has no cut-off: still not a number
    with pytest.raises(InputError, match=r"row 2, column 'value': expected a number, "
                       r"found '>20'"):
        run(folder, {"evf.csv": "subject,day,test,value\nC1,1,electronic von frey,>20\n"})
    with pytest.raises(InputError, match=r"row 2, column 'value': cold_plate: a cut-off "
                       r"marker in a count \(cold_plate_measure: count\), found 'cut-off'"):
        run(folder, {"cp.csv": "subject,day,test,value\nC1,1,cold plate,cut-off\n"},
            cold_plate_measure="count")


def test_a_session_missing_a_trial_is_noted_with_its_mean(folder):
    # C1 day7 lost its second trial (a deleted row): the mean of one trial, noted
    text = "".join(f"C{a},{d},hargreaves,{t},{v}\n" for a, d, t, v in (
        (1, -1, 1, 10.0), (1, -1, 2, 12.0), (1, 7, 1, 14.0),
        (2, -1, 1, 8.0), (2, -1, 2, 9.0), (2, 7, 1, 5.0), (2, 7, 2, 6.0)))
    res = run(folder, {"thermal.csv": "subject,day,test,trial,value\n" + text})
    assert value(res.endpoints, "hargreaves_latency", "C1", "day7")["value"] == 14.0
    assert ("thermal.csv: hargreaves: 1 session(s) with fewer trials than the other sessions' "
            "2 (a trial missing from the sheet), averaged over those present: C1 day7 (1, "
            "row 4)") in res.notes


def test_an_acetone_session_missing_an_application_is_not_summed(folder):
    # C2 day7's application 1 (a score of 2) lost: a sum of 2 of 3 (1) is not the animal's
    text = "subject,day,test,trial,value\n" + "".join(
        f"C{a},7,acetone,{t},{v}\n" for a, t, v in (
            (1, 1, 2), (1, 2, 3), (1, 3, 0), (2, 2, 1), (2, 3, 0), (3, 1, 1), (3, 2, 1),
            (3, 3, 1)))
    res = run(folder, {"acetone.csv": text})
    assert value(res.endpoints, "acetone_score", "C1", "day7")["value"] == 5
    c2 = value(res.endpoints, "acetone_score", "C2", "day7")
    assert c2["excluded"] and math.isnan(c2["value"])
    assert c2["exclusion_reason"] == ("2 of 3 acetone applications scored (sum of those 1): a "
                                      "sum over fewer applications is not comparable")
    assert ("warning: acetone.csv: acetone: 1 session(s) with fewer applications than the other "
            "sessions' 3: sum not computed, excluded: C2 day7 (2 of 3, rows 5-6)") in res.notes
    wide = ("subject,day7,day7_trial2,day7_trial3\nC1,2,3,0\nC2,,1,0\nC3,1,1,1\n")
    got = run(folder, {"acetone.csv": wide}, test="acetone")      # an empty wide-sheet cell
    c2 = value(got.endpoints, "acetone_score", "C2", "day7")
    assert c2["excluded"] and c2["exclusion_reason"].startswith("2 of 3 acetone applications")
    res = run(folder, {"acetone.csv": text}, acetone_aggregate="mean")
    assert value(res.endpoints, "acetone_score", "C2", "day7")["value"] == 0.5
    assert any("acetone: 1 session(s) with fewer applications than the other sessions' 3" in n
               for n in res.notes)


@pytest.mark.parametrize("cell, match", [
    ("-1.0", "negative latency"),
    ("20.5", "above the hargreaves cut-off of 20 s"),
    ("", "no latency"),
])
def test_bad_latencies(folder, cell, match):
    text = THERMAL.replace("C2,7,hargreaves,1,5.0", f"C2,7,hargreaves,1,{cell}")
    with pytest.raises(InputError, match=match) as err:
        run(folder, {"thermal.csv": text})
    assert "row 7, column 'value'" in str(err.value)


def test_acetone_sum_and_bad_score(folder):
    text = "subject,day,test,trial,value\nC1,7,acetone,1,2\nC1,7,acetone,2,3\nC1,7,acetone,3,0\n"
    res = run(folder, {"acetone.csv": text})
    assert value(res.endpoints, "acetone_score", "C1", "day7")["value"] == 5
    res = run(folder, {"acetone.csv": text}, acetone_aggregate="mean")
    assert value(res.endpoints, "acetone_score", "C1", "day7")["value"] == pytest.approx(5 / 3)
    with pytest.raises(InputError, match="acetone score must be 0, 1, 2 or 3, found '2.5'"):
        run(folder, {"acetone.csv": text.replace(",2\n", ",2.5\n", 1)})


NCV = ("subject,day,test,distance_mm,proximal_latency_ms,distal_latency_ms,latency_ms,"
       "amplitude,temperature_c\n") + """C1,28,ncv_motor,30,2.5,1.0,,12.5,35
C1,28,ncv_caudal,50,,,1.25,40,37
"""


def test_ncv_with_and_without_temperature_correction(folder):
    t = run(folder, {"ncv.csv": NCV}, "nerve-conduction").endpoints
    assert value(t, "motor_ncv", "C1", "28")["value"] == pytest.approx(20.0)  # 30 / 1.5
    assert value(t, "caudal_ncv", "C1", "28")["value"] == pytest.approx(40.0)  # 50 / 1.25
    assert value(t, "cmap_amplitude", "C1", "28")["value"] == 12.5
    assert value(t, "caudal_amplitude", "C1", "28")["value"] == 40
    # cipn-paclitaxel-rat corrects to 37 °C at 1.5 m/s per °C: +3 m/s at 35 °C
    t = run(folder, {"ncv.csv": NCV}).endpoints
    assert value(t, "motor_ncv", "C1", "day28")["value"] == pytest.approx(23.0)
    assert value(t, "caudal_ncv", "C1", "day28")["value"] == pytest.approx(40.0)


@pytest.mark.parametrize("old, new, match", [
    ("2.5,1.0", "1.0,1.0", "proximal latency must exceed the distal latency"),
    (",1.25,", ",0,", "onset latency must be a positive number"),
    ("C1,28,ncv_motor,30", "C1,28,ncv_motor,-30", "distance must be a positive number"),
])
def test_bad_ncv(folder, old, new, match):
    with pytest.raises(InputError, match=match):
        run(folder, {"ncv.csv": NCV.replace(old, new)}, "nerve-conduction")


@pytest.mark.parametrize("old, new, message", [
    # latencies in s in the _ms columns gave 40 000 m/s, accepted (stranger47 #6)
    (",1.25,", ",0.00125,", "row 3, column 'latency_ms': ncv_caudal: conduction velocity "
     "40000 m/s (distance 50 mm, latency 0.00125 ms) is outside the rodent range 5-150 m/s: "
     "latencies in s, not ms? (or the distance in µm)"),
    ("2.5,1.0", "0.0025,0.001", "row 2, column 'proximal_latency_ms': ncv_motor: conduction "
     "velocity 20000 m/s (distance 30 mm, proximal − distal latency 0.0015 ms) is outside "
     "the rodent range 5-150 m/s: latencies in s, not ms? (or the distance in µm)"),
    ("C1,28,ncv_caudal,50", "C1,28,ncv_caudal,5", "row 3, column 'latency_ms': ncv_caudal: "
     "conduction velocity 4 m/s (distance 5 mm, latency 1.25 ms) is outside the rodent range "
     "5-150 m/s: the distance in cm, not mm? (or latencies in µs)"),
])
def test_an_implausible_conduction_velocity_is_refused_naming_the_unit_slip(folder, old, new,
                                                                            message):
    with pytest.raises(InputError) as err:
        run(folder, {"ncv.csv": NCV.replace(old, new)}, "nerve-conduction")
    assert str(err.value) == f"{folder / 'ncv.csv'}, {message}"


# 'Amplitude' without a unit: the fixture's CMAP (12.5) is in mV, its caudal NAP (40) in µV
# (under 'Amplitude (mV)' the caudal NAP is 40 000 µV, refused: see the amplitude tests)
BRACKETED = ("Animal,Day,Test,Distance (mm),Proximal latency (ms),Distal latency (ms),"
             "Latency (ms),Amplitude,Temperature (°C)\n")


def test_ncv_headers_with_units_in_brackets_are_read(folder):
    # 'Distance (mm)', 'Latency (ms)', 'Temperature (°C)' were refused (stranger47 #11)
    text = BRACKETED + NCV.split("\n", 1)[1]
    t = run(folder, {"ncv.csv": text}, "nerve-conduction").endpoints
    assert value(t, "motor_ncv", "C1", "28")["value"] == pytest.approx(20.0)
    assert value(t, "caudal_ncv", "C1", "28")["value"] == pytest.approx(40.0)
    cm = BRACKETED.replace("Distance (mm)", "Distance (cm)") + NCV.split("\n", 1)[1].replace(
        "ncv_motor,30,", "ncv_motor,3,").replace("ncv_caudal,50,", "ncv_caudal,5,")
    res = run(folder, {"ncv.csv": cm}, "nerve-conduction")
    assert value(res.endpoints, "caudal_ncv", "C1", "28")["value"] == pytest.approx(40.0)
    assert "ncv.csv: column 'Distance (cm)' converted to mm (× 10)" in res.notes
    with pytest.raises(InputError) as err:
        run(folder, {"ncv.csv": BRACKETED.replace("(mm)", "(in)", 1) + NCV.split("\n", 1)[1]},
            "nerve-conduction")
    assert str(err.value) == (f"{folder / 'ncv.csv'}, row 1: column 'Distance (in)': unit 'in' "
                              "is not one neurotox reads for distance; expected mm, cm or µm")



# the NCV fixture in seconds, centimetres and µV, as a lab sheet writes the units in headers
NCV_S_CM_UV = ("Animal,Day,Test,Distance (cm),Proximal latency (s),Distal latency (s),"
               "Latency (s),Amplitude (µV),Temperature (°C)\n"
               "C1,28,ncv_motor,3,0.0025,0.0010,,12500,35\n"
               "C1,28,ncv_caudal,5,,,0.00125,40,37\n")


def test_ncv_latency_in_s_and_amplitude_unit_are_read_from_the_headers(folder):
    # 'Latency (s)' of an NCV sheet was taken as a thermal 'value' and the sheet refused
    # naming a 'value' column it lacks (stranger50 N5); 'Amplitude (µV)' was stored as
    # written, a CMAP of 12500 'mV' (N6)
    res = run(folder, {"ncv.csv": NCV_S_CM_UV}, "nerve-conduction")
    t = res.endpoints
    assert value(t, "motor_ncv", "C1", "28")["value"] == pytest.approx(20.0)    # 30 mm / 1.5 ms
    assert value(t, "caudal_ncv", "C1", "28")["value"] == pytest.approx(40.0)   # 50 / 1.25
    motor = value(t, "cmap_amplitude", "C1", "28")
    assert motor["value"] == pytest.approx(12.5) and motor["unit"] == "mV"
    caudal = value(t, "caudal_amplitude", "C1", "28")
    assert caudal["value"] == pytest.approx(40.0) and caudal["unit"] == "uV"
    for note in ("ncv.csv: column 'Latency (s)' converted to ms (× 1000)",
                 "ncv.csv: column 'Distance (cm)' converted to mm (× 10)",
                 "ncv.csv: column 'Amplitude (µV)' converted to mV for ncv_motor (× 0.001)"):
        assert note in res.notes
    assert not any("Amplitude (µV)' converted to µV" in n for n in res.notes)


@pytest.mark.parametrize("header, motor, caudal, note", [
    ("Amplitude (mV)", "12.5", "0.04", "converted to µV for ncv_caudal (× 1000)"),
    ("amplitude_uv", "12500", "40", "converted to mV for ncv_motor (× 0.001)"),
    ("Amplitude", "12.5", "40", None)])     # no unit: as recorded, in the endpoint's unit
def test_an_amplitude_header_unit_is_converted_to_each_test_s_unit(folder, header, motor,
                                                                   caudal, note):
    text = (NCV.replace("amplitude", header).replace(",12.5,", f",{motor},")
            .replace(",40,", f",{caudal},"))
    res = run(folder, {"ncv.csv": text}, "nerve-conduction")
    assert value(res.endpoints, "cmap_amplitude", "C1", "28")["value"] == pytest.approx(12.5)
    assert value(res.endpoints, "caudal_amplitude", "C1", "28")["value"] == pytest.approx(40.0)
    said = [n for n in res.notes if "amplitude" in n.lower() and "converted" in n]
    assert said == ([] if note is None else [f"ncv.csv: column {header!r} {note}"])


def test_empty_brackets_in_a_header_are_refused_naming_the_column(folder):
    # 'Distance ()' was no distance column: the sheet was refused for lacking 'distance_mm'
    text = BRACKETED.replace("(mm)", "()", 1) + NCV.split("\n", 1)[1]
    with pytest.raises(InputError) as err:
        run(folder, {"ncv.csv": text}, "nerve-conduction")
    assert str(err.value) == (f"{folder / 'ncv.csv'}, row 1: column 'Distance ()': unit '' "
                              "is not one neurotox reads for distance; expected mm, cm or µm")


_CAUDAL = "ncv_caudal: amplitude {} is outside the rodent range 5-300 µV of a caudal nerve " \
          "action potential: "
_CMAP = "ncv_motor: amplitude {} is outside the rodent range 0.5-60 mV of a CMAP: "


@pytest.mark.parametrize("header, motor, caudal, message", [
    # the caudal NAP in µV under 'Amplitude (mV)' was stored as 44 500 µV
    ("Amplitude (mV)", "12.5", "44.5", "row 3, column 'Amplitude (mV)': " + _CAUDAL.format(
        "44500 µV (written 44.5 mV)") + "the ncv_caudal cells look like µV, not mV as the "
     "header says (44.5 µV)"),
    ("Amplitude (µV)", "12500", "0.04", "row 3, column 'Amplitude (µV)': " + _CAUDAL.format(
        "0.04 µV") + "the ncv_caudal cells look like mV, not µV as the header says (40 µV)"),
    ("Amplitude (µV)", "12.5", "40", "row 2, column 'Amplitude (µV)': " + _CMAP.format(
        "0.0125 mV (written 12.5 µV)") + "the ncv_motor cells look like mV, not µV as the "
     "header says (12.5 mV)"),
    ("amplitude", "12500", "40", "row 2, column 'amplitude': " + _CMAP.format("12500 mV")
     + "the ncv_motor cells look like µV, not mV as read without a unit in the header "
     "(12.5 mV)"),
    # 1000x the range but not a mV/µV slip: no unit to suggest
    ("amplitude", "12.5", "400000", "row 3, column 'amplitude': " + _CAUDAL.format("400000 µV")
     + "not an amplitude in µV; check the cells and the header's unit"),
    # less than 10x outside, but read as µV (0.55 mV) inside the CMAP range: a slip
    ("amplitude", "550", "40", "row 2, column 'amplitude': " + _CMAP.format("550 mV")
     + "the ncv_motor cells look like µV, not mV as read without a unit in the header "
     "(0.55 mV)"),
])
def test_an_amplitude_in_the_wrong_unit_is_refused_naming_the_likely_unit(folder, header,
                                                                          motor, caudal,
                                                                          message):
    text = (NCV.replace("amplitude", header).replace(",12.5,", f",{motor},")
            .replace(",40,", f",{caudal},"))
    with pytest.raises(InputError) as err:
        run(folder, {"ncv.csv": text}, "nerve-conduction")
    assert str(err.value) == f"{folder / 'ncv.csv'}, {message}"


def test_an_amplitude_moderately_outside_the_rodent_range_is_kept_with_a_warning(folder):
    # a CMAP of 0.3 mV (a severe axonal neuropathy) and a caudal NAP of 420 µV: kept as
    # recorded, one warning per test naming the rows
    text = (NCV.replace(",12.5,", ",0.3,").replace(",40,", ",420,")
            + "C2,28,ncv_caudal,50,,,1.25,2.5,37\n")
    res = run(folder, {"ncv.csv": text}, "nerve-conduction")
    assert value(res.endpoints, "cmap_amplitude", "C1", "28")["value"] == pytest.approx(0.3)
    assert value(res.endpoints, "caudal_amplitude", "C1", "28")["value"] == pytest.approx(420)
    assert value(res.endpoints, "caudal_amplitude", "C2", "28")["value"] == pytest.approx(2.5)
    said = [n for n in res.notes if "rodent range" in n]
    assert said == [
        "warning: ncv.csv: ncv_motor: amplitude outside the rodent range 0.5-60 mV of a CMAP "
        "(row 2: 0.3 mV), column 'amplitude'; kept as recorded: check the recordings and the "
        "unit",
        "warning: ncv.csv: ncv_caudal: amplitude outside the rodent range 5-300 µV of a caudal "
        "nerve action potential (row 3: 420 µV; row 4: 2.5 µV), column 'amplitude'; kept as "
        "recorded: check the recordings and the unit"]
    # inside the ranges: no warning
    assert not [n for n in run(folder, {"ncv.csv": NCV}, "nerve-conduction").notes
                if "rodent range" in n]


def test_a_latency_in_s_shared_by_thermal_and_ncv_rows_is_refused_naming_the_headers(folder):
    # one 'Latency (s)' column for a hargreaves and an NCV test: the thermal value, and the
    # NCV rows lack their onset latency; the message names the file's headers
    text = ("Animal,Day,Test,Distance (mm),Latency (s)\nC1,28,hargreaves,,12.0\n"
            "C1,28,ncv_caudal,50,0.00125\n")
    with pytest.raises(InputError) as err:
        run(folder, {"mixed.csv": text}, "nerve-conduction")
    assert str(err.value) == (
        f"{folder / 'mixed.csv'}: expected ncv_caudal column(s) 'latency_ms' (or 'Latency (ms)', "
        "'Onset latency (ms)'), found 'Animal', 'Day', 'Distance (mm)', 'Latency (s)', 'Test'; "
        "'Latency (s)' is read as the latency in s ('value') of the sheet's hargreaves rows: "
        "give the NCV onset latency a column of its own")

@pytest.mark.parametrize("header, scale, note", [
    ("latency (s)", 1, None),
    ("Latency (ms)", 1000, "thermal.csv: column 'Latency (ms)' read as the latency of the "
                           "thermal tests, converted from ms to s (÷ 1000)"),
    ("latency_ms", 1000, "thermal.csv: column 'latency_ms' read as the latency of the thermal "
                         "tests, converted from ms to s (÷ 1000)")])
def test_thermal_latency_headers_with_a_unit(folder, header, scale, note):
    want = run(folder, {"thermal.csv": THERMAL}).endpoints
    lines = THERMAL.splitlines()
    body = [",".join([*ln.split(",")[:-1], f"{float(ln.split(',')[-1]) * scale:g}"])
            for ln in lines[1:]]
    text = "\n".join([lines[0].replace(",value", f",{header}"), *body]) + "\n"
    res = run(folder, {"thermal.csv": text})
    pd.testing.assert_frame_equal(res.endpoints.drop(columns="source"),
                                  want.drop(columns="source"))
    assert note is None or note in res.notes


def test_ncv_correction_needs_temperature(folder):
    text = NCV.replace(",35\n", ",\n")
    with pytest.raises(InputError, match="recorded temperature .* is needed") as err:
        run(folder, {"ncv.csv": text})
    assert "row 2, column 'temperature_c'" in str(err.value)


def test_ienfd_mean_of_sections(folder):
    text = ("subject,day,section,fibres,length_mm\nC1,28,1,10,1.0\nC1,28,2,12,1.5\n"
            "C2,28,1,7,2.0\n")
    t = run(folder, {"ienfd.csv": text}, "nerve-conduction", test="ienfd").endpoints
    assert value(t, "ienfd", "C1", "28")["value"] == pytest.approx(9.0)  # (10 + 8) / 2
    assert value(t, "ienfd", "C2", "28")["value"] == pytest.approx(3.5)
    assert value(t, "ienfd", "C1", "28")["category"] == "structural"
    with pytest.raises(InputError, match="fibre count must be a whole number"):
        run(folder, {"ienfd.csv": text.replace(",10,", ",10.5,")}, "nerve-conduction",
            test="ienfd")


def test_evf_mean_and_minmax_trim(folder):
    text = "subject,day,trial,value\n" + "".join(
        f"C1,0,{i},{v}\n" for i, v in enumerate([10, 20, 30, 100], start=1))
    t = run(folder, {"evf.csv": text}, "nerve-conduction", test="electronic_von_frey").endpoints
    assert value(t, "evf_threshold", "C1", "0")["value"] == 40
    res = run(folder, {"evf.csv": text}, "nerve-conduction", test="electronic_von_frey",
              evf_trim="minmax")
    assert value(res.endpoints, "evf_threshold", "C1", "0")["value"] == 25
    assert any("2 trials trimmed" in n for n in res.notes)


UPDOWN_LONG = """mouse,day,xo_series,last_filament
C1,-1,oxooxx,5
C2,-1,xxxx,1
C3,-1,ooooo,8
T1,-1,oxoaxx,5
"""


def test_updown_long_out_of_range_policies(folder):
    text = UPDOWN_LONG.replace("T1,-1,oxoaxx,5\n", "")
    res = run(folder, {"vf.csv": text}, "von-frey-up-down")
    t = res.endpoints
    # the study keeps the default policy: the note names it and recommends rank
    assert any("2 up-down series out of range" in n and "censored.policy ('half'; 'rank' is "
               "recommended" in n for n in res.notes)
    c1 = value(t, "vf_threshold_updown", "C1", "-1")
    assert math.log10(c1["value"] * 1e4) == pytest.approx(3.61 - 0.169 * 0.4414286, abs=3e-4)
    c2, c3 = (value(t, "vf_threshold_updown", s, "-1") for s in ("C2", "C3"))
    assert (c2["value"], c2["censoring"]) == (0.0045, "left")
    assert (c3["value"], c3["censoring"]) == (5.495, "right")
    t = run(folder, {"vf.csv": text}, "von-frey-up-down", out_of_range="exclude").endpoints
    c2 = value(t, "vf_threshold_updown", "C2", "-1")
    assert c2["excluded"] and "all 4 responses X" in c2["exclusion_reason"]
    t = run(folder, {"vf.csv": text}, "von-frey-up-down", out_of_range="limit").endpoints
    assert value(t, "vf_threshold_updown", "C3", "-1")["censoring"] == "none"


def test_updown_bad_letter_names_row_and_column(folder):
    with pytest.raises(InputError, match=r"character 'A' at position 4") as err:
        run(folder, {"vf.csv": UPDOWN_LONG}, "von-frey-up-down")
    assert "row 5, column 'xo_series'" in str(err.value)


def test_updown_filament_not_in_set(folder):
    text = UPDOWN_LONG.replace("T1,-1,oxoaxx,5", "T1,-1,oxooxx,0.5")
    with pytest.raises(InputError, match="filament '0.5' is not in the set") as err:
        run(folder, {"vf.csv": text}, "von-frey-up-down")
    assert "row 5, column 'last_filament'" in str(err.value)


def _xlsx(df):
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()


@pytest.mark.parametrize("layout", ["in-cell", "column pair"])
def test_wide_lab_sheet_equals_long_table(folder, layout):
    long = run(folder, {"vf.csv": UPDOWN_LONG.replace("oxoaxx", "oxooxo")},
               "von-frey-up-down").endpoints
    if layout == "in-cell":
        wide = pd.DataFrame({"Animal": ["C1", "C2", "C3", "T1"],
                             "D-1": ["oxooxx/5", "xxxx (1)", "ooooo/8", "oxooxo/5"]})
    else:
        wide = pd.DataFrame({"Animal": ["C1", "C2", "C3", "T1"],
                             "D-1": ["oxooxx", "xxxx", "ooooo", "oxooxo"],
                             "D-1 filament": [5, 1, 8, 5]})
    got = run(folder, {"vf.xlsx": _xlsx(wide)}, "von-frey-up-down").endpoints
    assert set(got["timepoint"]) == {"d-1"}
    np.testing.assert_allclose(got.sort_values("subject")["value"],
                               long.sort_values("subject")["value"])
    assert list(got.sort_values("subject")["censoring"]) == ["none", "left", "right", "none"]


@pytest.mark.parametrize("cells, kind", [
    (["010011/5", "1111 (1)", "00000/8", "010010/5"], "0/1"),
    (["-+--++/5", "++++ (1)", "-----/8", "-+--+-/5"], "+/-"),
])
def test_series_in_0_1_or_signs_equal_x_o(folder, cells, kind):
    long = run(folder, {"vf.csv": UPDOWN_LONG.replace("oxoaxx", "oxooxo")},
               "von-frey-up-down").endpoints
    res = run(folder, {"vf.xlsx": _xlsx(pd.DataFrame({"Animal": ["C1", "C2", "C3", "T1"],
                                                      "D-1": cells}))}, "von-frey-up-down")
    got = res.endpoints.sort_values("subject")
    np.testing.assert_allclose(got["value"], long.sort_values("subject")["value"])
    # OXOOXX and OXOOXO on filament 5 (k = -0.169, +0.372), XXXX on
    # the weakest filament and OOOOO on the strongest: censored at their forces
    assert list(got["value"].round(4)) == [0.3432, 0.0045, 5.495, 0.5946]
    assert list(got["censoring"]) == ["none", "left", "right", "none"]
    assert [n.split(": ", 1)[1] for n in res.notes if "written with" in n] == [
        f"4 response series written with {kind} read as X/O ({kind[-1] if kind == '0/1' else '+'}"
        f" = withdrawal X, {kind[0] if kind == '0/1' else '-'} = no response O), first "
        f"{cells[0].split('/')[0]!r} (row 2)"]


def test_wide_sheet_needs_a_test(folder):
    wide = "subject,baseline,day7\nC1,10.5,8.0\n"
    with pytest.raises(InputError, match="no 'test' column: give the test"):
        run(folder, {"w.csv": wide}, "nerve-conduction")
    t = run(folder, {"w.csv": wide}, "hot-plate").endpoints
    assert value(t, "hot_plate_latency", "C1", "day7")["value"] == 8.0
    assert value(t, "hot_plate_mpe", "C1", "day7")["value"] == pytest.approx(
        100 * (8.0 - 10.5) / (30 - 10.5))


def test_unknown_test_and_subject(folder):
    with pytest.raises(InputError, match="unknown test 'von_fry'"):
        run(folder, {"x.csv": "subject,day,test,value\nC1,1,von fry,3\n"})
    with pytest.raises(InputError, match="animal 'Z9' is not in the study"):
        run(folder, {"x.csv": "subject,day,test,value\nZ9,1,hot_plate,3\n"})


def test_repeated_measurement_is_an_error(folder):
    text = "subject,day,test,value\nC1,1,hot_plate,3\nC1,1,hot_plate,4\n"
    with pytest.raises(InputError, match="hot_plate measurement .* appears twice"):
        run(folder, {"x.csv": text})


@pytest.mark.parametrize("temperature", ["350", "99999", "-40", "19.9", "42.5"])
def test_implausible_recording_temperature_is_an_error(folder, temperature):
    # 350 (for 35.0) used to give a corrected caudal NCV of -431 m/s, accepted
    text = NCV.replace(",35\n", f",{temperature}\n")
    with pytest.raises(InputError, match=r"row 2, column 'temperature_c': recording "
                                         r"temperature must be within 20-42 °C, found "
                                         rf"'{temperature}'") as err:
        run(folder, {"ncv.csv": text})
    assert err.value.path.endswith("ncv.csv")


@pytest.mark.parametrize("temperature, motor", [("20", 20.0 + 1.5 * 17), ("42", 20.0 - 7.5)])
def test_recording_temperature_at_the_limits_is_corrected(folder, temperature, motor):
    t = run(folder, {"ncv.csv": NCV.replace(",35\n", f",{temperature}\n")}).endpoints
    assert value(t, "motor_ncv", "C1", "day28")["value"] == pytest.approx(motor)


def test_corrected_velocity_not_positive_is_an_error(folder):
    # 30 mm / 6 ms = 5 m/s at 42 °C, corrected to 37 °C: 5 - 1.5 × 5 = -2.5 m/s
    text = NCV.replace("30,2.5,1.0,,12.5,35", "30,7.0,1.0,,12.5,42")
    with pytest.raises(InputError, match=r"row 2, column 'temperature_c': the velocity "
                                         r"corrected to 37 °C is not positive"):
        run(folder, {"ncv.csv": text})


@pytest.mark.parametrize("day", ["abc", "nan", "1e308", "7 days later", ""])
def test_text_that_is_no_timepoint_is_an_error(folder, day):
    text = THERMAL.replace("C1,7,hargreaves,1,", f"C1,{day},hargreaves,1,")
    match = "timepoint is empty" if day == "" else "too large to analyse" if day == "1e308" \
        else rf"expected a timepoint label: .*found '{day}'"
    with pytest.raises(InputError, match=match) as err:
        run(folder, {"thermal.csv": text})
    assert err.value.where == "row 4, column 'day'"   # the header as the file writes it


@pytest.mark.parametrize("day", ["day7", "D-1", "day 14", "Week4", "PND22", "baseline",
                                 "pre-dose", "24h", "-2", "7.5"])
def test_timepoint_labels_are_read(folder, day):
    text = THERMAL.replace("C1,7,hargreaves,", f"C1,{day},hargreaves,")
    t = run(folder, {"thermal.csv": text}, timepoint_prefix="").endpoints
    # D-1 is the protocol's baseline session 'day-1' written another way, and so is
    # every baseline spelling (docs/assays.md "The baseline session")
    label = {"D-1": "day-1", "baseline": "day-1", "pre-dose": "day-1"}.get(day, day)
    assert value(t, "hargreaves_latency", "C1", label)["value"] == pytest.approx(17.0)


@pytest.mark.parametrize("trial", ["abc", "nan", "1e308", "1.5"])
def test_trial_that_is_no_number_is_an_error(folder, trial):
    text = THERMAL.replace("C1,7,hargreaves,2,", f"C1,7,hargreaves,{trial},")
    match = rf"row 5, column 'trial': value '{trial}' is too large to analyse" \
        if trial == "1e308" else (rf"row 5, column 'trial': expected a trial number "
                                  rf"\(1, 2 ... or T1, T2 ...\), found '{trial}'")
    with pytest.raises(InputError, match=match):
        run(folder, {"thermal.csv": text})


def test_wide_sheet_column_that_is_no_session_is_an_error(folder):
    wide = "subject,baseline,day7,cage\nC1,10.5,8.0,4\n"
    with pytest.raises(InputError, match=r"w.csv, row 1, column 'cage': column 'cage' is not "
                                         r"a session of the wide layout"):
        run(folder, {"w.csv": wide}, "hot-plate")


def test_comma_in_a_number_of_a_comma_file_is_an_error(folder):
    text = THERMAL.replace("C1,7,hargreaves,1,20", 'C1,7,hargreaves,1,"1,150"')
    with pytest.raises(InputError, match=r"row 4, column 'value': expected a number, found "
                                         r"'1,150' \(a comma inside a number"):
        run(folder, {"thermal.csv": text})


@pytest.mark.parametrize(("header", "cell", "column", "expected"), [
    ("latency_s", "12.5", "value", 12.5),
    ("force_g", "4.2", "value", 4.2),
    ("onset_latency_ms", "1.5", "latency_ms", 1.5),
    ("temp_c", "37.1", "temperature_c", 37.1),
    ("epidermis_length_mm", "0.8", "length_mm", 0.8),
])
def test_unit_after_underscore_names_the_column(tmp_path, header, cell, column, expected):
    # read by the shared header-unit reader (once also CIPN aliases of their own)
    from neurotox.io.cipn import read_cipn

    path = tmp_path / "s.csv"
    value = "" if column == "value" else ",value"   # a hargreaves sheet needs its value
    path.write_text(f"subject,day,test,{header}{value}\nC1,7,hargreaves,{cell}{value and ',9'}\n",
                    encoding="utf-8")
    df = read_cipn(path)
    assert header not in df.columns
    assert df.loc[0, column] == pytest.approx(expected)


def test_latencies_in_ms_under_a_header_in_s_are_named_as_the_slip(folder):
    # stranger56: 'Latency (s)' over ms values gave "0.0 m/s ... distance in cm, not mm?"
    text = NCV_S_CM_UV.replace("0.00125", "1.25")       # 50 mm / 1250 ms = 0.04 m/s
    with pytest.raises(InputError) as err:
        run(folder, {"ncv.csv": text}, "nerve-conduction")
    assert str(err.value) == (
        f"{folder / 'ncv.csv'}, row 3, column 'Latency (s)': ncv_caudal: conduction velocity "
        "0.04 m/s (distance 50 mm, latency 1250 ms) is outside the rodent range 5-150 m/s: "
        "latencies in ms under the header 'Latency (s)' (converted × 1000)? Read as ms they "
        "give 40 m/s")
