"""How many examples a property test draws: all of them in `make test`, a tenth in
`make check` (LVGW_QUICK_EXAMPLES=1), which wants the unit tier in under a minute.

Tests that set no count get the same from the Hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import os

QUICK = os.environ.get("LVGW_QUICK_EXAMPLES") == "1"


def examples(full: int) -> int:
    """``full`` examples, or a tenth of them (at least 10) in the quick run."""
    return max(10, full // 10) if QUICK else full
