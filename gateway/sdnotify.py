"""systemd's service notifications (sd_notify(3)): READY=1, STATUS=, WATCHDOG=1, STOPPING=1.

The protocol is one datagram of ``KEY=VALUE`` lines to the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace); no library is
needed for it. With ``WatchdogSec=`` in the unit, systemd sets ``$WATCHDOG_USEC`` and
restarts the service when no WATCHDOG=1 arrives within that time. The pings come from
a task of the agent's event loop: a loop that is stuck (a blocking call, a busy loop)
stops them, and systemd restarts the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import asynccontextmanager, suppress

from drivers.tasks import stop_task

log = logging.getLogger("lvgw.systemd")

# sd_watchdog_enabled(3): ping at half the interval, so that one late ping is no harm.
PINGS_PER_INTERVAL = 2


class Notifier:
    """Sends notifications to systemd; a send that fails is logged, never raised."""

    def __init__(self, address: str, watchdog_seconds: float | None = None) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_seconds = watchdog_seconds
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._socket.setblocking(False)  # a full queue drops one datagram, never the loop

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] = os.environ) -> Notifier | None:
        """The notifier systemd asked for, or None when not run by systemd with
        Type=notify. Takes the variables out of ``environ``, so no child inherits them
        (sd_notify's ``unset_environment``)."""
        address = environ.pop("NOTIFY_SOCKET", "")
        usec = environ.pop("WATCHDOG_USEC", "")
        pid = environ.pop("WATCHDOG_PID", "")
        if not address:
            return None
        watchdog = None
        if usec.isdigit() and int(usec) > 0 and pid in ("", str(os.getpid())):
            watchdog = int(usec) / 1_000_000
        return cls(address, watchdog)

    def notify(self, **fields: str) -> None:
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            self._socket.sendto(message.encode(), self.address)
        except OSError as exc:
            log.warning("systemd notification not sent: %s", exc)

    async def serve(
        self, started: asyncio.Event, stopping: asyncio.Event, status: Callable[[], str]
    ) -> None:
        """READY=1 once ``started``, then watchdog pings and STATUS= whenever ``status()``
        changes; STOPPING=1 once ``stopping``. Runs until cancelled (it keeps pinging
        while the agent shuts down)."""
        await started.wait()
        shown = _safely(status, "running")
        self.notify(READY="1", STATUS=shown)
        log.info("told systemd: ready")
        every = self.watchdog_seconds / PINGS_PER_INTERVAL if self.watchdog_seconds else 5.0
        while not stopping.is_set():
            with suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await stopping.wait()
            self._ping()
            if not stopping.is_set() and (now := _safely(status, shown)) != shown:
                shown = now
                self.notify(STATUS=shown)
        self.notify(STOPPING="1", STATUS="stopping")
        while True:
            await asyncio.sleep(every)
            self._ping()

    def _ping(self) -> None:
        if self.watchdog_seconds:
            self.notify(WATCHDOG="1")

    def close(self) -> None:
        self._socket.close()


def _safely(status: Callable[[], str], otherwise: str) -> str:
    """``status()``, or ``otherwise`` if it fails: a broken status line must not stop the
    watchdog pings (systemd would kill a healthy gateway)."""
    try:
        return status()
    except Exception:
        log.exception("status line for systemd failed")
        return otherwise


@asynccontextmanager
async def notifying(
    started: asyncio.Event, stopping: asyncio.Event, status: Callable[[], str]
) -> AsyncIterator[None]:
    """Tell systemd, while inside, what ``Notifier.serve`` says; nothing when not run
    by systemd with Type=notify."""
    notifier = Notifier.from_environ()
    if notifier is None:
        yield
        return
    task = asyncio.create_task(notifier.serve(started, stopping, status), name="systemd")
    try:
        yield
    finally:
        await stop_task(task, reraise=True)
        notifier.close()
