"""AMI's push source: the events each PBX pushes on its manager session.

An event the profile names in ``ami: poll_on`` (a trunk's registration or reachability
changed: ``Registry``, ``PeerStatus``, ``ContactStatus``) asks for an immediate poll of
the PBX, as a trap does: the poll reads the new state within a second or two instead
of at the next tick (and the poller's ``trap_poll_every`` bounds how often). Other
events are counted and dropped; their content is never logged (an AMI event may carry
a trunk's password: ``AuthDetail``). A session that drops is opened again by
``AmiSession.next_event`` on the session's backoff, never in a storm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from drivers.ami import AmiSession
from gateway.poller.result import PollResult
from gateway.protocols.base import PollNow

log = logging.getLogger("lvgw.ami")


class AmiEvents:
    """Reads every watched PBX's events, one task per PBX."""

    name = "ami-events"

    def __init__(
        self, sessions: Mapping[str, AmiSession], poll_on: Mapping[str, frozenset[str]]
    ) -> None:
        self.sessions = dict(sessions)
        self.poll_on = dict(poll_on)
        self.received = 0
        self.polls_asked = 0

    async def start(self) -> None:
        """Nothing to bind: each session connects when first needed."""

    async def run(self, out: asyncio.Queue[PollResult], poll_now: PollNow) -> None:
        async with asyncio.TaskGroup() as group:
            for device, session in self.sessions.items():
                group.create_task(self._watch(device, session, poll_now), name=f"ami:{device}")

    async def _watch(self, device: str, session: AmiSession, poll_now: PollNow) -> None:
        wanted = self.poll_on.get(device, frozenset())
        while True:
            event = await session.next_event()
            self.received += 1
            if (event.event or "").lower() in wanted:
                self.polls_asked += 1
                log.debug("device=%s event %s: polling now", device, event.event)
                poll_now(device)

    async def close(self) -> None:
        """The sessions are the driver's: it closes them."""
