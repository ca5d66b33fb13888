"""``dropship shipping-options serve``: the supplier's quote function served as ``POST /ShippingOptions``.

``--app module:function`` names the function (imported from the current directory first, as
uvicorn does); it runs in the foreground under uvicorn until Ctrl-C or SIGTERM. The credentials
iQmetrix must send never come from the command line, where the process list would show them:

=====================================  =====================================================
what is set                            auth
=====================================  =====================================================
``--username`` or                      HTTP Basic; the password from
``DROPSHIP_SHIPPING_USERNAME``         ``DROPSHIP_SHIPPING_PASSWORD``, else a hidden prompt
                                       on a terminal
``DROPSHIP_SHIPPING_API_KEY``          the key in the ``Api-Key`` header, or the one named
(``--api-key-header NAME``)            by ``--api-key-header``
``--no-auth``                          none (behind a gateway that checks credentials)
=====================================  =====================================================

Nothing set, or both kinds, is an error before anything listens (exit code 2).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer

from ...shipping_options import ApiKeyAuth, BasicAuth, Quote
from .._exit import CliError, exit_code_for, message_for
from .._hosts import is_loopback
from .._logging import log_to_stderr

__all__ = ["API_KEY_ENV", "PASSWORD_ENV", "USERNAME_ENV", "app", "serve"]

USERNAME_ENV = "DROPSHIP_SHIPPING_USERNAME"
PASSWORD_ENV = "DROPSHIP_SHIPPING_PASSWORD"  # noqa: S105 - the variable's name, not a password
API_KEY_ENV = "DROPSHIP_SHIPPING_API_KEY"

app = typer.Typer(
    name="shipping-options",
    help="Serve the ShippingOptions endpoint that iQmetrix calls at checkout.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _shipping_options() -> None:
    """Serve the ShippingOptions endpoint that iQmetrix calls at checkout (see docs/guides/shipping-options.md)."""


def load_quote(spec: str) -> Quote:
    """``module:function`` (or ``module:object.method``), imported now: a typo fails at start."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CliError(f"--app must be module:function, got {spec!r}"[:200])
    if os.getcwd() not in sys.path:  # as uvicorn does: the supplier's module sits where they run us
        sys.path.insert(0, os.getcwd())
    try:
        found: object = functools.reduce(getattr, attribute.split("."), importlib.import_module(module_name))
    except (ImportError, AttributeError) as error:
        raise CliError(f"--app {spec}: {error}") from None
    except Exception as error:  # the module's own failure (a syntax error, a relative name): one line
        raise CliError(f"--app {spec}: cannot import {module_name!r}: {type(error).__name__}: {error}"[:500]) from None
    if not callable(found):
        raise CliError(f"--app {spec} is not a function")
    quote: Quote = found
    return quote


def choose_auth(
    *,
    username: str | None,
    api_key_header: str | None,
    no_auth: bool,
    environ: Mapping[str, str],
    prompt: Callable[[], str] | None = None,
) -> BasicAuth | ApiKeyAuth | None:
    """The auth the table of the module's docstring picks; ``prompt`` asks for a missing password."""
    api_key = environ.get(API_KEY_ENV) or None
    basic = username is not None
    keyed = api_key is not None or api_key_header is not None
    if no_auth:
        if basic or keyed:
            raise CliError(f"--no-auth, yet credentials are set ({USERNAME_ENV} or {API_KEY_ENV}): choose one")
        return None
    if basic and keyed:
        raise CliError(f"a user name and an API key are both set: choose Basic ({USERNAME_ENV}) or {API_KEY_ENV}")
    try:
        if keyed:
            if api_key is None:
                raise CliError(f"--api-key-header needs the key in {API_KEY_ENV} (never on the command line)")
            return ApiKeyAuth(api_key, header=api_key_header or "Api-Key")
        if basic:
            password = environ.get(PASSWORD_ENV) or (prompt() if prompt is not None else None)
            if not password:
                raise CliError(f"Basic auth needs the password in {PASSWORD_ENV} (never on the command line)")
            return BasicAuth(username or "", password)
    except ValueError as error:  # their messages never hold the secret
        raise CliError(str(error)) from None
    if environ.get(PASSWORD_ENV):
        raise CliError(f"{PASSWORD_ENV} is set but no user name: set {USERNAME_ENV} or --username")
    raise CliError(
        "refusing to serve without authentication: set "
        f"{USERNAME_ENV} and {PASSWORD_ENV} (Basic), or {API_KEY_ENV} (an API key), or pass --no-auth"
    )


def _password_prompt() -> Callable[[], str] | None:
    if not sys.stdin.isatty():
        return None
    return lambda: str(typer.prompt("Password iQmetrix sends (Basic auth)", hide_input=True))


@app.command("serve")
def serve(
    ctx: typer.Context,
    *,
    app_spec: Annotated[
        str,
        typer.Option("--app", metavar="MODULE:FUNCTION", help="Your quote function, e.g. shipping:quote."),
    ],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).", min=0, max=65535)] = 8080,
    path: Annotated[str, typer.Option("--path", help="The endpoint's path.")] = "/ShippingOptions",
    username: Annotated[
        str | None,
        typer.Option(
            "--username",
            envvar=USERNAME_ENV,
            help=f"Basic auth user name; the password is read from {PASSWORD_ENV} or a prompt.",
            show_default=False,
        ),
    ] = None,
    api_key_header: Annotated[
        str | None,
        typer.Option(
            "--api-key-header",
            help=f"Check an API key in this header (default Api-Key when {API_KEY_ENV} is set).",
            show_default=False,
        ),
    ] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Check no credentials (behind a gateway).")] = False,
    ssl_certfile: Annotated[str | None, typer.Option("--ssl-certfile", help="Serve HTTPS with this certificate.")] = (
        None
    ),
    ssl_keyfile: Annotated[str | None, typer.Option("--ssl-keyfile", help="The certificate's private key.")] = None,
) -> None:
    """Serve POST /ShippingOptions with your quote function, until Ctrl-C.

    Credentials come from DROPSHIP_SHIPPING_USERNAME and DROPSHIP_SHIPPING_PASSWORD (Basic) or
    DROPSHIP_SHIPPING_API_KEY, never from a flag value: the process list would show it.
    """
    try:
        _serve(
            app_spec=app_spec,
            host=host,
            port=port,
            path=path,
            auth=choose_auth(
                username=username,
                api_key_header=api_key_header,
                no_auth=no_auth,
                environ=os.environ,
                prompt=_password_prompt(),
            ),
            ssl={"ssl_certfile": ssl_certfile, "ssl_keyfile": ssl_keyfile},
        )
    except (typer.Exit, typer.Abort):
        raise
    except (Exception, KeyboardInterrupt) as error:  # as the dropship app reports: one line, an exit code
        typer.echo(f"error: {message_for(error)}", err=True)
        raise typer.Exit(exit_code_for(error)) from None


def _serve(
    *, app_spec: str, host: str, port: int, path: str, auth: BasicAuth | ApiKeyAuth | None, ssl: dict[str, Any]
) -> None:
    try:
        import uvicorn  # noqa: PLC0415 - the shipping-options extra

        from ...shipping_options import create_app  # noqa: PLC0415
    except ImportError as error:
        raise CliError(
            f"serving needs its extra ({error.name} is missing): pip install 'iqmetrix-dropship[shipping-options]'"
        ) from None
    try:
        asgi_app = create_app(load_quote(app_spec), auth=auth, path=path)
    except ValueError as error:  # a path that names no endpoint
        raise CliError(f"--path: {error}") from None
    _check_address(host, port)
    if not is_loopback(host) and ssl["ssl_certfile"] is None:
        typer.echo(
            "note: plain HTTP on a public address; iQmetrix calls HTTPS: put a TLS proxy in front, "
            "or pass --ssl-certfile and --ssl-keyfile",
            err=True,
        )
    typer.echo(f"serving {app_spec} as POST {path}, auth: {auth!r}", err=True)  # repr masks the secret
    undo = log_to_stderr(logging.INFO)
    try:
        uvicorn.run(asgi_app, host=host, port=port, log_level="info", **ssl)
    except SystemExit as stop:  # uvicorn's way of saying it could not start (its log says why)
        if stop.code not in (None, 0):
            raise CliError(f"could not serve on {host}:{port} (see the lines above)") from None
    finally:
        undo()


def _check_address(host: str, port: int) -> None:
    """Refuse, before starting, an address this machine cannot listen on (a name that does not
    resolve, an address not its own, a port taken), as a usage error on one line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as error:  # socket.gaierror included
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
