"""The docs build's docstring rewriting (scripts/griffe_rst_literals.py)."""

from __future__ import annotations

import importlib.util
import inspect
from types import ModuleType

import iqmetrix_dropship
from iqmetrix_dropship import emulator

from .markdown import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("griffe_rst_literals", ROOT / "scripts" / "griffe_rst_literals.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rst_to_markdown = _load().rst_to_markdown


def test_a_literal_block_becomes_a_fenced_block_and_its_colons_one() -> None:
    text = "Use it like this::\n\n    client.close()\n\nThen stop."
    assert rst_to_markdown(text) == "Use it like this:\n\n```python\nclient.close()\n```\n\nThen stop."


def test_a_lone_or_spaced_double_colon_disappears() -> None:
    assert rst_to_markdown("::\n\n    x = 1").splitlines() == ["", "```python", "x = 1", "```"]
    assert rst_to_markdown("On demand. ::\n\n    x = 1").splitlines()[0] == "On demand."


def test_a_drawing_is_fenced_as_text() -> None:
    assert "```text" in rst_to_markdown("The tree::\n\n    A\n    └── B")


def test_roles_become_code_spans() -> None:
    text = "See :class:`~iqmetrix_dropship.emulator.Emulator` and :meth:`Emulator.serve`."
    assert rst_to_markdown(text) == "See `Emulator` and `Emulator.serve`."


def test_the_package_docstrings_come_out_without_stray_double_colons() -> None:
    for doc in (iqmetrix_dropship.DropshipClient.__doc__, emulator.__doc__, iqmetrix_dropship.FeedFollower.__doc__):
        assert doc is not None
        converted = rst_to_markdown(inspect.cleandoc(doc))
        assert "::\n" not in converted
        assert converted.count("```") % 2 == 0
