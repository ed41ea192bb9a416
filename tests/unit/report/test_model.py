import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotox.report.model import (
    decimals_for,
    flag_text,
    fmt,
    fmt_p,
    fmt_sig,
    natural_key,
    slug,
)


@pytest.mark.parametrize(("values", "preferred", "expected"), [
    ([1000.0, 805.0], None, 0),
    ([12.5, 9.1], None, 1),
    ([1.25, 0.5], None, 2),
    ([0.012, 0.5], None, 3),
    ([1000.0], 3, 3),
    ([math.nan], None, 2),
    ([], None, 2),
])
def test_decimals_for(values, preferred, expected):
    assert decimals_for(values, preferred) == expected


@pytest.mark.parametrize(("value", "dec", "text"), [
    (12.345, 1, "12.3"), (-0.0001, 2, "0.00"), (math.nan, 1, "–"), (None, 1, "–"),
    (1000.0, 0, "1000"),
])
def test_fmt(value, dec, text):
    assert fmt(value, dec) == text


def test_exact_halves_round_half_away_from_zero_in_every_output():
    """stranger37 #10: the mean body temperature of (37.4, 37.7, 37.7, 36.8, 37.2, 37.3,
    37.7, 38.5, 38.2, 37.0) is exactly 37.55 (stored as 37.549999...): the report printed
    37.5 while hand and Excel (number format 0.0) give 37.6."""
    import numpy as np

    from neurotox.report.render.xlsx import number_format
    from neurotox.report.tables import summary_cell

    temps = [37.4, 37.7, 37.7, 36.8, 37.2, 37.3, 37.7, 38.5, 38.2, 37.0]
    mean = float(np.mean(temps))
    assert f"{mean:.1f}" == "37.5"  # Python's binary rounding, the old output
    assert fmt(mean, 1) == "37.6" and number_format("mean", 1) == "0.0"
    assert [fmt(v, d) for v, d in [(2.675, 2), (0.125, 2), (-0.05, 1), (-2.5, 0),
                                   (1e300, 0)]] == ["2.68", "0.13", "-0.1", "-3", "1" + "0" * 300]
    assert fmt_p(0.0125) == "0.013"
    assert [fmt_sig(v) for v in (2.675, 0.00012345, 12345.0, 0.0)] == \
        ["2.68", "0.000123", "1.23e+04", "0"]
    r = {"mean": mean, "sd": float(np.std(temps, ddof=1)), "n": 10, "percent_of_control": 100.5,
         "p_value": 0.2, "flag": "", "direction": "", "is_control": False}
    assert summary_cell(r, 1, True).text == "37.6 ± 0.5 (10) [101%]"


@pytest.mark.parametrize(("p", "text"), [(0.0004, "< 0.001"), (0.0312, "0.031"),
                                         (math.nan, ""), (None, "")])
def test_fmt_p(p, text):
    assert fmt_p(p) == text


@pytest.mark.parametrize(("flag", "direction", "text"), [
    ("**", "down", "**↓"), ("*", "up", "*↑"), ("*", "", "*"), ("", "up", "")])
def test_flag_text(flag, direction, text):
    assert flag_text(flag, direction) == text


def test_natural_key_orders_numbers_numerically():
    assert sorted(["PND21", "PND4", "bin10", "bin2"], key=natural_key) == \
        ["bin2", "bin10", "PND4", "PND21"]


def test_slug():
    assert slug("Motor activity — Males") == "motor-activity-males"


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 4))
def test_fmt_round_trips_within_half_a_unit(value, decimals):
    text = fmt(value, decimals)
    assert abs(float(text) - value) <= 0.5 * 10 ** -decimals + 1e-9 * abs(value)
    assert len(text.split(".")[1]) == decimals if decimals else "." not in text
    assert not text.startswith("-0") or float(text) != 0


@given(st.lists(st.floats(min_value=1e-4, max_value=1e5), min_size=1, max_size=8))
def test_decimals_give_at_least_three_significant_digits_of_the_largest(values):
    dec = decimals_for(values)
    top = max(values)
    assert 0 <= dec <= 3
    digits = len(fmt(top, dec).replace(".", "").lstrip("0"))
    assert digits >= 3 or top < 0.1
