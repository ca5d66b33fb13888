"""A response body, decoded under a hard cap: what the drivers feed the chunks of a stream into.

Pure (zlib and counting, no HTTP library), so it is tested directly, chunk by chunk. A compressed
bomb (a few KB of gzip that inflates to gigabytes) is stopped after at most ``cap`` bytes of
output, never inflated whole. A feed page over the cap, or badly encoded, is refused
(``FeedParseError``: it is hostile or broken); any other body is kept as far as it could be read,
with ``truncated`` set, and the status decides what the answer means (an update the server
accepted stays accepted, a 500 stays a server error).
"""

from __future__ import annotations

import zlib
from typing import Any

from .._exceptions import FeedParseError
from .._text import preview
from .http import Request, logger

__all__ = ["ACCEPT_ENCODING", "BoundedBody"]

ACCEPT_ENCODING = "gzip, deflate"
"""Only encodings we can inflate with a bound; we never ask for others (br, zstd)."""


class BoundedBody:
    """Collects a body chunk by chunk, inflating gzip/deflate itself with ``max_length``.

    A feed page that is over the cap or badly encoded raises ``FeedParseError``. Any other body
    is kept as far as it could be read, with ``truncated`` set: the status decides what the
    answer means (a 202 stays an accepted update, a 500 stays a server error).
    """

    def __init__(self, request: Request, status_code: int, encoding: str) -> None:
        self._request = request
        self._status = status_code
        self._cap = request.max_body_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self.truncated = False
        """Only the start of the body was kept: it went past the cap, or could not be decoded."""
        encoding = encoding.strip().lower()
        self._inflater: Any = None
        self._deflate = encoding == "deflate"
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._deflate:
            self._inflater = zlib.decompressobj()  # zlib-wrapped; raw deflate handled below
        elif encoding not in ("", "identity"):
            self._unreadable(f"unsupported Content-Encoding {preview(encoding)}")

    def _unreadable(self, problem: str) -> None:
        if self._request.purpose == "feed":
            raise FeedParseError(problem)
        logger.debug(
            "%s %s: HTTP %d with %s; kept its start", self._request.method, self._request.url, self._status, problem
        )
        self.truncated = True

    def _append(self, data: bytes) -> None:
        if self._size + len(data) > self._cap:
            self._unreadable(f"a response body over the {self._cap:,}-byte limit")
            data = data[: self._cap - self._size]
        self._size += len(data)
        if data:
            self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self.truncated:
            return
        if self._inflater is None:
            self._append(chunk)
            return
        try:
            data = self._inflater.decompress(chunk, self._cap - self._size + 1)
            self._append(data)
            while self._inflater.unconsumed_tail and not self.truncated:
                data = self._inflater.decompress(self._inflater.unconsumed_tail, self._cap - self._size + 1)
                self._append(data)
        except zlib.error:
            if self._deflate and self._size == 0 and not self._parts:
                # Some servers send raw deflate for "deflate" (RFC 9110 8.4.1.2 says zlib).
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._deflate = False
                self.feed(chunk)
                return
            self._unreadable("a body that is not valid compressed data")

    def body(self) -> bytes:
        if self._inflater is not None and not self.truncated:
            try:
                self._append(self._inflater.flush())
            except zlib.error:
                self._unreadable("a body that is not valid compressed data")
        return b"".join(self._parts)
