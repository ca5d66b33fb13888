"""The SDK's log on stderr, for the commands that show it (``--debug``; ``dropship run``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import typer

__all__ = ["log_to_stderr"]


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(self.format(record), err=True)


def log_to_stderr(level: int) -> Callable[[], None]:
    """Show the SDK's own log on stderr from ``level`` up; returns the undo.

    Only the ``iqmetrix_dropship`` logger: its lines never hold a secret (API.md). httpx and
    httpcore stay quiet.
    """
    logger = logging.getLogger("iqmetrix_dropship")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    return undo
