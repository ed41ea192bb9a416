import pytest
from tests.unit.battery.conftest import DATA, run_one, value, write_study

from neurotox.errors import InputError

ST = {"assay": "startle", "protocol": "startle-standard", "input": "startle.csv"}


@pytest.fixture
def st(tmp_path):
    return run_one(write_study(tmp_path, assays=[ST],
                               files={"startle.csv": DATA / "startle_trials.csv"}))


@pytest.mark.parametrize("endpoint, timepoint, expected", [
    ("startle_amplitude_block", "PND22_block1", 110.0),
    ("startle_amplitude_block", "PND22_block2", 70.0),
    ("startle_amplitude_mean", "PND22", 90.0),
    ("startle_latency_mean", "PND22", 21.5),
    ("startle_habituation_pct", "PND22", 100 * (1 - 70 / 110)),
    ("prepulse_inhibition_pct", "PND22_pp75", 100 * (1 - 50 / 90)),
])
def test_hand_computed_values(st, endpoint, timepoint, expected):
    assert value(st.endpoints, endpoint, "A1", timepoint)["value"] == pytest.approx(expected)


def test_row_count_and_notes(st):
    assert len(st.endpoints) == 6
    assert "2 prepulse trials (PPI computed)" in st.notes[0]


def test_no_prepulse_trials_no_ppi(tmp_path):
    text = "subject,block,trial,amplitude\nA1,1,1,100\nA1,2,2,50\n"
    res = run_one(write_study(tmp_path, assays=[ST], files={"startle.csv": text}))
    assert set(res.endpoints["endpoint"]) == {"startle_amplitude_block", "startle_amplitude_mean",
                                              "startle_habituation_pct"}
    assert value(res.endpoints, "startle_habituation_pct", "A1", "NA")["value"] == 50
    assert "PPI not computed" in res.notes[0]


def test_unknown_trial_type(tmp_path):
    text = "subject,block,trial,trial_type,amplitude\nA1,1,1,airpuff,100\n"
    with pytest.raises(InputError, match=r"row 2, column 'trial_type': unknown trial type "
                                         r"'airpuff'"):
        run_one(write_study(tmp_path, assays=[ST], files={"startle.csv": text}))


@pytest.mark.parametrize("old, new, message", [
    # a misspelt latency or prepulse column used to be dropped without a word
    ("latency", "latncy", r"row 1, column 'latncy': unknown startle column 'latncy' "
                          r"\(did you mean 'latency'\?\)"),
    ("prepulse_db", "prepulse_level", "unknown startle column 'prepulse_level'"),
])
def test_unknown_startle_column_is_an_error(tmp_path, old, new, message):
    text = (DATA / "startle_trials.csv").read_text(encoding="utf-8").replace(old, new, 1)
    with pytest.raises(InputError, match=message) as err:
        run_one(write_study(tmp_path, assays=[ST], files={"startle.csv": text}))
    assert err.value.path.endswith("startle.csv")


def test_startle_note_and_ignored_columns_are_skipped(tmp_path):
    text = (DATA / "startle_trials.csv").read_text(encoding="utf-8").splitlines()
    rows = [text[0] + ",chamber,comments"] + [r + ",2," for r in text[1:]]
    spec = {**ST, "parameters": {"ignore_columns": ["chamber"]}}
    t = run_one(write_study(tmp_path, assays=[spec],
                            files={"startle.csv": "\n".join(rows)})).endpoints
    assert value(t, "startle_amplitude_mean", "A1", "PND22")["value"] == pytest.approx(90.0)


def test_session_missing_blocks_is_incomplete(tmp_path):
    # A2 stopped after block 2 of 3: its mean (90) and habituation (20 %) are not
    # the 3-block measures of A1 and are excluded as motor activity's are
    text = ("subject,block,trial,trial_type,prepulse_db,amplitude,latency\n"
            "A1,1,1,pulse,,120,20\nA1,2,2,pulse,,90,21\nA1,3,3,pulse,,60,22\n"
            "A1,3,4,prepulse,75,30,22\n"
            "A2,1,1,pulse,,100,20\nA2,2,2,pulse,,80,21\nA2,2,3,prepulse,75,36,21\n")
    t = run_one(write_study(tmp_path, assays=[ST], files={"startle.csv": text})).endpoints
    a1 = value(t, "startle_habituation_pct", "A1", "NA")
    assert a1["value"] == pytest.approx(50.0) and not a1["excluded"]
    assert value(t, "startle_amplitude_mean", "A1", "NA")["value"] == pytest.approx(90.0)
    for endpoint, v in [("startle_amplitude_mean", 90), ("startle_latency_mean", 20.5),
                        ("startle_habituation_pct", 20)]:
        row = value(t, endpoint, "A2", "NA")
        assert row["value"] == pytest.approx(v)
        assert row["excluded"] and row["exclusion_reason"] == "session incomplete (2 of 3 blocks)"
    block = value(t, "startle_amplitude_block", "A2", "block1")
    assert block["value"] == 100 and not block["excluded"]
    ppi = value(t, "prepulse_inhibition_pct", "A2", "pp75")
    assert ppi["value"] == pytest.approx(60.0) and not ppi["excluded"]
