"""Every long-lived part of the agent runs under a supervisor.

A part (a device's poller, the trap intake, the uplink, the pipeline, the status page,
a metric sink, the proactive jobs) that raises an unexpected exception is logged once
with its traceback (again only as a one-line count), counted, shown as degraded (in
`lvgw status` and the MQTT status) and started again after a capped, jittered
backoff; the other parts keep running. A part counts as healthy again once it has run
``healthy_after`` seconds since its last start. Only a fatal error (``fatal(exc)``:
a broken configuration, a ticket store or outbox that cannot be written) is raised on,
to stop the agent.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from drivers.backoff import Backoff

log = logging.getLogger("lvgw.supervisor")

Part = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _PartState:
    failures: int = 0
    last_error: str = ""
    started_at: float = 0.0  # loop time of the last start
    failing: bool = False  # has failed, and not yet run healthy_after since


class Supervisor:
    def __init__(
        self,
        fatal: Callable[[BaseException], bool] = lambda exc: False,
        initial_delay: float = 1.0,
        max_delay: float = 60.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.fatal = fatal
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self._parts: dict[str, _PartState] = {}
        self._logged: set[tuple[str, str]] = set()  # (part, where it failed): traceback shown

    async def run(self, name: str, part: Part) -> None:
        """Run ``part()`` until it returns or is cancelled, starting it again after each
        unexpected exception."""
        loop = asyncio.get_running_loop()
        state = self._parts.setdefault(name, _PartState())
        backoff = Backoff(self.initial_delay, self.max_delay, jitter=0.5)
        while True:
            state.started_at = loop.time()
            try:
                await part()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.fatal(exc):
                    log.critical("part %s failed: %s; the agent stops", name, _describe(exc))
                    raise
                if loop.time() - state.started_at >= self.healthy_after:
                    backoff.reset()  # it had run well: this is a new failure, not a loop
                delay = backoff.next_delay()
                self._failed(name, state, exc, delay)
            await asyncio.sleep(delay)

    def _failed(self, name: str, state: _PartState, exc: Exception, delay: float) -> None:
        state.failures += 1
        state.failing = True
        state.last_error = _describe(exc)
        where = _where(exc)
        if (name, where) not in self._logged:
            self._logged.add((name, where))
            log.error(
                "part %s failed (%d times); restarting in %.1f s",
                name, state.failures, delay, exc_info=exc,
            )  # fmt: skip
        else:
            log.warning(
                "part %s failed again (%d times): %s; restarting in %.1f s",
                name, state.failures, state.last_error, delay,
            )  # fmt: skip

    def degraded(self) -> list[str]:
        """The parts that failed and have not run ``healthy_after`` seconds since."""
        now = asyncio.get_running_loop().time()
        for state in self._parts.values():
            if state.failing and now - state.started_at >= self.healthy_after:
                state.failing = False
        return sorted(name for name, state in self._parts.items() if state.failing)

    def failures(self) -> dict[str, int]:
        """How often each part has failed since the agent started (parts that did)."""
        return {name: s.failures for name, s in sorted(self._parts.items()) if s.failures}


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _where(exc: BaseException) -> str:
    """The exception's type and the line it came from: the same bug, for logging once."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}@{last}"
