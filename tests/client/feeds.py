"""Small Atom pages for the client tests, shaped like the spec's examples."""

from __future__ import annotations

PROD = "https://dropship.iqmetrix.net/v1/Suppliers(60455)"


def entry(entry_id: str, order_id: str = "32cb2b46-fb26-48c8-9b8f-67ed759e2599") -> str:
    return f"""
    <entry>
        <id>{entry_id}</id>
        <title type="text">Dropship Order Status Updated</title>
        <published>2015-10-09T15:36:45Z</published>
        <updated>2015-10-09T15:36:45Z</updated>
        <content type="application/xml">
            <order-status-updated xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:iQmetrix:dropship">
                <company-id>50068</company-id>
                <items>
                    <item-information>
                        <quantity>1</quantity>
                        <sku>AB-JH0786-MI</sku>
                        <status>Shipped</status>
                        <tracking-info i:nil="true" />
                    </item-information>
                </items>
                <order-id>{order_id}</order-id>
                <supplier-id>60455</supplier-id>
            </order-status-updated>
        </content>
    </entry>"""


def page(
    page_id: str,
    entry_ids: list[str],
    *,
    prev: str | None = None,
    next_: str | None = None,
    host: str = PROD,
    prev_href: str | None = None,
) -> bytes:
    links = [
        f'<link rel="current" href="{host}/Notifications" />',
        f'<link rel="self" href="{host}/Notifications/Pages({page_id})" />',
    ]
    if next_:
        links.append(f'<link rel="next-archive" href="{host}/Notifications/Pages({next_})" />')
    if prev_href is not None:
        links.append(f'<link rel="prev-archive" href="{prev_href}" />')
    elif prev:
        links.append(f'<link rel="prev-archive" href="{host}/Notifications/Pages({prev})" />')
    body = "".join(entry(e) for e in entry_ids)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
    <title type="text">Dropship Order Event Feed</title>
    <id>urn:uuid:{page_id}</id>
    <updated>2015-10-23T21:37:34Z</updated>
    <author><name>iQmetrix</name></author>
    {"".join(links)}
    {body}
</feed>""".encode()


def page_ids(n: int) -> list[str]:
    """``n`` page GUIDs, index 0 the oldest."""
    return [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]


def chain(n_pages: int, per_page: int = 3) -> tuple[list[str], dict[str, bytes]]:
    """A feed of ``n_pages`` pages: (every entry id newest first, {page id: page bytes})."""
    ids = page_ids(n_pages)
    pages: dict[str, bytes] = {}
    newest_first: list[str] = []
    for i in reversed(range(n_pages)):
        entries = [f"urn:uuid:entry-{i}-{k}" for k in reversed(range(per_page))]
        newest_first += entries
        pages[ids[i]] = page(
            ids[i],
            entries,
            prev=ids[i - 1] if i > 0 else None,
            next_=ids[i + 1] if i + 1 < n_pages else None,
        )
    return newest_first, pages
