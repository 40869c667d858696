"""What every simulated device has: power, uptime, faults, events, its uplink.

A model holds behaviour only: no protocol. Values that change with time are
computed when read (``Ramp``) from the time of the last ``refresh(now)``, which the
protocol layer calls once per request; no timer runs per device, so an idle fleet
costs no CPU. State changes that a real device would announce (a reboot, a link
going down) are published as events (``simulators.models.events``) that the
protocol layer turns into traps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from simulators.errors import FaultError
from simulators.fleet import Device
from simulators.models.events import Booted, Event

Clock = Callable[[], float]
Listener = Callable[["DeviceModel", Event], None]
ParamValue = int | float | str

REQUIRED: Any = object()


class Ramp:
    """A quantity moving linearly with time between bounds, computed when read."""

    __slots__ = ("_since", "_value", "hi", "lo", "rate")

    def __init__(
        self, value: float, now: float, rate: float = 0.0, lo: float = 0.0, hi: float = math.inf
    ) -> None:
        self._value, self._since, self.rate, self.lo, self.hi = value, now, rate, lo, hi

    def at(self, now: float) -> float:
        value = self._value + self.rate * (now - self._since)
        return self.lo if value < self.lo else self.hi if value > self.hi else value

    def set(self, now: float, *, value: float | None = None, rate: float | None = None) -> None:
        """Fold the time so far into the value, then change value and/or rate."""
        self._value = self.at(now) if value is None else value
        self._since = now
        if rate is not None:
            self.rate = rate


@dataclass(frozen=True, slots=True)
class Param:
    """A fault parameter, given as ``--set name=value``."""

    name: str
    type: type[int] | type[float] | type[str]
    help: str
    default: Any = REQUIRED
    minimum: float | None = 1
    maximum: Callable[[Any], float] | None = None  # from the model, e.g. its port count
    all_ok: bool = False  # the word "all" is accepted instead of a number


@dataclass(frozen=True, slots=True)
class FaultSpec:
    name: str
    help: str
    params: tuple[Param, ...] = ()
    momentary: bool = False  # happens once (restart) instead of staying active


@dataclass(frozen=True, slots=True)
class ActiveFault:
    name: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def __str__(self) -> str:
        args = ",".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.name}({args})" if args else self.name

    def as_json(self) -> dict[str, Any]:
        return {"fault": self.name, "params": dict(self.params)}


BASE_FAULTS = {
    "down": FaultSpec(
        "down", "off or hung: answers nothing; on clear it boots (uptime resets, coldStart)"
    ),
    "restart": FaultSpec(
        "restart", "reboots now: uptime and counters reset, coldStart trap", momentary=True
    ),
}


CLOCK_FAULTS = {
    "clock_skew": FaultSpec(
        "clock_skew",
        "the device's clock (hrSystemDate) is off by SECONDS (negative: behind)",
        (Param("seconds", int, "how far off, in seconds", default=3600, minimum=None),),
    ),
}


class DeviceModel:
    """Base of the five device kinds."""

    kind: ClassVar[str] = ""
    FAULTS: ClassVar[dict[str, FaultSpec]] = {}
    HAS_CLOCK: ClassVar[bool] = True  # serves its wall clock (hrSystemDate)
    # The name its faults are listed under (GET /faults): its kind, unless a variant
    # of the kind has faults of its own.
    FAULT_SET: ClassVar[str] = ""

    def __init__(self, device: Device, clock: Clock = time.monotonic) -> None:
        self.device = device
        self.id = device.id
        self.clock = clock
        self.now = clock()
        self.boot_at = self.now
        self.powered = True
        self.active: list[ActiveFault] = []
        self.listeners: list[Listener] = []
        # The switch and port this device hangs off; set by the fleet runtime.
        self.uplink: tuple[Any, int | None] | None = None
        self.clock_offset = 0.0  # seconds the device's wall clock is off
        # What a protocol layer adds to ``state()`` under its name (a transmitter's
        # counts), read when the state is shown.
        self.protocol_state: dict[str, Callable[[], dict[str, Any]]] = {}

    @classmethod
    def fault_set(cls) -> str:
        return cls.FAULT_SET or cls.kind

    def wall_clock(self) -> float:
        """The device's idea of the time of day (Unix seconds)."""
        return time.time() + self.clock_offset

    def _inject_clock_skew(self, seconds: int) -> None:
        self.clock_offset = float(seconds)

    def _clear_clock_skew(self, seconds: int) -> None:
        self.clock_offset = 0.0

    # -- time and reachability -------------------------------------------------------

    def refresh(self, now: float | None = None) -> None:
        """Bring time-driven state up to ``now``; called before each request is served."""
        self.now = self.clock() if now is None else now

    def uptime(self) -> float:
        return max(0.0, self.now - self.boot_at)

    def answering(self) -> bool:
        """Whether a request reaches the device and it answers."""
        if not self.powered:
            return False
        if self.uplink is None:
            return True
        switch, port = self.uplink
        return bool(switch.answering() and (port is None or switch.port_passes(port)))

    def boot(self) -> None:
        """Power-on: uptime from zero, counters reset, coldStart."""
        self.refresh()
        self.boot_at = self.now
        self.reset_counters()
        self.emit(Booted())

    def reset_counters(self) -> None:
        """Counters restart from zero after a reboot (subclasses reset theirs)."""

    # -- events ----------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(self, event)

    # -- faults ----------------------------------------------------------------------

    @classmethod
    def fault_specs(cls) -> dict[str, FaultSpec]:
        clock = CLOCK_FAULTS if cls.HAS_CLOCK else {}
        return {**BASE_FAULTS, **clock, **cls.FAULTS}

    def inject(self, name: str, raw: Mapping[str, object] | None = None) -> ActiveFault:
        spec = self.fault_spec(name)
        params = self._parse(spec, raw or {})
        fault = ActiveFault(name, params)
        self.refresh()
        if spec.momentary:
            self._apply(fault, on=True)
            return fault
        if fault in self.active:
            return fault  # injecting an active fault again changes nothing
        self._apply(fault, on=True)
        self.active.append(fault)
        return fault

    def clear(
        self, name: str | None = None, raw: Mapping[str, object] | None = None
    ) -> list[ActiveFault]:
        """Clear the active faults named ``name`` (all when None) whose params match."""
        if name is not None:
            self.fault_spec(name)
        wanted = {key: str(value) for key, value in (raw or {}).items()}
        chosen = [
            fault
            for fault in self.active
            if (name is None or fault.name == name)
            and all(str(fault.params.get(key)) == value for key, value in wanted.items())
        ]
        self.refresh()
        for fault in reversed(chosen):
            self.active.remove(fault)
            self._apply(fault, on=False)
        return chosen

    def _apply(self, fault: ActiveFault, on: bool) -> None:
        """Make a fault happen (on) or go away: ``_inject_NAME`` / ``_clear_NAME``."""
        getattr(self, f"_{'inject' if on else 'clear'}_{fault.name}")(**fault.params)

    def check_fault(self, name: str, raw: Mapping[str, object] | None = None) -> ActiveFault:
        """Validate a fault and its parameters without injecting it."""
        return ActiveFault(name, self._parse(self.fault_spec(name), raw or {}))

    def fault_spec(self, name: str) -> FaultSpec:
        specs = self.fault_specs()
        if name not in specs:
            raise FaultError(
                f"{self.id} ({self.kind}) has no fault {name!r}; known: {', '.join(specs)}"
            )
        return specs[name]

    def _parse(self, spec: FaultSpec, raw: Mapping[str, object]) -> dict[str, ParamValue]:
        known = {param.name: param for param in spec.params}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            names = ", ".join(known) or "none"
            raise FaultError(f"fault {spec.name} has no parameter {unknown[0]!r} (takes: {names})")
        out: dict[str, ParamValue] = {}
        for param in spec.params:
            if param.name not in raw:
                if param.default is REQUIRED:
                    raise FaultError(f"fault {spec.name} needs --set {param.name}=...")
                if param.default is not None:
                    out[param.name] = param.default
                continue
            out[param.name] = self._convert(spec, param, raw[param.name])
        return out

    def _convert(self, spec: FaultSpec, param: Param, value: object) -> ParamValue:
        if param.all_ok and str(value).strip().lower() == "all":
            return "all"
        try:
            converted: ParamValue = param.type(str(value).strip())
        except ValueError as exc:
            raise FaultError(
                f"fault {spec.name}: {param.name}={value!r} is not a {param.type.__name__}"
            ) from exc
        if isinstance(converted, int | float):
            if param.minimum is not None and converted < param.minimum:
                raise FaultError(f"fault {spec.name}: {param.name} must be >= {param.minimum}")
            if param.maximum is not None and converted > param.maximum(self):
                raise FaultError(
                    f"fault {spec.name}: {param.name}={converted} is out of range "
                    f"(1..{param.maximum(self):g} on {self.id})"
                )
        return converted

    def _inject_down(self) -> None:
        self.powered = False

    def _clear_down(self) -> None:
        self.powered = True
        self.boot()

    def _inject_restart(self) -> None:
        self.boot()

    # -- views -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What ``lvgw-sim list`` shows: identity, reachability and active faults."""
        device = self.device
        return {
            "id": self.id,
            "kind": self.kind,
            "fault_set": self.fault_set(),
            "model": device.flavour.name,
            "endpoint": device.endpoint,
            "protocol": device.protocol,
            "protocols": [{"name": n, "endpoint": e} for n, e in device.protocols],
            "parent": device.parent,
            "parent_port": device.parent_port,
            "answering": self.answering(),
            "uptime_s": round(self.uptime(), 1),
            "faults": [fault.as_json() for fault in self.active],
            **{name: describe() for name, describe in self.protocol_state.items()},
        }
