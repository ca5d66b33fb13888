"""The typed feed parser, read as a specification: what each part of a feed page becomes.

The two fixtures are the spec's example pages, verbatim (iQmetrix's Supplier Orders API reference). Variants of
them are built here with lxml: other prefixes, other member order, unknown members and events.
"""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from iqmetrix_dropship import (
    FeedEntry,
    FeedLinks,
    FeedPage,
    FeedParseError,
    ItemInformation,
    ItemStatus,
    OrderCreated,
    OrderItem,
    OrderStatusUpdated,
    Seller,
    ShippingAddress,
    ShippingCustomer,
    UnknownEvent,
)
from iqmetrix_dropship.feed import DEFAULT_MAX_FEED_BYTES, PageScan, parse_feed, scan_entry_ids
from iqmetrix_dropship.feed._construct import Blueprint

FIXTURES = Path(__file__).parent / "fixtures"
CURRENT = (FIXTURES / "current_page.xml").read_bytes()
ARCHIVE = (FIXTURES / "archive_page.xml").read_bytes()

ATOM = "http://www.w3.org/2005/Atom"
DROPSHIP = "urn:iQmetrix:dropship"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
A, D = f"{{{ATOM}}}", f"{{{DROPSHIP}}}"
PAGES = "https://dropship.iqmetrix.net/v1/Suppliers(60455)/Notifications"

ORDER_ID = UUID("32cb2b46-fb26-48c8-9b8f-67ed759e2599")
ODD_ENTRY_ID = "urn:uuid:gf456fd486-df4s56g-d45fdsf-f74ds8fds456fs"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


# Building documents ---------------------------------------------------------------------------


def feed(*entries: str, head: str = "<id>urn:uuid:page</id>") -> bytes:
    """A small page around ``entries`` (each an ``<entry>`` string), Atom as default namespace."""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="{ATOM}">{head}{"".join(entries)}</feed>').encode()


def entry(content: str, *, entry_id: str = "urn:uuid:e1", extra: str = "") -> str:
    return (
        f"<entry><id>{entry_id}</id><title>t</title><published>2015-10-23T21:37:31Z</published>"
        f'<updated>2015-10-23T21:37:31Z</updated>{extra}<content type="application/xml">{content}'
        "</content></entry>"
    )


def created(members: str) -> str:
    return f'<order-created xmlns="{DROPSHIP}" xmlns:i="{XSI}">{members}</order-created>'


def status_updated(members: str) -> str:
    return f'<order-status-updated xmlns="{DROPSHIP}" xmlns:i="{XSI}">{members}</order-status-updated>'


def order(members: str = "", order_id: str = str(ORDER_ID)) -> bytes:
    """A page with one order-created event holding ``members`` besides its order id."""
    return feed(entry(created(f"<order-id>{order_id}</order-id>{members}")))


def first_event(data: bytes) -> Any:
    return parse_feed(data).entries[0].event


def rewritten(
    data: bytes,
    *,
    prefixes: dict[str, str],
    reorder: bool = False,
    extras: bool = False,
) -> bytes:
    """``data`` rebuilt with other namespace prefixes, members reversed, unknown members added.

    The order of entries and of the items of a list is kept: that order means something.
    """
    source = etree.fromstring(data)
    nsmap = {prefix: uri for prefix, uri in prefixes.items()}

    def copy_into(element: etree._Element, parent: etree._Element | None) -> etree._Element:
        new = etree.Element(element.tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, element.tag)
        for name, value in element.attrib.items():
            new.set(name, value)
        new.text = element.text
        children = list(element)
        local = etree.QName(element).localname
        if reorder and local == "feed":
            entries = [child for child in children if etree.QName(child).localname == "entry"]
            children = entries + [child for child in reversed(children) if child not in entries]
        elif reorder and local != "items":
            children.reverse()
        for child in children:
            copy_into(child, new)
        if extras:
            _add_unknown_members(new, local)
        return new

    root = copy_into(source, None)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _add_unknown_members(element: etree._Element, local: str) -> None:
    """Members a later version of the feed might add (traps.md 20): all must be ignored."""
    if local == "feed":
        etree.SubElement(element, f"{A}generator").text = "iQmetrix"
        etree.SubElement(element, "{urn:example:other}extension").text = "x"
    elif local == "entry":
        etree.SubElement(element, f"{A}category").set("term", "orders")
        etree.SubElement(element, f"{A}summary").text = "Dropship Order Created"
    elif local in ("order-created", "order-status-updated"):
        etree.SubElement(element, f"{D}new-member").text = "42"
        # An unknown section whose children share names with known members: not read.
        section = etree.SubElement(element, f"{D}new-section")
        etree.SubElement(section, f"{D}order-id").text = "not-a-guid"
        etree.SubElement(section, f"{D}supplier-id").text = "not-a-number"
    elif local in ("order-item", "item-information", "seller", "shipping-address"):
        etree.SubElement(element, f"{D}loyalty-points").text = "12"
        etree.SubElement(element, "{urn:example:other}quantity").text = "not-a-number"
    elif local == "items":
        etree.SubElement(element, f"{D}gift-card").text = "not an item"


# The spec's current page -----------------------------------------------------------------------


def test_current_page_has_the_documented_feed_header() -> None:
    page = parse_feed(CURRENT)

    assert page.id == "urn:uuid:f1be4a74-508f-4159-b3f1-c6efe76c03e4"
    assert page.title == "Dropship Order Event Feed"
    assert page.updated == utc(2015, 10, 23, 21, 37, 34)


def test_current_page_links_are_kept_as_received_with_their_page_ids() -> None:
    page = parse_feed(CURRENT)

    assert page.links == FeedLinks(
        current=PAGES,
        self=f"{PAGES}/Pages(f1be4a74-508f-4159-b3f1-c6efe76c03e4)",
        prev_archive=f"{PAGES}/Pages(e1697c26-23e2-4bc7-8f6c-494c6034d9e2)",
        next_archive=None,
    )
    assert page.page_id == "f1be4a74-508f-4159-b3f1-c6efe76c03e4"
    assert page.prev_archive_page_id == "e1697c26-23e2-4bc7-8f6c-494c6034d9e2"
    assert page.next_archive_page_id is None


def test_current_page_entries_keep_the_document_order_newest_first() -> None:
    page = parse_feed(CURRENT)

    assert [entry.id for entry in page.entries] == [
        "urn:uuid:9e5a279b-9583-4d51-b3fa-00d0d146986a",
        ODD_ENTRY_ID,
    ]
    assert [type(entry.event) for entry in page.entries] == [OrderCreated, OrderStatusUpdated]
    newest, older = (entry.published for entry in page.entries)
    assert newest is not None
    assert older is not None
    assert newest > older


def test_an_entry_id_that_is_not_a_uuid_is_kept_as_the_opaque_string() -> None:
    entry = parse_feed(CURRENT).entries[1]

    assert entry.id == ODD_ENTRY_ID
    assert entry.title == "Dropship Order Status Updated"


def test_entry_timestamps_are_aware_utc() -> None:
    entry = parse_feed(CURRENT).entries[0]

    assert entry.published == entry.updated == utc(2015, 10, 23, 21, 37, 31)
    assert entry.published is not None
    assert entry.published.utcoffset() == timedelta(0)


def test_order_created_items_have_typed_quantities_and_decimal_prices() -> None:
    event = first_event(CURRENT)

    assert event.order_id == ORDER_ID
    assert event.items == [
        OrderItem(
            catalog_id="18e039de-f950-4d8e-a48a-d06e4db55a07",
            description="Some Item",
            quantity=1,
            selling_price=Decimal("100"),
            sku="AB-JH0786-MI",
        ),
        OrderItem(
            catalog_id="736fae29-88e2-4360-8b0e-d2e3d3254c06",
            description="Another Item",
            quantity=2,
            selling_price=Decimal("42"),
            sku="EM-JH073-MI",
        ),
    ]
    second = event.items[1]
    assert type(second.quantity) is int
    assert type(second.selling_price) is Decimal
    assert second.selling_price == Decimal("42")


def test_order_created_seller_store_delivery_method_and_supplier() -> None:
    event = first_event(CURRENT)

    assert event.seller == Seller(company_id=33772, location_id=33773, po_reference="ABC123N1", printable_id="98764531")
    assert event.ship_to_store is True
    assert event.shipping_method == "123"
    assert event.supplier_id == 60455
    assert type(event.seller.company_id) is int


def test_order_created_shipping_address_nil_members_are_none() -> None:
    address = first_event(CURRENT).shipping_address

    assert address == ShippingAddress(
        address_id="00000000-0000-0000-0000-000000000000",
        attention_to="Bob Eh",
        country="Canada",
        country_code="CA",
        locality="Moosejaw",
        notes=None,
        phone=None,
        post_office_box_number=None,
        postal_code="S6J1N2",
        region="Saskatchewan",
        region_code="SK",
        street_address_1="742 Evergreen Terrace",
        street_address_2=None,
        type=None,
    )


def test_order_created_shipping_customer() -> None:
    customer = first_event(CURRENT).shipping_customer

    assert customer == ShippingCustomer(
        alternate_name=None,
        customer_id="3da9470e-f1b2-4a1a-bd47-5bf18fe2d1ab",
        family_name="Eh",
        middle_name=None,
        notes=None,
        primary_name="Bob",
        title=None,
        type="Person",
    )


def test_order_status_updated_from_the_current_page() -> None:
    event = parse_feed(CURRENT).entries[1].event

    assert event == OrderStatusUpdated(
        order_id=ORDER_ID,
        company_id=50068,
        supplier_id=60455,
        items=[
            ItemInformation(
                catalog_id="18e039de-f950-4d8e-a48a-d06e4db55a07",
                info=None,
                message=None,
                product_name=None,
                quantity=1,
                status=ItemStatus.OTHER,
                sku="AB-JH0786-MI",
                shipping_provider="Purolator",
                tracking_info=None,
            )
        ],
    )
    assert event.items[0].status is ItemStatus.OTHER


# The spec's archive page -----------------------------------------------------------------------


def test_archive_page_links_name_both_neighbours() -> None:
    page = parse_feed(ARCHIVE)

    assert page.id == "urn:uuid:e1697c26-23e2-4bc7-8f6c-494c6034d9e2"
    assert page.links.current == PAGES
    assert page.links.self == f"{PAGES}/Pages(e1697c26-23e2-4bc7-8f6c-494c6034d9e2)"
    assert page.links.next_archive == f"{PAGES}/Pages(f1be4a74-508f-4159-b3f1-c6efe76c03e4)"
    assert page.links.prev_archive == f"{PAGES}/Pages(b59ded0f-0119-4c49-9113-93862e24eac6)"
    assert page.page_id == "e1697c26-23e2-4bc7-8f6c-494c6034d9e2"
    assert page.next_archive_page_id == "f1be4a74-508f-4159-b3f1-c6efe76c03e4"
    assert page.prev_archive_page_id == "b59ded0f-0119-4c49-9113-93862e24eac6"


def test_archive_page_item_information_has_every_member() -> None:
    page = parse_feed(ARCHIVE)
    [entry] = page.entries

    assert entry.id == "urn:uuid:b77ef04c-8dd4-4fba-b8c4-10de4bccbeb3"
    assert entry.published == entry.updated == utc(2015, 7, 8, 20, 20, 45)
    assert isinstance(entry.event, OrderStatusUpdated)
    assert entry.event.order_id == UUID("503ed5af-fe26-4d60-9b4f-8d5a708c761b")
    assert entry.event.company_id == 29796
    [item] = entry.event.items
    assert item.info == "Additional info"
    assert item.message == "Message"
    assert item.status is ItemStatus.SHIPPED
    assert item.tracking_info == "8979876"
    assert item.shipping_provider == "UPS"
    assert item.sku == "GB40030"
    assert item.catalog_id == "30cece9f-a90d-4f51-b33f-0aa663371658"
    assert item.product_name is None  # never in the feed (traps.md 27)


# The cheap scan ----------------------------------------------------------------------------------


def test_scan_of_the_current_page_reads_ids_and_links_only() -> None:
    scan = scan_entry_ids(CURRENT)

    assert scan == PageScan(
        page_id="f1be4a74-508f-4159-b3f1-c6efe76c03e4",
        prev_archive_page_id="e1697c26-23e2-4bc7-8f6c-494c6034d9e2",
        next_archive_page_id=None,
        entry_ids=["urn:uuid:9e5a279b-9583-4d51-b3fa-00d0d146986a", ODD_ENTRY_ID],
    )


def test_scan_of_the_archive_page_names_both_neighbours() -> None:
    scan = scan_entry_ids(ARCHIVE)

    assert scan.page_id == "e1697c26-23e2-4bc7-8f6c-494c6034d9e2"
    assert scan.next_archive_page_id == "f1be4a74-508f-4159-b3f1-c6efe76c03e4"
    assert scan.prev_archive_page_id == "b59ded0f-0119-4c49-9113-93862e24eac6"
    assert scan.entry_ids == ["urn:uuid:b77ef04c-8dd4-4fba-b8c4-10de4bccbeb3"]


def test_scan_does_not_read_events() -> None:
    # A broken event is parse_feed's to find; the walk back only needs the ids.
    page = feed(entry(created("<order-id>not-a-guid</order-id>"), entry_id="urn:x:1"))

    assert scan_entry_ids(page).entry_ids == ["urn:x:1"]
    with pytest.raises(FeedParseError):
        parse_feed(page)


def test_scan_result_is_frozen() -> None:
    scan = scan_entry_ids(CURRENT)

    with pytest.raises(AttributeError):
        scan.page_id = "other"  # type: ignore[misc]


# Namespaces, order and unknown members --------------------------------------------------------


@pytest.mark.parametrize("fixture", [CURRENT, ARCHIVE], ids=["current", "archive"])
@pytest.mark.parametrize(
    "prefixes",
    [
        {"a": ATOM, "d": DROPSHIP, "xsi": XSI},
        {"d": ATOM, "a": DROPSHIP, "i": XSI},  # the prefixes swapped: they mean nothing
        {None: DROPSHIP, "atom": ATOM, "nil": XSI},
    ],
    ids=["a-d-xsi", "swapped", "dropship-default"],
)
def test_other_prefixes_read_the_same_values(fixture: bytes, prefixes: dict[str, str]) -> None:
    variant = rewritten(fixture, prefixes=prefixes)

    assert b"<feed" not in variant  # the rewrite really changed the prefixes
    assert parse_feed(variant) == parse_feed(fixture)
    assert scan_entry_ids(variant) == scan_entry_ids(fixture)


@pytest.mark.parametrize("fixture", [CURRENT, ARCHIVE], ids=["current", "archive"])
def test_members_in_any_order_read_the_same_values(fixture: bytes) -> None:
    variant = rewritten(fixture, prefixes={"a": ATOM, "d": DROPSHIP, "xsi": XSI}, reorder=True)

    tree = etree.fromstring(variant)
    first_member = tree.find(f"{A}entry/{A}content/*/*")
    assert first_member is not None
    assert first_member.tag != f"{D}items"  # alphabetical order is gone
    assert parse_feed(variant) == parse_feed(fixture)


@pytest.mark.parametrize("fixture", [CURRENT, ARCHIVE], ids=["current", "archive"])
def test_unknown_members_at_every_level_are_ignored(fixture: bytes) -> None:
    variant = rewritten(fixture, prefixes={"a": ATOM, "d": DROPSHIP, "xsi": XSI}, reorder=True, extras=True)

    for added in (b"new-section", b"loyalty-points", b"gift-card", b"generator", b"category"):
        assert added in variant
    assert parse_feed(variant) == parse_feed(fixture)
    assert scan_entry_ids(variant) == scan_entry_ids(fixture)


def test_an_unknown_event_type_is_kept_with_its_name_and_xml() -> None:
    cancelled = (
        f'<order-cancelled xmlns="{DROPSHIP}" xmlns:i="{XSI}"><order-id>{ORDER_ID}</order-id>'
        '<reason i:nil="true"/></order-cancelled>'
    )
    [entry_] = parse_feed(feed(entry(cancelled))).entries

    event = entry_.event
    assert isinstance(event, UnknownEvent)
    assert event.event_type == "unknown"
    assert event.name == "order-cancelled"
    assert event.namespace == DROPSHIP
    reparsed = etree.fromstring(event.xml)
    assert reparsed.tag == f"{D}order-cancelled"
    assert reparsed.findtext(f"{D}order-id") == str(ORDER_ID)
    assert reparsed.find(f"{D}reason").get(f"{{{XSI}}}nil") == "true"  # type: ignore[union-attr]
    assert not event.xml.endswith((" ", "\n"))  # the element alone, without its tail


def test_a_known_name_in_another_namespace_is_an_unknown_event() -> None:
    foreign = f'<order-created xmlns="urn:example:other"><order-id>{ORDER_ID}</order-id></order-created>'

    event = first_event(feed(entry(foreign)))

    assert isinstance(event, UnknownEvent)
    assert (event.name, event.namespace) == ("order-created", "urn:example:other")


def test_an_event_in_no_namespace_is_an_unknown_event() -> None:
    event = first_event(feed(entry(f'<order-created xmlns=""><order-id>{ORDER_ID}</order-id></order-created>')))

    assert isinstance(event, UnknownEvent)
    assert (event.name, event.namespace) == ("order-created", None)


def test_the_event_type_comes_from_the_content_never_from_the_title() -> None:
    members = f"<order-id>{ORDER_ID}</order-id><company-id>1</company-id>"
    page = feed(entry(status_updated(members)).replace("<title>t</title>", "<title>Dropship Order Created</title>"))

    assert isinstance(first_event(page), OrderStatusUpdated)


def test_an_unknown_item_status_is_kept_as_its_string() -> None:
    items = (
        "<items><item-information><sku>A</sku><status>LostInTransit</status></item-information>"
        "<item-information><sku>B</sku><status>Shipped </status></item-information>"
        "<item-information><sku>C</sku><status>shipped</status></item-information>"
        "<item-information><sku>D</sku><status>BackOrdered</status></item-information></items>"
    )
    event = first_event(feed(entry(status_updated(f"<order-id>{ORDER_ID}</order-id>{items}"))))

    assert [item.status for item in event.items] == [
        "LostInTransit",
        "Shipped ",
        "shipped",
        ItemStatus.BACK_ORDERED,
    ]
    assert type(event.items[0].status) is str


def test_items_keep_their_order_and_ignore_other_children() -> None:
    items = "".join(f"<order-item><quantity>{n}</quantity><sku>S{n}</sku></order-item>" for n in (3, 1, 2))
    event = first_event(order(f"<items>{items}<note>x</note></items>"))

    assert [(item.sku, item.quantity) for item in event.items] == [("S3", 3), ("S1", 1), ("S2", 2)]


# Nil, empty and odd text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ('<notes i:nil="true" />', None),
        ('<notes i:nil="1"/>', None),
        ('<notes i:nil=" true "/>', None),
        ("<notes/>", ""),
        ("<notes></notes>", ""),
        ('<notes i:nil="false"/>', ""),
        ('<notes nil="true"/>', ""),  # not the XMLSchema-instance namespace: not nil
        ("<notes>   </notes>", "   "),  # blanks are a value, not layout
        ("<notes> Leave at door </notes>", " Leave at door "),  # strings are kept as received
        ("<notes>AB<!-- a comment -->CD</notes>", "ABCD"),
        ("<notes><![CDATA[<b>fragile</b> & heavy]]></notes>", "<b>fragile</b> & heavy"),
        ("<notes>caf\u00e9 \u2013 \U0001f4e6</notes>", "caf\u00e9 \u2013 \U0001f4e6"),
        ("<notes>&lt;&amp;&#65;</notes>", "<&A"),
    ],
)
def test_string_members_nil_empty_and_text(element: str, expected: str | None) -> None:
    event = first_event(order(f"<shipping-address>{element}<country>CA</country></shipping-address>"))

    assert event.shipping_address.notes == expected
    assert event.shipping_address.country == "CA"


def test_nil_typed_members_are_none() -> None:
    members = (
        '<seller><company-id i:nil="true"/><location-id>5</location-id></seller>'
        '<ship-to-store i:nil="true"/><supplier-id i:nil="true"/>'
    )
    event = first_event(order(members))

    assert event.seller.company_id is None
    assert event.seller.location_id == 5
    assert event.ship_to_store is None
    assert event.supplier_id is None


def test_absent_sections_take_their_defaults() -> None:
    event = first_event(order())

    assert event.items == []
    assert event.seller == Seller()
    assert event.shipping_address == ShippingAddress()
    assert event.shipping_customer == ShippingCustomer()
    assert event.ship_to_store is None


def test_defaults_are_not_shared_between_events() -> None:
    page = parse_feed(
        feed(
            entry(created(f"<order-id>{ORDER_ID}</order-id>")),
            entry(created(f"<order-id>{ORDER_ID}</order-id>"), entry_id="urn:x:2"),
        )
    )

    assert page.entries[0].event.items is not page.entries[1].event.items  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("false", False), ("True", True), ("FALSE", False), ("1", True), ("0", False), (" true ", True)],
)
def test_ship_to_store_booleans(text: str, expected: bool) -> None:
    assert first_event(order(f"<ship-to-store>{text}</ship-to-store>")).ship_to_store is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", Decimal("42")),
        ("42.50", Decimal("42.50")),
        ("0.1", Decimal("0.1")),
        ("-3", Decimal("-3")),
        (" 7 ", Decimal("7")),
        (".5", Decimal("0.5")),
    ],
)
def test_selling_price_is_an_exact_decimal(text: str, expected: Decimal) -> None:
    item = first_event(
        order(f"<items><order-item><quantity>1</quantity><selling-price>{text}</selling-price></order-item></items>")
    ).items[0]

    assert item.selling_price == expected
    assert str(item.selling_price) == str(expected)  # no float rounding: 0.1 stays 0.1


@pytest.mark.parametrize("text", ["1", " 2 ", "+3", "007", "2147483648", "9223372036854775807", "-9223372036854775808"])
def test_integers_accept_xml_schema_spellings(text: str) -> None:
    assert first_event(order(f"<supplier-id>{text}</supplier-id>")).supplier_id == int(text)


def test_order_id_accepts_the_guid_forms_dotnet_writes() -> None:
    for text in (
        "32CB2B46-FB26-48C8-9B8F-67ED759E2599",
        "{32cb2b46-fb26-48c8-9b8f-67ed759e2599}",
        "32cb2b46fb2648c89b8f67ed759e2599",
    ):
        assert first_event(order(order_id=text)).order_id == ORDER_ID


def test_ids_other_than_the_order_id_stay_opaque_strings() -> None:
    members = (
        "<items><order-item><catalog-id>dbc2577a-021f-4bbf-8289</catalog-id><quantity>1</quantity></order-item></items>"
        "<shipping-address><address-id>not-a-guid</address-id></shipping-address>"
        "<shipping-customer><customer-id>12345</customer-id></shipping-customer>"
        "<shipping-method>UPS-GROUND</shipping-method>"
    )
    event = first_event(order(members))

    assert event.items[0].catalog_id == "dbc2577a-021f-4bbf-8289"
    assert event.shipping_address.address_id == "not-a-guid"
    assert event.shipping_customer.customer_id == "12345"
    assert event.shipping_method == "UPS-GROUND"


# Values that do not fit: FeedParseError, naming the entry and the element ----------------------


@pytest.mark.parametrize(
    ("members", "element", "reason"),
    [
        ("<ship-to-store>yes</ship-to-store>", "ship-to-store", "not a boolean"),
        ("<supplier-id>60455.0</supplier-id>", "supplier-id", "not an integer"),
        ("<supplier-id>1_000</supplier-id>", "supplier-id", "not an integer"),
        ("<supplier-id>\u0661\u0662</supplier-id>", "supplier-id", "not an integer"),  # Arabic-Indic digits
        ("<supplier-id></supplier-id>", "supplier-id", "not an integer"),
        ("<supplier-id>99999999999999999999999</supplier-id>", "supplier-id", "not an integer"),
        # Nineteen digits, past .NET's Int64 (and SQLite's INTEGER): no value the server can have written.
        ("<supplier-id>9223372036854775808</supplier-id>", "supplier-id", "out of the range of a 64-bit integer"),
        ("<supplier-id>-9223372036854775809</supplier-id>", "supplier-id", "out of the range of a 64-bit integer"),
        (
            "<items><order-item><quantity>9999999999999999999</quantity></order-item></items>",
            "quantity",
            "out of the range of a 64-bit integer",
        ),
        ("<seller><company-id>ABC</company-id></seller>", "company-id", "not an integer"),
        ("<items><order-item><quantity>two</quantity></order-item></items>", "quantity", "not an integer"),
        (
            "<items><order-item><quantity>1</quantity><selling-price>NaN</selling-price></order-item></items>",
            "selling-price",
            "not a decimal",
        ),
        (
            "<items><order-item><quantity>1</quantity><selling-price>1e3</selling-price></order-item></items>",
            "selling-price",
            "not a decimal",
        ),
        (
            "<items><order-item><quantity>1</quantity><selling-price>12,50</selling-price></order-item></items>",
            "selling-price",
            "not a decimal",
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_entry_and_element(members: str, element: str, reason: str) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(order(members))

    assert caught.value.entry_id == "urn:uuid:e1"
    assert caught.value.element == element
    assert reason in str(caught.value)
    assert "urn:uuid:e1" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "not-a-guid",
        "urn:uuid:gf456fd486-df4s56g-d45fdsf-f74ds8fds456fs",
        "",
        "32cb2b46-fb26-48c8-9b8f",
        "urn:uuid:32cb2b46-fb26-48c8-9b8f-67ed759e2599",  # an Atom id form, not a .NET Guid
        "{32cb2b46-fb26-48c8-9b8f-67ed759e2599",  # an unclosed brace
        "32cb2b46-fb2648c8-9b8f-67ed759e2599",  # hyphens in some places only
        "--32cb2b46fb2648c89b8f67ed759e2599",
        "32cb2b46-fb26-48c8-9b8f-67ed759e2599-0",
    ],
)
def test_a_malformed_order_id_names_entry_and_element(text: str) -> None:
    with pytest.raises(FeedParseError, match="not a GUID") as caught:
        parse_feed(order(order_id=text))

    assert (caught.value.entry_id, caught.value.element) == ("urn:uuid:e1", "order-id")


@pytest.mark.parametrize(
    "content",
    [
        created("<supplier-id>1</supplier-id>"),
        created('<order-id i:nil="true"/>'),
        status_updated("<company-id>1</company-id>"),
    ],
)
def test_an_event_without_its_order_id_is_refused(content: str) -> None:
    with pytest.raises(FeedParseError, match="has no <order-id>") as caught:
        parse_feed(feed(entry(content)))

    assert (caught.value.entry_id, caught.value.element) == ("urn:uuid:e1", "order-id")


def test_an_order_item_without_quantity_is_refused() -> None:
    with pytest.raises(FeedParseError, match="<order-item> has no <quantity>") as caught:
        parse_feed(order("<items><order-item><sku>A</sku></order-item></items>"))

    assert caught.value.element == "quantity"


def test_a_long_bad_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(order(f"<supplier-id>{'9' * 5000}x</supplier-id>"))

    assert len(str(caught.value)) < 300
    assert "5001 characters" in str(caught.value)


# The Atom layer ----------------------------------------------------------------------------------


def test_a_feed_without_id_is_refused() -> None:
    for parse in (parse_feed, scan_entry_ids):
        with pytest.raises(FeedParseError, match="has no <id>"):
            parse(feed(head="<title>x</title>"))


def test_an_entry_without_id_is_refused_saying_which_entry() -> None:
    page = feed(
        entry(created(f"<order-id>{ORDER_ID}</order-id>")),
        entry(created(f"<order-id>{ORDER_ID}</order-id>"), entry_id=" "),
    )

    for parse in (parse_feed, scan_entry_ids):
        with pytest.raises(FeedParseError, match="entry #2 of the page has no <id>"):
            parse(page)


@pytest.mark.parametrize(
    "member", ["<id>urn:x:again</id>", '<content type="application/xml"/>', "<updated>2015-10-23T21:37:31Z</updated>"]
)
def test_an_entry_with_a_duplicated_atom_member_is_refused(member: str) -> None:
    page = feed(entry(created(f"<order-id>{ORDER_ID}</order-id>"), extra=member))

    with pytest.raises(FeedParseError, match="more than one"):
        parse_feed(page)


def test_a_feed_with_two_ids_is_refused_by_parse_and_scan() -> None:
    page = feed(head="<id>urn:a</id><id>urn:b</id>")

    for parse in (parse_feed, scan_entry_ids):
        with pytest.raises(FeedParseError, match="more than one <id>"):
            parse(page)


def test_an_entry_without_content_is_refused() -> None:
    page = feed("<entry><id>urn:x:1</id></entry>")

    with pytest.raises(FeedParseError, match="no <content>") as caught:
        parse_feed(page)
    assert caught.value.entry_id == "urn:x:1"


def test_an_entry_may_lack_title_and_timestamps() -> None:
    page = feed(f"<entry><id>urn:x:1</id><content>{created(f'<order-id>{ORDER_ID}</order-id>')}</content></entry>")

    [entry_] = parse_feed(page).entries
    assert (entry_.title, entry_.published, entry_.updated) == (None, None, None)


def test_links_of_other_rels_or_without_rel_are_ignored() -> None:
    head = (
        "<id>urn:p</id>"
        f'<link href="{PAGES}/Pages(aaaa)"/>'
        f'<link rel="alternate" href="{PAGES}/Pages(bbbb)"/>'
        f'<link rel=" prev-archive " href="{PAGES}/Pages(cccc)"/>'
        '<link rel="self"/>'
    )
    page = parse_feed(feed(head=head))

    assert page.links == FeedLinks(prev_archive=f"{PAGES}/Pages(cccc)")
    assert page.prev_archive_page_id == "cccc"
    assert page.page_id is None


def test_a_link_to_another_host_is_kept_as_received() -> None:
    # The href is kept verbatim; only its Pages(...) id is ever followed (traps.md 4).
    href = "http://evil.example/v1/Suppliers(1)/Notifications/Pages(0b05f9fb-1210-4494-b654-d051948716b4)"
    page = parse_feed(feed(head=f'<id>urn:p</id><link rel="prev-archive" href="{href}"/>'))

    assert page.links.prev_archive == href
    assert page.prev_archive_page_id == "0b05f9fb-1210-4494-b654-d051948716b4"


def test_an_empty_feed_has_no_entries() -> None:
    page = parse_feed(feed())

    assert (page.id, page.title, page.updated, page.entries) == ("urn:uuid:page", None, None, [])
    assert page.links == FeedLinks()


# Timestamps (traps.md 28) -----------------------------------------------------------------------

MOMENT = utc(2015, 10, 23, 21, 37, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-10-23T21:37:31Z", MOMENT),
        ("2015-10-23T21:37:31z", MOMENT),
        ("2015-10-23T21:37:31+00:00", MOMENT),
        ("2015-10-23T21:37:31-00:00", MOMENT),
        ("2015-10-23T15:37:31-06:00", MOMENT),
        ("2015-10-24T03:07:31+05:30", MOMENT),
        ("2015-10-23T23:37:31+0200", MOMENT),
        ("2015-10-23T21:37:31", MOMENT),  # naive means UTC
        ("2015-10-23 21:37:31", MOMENT),
        (" 2015-10-23T21:37:31Z\n", MOMENT),
        ("2015-10-23T21:37:31.123Z", MOMENT.replace(microsecond=123000)),
        ("2015-10-23T21:37:31.123", MOMENT.replace(microsecond=123000)),
        ("2015-10-23T21:37:31.1234567Z", MOMENT.replace(microsecond=123456)),  # truncated, not rounded
        ("2015-10-23T21:37:31.9999999+00:00", MOMENT.replace(microsecond=999999)),
        ("2015-10-23T21:37:31.1234567", MOMENT.replace(microsecond=123456)),
        ("2015-10-23T15:37:31.1234567-06:00", MOMENT.replace(microsecond=123456)),
        ("2015-10-23T21:37:31.5Z", MOMENT.replace(microsecond=500000)),
        ("2015-10-23T21:37:31.123456Z", MOMENT.replace(microsecond=123456)),
        ("2015-10-23T21:37Z", MOMENT.replace(second=0)),
    ],
)
def test_timestamp_variants_are_read_as_aware_utc(text: str, expected: datetime) -> None:
    page = feed(
        entry(created(f"<order-id>{ORDER_ID}</order-id>")).replace(
            "2015-10-23T21:37:31Z</published>", f"{text}</published>"
        )
    )

    published = parse_feed(page).entries[0].published

    assert published == expected
    assert published is not None
    assert published.tzinfo is timezone.utc


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2015-10-23",
        "2015-02-30T21:37:31Z",
        "2015-10-23T24:00:00Z",
        "2015-10-23T21:61:00Z",
        "2015-10-23T21:37:31+24:00",
        "2015-10-23T21:37:31+05:60",
        "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
        "2015-10-23T21:37:31ZZ",
        "\u0662\u0660\u0661\u0665-10-23T21:37:31Z",
    ],
)
def test_a_bad_timestamp_names_entry_and_element(text: str) -> None:
    page = feed(
        entry(created(f"<order-id>{ORDER_ID}</order-id>")).replace(
            "2015-10-23T21:37:31Z</updated>", f"{text}</updated>"
        )
    )

    with pytest.raises(FeedParseError) as caught:
        parse_feed(page)

    assert (caught.value.entry_id, caught.value.element) == ("urn:uuid:e1", "updated")


def test_a_bad_feed_timestamp_is_refused() -> None:
    with pytest.raises(FeedParseError, match="not an ISO 8601 timestamp") as caught:
        parse_feed(feed(head="<id>urn:p</id><updated>soon</updated>"))
    assert caught.value.element == "updated"


# Input handling -------------------------------------------------------------------------------


def test_a_page_in_utf16_reads_the_same() -> None:
    text = CURRENT.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"')

    assert parse_feed(text.encode("utf-16")) == parse_feed(CURRENT)


def test_bytearray_and_memoryview_are_accepted() -> None:
    assert parse_feed(bytearray(CURRENT)) == parse_feed(memoryview(CURRENT)) == parse_feed(CURRENT)  # type: ignore[arg-type]


def test_text_instead_of_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        parse_feed(CURRENT.decode())  # type: ignore[arg-type]


def test_the_size_cap_is_inclusive() -> None:
    assert parse_feed(CURRENT, max_bytes=len(CURRENT)).id
    assert scan_entry_ids(CURRENT, max_bytes=len(CURRENT)).entry_ids
    for parse in (parse_feed, scan_entry_ids):
        with pytest.raises(FeedParseError, match=f"{len(CURRENT)} bytes, over the {len(CURRENT) - 1} cap"):
            parse(CURRENT, max_bytes=len(CURRENT) - 1)


def test_the_default_cap_leaves_room_for_a_full_page() -> None:
    assert DEFAULT_MAX_FEED_BYTES >= 50 * 200_000


def test_parsing_from_many_threads_at_once_gives_the_same_pages() -> None:
    expected = [parse_feed(CURRENT), parse_feed(ARCHIVE)]
    barrier = threading.Barrier(8)

    def parse_many(index: int) -> list[FeedPage]:
        barrier.wait()
        return [parse_feed(CURRENT if (index + n) % 2 == 0 else ARCHIVE) for n in range(100)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(parse_many, range(8)))

    for index, pages in enumerate(results):
        assert pages == [expected[(index + n) % 2] for n in range(100)]


# The models the parser builds are the models validation would build --------------------------


@pytest.mark.parametrize("fixture", [CURRENT, ARCHIVE], ids=["current", "archive"])
def test_parsed_models_equal_validated_models(fixture: bytes) -> None:
    page = parse_feed(fixture)

    validated = FeedPage.model_validate(page.model_dump())

    assert validated == page
    assert repr(validated) == repr(page)  # same values, same field order
    assert validated.model_dump_json() == page.model_dump_json()


def test_parsed_models_are_frozen_and_copyable() -> None:
    page = parse_feed(CURRENT)
    event = page.entries[0].event
    assert isinstance(event, OrderCreated)

    with pytest.raises(ValidationError):
        event.supplier_id = 1  # type: ignore[misc]
    changed = event.model_copy(update={"supplier_id": 1})
    assert (changed.supplier_id, event.supplier_id) == (1, 60455)
    assert copy.deepcopy(page) == page


class _Aliased(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: str = Field(alias="Value")


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (
            OrderItem,
            {"catalog_id": "c", "description": None, "quantity": 2, "selling_price": Decimal("1.5"), "sku": "s"},
        ),
        (Seller, {"company_id": 1, "po_reference": ""}),
        (ShippingAddress, {"notes": None, "country": "CA"}),
        (ShippingCustomer, {"type": "Person"}),
        (ItemInformation, {"status": ItemStatus.SHIPPED, "quantity": 1}),
        (ItemInformation, {"status": "Unknown"}),
        (OrderCreated, {"order_id": ORDER_ID, "supplier_id": 3}),
        (OrderStatusUpdated, {"order_id": ORDER_ID, "items": []}),
        (UnknownEvent, {"name": "x", "namespace": None, "xml": "<x/>"}),
        (FeedLinks, {"self": "https://h/Pages(a)"}),
        (FeedPage, {"id": "urn:p"}),
    ],
)
def test_blueprints_build_what_validation_builds(model: type[BaseModel], values: dict[str, Any]) -> None:
    built = Blueprint(model, "x").build_from(dict(values))

    assert type(built) is model
    assert built == model.model_validate(values)
    assert repr(built) == repr(model.model_validate(values))
    assert built.model_fields_set == set(model.model_fields)


@pytest.mark.parametrize(
    "model",
    [
        OrderItem,
        Seller,
        ShippingAddress,
        ShippingCustomer,
        OrderCreated,
        ItemInformation,
        OrderStatusUpdated,
        UnknownEvent,
        FeedEntry,
        FeedLinks,
        FeedPage,
    ],
)
def test_every_feed_model_takes_the_fast_path(model: type[BaseModel]) -> None:
    # A model change that forces the model_construct fallback would halve the parser's speed.
    assert Blueprint(model, "x")._fast


class _WithFactories(BaseModel):
    model_config = ConfigDict(frozen=True)

    tags: list[str] = Field(default_factory=list)
    extra: dict[str, int] = {}
    name: str = "n"


def test_a_blueprint_gives_every_instance_its_own_mutable_defaults() -> None:
    blueprint = Blueprint(_WithFactories, "x")

    first, second = blueprint.build_from({}), blueprint.build_from({})

    assert first == second == _WithFactories()
    assert first.tags is not second.tags
    assert first.extra is not second.extra


def test_a_blueprint_of_a_model_with_aliases_falls_back_to_model_construct() -> None:
    built = Blueprint(_Aliased, "x").build_from({"value": "v"})

    assert built == _Aliased.model_construct(value="v")
    assert built.value == "v"


def test_a_blueprint_refuses_a_missing_required_field_naming_its_element() -> None:
    with pytest.raises(FeedParseError, match="<order-created> has no <order-id>") as caught:
        Blueprint(OrderCreated, "order-created").build_from({}, entry_id="urn:x")

    assert (caught.value.entry_id, caught.value.element) == ("urn:x", "order-id")


def test_every_entry_is_a_feed_entry_with_its_event() -> None:
    for fixture in (CURRENT, ARCHIVE):
        for entry_ in parse_feed(fixture).entries:
            assert type(entry_) is FeedEntry
            assert entry_.event.event_type in ("order-created", "order-status-updated")
