"""SNMP notifications -> readings of the device that sent them.

The trap receiver (drivers/snmp/traps.py) hands over every notification with its
sender's address (``TrapSource`` is SNMP's push source in the protocol registry).
Here the sender is matched to a site device by address; a notification from an
address that is no device of the site is counted and logged, never trusted. A
notification the device's profile declares (``traps:``) becomes the reading
``trap.<name>`` (with its instance, e.g. the ifIndex of linkDown) and, unless the
profile says otherwise, asks for an immediate poll of the device, so its state is
read at once instead of at the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from drivers.snmp.trapreceiver.model import TrapMessage, TrapReceiverConfig, TrapV3User
from gateway.bounded import BoundedCounter
from gateway.config.limits import DEFAULT_LIMITS, Limits
from gateway.config.load import LoadedConfig
from gateway.config.profile import TrapDef
from gateway.config.protocols.snmp import Traps, traps_settings
from gateway.config.types import read_secret_file
from gateway.model import Reading, Value
from gateway.poller.result import PollResult

if TYPE_CHECKING:
    from drivers.snmp.traps import TrapReceiver

log = logging.getLogger("lvgw.traps")


def receiver_config(traps: Traps, limits: Limits = DEFAULT_LIMITS) -> TrapReceiverConfig:
    """The driver's settings from the site file's ``traps:`` section."""
    host, _, port = traps.listen.rpartition(":")
    users = []
    for user in traps.v3_users:
        auth = read_secret_file(user.auth_key_file).reveal() if user.auth_key_file else ""
        priv = read_secret_file(user.priv_key_file).reveal() if user.priv_key_file else ""
        users.append(
            TrapV3User(
                user.user,
                auth_protocol=user.auth or "none",
                auth_key=auth,
                priv_protocol=user.priv or "none",
                priv_key=priv,
                engine_id=bytes.fromhex(user.engine_id) if user.engine_id else None,
            )
        )
    return TrapReceiverConfig(
        host=host.strip("[]") or "0.0.0.0",
        port=int(port),
        communities=tuple(c.reveal() for c in traps.communities),
        v3_users=tuple(users),
        queue_bytes=limits.trap_queue_bytes,
    )


def _value(raw: object) -> Value:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    if isinstance(raw, bool | int | float | str):
        return raw
    return None


def _under(oid: str, prefix: str) -> bool:
    """``oid`` is ``prefix`` or an instance of it, by whole arcs: the column
    ...1.1.1.1.1 does not take the varbind ...1.1.1.1.12.5 of another column."""
    return oid == prefix or oid.startswith(prefix + ".")


MAX_LOGGED_OID = 120  # characters of a trap OID in a log line (a sender picks its length)


def _short(oid: str) -> str:
    return oid if len(oid) <= MAX_LOGGED_OID else oid[:MAX_LOGGED_OID] + "..."


class TrapIntake:
    """Turns received notifications into PollResults (``source="trap"``).

    Unknown senders and undeclared trap OIDs are counted, each in a counter that
    remembers at most ``limits.trap_senders`` / ``limits.trap_oids`` keys (a LAN
    neighbour can make up addresses and OIDs without end)."""

    def __init__(
        self,
        config: LoadedConfig,
        out: asyncio.Queue[PollResult],
        poll_now: Callable[[str], None] | None = None,
    ) -> None:
        self.out = out
        self.poll_now = poll_now
        self.by_address: dict[str, str] = {}
        self.defs: dict[str, list[tuple[str, TrapDef]]] = {}
        for device in config.devices:
            self.by_address.setdefault(device.address, device.id)
            profile = config.profile_of(device)
            self.defs[device.id] = list(profile.traps.items())
        limits = config.site_file.limits
        self.unknown_senders = BoundedCounter(limits.trap_senders)
        self.undeclared = BoundedCounter(limits.trap_oids)
        self.accepted = 0

    def readings(self, message: TrapMessage) -> PollResult | None:
        device = self.by_address.get(message.sender_host)
        if device is None:
            if self.unknown_senders.add(message.sender_host) == 1:
                log.warning(
                    "trap from an unknown sender ignored sender=%s trap=%s",
                    message.sender_host, _short(message.trap_oid),
                )  # fmt: skip
            return None
        ts = datetime.now(UTC)
        readings = []
        wanted_poll = False
        for name, trap in self.defs.get(device, ()):
            if message.trap_oid != trap.oid:
                continue
            instance = ""
            if trap.instance_from is not None:
                instance = next(
                    (
                        str(_value(v))
                        for oid, v in message.varbinds
                        if _under(oid, trap.instance_from)
                    ),
                    "",
                )
            readings.append(Reading(device, f"trap.{name}", True, ts, instance))
            for key, prefix in trap.values.items():
                for oid, raw in message.varbinds:
                    if _under(oid, prefix):
                        readings.append(
                            Reading(device, f"trap.{name}.{key}", _value(raw), ts, instance)
                        )
                        break
            wanted_poll = wanted_poll or trap.poll
        if not readings:
            self.undeclared.add(message.trap_oid)
            log.debug(
                "trap not declared by the profile device=%s trap=%s",
                device, _short(message.trap_oid),
            )  # fmt: skip
            # An undeclared notification still says the device is alive and may have changed.
            wanted_poll = True
        self.accepted += 1
        if wanted_poll and self.poll_now is not None:
            self.poll_now(device)
        if not readings:
            return None
        return PollResult(device, ts, True, tuple(readings), source="trap")

    async def run(self, receiver: TrapReceiver) -> None:
        async for message in receiver:
            result = self.readings(message)
            if result is not None:
                await self.out.put(result)


class TrapSource:
    """SNMP's push source: the trap receiver of the site file's ``traps:`` section."""

    name = "traps"

    def __init__(self, config: LoadedConfig, traps: Traps) -> None:
        self.config = config
        self.listen = traps.listen
        # pysnmp (a fifth of the agent's imports) is loaded only by a site that
        # receives traps.
        from drivers.snmp.traps import TrapReceiver

        self.receiver = TrapReceiver(receiver_config(traps, config.site_file.limits))

    async def start(self) -> None:
        await self.receiver.start()
        log.info("trap receiver listening on %s", self.listen)

    async def run(self, out: asyncio.Queue[PollResult], poll_now: Callable[[str], None]) -> None:
        await TrapIntake(self.config, out, poll_now).run(self.receiver)

    async def close(self) -> None:
        await self.receiver.close()


def trap_source(config: LoadedConfig) -> TrapSource | None:
    """The site's trap receiver, or None when the site file has no ``traps:`` section."""
    traps = traps_settings(config.site_file)
    return TrapSource(config, traps) if traps is not None else None
