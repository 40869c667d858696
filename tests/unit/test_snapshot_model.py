"""The status snapshot as a typed model: built from the pipeline's state, it survives
its JSON unchanged, and its JSON is the document status.json always was."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pydantic
import pytest

from gateway import snapshot
from gateway.config import load_config
from gateway.model import Condition, Level, Reading
from gateway.poller import PollResult
from gateway.snapshot import StatusSnapshot, UplinkStatus
from gateway.tickets import ServiceClocks, TicketBook
from gateway.views.status import render
from tests.unit.small_site import write_small_site

# status.json as the agent wrote it before the snapshot had a model (the report's case).
WRITTEN_BEFORE = Path(__file__).parents[1] / "cases" / "report" / "status.json"
NOW = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)  # microseconds: cut to ms


def built(tmp_path: Path) -> StatusSnapshot:
    """A snapshot of every kind of value: a device down, its ticket listing another,
    readings that are bools, ints, floats and text, table states, one never polled."""
    config = load_config(write_small_site(tmp_path))
    clocks = ServiceClocks.for_site(config.site_file.site.zone, config.site_file.site.clocks)
    book = TicketBook("s", clocks, {"sw": "switch", "nvr": "nvr"}, now=lambda: NOW)
    since = NOW - timedelta(minutes=3, microseconds=777)
    book.on_condition(
        Condition("sw", "device.unreachable", Level.L1, "sw down", True, since, related=("nvr",))
    )
    book.on_condition(Condition("nvr", "disk.failed", Level.L2, "disk 2", True, since, "2"))
    views = {"sw": snapshot.DeviceView(), "nvr": snapshot.DeviceView()}
    views["sw"].update(PollResult("sw", NOW - timedelta(seconds=20), False, (), "timeout"))
    views["nvr"].update(
        PollResult("nvr", NOW - timedelta(seconds=5, microseconds=1), True, (
            Reading("nvr", "nvr.recording", "recording", NOW),
            Reading("nvr", "nvr.memory_usage", 42, NOW, unit="%"),
            Reading("nvr", "sys.uptime", 864000.0, NOW, unit="s"),
            Reading("nvr", "rtt", 1.23456, NOW, unit="ms"),
            Reading("nvr", "nvr.alarm", True, NOW),
            Reading("nvr", "disk.status", "smart_failed", NOW, instance="2"),
        ))
    )  # fmt: skip
    uplink = UplinkStatus(connected=True, protocol="5", delivered=7, backlog={"ticket": 2})
    return snapshot.build(config, views, book.open.values(), uplink, NOW)


def test_a_snapshot_read_back_from_its_json_equals_the_one_written(tmp_path: Path) -> None:
    written = built(tmp_path)
    assert StatusSnapshot.from_json(json.dumps(written.to_jsonable())) == written
    snapshot.write(tmp_path / "state", written)
    assert snapshot.read(tmp_path / "state") == written

    assert written.generated_at == NOW.replace(microsecond=123000)
    nvr = written.device("nvr")
    assert nvr is not None and nvr.worst_level == Level.L1  # the L1 ticket lists it
    values = {name: item.value for name, item in nvr.readings.items()}
    assert values["rtt"] == 1.235  # three decimals
    assert [type(values[p]) for p in ("nvr.memory_usage", "sys.uptime", "nvr.alarm")] == [
        int, float, bool
    ]  # fmt: skip
    assert written.tables("nvr") == {"disk.status": {"2": "smart_failed"}}
    assert written.device("ups") is not None and written.tables("ups") == {}
    assert [t.severity for t in written.open_tickets] == [Level.L1, Level.L2]
    assert written.open_tickets[0].concerns("nvr")
    assert not written.open_tickets[1].concerns("sw")


def test_the_json_is_the_document_status_json_always_was(tmp_path: Path) -> None:
    before = json.loads(WRITTEN_BEFORE.read_text(encoding="utf-8"))
    # A file written before the model is read and written again unchanged.
    assert StatusSnapshot.from_json(WRITTEN_BEFORE.read_bytes()).to_jsonable() == before

    # A file written now has the same keys at every level, and times as before.
    snapshot.write(tmp_path / "state", built(tmp_path))
    now = json.loads((tmp_path / "state" / snapshot.SNAPSHOT_NAME).read_text(encoding="utf-8"))
    assert now.keys() == before.keys()
    for part in ("site", "agent", "uplink"):
        assert now[part].keys() == before[part].keys()
    # ... besides "meant" (what the summaries read), added where a device said something.
    assert {tuple(k for k in d if k != "meant") for d in now["devices"]} == {
        tuple(k for k in d if k != "meant") for d in before["devices"]
    }
    assert any("meant" in d for d in now["devices"])
    assert {tuple(t) for t in now["open_tickets"]} == {tuple(t) for t in before["open_tickets"]}
    assert now["generated_at"] == "2026-11-20T09:30:00.123Z"
    assert now["open_tickets"][0]["severity"] == 1


def test_a_snapshot_is_frozen_and_a_bad_file_reads_as_none(tmp_path: Path) -> None:
    written = built(tmp_path)
    with pytest.raises(pydantic.ValidationError):
        written.generated_at = NOW
    state = tmp_path / "state"
    assert snapshot.read(state) is None  # no file yet
    state.mkdir()
    (state / snapshot.SNAPSHOT_NAME).write_text('{"site": {"id": "s"}}')
    assert snapshot.read(state) is None
    (state / snapshot.SNAPSHOT_NAME).write_text("{not json")
    assert snapshot.read(state) is None


def test_a_receiver_s_counts_are_in_the_json_only_when_it_runs(tmp_path: Path) -> None:
    written = built(tmp_path)
    assert "intake" not in written.to_jsonable()["agent"]  # no receiver: as before
    counted = snapshot.IntakeStatus(accepted=12, duplicates=1, refused={"key": 1, "crc": 3})
    agent = written.agent.model_copy(update={"intake": {"sia": counted}})
    with_intake = written.model_copy(update={"agent": agent})
    document = with_intake.to_jsonable()
    assert document["agent"]["intake"] == {
        "sia": {"accepted": 12, "duplicates": 1, "refused": {"key": 1, "crc": 3}}
    }
    assert StatusSnapshot.from_json(json.dumps(document)) == with_intake
    shown = io.StringIO()
    render(with_intake, shown, {}, NOW)
    assert "DC-09 receiver: 12 accepted, 1 duplicates, refused: crc 3, key 1" in shown.getvalue()


def test_a_rebuilt_snapshot_reuses_the_entries_of_devices_that_did_not_change(
    tmp_path: Path,
) -> None:
    """With the agent's cache, a device whose view did not move keeps its entry (and
    its JSON); one that was polled again gets a new one. The JSON is model_dump's."""
    config = load_config(write_small_site(tmp_path))
    views = {"sw": snapshot.DeviceView(), "nvr": snapshot.DeviceView()}
    views["sw"].update(PollResult("sw", NOW, True, (Reading("sw", "sys.uptime", 5.0, NOW),)))
    cache: snapshot.StatusCache = {}
    first = snapshot.build(config, views, (), UplinkStatus(), NOW, cache)
    assert first.to_jsonable() == first.model_dump(mode="json")
    later = NOW + timedelta(seconds=30)
    views["nvr"].update(PollResult("nvr", later, False, (), "timeout"))
    second = snapshot.build(config, views, (), UplinkStatus(), later, cache)
    assert second.device("sw") is first.device("sw")
    assert second.device("nvr") is not first.device("nvr")
    nvr = second.device("nvr")
    assert nvr is not None and nvr.reachable is False and nvr.error == "timeout"
    assert second.to_jsonable() == second.model_dump(mode="json")
    assert list(second.to_jsonable()) == list(second.model_dump(mode="json"))


def test_the_snapshot_text_is_json_dumps_of_the_document_with_unchanged_entries_kept(
    tmp_path: Path,
) -> None:
    """The file's text (`to_json`) is what json.dumps writes of the document, byte for
    byte, the first time and again when some entries are reused and others rebuilt."""
    config = load_config(write_small_site(tmp_path))
    views = {"sw": snapshot.DeviceView(), "nvr": snapshot.DeviceView()}
    name = Reading("sw", "sys.name", '核心交换机 "A"', NOW)
    views["sw"].update(PollResult("sw", NOW, True, (name, Reading("sw", "rtt", 1.5, NOW))))
    cache: snapshot.StatusCache = {}
    first = snapshot.build(config, views, (), UplinkStatus(), NOW, cache)
    assert first.to_json() == json.dumps(first.to_jsonable(), ensure_ascii=False)
    later = NOW + timedelta(seconds=30)
    views["nvr"].update(PollResult("nvr", later, False, (), "timeout"))
    second = snapshot.build(config, views, (), UplinkStatus(), later, cache)
    assert second.device("sw") is first.device("sw")
    text = second.to_json()
    assert text == json.dumps(second.to_jsonable(), ensure_ascii=False)
    assert "核心交换机" in text and '"error": "timeout"' in text
    assert StatusSnapshot.from_json(text) == second
