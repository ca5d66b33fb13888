"""The protocol core: every decision the SDK makes, as plain code over plain values.

Nothing in this package does I/O. The sync and async clients are two thin drivers that carry
out what it decides (send this request, sleep this long, fetch that page), so they cannot
drift apart. One brain, two pairs of hands (the sans-I/O style; CONTRIBUTING.md, "How the code reads").

- ``config``: environments, hosts and the frozen client configuration
- ``http``: the request and response value objects that cross the driver boundary, and logging
- ``tokens``: the token cache and its refresh policy (OAuth2 password and refresh grants)
- ``retry``: which failures are retried, and how long to wait
- ``feed``: the feed's requests (current page, archive pages) and reading their answers
- ``updates``: the status-update requests, and reading the echo
- ``rules``: every rule an update follows before it is sent, in one place
- ``body``: a response body decoded under a hard cap (compression bombs, oversized answers)
- ``deadline``: one call's time budget
- ``redact``: keeping secrets out of errors
- ``responses``: answers mapped to models or to typed errors
- ``walk``: the archive-page walk as a small state machine
"""
