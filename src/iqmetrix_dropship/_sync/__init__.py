"""The sync client, transport and follower: generated from ``_async/`` by ``scripts/unasync.py``.

Do not edit the modules here: edit their async source and run ``./run generate``. The public
names are re-exported by the package: ``from iqmetrix_dropship import DropshipClient``.
"""
