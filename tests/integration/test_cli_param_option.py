"""One spelling for protocol overrides: ``--param KEY=VALUE``, ``--set`` a hidden alias."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from neurotox.cli.main import cli
from neurotox.cli.options import overrides, param_option
from neurotox.errors import InputError

#: Commands that run a protocol (and so take overrides).
PROTOCOL_COMMANDS = {"cipn", "neurite", "neurochem", "nor", "tmaze", "zebrafish",
                     "zebrafish-screen"}


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}


def test_every_protocol_command_takes_param_and_the_set_alias():
    with_param = {}
    for name, cmd in _commands().items():
        for p in cmd.params:
            if "--param" in p.opts or "--set" in p.opts:
                with_param[name] = p
    assert set(with_param) == PROTOCOL_COMMANDS
    for name, p in with_param.items():
        assert p.opts == ["--param", "--set"] and p.multiple, name
        help_text = CliRunner().invoke(cli, [name, "--help"]).output
        assert "--param KEY=VALUE" in help_text and "--set" not in help_text, name


def test_set_and_param_collect_into_one_list_in_order():
    @click.command()
    @param_option("x=1")
    def cmd(params: tuple[str, ...]) -> None:
        click.echo(repr(overrides(params)))

    r = CliRunner().invoke(cmd, ["--set", "a=1", "--param", "b=[2, 3]", "--set", "c=x"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "{'a': 1, 'b': [2, 3], 'c': 'x'}"


def test_a_bad_override_names_param_whatever_the_spelling():
    with pytest.raises(InputError, match=r"--param: parameter 'a' is given twice"):
        overrides(("a=1", "a=2"))
    with pytest.raises(InputError, match=r"--param x, line 1, column 2: invalid YAML"):
        overrides(("x=[",))


def test_param_without_equals_is_refused_before_its_value_is_taken_for_an_input(invoke,
                                                                                tmp_path):
    """``--param timepoint_prefix day``: 'day' was reported as a missing input file."""
    r = invoke("cipn", str(tmp_path), "--param", "timepoint_prefix", "day",
               "-o", str(tmp_path / "out"))
    assert r.exit_code == 2
    assert "expected KEY=VALUE, found 'timepoint_prefix' (write --param " \
           "timepoint_prefix=VALUE" in r.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("item", "message"), [
    # a space for the '=' (stranger41 F7 suggested "ridge_high 8=VALUE")
    ("ridge_high 8", "expected KEY=VALUE, found 'ridge_high 8' (write --param ridge_high=8, "
                     "without spaces around '=')"),
    ("exclude_on [focus]", "expected KEY=VALUE, found 'exclude_on [focus]' (write --param "
                           "exclude_on=[focus], without spaces around '=')"),
    ("8", "expected KEY=VALUE, found '8'; see"),          # no name to suggest: no hint
])
@pytest.mark.parametrize("command", ["neurite", "cipn"])
def test_param_with_a_space_for_the_equals_sign_is_shown_written_right(invoke, tmp_path, item,
                                                                       message, command):
    r = invoke(command, str(tmp_path), "--param", item, "-o", str(tmp_path / "out"))
    assert r.exit_code == 2
    assert message in r.output, r.output
    assert not (tmp_path / "out").exists()


def test_the_library_parser_suggests_the_same():
    with pytest.raises(InputError, match=r"found 'ridge_high 8' \(write --param ridge_high=8, "):
        overrides(("ridge_high 8",))
