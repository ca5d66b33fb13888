"""What ``DropshipClient`` and ``AsyncDropshipClient`` share: construction, configuration, the token
cache and the mapping of answers. The two drivers add only the I/O (see ``_client.py``,
``_async_client.py``); every decision is made in ``_protocol``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

from tenacity import retry_if_exception

from ._exceptions import ConfigurationError
from ._protocol.config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    Environment,
    check_max_retries,
    check_timeout,
    settings_from_env,
)
from ._protocol.deadline import Deadline, total_seconds
from ._protocol.http import Request, Response
from ._protocol.redact import watch_secrets
from ._protocol.responses import error_for
from ._protocol.retry import RetryPolicy, replay_safe, stop_at_deadline, tenacity_options
from ._protocol.tokens import Credentials, SecretStr, TokenCache, check_credential
from .feed import DEFAULT_MAX_FEED_BYTES

HttpClientT = TypeVar("HttpClientT")
ClientT = TypeVar("ClientT", bound="ClientBase[Any]")


class ClientBase(Generic[HttpClientT]):
    # The token cache's clock; a seam for tests. Monotonic: immune to wall-clock jumps.
    _clock = staticmethod(time.monotonic)

    def __init__(
        self,
        supplier_id: int | str,
        client_id: str | None = None,
        client_secret: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        access_token: str | None = None,
        environment: Environment | str = Environment.SANDBOX,
        base_url: str | None = None,
        accounts_url: str | None = None,
        timeout: Any = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: HttpClientT | None = None,
        retry_policy: RetryPolicy | None = None,
        max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES,
        availability_url: str | None = None,
        product_library_url: str | None = None,
    ) -> None:
        self._config = ClientConfig.build(
            supplier_id=supplier_id,
            environment=environment,
            base_url=base_url,
            accounts_url=accounts_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            max_feed_bytes=max_feed_bytes,
            availability_url=availability_url,
            product_library_url=product_library_url,
        )
        self._retry_options_by_count: dict[int, dict[str, Any]] = {}
        self._tokens = TokenCache(self._config, *_auth(client_id, client_secret, username, password, access_token))
        watch_secrets(self._tokens)  # redacted from the HTTP library's log lines while it lives
        self._open_transport(http_client)

    def _open_transport(self, http_client: HttpClientT | None) -> None:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def from_env(cls: type[ClientT], environ: Mapping[str, str] | None = None, **overrides: Any) -> ClientT:
        """A client configured from the ``IQMETRIX_*`` variables; keyword arguments override them.

        ``IQMETRIX_SUPPLIER_ID``, ``IQMETRIX_CLIENT_ID``, ``IQMETRIX_CLIENT_SECRET``,
        ``IQMETRIX_USERNAME``, ``IQMETRIX_PASSWORD`` (or ``IQMETRIX_ACCESS_TOKEN``),
        ``IQMETRIX_ENVIRONMENT``, ``IQMETRIX_BASE_URL``, ``IQMETRIX_ACCOUNTS_URL``,
        ``IQMETRIX_AVAILABILITY_URL``, ``IQMETRIX_PRODUCT_LIBRARY_URL``.
        """
        settings: dict[str, Any] = dict(settings_from_env(environ))
        settings.update(overrides)
        return cls(**settings)

    @property
    def config(self) -> ClientConfig:
        """The client's frozen configuration (supplier id, URLs, timeout, retries)."""
        return self._config

    @property
    def supplier_id(self) -> int:
        return self._config.supplier_id

    def __repr__(self) -> str:
        creds = self._tokens.credentials
        auth = "access_token=***" if creds is None else f"username={creds.username!r}, client_secret=***"
        return f"{type(self).__name__}(supplier_id={self.supplier_id}, base_url={self._config.base_url!r}, {auth})"

    def _token_expiry(self) -> datetime | None:
        token = self._tokens.current
        if token is None:
            return None
        remaining = token.expires_at - self._clock()
        return datetime.now(timezone.utc) + timedelta(seconds=remaining)

    # -- shared by both drivers ------------------------------------------------------------

    def _timeout(self, timeout: Any) -> Any:
        return self._config.timeout if timeout is None else check_timeout(timeout)

    def _retry_options(self, max_retries: int | None) -> dict[str, Any]:
        # A call's own max_retries is checked as the constructor's is.
        retries = self._config.max_retries if max_retries is None else check_max_retries(max_retries)
        options = self._retry_options_by_count.get(retries)
        if options is None:
            options = self._retry_options_by_count[retries] = tenacity_options(retries, self._config.retry_policy)
        return options

    def _deadline(self, timeout: Any) -> Deadline:
        """The end of a call's time budget (``_protocol/deadline.py``)."""
        return Deadline.after(total_seconds(self._timeout(timeout)))

    def _retrying(self, max_retries: int | None, deadline: Deadline, request: Request | None = None) -> dict[str, Any]:
        """tenacity's options for one call: the client's policy, stopped by the call's deadline; a
        request that is not idempotent is retried only when replaying it is safe."""
        options = self._retry_options(max_retries)
        options = {**options, "stop": options["stop"] | stop_at_deadline(deadline, self._config.retry_policy)}
        if request is not None and not request.idempotent:
            options["retry"] = options["retry"] & retry_if_exception(replay_safe)
        return options

    def _check(self, request: Request, response: Response) -> Response:
        if not response.ok:
            # Built outside of any except block, and redacted of every secret the client knows.
            raise error_for(request, response, self._tokens.secrets())
        return response


def _auth(
    client_id: str | None,
    client_secret: str | None,
    username: str | None,
    password: str | None,
    access_token: str | None,
) -> tuple[Credentials | None, SecretStr | None]:
    if access_token is not None and access_token != "":
        if not isinstance(access_token, str):
            raise ConfigurationError(f"access_token must be a string, not {type(access_token).__name__}")
        return None, SecretStr(access_token)  # checked by the TokenCache, once
    given = {
        "client_id": client_id,
        "client_secret": client_secret,
        "username": username,
        "password": password,
    }
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigurationError(
            f"missing {', '.join(missing)}: pass all four credentials, or access_token for a token you hold"
        )
    checked = {name: check_credential(name, value) for name, value in given.items()}
    return (
        Credentials(
            checked["client_id"],
            SecretStr(checked["client_secret"]),
            checked["username"],
            SecretStr(checked["password"]),
        ),
        None,
    )
