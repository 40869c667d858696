"""Ask an address for Hikvision ISAPI's ``/ISAPI/System/deviceInfo`` (HTTP with digest
authentication, docs/isapi.md): the deviceType and name of a recorder whose SNMP is
off or which is better read over ISAPI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.http import (
    HttpAuthError,
    HttpConnectError,
    HttpDevice,
    HttpError,
    HttpTarget,
    HttpTimeout,
)
from drivers.isapi import child_text, parse_xml
from drivers.snmp.pacing import Pacer

DEVICE_INFO = "/ISAPI/System/deviceInfo"
MAX_BYTES = 64 * 1024  # a deviceInfo document is a few hundred bytes


@dataclass(frozen=True, slots=True)
class IsapiLogin:
    user: str
    password: str = field(repr=False)
    password_file: Path
    port: int = 80
    scheme: str = "http"
    timeout: float = 3.0

    def site_section(self) -> dict[str, Any]:
        """The device's ``isapi:`` section in the draft (the password stays in its file)."""
        section: dict[str, Any] = {"user": self.user, "password_file": str(self.password_file)}
        if self.scheme != "http":
            section["scheme"] = self.scheme
        return section


@dataclass(frozen=True, slots=True)
class IsapiInfo:
    device_type: str
    name: str
    model: str
    firmware: str


async def device_info(address: str, login: IsapiLogin, pacer: Pacer) -> IsapiInfo | str | None:
    """The device's info; a reason (text) when it answers but refuses us or speaks
    something else; None when nothing listens or nothing answers."""
    target = HttpTarget(
        address, login.port, login.scheme, login.user, login.password,
        verify_tls=False,  # a sweep reads identities; the draft's section verifies
        timeout=login.timeout, max_bytes=MAX_BYTES,
    )  # fmt: skip
    device = HttpDevice(target)
    await pacer.wait()
    try:
        root = parse_xml(await device.get(DEVICE_INFO))
    except (HttpConnectError, HttpTimeout):
        return None
    except HttpAuthError:
        return f"ISAPI refused the login of {login.user}"
    except HttpError as exc:
        return f"HTTP on port {login.port} but no ISAPI deviceInfo: {exc}"
    finally:
        await device.close()
    if root.tag != "DeviceInfo":
        return f"ISAPI answered {root.tag!r}, not DeviceInfo"
    return IsapiInfo(
        device_type=child_text(root, "deviceType") or "",
        name=child_text(root, "deviceName") or "",
        model=child_text(root, "model") or "",
        firmware=child_text(root, "firmwareVersion") or "",
    )
