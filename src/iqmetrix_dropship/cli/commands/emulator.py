"""``dropship emulator``: ``python -m iqmetrix_dropship.emulator`` under the ``dropship`` name.

Its options and its logic are the emulator's own (``emulator/__main__.py``): the arguments are
handed to its ``main`` untouched, and ``--help`` prints its parser's help. It runs in the
foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import typer

from .._exit import CliError

__all__ = ["emulator"]


def emulator(ctx: typer.Context) -> None:
    """Run the local Dropship API emulator in the foreground, until Ctrl-C.

    The options are those of python -m iqmetrix_dropship.emulator (dropship emulator --help).
    Then, in another terminal: dropship --profile emulator sync.
    """
    try:
        from ...emulator import __main__ as emulator_main  # noqa: PLC0415 - needs the emulator extra
    except ImportError as error:
        raise CliError(
            f"the emulator needs its extra ({error.name} is missing): pip install 'iqmetrix-dropship[emulator]'"
        ) from None
    args = list(ctx.args)
    if "-h" in args or "--help" in args:
        parser = emulator_main._parser()
        parser.prog = "dropship emulator"
        parser.print_help()
        raise typer.Exit(0)
    raise typer.Exit(emulator_main.main(args, prog="dropship emulator"))
