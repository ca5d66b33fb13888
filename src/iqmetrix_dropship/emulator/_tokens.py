"""The accounts host's token endpoint, as iQmetrix's Authentication page describes it (docs/guides/authentication.md).

- ``grant_type=password`` issues a new pair; older tokens stay valid.
- ``grant_type=refresh_token`` issues a new pair and revokes both the refresh token used and
  the access token issued with it (traps.md 17).
- Errors are ``400 {"error": ..., "error_description": ...}`` with ``unsupported_grant_type``,
  ``invalid_client`` or ``invalid_grant``.

Tokens live in memory only; times come from the caller (the emulator's clock).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["TokenRefusedError", "TokenStore"]


class TokenRefusedError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(error)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Access:
    client_id: str
    expires_at: float


@dataclass
class _Refresh:
    client_id: str
    access_token: str
    expires_at: float


class TokenStore:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        lifetime: int,
        refresh_lifetime: int,
    ) -> None:
        self._client = (client_id, client_secret)
        self._user = (username, password)
        self.lifetime = lifetime
        self.refresh_lifetime = refresh_lifetime
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self.issued = 0

    def grant(self, form: Mapping[str, str], now: float) -> dict[str, object]:
        """Answer a token request: the JSON body of a 200, or :class:`TokenRefusedError`."""
        grant_type = form.get("grant_type", "")
        if grant_type not in ("password", "refresh_token"):
            raise TokenRefusedError("unsupported_grant_type", "grant_type must be password or refresh_token")
        client_id = form.get("client_id", "")
        if not secrets.compare_digest(
            f"{client_id}\n{form.get('client_secret', '')}".encode(),
            "\n".join(self._client).encode(),
        ):
            raise TokenRefusedError("invalid_client", "The client id or client secret is wrong.")
        if grant_type == "password":
            if not secrets.compare_digest(
                f"{form.get('username', '')}\n{form.get('password', '')}".encode(),
                "\n".join(self._user).encode(),
            ):
                raise TokenRefusedError("invalid_grant", "The user name or password is incorrect.")
            return self._issue(client_id, now)
        token = form.get("refresh_token", "")
        record = self._refresh.get(token)
        if record is None or record.expires_at <= now or record.client_id != client_id:
            raise TokenRefusedError("invalid_grant", "The refresh token is invalid or has expired.")
        del self._refresh[token]
        self._access.pop(record.access_token, None)  # traps.md 17: the refresh revokes it
        return self._issue(client_id, now)

    def _issue(self, client_id: str, now: float) -> dict[str, object]:
        self._prune(now)
        access, refresh = secrets.token_hex(16), secrets.token_hex(17)
        self._access[access] = _Access(client_id, now + self.lifetime)
        self._refresh[refresh] = _Refresh(client_id, access, now + self.refresh_lifetime)
        self.issued += 1
        return {"access_token": access, "expires_in": self.lifetime, "refresh_token": refresh}

    def _prune(self, now: float) -> None:
        if len(self._access) + len(self._refresh) < 10_000:
            return
        self._access = {k: v for k, v in self._access.items() if v.expires_at > now}
        self._refresh = {k: v for k, v in self._refresh.items() if v.expires_at > now}

    def is_valid(self, access_token: str, now: float) -> bool:
        record = self._access.get(access_token)
        return record is not None and record.expires_at > now

    def expire_access_tokens(self, now: float) -> int:
        """Forced expiry: every access token is invalid from now on; refresh tokens still work."""
        count = sum(1 for record in self._access.values() if record.expires_at > now)
        for record in self._access.values():
            record.expires_at = min(record.expires_at, now)
        return count

    def active(self, now: float) -> int:
        return sum(1 for record in self._access.values() if record.expires_at > now)
