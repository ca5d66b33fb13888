"""``KeptPages``: the pages a walk back fetched, kept for the forward read within a bound: the first
part in memory, the rest in an unlinked temporary file readable by this user only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from iqmetrix_dropship.follow._read_ahead import KeptPages


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
