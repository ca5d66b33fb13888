"""Fixtures for the whole suite: the expensive ones are built once per session."""

from __future__ import annotations

import gzip

import pytest


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """200 MB of XML in ~200 KB of gzip (compressing it takes a second: built once)."""
    head = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>'
    return gzip.compress(head + b"A" * 200_000_000 + b"</title></feed>", compresslevel=9)
