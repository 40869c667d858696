"""A profile's rules compiled once: expression nodes, steps and what titles need."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.profile import Profile
from gateway.config.rules import (
    CheckRule,
    Count,
    Expr,
    ReadingNames,
    Seen,
    Share,
    UnreachableRule,
    rule_expressions,
    rule_problems,
    walk,
)
from gateway.model import Level, Value
from gateway.rules.errors import RuleConfigError
from gateway.rules.expressions import AggregateNode, Node, compile_expr


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


RulePlan = UnreachableRule | CheckPlan


@dataclass(frozen=True, slots=True)
class ProfilePlan:
    names: ReadingNames
    rules: tuple[RulePlan, ...]
    seen_targets: dict[str, frozenset[Value]]


def plan_profile(profile: Profile) -> ProfilePlan:
    """Compile a profile's rules; RuleConfigError if they do not fit its points."""
    problems = rule_problems(profile)
    if problems:
        raise RuleConfigError(profile.id, [why for _loc, why in problems])
    names = ReadingNames(profile)
    rules: list[RulePlan] = []
    targets: dict[str, set[Value]] = {}
    for rule in profile.rules:
        if isinstance(rule, UnreachableRule):
            rules.append(rule)
            continue
        rules.append(_plan_check(rule, names))
        for _where, expr in rule_expressions(rule):
            for seen in (e for e in walk(expr) if isinstance(e, Seen)):
                targets.setdefault(seen.point, set()).update(seen.seen)
    return ProfilePlan(names, tuple(rules), {p: frozenset(v) for p, v in targets.items()})


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
