"""The study file's historical_controls key: database path, missing database, recorded query."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.send_files import write_study

from neurotox.errors import InputError
from neurotox.hcd import db, store
from neurotox.hcd.compare import database_url, for_study
from neurotox.hcd.send import send_batch
from neurotox.io.send import read_send
from neurotox.study import HistoricalControls


def test_relative_database_is_beside_the_study_file(tmp_path):
    spec = HistoricalControls(database="../hcd.sqlite")
    assert database_url(spec, tmp_path / "study" / "study.yaml") == \
        f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    url = "postgresql+psycopg://u:pw@h/d"
    assert database_url(HistoricalControls(database=url), tmp_path / "s.yaml") == url


def test_missing_database_names_the_study_key(tmp_path):
    spec = HistoricalControls(database="nowhere.sqlite")
    with pytest.raises(InputError, match=r"study.yaml, key 'historical_controls.database': no "
                                         r"historical control database here yet"):
        for_study(spec, tmp_path / "study.yaml", ["brain_weight"])


def test_ranges_counts_and_recorded_query(tmp_path):
    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn"))))
    engine.dispose()
    spec = HistoricalControls(database="hcd.sqlite", strata={"strain": "Sprague Dawley"},
                              window_years=10)
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"])
    r = hist.ranges.set_index("sex")
    assert r.loc["F", "mean"] == pytest.approx(1.9) and r.loc["M", "n_animals"] == 2
    assert (hist.n_studies, hist.n_animals, hist.n_values) == (1, 5, 5)
    rec = hist.manifest()
    assert rec["query"]["strain"] == "Sprague Dawley" and rec["query"]["window_years"] == 10
    assert rec["query"]["until"] == dt.date.today().isoformat()     # the window used
    assert len(rec["rows_sha256"]) == 64 and "1 study, 5 control animal(s)" in hist.describe()
