"""``dropship shipping-options serve``: which auth it picks, what it refuses before listening, and
one real start (a process on 127.0.0.1 that iQmetrix could call).

Run through the module's own typer app (``shipping_options.app``), which the ``dropship`` app
mounts as ``shipping-options``."""

from __future__ import annotations

import asyncio
import base64
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from iqmetrix_dropship.cli.commands import shipping_options
from iqmetrix_dropship.cli.commands.shipping_options import API_KEY_ENV, PASSWORD_ENV, USERNAME_ENV

from .processes import WAIT, Lines

PASSWORD = "cli-SECRET-ship-pass-31d4"
API_KEY = "cli-SECRET-ship-key-8e02"
QUERY = {"CompanyId": 123, "PostalCode": "A1A1A1", "Items": [{"Quantity": 1, "Sku": "ABC"}]}

SUPPLIER_MODULE = """
from decimal import Decimal
from iqmetrix_dropship.shipping_options import OutOfStock, ShippingOption

NOT_A_FUNCTION = 42

def quote(query):
    if any(item.sku == "GONE" for item in query.items):
        raise OutOfStock("GONE")
    return [ShippingOption(id="ground", cost=Decimal("9.99"), currency="CAD", name=f"Ground to {query.postal_code}")]
"""


@pytest.fixture
def supplier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A module of the supplier's in the working directory, named for the test (imported fresh)."""
    name = f"supplier_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(SUPPLIER_MODULE, encoding="utf-8")
    (tmp_path / "broken_supplier.py").write_text("def quote(:\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # serve puts the working directory on it
    yield name
    sys.modules.pop(name, None)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``serve`` hands uvicorn, instead of serving it."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append({"app": app, **options}))
    return calls


def _serve(*args: str, code: int = 0, **env: str | None) -> Result:
    environment = dict.fromkeys((USERNAME_ENV, PASSWORD_ENV, API_KEY_ENV)) | env
    result = CliRunner().invoke(shipping_options.app, ["serve", *args], env=environment)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    for secret in (PASSWORD, API_KEY):
        assert secret not in result.output
    return result


def _post(app: Any, path: str = "/ShippingOptions", **headers: str) -> httpx.Response:
    """A request to the app ``serve`` built, in process."""

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://supplier.invalid") as client:
            return await client.post(path, json=QUERY, headers=headers)

    return asyncio.run(post())


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_basic_auth_comes_from_the_environment(supplier: str, served: list[dict[str, Any]]) -> None:
    result = _serve("--app", f"{supplier}:quote", **{USERNAME_ENV: "iqmetrix", PASSWORD_ENV: PASSWORD})
    assert "BasicAuth(username='iqmetrix', password='***')" in result.output
    [call] = served
    assert (call["host"], call["port"]) == ("127.0.0.1", 8080)
    assert _post(call["app"], Authorization=_basic("iqmetrix", PASSWORD)).json()["ShippingOptions"][0]["Id"] == "ground"
    assert _post(call["app"], Authorization=_basic("iqmetrix", "wrong")).status_code == 401


def test_the_user_name_may_be_a_flag_the_password_never(supplier: str, served: list[dict[str, Any]]) -> None:
    _serve("--app", f"{supplier}:quote", "--username", "iq", **{PASSWORD_ENV: PASSWORD})
    assert _post(served[0]["app"], Authorization=_basic("iq", PASSWORD)).status_code == 200
    assert "No such option" in _serve("--app", f"{supplier}:quote", "--password", PASSWORD, code=2).output


def test_an_api_key_from_the_environment_is_checked_in_api_key(supplier: str, served: list[dict[str, Any]]) -> None:
    _serve("--app", f"{supplier}:quote", **{API_KEY_ENV: API_KEY})
    assert _post(served[0]["app"], **{"Api-Key": API_KEY}).status_code == 200
    assert _post(served[0]["app"], **{"Api-Key": "other"}).status_code == 401


def test_the_api_key_header_may_be_named(supplier: str, served: list[dict[str, Any]]) -> None:
    _serve("--app", f"{supplier}:quote", "--api-key-header", "X-Key", **{API_KEY_ENV: API_KEY})
    assert _post(served[0]["app"], **{"X-Key": API_KEY}).status_code == 200


def test_no_auth_must_be_asked_for(supplier: str, served: list[dict[str, Any]]) -> None:
    _serve("--app", f"{supplier}:quote", "--no-auth", "--host", "127.0.0.2", "--port", "9000", "--path", "/quotes")
    assert (served[0]["host"], served[0]["port"]) == ("127.0.0.2", 9000)
    assert _post(served[0]["app"], "/quotes").status_code == 200


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "refusing to serve without authentication"),
        ((), {PASSWORD_ENV: PASSWORD}, f"{PASSWORD_ENV} is set but no user name"),
        (("--username", "iq"), {}, f"Basic auth needs the password in {PASSWORD_ENV}"),
        (("--api-key-header", "X-Key"), {}, f"--api-key-header needs the key in {API_KEY_ENV}"),
        (("--username", "iq"), {PASSWORD_ENV: PASSWORD, API_KEY_ENV: API_KEY}, "choose Basic"),
        (("--no-auth",), {API_KEY_ENV: API_KEY}, "--no-auth, yet credentials are set"),
        (("--username", "i:q"), {PASSWORD_ENV: PASSWORD}, "must not contain ':'"),
        (("--api-key-header", "Bad Header"), {API_KEY_ENV: API_KEY}, "HTTP header name"),
    ],
    ids=["nothing", "password-alone", "no-password", "no-key", "both", "no-auth-and-key", "colon", "bad-header"],
)
def test_unusable_auth_settings_stop_it_before_it_listens(
    supplier: str, served: list[dict[str, Any]], args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = _serve("--app", f"{supplier}:quote", *args, code=2, **env)
    assert message in result.output
    assert result.output.startswith("error: ")
    assert served == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("quote", "--app must be module:function"),
        ("no_such_module_here:quote", "No module named 'no_such_module_here'"),
        ("{supplier}:missing", "has no attribute 'missing'"),
        ("{supplier}:NOT_A_FUNCTION", "is not a function"),
        (".{supplier}:quote", "cannot import '.supplier_"),  # a relative name
        ("broken_supplier:quote", "cannot import 'broken_supplier': SyntaxError"),
    ],
)
def test_a_wrong_app_stops_it_before_it_listens(
    supplier: str, served: list[dict[str, Any]], spec: str, message: str
) -> None:
    result = _serve("--app", spec.format(supplier=supplier), code=2, **{API_KEY_ENV: API_KEY})
    assert message in result.output
    assert served == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--path", "nope"), "--path: path must start with '/'"),
        (("--port", "99999"), "Invalid value for '--port'"),
        (("--host", "999.1.1.1", "--port", "0"), "cannot listen on 999.1.1.1:0"),
    ],
    ids=["path", "port", "host"],
)
def test_a_bad_address_or_path_is_a_usage_error_before_it_listens(
    supplier: str, served: list[dict[str, Any]], args: tuple[str, ...], message: str
) -> None:
    result = _serve("--app", f"{supplier}:quote", *args, code=2, **{API_KEY_ENV: API_KEY})
    assert message in result.output
    assert "Traceback" not in result.output
    assert served == []


def test_a_port_in_use_is_a_usage_error_before_it_listens(supplier: str, served: list[dict[str, Any]]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = _serve("--app", f"{supplier}:quote", "--port", port, code=2, **{API_KEY_ENV: API_KEY})
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert served == []


def test_a_server_that_fails_to_start_is_one_line_and_a_usage_error(
    supplier: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(app: Any, **options: Any) -> None:
        raise SystemExit(3)  # what uvicorn does when it cannot start (after logging why)

    monkeypatch.setattr("uvicorn.run", fail)
    result = _serve("--app", f"{supplier}:quote", "--port", "0", code=2, **{API_KEY_ENV: API_KEY})
    assert "error: could not serve on 127.0.0.1:0 (see the lines above)" in result.output


def test_a_public_address_without_tls_gets_a_note(supplier: str, served: list[dict[str, Any]]) -> None:
    result = _serve("--app", f"{supplier}:quote", "--host", "0.0.0.0", **{API_KEY_ENV: API_KEY})  # noqa: S104
    assert "iQmetrix calls HTTPS" in result.output
    assert "iQmetrix calls HTTPS" not in _serve("--app", f"{supplier}:quote", **{API_KEY_ENV: API_KEY}).output


@pytest.fixture
def process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    (tmp_path / "supplier_quotes.py").write_text(SUPPLIER_MODULE, encoding="utf-8")
    command = [
        sys.executable,
        "-c",
        "from iqmetrix_dropship.cli.commands.shipping_options import app; app(prog_name='dropship shipping-options')",
        *("serve", "--app", "supplier_quotes:quote", "--host", "127.0.0.1", "--port", "0"),
    ]
    env = {
        "PATH": "",
        "SYSTEMROOT": "",
        USERNAME_ENV: "iqmetrix",
        PASSWORD_ENV: PASSWORD,
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert proc.stderr is not None
    lines = Lines(proc.stderr)
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT)
        lines.join()
        proc.stderr.close()


def test_it_really_serves_until_sigterm(process: tuple[subprocess.Popen[str], Lines]) -> None:
    proc, stderr = process
    line = stderr.wait_for(lambda line: "Uvicorn running on http://127.0.0.1:" in line)
    url = line.split("Uvicorn running on ")[1].split()[0]
    with httpx.Client(base_url=url) as client:
        ok = client.post("/ShippingOptions", json=QUERY, auth=("iqmetrix", PASSWORD))
        gone = client.post(
            "/ShippingOptions", json={**QUERY, "Items": [{"Sku": "GONE", "Quantity": 1}]}, auth=("iqmetrix", PASSWORD)
        )
        refused = client.post("/ShippingOptions", json=QUERY, auth=("iqmetrix", "wrong"))
    assert ok.json() == {
        "ShippingOptions": [{"Id": "ground", "Name": "Ground to A1A1A1", "Cost": 9.99, "Currency": "CAD"}]
    }
    assert (gone.status_code, gone.json()["OutOfStock"]) == (400, ["GONE"])
    assert refused.status_code == 401
    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down cleanly, then re-raises the signal (as a service manager expects).
    assert proc.wait(WAIT) in (0, -signal.SIGTERM)
    output = "\n".join(stderr.rest())
    assert "Finished server process" in output
    assert PASSWORD not in output
    assert "answered out of stock (400): GONE" in output  # the SDK's log is on stderr
