"""The money of a plan change, to the cent (DESIGN.md "Money", issue 4's worked example)."""

from datetime import date
from decimal import Decimal

import pytest

from billing.proration import Side, change_lines, totals

STANDARD = Side("Microsoft 365 Business Standard", Decimal("13.13"), 25, "P1Y", "monthly", date(2026, 1, 1))
PREMIUM = Side("Microsoft 365 Business Premium", Decimal("23.10"), 25, "P1Y", "monthly")


def test_the_worked_example():
    lines = change_lines(STANDARD, PREMIUM, effective=date(2026, 6, 16), at_renewal=False)
    assert [(line.kind, line.amount, line.start, line.end) for line in lines] == [
        ("credit", Decimal("-164.13"), date(2026, 6, 16), date(2026, 7, 1)),  # 25 × 13.13 × 15/30 = 164.125
        ("charge", Decimal("577.50"), date(2026, 6, 16), date(2026, 7, 16)),
    ]
    assert totals(lines) == (Decimal("-164.13"), Decimal("577.50"), Decimal("413.37"))


def test_the_daily_rate_is_never_rounded_before_multiplying():
    # 31-day period: 10 × 13.13 × 17/31 = 72.0038… → 72.00; a rounded daily rate (4.24 × 17) would give 72.08.
    old = Side("Standard", Decimal("13.13"), 10, "P1Y", "monthly", date(2026, 1, 1))
    (credit, _charge) = change_lines(old, PREMIUM, effective=date(2026, 7, 15), at_renewal=False)
    assert credit.amount == Decimal("-72.00")


def test_annual_billing_credits_the_unused_part_of_the_year():
    old = Side("Standard", Decimal("12.50"), 10, "P1Y", "annual", date(2026, 1, 1))
    new = Side("Premium", Decimal("22.00"), 10, "P1Y", "annual")
    credit, charge = change_lines(old, new, effective=date(2026, 7, 2), at_renewal=False)
    # 1500.00 × 183/365 = 752.054… ; the new year charged in full: 22 × 10 × 12.
    assert (credit.amount, credit.end) == (Decimal("-752.05"), date(2027, 1, 1))
    assert (charge.amount, charge.end) == (Decimal("2640.00"), date(2027, 7, 2))


@pytest.mark.parametrize("source", ["trial", "product_key"])
def test_trials_and_product_keys_get_no_credit(source):
    old = Side("Standard", Decimal("13.13"), 25, "P1M", "monthly", date(2026, 6, 1), source=source)
    (only,) = change_lines(old, PREMIUM, effective=date(2026, 6, 16), at_renewal=False)
    assert only.kind == "charge"


def test_a_change_at_renewal_gets_no_credit():
    (only,) = change_lines(STANDARD, PREMIUM, effective=date(2027, 1, 1), at_renewal=True)
    assert (only.kind, only.amount, only.start, only.end) == ("charge", Decimal("577.50"), date(2027, 1, 1),
                                                             date(2027, 2, 1))


def test_a_downgrade_can_be_a_net_credit():
    basic = Side("Basic", Decimal("6.30"), 25, "P1Y", "monthly")
    lines = change_lines(STANDARD, basic, effective=date(2026, 6, 2), at_renewal=False)
    credit, charge, total = totals(lines)
    assert credit == Decimal("-317.31")  # 328.25 × 29/30 = 317.308…
    assert charge == Decimal("157.50")
    assert total == Decimal("-159.81")


# --- A credit never exceeds what was charged for the period it credits ----------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from billing.money import money  # noqa: E402

sides = st.builds(
    Side, product_name=st.just("Old plan"), price=st.decimals("0.01", "68.40", places=2),
    licenses=st.integers(1, 1_000_000), term=st.sampled_from(["P1M", "P1Y", "P3Y"]),
    billing_frequency=st.sampled_from(["monthly", "annual"]),
    start=st.dates(date(2000, 1, 1), date(2099, 12, 31)), source=st.just("direct"),
)


@given(old=sides, effective=st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_a_credit_is_never_more_than_the_charge_of_the_period_it_credits(old, effective):
    """Whatever the dates, even a change dated before the billed period began (a clock that once ran
    back made 837 "unused days" of a one-month period), the credit is at most that period's charge."""
    lines = change_lines(old, PREMIUM, effective=effective, at_renewal=False)
    credit = -sum((line.amount for line in lines if line.kind == "credit"), Decimal("0.00"))
    assert Decimal("0.00") <= credit <= money(old.period_charge)
    for line in lines:
        if line.kind == "credit":
            assert (line.end - line.start).days <= 31 * old.months_per_period


def test_a_change_before_the_period_began_credits_the_whole_period_not_more():
    old = Side("Standard", Decimal("13.13"), 25, "P1Y", "monthly", date(2027, 10, 1))
    (credit, _charge) = change_lines(old, PREMIUM, effective=date(2026, 6, 15), at_renewal=False)
    assert (credit.amount, credit.start, credit.end) == (Decimal("-328.25"), date(2027, 10, 1), date(2027, 11, 1))
    assert credit.description == "Credit for 31 unused days of Standard (25 licenses)"


def test_the_credit_is_of_what_the_billed_period_was_charged_never_more():
    # 300 licenses on the subscription today, but the period (June) was charged for 25: 328.25.
    raised = Side("Standard", Decimal("13.13"), 300, "P1Y", "monthly", date(2026, 1, 1),
                  billed_until=date(2026, 7, 1), billed_amount=Decimal("328.25"))
    (credit, _charge) = change_lines(raised, PREMIUM, effective=date(2026, 6, 16), at_renewal=False)
    assert credit.amount == Decimal("-164.13")  # 328.25 × 15/30, not 3939.00 × 15/30


def test_no_credit_for_an_unbilled_period_and_the_used_days_are_charged():
    old = Side("Standard", Decimal("13.13"), 25, "P1Y", "monthly", date(2026, 1, 1),
               billed_until=date(2026, 7, 1), billed_amount=Decimal("328.25"))
    lines = change_lines(old, PREMIUM, effective=date(2026, 8, 11), at_renewal=False)
    # July in full (328.25) and 10 of August's 31 days (105.887… → 105.89): 434.14 used, never billed.
    assert [(line.kind, line.amount, line.start, line.end) for line in lines] == [
        ("used", Decimal("434.14"), date(2026, 7, 1), date(2026, 8, 11)),
        ("charge", Decimal("577.50"), date(2026, 8, 11), date(2026, 9, 11)),
    ]
    assert change_lines(old, PREMIUM, effective=date(2026, 8, 11), at_renewal=True)[0].kind == "charge"
