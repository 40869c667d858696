"""Values as people read them (gateway/present/humanize.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.present import humanize


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (35, "35 s"), (60, "1 min"), (250, "4 min 10 s"), (3600, "1 h"),
     (3661, "1 h 1 min"), (86400, "1 d"), (187_200, "2 d 4 h"), (187_259, "2 d 4 h"),
     (-360, "6 min")],
)  # fmt: skip
def test_durations_in_their_two_largest_units(seconds: float, text: str) -> None:
    assert humanize.duration(seconds) == text


def test_sizes_are_decimal_from_megabytes_as_recorders_report_them() -> None:
    assert humanize.size_mb(2_257_082) == "2.26 TB"
    assert humanize.size_mb(512_000) == "512 GB"
    assert humanize.size_mb(900) == "900 MB"
    assert humanize.size_mb(12_345_678) == "12.3 TB"


def test_percentages_rates_and_traffic() -> None:
    assert humanize.percent(1_269_000, 2_257_082) == "56 %"
    assert humanize.percent(100) == "100 %"
    assert humanize.percent(0.5) == "0.5 %"
    assert humanize.percent(3, 0) == "-"
    assert humanize.rate(0.25) == "0.25/s"
    assert humanize.rate(12.4) == "12/s"
    assert humanize.bit_rate(1_200_000) == "9.60 Mbit/s"  # bytes/s read, bits shown


def test_a_clock_is_shown_as_its_offset_never_as_unix_seconds() -> None:
    assert humanize.clock_offset(1_796_512_917.8, 1_796_512_557.8) == "+6 min"
    assert humanize.clock_offset(1_796_512_517.0, 1_796_512_557.0) == "-40 s"
    assert humanize.clock_offset(1_796_512_557.4, 1_796_512_557.0) == "in step"


def test_times_in_the_sites_zone_and_states_in_words() -> None:
    when = datetime(2026, 11, 20, 9, 29, 40, tzinfo=UTC)
    assert humanize.local_time(when, "Asia/Shanghai") == "2026-11-20 17:29"
    assert humanize.local_time(when) == "2026-11-20 09:29 UTC"
    assert humanize.local_time(None) == "-"
    assert humanize.state_word("smart_failed") == "smart failed"
    assert humanize.number("smart_failed") == "smart failed"
    assert humanize.number(1_796_512_557.8, "s") == "1,796,512,558 s"
    assert humanize.number(12.0412, "V") == "12.04 V"
    assert humanize.number(97, "%") == "97 %"
    assert humanize.number(None) == "-"
