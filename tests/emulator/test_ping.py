"""The health check: ``GET /v1/ping`` and ``GET /ping`` (supplier-apis.md, "Hosts")."""

from __future__ import annotations

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import FEED, Api


@pytest.mark.parametrize("path", ["/v1/ping", "/ping", "/V1/PING/"])
def test_ping_answers_its_versions_without_a_token(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ApplicationVersion", "DbVersion"}
    assert all(isinstance(value, str) and value for value in body.values())


def test_ping_is_not_rate_limited() -> None:
    emulator = Emulator(orders=1, rate_limit=1, rate_limit_scope="global")
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        for _ in range(3):
            assert client.get("/v1/ping").status_code == 200

        assert Api(emulator, client).get(FEED).status_code == 200  # the one request allowed is still there


def test_ping_is_not_faulted(client: httpx.Client, emulator: Emulator) -> None:
    emulator.set_faults(unavailable=1, error_rate=1.0)

    assert client.get("/v1/ping").status_code == 200
    assert emulator.summary()["faults"]["unavailable"] == 1


def test_ping_takes_only_get(client: httpx.Client) -> None:
    assert client.post("/v1/ping").status_code == 405
