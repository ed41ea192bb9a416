"""Malformed ZebraLab exports with stimulus rows (``zebralab-stimulus``) through the CLI.

The base file is a tiny export written here in the shape of the ZebraSort export in
../shared (regular 5-s periods interleaved with ``Chronolog start`` rows): 4 larvae,
4 regular bins over 20 s, a 1-s top-light flash at 0 s and a 1-s vibration at 10 s,
each followed by a ``Null`` interval row.
"""

from __future__ import annotations

import pytest

from tests.robustness.corpus import Case, run_case, run_ok

WELLS = ("A01", "A02", "B01", "B02")
HEAD = ("location,aname,start,end,startreason,endreason,stimuli_name,stimuli_start,"
        "smldist,lardist,inadist,emptydur")


def _rows() -> list[str]:
    out = []
    for i, w in enumerate(WELLS):
        loc = f"LocA{i + 1:02d},{w}_Name"
        chron = [(0, 1, "TOP_LIGHT", "Top light", 100), (1, 10, "SOUND", "Null", 0),
                 (10, 11, "SOUND", "Vibration", 100), (11, 20, "TOP_LIGHT", "Null", 0)]
        for a, b, dev, name, on in chron:
            out.append(f"{loc},{a},{b},Chronolog start,{dev},{name},{on},"
                       f"{0.5 + i * 0.1:.2f},{1.5 if name != 'Null' else 3:.2f},0.2,0")
        out += [f"{loc},{5 * k},{5 * k + 5},Beginning of period,End of period,,,"
                f"{1 + k:.2f},{2 + i:.2f},0.3,0" for k in range(4)]
    return out


ROWS = _rows()
EXPORT = "\n".join([HEAD, *ROWS]) + "\n"
LAYOUT = "well,group,concentration\nA01,C,0\nA02,C,0\nB01,H,5\nB02,H,5\n"
STIM = "stimuli=[{name: vibration, type: vibration, start_s: 10, every_s: 20, count: %d}, " \
       "{name: light_flash, type: light_flash, start_s: %g, every_s: 20, count: 1}]"
SETS = ("--protocol", "zebrafish-light-vibration-zebralab", "--set",
        "schedule=[{name: recording, light: false, duration_s: 20}]")
VIB = ROWS[2]      # LocA01 vibration row
LIGHT = ROWS[0]    # LocA01 light row


def run(*extra: str, stimuli: str = STIM % (1, 0)) -> tuple[str, ...]:
    return ("zebrafish", "{dir}/s.csv", "--layout", "{dir}/layout.csv", *SETS,
            "--set", stimuli, *extra, "-o", "{out}")


def files(text: str = EXPORT) -> dict:
    return {"s.csv": text, "layout.csv": LAYOUT}


def edit(old: str, new: str) -> dict:
    assert old in EXPORT
    return files(EXPORT.replace(old, new, 1))


def without_column(name: str) -> dict:
    head = HEAD.split(",")
    k = head.index(name)
    lines = [",".join(c for j, c in enumerate(line.split(",")) if j != k)
             for line in [HEAD, *ROWS]]
    return files("\n".join(lines) + "\n")


CASES = [
    Case("zs-no-stimuli-name", without_column("stimuli_name"), run(),
         "expected column 'stimuli_name' to tell stimulus rows from the intervals", "s.csv"),
    Case("zs-no-regular-rows", files("\n".join([HEAD, *(r for r in ROWS if "Chronolog" in r)])
                                     + "\n"), run(),
         "column 'endreason': expected regular integration rows (endreason 'End of period'), "
         "found only 'SOUND', 'TOP_LIGHT'", "s.csv"),
    Case("zs-text-in-stimulus-distance", edit(VIB, VIB.replace(",1.50,", ",lots,")), run(),
         "line 4, column 'lardist': expected a number, found 'lots'", "s.csv"),
    Case("zs-negative-stimulus-distance", edit(VIB, VIB.replace(",1.50,", ",-9,")), run(),
         "line 4, column 'lardist': expected a finite number >= 0, found -9",
         "s.csv"),
    Case("zs-stimulus-end-before-start", edit(VIB, VIB.replace(",10,11,", ",10,9,")), run(),
         "stimulus row of larva A01 at 10 s, column 'end_s': expected end >= start, found 9",
         "s.csv"),
    Case("zs-samplecode-partly-empty", files("\n".join(
        [HEAD + ",samplecode", *(r + (",P7" if i else ",") for i, r in enumerate(ROWS))]) + "\n"),
         run(), "line 2, column 'samplecode': expected a samplecode (plate ID) in every row "
                "or in none", "s.csv"),
    Case("zs-regular-bin-twice", edit(ROWS[4], ROWS[4] + "\n" + ROWS[4]), run(),
         "larva A01 (plate s), bin 0, column 'start_s': expected each larva and bin once",
         "s.csv"),
    Case("zs-stimulus-row-twice", edit(VIB, VIB + "\n" + VIB), run(),
         "s.csv, line 5 (plate s, well A01): stimulus 'vibration': larva A01 has 2 presentation "
         "rows, 3 other larvae 1: an extra row at 10 s", "s.csv"),
    Case("zs-stimulus-row-missing", edit(VIB + "\n", ""), run(),
         "s.csv, larva A01 (plate s): stimulus 'vibration': larva A01 has 0 presentation rows, "
         "3 other larvae 1: no row for presentation 1 (at 10 s in the other larvae)", "s.csv"),
    Case("zs-stimulus-name-typo", edit(VIB, VIB.replace("Vibration", "Vibraton")), run(),
         "s.csv, line 4 (plate s, well A01): export stimulus 'Vibraton' matches none of the "
         "protocol's stimuli ('light_flash', 'vibration'); correct the name in the export or "
         "set each stimulus's export_name", "s.csv"),
    Case("zs-one-larva-off-schedule", edit(VIB, VIB.replace(",10,11,", ",10.8,11,")), run(),
         "s.csv, line 4 (plate s, well A01): stimulus 'vibration' presentation 1 of larva A01: "
         "the row starts at 10.8 s, the larvae's median onset is 10 s (more than 0.5 s apart)",
         "s.csv"),
    Case("zs-protocol-count-differs", files(), run(stimuli=STIM % (3, 0)),
         "stimulus 'vibration': the protocol schedules 3 presentations, the export has 1",
         "s.csv"),
    Case("zs-protocol-onset-differs", files(), run(stimuli=STIM % (1, 5)),
         "stimulus 'light_flash' presentation 1: scheduled at 5 s, the export's row starts at "
         "0 s", "s.csv"),
    Case("zs-export-stimulus-not-in-protocol", files(), run(
        stimuli="stimuli=[{name: vibration, type: vibration, start_s: 10, every_s: 20, "
                "count: 1}]"),
         "export stimulus 'Top light' matches none of the protocol's stimuli ('vibration')",
         "s.csv"),
    Case("zs-window-shorter-than-bins", files(), run("--set", "response_window_s=1"),
         "the response window (1 s) is shorter than the export's 5-s bins", "s.csv"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_zebralab_stimulus_case(case, tmp_path):
    run_case(case, tmp_path)


def test_stimulus_export_reads_and_says_what_it_assumed(tmp_path):
    manifest = run_ok(files(), run(), tmp_path)
    notes = "\n".join(manifest["notes"])
    assert "format zebralab-stimulus (detected)" in notes
    assert "plate ID 's' taken from the file name (no samplecode column)" in notes
    assert "8 row(s) between stimuli" in notes and "8 stimulus row(s)" in notes
    assert "stimulus onsets from the export's stimulus rows: 1 × vibration, 1 × light_flash" \
        in notes
    assert manifest["parameters"]["conventions"][2].startswith("Stimulus responses: a larva "
                                                               "responded when it moved more")


def test_plate_id_from_samplecode_then_overridden(tmp_path):
    text = "\n".join([HEAD + ",samplecode", *(r + ",000187" for r in ROWS)]) + "\n"
    manifest = run_ok(files(text), run(), tmp_path / "a")
    assert any("plate ID(s) ['187'] from the export's samplecode column" in n
               for n in manifest["notes"])
    manifest = run_ok(files(text), run("--plate-id", "PL9"), tmp_path / "b")
    assert any("plate ID 'PL9' as given (the file gave '187')" in n for n in manifest["notes"])
    larvae = (tmp_path / "b" / "out" / "larvae.csv").read_text().splitlines()
    assert {line.split(",")[1] for line in larvae[1:]} == {"PL9"}


def test_plate_id_for_an_unknown_file_is_a_usage_error(tmp_path):
    from tests.robustness.corpus import invoke, materialise

    materialise(files(), tmp_path)
    result = invoke(run("--plate-id", "other.csv=P1"), tmp_path)
    assert result.exit_code == 2
    assert "Invalid value for --plate-id: expected FILE=ID with FILE one of the exports " \
           "(s.csv), found 'other.csv=P1'" in result.output
    assert not (tmp_path / "out").exists()
