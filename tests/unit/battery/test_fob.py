import math

import pytest
from tests.unit.battery.conftest import DATA, run_one, value, write_study

from neurotox.errors import InputError

FOB = {"assay": "fob", "protocol": "fob-standard", "input": "fob.csv"}


@pytest.fixture
def fob_result(tmp_path):
    return run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": DATA / "fob_mixed.csv"}))


@pytest.mark.parametrize("endpoint, values", [
    ("fob_posture_abnormal", {"A1": 0, "A2": 0, "B1": 1, "B2": 0}),
    ("fob_tremors", {"A1": 0, "A2": 0, "B1": 1, "B2": 1}),
    ("fob_palpebral_closure", {"A1": 1, "A2": 2, "B1": 3, "B2": 1}),
    ("fob_arousal", {"A1": 4, "A2": 4, "B1": 2, "B2": 5}),
    ("fob_gait_abnormal", {"A1": 0, "A2": 0, "B1": 1, "B2": 1}),
    ("grip_strength_forelimb", {"A1": 1100, "A2": 925, "B1": 650, "B2": 820}),
    ("landing_foot_splay", {"A1": 82, "A2": 71, "B1": 97, "B2": 78}),
    ("fob_body_temperature", {"A1": 37.5, "A2": 37.8, "B1": 36.9, "B2": 37.1}),
    ("fob_body_weight", {"A1": 350.2, "A2": 230.0, "B1": 330.5, "B2": 221.0}),
    ("fob_pupil_response_absent", {"A1": 0, "A2": 0, "B1": 1, "B2": 0}),
    ("fob_rearing", {"A1": 12, "A2": 9, "B1": 3}),
])
def test_mixed_sheet_values(fob_result, endpoint, values):
    for subject, expected in values.items():
        row = value(fob_result.endpoints, endpoint, subject, "week4")
        assert row["value"] == pytest.approx(expected)
        assert not row["excluded"]


@pytest.mark.parametrize("endpoint, data_type, unit", [
    ("fob_posture_abnormal", "incidence", "incidence"),
    ("fob_tremors", "incidence", "incidence"),
    ("fob_palpebral_closure", "ordinal", "score"),
    ("fob_rearing", "count", "count"),
    ("grip_strength_forelimb", "continuous", "g"),
    ("landing_foot_splay", "continuous", "mm"),
])
def test_item_types(fob_result, endpoint, data_type, unit):
    from neurotox.endpoints import get
    assert get(endpoint).data_type.value == data_type
    rows = fob_result.endpoints[fob_result.endpoints["endpoint"] == endpoint]
    assert set(rows["unit"]) == {unit}
    assert set(rows["category"]) == {"neurobehavioral"}


def test_empty_cell_is_documented_exclusion(fob_result):
    row = value(fob_result.endpoints, "fob_rearing", "B2", "week4")
    assert row["excluded"] and math.isnan(row["value"])
    assert row["exclusion_reason"] == "not recorded in the FOB sheet"
    assert "row 5, column 'rearing'" in row["source"]


def test_group_dose_sex_and_source(fob_result):
    row = value(fob_result.endpoints, "grip_strength_forelimb", "B1", "week4")
    assert (row["group"], row["dose"], row["sex"]) == ("G2", 100.0, "M")
    assert "grip_fore_1" in row["source"] and "row 4" in row["source"]
    assert len(fob_result.endpoints) == 4 * 11


def test_xlsx_sheet_gives_same_rows(tmp_path):
    import pandas as pd
    df = pd.read_csv(DATA / "fob_mixed.csv", dtype=str, keep_default_na=False)
    df.to_excel(tmp_path / "fob.xlsx", index=False, sheet_name="FOB week 4")
    t1 = run_one(write_study(tmp_path / "x", assays=[{**FOB, "input": "fob.xlsx"}],
                             files={"fob.xlsx": tmp_path / "fob.xlsx"})).endpoints
    t2 = run_one(write_study(tmp_path / "c", assays=[FOB],
                             files={"fob.csv": DATA / "fob_mixed.csv"})).endpoints
    cols = ["endpoint", "subject", "value", "excluded"]
    pd.testing.assert_frame_equal(t1[cols], t2[cols])


HEADER = "subject,occasion,tremors,palpebral_closure,posture,grip_fore_1\n"


@pytest.mark.parametrize("body, where, message", [
    ("A1,week4,absent,1,normal,1000\n", None, None),
    ("A1,week4,absent,7,normal,1000\n", "row 2, column 'palpebral_closure'",
     "score '7' is outside the scale 1-4 of item 'palpebral_closure'"),
    ("A1,week4,maybe,1,normal,1000\n", "row 2, column 'tremors'",
     "expected present/absent"),
    ("A1,week4,absent,1,upside_down,1000\n", "row 2, column 'posture'",
     "'upside_down' is not a category of item 'posture'"),
    ("A1,week4,absent,1,normal,-5\n", "row 2, column 'grip_fore_1'", "plausible range"),
    ("A1,week4,absent,1,normal,1000\nZ9,week4,absent,1,normal,1000\n",
     "row 3, column 'subject'", "animal 'Z9' is not in the study's subjects file"),
    ("A1,week4,absent,1,normal,1000\nA1,week4,absent,1,normal,1000\n",
     "row 3, column 'occasion'", "appears twice"),
])
def test_sheet_validation(tmp_path, body, where, message):
    study = write_study(tmp_path, assays=[FOB], files={"fob.csv": HEADER + body})
    if message is None:
        assert len(run_one(study).endpoints) == 4
        return
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.path.endswith("fob.csv")
    assert err.value.where == where


def test_unknown_item_column_names_file_and_column(tmp_path):
    study = write_study(tmp_path, assays=[FOB],
                        files={"fob.csv": "subject,occasion,tremor_score\nA1,w4,1\n"})
    with pytest.raises(InputError, match=r"fob.csv, row 1, column 'tremor_score': unknown FOB "
                                         r"item column 'tremor_score' \(did you mean 'tremors'"
                                         r"\?\); known items: 'approach_response'"):
        run_one(study)


def test_aliases_map_lab_headers(tmp_path):
    spec = {**FOB, "parameters": {"aliases": {"grip_fl": "grip_fore"}}}
    study = write_study(tmp_path, assays=[spec],
                        files={"fob.csv": "subject,occasion,grip_fl\nA1,w4,1000\n"})
    assert value(run_one(study).endpoints, "grip_strength_forelimb", "A1")["value"] == 1000


@pytest.mark.parametrize("cell, column", [
    ('"1,150"', "grip_fore_1"),   # Excel's US-formatted 1,150 saved to a comma CSV
    ('"1,5"', "grip_fore_1"),
    ('"1,150"', "foot_splay_1"),
    ('"1,150"', "body_weight"),
])
def test_comma_in_a_number_of_a_comma_file_is_an_error(tmp_path, cell, column):
    # it used to be read as 1.15 (a thousands separator taken for a decimal comma)
    cols = ["grip_fore_1", "foot_splay_1", "body_weight"]
    cells = {"grip_fore_1": "1000", "foot_splay_1": "80", "body_weight": "350", column: cell}
    text = "subject,occasion," + ",".join(cols) + "\nA1,week4," + ",".join(
        cells[c] for c in cols) + "\n"
    study = write_study(tmp_path, assays=[FOB], files={"fob.csv": text})
    with pytest.raises(InputError, match=r"expected a number for item .*, found '1,1?5"
                                         r"0?' \(a comma inside a number") as err:
        run_one(study)
    assert err.value.path.endswith("fob.csv")
    assert err.value.where == f"row 2, column {column!r}"


def test_decimal_comma_in_a_semicolon_file_is_read(tmp_path):
    text = "subject;occasion;grip_fore_1;body_weight\nA1;week4;1150,5;350,2\n"
    t = run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": text})).endpoints
    assert value(t, "grip_strength_forelimb", "A1")["value"] == 1150.5
    assert value(t, "fob_body_weight", "A1")["value"] == 350.2


@pytest.mark.parametrize("weight", ["0", "-1", "2001"])
def test_fob_body_weight_must_be_positive_and_plausible(tmp_path, weight):
    text = f"subject,occasion,body_weight\nA1,week4,{weight}\n"
    with pytest.raises(InputError, match=r"row 2, column 'body_weight': value '.*' of item "
                                         r"'body_weight' is outside the plausible range > 0 "
                                         r"and <= 2000 g"):
        run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": text}))


@pytest.mark.parametrize("species, weight, message", [
    ("mouse", "350", r"body weight '350' is outside the plausible range 0.5-150 g \(species "
                     r"'mouse'\)"),
    ("rat", "1", r"body weight '1' is outside the plausible range 2-1500 g \(species 'rat'\); "
                 r"written in kg\? \(1 kg = 1000 g\)$"),
    ("rat", "0.352", r"body weight '0.352' is outside the plausible range 2-1500 g \(species "
                     r"'rat'\); written in kg\? \(0.352 kg = 352 g\)$"),
    ("rat", "350", None), ("mouse", "25.5", None), (None, "1999", None),
])
def test_fob_body_weight_against_the_species(tmp_path, species, weight, message):
    extra = {} if species is None else {"species": species}
    study = write_study(tmp_path, assays=[FOB], **extra,
                        files={"fob.csv": f"subject,occasion,body_weight\nA1,week4,{weight}\n"})
    if message is None:
        assert value(run_one(study).endpoints, "fob_body_weight", "A1")["value"] == \
            float(weight)
        return
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.where == "row 2, column 'body_weight'"


@pytest.mark.parametrize("species, column, cell, message", [
    ("rat", "grip_fore_2", "1.579", r"row 2, column 'grip_fore_2': value 1.579 of item "
     r"'grip_fore' is outside the plausible range 10-5000 g \(species 'rat'\); written in kg "
     r"or N\? \(1.579 kg = 1579 g; 1.579 N = 161 g\)$"),
    ("rat", "foot_splay_1", "7.45", r"row 2, column 'foot_splay_1': value 7.45 of item "
     r"'foot_splay' is outside the plausible range 15-300 mm \(species 'rat'\); written in "
     r"cm\? \(7.45 cm = 74.5 mm\)$"),
    ("mouse", "grip_hind_1", "1100", r"value 1100 of item 'grip_hind' is outside the "
     r"plausible range 2-1000 g \(species 'mouse'\)$"),
    ("mouse", "foot_splay_1", "2.8", r"written in cm\? \(2.8 cm = 28 mm\)"),
    ("rat", "grip_fore_2", "0", None),      # did not grip
    ("mouse", "grip_fore_2", "95", None), (None, "grip_fore_2", "1.579", None),
])
def test_grip_and_foot_splay_against_the_species(tmp_path, species, column, cell, message):
    cells = {"grip_fore_1": "1000", "grip_fore_2": "1050", "grip_hind_1": "700",
             "foot_splay_1": "80"}
    if species == "mouse":
        cells = {"grip_fore_1": "90", "grip_fore_2": "95", "grip_hind_1": "60",
                 "foot_splay_1": "30"}
    cells[column] = cell
    text = "subject,occasion," + ",".join(cells) + "\nA1,week4," + ",".join(cells.values())
    extra = {} if species is None else {"species": species}
    study = write_study(tmp_path, assays=[FOB], **extra, files={"fob.csv": text + "\n"})
    if message is None:
        t = run_one(study).endpoints
        expected = (float(cells["grip_fore_1"]) + float(cells["grip_fore_2"])) / 2
        assert value(t, "grip_strength_forelimb", "A1")["value"] == pytest.approx(expected)
        return
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.path.endswith("fob.csv")


@pytest.mark.parametrize("group, sex, message", [
    ("G1", "M", None), ("Control", "male", None), ("1", "", None),   # agree / not checkable
    ("High", "M", r"fob.csv, row 2, column 'group': subject 'A1': the sheet gives group "
                  r"'High', the subjects file says 'G1' \(Control\); correct the sheet or the "
                  r"subjects file$"),
    ("G1", "female", r"fob.csv, row 2, column 'sex': subject 'A1': the sheet gives sex "
                     r"'female', the subjects file says 'M'; correct the sheet or the "
                     r"subjects file$"),
])
def test_sheet_group_and_sex_contradicting_the_subjects_file(tmp_path, group, sex, message):
    text = f"subject,group,sex,occasion,grip_fore_1\nA1,{group},{sex},week4,1000\n"
    study = write_study(tmp_path, assays=[FOB], files={"fob.csv": text})
    if message is None:
        assert value(run_one(study).endpoints, "grip_strength_forelimb", "A1")["value"] == 1000
        return
    with pytest.raises(InputError, match=message):
        run_one(study)


@pytest.mark.parametrize("cell, expected", [
    ("slight", 2), ("Severe", 3), ("NONE", 1), ("2", 2),
    ("moderate", r"row 2, column 'lacrimation': 'moderate' is not a score of item "
                 r"'lacrimation': expected a number 1-3 or a word of its scale \(1 = none, "
                 r"2 = slight, 3 = severe\)$"),
    ("4", r"score '4' is outside the scale 1-3 of item 'lacrimation'$"),
])
def test_fob_score_words_of_the_items_own_scale(tmp_path, cell, expected):
    text = f"subject,occasion,lacrimation\nA1,week4,{cell}\n"
    study = write_study(tmp_path, assays=[FOB], files={"fob.csv": text})
    if isinstance(expected, int):
        assert value(run_one(study).endpoints, "fob_lacrimation", "A1")["value"] == expected
        return
    with pytest.raises(InputError, match=expected):
        run_one(study)


GRIPS_G = {"A1": ("1000", "1100"), "A2": ("900", "950"), "B1": ("700", "650"),
           "B2": ("800", "820")}


def _grip_sheet(header: str, grips: dict[str, tuple[str, str]]) -> str:
    rows = "".join(f"{s},week4,{a},{b}\n" for s, (a, b) in grips.items())
    return f"subject,occasion,{header}\n{rows}"


def test_grip_header_in_newtons_is_converted_with_a_note(tmp_path):
    grips = {"A1": ("15.48", "12.5"), "B2": ("8.1", "7.9")}
    sheet = _grip_sheet("grip_fore_1 (N),Grip fore 2 [N]", grips)
    result = run_one(write_study(tmp_path, assays=[FOB], species="rat",
                                 files={"fob.csv": sheet}))
    # 1 N = 1000 / 9.80665 g (gram-force): (15.48 + 12.5) / 2 N = 1426.6 g
    assert value(result.endpoints, "grip_strength_forelimb", "A1")["value"] == \
        pytest.approx(13.99 * 1000 / 9.80665)
    assert value(result.endpoints, "grip_strength_forelimb", "B2")["value"] == \
        pytest.approx(8 * 1000 / 9.80665)
    assert "fob.csv: column 'grip_fore_1 (N)' converted to g (× 101.972)" in result.notes
    assert "fob.csv: column 'Grip fore 2 [N]' converted to g (× 101.972)" in result.notes


@pytest.mark.parametrize("header, cells, expected", [
    ("grip_fore_1 (kg)", ("1.1", "1.2"), 1150.0), ("grip_fore_1 (g)", ("1100", "1200"), 1150.0),
    ("foot_splay_1 (cm)", ("8.1", "8.3"), None),
])
def test_fob_unit_headers_in_kg_g_and_cm(tmp_path, header, cells, expected):
    sheet = f"subject,occasion,{header},{header.replace('_1', '_2')}\nA1,week4,{cells[0]}," \
            f"{cells[1]}\n"
    t = run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": sheet})).endpoints
    if expected is None:
        assert value(t, "landing_foot_splay", "A1")["value"] == pytest.approx(82.0)
    else:
        assert value(t, "grip_strength_forelimb", "A1")["value"] == pytest.approx(expected)


@pytest.mark.parametrize("header, endpoint, cell, expected", [
    ("Body weight (kg)", "fob_body_weight", "0.3502", 350.2),
    ("body_temperature (°C)", "fob_body_temperature", "37.5", 37.5),
])
def test_fob_unit_headers_of_single_items(tmp_path, header, endpoint, cell, expected):
    sheet = f"subject,occasion,{header}\nA1,week4,{cell}\n"
    t = run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": sheet})).endpoints
    assert value(t, endpoint, "A1")["value"] == pytest.approx(expected)


@pytest.mark.parametrize("header, message", [
    ("Grip fore 1 (lb)", r"column 'Grip fore 1 \(lb\)': unit 'lb' is not one neurotox reads "
                         r"for item 'grip_fore'; expected g or kg or N$"),
    ("body_weight (N)", r"column 'body_weight \(N\)': unit 'N' is not one neurotox reads for "
                        r"item 'body_weight'; expected g or kg$"),
    # empty brackets: was 'unknown FOB item column 'grip_fore_1_()'' (the shared header reader)
    ("grip_fore_1 ()", r"column 'grip_fore_1 \(\)': unit '' is not one neurotox reads for "
                       r"item 'grip_fore'; expected g or kg or N$"),
    ("Body temperature (°F)", r"column 'Body temperature \(°F\)': unit '°F' is not one "
                              r"neurotox reads for item 'body_temperature'; expected degC$"),
])
def test_fob_unit_header_with_an_unknown_unit_is_refused(tmp_path, header, message):
    sheet = f"subject,occasion,{header}\nA1,week4,2.4\n"
    with pytest.raises(InputError, match=r"fob.csv, row 1: " + message):
        run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": sheet}))


@pytest.mark.parametrize("species, grips, message", [
    ("rat", {"A1": ("15.48", "15.84"), "A2": ("12.5", "13.1"), "B1": ("14.2", "13.9"),
             "B2": ("15.1", "14.0")},
     r"fob.csv, column 'grip_fore_1': the values of item 'grip_fore' \(median 14.65, grips of "
     r"0 left out\) sit below the usual range 100-2500 g of a rat's grip; written in N\? "
     r"\(14.65 N = 1494 g\); give the unit in the header \('grip_fore_1 \(N\)'\) or correct "
     r"the values$"),
    ("mouse", {"A1": ("2.1", "2.2"), "A2": ("2.3", "2.4"), "B1": ("2.2", "0"),
               "B2": ("2.6", "2.5")},
     r"fob.csv, column 'grip_fore_1': the values of item 'grip_fore' \(median 2.25, grips of "
     r"0 left out\) sit below the usual range 20-500 g of a mouse's grip; written in N\? "
     r"\(2.25 N = 229.4 g\)"),
])
def test_grip_column_in_newtons_is_refused(tmp_path, species, grips, message):
    sheet = _grip_sheet("grip_fore_1,grip_fore_2", grips)
    study = write_study(tmp_path, assays=[FOB], species=species, files={"fob.csv": sheet})
    with pytest.raises(InputError, match=message):
        run_one(study)


def test_one_grip_row_in_newtons_is_warned(tmp_path):
    grips = {**GRIPS_G, "B1": ("15.48", "15.84")}
    result = run_one(write_study(tmp_path, assays=[FOB], species="rat",
                                 files={"fob.csv": _grip_sheet("grip_fore_1,grip_fore_2",
                                                               grips)}))
    assert [n for n in result.notes if n.startswith("warning:")] == [
        "warning: fob.csv, row 4: grip_fore of B1 (week4) averages 15.66 g, below the usual "
        "range 100-2500 g; written in N? (15.66 N = 1597 g); analysed as written in g"]
    assert value(result.endpoints, "grip_strength_forelimb", "B1")["value"] == 15.66
    plain = run_one(write_study(tmp_path / "g", assays=[FOB], species="rat",
                                files={"fob.csv": _grip_sheet("grip_fore_1,grip_fore_2",
                                                              GRIPS_G)}))
    assert not [n for n in plain.notes if n.startswith("warning:")]


def test_weak_grips_under_a_gram_header_are_taken_as_stated(tmp_path):
    # young or weak rats gripping 12-16 g: the header says g, so no "written in N?" refusal
    grips = {"A1": ("15.48", "15.84"), "A2": ("12.5", "13.1"), "B1": ("14.2", "13.9"),
             "B2": ("15.1", "14.0")}
    sheet = _grip_sheet("grip_fore_1 (g),grip_fore_2 (g)", grips)
    result = run_one(write_study(tmp_path, assays=[FOB], species="rat",
                                 files={"fob.csv": sheet}))
    assert not [n for n in result.notes if n.startswith("warning:")]
    assert value(result.endpoints, "grip_strength_forelimb", "A2")["value"] == pytest.approx(12.8)


@pytest.mark.parametrize("header", ["body_temperature (°C)", "Body temperature (deg C)",
                                    "body_temperature (C)", "Body Temperature (DEGC)"])
def test_body_temperature_header_in_degrees_celsius_is_read_as_is(tmp_path, header):
    sheet = f"subject,occasion,{header}\nA1,week4,37.5\n"
    result = run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": sheet}))
    assert value(result.endpoints, "fob_body_temperature", "A1")["value"] == 37.5
    assert not [n for n in result.notes if "converted" in n]


def test_two_grip_headers_giving_one_trial_are_refused(tmp_path):
    sheet = _grip_sheet("grip_fore_1 (N),grip_fore_1 (g)", {"A1": ("15", "1500")})
    with pytest.raises(InputError, match=r"fob.csv: columns 'grip_fore_1 \(g\)' and "
                                         r"'grip_fore_1 \(N\)' both give 'grip_fore_1'; "
                                         r"keep one$"):
        run_one(write_study(tmp_path, assays=[FOB], files={"fob.csv": sheet}))


def test_grip_headers_in_a_lab_s_own_names_are_converted(tmp_path):
    # aliases name the item; the header's unit still converts (15 N, 1.2 kg)
    fob = {**FOB, "parameters": {"aliases": {"gf1": "grip_fore_1", "gf2": "grip_fore_2"}}}
    sheet = _grip_sheet("gf1 (N),gf2 [kg]", {"A1": ("15", "1.2")})
    result = run_one(write_study(tmp_path, assays=[fob], species="rat",
                                 files={"fob.csv": sheet}))
    assert value(result.endpoints, "grip_strength_forelimb", "A1")["value"] == \
        pytest.approx((15 * 1000 / 9.80665 + 1200) / 2)
    assert "fob.csv: column 'gf2 [kg]' converted to g (× 1000)" in result.notes
