"""Every answer the endpoint gives, as plain values: status, headers and the JSON body's bytes.

=========  ======================================================================================
status     body
=========  ======================================================================================
200        ``{"ShippingOptions": [{"Id": "350", "Name": "PurolatorExpress", "Cost": 7.94,
           "Currency": "CAD", "EstimatedTransitTime": "1 week"}]}`` (``Name`` and
           ``EstimatedTransitTime`` left out when ``None``)
400        ``{"Message": "Out of stock: SKU1, SKU2", "OutOfStock": ["SKU1", "SKU2"]}``
400        ``{"Message": "CompanyId: must be an integer"}``: the query, by the field that is wrong
401        ``{"Message": "Authorization has been denied for this request."}`` and a
           ``WWW-Authenticate`` challenge
405        ``{"Message": "Only POST is allowed."}`` and ``Allow: POST``
413        ``{"Message": "The body is larger than 65536 bytes."}``
415        ``{"Message": "The body must be JSON (Content-Type: application/json)."}``
500        ``{"Message": "An error has occurred."}``: the quote function raised, or answered
           something invalid; what went wrong is in the log, never in the answer
=========  ======================================================================================

The ``Message`` key and the 401 and 500 texts are those of ASP.NET Web API, which iQmetrix's
services speak. Every body is ASCII JSON (``json.dumps`` escapes the rest).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._models import ShippingOption

__all__ = [
    "DENIED",
    "INTERNAL_ERROR",
    "Answer",
    "message_answer",
    "options_answer",
    "out_of_stock_answer",
]

DENIED = "Authorization has been denied for this request."
INTERNAL_ERROR = "An error has occurred."

_JSON_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",  # a quote is for this cart, now
}


@dataclass(frozen=True)
class Answer:
    """What to send back: hand ``status``, ``headers`` and ``body`` to any web framework."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> object:
        """The body, parsed (for tests)."""
        return json.loads(self.body)


def _answer(status: int, body: str, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(status, {**_JSON_HEADERS, **(headers or {})}, body.encode("ascii"))


def message_answer(status: int, message: str, headers: Mapping[str, str] | None = None) -> Answer:
    return _answer(status, json.dumps({"Message": message}), headers)


def out_of_stock_answer(skus: Sequence[str]) -> Answer:
    return _answer(400, json.dumps({"Message": "Out of stock: " + ", ".join(skus), "OutOfStock": list(skus)}))


def _option_json(option: ShippingOption) -> str:
    # Written by hand for Cost: json.dumps would need a float (inexact) or write a string.
    members = [f'"Id": {json.dumps(option.id)}']
    if option.name is not None:
        members.append(f'"Name": {json.dumps(option.name)}')
    members.append(f'"Cost": {option.wire_cost()}')
    members.append(f'"Currency": {json.dumps(option.currency)}')
    if option.estimated_transit_time is not None:
        members.append(f'"EstimatedTransitTime": {json.dumps(option.estimated_transit_time)}')
    return "{" + ", ".join(members) + "}"


def options_answer(options: Sequence[ShippingOption]) -> Answer:
    """``200`` with the spec's wrapped form (a bare array is only in a later copy of the page)."""
    return _answer(200, '{"ShippingOptions": [' + ", ".join(_option_json(option) for option in options) + "]}")
