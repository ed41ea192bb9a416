import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.battery.conftest import DATA, run_one, value, write_study

from neurotox.assays.battery.fob import _Cell, score
from neurotox.assays.battery.fob_items import ITEMS
from neurotox.assays.battery.neuropath_terms import term
from neurotox.errors import InputError
from neurotox.io.battery import comma_hint, numbers, parse_number
from neurotox.io.intervals import DASHES, parse_interval

ORDINAL = [i for i in ITEMS if i.kind == "ordinal"]
CELL = _Cell("sheet.csv", 2, "item")


@given(item=st.sampled_from(ORDINAL), k=st.integers(-20, 20))
def test_ordinal_scores_accepted_exactly_inside_the_scale(item, k):
    lo, hi = min(item.scale), max(item.scale)
    if lo <= k <= hi:
        assert score(item, str(k), CELL) == k
    else:
        with pytest.raises(InputError, match=f"outside the scale {lo}-{hi}"):
            score(item, str(k), CELL)


@given(x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_numbers_roundtrip_and_bounds(x):
    df = pd.DataFrame({"v": [repr(x)], "row": [2]})
    df.attrs["path"] = "f.csv"
    if x < 0:
        with pytest.raises(InputError, match=r"row 2, column 'v'"):
            numbers(df, "v", lower=0)
    else:
        assert numbers(df, "v", lower=0).iloc[0] == pytest.approx(x)


@given(st.text(alphabet="ab -/.", min_size=1, max_size=12))
def test_term_is_idempotent(text):
    assert term(term(text)) == term(text)


def test_pup_motor_activity_uses_litter_as_batch(tmp_path):
    pups = pd.DataFrame({"subject": ["A1", "A2", "B1", "B2"], "group": ["G1", "G1", "G2", "G2"],
                         "sex": ["M", "F", "M", "F"], "litter": ["L1", "L1", "L2", "L3"]})
    text = (DATA / "motor_activity_6x10.csv").read_text().replace("week4", "PND13")
    study = write_study(tmp_path, subjects=pups, files={"ma.csv": text},
                        assays=[{"assay": "motor_activity", "protocol": "motor-activity-standard",
                                 "input": "ma.csv"}])
    t = run_one(study).endpoints
    assert value(t, "motor_activity_total", "B2", "PND13")["batch"] == "L3"
    assert set(t["timepoint"]) >= {"PND13", "PND13_bin01"}


@given(a=st.integers(0, 119), width=st.integers(1, 60), dash=st.sampled_from(DASHES),
       space=st.sampled_from(["", " ", "  "]),
       unit=st.sampled_from([("min", 1), ("mins", 1), ("Minutes", 1), ("s", 60), ("sec", 60)]))
def test_interval_ranges_read_in_any_spelling(a, width, dash, space, unit):
    name, per_minute = unit
    header = f"{a * per_minute}{space}{dash}{space}{(a + width) * per_minute} {name}"
    iv = parse_interval(header)
    assert iv.start == pytest.approx(a) and iv.minutes == pytest.approx(width)


@given(m=st.integers(0, 59), s=st.integers(0, 59), width_s=st.integers(1, 3600))
def test_clock_ranges_are_minutes_and_seconds(m, s, width_s):
    start, end = 60 * m + s, 60 * m + s + width_s
    hms = f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}-" \
          f"{end // 3600:02d}:{end // 60 % 60:02d}:{end % 60:02d}"
    assert parse_interval(hms).minutes == pytest.approx(width_s / 60)
    assert parse_interval(f"{m:02d}:{s:02d}-{m + 1:02d}:{s:02d}").minutes == pytest.approx(1)


@pytest.mark.parametrize("header", ["notes", "total", "session", "int", "0-10 km", "a-b min"])
def test_headers_that_are_no_interval(header):
    assert parse_interval(header) is None


@pytest.mark.parametrize("text, expected", [
    ("1150", 1150.0), ("1.15", 1.15), ("-2e3", -2000.0), (" 7 ", 7.0)])
def test_the_one_number_parser(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["1,150", "1,5", "1_000", "nan", "abc", "", "1.234,5"])
def test_the_one_number_parser_refuses(text):
    assert np.isnan(parse_number(text))


@pytest.mark.parametrize("text, hint", [
    ("1,150", " (a comma inside a number is no thousands separator, and a decimal comma only "
              "in a ';'- or tab-delimited file whose column has no decimal points: write 1150 "
              "or 1.150)"),
    ("1.234,5", " (a comma inside a number is no thousands separator, and a decimal comma "
                "only in a ';'- or tab-delimited file whose column has no decimal points: "
                "write it without the comma)"),
    ("abc", ""), ("1150", ""),
])
def test_comma_hint(text, hint):
    assert comma_hint(text) == hint
