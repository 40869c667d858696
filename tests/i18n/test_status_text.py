"""`lvgw status` in the site's language: the same figures, the words of the catalog."""

from __future__ import annotations

import io
from pathlib import Path

from gateway.i18n import translator
from gateway.views.status import _pad, render
from tests.unit.test_snapshot_model import NOW, built


def shown(tmp_path: Path, locale: str) -> str:
    out = io.StringIO()
    render(built(tmp_path), out, {}, NOW, translator(locale))
    return out.getvalue()


def test_lvgw_status_in_chinese(tmp_path: Path) -> None:
    text = shown(tmp_path, "zh-CN")
    assert "站点 s：" in text
    assert "上行链路已连接，待发 2 ticket" in text
    assert "设备" in text.splitlines()[3] and "概况" in text.splitlines()[3]
    assert "未结工单（2）" in text
    assert "响应 剩余 6m59s，到场 剩余 1h56m；未确认" in text
    # The ticket's own title, ids and codes are as they are.
    assert "L1 sw (+nvr): sw down" in text


def test_lvgw_status_in_english_is_as_before(tmp_path: Path) -> None:
    text = shown(tmp_path, "en")
    assert "OPEN TICKETS (2)" in text
    assert "respond in 6m59s, on site in 1h56m; not acknowledged" in text
    assert text.splitlines()[3].startswith("DEVICE         KIND         STATE        LEVEL  POLLED")


def test_columns_count_a_chinese_character_as_two() -> None:
    assert _pad("设备", 6) == "设备  "
    assert _pad("sw", 6) == "sw    "
