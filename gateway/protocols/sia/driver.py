"""The DC-09 protocol of an agent: one receiver for the site's panels, their states,
and the readers and push source on them.

A DC-09 panel is never asked anything: it reports. The receiver (drivers/sia) takes
its messages; each acknowledged message is matched to its device by account (and,
when the device gives them, account prefix and receiver number), never by the
sender's address, and becomes readings at once through the device's profile (the push
source, ``source="trap"``: only what the message carried). The scheduled "poll" of a
panel reads nothing from the network: it reports the panel's latched state, so that
the metric store and the report see it every interval, and the report window (test
interval plus grace) that the profile's supervision rule divides the silence by.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from drivers.sia.receiver import Account, Dc09Receiver, ReceiverConfig
from gateway.config.listen import parse_listen
from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols.sia import SIA, Sia, receiver_settings, sia_settings
from gateway.config.site import Device
from gateway.config.types import read_secret_file
from gateway.poller.result import PollResult
from gateway.protocols.sia.mapping import EventMap, compile_profile
from gateway.protocols.sia.state import STATE_FILE, PanelState, load_states, save_states
from gateway.snapshot import IntakeStatus

log = logging.getLogger("lvgw.sia")


def account_key(settings: Sia) -> bytes | None:
    """The AES key of ``settings.key_file``: hex digits (32, 48 or 64) or characters
    (16, 24 or 32), as ``key_format`` says."""
    if settings.key_file is None:
        return None
    text = read_secret_file(settings.key_file).reveal()
    key = bytes.fromhex(text) if settings.key_format == "hex" else text.encode("utf-8")
    if len(key) not in (16, 24, 32):
        raise ValueError(
            f"{settings.key_file}: an AES key is 16, 24 or 32 bytes "
            f"({'32, 48 or 64 hex digits' if settings.key_format == 'hex' else 'characters'})"
        )
    return key


class SiaReader:
    """A panel's scheduled reading: its latched state, no network."""

    def __init__(self, state: PanelState, window: float) -> None:
        self.state = state
        self.window = window

    async def poll(self) -> PollResult:
        now = datetime.now(UTC)
        readings = tuple(self.state.snapshot(now, self.window))
        return PollResult(self.state.device, now, True, readings)


class SiaShared:
    """The site's DC-09 receiver and the state of each of its panels."""

    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        self.states: dict[str, PanelState] = {}
        self.windows: dict[str, float] = {}
        maps: dict[str, EventMap] = {}
        accounts = []
        for device in config.devices:
            profile = config.profile_of(device)
            settings = sia_settings(device)
            if profile.protocol != SIA.name or settings is None:
                continue
            if profile.id not in maps:
                maps[profile.id] = compile_profile(profile)
            self.states[device.id] = PanelState(device.id, maps[profile.id])
            self.windows[device.id] = settings.window
            accounts.append(
                Account(
                    settings.account,
                    account_key(settings),
                    settings.prefix,
                    settings.receiver,
                    name=device.id,
                )
            )
        self.state_path: Path = config.site_file.agent.state_dir / STATE_FILE
        load_states(self.state_path, self.states)
        listen = receiver_settings(config.site_file)
        self.receiver: Dc09Receiver | None = None
        if listen is not None:
            host, port = parse_listen(listen.listen)
            limits = config.site_file.limits
            self.receiver = Dc09Receiver(
                ReceiverConfig(
                    host,
                    port,
                    tuple(accounts),
                    max_connections=limits.sia_connections,
                    queue_size=limits.sia_queue,
                )
            )

    def reader(self, device: Device, profile: Profile) -> SiaReader:
        return SiaReader(self.states[device.id], self.windows[device.id])

    def push_source(self) -> SiaSource | None:
        return SiaSource(self) if self.receiver is not None else None

    async def close(self) -> None:
        if self.receiver is not None:
            await self.receiver.close()


class SiaSource:
    """DC-09's push source: the receiver's acknowledged messages, as readings at once."""

    name = "sia"

    def __init__(self, shared: SiaShared) -> None:
        self.shared = shared
        assert shared.receiver is not None
        self.receiver = shared.receiver

    def counters(self) -> IntakeStatus:
        """What the receiver took and refused (by cause) since it started."""
        stats = self.receiver.stats
        return IntakeStatus(
            accepted=stats.accepted, duplicates=stats.duplicates, refused=dict(stats.refused)
        )

    async def start(self) -> None:
        await self.receiver.start()
        host, port = self.receiver.address
        log.info("DC-09 receiver listening on %s:%d (TCP and UDP)", host, port)

    async def run(self, out: asyncio.Queue[PollResult], poll_now: Callable[[str], None]) -> None:
        states = self.shared.states
        async for message in self.receiver:
            state = states.get(message.account.name)
            if state is None:
                continue
            readings = tuple(state.apply(message))
            try:
                await asyncio.to_thread(save_states, self.shared.state_path, states)
            except OSError as exc:  # a full disk must not stop the panel's events
                log.warning("DC-09 panel states not saved error=%r", exc)
            if readings:
                await out.put(PollResult(state.device, message.received, True, readings, "trap"))

    async def close(self) -> None:
        await self.receiver.close()
