"""``python -m simulators``: the ``lvgw-sim`` command."""

from simulators.cli import main

raise SystemExit(main())
