"""What a ticket is owed under the site's contract: its deadlines, and a loaner or not.

The loaner (seed 003, 备注1/2): a customer under an annual maintenance contract whose
*system fault* cannot be repaired within 48 hours gets a replacement device;
per-visit (and warranty) customers get none. So a loaner is due only for a fault of
one of the site's devices, at levels 1 to 3, on an annual contract that has not
ended. Never for what is not a fault: an inspection due (``pm.due``), the contract's
expiry notice, a forecast (``forecast.*``), a profile rule marked ``notice`` (a
warning: nothing is broken yet), or a ticket of the gateway itself or of the site.

Once ``contract.ends`` is over (site time) the site is served as per-visit: no
loaner, and its tickets say the contract has ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from gateway.config.load import LoadedConfig
from gateway.config.site import ContractType, DeviceKind, Site
from gateway.model import Level
from gateway.tickets.clocks import ServiceClocks

UTC_ZONE = ZoneInfo("UTC")
NOTICE_CODES = frozenset({"pm.due", "contract.expiring"})
NOTICE_PREFIXES = ("forecast.",)
DEVICE_KINDS = frozenset(kind.value for kind in DeviceKind)


def is_notice_code(code: str) -> bool:
    """A code the gateway files to say something, not a fault (whatever the profile)."""
    return code in NOTICE_CODES or code.startswith(NOTICE_PREFIXES)


@dataclass(frozen=True, slots=True)
class Deadlines:
    response_due: datetime
    onsite_due: datetime | None
    loaner_due: datetime | None


@dataclass(frozen=True, slots=True)
class Coverage:
    """The customer's contract as the service rules read it."""

    type: ContractType = ContractType.ANNUAL
    ends: date | None = None
    zone: ZoneInfo = UTC_ZONE
    # (device, code) of profile rules marked ``notice``: warnings, not faults.
    notices: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def for_site(cls, site: Site, notices: Iterable[tuple[str, str]] = ()) -> Coverage:
        return cls(site.contract.type, site.contract.ends, site.local_zone, frozenset(notices))

    @classmethod
    def for_config(cls, config: LoadedConfig) -> Coverage:
        """The site's contract, and the rules its devices' profiles mark ``notice``."""
        notices = [
            (device.id, code)
            for device in config.devices
            for rule in config.profile_of(device).rules
            if rule.notice
            for code in rule.codes()
        ]
        return cls.for_site(config.site_file.site, notices)

    def ended(self, at: datetime) -> bool:
        """Is ``at`` after the contract's last day (site time)?"""
        return self.ends is not None and at.astimezone(self.zone).date() > self.ends

    def attribute(self, at: datetime) -> ContractType:
        """The customer attribute of the service form at ``at``: per-visit once ended."""
        return ContractType.PER_VISIT if self.ended(at) else self.type

    def is_fault(self, device: str, device_kind: str, code: str) -> bool:
        """A fault of one of the site's devices (not a notice, not the gateway's own)."""
        if device_kind not in DEVICE_KINDS or is_notice_code(code):
            return False
        return (device, code) not in self.notices

    def loaner(self, device: str, device_kind: str, code: str, level: Level, at: datetime) -> bool:
        return (
            self.attribute(at) is ContractType.ANNUAL
            and level <= Level.L3
            and self.is_fault(device, device_kind, code)
        )


def deadlines(
    clocks: ServiceClocks,
    coverage: Coverage,
    level: Level,
    start: datetime,
    *,
    device: str = "",
    device_kind: str = DeviceKind.SWITCH.value,
    code: str = "",
    occurred: datetime | None = None,
) -> Deadlines:
    """The deadlines of a fault at ``level`` whose clocks start at ``start`` (the fault,
    or the rise of its level); the loaner always counts from the fault (``occurred``)."""
    occurred = occurred or start
    loaner = coverage.loaner(device, device_kind, code, level, occurred)
    return Deadlines(
        response_due=clocks.response_due(level, start),
        # An inspection, the expiry notice, a forecast: planned, not a visit by a deadline.
        onsite_due=None if is_notice_code(code) else clocks.onsite_due(level, start),
        loaner_due=clocks.loaner_due(occurred) if loaner else None,
    )
