"""Hostile and broken pages: each is refused with a FeedParseError that says why, and quickly.

The time limit is a hang guard (an entity expansion or a network fetch would blow it), not a
speed target. Every case runs through both entry points, which must refuse alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from iqmetrix_dropship import FeedParseError
from iqmetrix_dropship.feed import parse_feed, scan_entry_ids

ATOM = "http://www.w3.org/2005/Atom"
DROPSHIP = "urn:iQmetrix:dropship"
CURRENT = (Path(__file__).parent / "fixtures" / "current_page.xml").read_bytes()
HANG_GUARD = 1.0  # seconds: the bound for refusing a hostile body
# Megabytes of valid prolog are read, not refused: linear work that a loaded CI machine may slow
# past a second. A quadratic scan would take minutes; this bound still catches it.
PROLOG_GUARD = 5.0

PARSERS = [pytest.param(parse_feed, id="parse_feed"), pytest.param(scan_entry_ids, id="scan_entry_ids")]

_LAUGHS = "\n".join(f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE feed [
 <!ENTITY lol0 "lol">
{_LAUGHS}
]>
<feed xmlns="{ATOM}"><id>&lol9;</id><title>&lol9;</title></feed>""".encode()

QUADRATIC_BLOWUP = (
    f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "{"x" * 50_000}">]>'
    f'<feed xmlns="{ATOM}"><id>urn:x</id><title>{"&a;" * 50_000}</title></feed>'
).encode()


def _secret_file(tmp_path: Path) -> Path:
    """A local file an external entity could name; its TOP-SECRET content must never come out."""
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:TOP-SECRET-7f3a9c:/root:/bin/bash\n")
    return path


def refused(parse: Callable[..., Any], data: bytes, **options: Any) -> FeedParseError:
    """The FeedParseError ``parse`` raises for ``data``, checked to come within the hang guard."""
    started = time.perf_counter()
    with pytest.raises(FeedParseError) as caught:
        parse(data, **options)
    elapsed = time.perf_counter() - started
    assert elapsed < HANG_GUARD, f"took {elapsed:.2f}s"
    return caught.value


def everything_said(error: BaseException) -> str:
    """The error's message, repr and those of every error chained to it."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


# Entities and DTDs -----------------------------------------------------------------------------


@pytest.mark.parametrize("parse", PARSERS)
def test_billion_laughs_is_refused(parse: Callable[..., Any]) -> None:
    error = refused(parse, BILLION_LAUGHS)

    assert "DOCTYPE" in str(error)
    assert "lol" * 10 not in everything_said(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_quadratic_blowup_is_refused(parse: Callable[..., Any]) -> None:
    error = refused(parse, QUADRATIC_BLOWUP)

    assert "DOCTYPE" in str(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_an_external_entity_naming_a_local_file_is_refused_unread(parse: Callable[..., Any], tmp_path: Path) -> None:
    path = _secret_file(tmp_path)
    data = (
        f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file://{path}">]>'
        f'<feed xmlns="{ATOM}"><id>&x;</id><title>&x;</title></feed>'
    ).encode()

    error = refused(parse, data)

    assert "DOCTYPE" in str(error)
    assert "TOP-SECRET" not in everything_said(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_an_external_entity_to_etc_passwd_is_refused(parse: Callable[..., Any]) -> None:
    data = (
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<feed xmlns="{ATOM}"><id>&x;</id></feed>'
    ).encode()

    error = refused(parse, data)

    assert "DOCTYPE" in str(error)
    assert "root:" not in everything_said(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_an_external_parameter_entity_is_refused(parse: Callable[..., Any], tmp_path: Path) -> None:
    path = _secret_file(tmp_path)
    data = (
        f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY % p SYSTEM "file://{path}"> %p;]>'
        f'<feed xmlns="{ATOM}"><id>urn:x</id></feed>'
    ).encode()

    error = refused(parse, data)

    assert "TOP-SECRET" not in everything_said(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_an_external_dtd_is_refused_without_fetching_it(parse: Callable[..., Any]) -> None:
    # Port 9 on loopback: a fetch would fail fast or hang; either way it must not be tried.
    data = (
        '<?xml version="1.0"?><!DOCTYPE feed SYSTEM "http://127.0.0.1:9/feed.dtd">'
        f'<feed xmlns="{ATOM}"><id>urn:x</id></feed>'
    ).encode()

    error = refused(parse, data)

    assert "DOCTYPE" in str(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_an_empty_doctype_is_refused_too(parse: Callable[..., Any]) -> None:
    data = f'<?xml version="1.0"?>\n<!-- a comment first --><!DOCTYPE feed><feed xmlns="{ATOM}"><id>urn:x</id></feed>'

    assert "DOCTYPE" in str(refused(parse, data.encode()))


@pytest.mark.parametrize("parse", PARSERS)
def test_a_doctype_hidden_in_utf16_is_refused_unread(parse: Callable[..., Any], tmp_path: Path) -> None:
    # UTF-16 hides the DOCTYPE from a byte scan; the check after parsing still sees it.
    path = _secret_file(tmp_path)
    text = (
        f'<?xml version="1.0" encoding="utf-16"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file://{path}">]>'
        f'<feed xmlns="{ATOM}"><id>&x;</id></feed>'
    )

    error = refused(parse, text.encode("utf-16"))

    assert "DOCTYPE" in str(error)
    assert "TOP-SECRET" not in everything_said(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_an_xinclude_is_never_processed(parse: Callable[..., Any], tmp_path: Path) -> None:
    path = _secret_file(tmp_path)
    content = (
        f'<order-cancelled xmlns="{DROPSHIP}" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="file://{path}" parse="text"/></order-cancelled>'
    )
    data = (
        f'<feed xmlns="{ATOM}"><id>urn:p</id><entry><id>urn:x</id><content>{content}</content></entry></feed>'
    ).encode()

    result = parse(data)

    assert "TOP-SECRET" not in repr(result)


# Size ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("parse", PARSERS)
def test_a_50_megabyte_body_is_refused_before_parsing(parse: Callable[..., Any]) -> None:
    entry = CURRENT[CURRENT.index(b"<entry>") : CURRENT.index(b"</entry>") + len(b"</entry>")]
    body = CURRENT.replace(b"<entry>", entry * (50 * 1024 * 1024 // len(entry)) + b"<entry>", 1)
    assert len(body) > 50 * 1024 * 1024

    error = refused(parse, body)

    assert f"{len(body)} bytes" in str(error)
    assert "cap" in str(error)


@pytest.mark.parametrize("parse", PARSERS)
def test_a_body_over_a_smaller_cap_is_refused(parse: Callable[..., Any]) -> None:
    assert "over the 1000 cap" in str(refused(parse, CURRENT, max_bytes=1000))


@pytest.mark.parametrize("parse", PARSERS)
def test_megabytes_of_blanks_before_the_root_are_read_in_time(parse: Callable[..., Any]) -> None:
    # The DOCTYPE check scans the prolog: blanks must not make it crawl.
    data = b" " * (9 * 1024 * 1024) + f'<feed xmlns="{ATOM}"><id>urn:x</id></feed>'.encode()

    started = time.perf_counter()
    parse(data)
    assert time.perf_counter() - started < PROLOG_GUARD


@pytest.mark.parametrize("parse", PARSERS)
def test_a_million_comments_before_the_root_are_read_in_time(parse: Callable[..., Any]) -> None:
    data = b"<!---->\n" * 1_000_000 + f'<feed xmlns="{ATOM}"><id>urn:x</id></feed>'.encode()

    started = time.perf_counter()
    parse(data)
    assert time.perf_counter() - started < PROLOG_GUARD


@pytest.mark.parametrize("parse", PARSERS)
def test_nesting_too_deep_is_refused(parse: Callable[..., Any]) -> None:
    depth = 100_000
    data = f'<feed xmlns="{ATOM}"><id>urn:x</id>{"<a>" * depth}{"</a>" * depth}</feed>'.encode()

    assert "not well-formed XML" in str(refused(parse, data))


# Not XML, not Atom -----------------------------------------------------------------------------


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\t ", b"\x00" * 16],
    ids=["empty", "blanks", "nul-bytes"],
)
def test_an_empty_body_is_refused(parse: Callable[..., Any], data: bytes) -> None:
    error = refused(parse, data)

    assert "empty" in str(error) or "not well-formed" in str(error)


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    "data",
    [
        b"Rate limit exceeded",
        b'{"Message": "An error has occurred."}',
        b"<html><body>502 Bad Gateway</body>",
        CURRENT[: len(CURRENT) // 2],
        b"\xff\xfe\xfa\xfb garbage \x80\x81",
        b'<?xml version="1.0" encoding="no-such-encoding"?><feed/>',
        CURRENT.replace(b"Moosejaw", b"Moose\xffjaw"),  # invalid UTF-8 inside a value
    ],
    ids=["text", "json", "html-fragment", "truncated", "binary", "bad-encoding", "invalid-utf8"],
)
def test_a_body_that_is_not_xml_is_refused(parse: Callable[..., Any], data: bytes) -> None:
    assert "not well-formed XML" in str(refused(parse, data))


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
        b"<feed><id>urn:x</id></feed>",  # a feed, but in no namespace
        b'<feed xmlns="http://purl.org/atom/ns#"><id>urn:x</id></feed>',  # Atom 0.3
        f'<entry xmlns="{ATOM}"><id>urn:x</id></entry>'.encode(),
        f'<a:feed xmlns:a="{DROPSHIP}"><a:id>urn:x</a:id></a:feed>'.encode(),
        b"<html><body>502 Bad Gateway</body></html>",
    ],
    ids=["rss", "no-namespace", "atom-0.3", "atom-entry", "dropship-namespace", "html"],
)
def test_xml_that_is_not_an_atom_feed_is_refused(parse: Callable[..., Any], data: bytes) -> None:
    assert "not an Atom feed" in str(refused(parse, data))


# Broken entries -------------------------------------------------------------------------------


def _page_with_content(inner: str) -> bytes:
    return (
        f'<feed xmlns="{ATOM}"><id>urn:p</id><entry><id>urn:uuid:bad-entry</id>'
        f'<content type="application/xml">{inner}</content></entry></feed>'
    ).encode()


def test_an_entry_with_two_content_children_is_refused() -> None:
    one = f'<order-created xmlns="{DROPSHIP}"><order-id>32cb2b46-fb26-48c8-9b8f-67ed759e2599</order-id></order-created>'

    error = refused(parse_feed, _page_with_content(one + one))

    assert "exactly one element, found 2" in str(error)
    assert (error.entry_id, error.element) == ("urn:uuid:bad-entry", "content")


@pytest.mark.parametrize("inner", ["", "   ", "just text", "<!-- only a comment -->"])
def test_an_entry_with_empty_content_is_refused(inner: str) -> None:
    error = refused(parse_feed, _page_with_content(inner))

    assert "exactly one element, found 0" in str(error)
    assert error.entry_id == "urn:uuid:bad-entry"


def test_nothing_but_feed_parse_error_escapes_for_a_page_of_bad_values() -> None:
    # Every typed member wrong at once: the first one found is reported, as a FeedParseError.
    inner = (
        f'<order-created xmlns="{DROPSHIP}"><order-id>x</order-id><supplier-id>y</supplier-id>'
        "<ship-to-store>z</ship-to-store><items><order-item><quantity>q</quantity></order-item></items>"
        "</order-created>"
    )
    error = refused(parse_feed, _page_with_content(inner))

    assert error.entry_id == "urn:uuid:bad-entry"
    assert error.element in ("order-id", "supplier-id", "ship-to-store", "quantity")
