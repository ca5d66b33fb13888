"""The endpoint's logic, without a web framework: a request's method, headers and body in, an
``Answer`` out. ``create_app`` serves it over ASGI; FastAPI, Flask or Django call it in a few lines.

The checks run in this order, each answering before the next is tried:

1. credentials (401): first, so that a caller without them learns nothing, not even which
   methods or bodies the endpoint takes, and makes the server read no body;
2. the method (405), the content type (415), the body's size (413, from ``Content-Length`` before
   the body is read, then from the body itself);
3. the query (400), parsed as JSON and validated by ``ShippingQuery``;
4. the supplier's ``quote(query)``: its options (200), ``OutOfStock`` (400), anything it raises
   or answers wrong (500, with the reason in the log only).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NoReturn

import anyio.to_thread
from pydantic import ValidationError

from .._exceptions import ArgumentTypeError, ConfigurationError
from .._text import preview
from ._answers import DENIED, INTERNAL_ERROR, Answer, message_answer, options_answer, out_of_stock_answer
from ._auth import ApiKeyAuth, Auth, BasicAuth
from ._models import OutOfStock, ShippingOption, ShippingQuery, error_message

__all__ = ["MAX_BODY_BYTES", "MAX_OPTIONS", "Quote", "ShippingOptionsHandler"]

logger = logging.getLogger("iqmetrix_dropship.shipping_options")

MAX_BODY_BYTES = 64 * 1024
"""A cart of a few hundred items is a few KiB; anything near this is not a checkout."""
MAX_OPTIONS = 1000
"""More options than a checkout shows: a quote function that never stops, not an answer."""

QuoteResult = Iterable[ShippingOption | Mapping[str, Any]]
Quote = Callable[[ShippingQuery], QuoteResult | Awaitable[QuoteResult]]
"""``quote(query)``: a function or ``async def``, returning ``ShippingOption`` objects or mappings."""


class _InvalidAnswerError(Exception):
    """The quote function answered something that is not a list of valid options."""


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    """Names in lower case; a repeated header's values joined by ", " (RFC 9110 section 5.3), so
    that two ``Authorization`` headers make one malformed value, never a choice between them."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    return lowered


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media in ("application/json", "text/json") or (media.startswith("application/") and media.endswith("+json"))


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")  # Python's json would take NaN and Infinity


def _collect(result: object) -> list[ShippingOption]:
    """The quote function's result as valid options, or ``_InvalidAnswerError`` naming what is wrong.
    Iterating it runs the supplier's code (a generator): what that raises goes through."""
    if result is None or isinstance(result, (str, bytes, bytearray, Mapping)) or not isinstance(result, Iterable):
        raise _InvalidAnswerError(f"quote() must return a list of ShippingOption, not {type(result).__name__}")
    options: list[ShippingOption] = []
    seen: set[str] = set()
    for index, item in enumerate(result):
        where = f"ShippingOptions[{index}]"
        if index == MAX_OPTIONS:
            raise _InvalidAnswerError(f"quote() returned more than {MAX_OPTIONS} options")
        if isinstance(item, ShippingOption):
            option = item
        elif isinstance(item, Mapping):
            try:
                option = ShippingOption.model_validate(dict(item))
            except ValidationError as error:
                raise _InvalidAnswerError(error_message(error, prefix=where)) from None
        else:
            raise _InvalidAnswerError(f"{where}: must be a ShippingOption or a mapping, not {type(item).__name__}")
        if option.id in seen:  # spec: an Id always means the same method and charge
            raise _InvalidAnswerError(f"{where}.Id: {preview(option.id)} is given twice")
        seen.add(option.id)
        options.append(option)
    return options


def _run(awaitable: Awaitable[Any]) -> Any:
    """An async quote function's result, from synchronous code (``handle`` under Flask)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:

        async def wait() -> Any:
            return await awaitable

        return asyncio.run(wait())
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # never awaited: no "coroutine was never awaited" warning on top
    raise RuntimeError("an async quote function inside a running event loop: call handle_async(), not handle()")


class ShippingOptionsHandler:
    """``POST /ShippingOptions`` for any web framework: ``handle(method, headers, body)`` returns
    the ``Answer`` (status, headers, body bytes) to send. ::

        handler = ShippingOptionsHandler(quote, auth=BasicAuth("iqmetrix", password))
        answer = handler.handle("POST", request.headers, request.get_data())          # Flask
        answer = await handler.handle_async("POST", request.headers, await request.body())  # FastAPI

    ``quote`` is a function or an ``async def``; ``handle_async`` runs a plain function in a worker
    thread, so that it never blocks the event loop, and ``handle`` runs an ``async def`` with
    ``asyncio.run`` (only where no event loop runs). ``auth`` is required: ``BasicAuth``,
    ``ApiKeyAuth``, or ``None``, said out loud, to check nothing (iQmetrix always sends
    credentials). ``check_request(method, headers)`` answers what can be decided before the body
    is read, for a server that streams it. The handler holds no state between requests: safe to
    share between threads and tasks.
    """

    def __init__(self, quote: Quote, *, auth: Auth | None, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        if not callable(quote):
            raise ArgumentTypeError(f"quote must be a function taking a ShippingQuery, not {type(quote).__name__}")
        if auth is not None and not isinstance(auth, (BasicAuth, ApiKeyAuth)):
            raise ArgumentTypeError(f"auth must be BasicAuth(...), ApiKeyAuth(...) or None, not {type(auth).__name__}")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 1:
            raise ConfigurationError("max_body_bytes must be a positive integer")
        self.quote = quote
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        self._is_async = inspect.iscoroutinefunction(quote) or inspect.iscoroutinefunction(
            getattr(quote, "__call__", None)  # noqa: B004 - an object whose __call__ is an async def
        )

    def __repr__(self) -> str:
        return f"<ShippingOptionsHandler quote={getattr(self.quote, '__qualname__', self.quote)!r} auth={self.auth!r}>"

    def check_request(self, method: str, headers: Mapping[str, str]) -> Answer | None:
        """The refusal for these credentials, method and headers, or ``None`` to read the body."""
        lowered = _lower(headers)
        if self.auth is not None and not self.auth.accepts(lowered):
            logger.info("refused a request without valid credentials (401)")
            return message_answer(401, DENIED, self.auth.challenge)
        if method != "POST":
            return message_answer(405, "Only POST is allowed.", {"Allow": "POST"})
        if not _is_json(lowered.get("content-type", "")):
            return message_answer(415, "The body must be JSON (Content-Type: application/json).")
        length = lowered.get("content-length", "").strip()
        # ASCII digits only ("²" is a digit to str.isdigit, not to int), and never a huge int().
        if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > self.max_body_bytes):
            return self._too_large()
        return None

    def read_query(self, body: bytes) -> ShippingQuery | Answer:
        """The query in ``body``, or the ``400`` (or ``413``) that refuses it."""
        if len(body) > self.max_body_bytes:
            return self._too_large()
        try:
            data = json.loads(body, parse_constant=_no_constants)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
            return self._bad_query("The body is not valid JSON.")
        if not isinstance(data, dict):
            return self._bad_query("The body must be a JSON object.")
        try:
            return ShippingQuery.model_validate(data)
        except ValidationError as error:
            return self._bad_query(error_message(error))

    def handle(self, method: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The answer to one request; never raises for anything a request does, nor for an
        ``Exception`` that ``quote`` raises (a 500). What asks the process or the task to stop
        (``KeyboardInterrupt``, ``SystemExit``, a cancellation) is not an answer: it passes through."""
        query = self._query(method, headers, body)
        return query if isinstance(query, Answer) else self._answer(query)

    async def handle_async(self, method: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """``handle`` for async servers: an ``async def`` quote is awaited, a plain one runs in a
        worker thread (``anyio.to_thread``)."""
        query = self._query(method, headers, body)
        return query if isinstance(query, Answer) else await self._answer_async(query)

    def _answer(self, query: ShippingQuery) -> Answer:
        try:
            result = self.quote(query)
            options = _collect(_run(result) if inspect.isawaitable(result) else result)
        except Exception as error:  # whatever the supplier's code raises becomes an answer
            return self._failed(error)
        return options_answer(options)

    async def _answer_async(self, query: ShippingQuery) -> Answer:
        try:
            if self._is_async:
                options = _collect(await self.quote(query))  # type: ignore[misc]
            else:
                got = await anyio.to_thread.run_sync(self._quote_in_thread, query)
                options = _collect(await got) if inspect.isawaitable(got) else got
        except Exception as error:  # whatever the supplier's code raises becomes an answer
            return self._failed(error)
        return options_answer(options)

    def _quote_in_thread(self, query: ShippingQuery) -> list[ShippingOption] | Awaitable[Any]:
        result = self.quote(query)
        # A plain function may still hand back an awaitable (a partial of an async def): the
        # event loop awaits it. Anything else is collected here, where a generator may block.
        return result if inspect.isawaitable(result) else _collect(result)

    def _query(self, method: str, headers: Mapping[str, str], body: bytes) -> ShippingQuery | Answer:
        return self.check_request(method, headers) or self.read_query(body)

    def _too_large(self) -> Answer:
        return message_answer(413, f"The body is larger than {self.max_body_bytes} bytes.")

    def _bad_query(self, message: str) -> Answer:
        logger.info("refused a query (400): %s", message)
        return message_answer(400, message)

    def _failed(self, error: Exception) -> Answer:
        if isinstance(error, OutOfStock):
            logger.info("answered out of stock (400): %s", ", ".join(error.skus))
            return out_of_stock_answer(error.skus)
        if isinstance(error, _InvalidAnswerError):
            logger.error("the quote function answered something invalid, iQmetrix got a 500: %s", error)
        else:
            logger.exception("the quote function raised %s, iQmetrix got a 500", type(error).__name__)
        return message_answer(500, INTERNAL_ERROR)
