"""The contract's dates: inspection periods and the expiry notice."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.config.site import Contract, ContractType, Customer, Site
from gateway.proactive import calendar


def site(
    kind: str = "annual", ends: date | None = date(2027, 6, 30), every: int | None = None
) -> Site:
    return Site(
        id="s",
        name="S",
        customer=Customer(name="C"),
        contract=Contract(type=ContractType(kind), ends=ends, inspection_every_months=every),
    )


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2028, 3, 31), -1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2027, 1, 31), 13, date(2028, 2, 29)),
        (date(2027, 6, 30), -12, date(2026, 6, 30)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(
    day: date, months: int, expected: date
) -> None:
    assert calendar.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 6, 30), date(2026, 4, 1)),  # the previous contract year's last quarter
        (date(2026, 7, 1), date(2026, 7, 1)),
        (date(2026, 9, 30), date(2026, 7, 1)),
        (date(2026, 10, 1), date(2026, 10, 1)),
        (date(2027, 1, 1), date(2027, 1, 1)),
        (date(2027, 6, 30), date(2027, 4, 1)),
        (date(2027, 7, 1), None),  # the contract has ended
    ],
)
def test_quarterly_inspections_follow_the_contract_year(today: date, due: date | None) -> None:
    assert calendar.latest_inspection_due(site(), today) == due


def test_next_inspection_stays_within_the_contract() -> None:
    assert calendar.next_inspection_due(site(), date(2026, 8, 1)) == date(2026, 10, 1)
    assert calendar.next_inspection_due(site(), date(2027, 5, 1)) is None


def test_contracts_without_an_end_use_calendar_periods_and_others_have_none() -> None:
    open_ended = site(ends=None, every=6)
    assert calendar.latest_inspection_due(open_ended, date(2026, 6, 30)) == date(2026, 1, 1)
    assert calendar.latest_inspection_due(open_ended, date(2026, 7, 1)) == date(2026, 7, 1)
    assert calendar.latest_inspection_due(site(kind="per_visit"), date(2026, 8, 1)) is None
    assert calendar.latest_inspection_due(site(kind="warranty"), date(2026, 8, 1)) is None
    # A per-visit contract may still ask for inspections.
    assert calendar.latest_inspection_due(
        site(kind="per_visit", every=12), date(2026, 8, 1)
    ) == date(2026, 7, 1)


def test_expiry_notice_is_one_calendar_month_before_the_end() -> None:
    assert calendar.expiry_notice_day(site()) == date(2027, 5, 30)
    assert calendar.expiry_notice_day(site(ends=date(2027, 3, 31))) == date(2027, 2, 28)
    assert calendar.expiry_notice_day(site(ends=None)) is None
