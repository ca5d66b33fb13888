"""A Griffe extension for the docs build: the docstrings' reStructuredText bits, as Markdown.

The docstrings are written to read well in an editor and in ``help()``: literal blocks introduced
by ``::`` and, here and there, a ``:class:`Name``` role. mkdocstrings reads Markdown, so without
this a page would show a stray ``::`` above an indented block. This rewrites, for the docs only:

- a paragraph ending in ``::`` followed by an indented block: ``text::`` becomes ``text:``,
  ``text ::`` and a lone ``::`` go, and the block becomes a fenced code block;
- ``:class:`~pkg.Name``` and friends: ```Name``` (the last dotted part when ``~`` asks for it).

Loaded by mkdocs.yml (``extensions: [scripts/griffe_rst_literals.py]``); the package is unchanged.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|obj|exc|data):`(?P<tilde>~?)(?P<target>[^`]+)`")


def _role(match: re.Match[str]) -> str:
    target = match["target"]
    return f"`{target.rsplit('.', 1)[-1] if match['tilde'] else target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def rst_to_markdown(text: str) -> str:
    """``text`` with its literal blocks fenced and its roles turned into code spans."""
    lines = _ROLE.sub(_role, text).splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.rstrip().endswith("::"):
            out.append(line)
            index += 1
            continue
        base = _indent(line)
        stripped = line.rstrip()[:-2]
        # RST: "text::" reads "text:"; "text ::" and a lone "::" read as nothing.
        lead = stripped if stripped.strip() and not stripped.endswith(" ") else stripped.rstrip()
        if lead.strip():
            out.append(lead + (":" if lead == stripped else ""))
        index += 1
        block: list[str] = []
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > base):
            block.append(lines[index])
            index += 1
        while block and not block[-1].strip():
            block.pop()
        body = textwrap.dedent("\n".join(block)).strip("\n")
        language = "text" if any(mark in body for mark in ("├", "->", "└")) else "python"
        pad = " " * base
        out.extend(["", f"{pad}```{language}", *(pad + row if row else row for row in body.splitlines()), f"{pad}```"])
        if index < len(lines):
            out.append("")
    return "\n".join(out)


class RstLiterals(griffe.Extension):
    """Rewrites every docstring as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
