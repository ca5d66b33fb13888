"""Page ids from the feed's links: plain code, no pydantic, so that the cheap scan of a page
(``feed._scan``) and the client load no model class."""

from __future__ import annotations

import re

__all__ = ["page_id_from_href"]

# traps.md 4: only the Pages({id}) part of an href is trusted; the host never is.
# Page ids are GUIDs in every document seen; we accept any plain token so that a
# differently formatted id still walks, but nothing that could smuggle in a path.
_PAGE_ID = re.compile(r"/Notifications/Pages\(([A-Za-z0-9-]{1,64})\)/?(?:[?#].*)?$")


def page_id_from_href(href: str | None) -> str | None:
    """The ``{guid}`` of a ``.../Notifications/Pages({guid})`` href, or ``None``."""
    if not href:
        return None
    match = _PAGE_ID.search(href.strip())
    return match.group(1) if match else None
