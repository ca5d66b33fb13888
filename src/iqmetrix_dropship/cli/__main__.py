"""``python -m iqmetrix_dropship.cli``: the same as the ``dropship`` command."""

from . import main

main()
