"""The digest's `summary`: the day's figures in a sentence, in the site's language."""

from __future__ import annotations

from typing import Any

from gateway.i18n import translator
from gateway.proactive.digest import summary_text

BODY: dict[str, Any] = {
    "devices": {"total": 7, "unreachable": ["sw-2"], "not_polled": [], "with_open_tickets": {}},
    "open_tickets": {
        "count": 2, "by_severity": {"1": 0, "2": 1, "3": 1, "4": 0},
        "overdue_response": ["t-1"], "forecasts": [], "items": [],
    },
    "last_24h": {"resolved": [{"ticket_id": "t-0"}]},
    "contract": {"next_inspection_due": "2026-07-01", "days_to_end": 454},
}  # fmt: skip


def test_the_summary_in_english() -> None:
    assert summary_text(BODY, translator("en")) == (
        "7 devices, 1 not answering; 2 open tickets (L2: 1, L3: 1); 1 past its response"
        " deadline; 1 resolved in the last 24 hours; next inspection due 2026-07-01;"
        " the contract ends in 454 days."
    )


def test_the_summary_in_chinese() -> None:
    assert summary_text(BODY, translator("zh-CN")) == (
        "设备 7 台，1 台无响应；未结工单 2 张 (L2: 1, L3: 1)；1 张已超过响应时限；"
        "近 24 小时解决 1 张；下次巡检 2026-07-01；合同还有 454 天到期。"
    )


def test_a_quiet_day() -> None:
    quiet = {
        **BODY,
        "devices": {**BODY["devices"], "unreachable": []},
        "open_tickets": {**BODY["open_tickets"], "count": 0, "overdue_response": [],
                         "by_severity": dict.fromkeys("1234", 0)},
        "last_24h": {"resolved": []},
        "contract": {"next_inspection_due": None, "days_to_end": None},
    }  # fmt: skip
    assert summary_text(quiet, translator("en")) == (
        "7 devices; 0 open tickets; 0 resolved in the last 24 hours."
    )
