"""Answers mapped to what the caller gets: a model, or a typed error that says what went wrong.

There is no JSON error schema in the Dropship API (traps.md 16): error bodies are read leniently,
as JSON with ``Message``/``message`` (or OAuth2's ``error``), plain text, HTML, or nothing.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from .._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TokenError,
)
from .http import Request, Response, logger
from .retry import parse_retry_after

__all__ = ["error_for", "error_message", "read_json"]

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-ms-request-id")
_MAX_MESSAGE = 300
_TAGS = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def read_json(content: bytes) -> Any:
    """The body as JSON, or ``None`` if it is empty or not JSON."""
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


def error_message(response: Response) -> str:
    """The server's own words, whatever shape the body took; the reason phrase if none."""
    data = read_json(response.content)
    if isinstance(data, dict):
        for key in ("Message", "message", "error_description", "error", "ErrorMessage", "title"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return _shorten(value)
    elif isinstance(data, str) and data.strip():
        return _shorten(data)
    text = response.content.decode("utf-8", errors="replace").strip()
    if text.startswith("<") and "html" in text[:200].lower():
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAGS.sub(" ", text)
        text = html.unescape(text)
    text = " ".join(text.split())
    if text:
        return _shorten(text)
    return response.reason or "no message"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for(request: Request, response: Response) -> Exception:
    """The error to raise for a non-2xx ``response`` to ``request``."""
    message = error_message(response)
    if request.purpose == "token" and response.status_code in (400, 401):
        # authentication.md: 400 with an OAuth2 error code: the credentials were refused.
        data = read_json(response.content)
        code = data.get("error") if isinstance(data, dict) else None
        description = data.get("error_description") if isinstance(data, dict) else None
        return TokenError(
            f"the accounts server refused the {request.form.get('grant_type') if request.form else ''}"
            f" grant: {message}",
            error=code if isinstance(code, str) else None,
            status_code=response.status_code,
            description=description if isinstance(description, str) else None,
        )
    status = response.status_code
    cls = _CLASSES.get(status) or (ServerError if status >= 500 else APIError)
    return cls(
        message,
        status_code=status,
        method=request.method,
        url=request.url,
        request_id=next((v for h in _REQUEST_ID_HEADERS if (v := response.header(h))), None),
        body=read_json(response.content),
        response=response.raw,
        retry_after=parse_retry_after(response.headers),
    )


def warn_unreadable_echo(request: Request, response: Response) -> None:
    # traps.md 15: the update was accepted (2xx); an odd body must not turn it into a failure.
    logger.warning(
        "%s %s was accepted (HTTP %d) but its body is not the expected JSON echo; returning the update as sent",
        request.method,
        request.url,
        response.status_code,
    )
