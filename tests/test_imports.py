"""The package's modules import one another one way: no cycle, whether an import runs at load time,
inside a function (lazily) or only for the type checker (``if TYPE_CHECKING:``); and every module
imports cleanly on its own, in a fresh interpreter state, whatever was imported before it."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "iqmetrix_dropship"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports, anywhere in it."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "an import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(name for name in MODULES if not name.endswith(".__main__")))
def test_every_module_imports_on_its_own(module: str) -> None:
    """A fresh import of ``module`` alone (the package's modules forgotten first): a cycle that only
    bites in one import order (a module that needs its package's ``__init__`` to be done) shows."""
    loaded = {name: mod for name, mod in sys.modules.items() if name == PACKAGE or name.startswith(PACKAGE + ".")}
    for name in loaded:
        del sys.modules[name]
    try:
        importlib.import_module(module)
    finally:
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        sys.modules.update(loaded)


# What `from iqmetrix_dropship import DropshipClient` must not load (issue 16): the follower and its
# checkpoint stores (sqlite3), the ledger, and the model classes and the parser, which load with
# the first call that needs them (each pydantic class costs its creation, even unvalidated); nor
# anyio (the async seams load it with the first async object) nor pydantic's type machinery (its
# SecretStr alone cost 30 ms: the SDK's secrets are its own small class).
NOT_LOADED_BY_THE_CLIENT = (
    "sqlite3",
    "anyio",
    "pydantic.main",
    "pydantic.types",
    "iqmetrix_dropship.follow",
    "iqmetrix_dropship.ledger",
    "iqmetrix_dropship._sync.follower",
    "iqmetrix_dropship._async.follower",
    "iqmetrix_dropship.models._feed",
    "iqmetrix_dropship.models._catalog",
    "iqmetrix_dropship.models._updates",
    "iqmetrix_dropship.feed._parser",
)


def test_importing_the_client_loads_neither_the_follower_nor_the_ledger() -> None:
    probe = (
        "import sys, json; from iqmetrix_dropship import DropshipClient; "
        f"print(json.dumps([name for name in {list(NOT_LOADED_BY_THE_CLIENT)!r} if name in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_the_models_package_loads_its_model_modules_on_first_use() -> None:
    probe = (
        "import sys, json; import iqmetrix_dropship.models as models; "
        "before = [name for name in ('iqmetrix_dropship.models._feed', 'iqmetrix_dropship.models._catalog', "
        "'iqmetrix_dropship.models._updates') if name in sys.modules]; "
        "from iqmetrix_dropship.models._feed import FeedPage; "
        "print(json.dumps([before, models.FeedPage is FeedPage]))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [[], True]


def test_every_public_model_name_resolves_to_its_class() -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    for name in models.__all__:
        assert getattr(models, name) is not None
    assert set(models.__all__) <= set(dir(models))
