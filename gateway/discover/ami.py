"""Ask an address whether it is an Asterisk manager interface (AMI, docs/ami.md):
connect, read its banner (``Asterisk Call Manager/<version>``) and log in read-only
with the account given, then leave."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.ami import (
    AmiAuthError,
    AmiConnectError,
    AmiConnection,
    AmiError,
    AmiTarget,
    AmiTimeout,
)
from drivers.snmp.pacing import Pacer


@dataclass(frozen=True, slots=True)
class AmiLogin:
    username: str
    secret: str = field(repr=False)
    secret_file: Path
    port: int = 5038
    timeout: float = 3.0

    def site_section(self) -> dict[str, Any]:
        """The device's ``ami:`` section in the draft (the secret stays in its file)."""
        return {"username": self.username, "secret_file": str(self.secret_file)}


@dataclass(frozen=True, slots=True)
class AmiVersion:
    version: str  # the AMI version of the banner


async def ami_version(address: str, login: AmiLogin, pacer: Pacer) -> AmiVersion | str | None:
    """The AMI version once logged in; a reason (text) when it is AMI but refuses the
    login or answers something else; None when nothing listens or answers."""
    target = AmiTarget(
        address, login.port, login.username, login.secret, timeout=login.timeout, events="off"
    )
    connection = AmiConnection(target)
    await pacer.wait()
    try:
        await connection.open()
    except (AmiConnectError, AmiTimeout):
        return None
    except AmiAuthError:
        return f"AMI refused the login of {login.username}"
    except AmiError as exc:
        return f"port {login.port} answers, but not as AMI: {exc}"
    version = connection.version
    await connection.close()
    return AmiVersion(version)
