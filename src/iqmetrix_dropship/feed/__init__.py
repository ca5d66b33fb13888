"""From bytes to a typed ``FeedPage``: the hardened Atom parser. Pure: it knows nothing of HTTP."""

from ._parser import DEFAULT_MAX_FEED_BYTES, parse_feed
from ._scan import PageScan, scan_entry_ids

__all__ = ["DEFAULT_MAX_FEED_BYTES", "PageScan", "parse_feed", "scan_entry_ids"]
