"""The notification feed: pages of 50, newest first, archives that never change (traps.md 21)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import ATOM, DROPSHIP, FEED, XSI_NIL, Api, Page, page_id_of, parse_page

PUBLIC_FEED = "https://dropship.iqmetrix.net/v1/Suppliers(60455)/Notifications"


def walk(api: Api) -> list[Page]:
    """Every page, current first, following prev-archive by page id."""
    pages = [api.current()]
    while (href := pages[-1].link("prev-archive")) is not None:
        pages.append(api.page(page_id_of(href)))
    return pages


def test_120_events_make_a_current_page_of_20_and_two_archives_of_50(api: Api) -> None:
    pages = walk(api)

    assert [len(page.entries) for page in pages] == [20, 50, 50]


def test_entries_are_newest_first_and_pages_go_back_in_time(api: Api, emulator: Emulator) -> None:
    seen = [entry_id for page in walk(api) for entry_id in page.entry_ids]

    assert seen == list(reversed(emulator.entry_ids()))


def test_links_of_each_page(api: Api, emulator: Emulator) -> None:
    oldest, middle, newest = emulator.page_ids()
    current, archive, first = walk(api)

    assert current.id == f"urn:uuid:{newest}"
    assert current.link("current") == PUBLIC_FEED
    assert current.link("self") == f"{PUBLIC_FEED}/Pages({newest})"
    assert current.link("prev-archive") == f"{PUBLIC_FEED}/Pages({middle})"
    assert current.link("next-archive") is None

    assert archive.link("self") == f"{PUBLIC_FEED}/Pages({middle})"
    assert archive.link("next-archive") == f"{PUBLIC_FEED}/Pages({newest})"
    assert archive.link("prev-archive") == f"{PUBLIC_FEED}/Pages({oldest})"

    assert first.link("self") == f"{PUBLIC_FEED}/Pages({oldest})"
    assert first.link("next-archive") == f"{PUBLIC_FEED}/Pages({middle})"
    assert first.link("prev-archive") is None


def test_the_current_page_is_also_served_by_its_page_id(api: Api, emulator: Emulator) -> None:
    by_id = api.get(f"{FEED}/Pages({emulator.current_page_id})")

    assert by_id.status_code == 200
    assert by_id.content == api.get(FEED).content


def test_page_ids_are_accepted_in_any_guid_spelling(api: Api, emulator: Emulator) -> None:
    page_id = emulator.page_ids()[0]

    assert api.get(f"{FEED}/Pages({page_id.upper()})").content == api.get(f"{FEED}/Pages({page_id})").content


def test_archive_bytes_do_not_change_when_events_arrive(api: Api, emulator: Emulator) -> None:
    archive_id = emulator.page_ids()[1]
    before = api.get(f"{FEED}/Pages({archive_id})").content

    emulator.place_orders(3)

    assert api.get(f"{FEED}/Pages({archive_id})").content == before


def test_the_51st_event_rolls_the_current_page_into_an_archive(api: Api, emulator: Emulator) -> None:
    emulator.place_orders(30)  # 150 events: the current page is full
    full = api.current()
    assert len(full.entries) == 50
    assert full.link("next-archive") is None

    new_order = emulator.place_order()

    archived = api.page(full.id.removeprefix("urn:uuid:"))
    assert archived.id == full.id
    assert archived.entry_ids == full.entry_ids
    assert archived.link("next-archive") is not None
    current = api.current()
    assert current.id != full.id
    assert len(current.entries) == 1
    assert page_id_of(current.link("prev-archive")) == full.id.removeprefix("urn:uuid:")
    assert page_id_of(archived.link("next-archive")) == current.id.removeprefix("urn:uuid:")
    created = Page.content(current.entries[0])
    assert created.findtext(f"{{{DROPSHIP}}}order-id") == new_order


def test_hrefs_name_the_public_host_not_the_listening_one(api: Api) -> None:
    page = api.current()

    hrefs = [link.get("href") for link in page.root.findall(f"{{{ATOM}}}link")]
    assert hrefs
    assert all(str(href).startswith("https://dropship.iqmetrix.net/v1/") for href in hrefs)


def test_the_public_host_is_configurable() -> None:
    emulator = Emulator(orders=3, public_host="https://dropshipdemo.iqmetrix.net")
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        page = Api(emulator, client).current()

    assert page.link("current") == "https://dropshipdemo.iqmetrix.net/v1/Suppliers(60455)/Notifications"


def test_feed_is_atom_xml(api: Api) -> None:
    response = api.get(FEED)

    assert response.headers["content-type"] == "application/atom+xml"
    page = parse_page(response.content)
    assert page.root.tag == f"{{{ATOM}}}feed"
    assert page.root.findtext(f"{{{ATOM}}}title") == "Dropship Order Event Feed"
    assert page.root.find(f"{{{ATOM}}}title").get("type") == "text"  # type: ignore[union-attr]
    assert page.root.findtext(f"{{{ATOM}}}author/{{{ATOM}}}name") == "iQmetrix"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", page.updated)


def test_entries_look_like_the_spec_examples(api: Api) -> None:
    titles = {"order-created": "Dropship Order Created", "order-status-updated": "Dropship Order Status Updated"}
    for page in walk(api):
        for entry in page.entries:
            content = Page.content(entry)
            name = content.tag.removeprefix(f"{{{DROPSHIP}}}")
            assert entry.findtext(f"{{{ATOM}}}title") == titles[name]
            assert entry.find(f"{{{ATOM}}}content").get("type") == "application/xml"  # type: ignore[union-attr]
            assert content.nsmap == {"i": "http://www.w3.org/2001/XMLSchema-instance", None: DROPSHIP}
            published = str(entry.findtext(f"{{{ATOM}}}published"))
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", published)
            assert entry.findtext(f"{{{ATOM}}}updated") == published


def _local_names(element: object) -> list[str]:
    return [str(child.tag).split("}")[1] for child in element]  # type: ignore[attr-defined]


def test_content_children_come_in_alphabetical_order(api: Api) -> None:
    for page in walk(api):
        for entry in page.entries:
            for element in Page.content(entry).iter():
                names = _local_names(element)
                if element.tag.endswith(("}items",)):
                    continue  # a list: repeated order-item / item-information
                assert names == sorted(names), element.tag


def test_order_created_carries_every_documented_field(api: Api) -> None:
    created = next(
        Page.content(entry)
        for page in walk(api)
        for entry in page.entries
        if Page.content(entry).tag == f"{{{DROPSHIP}}}order-created"
    )

    assert _local_names(created) == [
        "items", "order-id", "seller", "ship-to-store", "shipping-address", "shipping-customer",
        "shipping-method", "supplier-id",
    ]  # fmt: skip
    assert _local_names(created.find(f"{{{DROPSHIP}}}seller")) == [
        "company-id", "location-id", "po-reference", "printable-id"
    ]  # fmt: skip
    assert _local_names(created.find(f"{{{DROPSHIP}}}shipping-address")) == [
        "address-id", "attention-to", "country", "country-code", "locality", "notes", "phone",
        "post-office-box-number", "postal-code", "region", "region-code", "street-address-1",
        "street-address-2", "type",
    ]  # fmt: skip
    assert _local_names(created.find(f"{{{DROPSHIP}}}shipping-customer")) == [
        "alternate-name", "customer-id", "family-name", "middle-name", "notes", "primary-name",
        "title", "type",
    ]  # fmt: skip
    item = created.find(f"{{{DROPSHIP}}}items/{{{DROPSHIP}}}order-item")
    assert _local_names(item) == ["catalog-id", "description", "quantity", "selling-price", "sku"]
    uuid.UUID(str(created.findtext(f"{{{DROPSHIP}}}order-id")))
    assert created.findtext(f"{{{DROPSHIP}}}supplier-id") == "60455"
    assert created.findtext(f"{{{DROPSHIP}}}ship-to-store") in ("true", "false")


def test_nulls_are_nil_elements(api: Api) -> None:
    nils = [
        element
        for page in walk(api)
        for entry in page.entries
        for element in Page.content(entry).iter()
        if element.get(XSI_NIL) == "true"
    ]

    assert nils
    assert all(element.text is None and len(element) == 0 for element in nils)


def test_status_updates_report_items_without_product_names(api: Api) -> None:
    updates = [
        Page.content(entry)
        for page in walk(api)
        for entry in page.entries
        if Page.content(entry).tag == f"{{{DROPSHIP}}}order-status-updated"
    ]

    assert updates
    for update in updates:
        assert _local_names(update) == ["company-id", "items", "order-id", "supplier-id"]
        for item in update.findall(f"{{{DROPSHIP}}}items/{{{DROPSHIP}}}item-information"):
            assert _local_names(item) == [
                "catalog-id", "info", "message", "quantity", "shipping-provider", "sku", "status",
                "tracking-info",
            ]  # fmt: skip


def test_some_entry_ids_are_not_valid_uuids() -> None:
    entry_ids = Emulator(events=2000, seed=3).entry_ids()

    assert all(entry_id.startswith("urn:uuid:") for entry_id in entry_ids)
    assert len(set(entry_ids)) == len(entry_ids)
    malformed = []
    for entry_id in entry_ids:
        try:
            uuid.UUID(entry_id.removeprefix("urn:uuid:"))
        except ValueError:
            malformed.append(entry_id)
    assert 0.02 < len(malformed) / len(entry_ids) < 0.09


def test_malformed_entry_ids_can_be_switched_off() -> None:
    for entry_id in Emulator(events=300, malformed_entry_id_rate=0.0).entry_ids():
        uuid.UUID(entry_id.removeprefix("urn:uuid:"))


def test_several_events_share_a_second() -> None:
    emulator = Emulator(events=500, seed=1)
    stamps = re.findall(rb"<published>([^<]+)</published>", b"".join(emulator.page(p) for p in emulator.page_ids()))

    assert len(stamps) == 500
    assert len(set(stamps)) < len(stamps)


def test_an_empty_feed_has_an_empty_current_page() -> None:
    emulator = Emulator(orders=0)
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        page = Api(emulator, client).current()

    assert page.entries == []
    assert page.link("prev-archive") is None
    assert page.link("self") == f"{PUBLIC_FEED}/Pages({emulator.current_page_id})"


@pytest.mark.parametrize("page_id", ["not-a-guid", "", "12345", "f1be4a74-508f-4159-b3f1-c6efe76c03e4"])
def test_a_malformed_or_unknown_page_id_is_an_invalid_request(api: Api, page_id: str) -> None:
    response = api.get(f"{FEED}/Pages({page_id})")

    assert response.status_code == 400
    assert response.json()["Message"] == "The request is invalid"


def test_a_future_page_id_is_unknown_until_the_page_exists(api: Api, emulator: Emulator) -> None:
    future = emulator._state.page_id(len(emulator.page_ids()))  # the next page's id, already fixed
    assert api.get(f"{FEED}/Pages({future})").status_code == 400

    emulator.place_orders(31)  # 151 events: one more page

    assert emulator.current_page_id == future
    assert api.get(f"{FEED}/Pages({future})").status_code == 200
