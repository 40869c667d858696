"""A locale's words (the seeds' level definitions) and formats."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.i18n import LOCALES, translator
from gateway.model import Level

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_locales_are_english_and_simplified_chinese() -> None:
    assert LOCALES == ("en", "zh-CN")
    with pytest.raises(ValueError, match="unknown locale 'zh': one of en, zh-CN"):
        translator("zh")


def test_zh_cn_level_meanings_are_the_seeds_own_words() -> None:
    """Seed 000's definitions of the four levels (故障等级)."""
    zh = translator("zh-CN")
    meanings = [zh.gettext(level.meaning) for level in Level]
    assert meanings[0].startswith("一级故障：系统瘫痪或服务中断")
    assert "系统的基本功能不能实现或全面退化" in meanings[0]
    assert meanings[1].startswith("二级故障：系统出现主要部分设备或功能不能实现")
    assert meanings[2].startswith("三级故障：系统出现配件设备损坏")
    assert meanings[3].startswith("四级故障：非系统故障，用户操作故障原因")


def test_english_is_the_code_s_own_text() -> None:
    en = translator("en")
    assert en.gettext(Level.L1.meaning) == Level.L1.meaning
    assert en.ngettext("{n} device", "{n} devices", 2) == "{n} devices"


def test_numbers_dates_and_lists_follow_the_locale() -> None:
    moment = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    en, zh = translator("en"), translator("zh-CN")
    assert en.decimal(2257082.5, 1) == "2,257,082.5"
    assert zh.percent(0.56) == "56%"
    assert en.datetime(moment, SHANGHAI, "yyyy-MM-dd HH:mm") == "2026-12-06 14:30"
    assert zh.datetime(moment, SHANGHAI, "long").startswith("2026年12月6日")
    assert en.date(moment.date(), "long") == "December 6, 2026"
    assert zh.list(["sw-core", "nvr-1", "ups-1"]) == "sw-core、nvr-1和ups-1"
