"""One device's rule state: its latest values and, per rule and instance, a track."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from gateway.config.rule_checks import POLL_READINGS
from gateway.config.rules import AbsentRule, LevelledRule, PollCountRule, UnreachableRule
from gateway.config.site import Device
from gateway.i18n import Translator, translator
from gateway.model import Condition, Level, Quality, Reading
from gateway.poller.result import PollResult
from gateway.rules.expressions import Evidence, Node, Scope, negate
from gateway.rules.flapping import FlapDetector
from gateway.rules.plan import CheckPlan, ProfilePlan, RulePlan
from gateway.rules.reads import next_change
from gateway.rules.titles import title
from gateway.rules.trigger import Hysteresis, PollStreak
from gateway.rules.values import Changes, DeviceValues, instance_order


def level_of(device: Device, rule: LevelledRule) -> Level:
    """The rule's level for this device: site override, else by role, else default."""
    return device.levels.get(rule.code, rule.level_for(device.role))


@dataclass(slots=True)
class Track:
    """One rule at one instance: its timers, its flapping count, what was last emitted."""

    trigger: Hysteresis | PollStreak
    steps: list[Hysteresis] = field(default_factory=list)
    flap: FlapDetector | None = None
    emitted: Condition | None = None  # the active condition as last emitted
    flap_emitted: Condition | None = None
    poll_evidence: tuple[Reading, ...] = ()  # rules counted in polls: what the last poll showed
    holding: bool = False  # check rules: ``when`` held at the last evaluation
    moved: bool = False  # a timer (the rule's or a step's) changed at the last evaluation


def is_poll(result: PollResult) -> bool:
    """A poll read the whole profile (or failed); a trap batch carries a few readings."""
    return result.source == "poll" or not result.reachable


class DeviceRules:
    """Evaluates one device's rules on its readings and on the passing of time.

    Time is the readings' timestamps (and ``tick``), never the wall clock, and it
    never runs backwards for a device: an older timestamp is judged at the latest.

    A rule is evaluated again only when it could answer differently: a point it
    reads changed (`DeviceValues.update` tells), or time reached its deadline
    (``due``: a pending ``for``/``clear_for``, a flapping window that may settle, an
    age or a schedule crossing its limit). Between those its evaluation would change
    nothing, so a poll whose readings are as before costs their comparison only.
    """

    def __init__(
        self,
        device: Device,
        plan: ProfilePlan,
        site: Sequence[DeviceValues] = (),
        tr: Translator | None = None,
    ) -> None:
        """``site``: the values of every device of the site, this one's among them
        (filled by the engine), for counts and shares over the site; ``tr``: the
        site's language, for the words titles add (English without one)."""
        self.tr = tr or translator()
        self.device = device
        self.plan = plan
        self.site = site
        self.values = DeviceValues(plan.names, plan.seen_targets, watch=plan.watch())
        self.reachable: bool | None = None  # did the last poll answer
        self.clock: datetime | None = None
        # Per rule (by its index in the profile), per instance.
        self.tracks: list[dict[str, Track]] = [{} for _ in plan.rules]
        # Per rule: when it must be evaluated again without new readings (None: not
        # before they change). At first every rule is due: the first tick looks at all.
        self.due: list[datetime | None] = [_DAWN] * len(plan.rules)
        # Rules counted in polls: evaluated at every poll, whatever changed.
        self.polled = tuple(i for i, r in enumerate(plan.rules) if isinstance(r, PollCountRule))
        self.outages = tuple(i for i, r in enumerate(plan.rules) if isinstance(r, UnreachableRule))
        self.changes = Changes()  # of the last `on_result`, for the engine
        self.evaluations = 0  # rule evaluations (one rule at one instance), ever

    @property
    def next_due(self) -> datetime | None:
        return min((due for due in self.due if due is not None), default=None)

    def on_result(self, result: PollResult, also: Iterable[int] = ()) -> list[Condition]:
        """Judge a poll result or a trap batch; ``also``: rules to evaluate in any case."""
        now = self._advance(result.ts)
        poll = is_poll(result)
        rules: Iterable[int] | None = None  # all
        if poll and not result.reachable:
            # While the device does not answer nothing is known of its other rules:
            # they neither raise nor clear, and their pending timers start over.
            self.reachable = False
            self.values.interrupt()
            self.changes = Changes(rows=True)
            for track in (t for tracks in self.tracks for t in tracks.values()):
                if isinstance(track.trigger, Hysteresis):
                    for timer in (track.trigger, *track.steps):
                        timer.restart()
        else:
            # A poll after a failed one (or the first) and trap batches look at every
            # rule; a poll like the one before only at rules whose readings changed.
            steady = poll and self.reachable is True
            if poll and self.reachable is False and self._outage_raised():
                self.values.forget_history()
            self.reachable = True if poll else self.reachable
            self.changes = self.values.update(result.readings, full_poll=poll)
            if steady and not self.changes.rows:
                rules = self._affected(self.changes.points, now, also)
        return self._run(now, result.reachable if poll else None, result.readings, rules)

    def _outage_raised(self) -> bool:
        """Did the failed polls just ended raise an unreachable condition? (It clears
        only after answered polls, so it still stands at the first of them.)"""
        return any(t.trigger.raised for i in self.outages for t in self.tracks[i].values())

    def catch_up(self, clock: datetime) -> None:
        """Time has passed to ``clock`` (a tick that had nothing due here)."""
        self._advance(clock)

    def on_tick(self, now: datetime, also: Iterable[int] = ()) -> list[Condition]:
        """Time passes to ``now``: evaluate the rules that are due (and ``also``)."""
        now = self._advance(now)
        due = {i for i, at in enumerate(self.due) if at is not None and at <= now}
        return self._run(now, None, (), sorted(due.union(also)))

    def _affected(self, points: set[str], now: datetime, also: Iterable[int]) -> list[int]:
        """The rules to evaluate after a poll: those reading a changed point, those
        that are due, and the unreachable rules (they count the polls)."""
        chosen = set(self.polled).union(also)
        readers = self.plan.readers
        for point in points:
            chosen.update(readers.get(point, ()))
        chosen.update(i for i, at in enumerate(self.due) if at is not None and at <= now)
        return sorted(chosen)

    def active(self) -> list[Condition]:
        out: list[Condition] = []
        for tracks in self.tracks:
            for instance in sorted(tracks, key=instance_order):
                track = tracks[instance]
                out += [c for c in (track.emitted, track.flap_emitted) if c is not None]
        return out

    def _advance(self, ts: datetime) -> datetime:
        self.clock = ts if self.clock is None else max(self.clock, ts)
        if self.values.first_seen is None:
            self.values.first_seen = self.clock
        return self.clock

    def _run(
        self,
        now: datetime,
        answered: bool | None,
        readings: tuple[Reading, ...],
        rules: Iterable[int] | None = None,
    ) -> list[Condition]:
        """Evaluate the rules (by index, in order; None: all) and note when each is
        due again."""
        out: list[Condition] = []
        plan_rules = self.plan.rules
        for index in range(len(plan_rules)) if rules is None else rules:
            rule = plan_rules[index]
            if isinstance(rule, PollCountRule):
                track = self._track(index, "", rule)
                changed = False
                if answered is not None:
                    assert isinstance(track.trigger, PollStreak)
                    changed = _count_poll(rule, track, track.trigger, answered, readings)
                    if isinstance(rule, AbsentRule) and track.trigger.raised:
                        self.values.forget_previous(rule.points)  # its restart ends it
                out += self._settle(rule, track, "", now, changed)
                self.due[index] = track_due(track, now)
                continue
            due: datetime | None = None
            for instance in self._instances(index, rule):
                if rule.table is not None and instance not in self.values.instances.get(
                    rule.table, ()
                ):
                    out += self._drop(index, rule, instance, now)
                    continue
                track = self._track(index, instance, rule)
                changed = False
                if self.reachable is not False:
                    self.evaluations += 1
                    changed = self._judge(rule, track, self._scope(instance, now))
                out += self._settle(rule, track, instance, now, changed)
                due = earliest(due, track_due(track, now))
                if self.reachable is not False and self.plan.reads[index].timed:
                    due = earliest(due, self._next_change(index, instance, now))
            self.due[index] = due
        return out

    def _next_change(self, index: int, instance: str, now: datetime) -> datetime | None:
        scope = self._scope(instance, now)
        times = (next_change(node, scope) for node in self.plan.reads[index].nodes)
        return min((t for t in times if t is not None), default=None)

    def _scope(self, instance: str, now: datetime) -> Scope:
        return Scope(self.values, instance, now, self.site)

    def _instances(self, index: int, rule: CheckPlan) -> list[str]:
        """The table's instances, and any that left it but still have a track to drop."""
        if rule.table is None:
            return [""]
        rows = self.values.instances_of(rule.table)
        present = self.values.instances.get(rule.table, set())
        gone = [inst for inst in self.tracks[index] if inst not in present]
        return sorted([*rows, *gone], key=instance_order) if gone else rows

    def _track(self, index: int, instance: str, rule: RulePlan) -> Track:
        track = self.tracks[index].get(instance)
        if track is None:
            if isinstance(rule, PollCountRule):
                track = Track(PollStreak(rule.raise_after, rule.clear_after))
            else:
                track = Track(
                    Hysteresis(rule.rule.for_ or 0.0, rule.rule.clear_for or 0.0),
                    [Hysteresis(step.raise_for, step.clear_for) for step in rule.steps],
                )
            spec = _rule_of(rule).flapping
            track.flap = FlapDetector(spec) if spec is not None else None
            self.tracks[index][instance] = track
        return track

    def _judge(self, plan: CheckPlan, track: Track, scope: Scope) -> bool:
        """Evaluate the rule and its escalation steps; True when the rule raised or cleared."""
        assert isinstance(track.trigger, Hysteresis)
        stepped = False
        for step, timer in zip(plan.steps, track.steps, strict=True):
            stepped |= _feed(timer, step.when, step.clear, scope)
        holds = plan.when.test(scope)
        track.holding = holds is True
        if track.trigger.raised:
            recovers = plan.clear.test(scope) if plan.clear is not None else negate(holds)
            changed = track.trigger.update(None, recovers, scope.now)
        else:
            changed = track.trigger.update(holds, None, scope.now)
        track.moved = stepped or changed
        return changed

    def _settle(
        self, rule: RulePlan, track: Track, instance: str, now: datetime, changed: bool
    ) -> list[Condition]:
        """What to emit after an evaluation: flapping first, then the condition itself.

        While the rule flaps, its own condition is held cleared: the flapping
        condition stands for the whole incident, and the churn is not emitted.
        """
        out: list[Condition] = []
        flap = track.flap
        if flap is not None:
            if flap.settles(now):
                out.append(self._flapping(rule, track, instance, now, active=False))
            if changed and flap.on_transition(now):
                out.append(self._flapping(rule, track, instance, now, active=True))
        flapping = flap is not None and flap.flapping
        return out + self._reconcile(rule, track, instance, now, held_clear=flapping)

    def _reconcile(
        self, rule: RulePlan, track: Track, instance: str, now: datetime, held_clear: bool = False
    ) -> list[Condition]:
        """Emit the difference between the rule's state and what was last emitted."""
        emitted = track.emitted
        if track.trigger.raised and not held_clear:
            level = self._level(rule, track)
            if emitted is not None and emitted.level == level:
                return []
            since = emitted.since if emitted is not None else now
            text, evidence = self._describe(rule, track, instance, now, level, raising=True)
            track.emitted = Condition(
                device=self.device.id, code=_rule_of(rule).code, level=level, title=text,
                active=True, since=since, instance=instance, evidence=evidence,
            )  # fmt: skip
            return [track.emitted]
        if emitted is None:
            return []
        _text, evidence = self._describe(rule, track, instance, now, emitted.level, raising=False)
        track.emitted = None
        return [replace(emitted, active=False, since=now, evidence=evidence)]

    def _level(self, rule: RulePlan, track: Track) -> Level:
        """The base level, raised by the escalation steps that hold. While the fault is
        recovering (``when`` no longer holds, the clear is pending) the level stays."""
        level = level_of(self.device, _rule_of(rule))
        if not isinstance(rule, CheckPlan):
            return level
        if track.emitted is not None and not track.holding:
            return track.emitted.level
        for step, timer in zip(rule.steps, track.steps, strict=True):
            if timer.raised:
                level = min(level, step.level)
        return level

    def _describe(
        self, rule: RulePlan, track: Track, instance: str, now: datetime, level: Level,
        raising: bool,
    ) -> tuple[str, tuple[Reading, ...]]:  # fmt: skip
        scope = self._scope(instance, now)
        if isinstance(rule, PollCountRule):
            return title(
                rule.title, self.device, scope, None, level, tr=self.tr
            ), track.poll_evidence
        found: Evidence = {}
        node = rule.when if raising or rule.clear is None else rule.clear
        node.evidence(scope, found)
        text = title(
            rule.rule.title, self.device, scope, rule.table, level, rule.aggregate, self.tr
        )
        return text, tuple(found.values())

    def _flapping(
        self, rule: RulePlan, track: Track, instance: str, now: datetime, active: bool
    ) -> Condition:
        spec = _rule_of(rule).flapping
        assert spec is not None
        if not active and track.flap_emitted is not None:
            flapped, track.flap_emitted = track.flap_emitted, None
            return replace(flapped, active=False, since=now)
        level = self.device.levels.get(spec.code, spec.level)
        if isinstance(rule, UnreachableRule) and spec.code not in self.device.levels:
            # A device that keeps dropping off never ranks above one that is gone.
            level = max(level, level_of(self.device, rule))
        table = rule.table if isinstance(rule, CheckPlan) else None
        text = title(spec.title, self.device, self._scope(instance, now), table, level, tr=self.tr)
        condition = Condition(
            device=self.device.id, code=spec.code, level=level, title=text, active=active,
            since=now, instance=instance,
        )  # fmt: skip
        track.flap_emitted = condition if active else None
        return condition

    def _drop(self, index: int, rule: CheckPlan, instance: str, now: datetime) -> list[Condition]:
        """The instance left its table (a full poll no longer lists it): clear what it had."""
        track = self.tracks[index].pop(instance, None)
        if track is None:
            return []
        assert isinstance(track.trigger, Hysteresis)
        track.trigger.reset()
        out: list[Condition] = []
        if track.flap is not None and track.flap.flapping:
            track.flap.flapping = False
            out.append(self._flapping(rule, track, instance, now, active=False))
        return out + self._reconcile(rule, track, instance, now)


_DAWN = datetime.min.replace(tzinfo=UTC)


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def track_due(track: Track, now: datetime) -> datetime | None:
    """When the track may change without new readings: a pending duration ends, a
    flapping one may settle; ``now`` (the next tick) after a timer changed, since
    one more evaluation on the same readings may start the next duration."""
    due: datetime | None = now if track.moved else None
    track.moved = False
    trigger = track.trigger
    if isinstance(trigger, Hysteresis):
        for timer in (trigger, *track.steps):
            if timer.pending_since is not None:
                wait = timer.clear_for if timer.raised else timer.raise_for
                due = earliest(due, timer.pending_since + timedelta(seconds=wait))
    flap = track.flap
    if flap is not None and flap.flapping and flap.times:
        due = earliest(due, flap.times[-1] + timedelta(seconds=flap.spec.stable))
    return due


def _rule_of(rule: RulePlan) -> LevelledRule:
    return rule if isinstance(rule, PollCountRule) else rule.rule


def _count_poll(
    rule: PollCountRule, track: Track, streak: PollStreak, answered: bool,
    readings: tuple[Reading, ...],
) -> bool:  # fmt: skip
    """Feed one poll to a rule counted in polls; True when it raised or cleared.

    ``unreachable``: the poll failed or not. ``absent``: an answered poll in which
    every one of the rule's points was absent (the application serving them stopped),
    or one in which any of them answered with a value. While the device does not
    answer, or when the poll did not read them all, nothing is known of them: the
    count starts over."""
    if not isinstance(rule, AbsentRule):
        track.poll_evidence = tuple(r for r in readings if r.point in POLL_READINGS)
        return streak.update(answered)
    wanted = rule.points
    read = [r for r in readings if r.point in wanted and not r.instance]
    answering = sum(1 for r in read if r.quality is not Quality.ABSENT)
    if not answered or (not answering and len(read) < len(wanted)):
        streak.restart()
        return False
    track.poll_evidence = tuple(r for r in readings if r.point == "reachable") + tuple(read)
    return streak.update(answering > 0)


def _feed(timer: Hysteresis, when: Node, clear: Node | None, scope: Scope) -> bool:
    """Evaluate an escalation step's expressions and update its timer."""
    if timer.raised:
        recovers = clear.test(scope) if clear is not None else negate(when.test(scope))
        return timer.update(None, recovers, scope.now)
    return timer.update(when.test(scope), None, scope.now)
