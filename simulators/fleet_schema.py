"""The fleet file's shape: pydantic models with unknown keys rejected.

docs/simulators.md documents the format; ``simulators.fleet`` loads a file, applies
the defaults, expands ``repeat`` and checks the cross-references.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from simulators.endpoints import check_endpoint, check_ipv4
from simulators.flavours import FLAVOURS
from simulators.yamlfile import parse_duration, register_union_tags

KINDS = ("switch", "nvr", "pbx", "ups", "alarm_panel")
register_union_tags(KINDS)

Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)]
Port = Annotated[int, Field(ge=1, le=65535)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class V3User(Strict):
    """An SNMPv3 user with authPriv (SHA authentication, AES-128 privacy)."""

    user: Annotated[str, Field(min_length=1, max_length=32)]
    auth: Literal["sha"] = "sha"
    auth_key: Annotated[str, Field(min_length=8)]
    priv: Literal["aes"] = "aes"
    priv_key: Annotated[str, Field(min_length=8)]


class Snmp(Strict):
    community: Annotated[str, Field(min_length=1)] = "public"
    v3: V3User | None = None
    trap_community: str | None = None  # defaults to ``community``


class HttpAccount(Strict):
    """An HTTP device API (ISAPI, the Dahua API) served on its own port, behind
    digest authentication with this account."""

    port: Port
    user: Annotated[str, Field(min_length=1, pattern=r"^[^:\s]+$")] = "admin"
    password: Annotated[str, Field(min_length=1)]
    algorithm: Literal["MD5", "SHA-256"] = "MD5"


class AmiTls(Strict):
    """Serve the manager interface over TLS (manager.conf ``tlsenable``) with this
    certificate and key (PEM files)."""

    cert: Annotated[str, Field(min_length=1)]
    key: Annotated[str, Field(min_length=1)]


AmiClass = Literal["system", "call", "log", "verbose", "command", "agent", "user", "config",
                   "dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc",
                   "test", "security", "message"]  # fmt: skip


class AmiAccount(Strict):
    """The Asterisk Manager Interface on its own port, with one manager.conf account:
    its ``read`` and ``write`` classes as manager.conf gives them (the default is the
    read-only account docs/ami.md tells a site to create)."""

    port: Port
    username: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] = "lvgw"
    secret: Annotated[str, Field(min_length=1)]
    read: list[AmiClass] = ["system", "call", "reporting"]
    write: list[AmiClass] = ["reporting"]
    channel_driver: Literal["pjsip", "chan_sip"] = "pjsip"  # chan_sip: Asterisk 20 and older
    tls: AmiTls | None = None


class Serial(Strict):
    """Modbus RTU on a serial line instead of Modbus TCP."""

    port: Annotated[str, Field(min_length=1)]
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8


class Modbus(Strict):
    unit: Annotated[int, Field(ge=1, le=247)] = 1
    serial: Serial | None = None


def _quoted(value: object) -> object:
    # YAML reads 1234 as a number and 0123 as 123: a DC-09 number is text.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'quote it ("{value}"): DC-09 numbers and keys are text')
    return value


HEX = r"^[0-9A-Fa-f]+$"
Account = Annotated[
    str, StringConstraints(pattern=HEX, min_length=3, max_length=16), BeforeValidator(_quoted)
]
HexNumber = Annotated[
    str, StringConstraints(pattern=HEX, min_length=1, max_length=6), BeforeValidator(_quoted)
]
KEY_LENGTHS = {"hex": (32, 48, 64), "text": (16, 24, 32)}


class PanelSia(Strict):
    """A panel that reports over SIA DC-09 (docs/simulators.md, "DC-09 panels"): where
    to, as which account, and how often it sends its periodic test report."""

    receiver: str  # HOST:PORT of the receiver (the gateway's sia: listen)
    transport: Literal["tcp", "udp"] = "tcp"
    account: Account
    key: Annotated[str, BeforeValidator(_quoted)] | None = None  # AES: an encrypted account
    key_format: Literal["hex", "text"] = "hex"
    prefix: HexNumber = "0"
    receiver_number: HexNumber | None = None
    events: Literal["sia", "cid"] = "sia"  # SIA DC-03 codes or Contact ID
    test_period: str | float = "24h"
    ack_timeout: str | float = "10s"

    _receiver = field_validator("receiver")(check_endpoint)

    @field_validator("test_period", "ack_timeout")
    @classmethod
    def _duration(cls, value: str | float) -> str | float:
        if parse_duration(value) <= 0:
            raise ValueError("must be more than 0 s")
        return value

    @model_validator(mode="after")
    def _key_length(self) -> PanelSia:
        if self.key is None:
            return self
        lengths = KEY_LENGTHS[self.key_format]
        if len(self.key) not in lengths:
            what = "hex digits" if self.key_format == "hex" else "characters"
            raise ValueError(f"key: an AES key is {', '.join(map(str, lengths))} {what}")
        if self.key_format == "hex" and not all(c in "0123456789abcdefABCDEF" for c in self.key):
            raise ValueError("key: hex digits only (or key_format: text)")
        return self

    def key_bytes(self) -> bytes | None:
        if self.key is None:
            return None
        return bytes.fromhex(self.key) if self.key_format == "hex" else self.key.encode()


class Defaults(Strict):
    """Values every device takes unless it sets its own."""

    address: str = "127.0.0.1"
    port: Port | None = None
    snmp: Snmp = Snmp()
    trap_receivers: list[str] = []
    interval: str | float = "30s"

    _address = field_validator("address")(check_ipv4)

    @field_validator("trap_receivers")
    @classmethod
    def _receivers(cls, value: list[str]) -> list[str]:
        return [check_endpoint(item) for item in value]

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str | float) -> str | float:
        parse_duration(value)
        return value


class DeviceBase(Strict):
    id: Ident
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None  # to the site file
    model: str | None = None  # flavour; see simulators.flavours
    address: str | None = None
    port: Port | None = None
    parent: Ident | None = None
    parent_port: Annotated[int, Field(ge=1)] | None = None
    role: Ident | None = None
    profile: Ident | None = None
    interval: str | float | None = None
    repeat: Annotated[int, Field(ge=1, le=10000)] | None = None
    repeat_step: Literal["address", "port"] = "address"

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_ipv4(value)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            parse_duration(value)
        return value


class SnmpDeviceBase(DeviceBase):
    snmp: Snmp | None = None
    trap_receivers: list[str] | None = None

    @field_validator("trap_receivers")
    @classmethod
    def _receivers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [check_endpoint(item) for item in value]


def _flavour_check(kind: str):  # type: ignore[no-untyped-def]
    def check(value: str | None) -> str | None:
        if value is not None and value not in FLAVOURS[kind]:
            raise ValueError(f"unknown {kind} model {value!r}; known: {sorted(FLAVOURS[kind])}")
        return value

    return field_validator("model")(check)


class SwitchSpec(SnmpDeviceBase):
    kind: Literal["switch"]
    ports: Annotated[int, Field(ge=2, le=512)] = 24
    temperatures: Annotated[int, Field(ge=1, le=8)] = 2
    fans: Annotated[int, Field(ge=0, le=8)] = 2
    psus: Annotated[int, Field(ge=1, le=4)] = 2
    poe: bool = True
    _model = _flavour_check("switch")


class NvrSpec(SnmpDeviceBase):
    kind: Literal["nvr"]
    disks: Annotated[int, Field(ge=1, le=64)] = 4
    cameras: Annotated[int, Field(ge=1, le=256)] = 16
    disk_capacity_mb: Annotated[int, Field(ge=1000)] = 3_815_447  # a "4 TB" disk
    camera_kbps: Annotated[int, Field(ge=64, le=100_000)] = 4096
    isapi: HttpAccount | None = None  # also serve Hikvision ISAPI
    dahua: HttpAccount | None = None  # also serve the Dahua HTTP API
    _model = _flavour_check("nvr")


class PbxSpec(SnmpDeviceBase):
    kind: Literal["pbx"]
    trunks: Annotated[int, Field(ge=1, le=64)] = 4
    channels_per_trunk: Annotated[int, Field(ge=1, le=120)] = 8
    ami: AmiAccount | None = None  # also serve the Asterisk Manager Interface
    # FreeSWITCH's max-sessions (switch.conf.xml, default 1000): flavour freeswitch
    max_sessions: Annotated[int, Field(ge=1, le=100_000)] = 1000
    _model = _flavour_check("pbx")


class UpsSpec(SnmpDeviceBase):
    kind: Literal["ups"]
    lines: Literal[1, 3] = 1
    battery_minutes: Annotated[float, Field(gt=0)] = 30.0
    load_percent: Annotated[int, Field(ge=0, le=100)] = 35
    _model = _flavour_check("ups")


class AlarmPanelSpec(DeviceBase):
    kind: Literal["alarm_panel"]
    zones: Annotated[int, Field(ge=1, le=256)] = 16
    modbus: Modbus = Modbus()
    sia: PanelSia | None = None  # reports over DC-09 instead of serving Modbus
    battery_minutes: Annotated[float, Field(gt=0)] = 240.0
    _model = _flavour_check("alarm_panel")

    @model_validator(mode="after")
    def _one_protocol(self) -> AlarmPanelSpec:
        if self.sia is not None and "modbus" in self.model_fields_set:
            raise ValueError("a panel reports over DC-09 (sia) or serves Modbus, not both")
        if self.sia is not None and self.port is not None:
            raise ValueError("a DC-09 panel listens on no port: it sends to sia.receiver")
        return self


DeviceSpec = Annotated[
    SwitchSpec | NvrSpec | PbxSpec | UpsSpec | AlarmPanelSpec, Field(discriminator="kind")
]
SnmpSpec = SwitchSpec | NvrSpec | PbxSpec | UpsSpec


class Customer(Strict):
    name: str = "Simulated customer"
    contact: str = "Facility manager"
    phone: str = "+86 10 0000 0000"
    address: str = "1 Example Road"


class Contract(Strict):
    type: Literal["annual", "per_visit", "warranty"] = "annual"
    ends: datetime.date = datetime.date(2027, 6, 30)


class Site(Strict):
    """Site details copied into the gateway site file by ``--write-config``."""

    id: Ident = "sim-site"
    name: str = "Simulated site"
    customer: Customer = Customer()
    contract: Contract = Contract()
    zone: Literal["urban", "suburban"] = "urban"
    timezone: str | None = None  # the site's IANA time zone, copied as is


class FleetFile(Strict):
    control: str = "127.0.0.1:8700"
    defaults: Defaults = Defaults()
    site: Site = Site()
    devices: Annotated[list[DeviceSpec], Field(min_length=1)]

    _control = field_validator("control")(check_endpoint)
