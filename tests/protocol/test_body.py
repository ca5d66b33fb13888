"""``BoundedBody``, the decoder every response body goes through, fed chunk by chunk: the cap, the
compressed bomb, the encodings, and what a feed refuses where another body is only cut."""

from __future__ import annotations

import gzip
import zlib

import pytest

from iqmetrix_dropship import FeedParseError
from iqmetrix_dropship._protocol.body import BoundedBody
from iqmetrix_dropship._protocol.http import Purpose, Request

CAP = 1_000


def decode(purpose: Purpose, encoding: str, data: bytes, chunk: int = 100) -> BoundedBody:
    body = BoundedBody(Request("GET", "https://x.test/", purpose=purpose, max_body_bytes=CAP), 200, encoding)
    for start in range(0, len(data), chunk):
        body.feed(data[start : start + chunk])
        if body.truncated:
            break
    return body


PLAIN = b"x" * 600


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("", PLAIN),
        ("identity", PLAIN),
        ("gzip", gzip.compress(PLAIN)),
        ("x-gzip", gzip.compress(PLAIN)),
        (" GZIP ", gzip.compress(PLAIN)),
        ("deflate", zlib.compress(PLAIN)),  # zlib-wrapped, as RFC 9110 says
        ("deflate", raw_deflate(PLAIN)),  # raw, as some servers send it
    ],
)
@pytest.mark.parametrize("purpose", ["feed", "update", "token"])
def test_a_body_under_the_cap_is_decoded_whole(encoding: str, data: bytes, purpose: Purpose) -> None:
    body = decode(purpose, encoding, data, chunk=7)
    assert body.body() == PLAIN
    assert not body.truncated


@pytest.mark.parametrize(
    ("encoding", "data"),
    [("", b"y" * 5_000), ("gzip", gzip.compress(b"y" * 5_000_000))],
)
def test_a_feed_over_the_cap_is_refused(encoding: str, data: bytes) -> None:
    with pytest.raises(FeedParseError, match="limit"):
        decode("feed", encoding, data).body()


@pytest.mark.parametrize(
    ("encoding", "data"),
    [("", b"y" * 5_000), ("gzip", gzip.compress(b"y" * 5_000_000))],
)
def test_another_body_over_the_cap_is_cut_at_the_cap(encoding: str, data: bytes) -> None:
    body = decode("update", encoding, data)
    assert body.truncated
    assert body.body() == b"y" * CAP


def test_a_gzip_bomb_is_inflated_no_further_than_the_cap(gzip_bomb: bytes) -> None:
    body = BoundedBody(Request("GET", "https://x.test/", purpose="update", max_body_bytes=CAP), 200, "gzip")
    fed = 0
    for start in range(0, len(gzip_bomb), 1024):
        body.feed(gzip_bomb[start : start + 1024])
        fed += 1024
        if body.truncated:
            break
    assert body.truncated
    assert len(body.body()) == CAP
    assert fed < 10 * 1024  # stopped after the first few kilobytes of 200 KB


@pytest.mark.parametrize(("encoding", "data"), [("gzip", b"not gzip at all"), ("br", PLAIN), ("zstd", PLAIN)])
def test_a_feed_that_cannot_be_decoded_is_refused(encoding: str, data: bytes) -> None:
    with pytest.raises(FeedParseError):
        decode("feed", encoding, data).body()


@pytest.mark.parametrize(("encoding", "data"), [("gzip", b"not gzip at all"), ("br", PLAIN)])
def test_another_body_that_cannot_be_decoded_is_marked_cut_not_raised(encoding: str, data: bytes) -> None:
    body = decode("update", encoding, data)
    body.body()
    assert body.truncated  # the status decides what the answer means; its body is only partly known
