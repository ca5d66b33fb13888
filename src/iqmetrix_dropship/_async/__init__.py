"""The source of the client, its transport and the feed follower, written once, async.

``scripts/unasync.py`` generates their sync twins in ``_sync/`` (``./run generate``), and
``./run test`` fails when a twin is stale. Edit here, never there. The public names are
re-exported by the package: ``from iqmetrix_dropship import AsyncDropshipClient``.
"""
