"""Dependencies and storms: which device's condition stands for an outage.

Every device whose unreachable condition the rules raised is *placed*:

- ``ROOT``: the top of its own outage; its condition is passed on, listing in
  ``related`` the devices behind it that are down with it.
- ``UNDER``: a device it is reached through is down too; listed on that one's incident.
- ``MEMBER``: one of the devices of a storm; listed on the storm's condition.
- ``WAIT``: a device it is reached through does not answer a probe, but the rules
  have not raised that one yet (polling order); decided when they do.
- ``GATHER``: the top of its outage, under a parent with other children: waits a
  moment for its siblings, in case they went down together (a storm).
- ``SETTLE``: the device it was listed under recovered and it answers a probe
  again: its own clear is on the way.

Only ``ROOT`` devices and storms reach the ticket book; the others wait or are
listed. Once passed on, a condition stays passed on until it clears: its ticket is
never taken back into another one. See docs/faults.md, "Dependencies, storms and
maintenance", for the exact sequence of what is emitted.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.correlate.hostlink import LinkCheck
from gateway.correlate.storms import GATEWAY_NETWORK_DOWN, SEGMENT_DOWN, Storm, StormPolicy
from gateway.correlate.topology import GATEWAY, Topology
from gateway.i18n import DEFAULT_LOCALE, translator
from gateway.model import Condition, Level

log = logging.getLogger("lvgw.correlate")

# Re-polls one device now: True when it answers.
Probe = Callable[[str], Awaitable[bool]]
Key = tuple[str, str, str]

# Settling the consequences of one change (a storm clearing frees its members, who
# may form another...) takes a few rounds; more would mean a bug, not a site.
_MAX_ROUNDS = 8


class Placement(enum.Enum):
    ROOT = "root"
    UNDER = "under"
    MEMBER = "member"
    WAIT = "wait"
    GATHER = "gather"
    SETTLE = "settle"


PENDING = frozenset({Placement.WAIT, Placement.GATHER, Placement.SETTLE})


@dataclass(slots=True)
class Down:
    """A device whose unreachable condition is active, and where it is placed."""

    condition: Condition
    placement: Placement = Placement.WAIT
    anchor: str = ""  # UNDER: the ancestor; WAIT: the awaited one; GATHER/MEMBER: the parent
    deadline: datetime | None = None  # WAIT, GATHER, SETTLE: when to decide anyway


class Dependencies:
    """Condition changes of the rules in; the ones the ticket book should see out.

    A condition passed on is passed on again when its level changes, or when the rules
    change it; when only more devices are listed on it, at most once per
    ``listing_interval`` (a core switch going down lists hundreds of devices over one
    poll interval: one update, not hundreds). Probe answers are reused for
    ``probe_ttl``. ``open_keys`` are the tickets the ticket book has open (loaded at
    start-up): their conditions keep their own tickets and their clears go through.

    Not re-entrant: one task calls ``on_condition`` and ``on_tick`` (the
    Correlator holds a lock around them).
    """

    def __init__(
        self,
        topology: Topology,
        probe: Probe,
        storms: StormPolicy | None = None,
        link: LinkCheck | None = None,
        probe_ttl: timedelta = timedelta(seconds=5),
        listing_interval: timedelta = timedelta(seconds=60),
        open_keys: Iterable[Key] = (),
        locale: str = DEFAULT_LOCALE,
    ) -> None:
        self.topology = topology
        self.tr = translator(locale)  # the site's language, for the storms' titles
        self.probe = probe
        self.policy = storms or StormPolicy()
        self.link = link
        self.probe_ttl = probe_ttl
        self.listing_interval = listing_interval
        self.down: dict[str, Down] = {}
        self.storms: dict[str, Storm] = {}  # by parent (or GATEWAY)
        self.other: dict[Key, Condition] = {}  # active conditions other than unreachability
        self.waiting_other: dict[Key, datetime] = {}  # their ancestor did not answer: until
        self.settling: dict[str, datetime] = {}  # devices behind a recovered root: until
        self.emitted: dict[Key, Condition] = {}  # passed on, active: as last passed on
        self.latest: dict[Key, Condition] = {}  # the same, as they are now
        self.passed_at: dict[Key, datetime] = {}
        self.floors: dict[Key, Level] = {}  # most severe level listed on each incident
        self.clears: dict[Key, Condition] = {}  # the rules' clears, for the emitted clear
        self._probed: dict[str, tuple[datetime, bool]] = {}
        # Tickets open before a restart: their conditions keep their own tickets
        # whatever happens around them, and their clears go through.
        self.inherited: set[Key] = set(open_keys)

    # -- entry points ---------------------------------------------------------------

    async def on_condition(self, condition: Condition) -> list[Condition]:
        if condition.device not in self.topology:
            return [condition]  # not a device of the tree (e.g. the gateway's own)
        if condition.key in self.inherited:
            if not condition.active:  # its ticket was open before a restart: close it
                self.inherited.discard(condition.key)
                return [condition]
            if not self.topology.is_unreachable(condition):
                self.inherited.discard(condition.key)
                self.emitted[condition.key] = self.latest[condition.key] = condition
                self.passed_at[condition.key] = condition.since
                self.other[condition.key] = condition
                return [condition]
        now = condition.since
        if self.topology.is_unreachable(condition):
            if condition.active:
                await self._raised(condition, now)
            else:
                await self._recovered(condition, now)
        elif condition.active:
            self.other[condition.key] = condition
            if condition.key not in self.emitted:
                await self._wait_for_ancestors(condition, now)
        else:
            self.other.pop(condition.key, None)
            self.waiting_other.pop(condition.key, None)
            self.clears[condition.key] = condition
        await self._settle(now)
        return self._changes(now)

    async def on_tick(self, now: datetime) -> list[Condition]:
        await self._settle(now)
        return self._changes(now)

    def placements(self) -> dict[str, tuple[Placement, str]]:
        """Where each down device is placed (for status views and tests)."""
        return {d: (rec.placement, rec.anchor) for d, rec in sorted(self.down.items())}

    # -- the rules raised or cleared a device's unreachability ----------------------

    async def _raised(self, condition: Condition, now: datetime) -> None:
        device = condition.device
        self._probed.pop(device, None)  # the rules know better than an earlier probe
        known = self.down.get(device)
        if known is not None:  # raised again (a new level): same placement
            known.condition = condition
            return
        self.down[device] = Down(condition)
        if condition.key in self.inherited:  # it has its own ticket since before a restart
            self.inherited.discard(condition.key)
            self.down[device].placement = Placement.ROOT
            return
        await self._place(device, now)
        # Those waiting for it, or still undecided behind it, now know more.
        behind = [
            d
            for d in self.topology.descendants(device)
            if d in self.down and self.down[d].placement in PENDING
        ]
        for d in behind:
            await self._place(d, now)

    async def _recovered(self, condition: Condition, now: datetime) -> None:
        device = condition.device
        self._probed.pop(device, None)
        record = self.down.pop(device, None)
        if record is None:
            return
        self.clears[condition.key] = condition
        if record.placement is Placement.MEMBER:
            self.storms[record.anchor].members.discard(device)
        self._settle_behind([device], now)
        freed = [
            d
            for d, rec in self.down.items()
            if rec.placement is Placement.UNDER and rec.anchor == device
        ]
        await self._replace_freed(freed, now)

    def _settle_behind(self, devices: Iterable[str], now: datetime) -> None:
        """Devices behind recovered ones get a moment for their own faults to clear."""
        for device in devices:
            for d in [device, *self.topology.descendants(device)]:
                until = now + self.topology.nodes[d].clear_time
                self.settling[d] = max(until, self.settling.get(d, until))

    async def _replace_freed(self, devices: list[str], now: datetime) -> None:
        """Place again devices whose incident ended, asking each first whether it
        answers: if it does, its own clear is on the way and nothing is raised."""
        for device in sorted(devices, key=self.topology.depth):
            if device in self.down:
                await self._place(device, now, probe_self=True)

    # -- placing a down device ------------------------------------------------------

    async def _place(
        self,
        device: str,
        now: datetime,
        probe_self: bool = False,
        ignore: frozenset[str] = frozenset(),
    ) -> None:
        record = self.down[device]
        node = self.topology.nodes[device]
        if probe_self and await self._answers(device, now):
            self._set(record, Placement.SETTLE, "", now + node.clear_time)
            return
        topmost: tuple[Placement, str] | None = None
        for ancestor in self.topology.ancestors(device):
            if ancestor in self.down:
                topmost = (Placement.UNDER, ancestor)
                continue
            if ancestor in ignore or self.topology.nodes[ancestor].unreachable_code is None:
                continue  # cannot be a root of its own: its children show its outage
            if await self._answers(ancestor, now):
                break  # the path from here up works
            topmost = (Placement.WAIT, ancestor)
        if topmost is None:
            self._top_of_outage(device, record, now)
        elif topmost[0] is Placement.UNDER:
            self._set(record, Placement.UNDER, topmost[1])
        else:
            waited = self.topology.nodes[topmost[1]]
            self._set(record, Placement.WAIT, topmost[1], now + waited.raise_time)

    def _top_of_outage(self, device: str, record: Down, now: datetime) -> None:
        """Its path answers: it is a root, a storm's member, or waits for siblings."""
        parent = self.topology.parent(device)
        storm = self.storms.get(parent)
        if storm is not None:
            storm.members.add(device)
            self._set(record, Placement.MEMBER, parent)
            return
        siblings = self.topology.children[parent]
        if parent == GATEWAY and self.link is not None:
            problem = self.link()
            if problem is not None:
                gathered = {d for d in siblings if self._placed(d, Placement.GATHER)}
                self._form_storm(GATEWAY, GATEWAY_NETWORK_DOWN, {device, *gathered}, problem)
                return
        if len(siblings) < 2:
            self._set(record, Placement.ROOT)
            return
        slowest = max(self.topology.nodes[s].raise_time for s in siblings)
        began = self.topology.nodes[device].outage_began(record.condition.since)
        self._set(record, Placement.GATHER, parent, began + slowest)

    @staticmethod
    def _set(
        record: Down, placement: Placement, anchor: str = "", deadline: datetime | None = None
    ) -> None:
        record.placement, record.anchor, record.deadline = placement, anchor, deadline

    def _placed(self, device: str, placement: Placement) -> bool:
        record = self.down.get(device)
        return record is not None and record.placement is placement

    async def _answers(self, device: str, now: datetime) -> bool:
        """Probe a device, reusing an answer from within ``probe_ttl`` of ``now``."""
        cached = self._probed.get(device)
        if cached is not None and abs(now - cached[0]) <= self.probe_ttl:
            return cached[1]
        try:
            answered = await self.probe(device)
        except Exception:  # a failing probe is a device that did not answer
            log.exception("probe of %s failed", device)
            answered = False
        self._probed[device] = (now, answered)
        log.debug("probe device=%s answered=%s", device, answered)
        return answered

    # -- other faults ---------------------------------------------------------------

    async def _wait_for_ancestors(self, condition: Condition, now: datetime) -> None:
        """A fault of a device whose path does not answer waits for that to be decided."""
        if self._covered(condition.device, now):
            return
        for ancestor in self.topology.ancestors(condition.device):
            if self.topology.nodes[ancestor].unreachable_code is None:
                continue
            if await self._answers(ancestor, now):
                return
            until = now + self.topology.nodes[ancestor].raise_time
            self.waiting_other[condition.key] = until
            return

    def _covered(self, device: str, now: datetime) -> bool:
        """Whether a device's other faults are held: it is listed on another incident
        or undecided, a device it is reached through is down, or it is settling."""
        record = self.down.get(device)
        if record is not None and record.placement is not Placement.ROOT:
            return True
        if any(a in self.down for a in self.topology.ancestors(device)):
            return True
        return self.settling.get(device, now) > now

    # -- time passes: deadlines, storms ---------------------------------------------

    async def _settle(self, now: datetime) -> None:
        for _ in range(_MAX_ROUNDS):
            changed = await self._end_storms(now)
            changed |= await self._deadlines(now)
            changed |= self._gather(now)
            if not changed:
                break
        self.settling = {d: until for d, until in self.settling.items() if until > now}
        self.waiting_other = {k: t for k, t in self.waiting_other.items() if t > now}

    async def _end_storms(self, now: datetime) -> bool:
        ended = [s for s in list(self.storms.values()) if not await self._storm_holds(s, now)]
        for storm in ended:
            del self.storms[storm.parent]
            log.info("storm ended parent=%s code=%s", storm.parent, storm.code)
            self._settle_behind(storm.members, now)
            freed = [d for d in storm.members if d in self.down]
            await self._replace_freed(freed, now)
        return bool(ended)

    async def _storm_holds(self, storm: Storm, now: datetime) -> bool:
        top = self.topology.top_level()
        if storm.link_problem is not None:
            problem = self.link() if self.link is not None else None
            if problem is not None:
                storm.link_problem = problem
                return True
            if not all(d in self.down for d in top):
                return False  # the link is back and devices clear: it ends
            # The link is back; devices that answer again are on their way back (the
            # storm ends with their clears). If none answers, the site itself is down.
            if not await self._any_answers(top, now):
                storm.link_problem = None
            return True
        if storm.code == GATEWAY_NETWORK_DOWN:
            return all(d in self.down for d in top)
        siblings = len(self.topology.children[storm.parent])
        return self.policy.is_storm(len(storm.members), siblings)

    async def _any_answers(self, devices: Iterable[str], now: datetime) -> bool:
        for device in devices:
            if await self._answers(device, now):
                return True
        return False

    async def _deadlines(self, now: datetime) -> bool:
        due = [
            d
            for d, rec in self.down.items()
            if rec.placement in (Placement.WAIT, Placement.SETTLE)
            and rec.deadline is not None
            and rec.deadline <= now
        ]
        for device in sorted(due, key=self.topology.depth):
            record = self.down[device]
            if record.placement is Placement.WAIT:
                # The awaited device still fails probes but its rules never raised it
                # (it flaps, or answers polls and not probes): stop waiting for it.
                log.warning(
                    "no decision on %s within its raise time: %s is placed without it",
                    record.anchor, device,
                )  # fmt: skip
                await self._place(device, now, ignore=frozenset({record.anchor}))
            else:
                await self._place(device, now)
        return bool(due)

    def _gather(self, now: datetime) -> bool:
        """Form storms from devices gathered behind one parent; decide the others."""
        changed = False
        by_parent: dict[str, list[str]] = {}
        for device, record in self.down.items():
            if record.placement is Placement.GATHER:
                by_parent.setdefault(record.anchor, []).append(device)
        for parent, gathered in sorted(by_parent.items()):
            cluster = self._cluster(parent, gathered)
            code = self._storm_code(parent, cluster)
            if code is not None:
                self._form_storm(parent, code, set(cluster), None)
                changed = True
                continue
            for device in gathered:
                record = self.down[device]
                if record.deadline is not None and record.deadline <= now:
                    self._set(record, Placement.ROOT)
                    changed = True
        return changed

    def _cluster(self, parent: str, gathered: list[str]) -> list[str]:
        """The gathered devices whose outages began within the window of the first."""
        nodes = self.topology.nodes
        began = {d: nodes[d].outage_began(self.down[d].condition.since) for d in gathered}
        first = min(began.values())
        longest = max(nodes[s].interval for s in self.topology.children[parent])
        window = self.policy.window_for(longest)
        return sorted(d for d, t in began.items() if t - first <= window)

    def _storm_code(self, parent: str, cluster: list[str]) -> str | None:
        siblings = self.topology.children[parent]
        if parent == GATEWAY and all(d in self.down for d in siblings):
            return GATEWAY_NETWORK_DOWN
        if self.policy.is_storm(len(cluster), len(siblings)):
            return SEGMENT_DOWN
        return None

    def _form_storm(self, parent: str, code: str, members: set[str], link: str | None) -> None:
        since = min(self.down[d].condition.since for d in members)
        storm = Storm(parent, code, since, set(members), link)
        self.storms[parent] = storm
        for device in members:
            self._set(self.down[device], Placement.MEMBER, parent)
        log.warning(
            "storm parent=%s code=%s devices=%s%s",
            parent, code, ",".join(sorted(members)), f" link={link}" if link else "",
        )  # fmt: skip

    # -- what the ticket book should see --------------------------------------------

    def _root_of(self, device: str) -> Key | None:
        """The incident a down device is listed on, or None while it is undecided."""
        seen: set[str] = set()
        while device in self.down and device not in seen:
            seen.add(device)
            record = self.down[device]
            if record.placement is Placement.ROOT:
                return record.condition.key
            if record.placement is Placement.MEMBER:
                return self.storms[record.anchor].key
            if record.placement is not Placement.UNDER:
                return None
            device = record.anchor
        return None

    def _desired(self, now: datetime) -> dict[Key, Condition]:
        listed: dict[Key, list[str]] = {}
        for device, record in self.down.items():
            root = self._root_of(device)
            if root is not None and root != record.condition.key:
                listed.setdefault(root, []).append(device)
        desired: dict[Key, Condition] = {}
        for record in self.down.values():
            if record.placement is Placement.ROOT:
                own = record.condition
                desired[own.key] = self._listing(own, own.level, listed, inherit=True)
        for storm in self.storms.values():
            base = storm.condition(storm.base_level(), (), self.tr)
            desired[storm.key] = self._listing(base, base.level, listed, storm.inherits())
        for key, condition in self.other.items():
            if key in self.emitted or (
                key not in self.waiting_other and not self._covered(condition.device, now)
            ):
                desired[key] = condition
        return desired

    def _listing(
        self, condition: Condition, base: Level, listed: dict[Key, list[str]], inherit: bool
    ) -> Condition:
        """The incident's condition with the devices listed on it; its level is never
        less severe than the most severe device it ever listed (grouping must not
        lower urgency: an NVR behind a dead access switch is still an NVR down)."""
        related = tuple(sorted(listed.get(condition.key, ())))
        level = base
        if inherit:
            levels = [self.down[d].condition.level for d in related]
            floor = min([self.floors.get(condition.key, Level.L4), *levels])
            self.floors[condition.key] = floor
            level = min(base, floor)
        return replace(condition, level=level, related=related)

    def _changes(self, now: datetime) -> list[Condition]:
        desired = self._desired(now)
        cleared: list[Condition] = []
        for key in sorted(set(self.emitted) - set(desired)):
            last = self.emitted.pop(key)
            listing = self.latest.pop(key, last).related
            self.floors.pop(key, None)
            self.passed_at.pop(key, None)
            still = tuple(d for d in listing if d in self.down)
            clear = self.clears.get(key) or replace(last, active=False, since=now, evidence=())
            cleared.append(replace(clear, level=last.level, related=still))
        self.clears.clear()
        raised: list[Condition] = []
        for key in sorted(desired):
            condition = desired[key]
            change = _change(self.emitted.get(key), condition)
            self.latest[key] = condition
            if change is None:
                continue
            if change == "listing" and now < self.passed_at[key] + self.listing_interval:
                continue  # more devices listed: passed on at a later tick, together
            self.emitted[key] = condition
            self.passed_at[key] = now
            raised.append(condition)
        return cleared + raised


def _change(last: Condition | None, new: Condition) -> str | None:
    """How ``new`` differs from what was passed on: "new"; "changed" (another level,
    or the rules changed the condition itself); "listing" (devices newly listed, and
    nothing else); None when it is not worth passing on. A device leaving the list is
    not: it rides along with the next change or the clear (no update per recovering
    child)."""
    if last is None:
        return "new"
    if last.level != new.level or replace(last, related=()) != replace(new, related=()):
        return "changed"
    if not set(new.related) <= set(last.related):
        return "listing"
    return None
