import hashlib

import pytest
from pydantic import BaseModel, ConfigDict, Field

from neurotox.assays.base import AssayPlugin, AssayResult, get_assay, register
from neurotox.errors import InputError
from neurotox.protocols import effective_parameters, load_protocol


class DemoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold_s: float = Field(default=10.0, gt=0)
    bins: int = Field(default=6, ge=1)


PROTO = """\
name: demo-proto
assay: demo_assay
title: Demo protocol
guidelines: [OECD TG 424]
parameters:
  threshold_s: 12
"""


@pytest.fixture
def proto_file(tmp_path):
    register(AssayPlugin(name="demo_assay", parameters=DemoParams,
                         run=lambda study, spec, params: AssayResult(endpoints=None)))
    p = tmp_path / "demo-proto.yaml"
    p.write_text(PROTO)
    return p


def test_effective_parameters_merge_template_defaults_and_overrides(proto_file):
    proto = load_protocol(proto_file)
    params = effective_parameters(proto, get_assay("demo_assay").parameters, {"bins": 3})
    assert params.model_dump() == {"threshold_s": 12.0, "bins": 3}
    params = effective_parameters(proto, DemoParams)
    assert params.model_dump() == {"threshold_s": 12.0, "bins": 6}


@pytest.mark.parametrize(("overrides", "match"), [
    ({"treshold_s": 5},
     r"study\.yaml, key 'parameters\.treshold_s': unknown key \(did you mean 'threshold_s'\?\)"),
    ({"bins": 0}, r"key 'parameters\.bins': Input should be greater than or equal to 1"),
    ({"threshold_s": "long"}, r"key 'parameters\.threshold_s'"),
])
def test_bad_overrides_name_the_key(proto_file, overrides, match):
    proto = load_protocol(proto_file)
    with pytest.raises(InputError, match=match):
        effective_parameters(proto, DemoParams, overrides, source="study.yaml")


@pytest.mark.parametrize(("study", "cli", "match"), [
    ({}, {"treshold_s": 5},
     r"^--param, key 'treshold_s': unknown key \(did you mean 'threshold_s'\?\)$"),
    ({"bins": 3}, {"bins": 0}, r"^--param, key 'bins': Input should be greater than or equal"),
    ({"bins": 0}, {"threshold_s": 5}, r"^study\.yaml, key 'parameters\.bins': Input should be"),
    ({"bins": 0}, {"bins": 2}, None),      # the command line overrides a bad study value
])
def test_bad_key_names_where_it_was_given(proto_file, study, cli, match):
    """A bad --param names the option, a bad study parameter the study file."""
    proto = load_protocol(proto_file)
    if match is None:
        params = effective_parameters(proto, DemoParams, study, source="study.yaml",
                                      command_line=cli)
        assert params.model_dump() == {"threshold_s": 12.0, "bins": 2}
        return
    with pytest.raises(InputError, match=match):
        effective_parameters(proto, DemoParams, study, source="study.yaml", command_line=cli)


def test_unknown_protocol_key(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text(PROTO + "colour: red\n")
    with pytest.raises(InputError, match=r"x\.yaml, key 'colour': unknown key"):
        load_protocol(p)


def test_unknown_protocol_name_lists_available():
    with pytest.raises(InputError, match=r"unknown protocol 'nope'; available: "):
        load_protocol("nope")


def test_shipped_protocols_all_validate():
    from neurotox import assays  # noqa: F401  (registers every assay)
    from neurotox.assays.base import resolve_parameters
    from neurotox.protocols import available
    for name in available():
        proto, params = resolve_parameters(name)
        assert proto.name == name
        assert isinstance(params, BaseModel)


def test_providers_table_names_the_module_that_registers_each_assay():
    from neurotox.assays.base import _REGISTRY, PROVIDERS, list_assays

    shipped = [name for name in list_assays() if name != "demo_assay"]
    assert shipped == sorted(PROVIDERS)
    for name in shipped:
        assert _REGISTRY[name].run.__module__ == PROVIDERS[name], name


def test_an_assay_loads_only_its_own_family():
    """Asking for the neurite assay imports neither the battery nor the mixed models."""
    import subprocess
    import sys

    code = ("import sys; from neurotox.assays import get_assay; get_assay('neurite_outgrowth'); "
            "print(sorted(m for m in ('neurotox.assays.battery', 'neurotox.assays.rodent', "
            "'neurotox.stats.analysis', 'statsmodels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_unknown_assay_suggests_the_close_name():
    from neurotox.assays import get_assay
    from neurotox.errors import InputError

    with pytest.raises(InputError, match="did you mean 'motor_activity'"):
        get_assay("motor_activty")


def test_misspelt_protocol_gets_the_close_name_not_the_whole_list():
    with pytest.raises(InputError) as err:
        load_protocol("von-frey-updown")
    assert str(err.value).endswith("unknown protocol 'von-frey-updown' (did you mean "
                                   "'von-frey-up-down'?); 'neurotox protocols list' shows all")


def test_a_lab_protocol_based_on_a_shipped_template(tmp_path):
    # two lines of a lab's own protocol used to start from the bare assay defaults
    # (+30..65 % neurite length against the SH-SY5Y template; stranger's trial F21)
    own = tmp_path / "ours.yaml"
    own.write_text("name: our-shsy5y\nassay: neurite_outgrowth\ntitle: Our SH-SY5Y\n"
                   "based_on: neurite-outgrowth-shsy5y\n"
                   "parameters: {nuclei_channel: DAPI, neurite_channel: FITC}\n")
    ours, template = load_protocol(own), load_protocol("neurite-outgrowth-shsy5y")
    assert ours.parameters == {**template.parameters, "nuclei_channel": "DAPI",
                               "neurite_channel": "FITC"}
    assert ours.guidelines == template.guidelines
    own.write_text(own.read_text().replace("assay: neurite_outgrowth", "assay: nor"))
    with pytest.raises(InputError, match=r"ours\.yaml, key 'based_on': based on protocol "
                                         r"'neurite-outgrowth-shsy5y' of assay "
                                         r"'neurite_outgrowth', not 'nor'"):
        load_protocol(own)
    text = own.read_text().replace("shsy5y\n", "shsy5\n")
    own.write_text(text.replace("assay: nor", "assay: neurite_outgrowth"))
    with pytest.raises(InputError, match=r"key 'based_on': unknown protocol "
                                         r"'neurite-outgrowth-shsy5' \(did you mean"):
        load_protocol(own)


def test_protocol_record_names_the_template_its_hash_and_what_changed(tmp_path):
    from neurotox.assays.base import resolve_parameters
    from neurotox.protocols import protocol_dir, protocol_record

    cutoffs = {"hot_plate": 30, "tail_flick": 12, "hargreaves": 20, "cold_plate": 60}
    proto, params = resolve_parameters("cipn-paclitaxel-rat",
                                       {"baseline_covariate": False, "cutoff_s": cutoffs,
                                        "baseline": "day-1"})
    rec = protocol_record(proto, params, {"baseline_covariate": False, "cutoff_s": cutoffs,
                                          "baseline": "day-1"})
    shipped = (protocol_dir() / "cipn-paclitaxel-rat.yaml").read_bytes()
    assert rec["sha256"] == rec["template_sha256"] == hashlib.sha256(shipped).hexdigest()
    assert rec["shipped"] and rec["file"] == "cipn-paclitaxel-rat.yaml"
    assert rec["template"] == "cipn-paclitaxel-rat"
    # a mapping is compared key by key; a value given equal to the template's is no change
    assert rec["changed"] == {
        "baseline_covariate": {"template": True, "used": False, "set_in": "study file"},
        "cutoff_s.tail_flick": {"template": 10.0, "used": 12.0, "set_in": "study file"}}


def test_protocol_record_of_a_lab_file_compares_with_the_template_it_is_based_on(tmp_path):
    from neurotox.assays.base import resolve_parameters
    from neurotox.protocols import protocol_record

    own = tmp_path / "lab-tmaze.yaml"
    own.write_text("name: lab-tmaze\nassay: tmaze\ntitle: Our T-maze\n"
                   "based_on: tmaze-spontaneous\nparameters: {min_entries: 12}\n")
    proto, params = resolve_parameters(own, {"reentries": "collapsed"})
    rec = protocol_record(proto, params, {"reentries": "collapsed"})
    assert not rec["shipped"] and rec["file"] == str(own)
    assert rec["sha256"] == hashlib.sha256(own.read_bytes()).hexdigest()
    assert rec["template"] == "tmaze-spontaneous"
    assert rec["changed"] == {
        "min_entries": {"template": 8, "used": 12, "set_in": "protocol file"},
        "reentries": {"template": "counted", "used": "collapsed", "set_in": "study file"}}
    own.write_text("name: lab-tmaze\nassay: tmaze\ntitle: Our T-maze\n"
                   "parameters: {min_entries: 12}\n")
    proto, params = resolve_parameters(own)
    rec = protocol_record(proto, params)
    assert rec["template"] is None and rec["template_sha256"] is None
    assert rec["changed"]["min_entries"]["set_in"] == "protocol file"
