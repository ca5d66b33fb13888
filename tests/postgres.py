"""A throwaway PostgreSQL server for the tests: ``initdb`` into a temporary folder, a free port on
127.0.0.1, stopped (and the folder removed) at the end.

PostgreSQL refuses to run as root: where the tests run as root, the cluster belongs to an
unprivileged user (``postgres`` if it exists, else ``nobody``) and its commands run through
``runuser``. The server binaries are found on ``PATH`` or in Debian's ``/usr/lib/postgresql/*/bin``
(``./run test`` installs Debian's ``postgresql`` package when none is found and it can).

When no server can be had, the tests that need one are skipped with one loud line, unless
``DROPSHIP_REQUIRE_POSTGRES=1`` (CI sets it): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "find_bindir", "running_server"]


def find_bindir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(initdb).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class PostgresServer:
    """A running cluster: ``dsn`` reaches its ``postgres`` database as the superuser ``dropship``."""

    bindir: Path
    datadir: Path
    port: int
    owner: str | None
    durable: bool = False

    @property
    def dsn(self) -> str:
        return f"postgresql://dropship@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://dropship@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off"  # tests: a crash of the machine need not keep anything
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.datadir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def log(self) -> str:
        path = self.datadir / "log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def running_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a cluster; stop it and remove its folder at the end. ``RuntimeError`` if impossible.
    ``durable``: fsync on, as in production (for benchmarks); off by default, for speed."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb) on PATH or in /usr/lib/postgresql/*/bin")
    owner = None
    if os.geteuid() == 0:
        owner = next((name for name in ("postgres", "nobody") if _user_exists(name)), None)
        if owner is None or shutil.which("runuser") is None:
            raise RuntimeError("running as root, and no unprivileged user or runuser to run PostgreSQL as")
    base = Path(tempfile.mkdtemp(prefix="dropship-pg-"))
    datadir = base / "data"
    datadir.mkdir()
    if owner is not None:
        user = pwd.getpwnam(owner)
        for path in (base, datadir):
            os.chown(path, user.pw_uid, user.pw_gid)
        base.chmod(0o755)
    server = PostgresServer(bindir, datadir, _free_port(), owner, durable)
    try:
        server._run("initdb", "-D", str(datadir), "-U", "dropship", "-A", "trust", "--no-sync", "-E", "UTF8")
        server.start()
    except subprocess.CalledProcessError as error:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {error.stderr or error.stdout}") from None
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
