"""The docs site's pages say what they must, and the files they name exist."""

from __future__ import annotations

import re

import yaml

from iqmetrix_dropship import __version__

from .markdown import DOCS, ROOT, code_blocks

OWNED_ELSEWHERE = {"cli.md"}  # written by the command line's authors; in the nav all the same


def _nav_pages(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_pages(item) for item in nav))
    if isinstance(nav, dict):
        return set().union(*(_nav_pages(value) for value in nav.values()))
    return set()


def _mkdocs_config() -> dict[str, object]:
    # mkdocs.yml holds no custom tags (no !!python/name): the safe loader reads it.
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert isinstance(config, dict)
    return config


def test_every_page_of_docs_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = _nav_pages(_mkdocs_config()["nav"])
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages - nav == set()
    assert nav - pages <= OWNED_ELSEWHERE


def test_the_docs_build_strictly_with_the_api_reference_from_src() -> None:
    config = _mkdocs_config()
    assert config["strict"] is True
    plugins = config["plugins"]
    assert isinstance(plugins, list)
    mkdocstrings = next(p["mkdocstrings"] for p in plugins if isinstance(p, dict) and "mkdocstrings" in p)
    assert mkdocstrings["handlers"]["python"]["paths"] == ["src"]


def test_the_readme_opens_with_the_title_and_the_two_commands() -> None:
    opening = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:6]
    assert opening == [
        "# iqmetrix-dropship",
        "",
        "```sh",
        "./run demo    # a supplier's day against the local emulator: no credentials needed",
        "./run test    # ruff, mypy --strict and the test suite",
        "```",
    ]


def test_the_readme_shows_how_to_install_the_sdk_and_its_extras() -> None:
    shell = "".join(b.code for b in code_blocks(ROOT / "README.md") if b.language == "sh")
    for command in ("pip install iqmetrix-dropship", "[emulator]", "[cli]"):
        assert command in shell


def test_the_changelog_has_a_section_for_the_current_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(__version__)}\] - (Unreleased|\d{{4}}-\d{{2}}-\d{{2}})$", changelog, re.M)
    assert f"[{__version__}]: https://" in changelog


def test_the_traps_page_covers_every_trap_once_in_order() -> None:
    text = (DOCS / "traps.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"^\| (\d+) \|", text, re.M)]
    assert numbers == list(range(1, 29))


def test_every_module_the_traps_page_names_exists() -> None:
    text = (DOCS / "traps.md").read_text(encoding="utf-8")
    modules = set(re.findall(r"`(iqmetrix_dropship/[\w/]+\.py)`", text))
    assert len(modules) >= 15
    missing = sorted(m for m in modules if not (ROOT / "src" / m).is_file())
    assert missing == []


def test_the_version_is_kept_in_one_place() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert '[tool.hatch.version]\npath = "src/iqmetrix_dropship/_version.py"' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.M)
    version_file = (ROOT / "src" / "iqmetrix_dropship" / "_version.py").read_text(encoding="utf-8")
    assert re.findall(r'^__version__ = "(.+)"$', version_file, re.M) == [__version__]
