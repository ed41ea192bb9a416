"""Simulated rodent cognition studies (``nor``, ``tmaze``) with known truth.

Both are 3 groups × 5 M + 5 F with a deficit at the high dose: ``neurotox simulate
nor`` writes an NOR scoring sheet (xlsx) with the test discrimination index at
chance (DI ~ 0) in G3; ``neurotox simulate tmaze`` writes arm-entry sequences with
alternation at chance (a random walk) in G3; ``neurotox simulate ymaze-sheet`` writes
the same kind of sequences as a hand-scored sheet (banner rows, one string per animal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.rodent.tmaze import score_sequence
from neurotox.io.xlsx import text_cells, write_frame
from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml

GROUPS = (("G1", "Vehicle control", 0.0), ("G2", "Low dose", 10.0),
          ("G3", "High dose", 100.0))
#: Planted mean test DI per group: memory deficit (DI ~ 0) at the high dose.
SIM_DI = {"G1": 0.35, "G2": 0.30, "G3": 0.0}
#: Probability that an entry goes to the arm least recently visited (else: random arm,
#: re-entries allowed). 0 at the high dose = random walk, alternation ~ 22 %.
SIM_ALTERNATE_P = {"G1": 0.7, "G2": 0.6, "G3": 0.0}


def _subjects(folder: Path) -> pd.DataFrame:
    """5 M + 5 F per group, written to ``subjects.csv``."""
    subjects = pd.DataFrame([{"subject": f"{g}{s}{k:02d}", "group": g, "sex": s}
                             for g, _, _ in GROUPS for s in ("M", "F") for k in range(1, 6)])
    subjects.to_csv(folder / "subjects.csv", index=False)
    return subjects


def _write_study(folder: Path, *, study_id: str, title: str, species: str,
                 assay: dict[str, str]) -> None:
    write_study_yaml(folder, {
        "study_id": study_id, "title": title, "test_item": "Compound X", "species": species,
        "groups": [{"id": g, "label": lab, "dose": d, "dose_unit": "mg/kg/day",
                    **({"control": True} if d == 0 else {})} for g, lab, d in GROUPS],
        "subjects": "subjects.csv", "assays": [assay]})


# ------------------------------------------------------------ NOR


def _sim_sheet(subjects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for i, r in enumerate(subjects.itertuples(index=False)):
        side = "L" if i % 2 == 0 else "R"
        total_train = rng.uniform(20, 40)
        left = total_train * rng.uniform(0.4, 0.6)
        total = 4.0 if i == 3 else rng.uniform(18, 45)  # one animal explores < 10 s
        di = float(np.clip(rng.normal(SIM_DI[r.group], 0.12), -0.95, 0.95))
        novel, familiar = total * (1 + di) / 2, total * (1 - di) / 2
        nl, nr = (novel, familiar) if side == "L" else (familiar, novel)
        flag = "object toppled" if i == 7 else ""
        rows += [{"subject": r.subject, "phase": "training", "left_s": round(left, 2),
                  "right_s": round(total_train - left, 2), "novel_side": side,
                  "latency_novel": "", "flag": ""},
                 {"subject": r.subject, "phase": "test", "left_s": round(nl, 2),
                  "right_s": round(nr, 2), "novel_side": side,
                  "latency_novel": round(rng.uniform(2, 30), 1), "flag": flag}]
    return pd.DataFrame(rows)


def _sim_truth(sheet: pd.DataFrame, subjects: pd.DataFrame) -> dict[str, Any]:
    test = sheet[sheet["phase"] == "test"].set_index("subject")
    novel = np.where(test["novel_side"] == "L", test["left_s"], test["right_s"])
    familiar = np.where(test["novel_side"] == "L", test["right_s"], test["left_s"])
    di = pd.Series((novel - familiar) / (novel + familiar), index=test.index)
    excluded = {s: ("total test exploration < 10 s" if (n + f) < 10 else "technical flag")
                for s, n, f, fl in zip(test.index, novel, familiar, test["flag"], strict=True)
                if (n + f) < 10 or fl}
    groups = subjects.set_index("subject")["group"]
    kept = di.drop(list(excluded))
    return {"planted_mean_di": SIM_DI, "di": di.round(6).to_dict(), "excluded": excluded,
            "group_mean_di": kept.groupby(groups.loc[kept.index]).mean().round(6).to_dict(),
            "deficit_group": "G3"}


def simulate_nor(folder: Path, seed: int) -> dict[str, Any]:
    """Write a simulated NOR study (3 groups × 5 M + 5 F, scoring sheet xlsx)."""
    rng = np.random.default_rng(seed)
    subjects = _subjects(folder)
    sheet = _sim_sheet(subjects, rng)
    write_frame(sheet, folder / "nor_scores.xlsx")
    _write_study(folder, study_id="SIM-NOR-001",
                 title="Simulated novel object recognition study", species="rat",
                 assay={"assay": "nor", "protocol": "nor-standard", "input": "nor_scores.xlsx"})
    return _sim_truth(sheet, subjects)


# ------------------------------------------------------------ T-maze


def _sim_sequence(rng: np.random.Generator, p_alt: float, n: int) -> list[str]:
    seq = list(rng.choice(["A", "B", "C"], size=2, replace=False))
    while len(seq) < n:
        if rng.random() < p_alt:
            seq.append(next(a for a in "ABC" if a not in seq[-2:]))
        else:
            seq.append(str(rng.choice(["A", "B", "C"])))
    return seq


def simulate_tmaze(folder: Path, seed: int) -> dict[str, Any]:
    """Write a simulated spontaneous-alternation study (3 groups × 5 M + 5 F)."""
    rng = np.random.default_rng(seed)
    subjects = _subjects(folder)
    rows, truth = [], {}
    for i, r in enumerate(subjects.itertuples(index=False)):
        n = 6 if i == 0 else int(rng.integers(15, 30))  # one animal with too few entries
        seq = _sim_sequence(rng, SIM_ALTERNATE_P[r.group], n)
        t = np.cumsum(rng.uniform(5, 25, size=n))
        rows += [{"subject": r.subject, "order": k + 1, "arm": a, "enter_s": round(t[k], 2),
                  "exit_s": round(t[k] + 3, 2)} for k, a in enumerate(seq)]
        s = score_sequence(seq)
        truth[r.subject] = round(100 * s["alternations"] / s["windows"], 6)
    pd.DataFrame(rows).to_csv(folder / "tmaze_entries.csv", index=False)
    _write_study(folder, study_id="SIM-TMAZE-001",
                 title="Simulated T-maze spontaneous alternation study", species="mouse",
                 assay={"assay": "tmaze", "protocol": "tmaze-spontaneous",
                        "input": "tmaze_entries.csv"})
    return {"alternation_pct": truth, "chance_pct": round(100 * 2 / 9, 6),
            "excluded": {subjects["subject"].iloc[0]: "6 entries < minimum 8"},
            "planted_p_alternate": SIM_ALTERNATE_P, "deficit_group": "G3"}


# ------------------------------------------------------------ hand-scored Y-maze sheet

def _sheet_text(seq: list[str], k: int) -> str:
    """The sequence as scorers write it: plain, lower case, dashed or in groups of three."""
    text = "".join(seq)
    styles = (text, text.lower(), "-".join(seq),
              " ".join(text[i:i + 3] for i in range(0, len(text), 3)))
    return styles[k % len(styles)]


def simulate_ymaze_sheet(folder: Path, seed: int) -> dict[str, Any]:
    """Write a hand-scored Y-maze sheet (xlsx with banner rows) and its study."""
    import openpyxl

    rng = np.random.default_rng(seed)
    subjects = _subjects(folder)
    wb = openpyxl.Workbook()
    ws = wb.active
    for banner in (["Behavior scoring sheet -- Spontaneous alternation (Y maze)"],
                   ["Scorer: simulated"], []):
        ws.append(banner)
    ws.append(["Animal ID", "Group", "Sex", "Arm entries", "Notes"])
    truth: dict[str, Any] = {"alternation_pct": {}, "reentries": {}}
    for i, r in enumerate(subjects.itertuples(index=False)):
        seq = _sim_sequence(rng, SIM_ALTERNATE_P[r.group], int(rng.integers(15, 30)))
        ws.append([r.subject, r.group, r.sex, _sheet_text(seq, i),
                   "entry at 3 min unclear" if i == 4 else None])
        s = score_sequence(seq)
        truth["alternation_pct"][r.subject] = round(100 * s["alternations"] / s["windows"], 6)
        truth["reentries"][r.subject] = sum(a == b for a, b in zip(seq, seq[1:], strict=False))
    text_cells(ws)
    wb.save(folder / "ymaze_scoring_sheet.xlsx")
    _write_study(folder, study_id="SIM-YMAZE-001",
                 title="Simulated Y-maze spontaneous alternation study (hand-scored)",
                 species="rat", assay={"assay": "tmaze", "protocol": "tmaze-spontaneous",
                                       "input": "ymaze_scoring_sheet.xlsx"})
    return {**truth, "chance_pct": round(100 * 2 / 9, 6), "banner_rows": 3,
            "planted_p_alternate": SIM_ALTERNATE_P, "deficit_group": "G3"}


register_simulator(Simulator("nor", "Novel object recognition: 3 groups, both sexes, "
                             "scoring sheet; memory deficit (DI ~ 0) at the high dose",
                             simulate_nor))
register_simulator(Simulator("tmaze", "T-maze spontaneous alternation: 3 groups, both "
                             "sexes, arm-entry sequences; alternation at chance at the "
                             "high dose", simulate_tmaze))
register_simulator(Simulator("ymaze-sheet", "Y-maze spontaneous alternation scored by hand: "
                             "xlsx sheet with banner rows, sequences as scorers write them; "
                             "alternation at chance at the high dose", simulate_ymaze_sheet))
