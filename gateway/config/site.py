"""Typed model of the site file (the shape documented in docs/configuration.md)."""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from gateway.config.limits import Limits
from gateway.config.listen import needs_token, parse_listen
from gateway.config.protocols import SCHEMAS
from gateway.config.protocols.base import with_fields
from gateway.config.types import IDENTIFIER, Duration, Host, Strict
from gateway.i18n import DEFAULT_LOCALE, Locale
from gateway.model import Level


class DeviceKind(enum.StrEnum):
    SWITCH = "switch"
    NVR = "nvr"
    PBX = "pbx"
    ALARM_PANEL = "alarm_panel"
    UPS = "ups"


class ContractType(enum.StrEnum):
    ANNUAL = "annual"
    PER_VISIT = "per_visit"
    WARRANTY = "warranty"


class SiteZone(enum.StrEnum):
    URBAN = "urban"
    SUBURBAN = "suburban"


class Customer(Strict):
    name: str
    contact: str = ""
    phone: str = ""
    address: str = ""


class Contract(Strict):
    type: ContractType
    ends: dt.date | None = None
    # Months between preventive inspections; default: 3 for annual contracts, none else.
    inspection_every_months: Annotated[int, Field(ge=1, le=24)] | None = None


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def known_time_zone(name: str | None) -> str | None:
    """An IANA time zone name (Asia/Shanghai), checked against the system's database."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name, e.g. Asia/Shanghai)") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(known_time_zone)]
# The seed's on-call duty (seed 003): 08:00-22:30, every day, weekends and holidays included.
DUTY_START, DUTY_END = "08:00", "22:30"


class Duty(Strict):
    """When the service center is on duty; outside these hours no duty-time clock runs.

    The defaults are the rules' on-call hours: every day 08:00-22:30, so ``duty: {}``
    is the seed's calendar. ``timezone`` defaults to the site's.
    """

    days: list[Weekday] = Field(default_factory=lambda: list(WEEK), min_length=1)
    start: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = DUTY_START
    end: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")] = DUTY_END
    timezone: TimeZoneName | None = None

    @model_validator(mode="after")
    def _valid(self) -> Duty:
        if self.start >= self.end:
            raise ValueError("duty start must be before its end (e.g. 08:00 to 22:30)")
        return self


class Clocks(Strict):
    """Response and on-site deadlines per level, overriding the service rules' defaults."""

    response: dict[Level, Duration] = Field(default_factory=dict)
    onsite: dict[Level, Duration | None] = Field(default_factory=dict)
    suburban_extra: Duration | None = None
    duty: Duty | None = None  # default: round the clock
    loaner_after: Duration | None = None  # annual contracts: a loaner if unfixed (48 h)
    reminder_cap: Duration | None = None  # longest gap between two reminders (24 h)


class Site(Strict):
    id: Annotated[str, Field(pattern=IDENTIFIER)]
    name: str
    customer: Customer
    contract: Contract
    zone: SiteZone = SiteZone.URBAN
    # The site's IANA time zone: duty hours, reports, digests and scheduled jobs.
    timezone: TimeZoneName | None = None
    # The language of ticket titles, level meanings, the status page, reports and
    # digests (docs/languages.md); the MQTT fields stay codes whatever it is.
    locale: Locale = DEFAULT_LOCALE
    clocks: Clocks = Clocks()

    @property
    def local_zone(self) -> zoneinfo.ZoneInfo:
        """The site's time zone: ``timezone``, else its duty calendar's, else UTC."""
        duty = self.clocks.duty
        name = self.timezone or (duty.timezone if duty is not None else None)
        return zoneinfo.ZoneInfo(name or "UTC")


class Tls(Strict):
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> Tls:
        if (self.cert is None) != (self.key is None):
            raise ValueError("tls: give both cert and key for a client certificate, or neither")
        return self


class Mqtt(Strict):
    host: Host
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    tls: Tls | None = None
    username: str | None = None
    password_file: Path | None = None
    client_id: str | None = None
    keepalive: Annotated[int, Field(ge=5, le=3600)] = 30


class Uplink(Strict):
    mqtt: Mqtt
    # The HMAC key that signs every inbound `acks` and `cmd/<name>` message
    # (gateway/signing.py); without it they are taken unsigned (check-config warns).
    command_key_file: Path | None = None
    # The retained `health` topic is published again when it changes, at most this often.
    health_every: Annotated[Duration, Field(ge=1)] = 60.0
    # cmd/config: a new site file is rolled back unless the broker is reached with it
    # within this long.
    config_rollback_after: Annotated[Duration, Field(ge=1)] = 300.0


class InfluxDb(Strict):
    url: str
    org: str = ""
    bucket: str
    token_file: Path | None = None
    ca: Path | None = None  # a private CA to verify an https server with
    verify_tls: bool = True  # False only for a lab server with a self-made certificate


class Metrics(Strict):
    influxdb: InfluxDb | None = None


class Agent(Strict):
    """Where the agent keeps its state, and where profiles and compiled MIBs are looked
    up."""

    state_dir: Path = Path("/var/lib/lvgw")
    profile_dirs: list[Path] = Field(default_factory=list)
    # Compiled MIB modules (lvgw mib compile) that profiles' MODULE::name OIDs come from.
    mib_dirs: list[Path] = Field(default_factory=list)
    # The local status page (docs/status-page.md); null turns it off.
    status_listen: str | None = "127.0.0.1:8780"
    status_token_file: Path | None = None
    # Connections open to the page at once; one more is answered 503 and closed.
    status_max_connections: Annotated[int, Field(ge=1, le=4096)] = 64
    # How long a browser stays logged in after opening the page with ?token=.
    status_session_lifetime: Duration = 12 * 3600.0

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Agent:
        if self.status_listen is None:
            return self
        host, _ = parse_listen(self.status_listen)
        if needs_token(host) and self.status_token_file is None:
            raise ValueError(
                f"status_listen {self.status_listen} is not a loopback address: "
                "give status_token_file, a token the status page then requires"
            )
        return self


Port = Annotated[int, Field(ge=1, le=65535)]


class _Device(Strict):
    """A device of the site. Its protocols' settings sections (``snmp:``, ``isapi:``)
    are fields named after the protocols, added from gateway/config/protocols/; a
    device has the sections of the protocols its profile speaks (check-config says
    which). ``port`` is its profile's ``protocol``'s; ``ports`` the others', by name."""

    id: Annotated[str, Field(pattern=IDENTIFIER)]
    kind: DeviceKind
    profile: Annotated[str, Field(pattern=IDENTIFIER)]
    address: Host
    port: Port | None = None
    ports: dict[str, Port] = Field(default_factory=dict)
    interval: Duration = 30.0
    parent: str | None = None
    role: str | None = None
    levels: dict[str, Level] = Field(default_factory=dict)  # fault code -> level override
    name: str = ""

    def over(self, protocol: str, primary: str) -> _Device:
        """The device as the reader of ``protocol`` sees it: with that protocol's port
        (``ports``, else its default) when it is not the profile's ``primary`` one."""
        if protocol == primary:
            return self
        return self.model_copy(update={"port": self.ports.get(protocol)})


class Maintenance(Strict):
    """Maintenance windows (docs/maintenance.md): set over MQTT or with `lvgw maintenance`."""

    # A window holds back new tickets: the longest one anyone may set. Longer windows
    # (a renovation) are set again each day, so that none outlives its reason unseen.
    max_window: Duration = 24 * 3600.0


class _SiteFile(Strict):
    """The site file. The protocols' top-level sections (``traps:``) are added from
    gateway/config/protocols/."""

    site: Site
    uplink: Uplink
    metrics: Metrics | None = None
    agent: Agent = Agent()
    limits: Limits = Limits()
    maintenance: Maintenance = Maintenance()
    devices: list[Device] = Field(min_length=1)


# mypy sees the common fields; what pydantic validates has the protocols' sections
# too, read through their schemas' accessors (snmp_settings(device), ...).
if TYPE_CHECKING:
    Device = _Device
    SiteFile = _SiteFile
else:
    Device = with_fields(
        "Device", _Device, {s.name: (s.device | None, None) for s in SCHEMAS.values() if s.device}
    )
    SiteFile = with_fields(
        "SiteFile",
        _SiteFile,
        {key: (model | None, None) for s in SCHEMAS.values() for key, model in s.site.items()},
    )
