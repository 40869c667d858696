"""The contract's own schedule as tickets: inspections due, and the expiry notice.

Both are filed against the pseudo-device ``gateway`` (the site itself, the root of
the device tree) at level 4: they ask the service center to plan something, they are
not faults.

- ``pm.due`` (instance: the due date): opened once per inspection period; the
  previous period's ticket is resolved when the next one opens (the period is over),
  and the last one when the contract ends.
- ``contract.expiring`` (instance: the end date): opened once, one month before the
  contract ends; resolved when the contract has ended or was renewed (a new end date
  in the site file), after which the new end date gets its own notice in turn.

What was opened is remembered in proactive.db, so a restart, a catch-up run or a
job run twice never files the same ticket again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from gateway.config.site import Site
from gateway.correlate.topology import GATEWAY
from gateway.i18n import N_, translator
from gateway.model import Condition, Level
from gateway.proactive import calendar
from gateway.proactive.ports import TicketSink
from gateway.proactive.state import ProactiveState

log = logging.getLogger("lvgw.proactive")

PM_CODE = "pm.due"
EXPIRY_CODE = "contract.expiring"
_PERIOD_NAMES = {
    1: N_("monthly"), 2: N_("bimonthly"), 3: N_("quarterly"), 6: N_("half-yearly"),
    12: N_("yearly"),
}  # fmt: skip
# The contract types as the service form names them (seed 003's customer attributes).
_CONTRACT_NAMES = {"annual": N_("annual"), "per_visit": N_("per_visit"), "warranty": N_("warranty")}


def _period_name(months: int, locale: str) -> str:
    _ = translator(locale).gettext
    if months in _PERIOD_NAMES:
        return _(_PERIOD_NAMES[months])
    return _("every {months} months").format(months=months)


class ContractJobs:
    def __init__(self, site: Site, tickets: TicketSink, state: ProactiveState) -> None:
        self.site = site
        self.tickets = tickets
        self.state = state

    def _open_instances(self, code: str) -> list[str]:
        return [
            t.instance
            for t in self.tickets.open_tickets.values()
            if t.device == GATEWAY and t.code == code
        ]

    def _condition(
        self, code: str, title: str, active: bool, since: datetime, instance: str
    ) -> Condition:
        return Condition(GATEWAY, code, Level.L4, title, active, since, instance)

    async def inspection(self, now: datetime, slot: datetime) -> None:
        """Open the ticket of the current inspection period, once."""
        today = calendar.local_day(self.site, now)
        due = calendar.latest_inspection_due(self.site, today)
        conditions = []
        current = due.isoformat() if due is not None else None
        for instance in self._open_instances(PM_CODE):
            if instance != current:  # its period is over (or the contract ended)
                conditions.append(self._condition(PM_CODE, "", False, now, instance))
        if due is not None and self.state.inspection_due is None and due < today:
            # First start ever: the period under way began before the gateway was here,
            # and nobody knows whether it was inspected; the next period is the first.
            log.info("inspections start with the period after %s site=%s", current, self.site.id)
        elif due is not None and current != self.state.inspection_due:
            months = calendar.inspection_months(self.site) or 0
            following = calendar.next_inspection_due(self.site, today)
            _ = translator(self.site.locale).gettext
            until = _(", next due {date}").format(date=following.isoformat()) if following else ""
            title = _(
                "Preventive maintenance due: {period} inspection of {site} (from {start}{until})"
            ).format(
                period=_period_name(months, self.site.locale), site=self.site.name,
                start=current, until=until,
            )  # fmt: skip
            # Filed now, not at the period's start: the response clock starts when the
            # service center hears of it.
            conditions.append(self._condition(PM_CODE, title, True, now, current or ""))
            log.info("inspection due site=%s period=%s", self.site.id, current)
        if conditions:
            await self.tickets.apply(conditions)
        if due is not None:
            self.state.inspection_due = current

    async def expiry(self, now: datetime, slot: datetime) -> None:
        """The notice one month before the contract ends, once per end date."""
        ends = self.site.contract.ends
        today = calendar.local_day(self.site, now)
        current = ends.isoformat() if ends is not None else None
        conditions = []
        for instance in self._open_instances(EXPIRY_CODE):
            if instance != current or (ends is not None and today > ends):
                conditions.append(self._condition(EXPIRY_CODE, "", False, now, instance))
        notice = calendar.expiry_notice_day(self.site)
        due = (
            ends is not None
            and notice is not None
            and notice <= today <= ends
            and current not in self.state.expiry_notices
        )
        if due and ends is not None and current is not None:
            days = (ends - today).days
            customer = self.site.customer.name
            _ = translator(self.site.locale).gettext
            contract = self.site.contract.type.value
            title = _(
                "Maintenance contract ({contract}) of {customer} ends {date}, in {days} days:"
                " contact the customer about renewal"
            ).format(
                contract=_(_CONTRACT_NAMES.get(contract, contract)), customer=customer,
                date=current, days=days,
            )  # fmt: skip
            conditions.append(self._condition(EXPIRY_CODE, title, True, now, current))
            log.info("contract expiry notice site=%s ends=%s", self.site.id, current)
        if conditions:
            await self.tickets.apply(conditions)
        if due and current is not None:
            self.state.expiry_notices.append(current)
