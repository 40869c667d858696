"""Fixtures of the SNMP driver tests: clients that are always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from drivers.snmp.lean import LeanSnmpClient
from drivers.snmp.pysnmp_client import PysnmpClient
from tests.realservers import Snmpd


@pytest.fixture
async def lean() -> AsyncIterator[LeanSnmpClient]:
    client = LeanSnmpClient()
    try:
        yield client
    finally:
        await client.close()


class Snmpd3(Snmpd):
    """snmpd with one v3 user per security level and protocol family, beside `lvgw`."""

    USERS = {
        # user: (auth protocol, priv protocol) as net-snmp and V3Credentials spell them
        "md5des": (("MD5", "md5"), ("DES", "des")),
        "sha512aes256": (("SHA-512", "sha512"), ("AES-256", "aes256")),
        "sha256aes192": (("SHA-256", "sha256"), ("AES-192", "aes192")),
        "sha224auth": (("SHA-224", "sha224"), None),
    }

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        lines = []
        for user, (auth, priv) in self.USERS.items():
            priv_part = f' {priv[0]} "{self.V3_PRIV}"' if priv else ""
            lines.append(f'createUser {user} {auth[0]} "{self.V3_AUTH}"{priv_part}')
            lines.append(f"rouser {user} {'priv' if priv else 'auth'}")
        self.conf.write_text(self.conf.read_text() + "\n".join(lines) + "\n")


@pytest.fixture
def snmpd3(tmp_path: Path) -> Iterator[Snmpd3]:
    agent = Snmpd3(tmp_path / "snmpd3")
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
async def pysnmp_client() -> AsyncIterator[PysnmpClient]:
    client = PysnmpClient()
    try:
        yield client
    finally:
        await client.close()
