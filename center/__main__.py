"""``python -m center``: the same as the ``lvgw-center`` command."""

from center.cli import main

raise SystemExit(main())
