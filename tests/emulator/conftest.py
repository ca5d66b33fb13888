"""Fixtures for the emulator's own tests: plain httpx against the emulator's app, in process.

The SDK's client is not used here: these tests pin the server side down on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from lxml import etree

from iqmetrix_dropship import parse_feed
from iqmetrix_dropship.emulator import Emulator

ATOM = "http://www.w3.org/2005/Atom"
DROPSHIP = "urn:iQmetrix:dropship"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
SUPPLIER = 60455
FEED = f"/v1/Suppliers({SUPPLIER})/Notifications"


def password_form(emulator: Emulator, **changes: str) -> dict[str, str]:
    credentials = emulator.credentials
    form = {
        "grant_type": "password",
        "username": credentials.username,
        "password": credentials.password,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }
    form.update(changes)
    return form


def get_token(client: httpx.Client, emulator: Emulator) -> dict[str, object]:
    response = client.post("/v1/oauth2/token", data=password_form(emulator))
    assert response.status_code == 200, response.text
    token: dict[str, object] = response.json()
    return token


@dataclass
class Page:
    """A parsed feed page, read by namespace URI (never by prefix)."""

    root: etree._Element

    @property
    def id(self) -> str:
        return str(self.root.findtext(f"{{{ATOM}}}id"))

    @property
    def updated(self) -> str:
        return str(self.root.findtext(f"{{{ATOM}}}updated"))

    def link(self, rel: str) -> str | None:
        for link in self.root.findall(f"{{{ATOM}}}link"):
            if link.get("rel") == rel:
                return link.get("href")
        return None

    @property
    def entries(self) -> list[etree._Element]:
        return self.root.findall(f"{{{ATOM}}}entry")

    @property
    def entry_ids(self) -> list[str]:
        return [str(entry.findtext(f"{{{ATOM}}}id")) for entry in self.entries]

    @staticmethod
    def content(entry: etree._Element) -> etree._Element:
        children = list(entry.find(f"{{{ATOM}}}content"))  # type: ignore[arg-type]
        assert len(children) == 1
        return children[0]


def parse_page(body: bytes) -> Page:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return Page(etree.fromstring(body, parser))


def assert_feed_readable(emulator: Emulator) -> None:
    """Every page of the feed parses with the SDK's own parser (within its size cap)."""
    for page_id in emulator.page_ids():
        parse_feed(emulator.page(page_id))


def page_id_of(href: str | None) -> str:
    assert href is not None
    assert "/Notifications/Pages(" in href
    return href.rsplit("Pages(", 1)[1].rstrip(")")


class Api:
    """An authorised httpx client on an emulator's app, with the paths spelled out once."""

    def __init__(self, emulator: Emulator, client: httpx.Client) -> None:
        self.emulator = emulator
        self.client = client
        self.token = str(get_token(client, emulator)["access_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.get(path, headers=self.headers, **kwargs)  # type: ignore[arg-type]

    def current(self) -> Page:
        response = self.get(FEED)
        assert response.status_code == 200, response.text
        return parse_page(response.content)

    def page(self, page_id: str) -> Page:
        response = self.get(f"{FEED}/Pages({page_id})")
        assert response.status_code == 200, response.text
        return parse_page(response.content)

    def put(self, order_id: str, kind: str, body: object) -> httpx.Response:
        return self.client.put(f"/v1/Suppliers({SUPPLIER})/Orders({order_id})/{kind}", json=body, headers=self.headers)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(events=120, seed=7) as emulator:
        yield emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        yield client


@pytest.fixture
def api(emulator: Emulator, client: httpx.Client) -> Api:
    return Api(emulator, client)
