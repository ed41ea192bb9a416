"""TG 424 battery data as studies really end up: a group terminated early, a session
label typed two ways, a monitor that recorded nothing, a weight typed as 1e308.

Each used to end in a traceback (REML 'NoneType' has no attribute 's2',
ZeroDivisionError, 'array must not contain infs or NaNs') or in a silent split of
the animals; each is now a fitted model, a 'not tested' row or a one-line error.
"""

import re
import shutil

import pytest

from neurotox import stats
from neurotox.errors import InputError
from neurotox.pipeline import collect_endpoints
from neurotox.simulate.battery import write_study as simulate_424
from neurotox.study import load_study


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tg424")
    simulate_424(folder, 20260101)
    return folder


def _copy(clean, tmp_path, name, edit):
    folder = tmp_path / "study"
    shutil.copytree(clean, folder)
    path = folder / name
    path.write_text(edit(path.read_text()))
    return load_study(folder / "study.yaml")


def _motor_decisions(study):
    table = collect_endpoints(study).table
    table = table[table["assay"] == "motor_activity"]
    d = stats.analyse(table, study.spec.statistics, study.spec.groups).decisions
    return d[(d["endpoint"] == "motor_activity_counts") & (d["timepoint"] == "ALL")] \
        .set_index("sex")


def test_high_dose_group_terminated_before_week4_is_modelled(clean, tmp_path):
    def drop(text):
        return "\n".join(line for line in text.splitlines()
                         if not re.match(r"G4\w*,week4,", line)) + "\n"
    rows = _motor_decisions(_copy(clean, tmp_path, "motor_activity.csv", drop))
    for sex in ("M", "F"):
        assert rows.loc[sex, "path"] == "repeated_measures"
        assert 0 <= rows.loc[sex, "overall_p"] <= 1
        assert ("no data in group x time cell(s) G4 x week4_bin01, G4 x week4_bin02"
                in rows.loc[sex, "note"])
        assert "aliased fixed-effect column(s) dropped (as lme4)" in rows.loc[sex, "note"]


def test_one_session_label_typed_two_ways_is_refused(clean, tmp_path):
    study = _copy(clean, tmp_path, "fob.csv",
                  lambda t: t.replace("\nG1M02,pretest,", "\nG1M02,Pretest,", 1))
    with pytest.raises(InputError, match=re.escape(
            "timepoint 'Pretest' and 'pretest' (from fob.csv row 2")):
        collect_endpoints(study)


def test_a_sex_whose_counts_are_all_zero_is_not_tested(clean, tmp_path):
    def zero(text):
        lines = text.splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            if cells[0][2] == "F":
                cells[2:] = ["0"] * (len(cells) - 2)
            out.append(",".join(cells))
        return "\n".join(out) + "\n"
    rows = _motor_decisions(_copy(clean, tmp_path, "motor_activity.csv", zero))
    assert rows.loc["F", "path"] == "insufficient_data"
    assert rows.loc["F", "note"].endswith("all values are identical: not tested")
    assert rows.loc["M", "path"] == "repeated_measures"


def test_a_body_weight_of_1e308_is_one_line_naming_the_cell(clean, tmp_path):
    study = _copy(clean, tmp_path, "brain_weights.csv",
                  lambda t: re.sub(r"\nG1M02,[^,]+,", "\nG1M02,1e308,", t, count=1))
    with pytest.raises(InputError) as err:
        collect_endpoints(study)
    assert str(err.value).endswith(
        "brain_weights.csv, row 3, column 'body_weight': value '1e308' is too large to "
        "analyse (magnitude above 1e+100; a unit or export error?)")
