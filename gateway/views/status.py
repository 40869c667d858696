"""`lvgw status`: the site at a glance, from the running agent's snapshot."""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from gateway import snapshot
from gateway.config.load import LoadedConfig
from gateway.i18n import N_, Translator, translator
from gateway.present.summary import STATE_WORDS, SiteMeanings, kind_word, site_meanings, summarize
from gateway.snapshot import DeviceStatus, StatusSnapshot, TicketStatus

FRESH_SECONDS = 15.0  # the agent rewrites the snapshot every few seconds
LEVELS = {1: "L1", 2: "L2", 3: "L3", 4: "L4"}
INTAKE_NAMES = {"sia": N_("DC-09 receiver")}  # push sources that count what they take


def span_units(tr: Translator) -> tuple[str, str, str, str]:
    """The unit letters of a compact span, seconds to days, in the site's words
    (``s m h d``, ``秒 分 小时 天``); the status page's script ticks with the same."""
    return (
        tr.pgettext("span unit", "s"),
        tr.pgettext("span unit", "m"),
        tr.pgettext("span unit", "h"),
        tr.pgettext("span unit", "d"),
    )


def _span(seconds: float, tr: Translator | None = None) -> str:
    """A terminal's compact span: ``9m59s``, ``9分59秒`` (English without ``tr``)."""
    s, m, h, d = span_units(tr or ENGLISH)
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds}{s}"
    if seconds < 3600:
        return f"{seconds // 60}{m}{seconds % 60:02d}{s}"
    if seconds < 86400:
        return f"{seconds // 3600}{h}{seconds % 3600 // 60:02d}{m}"
    return f"{seconds // 86400}{d}{seconds % 86400 // 3600:02d}{h}"


# The people's views in English unless given the site's translator.
ENGLISH = translator()


# The uplink's backlog by outbox class (gateway/outbox/messages.py MessageClass).
BACKLOG_WORDS: dict[str, str] = {
    "ticket": N_("{n} ticket"),
    "control": N_("{n} control"),
    "metric": N_("{n} metric"),
}


def backlog_text(backlog: Mapping[str, int], tr: Translator = ENGLISH) -> str:
    """``2 ticket, 40 metric`` (``2 条工单事件`` in Chinese), or ``empty``."""
    parts = [
        tr.gettext(BACKLOG_WORDS[c]).format(n=n) if c in BACKLOG_WORDS else f"{n} {c}"
        for c, n in backlog.items()
    ]
    return tr.gettext(", ").join(parts) if parts else tr.gettext("empty")


def _countdown(due: datetime | None, now: datetime, tr: Translator = ENGLISH) -> str:
    _ = tr.gettext
    if due is None:
        return _("none")
    left = (due - now).total_seconds()
    if left >= 0:
        return _("in {span}").format(span=_span(left, tr))
    return _("OVERDUE {span}").format(span=_span(left, tr))


def _ago(when: datetime | None, now: datetime, tr: Translator = ENGLISH) -> str:
    if not when:
        return "-"
    return tr.gettext("{span} ago").format(span=_span((now - when).total_seconds(), tr))


def device_state(device: DeviceStatus, tr: Translator = ENGLISH) -> str:
    _ = tr.gettext
    if device.reachable is None:
        return _("not polled")
    return _("up") if device.reachable else _("DOWN")


def agent_state(data: StatusSnapshot, now: datetime, tr: Translator = ENGLISH) -> str:
    age = (now - data.generated_at).total_seconds()
    try:
        os.kill(data.agent.pid, 0)
        alive = True
    except (ProcessLookupError, PermissionError):
        alive = False
    if alive and age <= FRESH_SECONDS:
        return tr.gettext("running")
    return tr.gettext("stopped (last status {span} ago)").format(span=_span(age, tr))


def acknowledged(by: str | None, tr: Translator = ENGLISH) -> str:
    _ = tr.gettext
    return _("acknowledged by {who}").format(who=by) if by else _("not acknowledged")


def deadlines(ticket: TicketStatus, now: datetime, tr: Translator = ENGLISH) -> str:
    """``respond in 25m00s, on site in 1d23h; not acknowledged``."""
    return tr.gettext("respond {respond}, on site {onsite}; {acknowledged}").format(
        respond=_countdown(ticket.response_due, now, tr),
        onsite=_countdown(ticket.onsite_due, now, tr),
        acknowledged=acknowledged(ticket.acknowledged_by, tr),
    )


def _pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a CJK character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - columns, 0)


def render(
    data: StatusSnapshot,
    out: TextIO,
    meanings: SiteMeanings,
    now: datetime | None = None,
    tr: Translator = ENGLISH,
) -> None:
    _ = tr.gettext
    now = now or datetime.now(UTC)
    site, uplink = data.site, data.uplink
    print(_("site {id}: {name} ({customer})").format(
        id=site.id, name=site.name, customer=site.customer), file=out)  # fmt: skip
    link = _("connected") if uplink.connected else _("NOT connected")
    backlog = backlog_text(uplink.backlog, tr)
    line = _("agent {state}; uplink {link}, backlog {backlog}").format(
        state=agent_state(data, now, tr), link=link, backlog=backlog
    )
    if uplink.refused:
        line += _("; refused {count}").format(count=uplink.refused)
    print(line, file=out)
    if data.agent.degraded:
        counts = ", ".join(
            _("{part} ({count} failures)").format(part=p, count=data.agent.failures.get(p, 0))
            for p in data.agent.degraded
        )
        print(_("DEGRADED (restarting): {parts}").format(parts=counts), file=out)
    for name, intake in data.agent.intake.items():
        refused = ", ".join(f"{cause} {n}" for cause, n in sorted(intake.refused.items()))
        print(
            _("{source}: {accepted} accepted, {duplicates} duplicates, refused: {refused}").format(
                source=_(INTAKE_NAMES[name]) if name in INTAKE_NAMES else name,
                accepted=intake.accepted, duplicates=intake.duplicates,
                refused=refused or _("none"),
            ),
            file=out,
        )  # fmt: skip
    print(file=out)
    header = [(_("DEVICE"), 14), (_("KIND"), 12), (_("STATE"), 12), (_("LEVEL"), 6),
              (_("POLLED"), 9)]  # fmt: skip
    print(" ".join(_pad(text, width) for text, width in header) + " " + _("SUMMARY"), file=out)
    for device in data.devices:
        level = LEVELS.get(device.worst_level or 0, "-")
        summary = summarize(device, meanings.get(device.id, {}), tr)
        print(
            f"{device.id:<14} {_pad(kind_word(device.kind, tr), 12)} "
            f"{_pad(_(STATE_WORDS[summary.state]), 12)} "
            f"{level:<6} {_pad(_ago(device.last_poll, now, tr), 9)} {summary.line(_('; '))}",
            file=out,
        )
    tickets = data.open_tickets
    print(file=out)
    print(_("OPEN TICKETS ({count})").format(count=len(tickets)), file=out)
    for ticket in tickets:
        related = f" (+{', '.join(ticket.related_devices)})" if ticket.related_devices else ""
        print(
            f"  {LEVELS[ticket.severity]} {ticket.device}{related}: {ticket.title}\n"
            f"     {deadlines(ticket, now, tr)}; {ticket.ticket_id}",
            file=out,
        )


def status_document(data: StatusSnapshot, now: datetime | None = None) -> dict[str, Any]:
    """What `lvgw status --json` prints (and ``cmd/status`` answers): the snapshot and
    whether the agent that wrote it is running."""
    return {**data.to_jsonable(), "agent_state": agent_state(data, now or datetime.now(UTC))}


def show(config: LoadedConfig, out: TextIO, as_json: bool) -> int:
    data = snapshot.read(config.site_file.agent.state_dir)
    if data is None:
        print(
            f"no status yet in {config.site_file.agent.state_dir}: start the agent with "
            f"`lvgw run -c {config.path}`",
            file=out,
        )
        return 1
    if as_json:
        json.dump(status_document(data), out, indent=2, ensure_ascii=False)
        print(file=out)
    else:
        render(data, out, site_meanings(config), tr=translator(config.site_file.site.locale))
    return 0


# What the status page and the digest read the agent's state from.
StatusSource = Callable[[], StatusSnapshot | None]


def from_state_dir(config: LoadedConfig) -> StatusSource:
    """The status source of a running agent: the snapshot it writes every few seconds."""
    state_dir = config.site_file.agent.state_dir
    return lambda: snapshot.read(state_dir)
