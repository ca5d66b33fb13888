"""Fuzzing: whatever the bytes, the parser returns a page or raises FeedParseError, nothing else.

Inputs are random bytes and mutations of the spec's two example pages: byte flips, truncations,
elements deleted or duplicated, random text put into values or between bytes. When a page
parses, its models must also be what pydantic validation would build (the parser skips that
pass), and the cheap scan must agree with the full parse.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from iqmetrix_dropship import FeedPage, FeedParseError
from iqmetrix_dropship.feed import PageScan, parse_feed, scan_entry_ids

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = [(FIXTURES / name).read_bytes() for name in ("current_page.xml", "archive_page.xml")]
ELEMENT_COUNTS = [sum(1 for _ in etree.fromstring(seed).iter()) for seed in SEEDS]

# Quick by default; FEED_FUZZ_EXAMPLES=20000 for a long hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("FEED_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text lxml will put into an element: XML 1.0 characters only (no controls, no lone surrogates).
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)
seed_index = st.integers(min_value=0, max_value=len(SEEDS) - 1)


def check(data: bytes) -> None:
    """The properties every input must have, whatever it is."""
    page: FeedPage | None = None
    message = None
    try:
        page = parse_feed(data)
    except FeedParseError as error:
        message = str(error)
    assert page is not None or message  # a refusal always says something
    scan: PageScan | None = None
    try:
        scan = scan_entry_ids(data)
    except FeedParseError:
        # The scan checks a subset of what the parse checks: if the page parsed, it scans.
        assert page is None
    if page is None:
        return
    assert isinstance(page, FeedPage)
    # Built without validation, the models must be what validation would build.
    assert FeedPage.model_validate(page.model_dump()) == page
    assert scan is not None
    assert scan.entry_ids == [entry.id for entry in page.entries]
    assert (scan.page_id, scan.prev_archive_page_id, scan.next_archive_page_id) == (
        page.page_id,
        page.prev_archive_page_id,
        page.next_archive_page_id,
    )


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(
    st.sampled_from(["<", ">", "&", "]]>", "<!--", "<?", "<![CDATA[", "&lt;", "\x00", "<!DOCTYPE"]).flatmap(
        lambda piece: st.lists(
            st.sampled_from([piece, '<feed xmlns="http://www.w3.org/2005/Atom">', "<entry>", "</feed>", "<id>", "x"]),
            max_size=30,
        )
    )
)
def test_random_markup(pieces: list[str]) -> None:
    check("".join(pieces).encode())


@FUZZ
@given(
    seed_index,
    st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)), min_size=1, max_size=8),
)
def test_byte_flips(index: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(SEEDS[index])
    for position, mask in flips:
        data[position % len(data)] ^= mask
    check(bytes(data))


@FUZZ
@given(seed_index, st.integers(min_value=0))
def test_truncations(index: int, cut: int) -> None:
    seed = SEEDS[index]
    check(seed[: cut % (len(seed) + 1)])


@FUZZ
@given(seed_index, st.integers(min_value=0), st.binary(min_size=1, max_size=30))
def test_bytes_inserted_anywhere(index: int, position: int, junk: bytes) -> None:
    seed = SEEDS[index]
    at = position % (len(seed) + 1)
    check(seed[:at] + junk + seed[at:])


def _mutated_tree(index: int) -> tuple[etree._Element, list[etree._Element]]:
    root = etree.fromstring(SEEDS[index])
    return root, list(root.iter())


@FUZZ
@given(seed_index, st.lists(st.integers(min_value=1), min_size=1, max_size=4))
def test_elements_deleted(index: int, picks: list[int]) -> None:
    root, elements = _mutated_tree(index)
    for pick in picks:
        victim = elements[pick % len(elements)]
        parent = victim.getparent()
        if parent is not None:
            parent.remove(victim)
    check(etree.tostring(root))


@FUZZ
@given(seed_index, st.lists(st.integers(min_value=1), min_size=1, max_size=4))
def test_elements_duplicated(index: int, picks: list[int]) -> None:
    root, elements = _mutated_tree(index)
    for pick in picks:
        original = elements[pick % len(elements)]
        parent = original.getparent()
        if parent is not None:
            parent.insert(parent.index(original) + 1, copy.deepcopy(original))
    check(etree.tostring(root))


@FUZZ
@given(seed_index, st.lists(st.tuples(st.integers(min_value=0), xml_text), min_size=1, max_size=6))
def test_random_text_in_values(index: int, changes: list[tuple[int, str]]) -> None:
    root, elements = _mutated_tree(index)
    leaves = [element for element in elements if len(element) == 0]
    for pick, text in changes:
        leaf = leaves[pick % len(leaves)]
        if leaf.get("{http://www.w3.org/2001/XMLSchema-instance}nil") is not None and pick % 2:
            del leaf.attrib["{http://www.w3.org/2001/XMLSchema-instance}nil"]
        leaf.text = text
    check(etree.tostring(root))


@FUZZ
@given(seed_index, st.integers(min_value=0), st.sampled_from(["a", "b", "c"]), xml_text)
def test_random_elements_added(index: int, pick: int, name: str, text: str) -> None:
    root, elements = _mutated_tree(index)
    parent = elements[pick % len(elements)]
    namespace = parent.tag.partition("}")[0] + "}" if str(parent.tag).startswith("{") else ""
    etree.SubElement(parent, f"{namespace}{name}").text = text
    check(etree.tostring(root))


def test_the_seeds_themselves_pass_the_checks() -> None:
    # The properties hold for the unmutated pages, which do parse: the fuzzing starts from there.
    for seed in SEEDS:
        check(seed)
        assert parse_feed(seed).entries
