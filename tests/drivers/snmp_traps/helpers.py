"""Helpers of the trap receiver tests: accepted credentials, net-snmp's snmptrap and
snmpinform as the senders, and waiting on the receiver without fixed sleeps."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.snmp.traps import TrapMessage, TrapReceiver, TrapStats, TrapV3User
from tests.realservers import which

COMMUNITY = "public"
AUTH_KEY = "authkey-123"
PRIV_KEY = "privkey-456"
# A sender's own engine id, as an agent configured with it would use in its v3 traps.
SENDER_ENGINE_ID = bytes.fromhex("80001f8880aabbccddeeff0011")

# v3 users the receivers accept; informs discover our engine id, traps need the sender's.
V3_USERS = (
    TrapV3User("informer", "sha", AUTH_KEY, "aes", PRIV_KEY),
    TrapV3User("trapper", "sha256", AUTH_KEY, "aes", PRIV_KEY, engine_id=SENDER_ENGINE_ID),
    TrapV3User("strong", "sha512", AUTH_KEY, "aes256", PRIV_KEY),
    TrapV3User("middle", "sha224", AUTH_KEY, "aes192", PRIV_KEY),
    TrapV3User("legacy", "md5", AUTH_KEY, "des", PRIV_KEY),
    TrapV3User("signer", "sha384", AUTH_KEY),
    TrapV3User("anonymous"),
)

StartReceiver = Callable[..., Awaitable[TrapReceiver]]


@dataclass(frozen=True)
class Sent:
    returncode: int
    exited_at: float  # time.monotonic() once the tool has exited
    stderr: str


class NetSnmp:
    """net-snmp's command-line tools with a private configuration and state directory."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        # SNMPCONFPATH keeps /etc/snmp and ~/.snmp out; the tools keep engine state there too.
        self.env = {
            **os.environ,
            "SNMPCONFPATH": str(workdir),
            "SNMP_PERSISTENT_DIR": str(workdir),
            "MIBS": "",
        }

    async def run(self, tool: str, *args: str) -> Sent:
        proc = await asyncio.create_subprocess_exec(
            which(tool),
            "-m",
            "",
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        _, stderr = await proc.communicate()
        exited_at = time.monotonic()
        assert proc.returncode is not None
        return Sent(proc.returncode, exited_at, stderr.decode(errors="replace"))


def target(receiver: TrapReceiver) -> str:
    host, port = receiver.address
    return f"{host}:{port}"


async def next_message(receiver: TrapReceiver, within: float = 2.0) -> TrapMessage:
    return await asyncio.wait_for(receiver.get(), within)


async def stats_when(
    receiver: TrapReceiver, predicate: Callable[[TrapStats], bool], within: float = 2.0
) -> TrapStats:
    """Poll the counters until the predicate holds: a condition, not a fixed sleep."""
    deadline = time.monotonic() + within
    while True:
        stats = receiver.stats()
        if predicate(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"counters never matched within {within} s: {stats}")
        await asyncio.sleep(0.01)
