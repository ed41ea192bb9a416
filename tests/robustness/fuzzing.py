"""Fuzzing targets and hypothesis strategies for every reader (shared by tests and benchmarks).

Each target reads one file and may raise only :class:`~neurotox.errors.NeurotoxError`.
Inputs are *mutated templates*: a small valid file of the reader's format with lines
dropped, duplicated or cut, cells replaced by hostile values, the delimiter and the
encoding changed, junk lines inserted and bytes truncated -- so the fuzzer reaches
the parsing code behind the format checks, not only the "unknown layout" branch.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

#: Hostile cell values (YAML hazards among them: octal- and base-60-looking numbers,
#: yes/no, aliases, unsafe tags, unclosed brackets, overflowing numbers).
CELLS = ("", "-", "#N/A", "NA", "nan", "inf", "-inf", "-1", "0", "1e309", "3,5", "2.5",
         "abc", "A01", "Z99", "A1", "c01", "training", "test", "L", "R", "Left", "  ",
         '"', "1;2", "\t", "é", "0x10", "True", "1e-300", "999999999999", "-0",
         "010", "1:40", "yes", "~", "&a [*a]", "*a", "!!python/object:os.system", "{", "[",
         "'", "1e999", ".nan", ".inf", "<<: {}", "? [a]", "\u200b", "\x00")


def _lines(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


ZL_TRACK = _lines("location,animal,an,start,end,smldist,lardist,inadist",
                  [f"c0{w},A0{w},1,{60 * b},{60 * b + 60},{b + 1}.5,{w}.25,0.1"
                   for w in (1, 2) for b in range(3)])
ZL_LONG = _lines("vd_samplecode,vd_start,vd_aname,vd_smldist,vd_lardist",
                 [f"000181,{6 * b},A0{w}-1,{b}.5,{w}.0" for w in (1, 2) for b in range(3)])
ZL_STIMULUS = _lines("location,aname,start,end,startreason,endreason,stimuli_name,stimuli_start,"
                     "smldist,lardist,inadist",
                     [f"LocA0{w},A0{w}_Name,{a},{b},{r},{e},{n},{on},0.{w},1.{a},0.2"
                      for w in (1, 2)
                      for a, b, r, e, n, on in (
                          (0, 1, "Chronolog start", "TOP_LIGHT", "Top light", 100),
                          (1, 10, "Chronolog start", "SOUND", "Null", 0),
                          (0, 5, "Beginning of period", "End of period", "", ""),
                          (5, 10, "Beginning of period", "End of period", "", ""))])
MOTIONTAB = _lines("Plate ID,frames_num,A01,A02", [f"P1,{f},0.0{f},0.1" for f in range(1, 5)])
TANGUAY_WIDE = _lines("chemical.id,conc,plate,well,t0,t1,t2",
                      ["3530,1,18103,A1,2,NA,3", "3530,0,18103,A2,1,2,3"])
TANGUAY_LONG = _lines("well,plate.id,conc,starttime,vd_smldist,vd_lardist",
                      [f"A0{w},18103,{w - 1},{6 * b},{b}.5,1" for w in (1, 2) for b in range(3)])
BMDRC = _lines("chemical.id,conc,plate.id,well,variable,value",
               ["2,0,20544,H01,t0,1.5", "2,0,20544,H01,t1,", "2,0,20544,H01,t2,3"])
TRAJ = _lines("time,x,y,well", [f"{t * 0.5},{t * 0.1},{w},A0{w}" for w in (1, 2)
                                for t in range(6)])
ETHO = ('"Number of header lines:";"6"\n"Experiment";"E1"\n"Arena name";"Arena 1"\n'
        '"Subject name";"A01"\n"Trial time";"X center";"Y center"\n"s";"mm";"mm"\n'
        + "".join(f'"{t:.1f}";"{t * 0.1:.2f}";"1,0"\n' for t in range(6)))
EPA = _lines("Removed due to death,Plate #,Well,Concentration (μM),20-22,22-24",
             ["no,1,A01,0,1.5,2.5", "yes,1,A02,1,0.5,0.2"])
LMR0 = _lines("srcf,acid,cpid,apid,rowi,coli,wllt,wllq,conc,vt1,vt2,vt3,egid",
              ["f,ZFlmrALD-2-2-2,725,P-1,1,1,t,1,0.3,1.5,2,0.25,E1",
               "f,ZFlmrALD-2-2-2,725,P-1,1,2,t,0,0.3,NA,NA,NA,E1",
               "f,ZFlmrALD-2-2-2,DMSO,P-1,8,12,v,1,0,1,1,1,E1"])
MORPHOLOGY = _lines("chemical.id,conc,plate.id,well,MO24,MORT,PE__,DNC_",
                    ["725,0,22200,A01,0,0,0,0", "1021,0,22200,A01,0,0,0,0",
                     "725,5,22200,B01,0,,1,0", "1021,5,22200,B02,1,,,0"])
PLATE_MAP = _lines("plate_id,chemical_id,row_id,col_id,value,units,MO24,MORT",
                   ["18103,3530,A,1,0,uM,0,0", "18103,3530,A,2,1,uM,1,0"])
LAYOUT = _lines("well,group,concentration", ["A01,C,0", "A02,H,5", "B01,blank,"])

NOR_SHEET = _lines("subject,phase,left_s,right_s,novel_side,flag",
                   ["R1,training,15,14,L,", "R1,test,20,11,L,", "R2,test,9,3,R,moved"])
SIMBA = _lines("VIDEO,CLASSIFIER,MEASUREMENT,VALUE",
               ["Exp_NOR_P1_rat01,Left,Event count,3",
                "Exp_NOR_P1_rat01,Left,Total event duration (s),12.5",
                "Exp_NOR_P2_rat01,Right,Total event duration (s),16"])
SIMBA_ROI = _lines("VIDEO,ANIMAL,BODY-PART,SHAPE,SHAPE TYPE,MEASUREMENT,VALUE",
                   ["NOR_T2_m1,Animal_1,Nose,object_left,circle,TOTAL ROI TIME (S),9.25",
                    "NOR_T2_m1,Animal_1,Nose,object_right,circle,ROI ENTRIES (COUNTS),0.0"])
FLAGS = _lines("VIDEO,REASON", ["Exp_NOR_P2_rat01,Object toppled"])
KEY = _lines("subject,novel_side", ["R1,L", "R2,R"])
TRIALS = _lines("subject,trial,sample,choice,latency", ["R1,1,L,R,2.5", "R1,2,R,L,3"])
ENTRIES = _lines("subject,order,arm,enter_s,exit_s", ["R1,1,A,1,2", "R1,2,B,3,4"])
ARMSEQ = _lines("ARM_ENTRY_SEQUENCE,ENTRY FRAME,EXIT FRAME,ENTER TIME (s),EXIT TIME (s)",
                ["A,1,10,0.1,0.5", "B,20,30,1.0,1.5"])
OBJECTS = _lines("video,object,x,y,radius,px_per_cm", ["v1,left,30,50,3,10", "v1,right,80,50,3,10"])
ANYMAZE = _lines("Test,Animal,Stage,Left object : time investigating,Right object : time "
                 "investigating", ["1,R1,T1,10.5,9", "2,R1,T2,4,12"])
ZONEINFO = "arm.a;arm.b\nc1;c4\nc2;c5\nc3;c6\n"
MAZE_SHEET = ("Y maze scoring sheet,,,\nScorer: JB,,,\n,,,\n"
              + _lines("Subject #,Group,Sex,Arm entries,Notes",
                       ["R1,C,M,ABCACBBACB,", "R2,H,F,a-b-c-a-c-c-b-a,unclear",
                        "10.1,C,M,CABCAB,"]))
ANYMAZE_SAMPLES = _lines("Time,Centre posn X,Centre posn Y,In top,In left,In right,In center,"
                         "Head in top",
                         [f"0:00:{0.25 * i:05.2f},{100 + i},50,{z}"
                          for i, z in enumerate(["1,0,0,0,1", "1,0,0,0,1", "0,0,0,1,0",
                                                 "0,1,0,0,0", "0,0,0,0,0", "0,0,0,1,0",
                                                 "0,0,1,0,0", "0,0,1,0,0"])])
LIMS = _lines("animal_name,trial,bin,parameter,data",
              ["R1,test,1,novel arm : duration,12", "R1,test,1,familiar arm : duration,8"])
DLC = ("scorer,DLC,DLC,DLC,DLC,DLC,DLC\nbodyparts,nose,nose,nose,head,head,head\n"
       "coords,x,y,likelihood,x,y,likelihood\n"
       + "".join(f"{f},{f}.5,2,0.9,{f},3,0.8\n" for f in range(4)))

FOB = _lines("subject,occasion,posture,gait_score,grip_fore_1,foot_splay_1,body_temperature",
             ["M1,pretest,sitting,1,900,80,37.1", "M2,pretest,asleep,2,910,75,36.8"])
MOTOR = _lines("subject,session,0-10 min,10-20 min", ["M1,pretest,486,245", "M2,pretest,300,200"])
STARTLE = _lines("subject,session,block,trial,trial_type,prepulse_db,amplitude,latency",
                 ["M1,week4,1,1,pulse,,499.3,24.6", "M1,week4,1,2,prepulse,75,300,20"])
ORGANS = _lines("subject,body_weight,brain_weight", ["M1,337.0,2.01", "M2,327.7,2.104"])
FINDINGS = _lines("subject,tissue,lesion,grade", ["M1,,NAD,", "M2,brain,gliosis,2"])
LANDMARKS = _lines("subject,day,landmark", ["P1,PND2,pinna_unfolding", "P2,PND3,eye_opening"])
_NC = Path(__file__).resolve().parents[1] / "data" / "neurochem"
XPONENT = (_NC / "xponent_small.csv").read_text(encoding="utf-8")
GEN5 = (_NC / "gen5_small.txt").read_text(encoding="utf-8")
GEN5_KINETIC = (_NC / "gen5_kinetic_small.txt").read_text(encoding="utf-8")
PLATE_TABLE = (_NC / "plate_table_small.csv").read_text(encoding="utf-8")
SAMPLE_SHEET = (_NC / "samples_small.csv").read_text(encoding="utf-8")
PLATE_GRID = (_NC / "plate_grid_small.txt").read_text(encoding="utf-8")
SOFTMAX = (_NC / "softmax_small.txt").read_text(encoding="latin-1")
EPT = _lines("study_id,assay,category,endpoint,unit,subject,group,dose,dose_unit,sex,timepoint,"
             "value,excluded,exclusion_reason,batch,source",
             ["S,brain_weight,structural,brain_weight,g,A1,C,0,mg,M,NA,2.0,False,,NA,f:1",
              "S,brain_weight,structural,brain_weight,g,A2,H,5,mg,F,NA,1.9,True,dead,NA,f:2"])


@dataclass(frozen=True)
class Target:
    """A reader under fuzz: how to call it on a file and which template to mutate."""

    name: str
    call: Callable[[Path], object]
    template: str | None = None
    suffix: str = ".csv"
    binary: str | None = None   # "tiff" for image readers
    file_name: str | None = None   # the input's name, when it matters (manifest.json)


def _zf(fmt: str | None) -> Callable[[Path], object]:
    def call(p: Path) -> object:
        from neurotox.io.zebrafish import read_export
        return read_export(p, format=fmt)
    return call


def _rod(fmt: str | None) -> Callable[[Path], object]:
    def call(p: Path) -> object:
        from neurotox.io.rodent import read_rodent
        return read_rodent(p, fmt=fmt)
    return call


def _maze(assay: str) -> Callable[[Path], object]:
    """The assay's input stage on the file: entries from sheets or zones, exploration."""
    def call(p: Path) -> object:
        from neurotox.assays.rodent.params import NorParameters, TmazeParameters
        if assay == "nor":
            from neurotox.assays.rodent.nor_inputs import exploration_from_zone_samples
            from neurotox.io.rodent import read_rodent
            data = read_rodent(p)
            if data.kind == "zone_samples":
                return exploration_from_zone_samples(
                    data, NorParameters(exploration_point="head", object_zone_pattern="."))
            return data
        from neurotox.assays.rodent.tmaze import alternation_table
        from neurotox.assays.rodent.tmaze_inputs import collect
        params = TmazeParameters(min_entries=3)
        data = collect([p], params)
        return alternation_table(data["entries"], params) if len(data["entries"]) else data
    return call


def _bat(name: str) -> Callable[[Path], object]:
    def call(p: Path) -> object:
        from neurotox.io import battery
        return getattr(battery, name)(p)
    return call


def _nc(fmt: str | None) -> Callable[[Path], object]:
    def call(p: Path) -> object:
        from neurotox.io.neurochem import read_export
        return read_export(p, format=fmt)
    return call


def _nc_fn(name: str) -> Callable[[Path], object]:
    def call(p: Path) -> object:
        from neurotox.io.neurochem import kinetic, plate_table, samples
        fn = {"kinetic": kinetic.read_kinetic, "plate_map": plate_table.read_plate_map,
              "samples": samples.read_sample_sheet}[name]
        return fn(p)
    return call


def _layout(p: Path) -> object:
    from neurotox.study import read_layout
    return read_layout(p)


def _zf_layouts(p: Path) -> object:
    from neurotox.io.zebrafish import read_plate_layouts
    return read_plate_layouts(p)


def _zf_plate_map(p: Path) -> object:
    from neurotox.io.zebrafish import read_plate_map
    return read_plate_map(p)


def _zf_morphology(p: Path) -> object:
    from neurotox.io.zebrafish.morphology import read_morphology
    return read_morphology(p)


def _ept(p: Path) -> object:
    from neurotox.endpoints import read
    return read(p)


def _send(domain: str) -> Callable[[Path], object]:
    """Read a SEND folder whose ``domain`` file is the fuzzed input (others intact)."""
    def call(p: Path) -> object:
        from neurotox.hcd.send import send_batch
        from neurotox.io.send import read_send
        from tests.send_files import tables, write_xpt

        folder = p.parent / "send"
        folder.mkdir(exist_ok=True)
        for dom, cols in tables().items():
            if dom != domain:
                write_xpt(folder / f"{dom}.xpt", dom.upper(), cols)
        (folder / f"{domain}.xpt").write_bytes(p.read_bytes())
        return send_batch(read_send(folder), include_recovery=True)
    return call


SEND_DOMAINS = ("dm", "tx", "ts", "bw", "om", "lb")


def _plane(p: Path) -> object:
    from neurotox.io.plates import pixel_size_um, read_plane
    pixel_size_um(p)
    return read_plane(p)


def _scan(p: Path) -> object:
    from neurotox.io.plates import scan_plate
    return scan_plate(p.parent)


ZF_TEMPLATES = {"tanguay-wide": TANGUAY_WIDE, "tanguay-long": TANGUAY_LONG, "bmdrc-long": BMDRC,
                "epa-lightdark": EPA, "ethovision-raw": ETHO, "trajectory": TRAJ,
                "zebralab-tracking": ZL_TRACK, "zebralab-long": ZL_LONG,
                "zebralab-motiontab": MOTIONTAB, "zebralab-stimulus": ZL_STIMULUS,
                "epa-lmr0": LMR0}
ROD_TEMPLATES = {"ethovision-raw": ETHO, "sleap-analysis": None, "deeplabcut-h5": None,
                 "deeplabcut-csv": DLC, "simba-aggregates": SIMBA,
                 "simba-roi-aggregates": SIMBA_ROI, "exclusion-list": FLAGS,
                 "novel-object-key": KEY, "tmaze-trials": TRIALS,
                 "arm-entry-sequence": ENTRIES, "object-layout": OBJECTS,
                 "lims-zone-bins": LIMS, "dlcanalyzer-zoneinfo": ZONEINFO,
                 "anymaze-results": ANYMAZE, "nor-scoring-sheet": NOR_SHEET,
                 "maze-scoring-sheet": MAZE_SHEET, "anymaze-zone-samples": ANYMAZE_SAMPLES}
BAT_TEMPLATES = {"read_fob": FOB, "read_motor_activity": MOTOR, "read_startle": STARTLE,
                 "read_organ_weights": ORGANS, "read_findings": FINDINGS,
                 "read_landmarks": LANDMARKS}


CIPN_LONG = _lines(
    "subject,day,test,trial,value,series,filament,distance_mm,latency_ms,amplitude,"
    "temperature_c,section,fibres,length_mm",
    ["R1,-1,von_frey_updown,1,,oxooxx,5,,,,,,,", "R2,7,von_frey_updown,1,,xxxx,1,,,,,,,",
     "R1,-1,hot_plate,1,12.5,,,,,,,,,", "R1,7,hot_plate,1,30,,,,,,,,,",
     "R2,-1,hot_plate,1,9,,,,,,,,,", "R1,7,acetone,1,2,,,,,,,,,",
     "R1,28,ncv_caudal,1,,,,50,1.3,40,36.5,,,", "R1,28,ienfd,1,,,,,,,,1,12,1.5"])
CIPN_WIDE = _lines("Animal,test,D-1,D7,D7 filament",
                   ["R1,von_frey_updown,oxooxx/5,oxxo,4", "R2,von_frey_updown,xxxx (1),ooooo,8"])


def _cipn_read(p: Path) -> object:
    from neurotox.io.cipn import read_cipn
    return read_cipn(p, test=None)


def _cipn_panel(p: Path) -> object:
    """The whole cipn assay on the file (series, filaments, cut-offs, NCV, IENFD checks)."""
    from neurotox.assays.base import resolve_parameters
    from neurotox.assays.cipn.assay import analyse
    from neurotox.study import load_study

    (p.parent / "subjects.csv").write_text("subject,group,sex\nR1,C,M\nR2,T,F\n")
    (p.parent / "study.yaml").write_text(
        "study_id: F\ntitle: f\ntest_item: x\nsubjects: subjects.csv\ngroups:\n"
        "  - {id: C, label: c, dose: 0, dose_unit: mg, control: true}\n"
        "  - {id: T, label: t, dose: 1, dose_unit: mg}\n")
    _, params = resolve_parameters("von-frey-up-down", {"test": None, "baseline": "-1",
                                                        "baseline_covariate": True})
    return analyse(load_study(p.parent / "study.yaml"), [p], params)


def targets() -> list[Target]:
    """Every reader of the io registries (plus layouts, plate maps, EndpointTables)."""
    from neurotox.io.rodent import list_readers
    from neurotox.io.zebrafish import list_formats

    out = [Target(f"zebrafish:{r.name}", _zf(r.name), ZF_TEMPLATES.get(r.name, TRAJ))
           for r in list_formats()]
    out.append(Target("zebrafish:detect", _zf(None), None))
    for r in list_readers():
        tpl = ROD_TEMPLATES.get(r.name, NOR_SHEET)
        out.append(Target(f"rodent:{r.name}", _rod(r.name), tpl,
                          suffix=".h5" if tpl is None else ".csv",
                          binary="h5" if tpl is None else None))
    out.append(Target("rodent:detect", _rod(None), None))
    out += [Target(f"battery:{n}", _bat(n), t) for n, t in BAT_TEMPLATES.items()]
    out += [Target("plates:read_plane", _plane, None, ".tif", "tiff"),
            Target("plates:scan_plate", _scan, None, ".tif", "tiff"),
            Target("study:read_layout", _layout, LAYOUT),
            Target("zebrafish:plate_layouts", _zf_layouts, LAYOUT),
            Target("zebrafish:plate_map", _zf_plate_map, PLATE_MAP),
            Target("zebrafish:morphology", _zf_morphology, MORPHOLOGY),
            Target("endpoints:read", _ept, EPT),
            Target("cipn:read_cipn", _cipn_read, CIPN_LONG),
            Target("cipn:panel", _cipn_panel, CIPN_LONG),
            Target("cipn:panel_wide", _cipn_panel, CIPN_WIDE),
            Target("excel:read_excel", _excel, NOR_SHEET, ".xlsx", "xlsx"),
            Target("rodent:nor-scoring-sheet-xlsx", _rod(None), NOR_SHEET, ".xlsx", "xlsx"),
            Target("rodent:maze-scoring-sheet-xlsx", _rod(None), MAZE_SHEET, ".xlsx", "xlsx"),
            Target("rodent:maze-sheet-tmaze", _maze("tmaze"), MAZE_SHEET),
            Target("rodent:anymaze-zones-tmaze", _maze("tmaze"), ANYMAZE_SAMPLES),
            Target("rodent:anymaze-zones-nor", _maze("nor"), ANYMAZE_SAMPLES),
            Target("battery:read_fob-xlsx", _bat("read_fob"), FOB, ".xlsx", "xlsx"),
            Target("yaml:study", _study, STUDY_YAML, ".yaml"),
            Target("yaml:protocol", _protocol, PROTOCOL_YAML, ".yaml"),
            Target("cli:overrides", _overrides, OVERRIDES, ".txt"),
            *[Target(f"cli:overrides:{name}", _overrides_of(name), _override_lines(name), ".txt")
              for name in OVERRIDE_PROTOCOLS],
            Target("manifest:verify", _verify, _manifest_template(),
                   file_name="manifest.json")]

    out += [Target(f"send:{d}", _send(d), d, ".xpt", "xpt") for d in SEND_DOMAINS]
    out += [Target("neurochem:xponent", _nc("xponent"), XPONENT),
            Target("neurochem:gen5", _nc("gen5"), GEN5, suffix=".txt"),
            Target("neurochem:plate-table", _nc("plate-table"), PLATE_TABLE),
            Target("neurochem:plate-grid", _nc("plate-grid"), PLATE_GRID, suffix=".txt"),
            Target("neurochem:softmax", _nc("softmax"), SOFTMAX, suffix=".txt"),
            Target("neurochem:bioplex", _nc("bioplex"), None, ".xlsx", "bioplex"),
            Target("neurochem:detect", _nc(None), XPONENT),
            Target("neurochem:kinetic", _nc_fn("kinetic"), GEN5_KINETIC, suffix=".txt"),
            Target("neurochem:plate_map", _nc_fn("plate_map"), PLATE_TABLE),
            Target("neurochem:samples", _nc_fn("samples"), SAMPLE_SHEET)]
    return out


ALL_TEMPLATES = [t for t in {**ZF_TEMPLATES, **ROD_TEMPLATES, **BAT_TEMPLATES}.values() if t] \
    + [CIPN_LONG, CIPN_WIDE, XPONENT, GEN5, PLATE_TABLE]


STUDY_YAML = """\
study_id: F-1
title: Fuzzed study
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
subjects: subjects.csv
exclusions: excl.csv
assays:
  - {assay: tmaze, protocol: tmaze-spontaneous, input: entries.csv, parameters: {window: 3}}
statistics: {alpha: 0.05, sided: two, log_transform: [tmaze_alternation_pct]}
"""
STUDY_FILES = {"subjects.csv": "subject,group,sex\nC1,C,M\nH1,H,F\n",
               "excl.csv": "subject,reason\nH1,died\n",
               "entries.csv": ENTRIES}
PROTOCOL_YAML = """\
name: fuzzed
assay: tmaze
title: Fuzzed protocol
guidelines: [OECD TG 426]
parameters:
  mode: continuous
  paradigm: spontaneous
  window: 3
  reentries: counted
  min_entries: 8
  normality_alpha: 0.05
"""
OVERRIDES = "window=3\nmin_entries=8\nreentries=counted\ntimepoint=NA\nnormality_alpha=0.05\n"


def _manifest_template() -> str:
    """A manifest written by OutputDir for the files :func:`_verify` puts beside it."""
    import json
    import tempfile

    from neurotox.io.output import MANIFEST, OutputDir, RunRecord

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        with OutputDir(out, record=RunRecord(command=["fuzz"])) as od:
            for rel, text in MANIFEST_OUTPUTS.items():
                od.write_text(rel, text)
        return json.dumps(json.loads((out / MANIFEST).read_text()), indent=1)


MANIFEST_OUTPUTS = {"a.csv": "x\n1\n", "sub/b.csv": "y\n2\n", "sub/manifest.json": "{}\n"}


def _study(p: Path) -> object:
    from neurotox.study import load_study
    for rel, text in STUDY_FILES.items():
        (p.parent / rel).write_text(text)
    return load_study(p)


def _protocol(p: Path) -> object:
    from neurotox.assays.base import resolve_parameters
    return resolve_parameters(p)


def _overrides(p: Path) -> object:
    from neurotox.assays.base import resolve_parameters
    from neurotox.errors import InputError
    from neurotox.yamlio import parse_overrides
    try:
        lines = p.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError("not UTF-8") from None   # the shell hands over text
    return resolve_parameters("tmaze-spontaneous", parse_overrides(lines, option="--param"))


#: Protocols of the commands added after the first corpus (their --param/--set paths).
OVERRIDE_PROTOCOLS = ("cipn-paclitaxel-rat", "multiplex-cytokines", "cholinesterase-ellman",
                      "zebrafish-screen-epa", "neurite-outgrowth-pc12")


def _override_lines(protocol: str) -> str:
    """``KEY=VALUE`` lines of every effective parameter of ``protocol`` (YAML flow values)."""
    import yaml

    from neurotox.assays.base import resolve_parameters

    values = resolve_parameters(protocol)[1].model_dump(mode="json")
    return "".join(f"{k}={yaml.safe_dump(v, default_flow_style=True, width=10**6).strip()}"
                   .removesuffix("\n...") + "\n" for k, v in values.items())


def _overrides_of(protocol: str) -> Callable[[Path], object]:
    def call(p: Path) -> object:
        from neurotox.assays.base import resolve_parameters
        from neurotox.errors import InputError
        from neurotox.yamlio import parse_overrides
        try:
            lines = p.read_bytes().decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError("not UTF-8") from None   # the shell hands over text
        return resolve_parameters(protocol, parse_overrides(lines, option="--set"))
    return call


def _verify(p: Path) -> object:
    from neurotox.io.output import verify_folder
    for rel, text in MANIFEST_OUTPUTS.items():
        (p.parent / rel).parent.mkdir(parents=True, exist_ok=True)
        (p.parent / rel).write_text(text)
    return verify_folder(p.parent)


ALL_TEMPLATES = [t for t in {**ZF_TEMPLATES, **ROD_TEMPLATES, **BAT_TEMPLATES}.values() if t]


# ------------------------------------------------------------------ text strategies

@st.composite
def mutated_text(draw: st.DrawFn, template: str | None) -> bytes:
    """A template with random line, cell, delimiter, encoding and byte-level damage."""
    tpl = template if template is not None else draw(st.sampled_from(ALL_TEMPLATES))
    lines = tpl.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop", "dup", "junk", "cut",
                                   "swap"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0))) if lines else 0
        if not lines:
            lines = [""]
        if op == "cell":
            sep = ";" if lines[i].count(";") > lines[i].count(",") else ","
            cells = lines[i].split(sep)
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(st.sampled_from(CELLS) | st.text(max_size=6))
            lines[i] = sep.join(cells)
        elif op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "junk":
            lines.insert(i, draw(st.text(max_size=20)))
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))
    delim = draw(st.sampled_from([None, None, ";", "\t"]))
    if delim:
        text = text.replace(",", delim)
    enc = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = text.encode(enc, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


def any_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, sometimes behind a container signature."""
    magic = st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"\x89HDF",
                             b"II*\x00", b"MM\x00*"])
    return st.builds(lambda m, b: m + b, magic, st.binary(max_size=300))


def file_bytes(target: Target) -> st.SearchStrategy[bytes]:
    """Inputs for one target: mostly mutated templates, sometimes arbitrary bytes."""
    if target.binary == "tiff":
        return tiff_bytes()
    if target.binary == "xpt":
        return st.one_of(xpt_mutated(target.template), xpt_mutated(target.template),
                         any_bytes())
    if target.binary == "xlsx":
        return st.one_of(xlsx_bytes(target.template), xlsx_bytes(target.template), any_bytes())
    if target.binary == "h5":
        return st.one_of(h5_bytes(), any_bytes())
    if target.binary == "bioplex":
        return st.one_of(bioplex_bytes(), bioplex_bytes(), any_bytes())
    return st.one_of(mutated_text(target.template), mutated_text(target.template), any_bytes())


# ------------------------------------------------------------------ SAS XPORT strategies

#: Hostile values for numeric XPORT columns (IBM doubles cannot hold inf or > 7e75).
XPT_NUMBERS = (None, 0.0, -1.0, 1e-70, 5e75, 1.5, 12345678.0)


@st.composite
def xpt_mutated(draw: st.DrawFn, domain: str) -> bytes:
    """A domain of the hand-made SEND study with hostile cells, dropped columns and damage."""
    from tests.send_files import tables, xpt_bytes

    cols = {k: list(v) for k, v in tables()[domain].items()}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(cols)))
        op = draw(st.sampled_from(["cell", "cell", "number", "drop", "rows"]))
        if op == "drop" and len(cols) > 1:
            del cols[name]
        elif op == "rows":
            keep = draw(st.integers(0, len(cols[name])))
            cols = {k: v[:keep] for k, v in cols.items()}
        elif cols[name]:
            i = draw(st.integers(0, len(cols[name]) - 1))
            cols[name][i] = draw(st.sampled_from(XPT_NUMBERS)) if op == "number" else \
                draw(st.sampled_from(CELLS) | st.text(alphabet=st.characters(
                    max_codepoint=126, min_codepoint=32), max_size=6))
    data = bytearray(xpt_bytes(domain.upper(), cols))
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "flip"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip" and data:
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


# ------------------------------------------------------------------ xlsx strategies

_XLSX_VALUES = st.one_of(st.sampled_from(CELLS), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                         st.none(), st.just("=1+1"), st.just("=A1*2"))


@st.composite
def xlsx_bytes(draw: st.DrawFn, template: str | None) -> bytes:
    """Workbooks of a template's rows with random cells, far cells, formulas and damage."""
    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    tpl = template if template is not None else draw(st.sampled_from(ALL_TEMPLATES))
    rows = [line.split(",") for line in tpl.splitlines()]
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.sampled_from([1, 2, 3, 40, 1000, 1_048_576]))
        col = draw(st.sampled_from([1, 2, 5, 30, 30, 30, 30, 16_384]))
        try:
            ws.cell(row=row, column=col, value=draw(_XLSX_VALUES))
        except (IllegalCharacterError, ValueError):
            pass
    if draw(st.booleans()):
        wb.create_sheet(draw(st.sampled_from(["Sheet2", "Scores", "é", "x" * 31])))
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "flip"]))
    # positions drawn with fixed bounds and scaled: the saved size varies with the save
    # time (core.xml timestamps compress differently), and Hypothesis requires each
    # draw's bounds to be the same when it replays an example (FlakyStrategyDefinition)
    if damage == "truncate":
        data = data[: draw(st.integers(0, 1 << 20)) * len(data) >> 20]
    elif damage == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, (1 << 20) - 1)) * len(data) >> 20] = draw(
                st.integers(0, 255))
    return bytes(data)


# ------------------------------------------------------------------ Bio-Plex workbooks

_BIOPLEX_HEAD = ["Analyte", "Type", "Well", "Outlier", "Description", "FI", "FI - Bkgd",
                 "Obs Conc", "Exp Conc", "Conc in Range", "Dilution"]
_BIOPLEX_CELLS = ("B", "S1", "S2", "C1", "X1", "X9", "Q", "A1,A2", "H12", "A1;A2", "Z9", "0",
                  "1", "---", "***", "*1.5", "OOR <", "OOR >", "12.5", "-3", "", None, 1e308,
                  "Std. Curve: FI = 1 + (100 - 1) / ((1 + (Conc / 5)^-1))^0.5",
                  "Std. Curve: FI = 1 + (100 + 3) / (1 + (Conc / 5)^-1)",
                  "Regression Type: Logistic - 5PL")


@st.composite
def bioplex_bytes(draw: st.DrawFn) -> bytes:
    """Bio-Plex-like workbooks: a header block, an analyte table and a footer of hostile cells."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = draw(st.sampled_from(["Hu IL-6 (19)", "Project Template", "IL-6 (12)", "x"]))
    for _ in range(draw(st.integers(0, 4))):
        ws.append([draw(st.sampled_from(["File Name: a.rbx", "Plate ID: P1", "Analyte: x",
                                         ""]))])
    head = list(_BIOPLEX_HEAD)
    if draw(st.booleans()) and head:
        del head[draw(st.integers(0, len(head) - 1))]
    ws.append(head)
    printable = st.characters(blacklist_categories=("Cc", "Cs"))
    cell = st.sampled_from(_BIOPLEX_CELLS) | st.text(printable, max_size=6) | \
        st.floats(allow_nan=True)
    for _ in range(draw(st.integers(0, 6))):
        ws.append([draw(cell) for _ in head])
    for _ in range(draw(st.integers(0, 3))):
        ws.append([draw(st.sampled_from(_BIOPLEX_CELLS))])
    cut = draw(st.floats(0, 1)) if draw(st.integers(0, 6)) == 0 else 1.0
    buf = io.BytesIO()
    wb.save(buf)              # the file's timestamps vary: draw nothing from its length
    data = buf.getvalue()
    return data[: int(cut * len(data))]


def _excel(p: Path) -> object:
    from neurotox.workbook import read_excel, sheet_rows
    sheet_rows(p, max_rows=40)
    return read_excel(p, sheet_name=None, dtype=str)


# ------------------------------------------------------------------ HDF5 strategies

_H5_SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple)


@st.composite
def h5_bytes(draw: st.DrawFn) -> bytes:
    """SLEAP-/DeepLabCut-like HDF5 files with random dataset shapes, types and names."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for name in draw(st.lists(st.sampled_from(["tracks", "node_names", "track_names",
                                                   "point_scores", "df_with_missing",
                                                   "other"]), unique=True, max_size=5)):
            kind = draw(st.sampled_from(["float", "names", "int"]))
            if kind == "names":
                f[name] = np.array([s.encode() for s in draw(
                    st.lists(st.sampled_from(["nose", "head", "tail", "", "é"]), max_size=4))],
                    dtype="S8")
            else:
                shape = draw(_H5_SHAPES)
                rng = np.random.default_rng(draw(st.integers(0, 2**16)))
                data = rng.normal(size=shape)
                f[name] = data if kind == "float" else data.astype(np.int64)
    data = buf.getvalue()
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


# ------------------------------------------------------------------ TIFF strategies

@st.composite
def tiff_bytes(draw: st.DrawFn) -> bytes:
    """Small TIFFs of varied dtype, shape and metadata, sometimes truncated or bit-flipped."""
    import tifffile

    dtype = draw(st.sampled_from(["uint8", "uint16", "int16", "float32", "float64", "bool",
                                  "uint32", "int8"]))
    shape = draw(st.sampled_from([(4, 5), (1, 1), (3, 4, 5), (4, 5, 3), (2, 2, 4, 4),
                                  (0, 4), (6, 6), (5, 4, 4)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    scale = draw(st.sampled_from([0, 1, 255, 65535, 1e30]))
    with np.errstate(invalid="ignore", over="ignore"):
        arr = (rng.random(shape) * scale).astype(dtype)
    buf = io.BytesIO()
    kwargs: dict = {"photometric": draw(st.sampled_from(["minisblack", "rgb"]))
                    if len(shape) == 3 and shape[-1] in (3, 4) else "minisblack"}
    if draw(st.booleans()):
        kwargs["resolution"] = (draw(st.sampled_from([0.0001, 1.0, 1e9, 1.538])),) * 2
        kwargs["resolutionunit"] = draw(st.sampled_from([1, 2, 3]))
    if draw(st.booleans()):
        kwargs["imagej"] = dtype in ("uint8", "uint16", "float32") and len(shape) <= 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zero-size and odd arrays are written on purpose
        for options in (kwargs, {"photometric": "minisblack"}):
            try:
                buf = io.BytesIO()
                tifffile.imwrite(buf, arr, **options)
                break
            except (ValueError, TypeError):   # tifffile cannot write every odd array
                buf = io.BytesIO(b"II*\x00" + arr.tobytes()[:64])
    data = bytearray(buf.getvalue())
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "garbage"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip" and data:
        for _ in range(draw(st.integers(1, 8))):
            k = draw(st.integers(0, len(data) - 1))
            data[k] = draw(st.integers(0, 255))
    elif damage == "garbage":
        data = bytearray(b"II*\x00" + draw(st.binary(max_size=200)))
    return bytes(data)


TIFF_NAMES = ("A01_f1_c1.tif", "B02_s1_w1.tif", "PLATE_C03_s2_w2.tif", "x.tif",
              "r01c01f01p01-ch1sk1fk1fl1.tiff", "A1_f1_c2.TIF")


def write_input(target: Target, data: bytes, folder: Path, name: str | None = None) -> Path:
    """Write ``data`` as the target's input file under ``folder``."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
    path = folder / (name or target.file_name or f"input{target.suffix}")
    path.write_bytes(data)
    return path
