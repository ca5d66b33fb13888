"""Build the sdist and the wheel, check them, and smoke-test the wheel as a user would install it.

1. ``python -m build``: the sdist, then the wheel built *from the sdist* (so a file missing from
   the sdist breaks the wheel here, not for a user building from PyPI's sdist).
2. ``twine check --strict``: the metadata and the README render on PyPI.
3. The archives hold what they must (``py.typed``, the license, the README, no stray tests in the
   wheel) and the metadata says what pyproject.toml says (version, Python, license, extras, URLs).
4. A fresh virtual environment, the wheel installed with its ``emulator`` extra, and a script run
   there from an empty directory with ``python -I`` (so the source tree cannot be imported):
   import, version, start an emulator, read the feed, ship an order, follow the feed.

Usage: ``python scripts/smoke_wheel.py [--dist-dir DIR]`` (``./run package``). With ``--dist-dir``
the checked distributions are left there (the release workflow uploads them); otherwise they go
to a temporary directory. Needs ``build`` and ``twine`` (the ``release`` extra, part of ``dev``).
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (ROOT / "src" / "iqmetrix_dropship" / "_version.py").read_text(encoding="utf-8")
)

SMOKE = """
import pathlib, sys, tempfile

import iqmetrix_dropship
from iqmetrix_dropship import DropshipClient, MemoryCheckpoint, OrderCreated, OrderStatus, __version__
from iqmetrix_dropship.emulator import Emulator

installed = pathlib.Path(iqmetrix_dropship.__file__).resolve()
assert "site-packages" in installed.parts, f"imported from {installed}, not from the installed wheel"
assert __version__ == sys.argv[1], (__version__, sys.argv[1])
assert (installed.parent / "py.typed").is_file(), "py.typed is missing"

emulator = Emulator(orders=12, seed=1)
with emulator.serve() as server, DropshipClient(
    **emulator.credentials.as_dict(), base_url=server.base_url, accounts_url=server.base_url
) as client:
    entries = list(client.iter_entries())
    order = next(entry.event for entry in entries if isinstance(entry.event, OrderCreated))
    echo = client.update_order_status(
        order.order_id, OrderStatus.SHIPPED, tracking_info="1Z999AA10123456784", shipping_provider="UPS"
    )
    assert echo.status is OrderStatus.SHIPPED, echo
    assert emulator.order_status(str(order.order_id)) == "Shipped"
    followed = sum(1 for _ in client.follow(checkpoint=MemoryCheckpoint()).poll())
    assert followed == len(entries) + 1, (followed, len(entries))  # the history and our own update

print(f"iqmetrix-dropship {__version__} from {installed.parent}")
print(f"read {len(entries)} entries, shipped order {order.order_id}, followed {followed} entries: ok")
"""


def step(title: str) -> None:
    print(f"== {title}", flush=True)


def show(output: str) -> None:
    print("   " + output.strip().replace("\n", "\n   "), flush=True)


def expect(condition: bool, failure: str) -> None:
    """An ``assert`` that ``python -O`` cannot remove."""
    if not condition:
        raise SystemExit(f"package check failed: {failure}")


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``command``; its output is returned, and shown only if it fails."""
    result = subprocess.run(  # noqa: S603 - fixed commands, our own interpreters
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        raise SystemExit(f"failed ({result.returncode}): {' '.join(map(str, command))}")
    return result.stdout


def build(dist: Path) -> tuple[Path, Path]:
    step(f"build the sdist, then the wheel from it, into {dist}")
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    (sdist,) = dist.glob("iqmetrix_dropship-*.tar.gz")
    (wheel,) = dist.glob("iqmetrix_dropship-*-py3-none-any.whl")
    print(f"   {sdist.name}, {wheel.name}")
    return sdist, wheel


def check_archives(sdist: Path, wheel: Path, version: str) -> None:
    step("twine check --strict")
    wide = {**os.environ, "COLUMNS": "200"}
    show(run(sys.executable, "-m", "twine", "--no-color", "check", "--strict", sdist, wheel, env=wide))

    step("the archives' contents and metadata")
    expect(wheel.name == f"iqmetrix_dropship-{version}-py3-none-any.whl", f"wheel name {wheel.name}")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"iqmetrix_dropship-{version}.dist-info"
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    for needed in ("iqmetrix_dropship/py.typed", "iqmetrix_dropship/__init__.py", f"{info}/licenses/LICENSE"):
        expect(needed in names, f"{needed} is not in the wheel")
    stray = sorted(name for name in names if not name.startswith(("iqmetrix_dropship/", info)))
    expect(not stray, f"stray files in the wheel: {stray}")
    expected = {
        "Name": "iqmetrix-dropship",
        "Version": version,
        "Requires-Python": ">=3.10",
        "License-Expression": "MIT",
        "Description-Content-Type": "text/markdown",
    }
    for field, value in expected.items():
        expect(metadata[field] == value, f"metadata {field} is {metadata[field]!r}, not {value!r}")
    expect({"emulator", "cli"} <= set(metadata.get_all("Provides-Extra") or []), "extras emulator and cli")
    expect(len(metadata.get_all("Project-URL") or []) >= 3, "project URLs")
    expect("Typing :: Typed" in (metadata.get_all("Classifier") or []), "the Typing :: Typed classifier")
    expect("dropship = iqmetrix_dropship.cli:main" in entry_points, "the dropship console script")
    with tarfile.open(sdist) as archive:
        top = f"iqmetrix_dropship-{version}"
        members = {member.name.removeprefix(top + "/") for member in archive.getmembers()}
    for needed in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "src/iqmetrix_dropship/py.typed"):
        expect(needed in members, f"{needed} is not in the sdist")
    print(f"   wheel: {len(names)} files; sdist: {len(members)} files; metadata ok")


def smoke(wheel: Path, version: str, work: Path) -> None:
    step("a fresh venv with the wheel and its emulator extra")
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "IQMETRIX_", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    run(python, "-m", "pip", "install", "--quiet", f"{wheel}[emulator]", env=env)

    step("import it, read the feed and ship an order, from an empty directory")
    empty = work / "elsewhere"
    empty.mkdir()
    script = work / "smoke.py"
    script.write_text(SMOKE, encoding="utf-8")
    show(run(python, "-I", script, version, cwd=empty, env=env))
    run(python, "-I", "-m", "iqmetrix_dropship.emulator", "--help", cwd=empty, env=env)
    dropship = subprocess.run(  # noqa: S603 - the installed console script
        [str(venv / "bin" / "dropship"), "--help"], cwd=empty, env=env, capture_output=True, text=True, check=False
    )
    # Without the cli extra the console script says which extra to install (exit 2), no traceback.
    expect("Traceback" not in dropship.stderr, f"dropship --help failed:\n{dropship.stderr}")
    print(f"   python -m iqmetrix_dropship.emulator --help: ok; dropship --help: exit {dropship.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist-dir", type=Path, help="keep the checked sdist and wheel here")
    args = parser.parse_args()
    if VERSION is None:
        raise SystemExit("no __version__ in src/iqmetrix_dropship/_version.py")
    version = VERSION.group(1)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smoke-wheel-") as temp:
        work = Path(temp)
        dist = args.dist_dir.resolve() if args.dist_dir else work / "dist"
        dist.mkdir(parents=True, exist_ok=True)
        stale = sorted(dist.glob("iqmetrix_dropship-*"))
        if stale:
            raise SystemExit(f"{dist} already holds distributions: {', '.join(p.name for p in stale)}")
        sdist, wheel = build(dist)
        check_archives(sdist, wheel, version)
        smoke(wheel, version, work)
    print(f"== package ok: iqmetrix-dropship {version} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
