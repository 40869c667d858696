"""`lvgw status` in the site's language: the same figures, the words of the catalog."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import load_config
from gateway.config.meanings import Meaning
from gateway.i18n import translator
from gateway.metrics.store.metric_store import MetricStore
from gateway.model import Reading, Value
from gateway.present import humanize
from gateway.present.summary import site_meanings, summarize
from gateway.present.tables import Table
from gateway.views.charts import draw, worth_charting
from gateway.views.pages import index_page, table_html
from gateway.views.status import _pad, render
from tests.rules.harness import poll, write_site
from tests.unit.test_snapshot_model import NOW, built
from tests.unit.test_summary import DEVICES, status_of


def shown(tmp_path: Path, locale: str) -> str:
    out = io.StringIO()
    render(built(tmp_path), out, {}, NOW, translator(locale))
    return out.getvalue()


def test_lvgw_status_in_chinese(tmp_path: Path) -> None:
    text = shown(tmp_path, "zh-CN")
    assert "站点 s：" in text
    assert "上行链路已连接，待发 2 条工单事件" in text
    assert "设备" in text.splitlines()[3] and "概况" in text.splitlines()[3]
    assert "未结工单（2）" in text
    assert "响应 剩余 6分59秒，到场 剩余 1小时56分；未确认" in text
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


def test_the_status_page_in_chinese(tmp_path: Path) -> None:
    data = built(tmp_path)
    page = index_page(data, "运行中", NOW, {}, translator("zh-CN"))
    assert page.startswith('<!DOCTYPE html><html lang="zh-CN">')
    assert "<h2>未结工单（2）</h2>" in page and "<h2>设备（3）</h2>" in page
    assert "<th>响应</th><th>到场</th>" in page
    # The page's script ticks the countdowns in the page's words.
    assert 'data-in="剩余 {}" data-over="已超时 {}"' in page
    assert "剩余 6分59秒" in page and 'data-units="秒 分 小时 天"' in page


def test_the_status_page_in_english_is_as_before(tmp_path: Path) -> None:
    page = index_page(built(tmp_path), "running", NOW, {})
    assert page.startswith('<!DOCTYPE html><html lang="en">')
    assert "<h2>Open tickets (2)</h2>" in page and "Machine-readable:" in page
    assert 'data-in="in {}" data-over="OVERDUE {}"' in page


def test_a_device_summary_in_chinese(tmp_path: Path) -> None:
    data = built(tmp_path)
    down = next(d for d in data.devices if d.reachable is False)
    never = next(d for d in data.devices if d.reachable is None)
    zh = translator("zh-CN")
    assert summarize(down, {}, zh).line() == "无响应"
    assert summarize(never, {}, zh).line() == "尚未轮询"
    assert summarize(down, {}).line() == "not answering"


def test_a_ups_on_a_low_battery_in_chinese(tmp_path: Path) -> None:
    """The battery's state in its word, the figure's parts with the language's comma."""
    config = load_config(write_site(tmp_path, DEVICES))
    values: dict[str, Value] = {
        "ups.seconds_on_battery": 300,
        "ups.charge": 20,
        "ups.battery_status": "low",
    }
    device = status_of(config, "ups", poll("ups", 0, values))
    ups = summarize(device, site_meanings(config)["ups"], translator("zh-CN"))
    assert ups.line("；") == "电池供电已 5 分钟；电池 20 %，电量低"


def test_a_table_s_title_and_heads_in_chinese() -> None:
    table = Table("disk", "Disks", ("#", "Name", "State", "Free"), ())
    html = table_html(table, translator("zh-CN"))
    assert "<h2>硬盘 (0)</h2>" in html
    heads = re.findall(r'<button type="button">([^<]*)</button>', html)
    assert heads == ["#", "名称", "状态", "剩余"]
    assert "<h2>Disks (0)</h2>" in table_html(table)


def test_chart_titles_in_chinese() -> None:
    meanings = {"if.in_octets.rate": Meaning.PORT_TRAFFIC, "if.out_octets.rate": Meaning.PORT_TRAFFIC,
                "ups.charge": Meaning.BATTERY_CHARGE}  # fmt: skip
    points = ["if.in_octets.rate", "if.out_octets.rate", "ups.charge", "rtt"]
    zh = [w.title for w in worth_charting(points, meanings, None, translator("zh-CN"))]
    assert zh == ["入流量", "出流量", "电池电量", "往返时延"]
    en = [w.title for w in worth_charting(points, meanings)]
    assert en == ["Traffic in", "Traffic out", "Battery charge", "Round trip"]


async def test_a_charts_unit_in_chinese(tmp_path: Path) -> None:
    """The title above a chart and its axis give the unit in the site's words."""
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    clock = start + timedelta(hours=1)
    async with MetricStore(tmp_path / "metrics.db", clock=clock.timestamp) as store:
        await store.add(
            Reading("ups-1", "ups.minutes_remaining", 40.0 - n, start + timedelta(minutes=n))
            for n in range(10)
        )
        meanings = {"ups.minutes_remaining": Meaning.BATTERY_RUNTIME}
        shown = (("zh-CN", "电池可用时间（分钟）", "分钟"), ("en", "Battery runtime, min", "min"))
        for locale, title, unit in shown:
            tr = translator(locale)
            (wanted,) = worth_charting(["ups.minutes_remaining"], meanings, None, tr)
            chart = await draw(store, "ups-1", wanted, {}, start, clock, timedelta(minutes=1), tr)
            assert chart.title == title
            assert f">{unit}<" in chart.svg  # beside the axis


def test_durations_and_clock_offsets_in_chinese() -> None:
    zh = translator("zh-CN")
    assert humanize.duration(2 * 86400 + 4 * 3600, zh) == "2 天 4 小时"
    assert humanize.duration(2 * 86400 + 4 * 3600) == "2 d 4 h"
    assert humanize.clock_offset(1000.0 + 360, 1000.0, zh) == "+6 分钟"
    assert humanize.clock_offset(1000.2, 1000.0, zh) == "一致"
