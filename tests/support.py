"""Clients of the SDK pointed at an emulator, for the integration and follower tests."""

from __future__ import annotations

from typing import Any

import httpx

from iqmetrix_dropship import AsyncDropshipClient, DropshipClient, RetryPolicy
from iqmetrix_dropship.emulator import Emulator

IN_PROCESS = "http://emulator.invalid/v1"  # never resolved: the in-process transport answers
NO_JITTER = RetryPolicy(jitter=lambda delay: delay)


def client_for(emulator: Emulator, base_url: str | None = None, **options: Any) -> DropshipClient:
    """A sync client of ``emulator``: over HTTP at ``base_url``, or in process when it is None."""
    if base_url is None:
        options.setdefault("http_client", httpx.Client(transport=emulator.transport()))
    url = base_url or IN_PROCESS
    return DropshipClient(**_settings(emulator, url, options))


def async_client_for(emulator: Emulator, base_url: str | None = None, **options: Any) -> AsyncDropshipClient:
    if base_url is None:
        options.setdefault("http_client", httpx.AsyncClient(transport=emulator.async_transport()))
    url = base_url or IN_PROCESS
    return AsyncDropshipClient(**_settings(emulator, url, options))


def _settings(emulator: Emulator, url: str, options: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {
        **emulator.credentials.as_dict(),
        "base_url": url,
        "accounts_url": url,
        "retry_policy": NO_JITTER,
    }
    settings.update(options)
    return settings


class LoopbackOnly(httpx.HTTPTransport):
    """A real HTTP transport that refuses every host but the loopback: nothing leaves the machine."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host not in ("127.0.0.1", "localhost", "::1"):
            raise httpx.ConnectError(f"refused: {request.url.host} is not on this machine", request=request)
        return super().handle_request(request)
