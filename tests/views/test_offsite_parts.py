"""A reply in parts (cmd/report): each part's JSON within the limit, joined back to the
text by gateway.remote.Parts in any order of arrival, checked against its sha256."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.remote import BadParts, Parts
from gateway.views.offsite import MAX_PARTS, split_text
from tests.examples import examples

BASE = {"ok": True, "format": "md", "request_id": "r-1"}


@settings(max_examples=examples(200), deadline=None)
@given(text=st.text(max_size=20_000), limit=st.integers(min_value=4096, max_value=9000))
def test_parts_fit_and_join_back(text: str, limit: int) -> None:
    parts = split_text(BASE, "report", text, limit)
    assert all(len(json.dumps(p).encode()) <= limit for p in parts)
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    shuffled = random.Random(len(text)).sample(parts, len(parts))
    joined = Parts("report")
    results = [joined.add(json.loads(json.dumps(p))) for p in shuffled]
    assert results[:-1] == [None] * (len(parts) - 1)
    whole = results[-1]
    assert whole is not None and whole["report"] == text
    assert {k: whole[k] for k in BASE} == BASE


def test_the_worst_characters_still_fit() -> None:
    """Quotes, control characters and characters outside the BMP cost 2 to 12 bytes of
    JSON each: the parts still fit, and nothing is lost."""
    text = ('"\\\x01\U0001f600é' * 3000) + "end"
    parts = split_text(BASE, "report", text, 4096)
    assert all(len(json.dumps(p).encode()) <= 4096 for p in parts)
    assert "".join(p["report"] for p in parts) == text


def test_an_empty_report_is_one_part() -> None:
    assert split_text(BASE, "report", "", 4096) == [
        {**BASE, "part": 1, "parts": 1, "sha256": split_text(BASE, "r", "", 4096)[0]["sha256"],
         "report": ""}
    ]  # fmt: skip


def test_too_many_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="more than"):
        split_text(BASE, "report", "x" * (MAX_PARTS * 4096), 4096)


def test_a_changed_part_is_caught() -> None:
    parts = split_text(BASE, "report", "a" * 10_000, 4096)
    parts[1]["report"] = parts[1]["report"].upper()
    joined = Parts("report")
    for part in parts[:-1]:
        assert joined.add(part) is None
    with pytest.raises(BadParts, match="sha256"):
        joined.add(parts[-1])
