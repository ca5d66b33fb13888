"""Finding the code blocks of the Markdown pages: what ``test_code_blocks`` runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# A fence opens with three or more backticks or tildes, possibly indented (inside an admonition
# or a tab), followed by the language and optional attributes (```python title="x.py").
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
# Put on the line just before a block's fence to keep the test from running it. Rare, and always
# with the reason after the colon: <!-- not-run: needs a real iQmetrix account -->
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\s*$")

PYTHON = frozenset({"python", "py", "python3"})


@dataclass(frozen=True)
class CodeBlock:
    page: Path
    line: int
    """The 1-based line of the block's first line of code in ``page``."""
    language: str
    code: str
    not_run: str | None
    """Why the block is not run, when it is marked so."""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON


def markdown_pages() -> list[Path]:
    """README.md and every page under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def code_blocks(page: Path) -> list[CodeBlock]:
    """Every fenced code block of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = (opening["info"].split() or [""])[0].lstrip(".{").rstrip("}").lower()
        start = index + 1
        end = start
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = [line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[start:end]]
        blocks.append(
            CodeBlock(
                page=page,
                line=start + 1,
                language=language,
                code="\n".join(body) + "\n",
                not_run=_not_run_reason(lines, index),
            )
        )
        index = end + 1
    return blocks


def _not_run_reason(lines: list[str], fence_index: int) -> str | None:
    previous = fence_index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    if previous < 0:
        return None
    marker = _NOT_RUN.match(lines[previous])
    return marker["reason"] if marker else None
