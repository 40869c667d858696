"""``lvgw-sim run --write-config SITE.yaml``: a gateway site file pointing at the fleet.

The shape is the site file of the outside contract (site, uplink, traps, sia,
devices); parents and roles come from the fleet's resolved topology. Secrets (HTTP
passwords, DC-09 keys) go to files beside it, which the site file names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simulators.errors import ServeError
from simulators.fleet import Device, Fleet
from simulators.yamlfile import parse_duration

# Profiles read over an HTTP API: the device's section and port are that API's.
HTTP_PROFILES = {"nvr-hikvision-isapi": "isapi", "nvr-dahua-http": "dahua"}
# Profiles read over the Asterisk Manager Interface: the device's ami: account and port.
AMI_PROFILES = frozenset({"pbx-asterisk-ami"})


def site_document(
    fleet: Fleet,
    mqtt: tuple[str, int] = ("127.0.0.1", 1883),
    secrets: Path | None = None,
) -> dict[str, Any]:
    """The site file; the passwords of HTTP APIs go to files in ``secrets`` (the site
    file names them: ``password_file``), never into the site file itself."""
    site = fleet.site
    doc: dict[str, Any] = {
        "site": {
            "id": site.id,
            "name": site.name,
            "customer": site.customer.model_dump(),
            "contract": {"type": site.contract.type, "ends": site.contract.ends},
            "zone": site.zone,
            **({"timezone": site.timezone} if site.timezone else {}),
        },
        "uplink": {"mqtt": {"host": mqtt[0], "port": mqtt[1]}},
    }
    receivers = [r for device in fleet.devices for r in device.trap_receivers]
    if receivers:
        host, port = receivers[0]
        communities = sorted(
            {
                device.snmp.trap_community or device.snmp.community
                for device in fleet.devices
                if device.snmp is not None
            }
        )
        doc["traps"] = {"listen": f"{host}:{port}", "communities": communities}
    panels = [device.sia for device in fleet.devices if device.sia is not None]
    if panels:  # the gateway's receiver, where the (first) DC-09 panel reports
        doc["sia"] = {"listen": panels[0].receiver}
    doc["devices"] = [_device_entry(device, secrets) for device in fleet.devices]
    return doc


def _sia_section(device: Device, secrets: Path | None) -> dict[str, Any]:
    """A DC-09 panel as the gateway knows it: the account its messages carry, the key
    of an encrypted one, and its test period."""
    sia = device.sia
    assert sia is not None
    section: dict[str, Any] = {"account": sia.account.upper(), "prefix": sia.prefix.upper()}
    if sia.receiver_number is not None:
        section["receiver"] = sia.receiver_number.upper()
    if sia.key is not None:
        section["key_file"] = str(_secret_file(device, "sia-key", sia.key, secrets))
        section["key_format"] = sia.key_format
    section["test_interval"] = _duration(parse_duration(sia.test_period))
    return section


def _http_section(device: Device, api: str, secrets: Path | None) -> dict[str, Any]:
    account = getattr(device.spec, api)
    password_file = _secret_file(device, api, account.password, secrets)
    return {"user": account.user, "password_file": str(password_file)}


def _secret_file(device: Device, name: str, secret: str, secrets: Path | None) -> Path:
    """Where a device's secret goes (``<secrets>/<id>.<name>`` beside the site file),
    written there with mode 600 when ``secrets`` is given."""
    folder = secrets or Path("secrets")
    path = folder / f"{device.id}.{name}"
    if secrets is not None:
        secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(secret + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path


def _ami_section(device: Device, secrets: Path | None) -> dict[str, Any]:
    account = device.spec.ami
    section: dict[str, Any] = {
        "username": account.username,
        "secret_file": str(_secret_file(device, "ami", account.secret, secrets)),
    }
    if account.tls is not None:  # the simulator's certificate is its own CA
        section.update(tls=True, ca_file=str(Path(account.tls.cert).resolve()))
    return section


def _device_entry(device: Device, secrets: Path | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": device.id}
    if device.spec.name is not None:
        entry["name"] = device.spec.name
    entry |= {
        "kind": device.kind,
        "profile": device.profile,
        "address": device.address,
    }
    api = HTTP_PROFILES.get(device.profile)
    over_ami = device.profile in AMI_PROFILES and getattr(device.spec, "ami", None) is not None
    if over_ami:
        entry["port"] = device.spec.ami.port
        entry["ami"] = _ami_section(device, secrets)
    elif api is not None and getattr(device.spec, api, None) is not None:
        entry["port"] = getattr(device.spec, api).port
        entry[api] = _http_section(device, api, secrets)
    elif device.port is not None:
        entry["port"] = device.port
    if device.snmp is not None and api is None and not over_ami:
        entry["snmp"] = {"version": "2c", "community": device.snmp.community}
    if device.modbus is not None:
        modbus: dict[str, Any] = {"unit": device.modbus.unit}
        serial = device.modbus.serial
        if serial is not None:
            modbus.update(transport="rtu", serial=serial.model_dump())
        entry["modbus"] = modbus
    if device.sia is not None:
        entry["sia"] = _sia_section(device, secrets)
    entry["interval"] = _duration(device.interval)
    if device.parent is not None:
        entry["parent"] = device.parent
    if device.role is not None:
        entry["role"] = device.role
    return entry


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def write_site_file(path: Path, fleet: Fleet, mqtt: tuple[str, int] = ("127.0.0.1", 1883)) -> None:
    secrets = path.resolve().parent / f"{path.stem}.secrets"
    try:
        doc = site_document(fleet, mqtt, secrets)
        text = (
            f"# Gateway site file for the simulated fleet {fleet.path.name}\n"
            "# written by `lvgw-sim run --write-config`; edit the fleet, not this file.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        )
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ServeError(f"cannot write the site file {path}: {exc.strerror}") from exc
