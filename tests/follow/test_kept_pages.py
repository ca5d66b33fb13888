"""``KeptPages``: the pages a walk back fetched, kept for the forward read within a bound: the first
part in memory, the rest in an unlinked temporary file readable by this user only."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from iqmetrix_dropship import FeedParseError
from iqmetrix_dropship.feed import parse_feed
from iqmetrix_dropship.follow import _read_ahead as read_ahead
from iqmetrix_dropship.follow._read_ahead import KeptPages
from iqmetrix_dropship.models import FeedPage


def test_pages_are_taken_once_each_from_memory_and_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kept = KeptPages(max_bytes=10_000, in_memory=2_500)
    pages = {f"p{n}": bytes([65 + n]) * 1_000 for n in range(9)}
    for page_id, data in pages.items():
        kept.put(page_id, data)
    assert list(tmp_path.iterdir()) == []  # the file is unlinked (or never named) as it is made
    for page_id in reversed(pages):  # the forward read takes them oldest first: the last put
        assert kept.take(page_id) == pages[page_id]
        assert kept.take(page_id) is None  # once
    kept.close()


def test_the_temporary_file_is_readable_by_its_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kept = KeptPages(max_bytes=10_000, in_memory=0)
    kept.put("p", b"customer data")
    assert kept._file is not None
    mode = stat.S_IMODE(os.fstat(kept._file.fileno()).st_mode)
    assert mode & 0o077 == 0
    kept.close()
    assert kept._file is None


def test_what_does_not_fit_the_bound_is_not_kept() -> None:
    kept = KeptPages(max_bytes=2_000, in_memory=1_000)
    for n in range(4):
        kept.put(f"p{n}", b"x" * 1_000)
    assert [kept.take(f"p{n}") is not None for n in range(4)] == [True, True, False, False]
    kept.close()


def test_nothing_is_kept_with_a_bound_of_zero() -> None:
    kept = KeptPages(max_bytes=0)
    kept.put("p", b"x")
    assert kept.take("p") is None


def test_a_temporary_folder_that_cannot_be_written_keeps_nothing_and_raises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    kept = KeptPages(max_bytes=10_000, in_memory=1_000)
    kept.put("memory", b"a" * 1_000)
    kept.put("disk", b"b" * 1_000)  # no folder: not kept, the page is fetched again
    assert kept.take("memory") == b"a" * 1_000
    assert kept.take("disk") is None
    kept.close()


def test_a_page_taken_after_close_is_not_there() -> None:
    kept = KeptPages(max_bytes=10_000, in_memory=0)
    kept.put("p", b"x" * 100)
    kept.close()
    assert kept.take("p") is None


FULL_DISK = r"""
import resource, signal, sys
from iqmetrix_dropship.follow._read_ahead import KeptPages
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (250_000, 250_000))
kept = KeptPages(max_bytes=10_000_000, in_memory=0)
pages = {f"p{n}": bytes([65 + n]) * 100_000 for n in range(5)}
for page_id, data in pages.items():
    kept.put(page_id, data)
taken = [kept.take(page_id) == data for page_id, data in pages.items()]
kept.close()  # nothing left in a buffer to fail again
print(taken)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_keeps_what_fits_whole_and_raises_nothing() -> None:
    result = subprocess.run([sys.executable, "-c", FULL_DISK], capture_output=True, text=True, check=True)
    # 250,000 bytes hold two pages whole; the third was cut short: not kept, nor any after it
    assert result.stdout.strip() == "[True, True, False, False, False]"


# -- parsed in the walk's shadow ------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "feed" / "fixtures"


def _page_bytes() -> bytes:
    return (FIXTURES / "archive_page.xml").read_bytes()


def _keep_and_parse(kept: KeptPages, page_id: str, data: bytes) -> None:
    """Keep ``data`` as a slow fetch, let the walk's next request go out, and wait for the parse."""
    kept.put(page_id, data, fetch_seconds=60.0)
    parse = kept.waiting()
    assert parse is not None
    parse.result(timeout=60)


@pytest.fixture(params=[1_000_000, 0], ids=["memory", "file"])
def kept_anywhere(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KeptPages]:
    """Kept pages held in memory, or all in the temporary file."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kept = KeptPages(max_bytes=10_000_000, in_memory=request.param)
    yield kept
    kept.close()


def test_a_page_kept_from_a_slow_fetch_is_parsed_once_the_next_request_is_out(kept_anywhere: KeptPages) -> None:
    kept, data = kept_anywhere, _page_bytes()
    kept.put("p", data, fetch_seconds=60.0)
    assert not kept.parsed("p")  # not while the walk still needs the GIL to send its next request
    parse = kept.waiting()
    assert parse is not None
    parse.result(timeout=60)
    assert kept.parsed("p")
    page = kept.take("p")
    assert isinstance(page, FeedPage)
    assert page == parse_feed(data)
    assert [entry.id for entry in page.entries] == [entry.id for entry in parse_feed(data).entries]
    assert kept.take("p") is None  # once, parsed or not


def test_a_page_is_parsed_ahead_only_when_its_fetch_was_slow_enough_and_the_next_request_went_out() -> None:
    data = _page_bytes()
    kept = KeptPages(max_bytes=10_000_000)
    kept.put("no timing", data)  # fetch_seconds=None: never parsed ahead
    assert kept.waiting() is None
    kept.put("no request after it", data, fetch_seconds=60.0)  # the walk ended: waiting() never came
    assert kept.take("no request after it") == data
    assert kept.waiting() is None  # taken meanwhile: nothing to parse
    # A fetch shorter than the last parse (loopback): parsing would only hold up the walk.
    _keep_and_parse(kept, "first", data)
    kept.put("fast", data, fetch_seconds=0.0)
    assert kept.waiting() is None
    assert kept.take("fast") == data
    assert isinstance(kept.take("first"), FeedPage)
    kept.close()


def test_a_page_that_does_not_parse_is_kept_as_it_came_for_the_forward_read_to_raise() -> None:
    broken = _page_bytes().replace(b"</feed>", b"")
    kept = KeptPages(max_bytes=10_000_000)
    _keep_and_parse(kept, "broken", broken)
    assert kept.take("broken") == broken  # the forward read parses it, and raises, in its turn
    with pytest.raises(FeedParseError):
        parse_feed(broken)
    kept.close()


def test_a_parse_that_ends_after_the_poll_keeps_nothing() -> None:
    data = _page_bytes()
    kept = KeptPages(max_bytes=10_000_000)
    kept.put("p", data, fetch_seconds=60.0)
    parse = kept.waiting()
    kept.close()
    assert parse is not None
    with contextlib.suppress(CancelledError):
        parse.result(timeout=60)
    assert kept.take("p") is None
    assert kept.waiting() is None


def _small_events_page() -> bytes:
    """A page whose parsed form pickles larger than its XML: many tiny events of an unknown kind."""
    head = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<id>urn:uuid:6a3f1c2e-7f2b-4a8e-9d4c-1b2a3c4d5e6f</id>"
    )
    entries = b"".join(b"<entry><id>e%d</id><content><x/></content></entry>" % n for n in range(200))
    return head + entries + b"</feed>"


def test_a_page_whose_pickle_is_larger_than_its_bytes_stays_bytes(kept_anywhere: KeptPages) -> None:
    kept, data = kept_anywhere, _small_events_page()
    _keep_and_parse(kept, "p", data)
    assert not kept.parsed("p")  # the bounds are the bytes': nothing kept may outgrow them
    assert kept._memory_used + kept._file_end == len(data)
    assert kept.take("p") == data


def test_parsing_a_page_in_the_file_takes_no_room_from_the_pages_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = _page_bytes()
    kept = KeptPages(max_bytes=2 * len(data), in_memory=0)  # room for two pages, in the file
    _keep_and_parse(kept, "older", data)
    assert kept.parsed("older")  # written over its bytes, not after them
    kept.put("oldest", data)
    assert kept.take("oldest") == data
    assert kept.take("older") == parse_feed(data)
    kept.close()


def test_no_thread_for_the_parse_leaves_the_page_to_the_forward_read(monkeypatch: pytest.MonkeyPatch) -> None:
    refusals = [RuntimeError("can't start new thread")]

    class NoThreadOnce(ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            if refusals:
                raise refusals.pop()
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(read_ahead, "ThreadPoolExecutor", NoThreadOnce)
    data = _page_bytes()
    kept = KeptPages(max_bytes=10_000_000)
    kept.put("p", data, fetch_seconds=60.0)
    assert kept.waiting() is None  # no error out of a request's trace hook
    assert kept.take("p") == data
    _keep_and_parse(kept, "q", data)  # no parse believed running for ever: the next page is parsed
    assert isinstance(kept.take("q"), FeedPage)
    kept.close()
