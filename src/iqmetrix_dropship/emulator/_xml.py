"""Rendering feed pages as the real service does: Atom, with DataContract-style content.

The shapes copy the two examples of iQmetrix's Supplier Orders API reference: Atom default namespace, one
``order-created`` or ``order-status-updated`` element per ``<content type="application/xml">``
in ``urn:iQmetrix:dropship``, child elements in alphabetical order, ``i:nil="true"`` for nulls,
one-second ``Z`` timestamps. String templates with escaping are used rather than a tree
builder: a page is rendered once and, once archived, served from cached bytes forever.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from ._records import Address, Customer, Event, ItemInfo, Order, OrderCreatedEvent, StatusUpdatedEvent

__all__ = ["format_timestamp", "render_entry", "render_page", "xml_safe"]

_CONTENT_NS = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:iQmetrix:dropship"'


# Characters XML 1.0 cannot carry at all. Text from outside (a PUT, a placed order) goes
# through xml_safe() when it enters the state, so that rendering only has to escape.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_I3, _I4, _I5, _I6 = " " * 12, " " * 16, " " * 20, " " * 24
_ADDRESS_TAGS = tuple(name.replace("_", "-") for name in Address._fields)
_CUSTOMER_TAGS = tuple(name.replace("_", "-") for name in Customer._fields)
_LINE_TAGS = ("catalog-id", "description", "quantity", "selling-price", "sku")
_SELLER_TAGS = ("company-id", "location-id", "po-reference", "printable-id")
_ITEM_TAGS = tuple(name.replace("_", "-") for name in ItemInfo._fields)


def xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def format_timestamp(timestamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _el(name: str, value: object, indent: str) -> str:
    """One element, DataContract style: ``i:nil="true"`` for null (traps.md 19)."""
    if value is None:
        return f'{indent}<{name} i:nil="true" />\n'
    if value is True or value is False:
        return f"{indent}<{name}>{'true' if value else 'false'}</{name}>\n"
    text = value if type(value) is str else str(value)
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    return f"{indent}<{name}>{text}</{name}>\n"


def _group(name: str, tags: tuple[str, ...], values: Sequence[object], indent: str, inner: str) -> str:
    fields = "".join([_el(tag, value, inner) for tag, value in zip(tags, values, strict=True)])
    return f"{indent}<{name}>\n{fields}{indent}</{name}>\n"


def _order_created(order: Order) -> str:
    items = "".join([_group("order-item", _LINE_TAGS, line, _I5, _I6) for line in order.items])
    return (
        f"{_I3}<order-created {_CONTENT_NS}>\n"
        f"{_I4}<items>\n{items}{_I4}</items>\n"
        + _el("order-id", order.order_id, _I4)
        + _group("seller", _SELLER_TAGS, order.seller, _I4, _I5)
        + _el("ship-to-store", order.ship_to_store, _I4)
        + _group("shipping-address", _ADDRESS_TAGS, order.address, _I4, _I5)
        + _group("shipping-customer", _CUSTOMER_TAGS, order.customer, _I4, _I5)
        + _el("shipping-method", order.shipping_method, _I4)
        + _el("supplier-id", order.supplier_id, _I4)
        + f"{_I3}</order-created>\n"
    )


def _order_status_updated(event: StatusUpdatedEvent) -> str:
    items = "".join([_group("item-information", _ITEM_TAGS, item, _I5, _I6) for item in event.items])
    return (
        f"{_I3}<order-status-updated {_CONTENT_NS}>\n"
        + _el("company-id", event.company_id, _I4)
        + f"{_I4}<items>\n{items}{_I4}</items>\n"
        + _el("order-id", event.order_id, _I4)
        + _el("supplier-id", event.supplier_id, _I4)
        + f"{_I3}</order-status-updated>\n"
    )


def render_entry(event: Event) -> str:
    """One ``<entry>``; the entry title is decoration, the content element is what counts."""
    if isinstance(event, OrderCreatedEvent):
        title, content = "Dropship Order Created", _order_created(event.order)
    else:
        title, content = "Dropship Order Status Updated", _order_status_updated(event)
    stamp = format_timestamp(event.timestamp)
    return (
        "    <entry>\n"
        f"        <id>{escape(event.entry_id)}</id>\n"
        f'        <title type="text">{title}</title>\n'
        f"        <published>{stamp}</published>\n"
        f"        <updated>{stamp}</updated>\n"
        '        <content type="application/xml">\n'
        f"{content}"
        "        </content>\n"
        "    </entry>\n"
    )


def _link(rel: str, href: str) -> str:
    return f"    <link rel={quoteattr(rel)} href={quoteattr(href)} />\n"


def render_page(
    *,
    feed_url: str,
    page_id: str,
    updated: int,
    prev_page_id: str | None,
    next_page_id: str | None,
    events_newest_first: Sequence[Event],
) -> bytes:
    """A whole feed page. ``feed_url`` is the public ``.../Suppliers({id})/Notifications``."""
    links = _link("current", feed_url) + _link("self", f"{feed_url}/Pages({page_id})")
    if next_page_id is not None:
        links += _link("next-archive", f"{feed_url}/Pages({next_page_id})")
    if prev_page_id is not None:
        links += _link("prev-archive", f"{feed_url}/Pages({prev_page_id})")
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        '    <title type="text">Dropship Order Event Feed</title>\n'
        f"    <id>urn:uuid:{page_id}</id>\n"
        f"    <updated>{format_timestamp(updated)}</updated>\n"
        "    <author>\n"
        "        <name>iQmetrix</name>\n"
        "    </author>\n"
        f"{links}" + "".join(render_entry(event) for event in events_newest_first) + "</feed>\n"
    )
    return text.encode("utf-8")
