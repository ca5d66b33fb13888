"""`--help` of every command names every option; the main help documents the exit codes."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from iqmetrix_dropship import __version__
from iqmetrix_dropship.cli._app import app
from iqmetrix_dropship.cli._exit import ExitCode
from iqmetrix_dropship.emulator.__main__ import _parser

WIDE = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    assert result.exit_code == 0, result.output
    return result.stdout


def commands() -> dict[str, typer.core.TyperCommand]:
    """Every command by its words after ``dropship``: ``sync``, and ``availability push`` in a group."""
    found: dict[str, typer.core.TyperCommand] = {}
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        found[name] = command
        for subname, subcommand in getattr(command, "commands", {}).items():
            found[f"{name} {subname}"] = subcommand
    return found


COMMANDS = sorted(commands())
GROUPS = {
    "availability": {"push", "show"},
    "costs": {"push"},
    "products": {"add", "list", "feed", "remove", "replace"},
    "shipping-options": {"serve"},
}


def test_every_command_is_listed_in_the_main_help() -> None:
    text = invoke("--help")
    top = {name for name in COMMANDS if " " not in name}
    assert top == {
        "login", "config", "feed", "sync", "orders", "order", "ship", "status", "item-status", "emulator", "run",
        "ping", "doctor", *GROUPS,
    }  # fmt: skip
    for name in top:
        assert f" {name} " in text


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_groups_help_lists_its_commands(group: str) -> None:
    text = invoke(group, "--help")
    assert {name.split()[1] for name in COMMANDS if name.startswith(f"{group} ")} == GROUPS[group]
    for name in GROUPS[group]:
        assert f" {name} " in text


def test_the_main_help_documents_every_exit_code() -> None:
    text = invoke("--help")
    for code in ExitCode:
        assert f"\n {code.value:<4} " in text, code


def test_the_main_help_names_every_global_option() -> None:
    text = invoke("--help")
    for param in typer.main.get_command(app).params:
        for flag in param.opts:
            assert flag in text, flag


@pytest.mark.parametrize("name", [name for name in COMMANDS if name != "emulator"])
def test_a_commands_help_names_each_of_its_options_and_arguments(name: str) -> None:
    text = invoke(*name.split(), "--help")
    command = commands()[name]
    assert command.help is not None
    assert command.help.splitlines()[0] in text
    for param in command.params:
        if param.param_type_name == "option":
            for flag in param.opts:
                assert flag in text, f"{name}: {flag}"
            assert param.help, f"{name}: {param.name} has no help"
        else:
            assert (param.metavar or param.name or "").upper() in text.upper(), f"{name}: {param.name}"


def test_the_emulator_help_is_the_emulators_own() -> None:
    text = invoke("emulator", "--help")
    assert text.startswith("usage: dropship emulator")
    for action in _parser()._actions:
        for flag in action.option_strings:
            assert flag in text, flag


def test_version() -> None:
    assert invoke("--version") == f"dropship (iqmetrix-dropship) {__version__}\n"


def test_no_command_shows_the_help() -> None:
    result = CliRunner().invoke(app, [], env=WIDE)
    assert "Usage: dropship" in result.output
    assert "Commands" in result.output
