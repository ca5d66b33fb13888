"""No command ever prints a secret: not the password, not the client secret, not a token it got.

Every command runs, on its success and its error paths, with recognisable secrets in the
environment, on the command line and in a config file; none may appear in any output.
"""

from __future__ import annotations

import textwrap
from uuid import UUID

from typer.testing import CliRunner

from iqmetrix_dropship.cli._app import app

from .conftest import PASSWORD, SECRETS, Cli, assert_no_secret, closed_port

FLAG_SECRET = "cli-SECRET-flag-77aa"


def issued_tokens(cli: Cli) -> list[str]:
    # The emulator's own record of the access and refresh tokens it handed out.
    store = cli.emulator._tokens
    return [*store._access, *store._refresh]


def test_no_command_prints_a_secret_or_a_token(cli: Cli) -> None:
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        result = cli(*args, code=code)
        outputs.append(result.output)

    order_id = cli.emulator.order_ids()[0]
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    for json_flag in ((), ("--json",)):
        run("login", *json_flag)
        run("config", *json_flag)
        run("feed", *json_flag)
        run("sync", *json_flag)
        run("orders", *json_flag)
        run("order", order_id, *json_flag)
        run("status", order_id, "BackOrdered", *json_flag)
        run("item-status", order_id, "--sku", cli.emulator.order(order_id)["items"][0]["sku"], "--status", "Ordered")
        run("ship", order_id, "--tracking", "1Z999", "--carrier", "UPS", *json_flag)
    # the error paths, with and without --debug (which adds tracebacks and the SDK's log)
    for debug in ((), ("--debug",)):
        run(*debug, "--password", "wrong-password", "login", code=3)
        run(*debug, "--client-secret", FLAG_SECRET, "login", code=3)
        run(*debug, "--base-url", nowhere, "--accounts-url", nowhere, "--max-retries", "0", "sync", code=5)
        run(*debug, "ship", str(UUID(int=9)), "--tracking", "1", "--carrier", "UPS", code=4)
        run(*debug, "status", order_id, "Exception", code=2)
        run(*debug, "--profile", "missing", "login", code=2)
        run(*debug, "feed", "--page", "00000000-0000-0000-0000-00000000abcd", code=1)
    run("--password", FLAG_SECRET, "config")
    run("--password", FLAG_SECRET, "config", "--json")

    tokens = issued_tokens(cli)
    assert tokens, "the commands got tokens"
    for text in outputs:
        assert_no_secret(text)
        assert FLAG_SECRET not in text
        assert not [token for token in tokens if token in text]


def test_help_shows_no_secret_from_the_environment(cli: Cli) -> None:
    for args in (["--help"], *([name, "--help"] for name in ("login", "sync", "ship", "status", "item-status"))):
        result = cli(*args)
        assert_no_secret(result.output)


def test_secrets_in_a_config_file_are_masked(cli: Cli) -> None:
    config = cli.cwd / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [profiles.mine]
            supplier_id = 60455
            client_id = "emulator-client"
            client_secret = "{SECRETS[0]}"
            username = "supplier@example.com"
            password_env = "MY_PASSWORD"
            base_url = "{cli.server.base_url}"
            accounts_url = "{cli.server.base_url}"
            """
        ),
        encoding="utf-8",
    )
    env = {name: None for name in cli.env if name.startswith("IQMETRIX_")} | {
        "IQMETRIX_CONFIG": str(config),
        "IQMETRIX_PROFILE": "mine",
        "MY_PASSWORD": PASSWORD,
    }
    for args in (["login"], ["login", "--json"], ["config"], ["config", "--json"], ["--debug", "feed"]):
        result = CliRunner().invoke(app, args, env={**cli.env, **env})
        assert result.exit_code == 0, result.output
        assert_no_secret(result.output)
    assert "profile 'mine' ($MY_PASSWORD)" in CliRunner().invoke(app, ["config"], env={**cli.env, **env}).stdout
