"""End-to-end: ``neurotox nor`` and ``neurotox tmaze`` on simulated and real studies."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neurotox.io.output import verify


@pytest.fixture
def nor_study(tmp_path, invoke):
    res = invoke("simulate", "nor", "-o", tmp_path / "sim")
    assert res.exit_code == 0, res.output
    return tmp_path / "sim"


def test_nor_cli_recovers_planted_truth(nor_study, tmp_path, invoke):
    out = tmp_path / "out"
    res = invoke("nor", "--study", nor_study / "study.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    truth = json.loads((nor_study / "truth.json").read_text())
    ep = pd.read_csv(out / "endpoints.csv")
    di = ep[ep["endpoint"] == "nor_discrimination_index"].set_index("subject")
    for subject, value in truth["di"].items():
        assert di.loc[subject, "value"] == pytest.approx(value, abs=1e-6)
    assert set(di.index[di["excluded"]]) == set(truth["excluded"])
    res_1s = pd.read_csv(out / "nor_one_sample.csv")
    pooled = res_1s[res_1s["sex"] == "all"].set_index("group")
    for g, mean in truth["group_mean_di"].items():
        assert pooled.loc[g, "mean"] == pytest.approx(mean, abs=1e-6)
    assert pooled.loc["G1", "p_value"] < 0.01 and pooled.loc["G3", "p_value"] > 0.05
    stats = pd.read_csv(out / "statistics.csv")
    high = stats[(stats["endpoint"] == "nor_discrimination_index") & (stats["group"] == "G3")]
    assert len(high) == 2 and (high["p_value"] < 0.05).all()  # deficit vs control, both sexes
    manifest = json.loads((out / "manifest.json").read_text())
    excl = {e["subject"] for e in manifest["exclusions"]}
    assert excl >= set(truth["excluded"])
    assert manifest["parameters"]["effective"]["min_test_exploration_s"] == 10
    assert verify(out) == []
    for name in ("nor_animals", "nor_exploration"):
        assert (out / f"{name}.csv").is_file() and (out / f"{name}.parquet").is_file()


def test_tmaze_cli_recovers_planted_truth(tmp_path, invoke):
    assert invoke("simulate", "tmaze", "-o", tmp_path / "sim").exit_code == 0
    out = tmp_path / "out"
    res = invoke("tmaze", "--study", tmp_path / "sim" / "study.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    truth = json.loads((tmp_path / "sim" / "truth.json").read_text())
    ep = pd.read_csv(out / "endpoints.csv")
    alt = ep[ep["endpoint"] == "tmaze_alternation_pct"].set_index("subject")
    for subject, value in truth["alternation_pct"].items():
        assert alt.loc[subject, "value"] == pytest.approx(value, abs=1e-5)
    assert set(alt.index[alt["excluded"]]) == set(truth["excluded"])
    one = pd.read_csv(out / "tmaze_one_sample.csv")
    one = one[one["sex"] == "all"].set_index("group")
    assert one.loc["G1", "reference"] == pytest.approx(truth["chance_pct"])
    assert one.loc["G1", "p_value"] < 0.01 and one.loc["G3", "p_value"] > 0.05
    notes = json.loads((out / "manifest.json").read_text())["notes"]
    assert any(f"tested against chance {truth['chance_pct']:.1f} % for a 3-arm maze (n_arms)"
               in n for n in notes)


@pytest.mark.parametrize("args,message", [
    (["--protocol", "no-such-protocol"], "unknown protocol 'no-such-protocol'"),
    (["--protocol", "tmaze-rewarded"], "protocol 'tmaze-rewarded' is for assay 'tmaze'"),
    (["--param", "min_test_exploration_s=-1"], "min_test_exploration_s"),
    (["--param", "no_such_parameter=1"], "no_such_parameter"),
    (["--param", "novalue"], "expected KEY=VALUE"),
])
def test_nor_cli_user_errors(nor_study, tmp_path, invoke, args, message):
    res = invoke("nor", "--study", nor_study / "study.yaml", "-o", tmp_path / "o", *args)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_nor_cli_rejects_tmaze_input(nor_study, tmp_path, invoke):
    trials = tmp_path / "trials.csv"
    trials.write_text("mouse,sample,choice\nG1M01,L,R\n")
    res = invoke("nor", trials, "--study", nor_study / "study.yaml", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert "a trials file (tmaze-trials) is not an NOR input" in res.output


def test_nor_cli_without_exploration_data(nor_study, tmp_path, invoke):
    key = tmp_path / "key.csv"
    key.write_text("subject,novel_side\nG1M01,L\n")
    res = invoke("nor", key, "--study", nor_study / "study.yaml", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert "no exploration data among the 1 NOR input(s)" in res.output


def test_nor_cli_unknown_subject(nor_study, tmp_path, invoke):
    sheet = tmp_path / "s.csv"
    sheet.write_text("subject,phase,left,right,novel_side\nX99,test,10,20,L\n")
    res = invoke("nor", sheet, "--study", nor_study / "study.yaml", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert "subject(s) 'X99' in the NOR data are not in the study's subjects file" in res.output


def _study(folder, subjects, groups):
    lines = ["study_id: REAL", "title: real data", "test_item: X", "groups:"]
    lines += [f"  - {{id: {g}, label: {g}, dose: {i}, dose_unit: mg"
              f"{', control: true' if i == 0 else ''}}}" for i, g in enumerate(groups)]
    lines.append("subjects: subjects.csv")
    (folder / "study.yaml").write_text("\n".join(lines) + "\n")
    subjects.to_csv(folder / "subjects.csv", index=False)
    return folder / "study.yaml"


def test_nor_cli_on_dory(shared_data, tmp_path, invoke):
    d = shared_data / "rodent" / "dory_rat_nor_simba"
    key = pd.read_csv(d / "ratID_key.csv")
    study = _study(tmp_path, pd.DataFrame({"subject": key["RatID"], "group": key["Treatment"],
                                           "sex": key["Sex"]}), ("Control", "ASO"))
    out = tmp_path / "out"
    res = invoke("nor", d / "data_summary.csv", d / "ratID_key.csv", d / "videos_to_exclude.csv",
                 "--study", study, "--param", "video_include=NOR", "-o", out)
    assert res.exit_code == 0, res.output
    ep = pd.read_csv(out / "endpoints.csv")
    di = ep[(ep["endpoint"] == "nor_discrimination_index") & ~ep["excluded"]]
    ref = pd.read_csv(d / "reference_Dory_NOR_2.csv").set_index("RatID")
    got = di.set_index("subject")["value"]
    assert sorted(got.index) == sorted(ref.index)
    # an EndpointTable holds values to 10 significant digits (DI up to 0.75)
    assert (got - ref["DI"].loc[got.index]).abs().max() < 1e-10
    one = pd.read_csv(out / "nor_one_sample.csv")
    one = one[one["sex"] == "all"].set_index("group")
    assert one.loc["Control", "p_ttest"] == pytest.approx(0.328, abs=1e-3)
    assert one.loc["ASO", "p_ttest"] == pytest.approx(0.0632, abs=1e-3)


def test_tmaze_cli_on_allen_rewarded(shared_data, tmp_path, invoke):
    f = shared_data / "rodent" / "allen_mouse_tmaze_rewarded_alternation" / "tmaze.csv"
    mice = sorted(pd.read_csv(f)["mouse"].unique())
    study = _study(tmp_path, pd.DataFrame({"subject": mice, "group": "G1", "sex": "NA"}),
                   ("G1",))
    out = tmp_path / "out"
    res = invoke("tmaze", f, "--study", study, "--protocol", "tmaze-rewarded", "-o", out)
    assert res.exit_code == 0, res.output
    ep = pd.read_csv(out / "endpoints.csv", keep_default_na=False)
    pc = ep[ep["endpoint"] == "tmaze_correct_pct"].set_index(["subject", "timepoint"])["value"]
    assert float(pc.loc[("Mn4656", "CNO")]) == pytest.approx(70.0)
    assert float(pc.loc[("Mn7735", "Saline")]) == pytest.approx(58.0)
    one = pd.read_csv(out / "tmaze_one_sample.csv", keep_default_na=False).set_index("timepoint")
    assert float(one.loc["Saline", "mean"]) == pytest.approx(69.142857, abs=1e-5)
    assert float(one.loc["CNO", "p_value"]) < 0.001
    model = pd.read_csv(out / "tmaze_trial_model.csv", keep_default_na=False).set_index("timepoint")
    assert int(model.loc["CNO", "n_trials"]) == 210
    assert float(model.loc["CNO", "p_correct"]) == pytest.approx(171 / 210)
    assert not (out / "statistics.csv").exists()  # one group: nothing to compare


def test_tmaze_cli_ymaze_novel_arm(shared_data, tmp_path, invoke):
    d = shared_data / "rodent" / "sboya_c9orf72_ymaze_novel_arm"
    geno = pd.read_csv(d / "C9orf72GR400-genotype.csv")
    subjects = pd.DataFrame({"subject": geno["animal_name"],
                             "group": geno["genotype"].str.split(":").str[1], "sex": "NA"})
    study = _study(tmp_path, subjects, ("WT", "Het"))
    out = tmp_path / "out"
    res = invoke("tmaze", d / "C9ORF-BEHAV_Y-Maze_processed_data.csv", "--study", study,
                 "--protocol", "ymaze-novel-arm", "-o", out)
    assert res.exit_code == 0, res.output
    one = pd.read_csv(out / "tmaze_one_sample.csv").set_index(["timepoint", "group"])
    assert one.loc[("age12.5wk", "Het"), "mean"] == pytest.approx(0.624156, abs=1e-6)
    assert one.loc[("age64.5wk", "WT"), "n"] == 21
    assert (out / "statistics.csv").is_file()


def test_nor_cli_from_poses_with_protocol_file(tmp_path, invoke):
    """DeepLabCut tracks + a protocol YAML with object shapes → exploration and frame flags."""
    from tests.unit.rodent.test_pose import FPS, PX, A, B, synthetic_track, write_dlc

    nose, head, body = synthetic_track()
    # the same path in both phases, tracked with other likelihoods (two videos' tracks are
    # never the same bytes: a byte copy of an input is refused)
    for subject, phase, p in (("rat01", "P1", 1.0), ("rat01", "P2", 0.99)):
        write_dlc(tmp_path / f"Exp_NOR_{phase}_{subject}DLC_x.csv", nose, head, body,
                  np.full(len(nose), p))
    proto = tmp_path / "nor-pose.yaml"
    proto.write_text(
        "name: nor-pose\nassay: nor\ntitle: NOR from poses\nparameters:\n"
        "  min_test_exploration_s: 1\n  pose:\n"
        f"    px_per_cm: {PX}\n    fps: {FPS}\n    objects:\n"
        f"      - {{name: {A.name}, center: [{A.center[0]}, {A.center[1]}], radius: {A.radius}}}\n"
        f"      - {{name: {B.name}, center: [{B.center[0]}, {B.center[1]}], radius: {B.radius}}}\n")
    (tmp_path / "key.csv").write_text("subject,novel_side\nrat01,L\n")
    study = _study(tmp_path, pd.DataFrame({"subject": ["rat01"], "group": ["C"], "sex": ["M"]}),
                   ("C",))
    out = tmp_path / "out"
    res = invoke("nor", *sorted(tmp_path.glob("*DLC_x.csv")), tmp_path / "key.csv",
                 "--study", study, "--protocol", proto, "-o", out)
    assert res.exit_code == 0, res.output
    ep = pd.read_csv(out / "endpoints.csv").set_index("endpoint")
    assert ep.loc["nor_exploration_novel", "value"] == pytest.approx(6.0, abs=1 / FPS)
    assert ep.loc["nor_exploration_familiar", "value"] == 0
    assert ep.loc["nor_discrimination_index", "value"] == pytest.approx(1.0)
    frames = pd.read_parquet(out / "nor_frames.parquet")
    assert len(frames) == 2 * 2 * len(nose)  # 2 phases x 2 objects x frames
    assert frames["climbing"].sum() == 2 * 100


def test_tmaze_study_entry_protocol_is_used(tmp_path, invoke):
    """F4: a study's tmaze-rewarded entry runs as rewarded (it fell back to spontaneous)."""
    # forced sample run always to L: a choice of R is correct (non-matching-to-place)
    choices = {"m1": "RRRRRR", "m2": "RRLRRL", "m3": "LRLRLL"}   # 6, 4, 2 of 6 correct
    rows = [f"{m},d1,1,{i + 1},L,{c}" for m, seq in choices.items() for i, c in enumerate(seq)]
    (tmp_path / "trials.csv").write_text("mouse,date,block,trialNo,sample,choice\n"
                                         + "\n".join(rows) + "\n")
    study = _study(tmp_path, pd.DataFrame({"subject": list(choices), "group": "G1",
                                           "sex": "NA"}), ("G1",))
    study.write_text(study.read_text() + "assays:\n- {assay: tmaze, protocol: tmaze-rewarded, "
                     "input: trials.csv}\n")
    res = invoke("-q", "tmaze", "--study", study, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    ep = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    pc = ep[ep["endpoint"] == "tmaze_correct_pct"].set_index("subject")["value"]
    assert pc.to_dict() == pytest.approx({"m1": 100.0, "m2": 400 / 6, "m3": 200 / 6})
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parameters"]["protocol"] == "tmaze-rewarded"
    res = invoke("tmaze", "--study", study, "--protocol", "tmaze-spontaneous",
                 "-o", tmp_path / "out2")
    assert res.exit_code == 2
    assert ("--protocol 'tmaze-spontaneous' contradicts the study's 'tmaze' entry, which "
            "names protocol 'tmaze-rewarded'") in res.output


def test_subject_from_the_file_name_points_to_file_subjects(tmp_path, invoke):
    """F17: a subject taken from the file name says so and how to name it."""
    seq = tmp_path / "ymaze.csv"
    seq.write_text(",ARM_ENTRY_SEQUENCE,ENTRY FRAME,EXIT FRAME,ENTER TIME (s),EXIT TIME (s)\n"
                   + "".join(f"{i},{a},{i},{i + 1},{i}.0,{i}.5\n"
                             for i, a in enumerate("ABCABCBACB")))
    study = _study(tmp_path, pd.DataFrame({"subject": ["M1"], "group": "G1", "sex": "M"}),
                   ("G1",))
    res = invoke("tmaze", seq, "--study", study, "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert ("subject(s) 'ymaze' in the T-maze data are not in the study's subjects file "
            "subjects.csv (the subject 'ymaze' was taken from the file name: name it with the "
            "parameter file_subjects, e.g. --param \"file_subjects={ymaze.csv: ID}\")"
            ) in res.output
    res = invoke("-q", "tmaze", seq, "--study", study, "--param",
                 "file_subjects={ymaze.csv: M1}", "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output
    ep = pd.read_csv(tmp_path / "o" / "endpoints.csv")
    assert set(ep["subject"]) == {"M1"}
    # ABCABCBACB: triplets ABC BCA CAB ABC BCB CBA BAC ACB, 7 of 8 all-different
    alt = ep[ep["endpoint"] == "tmaze_alternation_pct"]["value"]
    assert alt.tolist() == pytest.approx([87.5])


def test_report_shows_the_test_against_chance_from_the_raw_data_and_from_endpoints(
        tmp_path, invoke):
    sim = tmp_path / "sim"
    assert invoke("simulate", "tmaze", "-o", sim).exit_code == 0
    out = tmp_path / "tm"
    assert invoke("tmaze", "--study", sim / "study.yaml", "-o", out).exit_code == 0
    one = pd.read_csv(out / "tmaze_one_sample.csv")
    g1 = one[(one["sex"] == "all") & (one["group"] == "G1")].iloc[0]
    expected = f"<td>{g1['n']}</td><td>{g1['mean']:.1f}</td><td>{g1['sd']:.1f}</td>"
    rep = tmp_path / "rep"
    res = invoke("-q", "report", sim / "study.yaml", "-o", rep, "--format", "html,xlsx")
    assert res.exit_code == 0, res.output
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert "Test against chance (22.2%): Spontaneous alternation" in html
    assert expected in html and f"{g1['statistic']:.3f}" in html
    sheets = pd.read_excel(rep / "report.xlsx", sheet_name=None, header=None)
    assert any("Test against chance (22.2%)" in str(df.iloc[0, 0]) for df in sheets.values())
    # from the EndpointTable: with n_arms: null the protocol does not fix the arms, so the
    # chance level is not known, and the report says so instead of testing against a guess
    study = (sim / "study.yaml").read_text()
    (sim / "study.yaml").write_text(study.replace(
        "  input: tmaze_entries.csv", "  input: tmaze_entries.csv\n  parameters: {n_arms: null}"))
    rep2 = tmp_path / "rep2"
    res = invoke("-q", "report", sim / "study.yaml", "--endpoints", out / "endpoints.csv",
                 "-o", rep2, "--format", "html")
    assert res.exit_code == 0, res.output
    html = (rep2 / "report.html").read_text(encoding="utf-8")
    assert "Test against chance" not in html
    assert "not tested against chance (chance level not known: it depends on the arms" in html
    # ... and with the arms in the study's protocol parameters (or the protocol's n_arms: 3),
    # the same test as the assay's
    study = study.replace(
        "  input: tmaze_entries.csv", "  input: tmaze_entries.csv\n  parameters: {arms: [A, B, C]}")
    (sim / "study.yaml").write_text(study)
    rep3 = tmp_path / "rep3"
    res = invoke("-q", "report", sim / "study.yaml", "--endpoints", out / "endpoints.csv",
                 "-o", rep3, "--format", "html")
    assert res.exit_code == 0, res.output
    html = (rep3 / "report.html").read_text(encoding="utf-8")
    assert "Test against chance (22.2%): Spontaneous alternation" in html
    assert expected in html and f"{g1['statistic']:.3f}" in html
    # the shipped protocol's n_arms: 3 gives the chance level without any parameter
    (sim / "study.yaml").write_text(study.replace("\n  parameters: {arms: [A, B, C]}", ""))
    rep4 = tmp_path / "rep4"
    res = invoke("-q", "report", sim / "study.yaml", "--endpoints", out / "endpoints.csv",
                 "-o", rep4, "--format", "html")
    assert res.exit_code == 0, res.output
    assert "Test against chance (22.2%)" in (rep4 / "report.html").read_text(encoding="utf-8")


def _rewarded_trials(folder):
    """Rewarded alternation, Allen layout: 12 trials per mouse, the first k correct."""
    correct = {"C1": 9, "C2": 10, "C3": 8, "T1": 7, "T2": 5, "T3": 6, "T4": 12}
    rows = []
    for mouse, k in correct.items():
        for i in range(12):
            sample = "LR"[i % 2]
            choice = {"L": "R", "R": "L"}[sample] if i < k else sample
            rows.append({"mouse": mouse, "date": "2026-01-05", "injection": "Saline",
                         "block": 1, "trialNo": i + 1, "sample": sample, "choice": choice})
    pd.DataFrame(rows).to_csv(folder / "trials.csv", index=False)
    subjects = pd.DataFrame({"subject": list(correct), "group": [m[0] for m in correct],
                             "sex": "NA"})
    study = _study(folder, subjects, ("C", "T"))
    study.write_text(study.read_text() + "assays:\n  - {assay: tmaze, protocol: "
                     "tmaze-rewarded, input: trials.csv}\n")
    return study


def test_report_shows_the_tmaze_trial_level_model(tmp_path, invoke):
    """The GEE against chance was computed but not in the report; now its table follows
    the one-sample test. Known truth: C 27/36 correct, T 30/48; z and p from R geepack
    (geeglm, binomial, exchangeable): C z 5.2436, T z 1.0672 p 0.285903."""
    import io

    from docx import Document
    from openpyxl import load_workbook

    study = _rewarded_trials(tmp_path)
    out = tmp_path / "rep"
    res = invoke("report", study, "-o", out, "--format", "xlsx,docx,html", "--no-bmd")
    assert res.exit_code == 0, res.output
    wb = load_workbook(out / "report.xlsx")
    names = [n for n in wb.sheetnames if n.endswith(("one_sample", "trial_model"))]
    assert [n.split(" ")[1] for n in names] == ["one_sample", "trial_model"]
    rows = {r[1]: r for r in wb[names[1]].iter_rows(values_only=True) if r[0] == "Saline"}
    texts = {g: r[2::2] for g, r in rows.items()}
    assert texts == {"C": ("3", "36", "0.750", "1.099", "0.210", "5.244", "< 0.001**"),
                     "T": ("4", "48", "0.625", "0.511", "0.479", "1.067", "0.286")}
    assert rows["T"][11] == pytest.approx(0.478681, abs=1e-6)  # SE
    assert rows["T"][13] == pytest.approx(1.0672, abs=1e-4)  # z
    assert rows["T"][15] == pytest.approx(0.285903, abs=1e-6)  # p
    one = wb[names[0]]
    caption = one["A1"].value
    assert caption.startswith("Table ") and "Test against chance (50%)" in caption
    model_no = int(wb[names[1]]["A1"].value.split(".")[0].split()[1])
    summary = [c.value for n in wb.sheetnames if n.endswith("summary") for c in wb[n]["A"]
               if c.value and "individual trials" in str(c.value)]
    assert summary == [f"Correct choices: each group tested against chance (50%) in Table "
                       f"{model_no - 1}, its individual trials in Table {model_no}."]
    html = (out / "report.html").read_text()
    assert "Trial-level model against chance (50%): Correct choices" in html
    docx = [c.text for t in Document(io.BytesIO((out / "report.docx").read_bytes())).tables
            for r in t.rows for c in r.cells]
    assert "0.625" in docx and "5.244" in docx


def test_tmaze_cli_camera_bumped_refused_and_european_copy_read(tmp_path, invoke):
    """A DLC maze video whose corners jump at 15 s: exit 2 naming file, time and shift;
    the same video unbumped, saved with ';' and decimal commas, gives the known entries."""
    from tests.unit.rodent.test_landmarks import BUMP, maze_frame
    from tests.unit.rodent.test_tmaze_pose import FPS, PX, ZONES

    study = _study(tmp_path, pd.DataFrame({"subject": ["m1"], "group": "G1", "sex": "M"}),
                   ("G1",))
    zf = tmp_path / "maze_zoneinfo.csv"
    pd.DataFrame(ZONES).to_csv(zf, sep=";", index=False)
    pose = (f"pose={{px_per_cm: {PX}, fps: {FPS}, body: body_centre, keypoints: [nose, "
            "body_centre, tail_base], min_fraction: 0.6, arm_zones: [S, L, R]}")
    args = ("--study", study, "--param", pose, "--param", "min_entries=3")
    video = tmp_path / "m1DLC_resnet50_maze.csv"
    maze_frame(bump=BUMP).to_csv(video)
    res = invoke("tmaze", video, zf, *args, "-o", tmp_path / "o1")
    assert res.exit_code == 2
    assert ("m1DLC_resnet50_maze.csv: static landmark(s) jumped and stayed moved (camera "
            "bumped, or the maze or an object moved?) at 15.00 s: 10 landmarks") in res.output
    maze_frame().to_csv(video, sep=";", decimal=",")
    res = invoke("tmaze", video, zf, *args, "-o", tmp_path / "o2")
    assert res.exit_code == 0, res.output
    entries = pd.read_csv(tmp_path / "o2" / "tmaze_entries.csv")
    assert entries["arm"].tolist() == ["S", "L", "R", "S", "R"]


def test_nor_cli_on_multi_arena_workbooks_equals_single_files(tmp_path, invoke):
    """stranger33 E9: a two-arena EthoVision workbook per phase, each sheet a trial."""
    from tests.unit.rodent.test_ethovision_arenas import TEST, TRAINING, trial_rows, workbook
    from tests.unit.rodent.test_ethovision_raw import write

    subjects = pd.DataFrame({"subject": ["M1", "M2"], "group": "G1", "sex": "M"})
    day = [("training", TRAINING, "Trial     1"), ("test", TEST, "Trial     2")]
    ends = {}
    for case in ("books", "singles"):
        folder = tmp_path / case
        folder.mkdir()
        study = _study(folder, subjects, ("G1",))
        if case == "books":
            files = [workbook(folder / f"{p}.xlsx", trial_rows(1, "M1", start=s, trial=t),
                              trial_rows(2, "M2", start=s, trial=t)) for p, s, t in day]
        else:
            files = [write(folder / f"{m}_{p}.csv", trial_rows(k, m, start=s, trial=t))
                     for p, s, t in day for k, m in ((1, "M1"), (2, "M2"))]
        res = invoke("-q", "nor", *files, "--study", study, "--param", "novel_default=L",
                     "-o", folder / "out")
        assert res.exit_code == 0, res.output
        ep = pd.read_csv(folder / "out" / "endpoints.csv")
        ends[case] = ep.set_index(["subject", "endpoint"])[["value", "excluded"]].sort_index()
    pd.testing.assert_frame_equal(ends["books"], ends["singles"])
    di = ends["books"].xs("nor_discrimination_index", level="endpoint")["value"]
    assert di.to_dict() == pytest.approx({"M1": 1 / 3, "M2": -1 / 3})
