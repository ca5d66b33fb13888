"""The ``dropship`` command line for operators (the ``cli`` extra: typer and rich).

``main`` is the console script. Nothing here is imported by ``import iqmetrix_dropship``, and
typer and rich are imported only when the command runs, so that the SDK works without them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_MISSING_EXTRA = "error: the dropship command needs its extra: pip install 'iqmetrix-dropship[cli]'"


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``dropship`` with ``argv`` (default: the process's arguments); exits with its exit code."""
    try:
        import rich  # noqa: F401, PLC0415 - the extra is optional
        import typer  # noqa: F401, PLC0415
    except ImportError:
        print(_MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(2) from None
    from ._app import app  # noqa: PLC0415

    app(args=None if argv is None else list(argv), prog_name="dropship")
