"""The rest of the supplier side: availability, wholesale cost, the product feed, health checks.

Builders return fully decided ``Request`` values; readers turn answers into models. Invalid input
is an ``InvalidRequestError`` naming the field and the product's position, raised before any
request is built, for the whole list (a push never sends its first chunks and then finds that a
later product was wrong). Contracts: ``supplier-apis.md``; where its pages disagree, traps.md wins.

=========================================================  =========================  ==============
call                                                       host                       answer
=========================================================  =========================  ==============
``POST /Suppliers({id})/Availability``                     dropship (``base_url``)    2xx, echo + Id
``GET  /Suppliers({id})/SupplierSkus``                     availability               JSON array
``POST /Suppliers({id})/Cost``                             dropship (``base_url``)    2xx, echo + Id
``POST /ProductFeeds({feed})/Products``                    product library            [product]
``GET  /ProductFeeds({feed})/Products``, ``/ProductFeeds({feed})``   product library  JSON
``DELETE /ProductFeeds({feed})/Products({product})``       product library            204
``GET  {host}/ping``                                       each, no token             JSON versions
=========================================================  =========================  ==============
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from .._exceptions import InvalidRequestError, PushError, TokenError, UnexpectedResponseError
from .._text import preview
from .._validation import validation_message
from .config import ClientConfig
from .http import Request, Response
from .responses import read_json

if TYPE_CHECKING:
    from ..models import Product, ProductAvailability, ProductCost, ProductFeed, SupplierSku

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FailedChunk",
    "PushResult",
    "ServiceStatus",
    "availability_requests",
    "checked_costs",
    "cost_requests",
    "ping_requests",
    "product_requests",
]

T = TypeVar("T")

DEFAULT_CHUNK_SIZE = 500
"""Products per request. No batch limit is documented; a few hundred keep each request small
enough to retry on its own and far from any gateway's body limit."""
MAX_CHUNK_SIZE = 10_000
MAX_LIST_BYTES = 256 * 1024 * 1024
"""A ``SupplierSkus`` or product list of a large catalogue is tens of megabytes; this is the cap."""

_JSON_HEADERS = {"Accept": "application/json"}


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedChunk(Generic[T]):
    """Products of one request that was not accepted, and the error that request ended with."""

    products: tuple[T, ...]
    error: Exception


@dataclass(frozen=True)
class PushResult(Generic[T]):
    """What a push did, chunk by chunk: which products were accepted, which failed and why.

    ``ids`` are the server's ``Id`` of each accepted request (when its echo had one). A push never
    raises for a chunk that failed once validation passed: ``ok`` is ``False`` and ``failed`` says
    which; ``raise_for_failures()`` turns that into a ``PushError`` for those who prefer it.
    """

    accepted: tuple[T, ...] = ()
    failed: tuple[FailedChunk[T], ...] = ()
    ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed_products(self) -> tuple[T, ...]:
        return tuple(product for chunk in self.failed for product in chunk.products)

    def raise_for_failures(self) -> None:
        if self.failed:
            first = self.failed[0].error
            raise PushError(
                f"{len(self.failed_products)} of {len(self.accepted) + len(self.failed_products)} products "
                f"were not accepted ({len(self.failed)} failed requests; the first: {type(first).__name__}: {first})",
                result=self,
            )

    def __repr__(self) -> str:
        return f"PushResult(accepted={len(self.accepted)}, failed={len(self.failed_products)}, ids={list(self.ids)})"


@dataclass(frozen=True)
class ServiceStatus:
    """One service's answer to a health check (``ping``)."""

    service: str
    url: str
    ok: bool
    status_code: int | None = None
    application_version: str | None = None
    db_version: str | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)


# -- validation -------------------------------------------------------------------------------


def _built(model: type[Any], given: Any, where: str) -> Any:
    if isinstance(given, model):
        return given
    if not isinstance(given, Mapping):
        raise InvalidRequestError(f"{where} must be a {model.__name__} or a mapping, got {type(given).__name__}")
    try:
        return model(**given)
    except ValidationError as error:
        raise InvalidRequestError(f"{where}: {validation_message(error)}") from None
    except TypeError as error:  # a key that is not a string
        raise InvalidRequestError(f"{where}: {error}") from None


def _listed(products: Iterable[Any], what: str) -> list[Any]:
    if isinstance(products, (str, bytes, Mapping)) or not isinstance(products, Iterable):
        raise InvalidRequestError(f"{what} must be a list, got {type(products).__name__}")
    return list(products)


def check_chunk_size(chunk_size: Any) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise InvalidRequestError(
            f"chunk_size must be a whole number from 1 to {MAX_CHUNK_SIZE}, got {preview(chunk_size)}"
        )
    return chunk_size


def checked_availability(products: Iterable[ProductAvailability | Mapping[str, Any]]) -> list[ProductAvailability]:
    """Every product built and checked; a SKU given twice is refused (which one would win?)."""
    from ..models import ProductAvailability  # noqa: PLC0415 - the catalogue models load with their first call

    built = [
        _built(ProductAvailability, given, f"products[{n}]") for n, given in enumerate(_listed(products, "products"))
    ]
    seen: dict[str, int] = {}
    for n, product in enumerate(built):
        first = seen.setdefault(product.sku, n)
        if first != n:
            raise InvalidRequestError(f"products[{n}]: Sku {preview(product.sku)} is also products[{first}]")
    return built


def checked_costs(products: Iterable[ProductCost | Mapping[str, Any]]) -> list[ProductCost]:
    """Every cost built and checked; a company given two costs for one product is refused."""
    from ..models import ProductCost  # noqa: PLC0415 - the catalogue models load with their first call

    built = [_built(ProductCost, given, f"products[{n}]") for n, given in enumerate(_listed(products, "products"))]
    seen: dict[tuple[str, int], int] = {}
    for n, product in enumerate(built):
        for company in product.company_ids:
            first = seen.setdefault((product.sku, company), n)
            if first != n:
                raise InvalidRequestError(
                    f"products[{n}]: company {company} already has a cost for Sku {preview(product.sku)} "
                    f"in products[{first}]; a company has one cost per product"
                )
    return built


def checked_product(product: Product | Mapping[str, Any]) -> Product:
    from ..models import Product  # noqa: PLC0415 - the catalogue models load with their first call

    built: Product = _built(Product, product, "product")
    return built


def check_feed_id(value: Any, name: str = "feed_id") -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 2**63 - 1:
        raise InvalidRequestError(f"{name} must be a positive whole number, got {preview(value)}")
    return value


def _chunks(items: Sequence[T], size: int) -> Iterator[tuple[T, ...]]:
    for start in range(0, len(items), size):
        yield tuple(items[start : start + size])


# -- requests ---------------------------------------------------------------------------------


def availability_requests(
    config: ClientConfig, products: Sequence[ProductAvailability], chunk_size: int
) -> list[tuple[Request, tuple[ProductAvailability, ...]]]:
    url = f"{config.supplier_url}/Availability"
    return [
        (_post(url, {"Products": [p.to_json_body() for p in chunk]}), chunk) for chunk in _chunks(products, chunk_size)
    ]


def cost_requests(
    config: ClientConfig, products: Sequence[ProductCost], chunk_size: int
) -> list[tuple[Request, tuple[ProductCost, ...]]]:
    url = f"{config.supplier_url}/Cost"
    return [
        (_post(url, {"Products": [p.to_json_body() for p in chunk]}), chunk) for chunk in _chunks(products, chunk_size)
    ]


def _post(url: str, body: Any, *, idempotent: bool = True) -> Request:
    return Request("POST", url, purpose="update", headers=_JSON_HEADERS, json=body, idempotent=idempotent)


def supplier_skus_request(config: ClientConfig) -> Request:
    url = f"{config.availability_url}/Suppliers({config.supplier_id})/SupplierSkus"
    return Request("GET", url, purpose="update", headers=_JSON_HEADERS, max_body_bytes=MAX_LIST_BYTES)


def _feed_url(config: ClientConfig, feed_id: Any) -> str:
    return f"{config.product_library_url}/ProductFeeds({check_feed_id(feed_id)})"


def product_requests(config: ClientConfig) -> ProductRequests:
    return ProductRequests(config)


@dataclass(frozen=True)
class ProductRequests:
    """The product feed's four calls. Adding is not idempotent (a replay could store the product
    twice): it is retried only when the server surely did not take it (``Request.idempotent``)."""

    config: ClientConfig

    def add(self, feed_id: Any, product: Product) -> Request:
        return _post(f"{_feed_url(self.config, feed_id)}/Products", product.to_json_body(), idempotent=False)

    def list(self, feed_id: Any) -> Request:
        url = f"{_feed_url(self.config, feed_id)}/Products"
        return Request("GET", url, purpose="update", headers=_JSON_HEADERS, max_body_bytes=MAX_LIST_BYTES)

    def feed(self, feed_id: Any) -> Request:
        url = _feed_url(self.config, feed_id)
        return Request("GET", url, purpose="update", headers=_JSON_HEADERS, max_body_bytes=MAX_LIST_BYTES)

    def remove(self, feed_id: Any, product_id: Any) -> Request:
        url = f"{_feed_url(self.config, feed_id)}/Products({check_feed_id(product_id, 'product_id')})"
        return Request("DELETE", url, purpose="update", headers=_JSON_HEADERS)


def ping_requests(config: ClientConfig) -> dict[str, Request]:
    """One health check per configured service (the caller asks a URL shared by several once)."""
    hosts = {
        "dropship": config.base_url,
        "accounts": config.accounts_url,
        "availability": config.availability_url,
        "product_library": config.product_library_url,
    }
    return {
        name: Request("GET", f"{url}/ping", purpose="update", headers=_JSON_HEADERS, authenticated=False)
        for name, url in hosts.items()
    }


# -- answers ----------------------------------------------------------------------------------


def _unexpected(request: Request, response: Response, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{request.method} {request.url} answered HTTP {response.status_code}, but its body {what}",
        status_code=response.status_code,
        method=request.method,
        url=request.url,
    )


def _json(request: Request, response: Response) -> Any:
    if response.truncated:
        raise _unexpected(request, response, f"is larger than {request.max_body_bytes} bytes")
    data = read_json(response.content)
    if data is None and response.content.strip():
        raise _unexpected(request, response, "is not JSON")
    return data


def push_answer(request: Request, response: Response) -> Response:
    """A push's 2xx, unless its body says it did not come from the API: HTML or other text where a
    JSON echo (or nothing) was expected is a proxy's or a login page's answer, at a wrong
    ``base_url``; counting it as accepted would make the ledger believe iQmetrix holds the stock."""
    body = response.content.strip()
    if body and not response.truncated and read_json(response.content) is None:
        raise _unexpected(request, response, "is not the JSON echo of a push (is base_url an API host?)")
    return response


def echo_id(response: Response) -> str | None:
    """The ``Id`` of a push's echo; ``None`` (and no failure: the push was accepted) if it has none."""
    data = read_json(response.content) if not response.truncated else None
    value = data.get("Id") if isinstance(data, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def read_supplier_skus(request: Request, response: Response) -> list[SupplierSku]:
    from ..models import SupplierSku  # noqa: PLC0415 - the catalogue models load with their first call

    data = _json(request, response)
    if isinstance(data, dict):  # an OData-style wrapper, should one appear
        data = data.get("value", data.get("Items"))
    if not isinstance(data, list):
        raise _unexpected(request, response, "is not a JSON array of SupplierSkus")
    try:
        return [SupplierSku.model_validate(item) for item in data]
    except ValidationError as error:
        why = f"holds a SupplierSku that cannot be read: {validation_message(error)}"
        raise _unexpected(request, response, why) from None


def read_products(request: Request, response: Response) -> list[Product]:
    from ..models import Product  # noqa: PLC0415 - the catalogue models load with their first call

    data = _json(request, response)
    if isinstance(data, dict):  # one product rather than the documented array of them
        data = [data]
    if not isinstance(data, list):
        raise _unexpected(request, response, "is not a JSON array of products")
    try:
        return [Product.from_echo(item) for item in data]
    except ValidationError as error:
        why = f"holds a product that cannot be read: {validation_message(error)}"
        raise _unexpected(request, response, why) from None


def read_product_feed(request: Request, response: Response) -> ProductFeed:
    from ..models import ProductFeed  # noqa: PLC0415 - the catalogue models load with their first call

    data = _json(request, response)
    if not isinstance(data, dict):
        raise _unexpected(request, response, "is not a product feed (a JSON object)")
    try:
        feed: ProductFeed = ProductFeed.model_validate(data)
    except ValidationError as error:
        raise _unexpected(request, response, f"is not a product feed: {validation_message(error)}") from None
    return feed


def read_ping(service: str, request: Request, response: Response) -> ServiceStatus:
    data = read_json(response.content) if not response.truncated else None
    details = data if isinstance(data, dict) else {}

    def version(key: str) -> str | None:
        value = details.get(key)
        return None if value is None or isinstance(value, (dict, list)) else str(value)

    return ServiceStatus(
        service=service,
        url=request.url,
        ok=response.ok,
        status_code=response.status_code,
        application_version=version("ApplicationVersion"),
        db_version=version("DbVersion"),
        error=None if response.ok else f"HTTP {response.status_code} {response.reason}".strip(),
        details=details,
    )


def refused_everything(error: Exception) -> bool:
    """An error every other request of a push would meet too: the credentials (a ``TokenError``,
    401, 403) or the supplier id (``400 Cannot find supplier identifier in the uri``)."""
    if isinstance(error, TokenError):
        return True
    status = getattr(error, "status_code", None)
    return status in (401, 403) or (status == 400 and "supplier identifier" in str(getattr(error, "message", "")))


def unreachable(service: str, request: Request, error: Exception) -> ServiceStatus:
    return ServiceStatus(service=service, url=request.url, ok=False, error=f"{type(error).__name__}: {error}")
