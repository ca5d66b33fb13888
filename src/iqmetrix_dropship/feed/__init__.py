"""From bytes to a typed ``FeedPage``: the hardened Atom parser. Pure: it knows nothing of HTTP.

``parse_feed`` loads on first use (PEP 562), and with it the feed's model classes: the size cap
and the cheap scan (``scan_entry_ids``) need neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._scan import PageScan, scan_entry_ids
from ._xml import DEFAULT_MAX_FEED_BYTES

if TYPE_CHECKING:
    from ._parser import parse_feed


def __getattr__(name: str) -> Any:
    if name != "parse_feed":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._parser import parse_feed  # noqa: PLC0415 - lazily, see the module's docstring

    globals()[name] = parse_feed
    return parse_feed


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = ["DEFAULT_MAX_FEED_BYTES", "PageScan", "parse_feed", "scan_entry_ids"]
