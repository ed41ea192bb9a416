"""Several retention tests in one NOR input (``Test 1h`` and ``Test 24h``): a timepoint each.

``phase_map`` may map more than one label to ``test``. The analysis has one test
per animal, so it is run once per test label with the other test labels left out
(``ignore``), as two runs by hand would be; the results are merged:

* each run's test-phase endpoints carry its label as their timepoint
  (``Test 1h``), so that the statistics compare the groups per retention delay;
* the training endpoints, the same in every run, are kept once, with the
  protocol's ``timepoint`` (``NA`` by default);
* ``nor_animals``, ``nor_exploration`` (and ``nor_frames``) get a ``timepoint``
  column likewise; the one-sample tests and the sex × group ANOVA are computed
  per timepoint from the merged table.

A test trial is compared with the animal's one training trial in each run, so a
test's exclusion for the training side bias (``max_training_bias``) is the same
in both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.assays.base import AssayResult
from neurotox.assays.rodent.common import one_sample_results
from neurotox.assays.rodent.params import NorParameters
from neurotox.errors import InputError, quoted
from neurotox.stats.one_sample import sex_by_group_anova

#: The EndpointTable rows of the training trial (kept from the first run only).
TRAINING_ENDPOINTS = ("nor_training_total_exploration", "nor_training_side_bias")


def _norm(label: str) -> str:
    return " ".join(str(label).split()).lower()


def test_labels(params: NorParameters) -> list[str]:
    """The ``phase_map`` labels mapped to ``test`` (spaces folded), in the order given."""
    labels: dict[str, str] = {}
    for label, phase in params.phase_map.items():
        if phase == "test":
            labels.setdefault(_norm(label), " ".join(str(label).split()))
    return list(labels.values())


_IGNORED = re.compile(r" (['\"])(?P<label>.*)\1 left out \(phase_map: ignore\)")


def _own_note(note: str, labels: list[str]) -> bool:
    """False for a run's note that the other tests' rows were left out (its own doing)."""
    m = _IGNORED.search(note)
    return m is None or _norm(m.group("label")) not in {_norm(x) for x in labels}


def _detail(tables: list[pd.DataFrame], labels: list[str], base: str) -> pd.DataFrame:
    """One detail table: the first run's rows, the other runs' test rows; a timepoint each."""
    if "phase" not in tables[0].columns:
        return tables[0]
    parts = [t if i == 0 else t[t["phase"] == "test"] for i, t in enumerate(tables)]
    parts = [p.assign(timepoint=np.where(p["phase"] == "test", label, base))
             for p, label in zip(parts, labels, strict=True)]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def _refuse_missing(labels: list[str], held: list[bool], files: Sequence[Path]) -> None:
    missing = [x for x, h in zip(labels, held, strict=True) if not h]
    found = [x for x, h in zip(labels, held, strict=True) if h]
    names = sorted(Path(f).name for f in files)
    inputs = f"NOR input ({quoted(names)})" if len(names) > 1 else "NOR input"
    holds = (f"the test labels in the inputs are {quoted(found)}" if found else
             "the inputs hold no test trial under any of them")
    raise InputError(f"phase_map maps {quoted(missing)} to test, but no {inputs} holds a test "
                     f"trial labelled so; {holds}",
                     path=files[0] if len(files) == 1 else None)


def sex_by_group(table: pd.DataFrame) -> pd.DataFrame:
    """Two-way ANOVA sex x group of the test-phase DI per timepoint (both sexes only)."""
    di = table[(table["endpoint"] == "nor_discrimination_index") & ~table["excluded"]]
    out = [sex_by_group_anova(part).assign(endpoint="nor_discrimination_index", timepoint=tp)
           for tp, part in di.groupby("timepoint")]
    out = [o for o in out if len(o)]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["term", "df", "sum_sq", "F", "p_value", "endpoint", "timepoint"])


def several_tests(run: Callable[[NorParameters], AssayResult], params: NorParameters,
                  labels: list[str], files: Sequence[Path] = ()) -> AssayResult:
    """Run ``run`` once per test label (the others ignored) and merge (module docstring).

    A label that no input (``files``) holds a test trial of is an error naming the
    inputs and the test labels they do hold.
    """
    results = []
    for label in labels:
        others = {o: "ignore" for o in labels if o != label}
        keep = {k: v for k, v in params.phase_map.items() if _norm(k) not in map(_norm, others)}
        results.append(run(params.model_copy(update={"phase_map": {**keep, **others},
                                                     "timepoint": label})))
    held = [(res.details["nor_animals"]["phase"] == "test").any() for res in results]
    if not all(held):
        _refuse_missing(labels, held, files)
    table = pd.concat([r.endpoints for r in results], ignore_index=True)
    training = table["endpoint"].isin(TRAINING_ENDPOINTS)
    first = table.index < len(results[0].endpoints)
    table = table[~training | first].copy()
    table.loc[table["endpoint"].isin(TRAINING_ENDPOINTS), "timepoint"] = params.timepoint
    table = endpoints.validate(table.reset_index(drop=True))
    details = {name: _detail([r.details[name] for r in results], labels, params.timepoint)
               for name in results[0].details if name in ("nor_animals", "nor_exploration",
                                                          "nor_frames")}
    details["nor_animals"] = details["nor_animals"].sort_values(
        ["phase", "timepoint", "subject"], ascending=[False, True, True], ignore_index=True)
    details["nor_one_sample"] = one_sample_results(
        table, endpoint="nor_discrimination_index", reference=0.0,
        normality_alpha=params.normality_alpha)
    details["nor_sex_by_group"] = sex_by_group(table)
    notes = [f"NOR: {len(labels)} retention tests in the inputs ({quoted(labels)}, phase_map): "
             "each is compared with the animal's training trial and reported as its own "
             f"timepoint; the training endpoints once, timepoint {params.timepoint!r}"]
    for r in results:
        notes += [n for n in r.notes if n not in notes and _own_note(n, labels)]
    return AssayResult(endpoints=table, details=details, notes=notes,
                       inputs=results[0].inputs, conventions=results[0].conventions)
