"""Every ```python block of README.md and docs/ runs, as a reader would paste it, against an emulator.

Each page gets its own emulator, served on 127.0.0.1 at a free port, and the ``IQMETRIX_*``
variables point at it, so a block can use ``DropshipClient.from_env()`` exactly as it would against
the sandbox. The blocks of one page run in order, in one namespace, from an empty working
directory. A block marked ``<!-- not-run: reason -->`` is only compiled; it shows up as skipped,
with its reason (see CONTRIBUTING.md).
"""

from __future__ import annotations

import faulthandler
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from iqmetrix_dropship.emulator import Emulator

from .markdown import ROOT, CodeBlock, code_blocks, markdown_pages

PAGE_TIMEOUT = 180.0  # seconds; a block that hangs dumps every thread's stack and ends the run

PAGES = [page for page in markdown_pages() if any(block.is_python for block in code_blocks(page))]
RUN = {page: [b for b in code_blocks(page) if b.is_python and b.not_run is None] for page in PAGES}
NOT_RUN = [b for page in PAGES for b in code_blocks(page) if b.is_python and b.not_run is not None]


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


@pytest.fixture
def emulator_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A served emulator, the ``IQMETRIX_*`` variables set to it, and an empty working directory;
    for a page that uses ``IQMETRIX_DB``, a PostgreSQL database of its own named there."""
    page: Path = request.node.callspec.params["page"]
    if "IQMETRIX_DB" in page.read_text(encoding="utf-8"):
        monkeypatch.setenv("IQMETRIX_DB", request.getfixturevalue("pg_database"))
    emulator = Emulator(orders=60, seed=7)
    with emulator.serve() as server:
        credentials = emulator.credentials
        for name in ("IQMETRIX_ACCESS_TOKEN", "IQMETRIX_ENVIRONMENT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("IQMETRIX_SUPPLIER_ID", str(credentials.supplier_id))
        monkeypatch.setenv("IQMETRIX_CLIENT_ID", credentials.client_id)
        monkeypatch.setenv("IQMETRIX_CLIENT_SECRET", credentials.client_secret)
        monkeypatch.setenv("IQMETRIX_USERNAME", credentials.username)
        monkeypatch.setenv("IQMETRIX_PASSWORD", credentials.password)
        monkeypatch.setenv("IQMETRIX_BASE_URL", server.base_url)
        monkeypatch.setenv("IQMETRIX_ACCOUNTS_URL", server.base_url)
        monkeypatch.chdir(tmp_path)
        yield emulator


def run_block(block: CodeBlock, module: types.ModuleType) -> None:
    # Padding with blank lines makes tracebacks name the Markdown file and its real line numbers.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, _name(block.page), "exec")
    exec(code, module.__dict__)  # noqa: S102 - running the documentation is the point


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_python_blocks_of_page_run_against_the_emulator(page: Path, emulator_env: Emulator) -> None:
    # A fresh module per page: classes and dataclasses defined in a block resolve their module.
    module = types.ModuleType("docs_page")
    sys.modules[module.__name__] = module
    faulthandler.dump_traceback_later(PAGE_TIMEOUT, exit=True)
    try:
        for block in RUN[page]:
            try:
                run_block(block, module)
            except Exception:  # any failure of a block is reported with its place
                pytest.fail(f"the block at {block.where} failed:\n{traceback.format_exc()}", pytrace=False)
    finally:
        faulthandler.cancel_dump_traceback_later()
        del sys.modules[module.__name__]


@pytest.mark.parametrize(
    "block", [pytest.param(block, id=block.where) for block in NOT_RUN] or [pytest.param(None, id="none-marked")]
)
def test_blocks_marked_not_run_still_compile(block: CodeBlock | None) -> None:
    if block is None:
        return  # every Python block of the docs runs
    compile(block.code, block.where, "exec")
    pytest.skip(f"{block.where} is marked not-run: {block.not_run}")


def test_the_readme_and_the_docs_have_python_to_run() -> None:
    assert ROOT / "README.md" in PAGES
    assert sum(len(blocks) for blocks in RUN.values()) >= 30


def test_no_block_is_written_as_an_interactive_session() -> None:
    # `>>>` sessions would not be run by this test: write them as plain Python.
    sessions = [
        block.where
        for page in markdown_pages()
        for block in code_blocks(page)
        if block.language in ("pycon", "python-repl") or block.code.lstrip().startswith(">>>")
    ]
    assert sessions == []


def test_blocks_marked_not_run_are_rare() -> None:
    assert len(NOT_RUN) <= 3, [block.where for block in NOT_RUN]
