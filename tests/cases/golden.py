"""The comparison every timeline golden case shares: actual vs expected.yaml.

`LVGW_UPDATE_GOLDEN=1` rewrites the expected file from what was produced; review its
diff like code before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml


def dump(changes: list[dict[str, Any]]) -> str:
    """YAML as people read it: a zh-CN site's titles in characters, not escapes."""
    return yaml.safe_dump(
        changes, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )


def check_against_expected(case: Path, actual: list[dict[str, Any]], produced_by: str) -> None:
    expected_file = case / "expected.yaml"
    if os.environ.get("LVGW_UPDATE_GOLDEN"):
        expected_file.write_text(dump(actual), encoding="utf-8")
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8")) or []
    if actual != expected:
        diff = difflib.unified_diff(
            dump(expected).splitlines(keepends=True),
            dump(actual).splitlines(keepends=True),
            f"{case.name}/expected.yaml",
            produced_by,
        )
        pytest.fail("conditions differ from the expected timeline:\n" + "".join(diff), False)
