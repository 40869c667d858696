"""site.locale: the site file's language, and what it changes on the wire (two fields)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from gateway import shipped
from gateway.config import ConfigError, load_config
from gateway.config.site import Site
from gateway.model import EventKind, Level, TicketEvent
from gateway.tickets.wire import event_payload

SITE = """\
site:
  id: site-1
  name: Test
  customer: {{name: C}}
  contract: {{type: annual}}
  timezone: Asia/Shanghai
{locale}uplink:
  mqtt: {{host: 127.0.0.1}}
devices:
  - {{id: sw-a, kind: switch, profile: switch-generic, address: 192.0.2.1}}
"""


def write(tmp_path: Path, locale_line: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(locale=locale_line))
    return path


def test_the_default_locale_is_english(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).site_file.site.locale == "en"


def test_zh_cn_is_taken(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "  locale: zh-CN\n")).site_file.site.locale == "zh-CN"


def test_an_unknown_locale_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "  locale: zh_CN\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:7: field 'site.locale': Input should be 'en' or 'zh-CN'"
    ]


@pytest.mark.integration
def test_check_config_exits_2_on_an_unknown_locale(tmp_path: Path) -> None:
    path = write(tmp_path, "  locale: chinese\n")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "-c", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{path}:7: field 'site.locale': Input should be 'en' or 'zh-CN'" in result.stderr
    assert "Traceback" not in result.stderr


def _payload(locale: str) -> dict[str, object]:
    site = Site.model_validate(
        {"id": "site-1", "name": "Plant", "customer": {"name": "C"},
         "contract": {"type": "annual"}, "locale": locale}
    )  # fmt: skip
    t0 = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    event = TicketEvent(
        event_id="ev-1", event=EventKind.OPEN, ticket_id="t-1", seq=1, severity=Level.L1,
        title="sw-core is unreachable", device_id="sw-core", device_kind="switch",
        fault_code="device.unreachable", occurred_at=t0, emitted_at=t0,
        response_due=t0 + timedelta(minutes=10), onsite_due=t0 + timedelta(hours=2),
        dedup_key="site-1/sw-core/device.unreachable/",
    )  # fmt: skip
    return event_payload(event, site, None)


def test_only_level_meaning_follows_the_locale_on_the_wire() -> None:
    """The title is written in the site's language when the fault is found; of the
    rest only level_meaning changes, and both payloads are valid by the schema."""
    en, zh = _payload("en"), _payload("zh-CN")
    schema = Draft202012Validator(shipped.schema("ticket-event"))
    schema.validate(json.loads(json.dumps(zh)))
    assert en["level_meaning"] == "system down: the system is paralysed or its service interrupted"
    assert (
        zh["level_meaning"] == "一级故障：系统瘫痪或服务中断，导致系统的基本功能不能实现或全面退化"
    )
    assert {k: v for k, v in en.items() if k != "level_meaning"} == {
        k: v for k, v in zh.items() if k != "level_meaning"
    }
