"""``scan_links``: the head of a page (what precedes its first entry), read for the walk back, and
the cases where only the full scan can tell."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from iqmetrix_dropship import FeedParseError
from iqmetrix_dropship._protocol.feed import read_scan
from iqmetrix_dropship.feed import scan_entry_ids
from iqmetrix_dropship.feed._scan import scan_links

from ..client.feeds import page, page_ids

P = page_ids(3)


def test_the_head_gives_the_same_page_ids_as_the_full_scan_and_no_entry_ids() -> None:
    data = page(P[1], [f"e{n}" for n in range(50)], prev=P[0], next_=P[2])
    head, full = scan_links(data), scan_entry_ids(data)
    assert head is not None
    assert (head.page_id, head.prev_archive_page_id, head.next_archive_page_id) == (P[1], P[0], P[2])
    assert (full.page_id, full.prev_archive_page_id, full.next_archive_page_id) == (P[1], P[0], P[2])
    assert head.entry_ids == []


@pytest.mark.parametrize(
    "data",
    [
        page(P[0], ["e1"]),  # the oldest page: no prev-archive link, the full scan confirms it
        page(P[1], [], prev=P[0]),  # no entry: nothing ends the head
        page(P[1], ["e1"], prev_href="https://dropship.iqmetrix.net/v1/Suppliers(1)/Orders(2)"),  # no page id
        page(P[1], ["e1"], prev=P[0]).replace(b'rel="self"', b'rel="alternate"'),  # no self link
    ],
)
def test_a_head_that_does_not_settle_the_walk_is_left_to_the_full_scan(data: bytes) -> None:
    assert scan_links(data) is None


def test_links_written_after_the_entries_are_left_to_the_full_scan() -> None:
    data = page(P[1], ["e1"], prev=P[0])
    start, end = data.index(b"<link"), data.index(b"<entry")
    links = data[start:end]
    moved = data[:start] + data[end:].replace(b"</feed>", links + b"</feed>")
    assert scan_links(moved) is None
    assert scan_entry_ids(moved).prev_archive_page_id == P[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x "y">]><feed/>', "DOCTYPE"),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><link rel='self' href='x'/><link rel='prev-archive' href='y'/>"
            b"</oops><entry>",
            "well-formed",
        ),
    ],
)
def test_a_broken_head_is_a_feed_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        scan_links(data)


def test_a_page_over_the_cap_is_refused_before_any_parse() -> None:
    with pytest.raises(FeedParseError, match="over the"):
        scan_links(page(P[1], ["e1"], prev=P[0]), max_bytes=100)


def test_what_is_not_an_atom_feed_is_left_to_the_full_scan_which_refuses_it() -> None:
    data = b"<html><body><entry/></body></html>"
    assert scan_links(data) is None
    with pytest.raises(FeedParseError, match="not an Atom feed"):
        scan_entry_ids(data)


def test_a_page_cut_short_is_left_to_the_full_scan_which_refuses_it() -> None:
    data = b"<feed xmlns='http://www.w3.org/2005/Atom'><link rel='self' href='x'/><oops"
    assert scan_links(data) is None
    with pytest.raises(FeedParseError, match="well-formed"):
        scan_entry_ids(data)


@pytest.mark.parametrize(
    "twist",
    [
        # a second prev-archive link after the entries: the full scan takes the last, the head the first
        lambda data: data.replace(b"</feed>", b'<link rel="prev-archive" href="Pages(elsewhere)"/></feed>'),
        # the same, spelt with a character reference the bytes do not show
        lambda data: data.replace(b"</feed>", b'<link rel="prev&#45;archive" href="Pages(elsewhere)"/></feed>'),
        # a second self link
        lambda data: data.replace(b"</feed>", b'<link rel="self" href="Pages(elsewhere)"/></feed>'),
    ],
)
def test_a_page_that_may_hold_a_second_link_further_down_is_left_to_the_full_scan(twist: Any) -> None:
    data = twist(page(P[1], ["e1"], prev=P[0]))
    assert scan_links(data) is None


def test_a_page_not_in_an_ascii_compatible_encoding_is_left_to_the_full_scan() -> None:
    data = page(P[1], ["e1"], prev=P[0]).decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    assert scan_links(data) is None
    assert scan_entry_ids(data).prev_archive_page_id == P[0]


def test_a_doctype_in_utf_16_is_left_to_the_full_scan_which_refuses_it() -> None:
    text = page(P[1], ["e1"], prev=P[0]).decode().replace('encoding="utf-8"', 'encoding="utf-16"')
    text = text.replace("<feed ", '<!DOCTYPE feed [<!ENTITY prev "x">]><feed ', 1)
    data = text.encode("utf-16")
    assert scan_links(data) is None
    with pytest.raises(FeedParseError, match="DOCTYPE"):
        scan_entry_ids(data)


def test_the_walk_reads_a_page_the_head_scan_cannot_read_with_the_full_scan() -> None:
    data = page(P[1], ["e1", "e2"], prev=P[0]).decode().replace('encoding="utf-8"', 'encoding="utf-32"')
    body = data.encode("utf-32")  # with its BOM, which lxml's pull parser does not detect
    scan = read_scan(SimpleNamespace(content=body), entry_ids=False)  # type: ignore[arg-type]
    assert (scan.page_id, scan.prev_archive_page_id, scan.entry_ids) == (P[1], P[0], ["e1", "e2"])
