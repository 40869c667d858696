"""Golden: each DC-09 frame of tests/cases/sia/frames.yaml, taken by the receiver for
a device of the shipped profile alarm-panel-sia, gives the readings the table says
(``point[/zone]: value``).

``LVGW_UPDATE_GOLDEN=1`` rewrites the ``readings`` of the table from what is
produced; review the diff like code.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from drivers.sia.receiver import Account, Dc09Receiver, ReceiverConfig
from gateway.config.load import BUILTIN_PROFILES, _load_profile
from gateway.protocols.sia.mapping import compile_profile
from gateway.protocols.sia.state import PanelState
from tests.readings import by_key

TABLE = Path(__file__).parent / "frames.yaml"
CASES = yaml.safe_load(TABLE.read_text())
AT = datetime(2026, 3, 6, 10, 15, 30, tzinfo=UTC)  # the frames' timestamp


def readings_of(case: dict[str, Any]) -> dict[str, Any]:
    profile, problems, _ = _load_profile("alarm-panel-sia", [BUILTIN_PROFILES])
    assert profile is not None, problems
    key = None
    if "key" in case:
        key = bytes.fromhex(case["key"]) if case["key_format"] == "hex" else case["key"].encode()
    account = Account(case["expect"]["account"], key, name="panel")
    receiver = Dc09Receiver(ReceiverConfig("127.0.0.1", 0, (account,)), clock=lambda: AT)
    reply = receiver.handle(b"\n" + case["frame"].encode() + b"\r", "test", "tcp")
    assert reply is not None and b"ACK" in reply, reply
    message = receiver.get_nowait()
    assert message is not None
    state = PanelState("panel", compile_profile(profile))
    return by_key(state.apply(message))


def test_every_frame_gives_the_readings_of_the_table() -> None:
    actual = {case["name"]: readings_of(case) for case in CASES}
    if os.environ.get("LVGW_UPDATE_GOLDEN"):
        text = TABLE.read_text()
        head = text[: text.index("- name:")]
        for case in CASES:
            case["readings"] = actual[case["name"]]
        TABLE.write_text(head + yaml.safe_dump(CASES, sort_keys=False, width=200))
    for case in CASES:
        assert actual[case["name"]] == case.get("readings"), case["name"]


@pytest.mark.parametrize("code", ["BA", "BH", "FA", "FH", "1130", "3110"])
def test_alarms_are_recorded_and_raise_nothing(code: str) -> None:
    """An alarm is a reading of its zone; no rule of the profile reads it."""
    profile, _, _ = _load_profile("alarm-panel-sia", [BUILTIN_PROFILES])
    assert profile is not None
    events = compile_profile(profile)
    (target,) = events.by_code[code]
    assert target.table == "zone"
    text = yaml.safe_dump([r.model_dump(mode="json") for r in profile.rules])
    assert target.point not in text
