"""The AMI reader against a scripted session: what each failure reads as, and that
each is logged once while it lasts (the shipped pbx-asterisk-ami profile)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from drivers.ami import (
    AmiActionError,
    AmiAnswer,
    AmiAuthError,
    AmiConnectError,
    AmiError,
    AmiSession,
    AmiTarget,
    AmiTlsError,
    Message,
)
from gateway.config import load_config
from gateway.config.errors import ConfigError
from gateway.protocols.ami.reader import AmiReader
from tests.readings import by_key

SITE = Path(__file__).parents[1] / "cases" / "profiles" / "all-profiles.site.yaml"


def message(**headers: str) -> Message:
    return Message(tuple(headers.items()))


HEALTHY: dict[str, AmiAnswer] = {
    "CoreStatus": AmiAnswer(message(Response="Success", CoreStartupDate="2026-01-05",
                                    CoreStartupTime="08:00:00", CoreReloadDate="2026-01-05",
                                    CoreReloadTime="09:00:00", CoreProcessedCalls="41")),
    "CoreShowChannels": AmiAnswer(
        message(Response="Success", EventList="start"),
        (message(Event="CoreShowChannel", BridgeId="b1"), message(Event="CoreShowChannel", BridgeId="b1"),
         message(Event="CoreShowChannel", BridgeId="")),
        message(Event="CoreShowChannelsComplete", EventList="Complete", ListItems="3")),
    "Ping": AmiAnswer(message(Response="Success", Ping="Pong", Timestamp="1767600000.250000")),
    "PJSIPShowRegistrationsOutbound": AmiAnswer(
        message(Response="Success", EventList="start"),
        (message(Event="OutboundRegistrationDetail", ObjectName="carrier-a", Status="Registered"),
         message(Event="AuthDetail", ObjectName="carrier-a-auth", Password="never-read"),
         message(Event="OutboundRegistrationDetail", ObjectName="carrier-b", Status="Rejected")),
        message(Event="OutboundRegistrationDetailComplete", EventList="Complete", ListItems="2")),
    "SIPpeers": AmiAnswer(
        message(Response="Success", EventList="start"),
        (message(Event="PeerEntry", ObjectName="old-trunk", Dynamic="no", Status="OK (23 ms)"),
         message(Event="PeerEntry", ObjectName="1001", Dynamic="yes", Status="UNREACHABLE")),
        message(Event="PeerlistComplete", EventList="Complete", ListItems="2")),
}  # fmt: skip


class ScriptedSession(AmiSession):
    """Answers each action from ``answers`` (an exception is raised)."""

    def __init__(self, answers: dict[str, AmiAnswer | AmiError]) -> None:
        super().__init__(AmiTarget("192.0.2.1"))
        self.answers = answers
        self.sent: list[str] = []

    async def action(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> AmiAnswer:
        self.sent.append(name)
        answer = self.answers[name]
        if isinstance(answer, AmiError):
            raise answer
        return answer


def reader(answers: dict[str, AmiAnswer | AmiError]) -> AmiReader:
    config = load_config(SITE)
    device = config.device("pbx-ami")
    return AmiReader(device, config.profile_of(device), ScriptedSession(answers), None)


def values(result: Any) -> dict[str, Any]:
    return by_key(result.readings)


async def test_a_healthy_pbx() -> None:
    got = values(await reader(dict(HEALTHY)).poll())
    assert got["access"] == "ok"
    assert (got["pbx.channels"], got["pbx.active_calls"]) == (3, 1)
    assert got["pbx.uptime"] - got["pbx.reload_time"] == 3600
    assert got["sys.date"] == 1767600000.25
    assert {k: v for k, v in got.items() if k.startswith("trunk.status/")} == {
        "trunk.status/carrier-a": "registered", "trunk.status/carrier-b": "rejected",
        "trunk.status/old-trunk": "reachable"}  # fmt: skip
    assert "never-read" not in repr(got)


@pytest.mark.parametrize(("error", "access"), [(AmiAuthError("Authentication failed"),
                                                "auth_failed"), (AmiTlsError("certificate refused"), "tls_failed")])  # fmt: skip
async def test_refused_access_reads_as_access(error: AmiError, access: str) -> None:
    result = await reader({**HEALTHY, "CoreStatus": error}).poll()
    assert result.reachable
    assert values(result) == {"reachable": True, "rtt": values(result)["rtt"], "access": access}


async def test_no_connection_is_unreachable_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    read = reader({**HEALTHY, "CoreStatus": AmiConnectError("Connection refused")})
    with caplog.at_level(logging.INFO, logger="lvgw.ami"):
        for _ in range(3):
            result = await read.poll()
            assert not result.reachable and "no connection" in result.error
        assert len(caplog.records) == 1
        assert isinstance(read.session, ScriptedSession)
        read.session.answers["CoreStatus"] = HEALTHY["CoreStatus"]
        assert (await read.poll()).reachable
    assert [r.getMessage().split(" ", 1)[1] for r in caplog.records] == [
        "no connection: Connection refused", "reads again over AMI"]  # fmt: skip


async def test_a_refused_action_loses_only_its_points(caplog: pytest.LogCaptureFixture) -> None:
    denied = AmiActionError("CoreShowChannels", "Permission denied")
    absent = AmiActionError("SIPpeers", "Invalid/unknown command: SIPpeers.")
    read = reader({**HEALTHY, "CoreShowChannels": denied, "SIPpeers": absent})
    with caplog.at_level(logging.DEBUG, logger="lvgw.ami"):
        for _ in range(2):
            got = values(await read.poll())
    assert got["pbx.channels"] is None and got["pbx.active_calls"] is None
    assert got["trunk.status/carrier-b"] == "rejected" and "trunk.status/old-trunk" not in got
    levels = sorted((r.levelname, r.getMessage()) for r in caplog.records)
    assert levels == [("DEBUG", "device=pbx-ami SIPpeers refused: Invalid/unknown command: SIPpeers."),
                      ("WARNING", "device=pbx-ami CoreShowChannels refused: Permission denied")]  # fmt: skip


async def test_an_unknown_word_reads_as_unknown() -> None:
    odd = AmiAnswer(HEALTHY["PJSIPShowRegistrationsOutbound"].response,
                    (message(Event="OutboundRegistrationDetail", ObjectName="x", Status="Stopped?"),),
                    HEALTHY["PJSIPShowRegistrationsOutbound"].complete)  # fmt: skip
    got = values(await reader({**HEALTHY, "PJSIPShowRegistrationsOutbound": odd}).poll())
    assert got["trunk.status/x"] == "unknown(Stopped?)"


def test_a_pbx_without_its_ami_section_is_a_config_error(tmp_path: Path) -> None:
    site = SITE.read_text().replace(
        ", ami: {username: lvgw, secret_file: all-profiles.password}", ""
    )
    path = tmp_path / "site.yaml"
    path.write_text(site)
    (tmp_path / "all-profiles.password").write_text("x\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(
        "profile 'pbx-asterisk-ami' speaks AMI: give an ami: section" in str(p)
        for p in caught.value.problems
    ), caught.value.problems
