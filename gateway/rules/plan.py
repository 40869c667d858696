"""A profile's rules compiled once: expression nodes, steps and what titles need."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.config.profile import Profile
from gateway.config.rule_checks import PLACEHOLDER, ReadingNames, rule_expressions, rule_problems
from gateway.config.rules import (
    AbsentRule,
    CheckRule,
    Count,
    Expr,
    PollCountRule,
    Seen,
    Share,
    UnreachableRule,
    walk,
)
from gateway.model import Level, Value
from gateway.rules.errors import RuleConfigError
from gateway.rules.expressions import AggregateNode, Node, compile_expr
from gateway.rules.reads import Watch, points_read, site_reads, timed


@dataclass(frozen=True, slots=True)
class StepPlan:
    level: Level
    when: Node
    clear: Node | None
    raise_for: float
    clear_for: float


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """A ``check`` rule ready to evaluate."""

    rule: CheckRule
    when: Node
    clear: Node | None  # None: the rule recovers when ``when`` no longer holds
    steps: tuple[StepPlan, ...]
    aggregate: AggregateNode | None  # the first count or share of ``when``, for titles

    @property
    def table(self) -> str | None:
        return self.rule.table


RulePlan = UnreachableRule | AbsentRule | CheckPlan


@dataclass(frozen=True, slots=True)
class RuleReads:
    """What one rule reads: see gateway/rules/reads.py."""

    points: dict[str, Watch]  # on its own device
    nodes: tuple[Node, ...]  # when, clear and the steps' (for `next_change`)
    timed: bool  # its answer can change with the clock alone
    site_tables: frozenset[str]  # tables it counts over the whole site
    site_points: dict[str, Watch]  # the points those counts read, on every device

    @classmethod
    def of(cls, rule: RulePlan) -> RuleReads:
        if isinstance(rule, PollCountRule):  # judged on each poll's own readings
            return cls({}, (), False, frozenset(), {})
        nodes = [rule.when, *([rule.clear] if rule.clear is not None else [])]
        for step in rule.steps:
            nodes += [step.when, *([step.clear] if step.clear is not None else [])]
        points: dict[str, Watch] = {}
        tables: set[str] = set()
        site_points: dict[str, Watch] = {}
        for node in nodes:
            for point, watch in points_read(node).items():
                points[point] = max(points.get(point, watch), watch)
            counted, read = site_reads(node)
            tables |= counted
            for point, watch in read.items():
                site_points[point] = max(site_points.get(point, watch), watch)
        is_timed = any(timed(node) for node in nodes)
        return cls(points, tuple(nodes), is_timed, frozenset(tables), site_points)


@dataclass(frozen=True, slots=True)
class ProfilePlan:
    names: ReadingNames
    rules: tuple[RulePlan, ...]
    seen_targets: dict[str, frozenset[Value]]
    reads: tuple[RuleReads, ...] = ()  # by rule, as ``rules``
    readers: dict[str, tuple[int, ...]] = field(default_factory=dict)  # point -> rules

    def kept(self) -> frozenset[str]:
        """The points whose latest readings the rules may look at: those they read,
        those their titles name, and the tables' label columns. Others need not be
        kept (their rows are still tracked)."""
        names: set[str] = set(self.watch()) | set(self.names.labels.values())
        for rule in self.rules:
            spec = rule if isinstance(rule, PollCountRule) else rule.rule
            titles = [spec.title, *([spec.flapping.title] if spec.flapping else [])]
            for text in titles:
                names.update(m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1))
        return frozenset(names)

    def watch(self) -> dict[str, Watch]:
        """Every point a rule of the profile reads on its device, and how."""
        out: dict[str, Watch] = {}
        for reads in self.reads:
            for point, watch in reads.points.items():
                out[point] = max(out.get(point, watch), watch)
        return out


def plan_profile(profile: Profile) -> ProfilePlan:
    """Compile a profile's rules; RuleConfigError if they do not fit its points."""
    problems = rule_problems(profile)
    if problems:
        raise RuleConfigError(profile.id, [why for _loc, why in problems])
    names = ReadingNames(profile)
    rules: list[RulePlan] = []
    targets: dict[str, set[Value]] = {}
    for rule in profile.rules:
        if isinstance(rule, UnreachableRule | AbsentRule):
            rules.append(rule)
            continue
        rules.append(_plan_check(rule, names))
        for _where, expr in rule_expressions(rule):
            for seen in (e for e in walk(expr) if isinstance(e, Seen)):
                targets.setdefault(seen.point, set()).update(seen.seen)
    reads = tuple(RuleReads.of(rule) for rule in rules)
    readers: dict[str, list[int]] = {}
    for index, read in enumerate(reads):
        for point in read.points:
            readers.setdefault(point, []).append(index)
    return ProfilePlan(
        names,
        tuple(rules),
        {p: frozenset(v) for p, v in targets.items()},
        reads,
        {point: tuple(indices) for point, indices in readers.items()},
    )


def _plan_check(rule: CheckRule, names: ReadingNames) -> CheckPlan:
    def node(expr: Expr | None) -> Node | None:
        return None if expr is None else compile_expr(expr, names, rule.table)

    steps = tuple(
        StepPlan(
            step.level,
            compile_expr(step.when, names, rule.table),
            node(step.clear),
            step.for_ or 0.0,
            step.clear_for or 0.0,
        )
        for step in rule.escalate
    )
    first = next((e for e in walk(rule.when) if isinstance(e, Count | Share)), None)
    aggregate = node(first)
    assert aggregate is None or isinstance(aggregate, AggregateNode)
    return CheckPlan(
        rule, compile_expr(rule.when, names, rule.table), node(rule.clear), steps, aggregate
    )
