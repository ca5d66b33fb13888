"""The SDK's log on stderr, for the commands that show it (``--debug``; ``dropship run``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import typer

from ..ops._logs import JsonFormatter, Secrets, TextFormatter

__all__ = ["log_to_stderr"]


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            # Never logging's handleError: it prints the record's arguments (a secret among them,
            # maybe) and a traceback, unredacted and over several lines. A fixed line instead.
            where = f"{record.pathname}:{record.lineno}"
            line = f"{record.levelname} {record.name}: a log record that could not be formatted (at {where})"
        typer.echo(line, err=True)


def _no_secrets() -> tuple[str, ...]:
    return ()


def log_to_stderr(level: int, *, json_lines: bool = False, secrets: Secrets = _no_secrets) -> Callable[[], None]:
    """Show the SDK's own log on stderr from ``level`` up, as text or as one JSON object per line
    (``ops/_logs.py``), every line redacted of ``secrets()``; returns the undo.

    Only the ``iqmetrix_dropship`` logger: its lines never hold a secret (API.md), and the
    redaction is the net under that. httpx and httpcore stay quiet. A command that shows the log
    its own way (``dropship run --log-format json``) replaces the one ``--debug`` installed, until
    its undo puts that one back.
    """
    logger = logging.getLogger("iqmetrix_dropship")
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter(secrets) if json_lines else TextFormatter(secrets))
    replaced = [existing for existing in logger.handlers if isinstance(existing, _StderrHandler)]
    previous = logger.level
    for existing in replaced:
        logger.removeHandler(existing)
    logger.addHandler(handler)
    logger.setLevel(level)

    def undo() -> None:
        logger.removeHandler(handler)
        for existing in replaced:
            logger.addHandler(existing)
        logger.setLevel(previous)

    return undo
