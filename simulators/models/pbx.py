"""An IP PBX (Asterisk): trunks to the carrier, calls that come and go.

The call load is a deterministic function of time (a new level every 15 s, drawn
from the device id), so runs are repeatable while the numbers still move. A trunk
that is down carries no calls.

The PBX software (Asterisk, FreeSWITCH) runs on a host that keeps running when it
stops (fault ``app_stopped``): the host answers for itself, the software for nothing;
started again, its uptime and counters start from zero. Its SNMP subagent may also
lose its AgentX connection to the host's snmpd for a while (``agentx_lost``): its
objects are gone meanwhile, the software runs on.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from simulators.models.base import Clock, DeviceModel, FaultSpec, Param, Ramp
from simulators.models.events import TrunkChanged

LOAD_WINDOW = 15.0  # seconds between changes of the call load
CALL_SECONDS = 120.0  # average call length: turns active calls into calls per second
AVERAGE_LOAD = 0.35


@dataclass(slots=True)
class Trunk:
    index: int
    name: str
    channels: int
    up: bool = True


class PbxModel(DeviceModel):
    kind = "pbx"

    FAULTS = {
        "trunk_down": FaultSpec(
            "trunk_down",
            "trunks lose registration with the carrier (--set trunk=N, default all)",
            (
                Param(
                    "trunk",
                    int,
                    "trunk number or 'all'",
                    default="all",
                    all_ok=True,
                    maximum=lambda m: len(m.trunks),
                ),
            ),
        ),
        "app_stopped": FaultSpec(
            "app_stopped",
            "the PBX software (Asterisk, FreeSWITCH) stops while its host runs on; cleared,"
            " it starts again",
        ),
        "agentx_lost": FaultSpec(
            "agentx_lost",
            "the PBX software's SNMP subagent loses its AgentX connection to the host's"
            " snmpd (snmpd restarted): its objects are gone until it reconnects (after"
            " --set seconds=N, else when cleared); the software runs on",
            (
                Param(
                    "seconds",
                    float,
                    "reconnects by itself after this many seconds",
                    default=None,
                    minimum=0.1,
                ),
            ),
        ),
    }

    def __init__(self, device: Any, clock: Clock) -> None:
        super().__init__(device, clock)
        spec = device.spec
        self.trunks = [
            Trunk(n, f"sip-trunk-{n}", spec.channels_per_trunk) for n in range(1, spec.trunks + 1)
        ]
        self.calls_processed = Ramp(0.0, self.now)
        self.pid = 0
        self.started_at = 0.0
        self.app_stopped = False
        self.agentx_back_at = -math.inf  # when the subagent is connected again
        self.app_started = -math.inf  # when the software last started on its own (not at boot)
        # Manager interface logins, accepted and refused (for `lvgw-sim list`: a client
        # that retries refused credentials in a storm shows here).
        self.ami_logins = 0
        self.ami_logins_failed = 0
        self.reset_counters()

    def reset_counters(self) -> None:
        """The software starts (with the host, or again after it stopped)."""
        self.calls_processed = Ramp(0.0, self.now)
        start = max(self.boot_at, self.app_started)
        self.pid = random.Random(f"{self.id}/{start}").randint(800, 30000)
        # The wall-clock time of the start, on the PBX's own clock, taken once: Asterisk
        # keeps it (ast_startuptime) whatever its clock does later.
        self.started_at = self.wall_clock() - self.app_uptime()
        self._retime()

    def app_uptime(self) -> float:
        """Seconds since the PBX software started: with the host, or since it was
        started again after it stopped."""
        return max(0.0, self.now - max(self.boot_at, self.app_started))

    def subagent_serving(self) -> bool:
        """The software's SNMP subagent serves its objects through the host's agent."""
        return not self.app_stopped and self.now >= self.agentx_back_at

    def app_answering(self) -> bool:
        """A request reaches the PBX software and it answers (the manager interface)."""
        return self.answering() and not self.app_stopped

    def _inject_app_stopped(self) -> None:
        self.app_stopped = True

    def _inject_agentx_lost(self, seconds: float | None = None) -> None:
        # Timed by the model's clock, not by when a later clear arrives.
        self.agentx_back_at = math.inf if seconds is None else self.now + seconds

    def _clear_agentx_lost(self, seconds: float | None = None) -> None:
        self.agentx_back_at = -math.inf

    def _clear_app_stopped(self) -> None:
        self.app_stopped = False
        self.app_started = self.now
        self.reset_counters()

    def _retime(self) -> None:
        capacity = sum(t.channels for t in self.trunks if t.up)
        self.calls_processed.set(self.now, rate=capacity * AVERAGE_LOAD / CALL_SECONDS)

    def state(self) -> dict[str, Any]:
        out = super().state()
        if getattr(self.device.spec, "ami", None) is not None:
            out["ami"] = {"logins": self.ami_logins, "logins_failed": self.ami_logins_failed}
        return out

    def trunk_calls(self, trunk: Trunk) -> int:
        if not trunk.up:
            return 0
        window = int(self.now // LOAD_WINDOW)
        load = random.Random(f"{self.id}/{trunk.index}/{window}").uniform(0.1, 0.6)
        # A working trunk carries at least one call: a load that rounds down to none
        # (under 1/8 of a trunk of 8 channels) made a working PBX look idle now and then.
        return max(1, int(trunk.channels * load))

    def active_calls(self) -> int:
        return sum(self.trunk_calls(trunk) for trunk in self.trunks)

    def _chosen(self, trunk: int | str) -> list[Trunk]:
        return list(self.trunks) if trunk == "all" else [self.trunks[int(trunk) - 1]]

    def _set_trunks(self, trunk: int | str, up: bool) -> None:
        for chosen in self._chosen(trunk):
            if chosen.up != up and (up is False or not self._still_down(chosen.index)):
                chosen.up = up
                self.emit(TrunkChanged(chosen.index, up))
        self._retime()

    def _still_down(self, index: int) -> bool:
        """Another active trunk_down fault still covers this trunk."""
        return any(
            f.name == "trunk_down" and f.params.get("trunk") in ("all", index) for f in self.active
        )

    def _inject_trunk_down(self, trunk: int | str) -> None:
        self._set_trunks(trunk, up=False)

    def _clear_trunk_down(self, trunk: int | str) -> None:
        self._set_trunks(trunk, up=True)
