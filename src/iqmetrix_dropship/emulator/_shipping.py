"""Shipping options: the API a supplier hosts, called by the emulator as iQmetrix calls it.

The contract is supplier-apis.md's "Shipping options" (and traps.md, "Neighbouring supplier
APIs"). With a shipping-options server configured (``EmulatorConfig.shipping_options_url``),
``Emulator.place_order`` goes:

1. the order is drawn, and its query built (:func:`shipping_query`): ``{"CompanyId",
   "PostalCode", "Items": [{"ProductName", "Quantity", "Sku"}]}``, from the order's seller, the
   postal code of its shipping address, and its items (``ProductName`` is the item description);
2. ``POST {url}`` with ``Content-Type`` and ``Accept: application/json``, HTTP Basic or an API
   key header (:class:`ShippingOptionsClient`; outside the emulator's lock, no redirect followed,
   a timeout of ``shipping_options_timeout`` seconds, at most ``MAX_ANSWER_BYTES`` read);
3. the answer is judged (:func:`judge_answer`, no I/O): ``200`` with ``{"ShippingOptions":
   [...]}``, every option valid (``Id``, ``Cost``, ``Currency`` ``USD`` or ``CAD``; ``Name`` and
   ``EstimatedTransitTime`` optional) and at least one, is a quote; ``400`` is the Shipping
   Aggregator's "out of stock"; anything else is a failure;
4. quoted, the order is placed with the chosen option's ``Id`` as its ``shipping-method``
   (:func:`cheapest` by default: the lowest ``Cost``, the first of equals, currencies not
   converted); otherwise nothing is placed. Every call is recorded (:class:`ShippingCall`).

The errors ``place_order`` raises when no order is placed::

    OrderNotPlaced                  the supplier's shipping-options server let no order through
    ├── OrderRefused                it answered 400: out of stock (the skus its answer names)
    └── ShippingOptionsError        anything else: 401/403, another status, no JSON, invalid
                                    options, connection refused, timeout

Secrets: the password and the API key are never in a ``repr``, an error message or the log.
Answers are stored with every secret (and the Basic credentials' base64) masked, in case a
server echoes its request's headers; URLs are shown without their query, where keys sometimes
travel (``?code=`` of Azure Functions).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import httpx

from .._protocol.redact import redact
from ._checks import InvalidFieldError, preview
from ._config import ShippingEndpoint
from ._limits import InvalidJsonError, parse_json
from ._records import Order

__all__ = [
    "MAX_ANSWER_BYTES",
    "Chooser",
    "OrderNotPlaced",
    "OrderRefused",
    "Quote",
    "ShippingCall",
    "ShippingOption",
    "ShippingOptionsClient",
    "ShippingOptionsError",
    "cheapest",
    "judge_answer",
    "shipping_query",
]

MAX_ANSWER_BYTES = 1024 * 1024
"""A list of shipping options is a few hundred bytes; a larger answer is read no further."""
MAX_OPTIONS = 100
CURRENCIES = ("USD", "CAD")
_MAX_ID_LENGTH = 100  # the option Id becomes the feed's shipping-method: as long as _orders allows
_MAX_TEXT = 400
_MAX_BODY_SHOWN = 2_000  # characters of a refusal's body kept in the log and errors


# -- the errors -----------------------------------------------------------------------------


class OrderNotPlaced(Exception):  # noqa: N818 - named for what happened, as httpx's exceptions are
    """The supplier's shipping-options server let no order through; nothing was placed.

    ``order_id`` is the id the order would have had; ``status`` the HTTP status answered
    (``None``: no answer at all); ``body`` the start of the answer's text (secrets masked);
    ``placed_order_ids`` the orders a batch (``place_orders``) placed before this one.
    """

    def __init__(self, message: str, *, order_id: str, status: int | None, body: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.order_id = order_id
        self.status = status
        self.body = body
        self.placed_order_ids: list[str] = []


class OrderRefused(OrderNotPlaced):
    """The server answered ``400``: some item is out of stock. ``skus`` are the order's skus that
    the answer names (empty when it names none)."""

    def __init__(
        self, message: str, *, order_id: str, status: int | None, body: str | None, skus: Sequence[str]
    ) -> None:
        super().__init__(message, order_id=order_id, status=status, body=body)
        self.skus = tuple(skus)


class ShippingOptionsError(OrderNotPlaced):
    """The call failed: credentials refused, another status, no JSON, invalid options, no connection, timeout."""


# -- the endpoint and what it answers -------------------------------------------------------


@dataclass(frozen=True)
class ShippingOption:
    """One option as the supplier offered it; ``cost`` is a ``Decimal``."""

    id: str
    cost: Decimal
    currency: str
    name: str | None = None
    estimated_transit_time: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly, the cost as a string (``"7.94"``): exact, as money should be."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Cost": str(self.cost),
            "Currency": self.currency,
            "EstimatedTransitTime": self.estimated_transit_time,
        }


Chooser = Callable[[Sequence[ShippingOption]], ShippingOption]
"""Picks the option the customer takes, from those offered (at least one)."""


def cheapest(options: Sequence[ShippingOption]) -> ShippingOption:
    """The lowest cost, the first of equals (``min`` keeps the first); currencies are not converted."""
    return min(options, key=lambda option: option.cost)


@dataclass(frozen=True)
class Quote:
    """What a call came to: ``options`` (``outcome`` ``"quoted"``), or why not."""

    outcome: Literal["quoted", "refused", "failed"]
    status: int | None
    """The HTTP status; ``None`` when no answer came (no connection, timeout)."""
    options: tuple[ShippingOption, ...] = ()
    problem: str | None = None
    """Why the answer is no quote, in words."""
    body: str | None = None
    """The start of the answer's text when it is no quote, secrets masked."""


def shipping_query(order: Order) -> dict[str, Any]:
    """The body iQmetrix sends for ``order`` (keys in the spec example's order)."""
    return {
        "CompanyId": order.seller.company_id,
        "PostalCode": order.address.postal_code,
        "Items": [
            {"ProductName": line.description, "Quantity": line.quantity, "Sku": line.sku} for line in order.items
        ],
    }


def _optional_text(option: Mapping[str, Any], key: str, where: str) -> str | None:
    value = option.get(key)
    if value is not None and not (isinstance(value, str) and len(value) <= _MAX_TEXT):
        raise InvalidFieldError(
            f"{where}.{key}", f"must be a string of at most {_MAX_TEXT} characters, not {preview(value)}"
        )
    return value


def _option(raw: object, where: str) -> ShippingOption:
    if not isinstance(raw, dict):
        raise InvalidFieldError(where, f"must be an object, not {preview(raw)}")
    option_id = raw.get("Id")
    # The Id becomes the order's shipping-method in the feed: it must be text the feed carries.
    if not isinstance(option_id, str) or not option_id.strip() or len(option_id) > _MAX_ID_LENGTH:
        raise InvalidFieldError(
            f"{where}.Id",
            f"must be a non-blank string of at most {_MAX_ID_LENGTH} characters, not {preview(option_id)}",
        )
    if not option_id.isprintable():
        raise InvalidFieldError(f"{where}.Id", f"must hold printable characters only, not {preview(option_id)}")
    cost = raw.get("Cost")
    if isinstance(cost, bool) or not isinstance(cost, int | Decimal) or not Decimal(cost).is_finite() or cost < 0:
        raise InvalidFieldError(f"{where}.Cost", f"must be a JSON number of at least 0, not {preview(cost)}")
    currency = raw.get("Currency")
    if currency not in CURRENCIES:
        raise InvalidFieldError(f"{where}.Currency", f"must be {' or '.join(CURRENCIES)}, not {preview(currency)}")
    return ShippingOption(
        id=option_id,
        cost=Decimal(cost),
        currency=str(currency),
        name=_optional_text(raw, "Name", where),
        estimated_transit_time=_optional_text(raw, "EstimatedTransitTime", where),
    )


def _options(body: object) -> tuple[ShippingOption, ...]:
    if isinstance(body, list):
        raise InvalidFieldError(
            "body", 'is a bare JSON array: the specified answer wraps the options, {"ShippingOptions": [...]}'
        )
    if not isinstance(body, dict):
        raise InvalidFieldError("body", f'must be a JSON object {{"ShippingOptions": [...]}}, not {preview(body)}')
    given = body.get("ShippingOptions")
    if not isinstance(given, list):
        raise InvalidFieldError("ShippingOptions", f"must be an array of options, not {preview(given)}")
    if not 1 <= len(given) <= MAX_OPTIONS:
        raise InvalidFieldError("ShippingOptions", f"must hold 1 to {MAX_OPTIONS} options, not {len(given)}")
    options = tuple(_option(raw, f"ShippingOptions[{n}]") for n, raw in enumerate(given))
    seen: dict[str, ShippingOption] = {}
    for n, option in enumerate(options):
        # "An Id always means the same method and charge" (supplier-apis.md): one Id, one option.
        if option.id in seen:
            raise InvalidFieldError(f"ShippingOptions[{n}].Id", f"{option.id!r} is offered twice")
        seen[option.id] = option
    return options


def _text_of(body: bytes) -> str:
    return body.decode("utf-8", "replace")[:_MAX_BODY_SHOWN]


def judge_answer(status: int, body: bytes, *, has_credentials: bool) -> Quote:
    """What an answer means (no I/O): a quote, a refusal (``400``), or a failure and why."""
    if status == 200:
        try:
            options = _options(parse_json(body, decimals=True))
        except InvalidJsonError:
            return Quote(
                "failed", status, problem="the shipping-options server's answer is not JSON", body=_text_of(body)
            )
        except InvalidFieldError as invalid:
            return Quote(
                "failed",
                status,
                problem=f"the shipping-options server's answer is invalid: {invalid}",
                body=_text_of(body),
            )
        return Quote("quoted", status, options=options)
    if status == 400:
        # The Shipping Aggregator's contract: an item out of stock stops the order, reported in a 400's body.
        return Quote(
            "refused", status, problem="the supplier refused the order: out of stock (400)", body=_text_of(body)
        )
    if status in (401, 403):
        problem = (
            f"the shipping-options server refused the credentials ({status})"
            if has_credentials
            else f"the shipping-options server asks for credentials ({status}), and none are configured"
        )
    elif 300 <= status < 400:
        problem = (
            f"the shipping-options server answered {status}, a redirect: it is not followed, configure the final URL"
        )
    else:
        problem = f"the shipping-options server answered {status}, not 200 with shipping options"
    return Quote("failed", status, problem=problem, body=_text_of(body))


@dataclass(frozen=True)
class ShippingCall:
    """One call to the shipping-options server, as ``Emulator.shipping_log()`` lists it."""

    at: float
    """The emulator's clock when the answer came."""
    order_id: str
    """The order placed, or the id it would have had."""
    query: dict[str, Any]
    status: int | None
    options: tuple[ShippingOption, ...]
    chosen: str | None
    """The chosen option's ``Id``: the order's ``shipping-method``."""
    outcome: Literal["placed", "refused", "failed"]
    problem: str | None = None
    body: str | None = None
    skus: tuple[str, ...] = ()
    """Refused: the order's skus the answer names."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "order_id": self.order_id,
            "query": self.query,
            "status": self.status,
            "options": [option.as_dict() for option in self.options],
            "chosen": self.chosen,
            "outcome": self.outcome,
            "problem": self.problem,
            "body": self.body,
            "skus": list(self.skus),
        }


def named_skus(body: str | None, order: Order) -> tuple[str, ...]:
    """The order's skus that a refusal's body names, in the order's order, whatever its format: a
    JSON list of them (the kit's ``OutOfStock``, or ``Skus``), else each sku as a whole word of the
    text (``A1`` is not named by ``A10``)."""
    if not body:
        return ()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    listed = next(
        (
            data[key]
            for key in ("OutOfStock", "Skus", "skus")
            if isinstance(data, dict) and isinstance(data.get(key), list)
        ),
        None,
    )
    if listed is not None:
        named = {str(sku) for sku in listed}
        return tuple(line.sku for line in order.items if line.sku in named)
    return tuple(line.sku for line in order.items if re.search(rf"(?<![\w-]){re.escape(line.sku)}(?![\w-])", body))


# -- the driver -----------------------------------------------------------------------------


class ShippingOptionsClient:
    """Calls one supplier's shipping-options server. May be shared between threads (its
    ``httpx.Client`` is); :meth:`quote` blocks, so callers hold no lock around it."""

    def __init__(self, endpoint: ShippingEndpoint) -> None:
        self.endpoint = endpoint
        self._secrets = tuple(endpoint.secrets())
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"<ShippingOptionsClient {self.endpoint!r}>"

    def mask(self, text: str) -> str:
        """``text`` without any secret, also as a server may have escaped it (JSON, ``\\/``, URL,
        HTML): the SDK's own redaction (``_protocol/redact.py``)."""
        return redact(text, self._secrets)

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                endpoint = self.endpoint
                auth = (
                    httpx.BasicAuth(endpoint.username, endpoint.password)
                    if endpoint.username is not None and endpoint.password is not None
                    else None
                )
                headers = {"Accept": "application/json"}
                if endpoint.api_key is not None:
                    headers[endpoint.api_key_header] = endpoint.api_key
                self._client = httpx.Client(
                    auth=auth, headers=headers, timeout=endpoint.timeout, follow_redirects=False
                )
            return self._client

    def quote(self, query: Mapping[str, Any]) -> Quote:
        """``POST`` the query; the answer judged. Never raises for what the server or network does."""
        endpoint, shown = self.endpoint, self.endpoint.shown_url
        content = json.dumps(query, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        # httpx's timeout bounds each read; the deadline bounds the whole answer, however it trickles.
        deadline = time.monotonic() + endpoint.timeout
        try:
            with self._http().stream("POST", endpoint.url, content=content, headers=headers) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        problem = f"the shipping-options server at {shown} answered more than {MAX_ANSWER_BYTES} bytes"
                        return Quote("failed", response.status_code, problem=problem)
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the answer took too long", request=response.request)
                status = response.status_code
        except httpx.TimeoutException:
            problem = f"the shipping-options server at {shown} did not answer within {endpoint.timeout:g} s"
            return Quote("failed", None, problem=problem)
        except httpx.ConnectError as error:
            return Quote(
                "failed",
                None,
                problem=self.mask(f"could not connect to the shipping-options server at {shown} ({error})"),
            )
        except httpx.HTTPError as error:
            problem = f"the call to the shipping-options server at {shown} failed ({type(error).__name__}: {error})"
            return Quote("failed", None, problem=self.mask(problem.replace(endpoint.url, shown)))
        quote = judge_answer(status, bytes(body), has_credentials=bool(self._secrets))
        # Masked whole, then cut: a cut first could keep the start of a secret. The problem too,
        # as it may quote a value of the answer (a server echoing our Authorization header).
        shown_body = None if quote.body is None else self.mask(bytes(body).decode("utf-8", "replace"))[:_MAX_BODY_SHOWN]
        masked = None if quote.problem is None else self.mask(quote.problem)
        return Quote(quote.outcome, quote.status, quote.options, masked, shown_body)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
