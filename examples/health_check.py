"""Is everything reachable? Each service's health check (no token), then a token and the feed.

`dropship doctor` does the same from a shell, with a fix for each failure.
"""

from __future__ import annotations

from _connect import connect

with connect() as client:
    for name, status in client.ping().items():
        state = "ok" if status.ok else f"down ({status.error})"
        print(f"{name:16} {state:10} version {status.application_version or '?'}  {status.url}")
    expires = client.authenticate()
    print(f"token accepted, valid until {expires:%H:%M} UTC" if expires else "static token: not checked")
    page = client.get_notifications()
    print(f"feed readable: {len(page.entries)} entries on the current page; all services healthy")
