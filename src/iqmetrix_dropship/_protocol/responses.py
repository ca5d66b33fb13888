"""Answers mapped to what the caller gets: a model, or a typed error that says what went wrong.

There is no JSON error schema in the Dropship API (traps.md 16): error bodies are read leniently,
as JSON with ``Message``/``message`` (or OAuth2's ``error``), plain text, HTML, or nothing. The
ASP.NET Web API behind it explains a ``400 The request is invalid`` in a ``ModelState`` object
(field name to a list of reasons): the reasons are part of the message, since they are what the
caller must fix. Every secret the client knows is redacted from what is read (``redact.py``).
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
from .._text import preview
from .http import Request, Response, logger
from .redact import redact, redact_value
from .retry import parse_retry_after

__all__ = ["error_for", "error_message", "read_json", "readable_body"]

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
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _model_state(data: dict[str, Any]) -> str:
    """``ModelState``'s reasons as one phrase: ``Status: not valid; Items[0].Sku: required``."""
    state = next((data[key] for key in ("ModelState", "modelState", "errors") if key in data), None)
    if not isinstance(state, dict):
        return ""
    parts = []
    for field, reasons in state.items():
        texts = reasons if isinstance(reasons, list) else [reasons]
        said = "; ".join(str(text) for text in texts if isinstance(text, (str, int, float)) and str(text).strip())
        if said:
            name = str(field).removeprefix("update.").removeprefix("request.")
            parts.append(f"{name}: {said}" if name else said)
    return "; ".join(parts)


def error_message(response: Response, secrets: tuple[str, ...] = ()) -> str:
    """The server's own words, whatever shape the body took; the reason phrase if none. Every
    secret in ``secrets`` is redacted from the words *as decoded* (JSON escapes such as ``\\/``
    or ``\\u0026``, HTML entities), then the text is cut to a short length."""
    return _shorten(redact(_said(response, read_json(response.content)), secrets))


def _said(response: Response, data: Any) -> str:
    if isinstance(data, dict):
        reasons = _model_state(data)
        for key in ("Message", "message", "error_description", "error", "ErrorMessage", "title"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return f"{value.strip().rstrip('.')}: {reasons}" if reasons else value
        if reasons:
            return reasons
    elif isinstance(data, str) and data.strip():
        return data
    text = response.content.decode("utf-8", errors="replace").strip()
    if text.startswith("<") and "html" in text[:200].lower():
        title = _TITLE.search(text)
        text = html.unescape(title.group(1) if title else _TAGS.sub(" ", text))
    text = " ".join(text.split())
    return text or response.reason or "no message"


def readable_body(response: Response, data: Any, secrets: tuple[str, ...]) -> bytes:
    """The body for ``APIError.response``, redacted: JSON whose value held a secret is written anew
    from its redacted value (so that no escape can spell one), other text goes through ``redact``."""
    if not secrets:
        return response.content
    if data is not None:
        cleaned = redact_value(data, secrets)
        return response.content if cleaned == data else json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
    text = response.content.decode("utf-8", errors="replace")
    cleaned_text = redact(text, secrets)
    return response.content if cleaned_text == text else cleaned_text.encode("utf-8")


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for(request: Request, response: Response, secrets: tuple[str, ...] = ()) -> Exception:
    """The error to raise for a non-2xx ``response`` to ``request``; ``secrets`` are redacted from
    everything taken from the answer (the message, the parsed body, the readable response's body
    and headers, the request id)."""
    data = read_json(response.content)
    message = error_message(response, secrets)
    if request.purpose == "token" and 300 <= response.status_code < 400:
        # The transport never follows it: a 307/308 would re-POST the password and client secret.
        target = redact(response.header("location") or "(no Location)", secrets)
        return TokenError(
            f"the accounts server answered HTTP {response.status_code}, a redirect to {preview(target)}; a token "
            "request never follows a redirect, since it would send the credentials there: check accounts_url",
            status_code=response.status_code,
        )
    if request.purpose == "token" and response.status_code in (400, 401):
        # iQmetrix's Authentication page: 400 with an OAuth2 error code: the credentials were refused.
        code = data.get("error") if isinstance(data, dict) else None
        description = data.get("error_description") if isinstance(data, dict) else None
        return TokenError(
            f"the accounts server refused the {request.form.get('grant_type') if request.form else ''}"
            f" grant: {message}",
            error=redact(code, secrets) if isinstance(code, str) else None,
            status_code=response.status_code,
            description=redact(description, secrets) if isinstance(description, str) else None,
        )
    status = response.status_code
    cls = _CLASSES.get(status) or (ServerError if status >= 500 else APIError)
    request_id = next((v for h in _REQUEST_ID_HEADERS if (v := response.header(h))), None)
    readable = None
    if response.readable is not None:
        readable = response.readable(readable_body(response, data, secrets), lambda text: redact(text, secrets))
    return cls(
        message,
        status_code=status,
        method=request.method,
        url=request.url,
        request_id=None if request_id is None else redact(request_id, secrets),
        body=redact_value(data, secrets),
        response=readable,
        retry_after=parse_retry_after(response.headers),
    )


def warn_unreadable_echo(request: Request, response: Response, why: str = "is not the expected JSON echo") -> None:
    # traps.md 15: the update was accepted (2xx); an odd body must not turn it into a failure.
    logger.warning(
        "%s %s was accepted (HTTP %d) but its body %s; returning the update as sent",
        request.method,
        request.url,
        response.status_code,
        why,
    )
