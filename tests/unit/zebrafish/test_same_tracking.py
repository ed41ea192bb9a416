"""A plate's tracking data entered twice under two plate names is refused (stranger29 F3 class).

Plates are named after their file, so a re-export or renamed copy of one plate
would count as a second plate and double every group's n.
"""

from __future__ import annotations

import dataclasses

import pytest

from neurotox.assays.zebrafish.plugin import refuse_same_tracking
from neurotox.errors import InputError
from neurotox.io.zebrafish import read_export
from neurotox.simulate import get_simulator


@pytest.fixture(scope="module")
def plates(tmp_path_factory):
    out = []
    for seed in (11, 12):
        folder = tmp_path_factory.mktemp(f"zf{seed}")
        get_simulator("zebrafish-lpr").write(folder, seed)
        out.append(read_export(folder / "zebralab_P1.xls"))
    return out


def test_the_same_data_under_another_plate_name_is_refused(plates, tmp_path):
    p1 = plates[0]
    again = dataclasses.replace(p1, data=p1.data.assign(plate="P1_reexport"),
                                path=tmp_path / "P1_reexport.txt")
    with pytest.raises(InputError, match=rf"P1_reexport\.txt: the exports {p1.path} and "
                                         rf"{again.path} hold the same tracking data \(one plate "
                                         r"exported or copied twice\?\); give each plate once"):
        refuse_same_tracking([p1, again])


def test_two_plates_with_their_own_data_pass(plates):
    refuse_same_tracking(plates)
    assert len(plates[0].data) == len(plates[1].data) > 0


def test_one_plate_in_two_same_named_files_names_both(plates, tmp_path):
    # stranger53 D4: a/zebralab_P1.xls and b/zebralab_P1.xls (two recordings of plate P1)
    # were refused naming neither file
    from neurotox.assays.base import resolve_parameters
    from neurotox.assays.zebrafish.inputs import bins_of

    a, b = plates
    b = dataclasses.replace(b, path=tmp_path / "b" / a.path.name)
    _, params = resolve_parameters("zebrafish-lpr-tanguay")
    with pytest.raises(InputError, match=rf"^{b.path}: larva zebralab_P1-A01 bin 0 appears in "
                                         rf"more than one export row \(the exports {a.path} and "
                                         rf"{b.path}\); give each plate once$"):
        bins_of([a, b], params, [])
    assert "export_file" not in bins_of([a], params, []).columns
