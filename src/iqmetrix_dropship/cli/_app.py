"""The ``dropship`` application: global options, the commands, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from .._version import __version__
from ._exit import EXIT_CODES_HELP, ExitCode, exit_code_for, message_for
from ._logging import log_to_stderr
from ._session import Session
from .commands import account, catalog, emulator, health, ledger, run, shipping_options, sync, updates

__all__ = ["app"]


def _reporting(command: Callable[..., None]) -> Callable[..., None]:
    """Runs a command and turns whatever it raises into ``error: ...`` and a documented exit code.

    Usage errors never get here: typer rejects them (exit 2) before the command runs. Everything
    else, Ctrl-C included, becomes one line on stderr: no traceback unless ``--debug``.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except (Exception, KeyboardInterrupt) as error:  # KeyboardInterrupt: 130, as shells report it
            ctx = kwargs.get("ctx")  # every command takes one; its runtime type varies with typer's version
            if ctx is not None and Session.of(ctx).debug:
                traceback.print_exception(type(error), error, error.__traceback__)
            typer.echo(f"error: {message_for(error)}", err=True)
            raise typer.Exit(exit_code_for(error)) from None

    return run


app = typer.Typer(
    name="dropship",
    help=(
        "Operate an iQmetrix Dropship supplier integration: check credentials, read the order feed, "
        "keep a local ledger of orders, and ship or back-order by hand.\n\n"
        "Settings come from the options below, then the IQMETRIX_* variables, then a profile of "
        "the config file (~/.config/iqmetrix-dropship/config.toml). "
        "Try: dropship emulator  (one terminal), dropship --profile emulator sync  (another)."
    ),
    epilog=EXIT_CODES_HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_CONNECTION = "Connection (flags > IQMETRIX_* variables > profile)"
_IN_PROCESS_LIST = "Prefer the variable or a profile's *_env key: flags show in the process list."


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"dropship (iqmetrix-dropship) {__version__}")
        raise typer.Exit(ExitCode.OK)


def _option(flag: str, help: str, *, panel: str = _CONNECTION) -> Any:
    return typer.Option(flag, help=help, rich_help_panel=panel, show_default=False)


@app.callback()
def _global_options(
    ctx: typer.Context,
    *,
    profile: Annotated[
        str | None,
        _option("--profile", "Profile of the config file, or the built-in 'emulator'. (env: IQMETRIX_PROFILE)"),
    ] = None,
    config: Annotated[
        Path | None,
        _option(
            "--config", "Config file (TOML). (env: IQMETRIX_CONFIG; default: ~/.config/iqmetrix-dropship/config.toml)"
        ),
    ] = None,
    supplier_id: Annotated[str | None, _option("--supplier-id", "Supplier id. (env: IQMETRIX_SUPPLIER_ID)")] = None,
    client_id: Annotated[str | None, _option("--client-id", "OAuth client id. (env: IQMETRIX_CLIENT_ID)")] = None,
    client_secret: Annotated[
        str | None, _option("--client-secret", "OAuth client secret. (env: IQMETRIX_CLIENT_SECRET) " + _IN_PROCESS_LIST)
    ] = None,
    username: Annotated[str | None, _option("--username", "Account user name. (env: IQMETRIX_USERNAME)")] = None,
    password: Annotated[
        str | None, _option("--password", "Account password. (env: IQMETRIX_PASSWORD) " + _IN_PROCESS_LIST)
    ] = None,
    environment: Annotated[
        str | None, _option("--environment", "sandbox or production (default sandbox). (env: IQMETRIX_ENVIRONMENT)")
    ] = None,
    base_url: Annotated[
        str | None, _option("--base-url", "Dropship API base, with /v1. (env: IQMETRIX_BASE_URL)")
    ] = None,
    accounts_url: Annotated[
        str | None, _option("--accounts-url", "Accounts (token) base, with /v1. (env: IQMETRIX_ACCOUNTS_URL)")
    ] = None,
    availability_url: Annotated[
        str | None,
        _option(
            "--availability-url",
            "Availability (SupplierSkus) base, with /v1; default: the environment's, or --base-url for "
            "a host outside iqmetrix.net. (env: IQMETRIX_AVAILABILITY_URL)",
        ),
    ] = None,
    product_library_url: Annotated[
        str | None,
        _option(
            "--product-library-url",
            "Product library (product feed) base, with /v1; default as --availability-url. "
            "(env: IQMETRIX_PRODUCT_LIBRARY_URL)",
        ),
    ] = None,
    timeout: Annotated[
        float | None, _option("--timeout", "Seconds to wait for an answer (default 30). (env: IQMETRIX_TIMEOUT)")
    ] = None,
    max_retries: Annotated[
        int | None,
        _option("--max-retries", "Retries of a transient failure (default 3; 0 disables). (env: IQMETRIX_MAX_RETRIES)"),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error, and the SDK's log on stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    flags: dict[str, str | None] = {
        "supplier_id": supplier_id,
        "client_id": client_id,
        "client_secret": client_secret,
        "username": username,
        "password": password,
        "environment": environment,
        "base_url": base_url,
        "accounts_url": accounts_url,
        "availability_url": availability_url,
        "product_library_url": product_library_url,
        "timeout": None if timeout is None else str(timeout),
        "max_retries": None if max_retries is None else str(max_retries),
    }
    ctx.obj = Session(flags=flags, profile=profile, config=None if config is None else str(config), debug=debug)
    if debug:
        ctx.call_on_close(log_to_stderr(logging.DEBUG))


for name, command in (
    ("login", account.login),
    ("config", account.show_config),
    ("feed", account.feed),
    ("sync", sync.sync),
    ("run", run.run),
    ("orders", ledger.orders),
    ("order", ledger.order),
    ("ship", updates.ship),
    ("status", updates.status),
    ("item-status", updates.item_status),
    ("ping", health.ping),
    ("doctor", health.doctor),
):
    app.command(name)(_reporting(command))


def _group(name: str, help: str, commands: dict[str, Callable[..., None]]) -> None:
    """``dropship NAME SUBCOMMAND``: a group of commands, each reporting errors like the others."""
    group = typer.Typer(
        name=name, help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )
    for subname, command in commands.items():
        group.command(subname)(_reporting(command))
    app.add_typer(group, name=name)


_group(
    "availability",
    "Tell iQmetrix what is in stock (push a CSV file), or show what it holds now.",
    {"push": catalog.push_availability, "show": catalog.show_availability},
)
_group("costs", "Send wholesale costs per company, from a CSV file.", {"push": catalog.push_costs})
_group(
    "products",
    "Manage a product feed (catalogue onboarding): add, list, remove, replace products.",
    {
        "add": catalog.add_product,
        "list": catalog.list_products,
        "feed": catalog.show_feed,
        "remove": catalog.remove_product,
        "replace": catalog.replace_product,
    },
)
# `dropship shipping-options serve`: a group of its own, which reports its errors itself
# (commands/shipping_options.py).
app.add_typer(shipping_options.app, name="shipping-options")
app.command(
    "emulator",
    add_help_option=False,  # its --help is the emulator's own
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)(_reporting(emulator.emulator))
