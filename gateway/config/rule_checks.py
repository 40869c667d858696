"""A profile's rules checked against what the profile reads: every reading a rule
or a title names must be one the profile yields (its points, tables, traps and the
poll's own readings), aggregates need a table, titles their placeholders in both
languages. The rules' models are in `gateway.config.rules`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gateway.config.rules import (
    AbsentRule,
    Check,
    CheckRule,
    Count,
    Expr,
    Seen,
    Share,
    children,
    points_of,
    walk,
)
from gateway.config.text import LocalText

if TYPE_CHECKING:
    from gateway.config.profile import Point, Profile

POLL_READINGS = frozenset({"reachable", "rtt"})
# Readings from SNMP notifications the profile declares are named "trap.<name>[.<key>]";
# they carry an instance when the notification names one (linkDown: the ifIndex).
TRAP_PREFIX = "trap."
# Title fields every rule has; the aggregate ones need a count or share in ``when``.
TITLE_FIELDS = frozenset({"device", "name", "instance", "label", "level"})
AGGREGATE_FIELDS = frozenset({"count", "total", "share", "instances"})
# A title's ``{field}`` or ``{field:spec}``; ``{{`` and ``}}`` are literal braces.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z][a-z0-9_.]*)(?::([^{}]*))?\}")


class ReadingNames:
    """Which reading names a profile yields, and the table each belongs to."""

    def __init__(self, profile: Profile) -> None:
        self.tables: dict[str, str | None] = dict.fromkeys(
            POLL_READINGS | profile.protocol_readings()
        )
        for name in profile.points:
            for reading in _names_of(name, profile.points[name]):
                self.tables[reading] = None
        for table_name, table in profile.tables.items():
            for column, point in table.columns.items():
                for reading in _names_of(f"{table_name}.{column}", point):
                    self.tables[reading] = table_name
        # Readings whose values are state codes (``smart_failed``): the points with
        # ``states:`` and a protocol's own readings (``access``: ``auth_failed``...).
        self.states = (
            frozenset(profile.protocol_readings())
            | {name for name, point in profile.points.items() if point.states}
            | {
                f"{table_name}.{column}"
                for table_name, table in profile.tables.items()
                for column, point in table.columns.items()
                if point.states
            }
        )
        self.known_names = profile.point_names() | POLL_READINGS  # with trap.* readings
        self.table_names = set(profile.tables)
        self.labels = {
            name: f"{name}.{table.label}" for name, table in profile.tables.items() if table.label
        }

    def known(self, name: str) -> bool:
        return name in self.known_names

    def table_of(self, name: str) -> str | None:
        """The table a reading name is a column of; None for scalars and trap readings."""
        return self.tables.get(name)


def _names_of(name: str, point: Point) -> list[str]:
    names = [name, *(f"{name}.{bit}" for bit in point.bits.values())]
    return [*names, f"{name}.rate"] if point.rate else names


Problem = tuple[tuple[str | int, ...], str]


def rule_problems(profile: Profile) -> list[Problem]:
    """Rules that name unknown points or tables, or mix instances; with where they are."""
    names = ReadingNames(profile)
    problems: list[Problem] = []
    seen_codes: dict[str, int] = {}
    for i, rule in enumerate(profile.rules):
        at: tuple[str | int, ...] = ("rules", i)
        for code in rule.codes():
            if code in seen_codes and seen_codes[code] != i:
                problems.append(((*at, "flapping", "code"), f"fault code {code} is used twice"))
            seen_codes.setdefault(code, i)
        table = rule.table if isinstance(rule, CheckRule) else None
        if table is not None and table not in names.table_names:
            problems.append(((*at, "table"), f"rule {rule.code}: no table {table!r}"))
            continue
        has_aggregate = False
        if isinstance(rule, AbsentRule):
            problems += [
                ((*at, "points", n), f"rule {rule.code}: {why}")
                for n, point in enumerate(rule.points)
                if (why := _absent_point_problem(point, profile))
            ]
        if isinstance(rule, CheckRule):
            for where, expr in rule_expressions(rule):
                problems += [
                    ((*at, *where), f"rule {rule.code}: {why}")
                    for why in _expr_problems(expr, table, names)
                ]
            has_aggregate = any(isinstance(e, Count | Share) for e in walk(rule.when))
        titles: list[tuple[tuple[str | int, ...], LocalText]] = [((*at, "title"), rule.title)]
        if rule.flapping:
            titles.append(((*at, "flapping", "title"), rule.flapping.title))
        for where, title in titles:
            problems += [
                (where, f"rule {rule.code}: title: {why}")
                for why in _title_problems(title, names, has_aggregate)
            ]
            problems += [
                ((*where, locale), f"rule {rule.code}: title: {why}")
                for locale, why in _language_problems(title)
            ]
    return problems


def _absent_point_problem(name: str, profile: Profile) -> str:
    """An ``absent`` rule's point must be a scalar read over SNMP: only an SNMP agent
    answers that it has no such object (other protocols' missing values are errors)."""
    point = profile.points.get(name)
    if point is None:
        return f"no scalar point {name!r} in the profile (columns, bits and rates do not count)"
    if (point.protocol or profile.protocol) != "snmp":
        return f"{name} is not read over SNMP: only an SNMP agent says an object is absent"
    return ""


def _fields(text: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) is not None]


def _title_problems(title: LocalText, names: ReadingNames, has_aggregate: bool) -> list[str]:
    """Fields of the title (in any of its languages) that the rule cannot fill."""
    problems: list[str] = []
    for text in title.texts().values():
        for field in _fields(text):
            if field in TITLE_FIELDS or names.known(field):
                continue
            if field in AGGREGATE_FIELDS:
                if not has_aggregate:
                    problems.append(f"{{{field}}} needs a count or share in 'when'")
                continue
            problems.append(f"unknown field {{{field}}}")
    return list(dict.fromkeys(problems))


def _language_problems(title: LocalText) -> list[tuple[str, str]]:
    """Each language's title names the same fields as the default language's."""
    texts = title.texts()
    first_locale, first = next(iter(texts.items()))
    wanted = sorted(set(_fields(first)))
    out: list[tuple[str, str]] = []
    for locale, text in texts.items():
        have = sorted(set(_fields(text)))
        if have != wanted:
            shown = ", ".join(f"{{{f}}}" for f in have) or "no field"
            expected = ", ".join(f"{{{f}}}" for f in wanted) or "no field"
            why = f"the {locale} text has {shown}, the {first_locale} text {expected}"
            out.append((locale, why))
    return out


def rule_expressions(rule: CheckRule) -> Iterator[tuple[tuple[str | int, ...], Expr]]:
    """Every top-level expression of a rule, with where it is in the rule."""
    yield ("when",), rule.when
    if rule.clear is not None:
        yield ("clear",), rule.clear
    for n, step in enumerate(rule.escalate):
        yield ("escalate", n, "when"), step.when
        if step.clear is not None:
            yield ("escalate", n, "clear"), step.clear


def _expr_problems(expr: Expr, table: str | None, names: ReadingNames) -> list[str]:
    """Unknown points, and table columns read where no instance of their table is known."""
    if isinstance(expr, Count | Share):
        inner = expr.count if isinstance(expr, Count) else expr.share
        return _aggregate_problems(inner, expr.table, names)
    if isinstance(expr, Check | Seen):
        problems = []
        for point in points_of(expr):
            column_of = names.table_of(point)
            if not names.known(point):
                problems.append(f"no point {point!r} in the profile")
            elif column_of is not None and column_of != table:
                where = f"in a rule per {table!r}" if table else "in a device-level rule"
                problems.append(
                    f"{point} is a column of table {column_of!r}: {where} use it inside"
                    " count or share"
                )
        return problems
    return [why for child in children(expr) for why in _expr_problems(child, table, names)]


def _aggregate_problems(inner: Expr, table: str | None, names: ReadingNames) -> list[str]:
    if any(isinstance(e, Count | Share) for e in walk(inner)):
        return ["count and share cannot be nested"]
    points = [p for e in walk(inner) if isinstance(e, Check | Seen) for p in points_of(e)]
    unknown = [p for p in points if not names.known(p)]
    if unknown:
        return [f"no point {p!r} in the profile" for p in unknown]
    tables = {names.table_of(p) for p in points} - {None}
    if table is None:
        if len(tables) != 1:
            return ["count and share need 'table:' when their points are not columns of one table"]
        return []
    if table not in names.table_names:
        return [f"no table {table!r}"]
    others = sorted(t for t in tables if t is not None and t != table)
    return [f"count over {table!r} reads columns of {', '.join(others)}"] if others else []


def aggregate_table(expr: Count | Share, names: ReadingNames) -> str:
    """The table a count or share ranges over (checked by ``rule_problems``)."""
    if expr.table is not None:
        return expr.table
    inner = expr.count if isinstance(expr, Count) else expr.share
    tables = {
        names.table_of(p) for e in walk(inner) if isinstance(e, Check | Seen) for p in points_of(e)
    }
    (table,) = tables - {None}
    assert table is not None
    return table
