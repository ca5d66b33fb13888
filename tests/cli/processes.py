"""Running `dropship` as a real process: its output read line by line, every wait bounded."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

DROPSHIP = [sys.executable, "-m", "iqmetrix_dropship.cli"]
WAIT = 30.0  # seconds: generous for a loaded CI machine; a passing run takes well under one


class Lines:
    """The lines of one pipe, read by a thread so that a wait can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = WAIT) -> str:
        """The first line (from here on) that ``wanted`` accepts."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the output ended; it was {self.seen}")
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"no such line within {timeout} s; saw {self.seen}")

    def join(self, timeout: float = WAIT) -> None:
        self._thread.join(timeout)

    def rest(self, timeout: float = WAIT) -> list[str]:
        """Every line up to the end of the stream (the process has exited)."""
        self.join(timeout)
        while not self._queue.empty() and (line := self._queue.get_nowait()) is not None:
            self.seen.append(line)
        return self.seen


@contextmanager
def dropship(
    args: Sequence[str], *, env: Mapping[str, str | None], cwd: Path
) -> Iterator[tuple[subprocess.Popen[str], Lines, Lines]]:
    """``dropship ARGS`` as a child process; killed on the way out if it is still running."""
    environ = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    process = subprocess.Popen(
        [*DROPSHIP, *args],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        yield process, out, err
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)
        for lines, stream in ((out, process.stdout), (err, process.stderr)):
            lines.join()
            stream.close()
